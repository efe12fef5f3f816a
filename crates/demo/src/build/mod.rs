//! Builds one demo provider from its own random stream: care types, people and names,
//! credentials, treated symptoms, place, modes, payment and bio, as a `ProviderDraft` that is
//! then validated like any imported provider.
//!
//! `contracts` draws the insurance contracts, `words` the name and the bio.

mod contracts;
mod words;

use carematch_domain::credentials::known_credential;
use carematch_domain::{
    CareMode, CareType, CertificationDraft, LocationDraft, ProviderDraft, ProviderId, Symptom,
};
use carematch_postal::PostalCodes;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::payers::{self};
use crate::places::{self, Origin, Place};
use crate::profiles::{self, CareProfile, Credential, PROFILES};

use self::contracts::{contract_care_types, draw_insurance};
use self::words::{bio, provider_name};

/// What the generator decided beyond the provider itself; tests check distributions on it.
#[derive(Debug, Clone)]
// Only the tests read the generator's decisions; the public API returns the provider alone.
#[cfg_attr(not(test), allow(dead_code))]
pub struct Drawn {
    pub draft: ProviderDraft,
    pub id: ProviderId,
    pub main_care_type: CareType,
    pub individual: bool,
    pub origin: Origin,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, u32)]) -> Option<&'a T> {
    let total: u32 = items.iter().map(|(_, weight)| weight).sum();
    if total == 0 {
        return None;
    }
    let mut ticket = rng.random_range(0..total);
    for (item, weight) in items {
        if ticket < *weight {
            return Some(item);
        }
        ticket -= weight;
    }
    None
}

/// A v4 UUID from the provider's own stream, so ids are as reproducible as everything else.
pub(crate) fn draw_id(rng: &mut ChaCha8Rng) -> ProviderId {
    let bytes: [u8; 16] = rng.random();
    ProviderId::from_uuid(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

/// A valid NPI for the provider at `index` of stream `seed`: nine payload digits from 100000000
/// to 999999999, then the Luhn check digit computed with the prefix 80840 (CMS, "NPI check
/// digit"). The payload is an affine map of the index modulo 900,000,000 with a multiplier
/// coprime to it, so no two providers of one seed share an NPI (random draws collided from
/// about half a million NPIs on, which the store rightly refuses).
pub fn npi_for(seed: u64, index: u64) -> String {
    const SPAN: u64 = 900_000_000;
    // 48,271 is prime and divides neither 2, 3 nor 5, the prime factors of SPAN.
    const MULTIPLIER: u64 = 48_271;
    let offset = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) % SPAN;
    let payload = 100_000_000 + (offset + (index % SPAN) * MULTIPLIER) % SPAN;
    let mut digits = [0_u8; 9];
    let mut rest = payload;
    for digit in digits.iter_mut().rev() {
        *digit = (rest % 10) as u8;
        rest /= 10;
    }
    let mut text: String = digits
        .iter()
        .map(|digit| char::from(b'0' + digit))
        .collect();
    text.push(char::from(b'0' + npi_check_digit(&digits)));
    text
}

/// Luhn over "80840" followed by the nine digits: double every other digit from the right,
/// starting with the rightmost of the payload.
pub fn npi_check_digit(digits: &[u8; 9]) -> u8 {
    let payload = [8_u8, 0, 8, 4, 0].iter().chain(digits.iter());
    let sum: u32 = payload
        .copied()
        .collect::<Vec<u8>>()
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn main_care_type(rng: &mut ChaCha8Rng) -> &'static CareProfile {
    let weighted: Vec<(&'static CareProfile, u32)> = PROFILES
        .iter()
        .map(|profile| (profile, profile.weight))
        .collect();
    pick_weighted(rng, &weighted)
        .copied()
        .unwrap_or(&PROFILES[0])
}

fn draw_credential(
    rng: &mut ChaCha8Rng,
    options: &[(Credential, u32)],
    share: f64,
) -> Option<Credential> {
    if share > 0.0 && rng.random_bool(share.min(1.0)) {
        pick_weighted(rng, options).copied()
    } else {
        None
    }
}

/// A credential as listed, with the care type it was drawn for written only where the care
/// guide's table does not know its name (a nurse's RN licence held by a lactation consultant,
/// a group facilitator's training): what a directory records so that the credential counts
/// for that care alone (care-guide.md section 4, 2nd edition).
fn to_certification(
    rng: &mut ChaCha8Rng,
    credential: &Credential,
    care_type: CareType,
    state_name: &str,
) -> CertificationDraft {
    CertificationDraft {
        name: credential.name.to_owned(),
        issuer: Some(credential.issuer.replace("{state}", state_name)),
        scope: credential.scope,
        verified: rng.random_bool(profiles::VERIFIED_SHARE),
        care_type: known_credential(credential.name)
            .is_none()
            .then_some(care_type),
    }
}

/// Draws the provider at `index` of the stream `seed`. Validation happens in the caller.
pub fn draw(seed: u64, index: u64, postal: PostalCodes) -> Option<Drawn> {
    let mut rng = crate::provider_rng(seed, index);
    let id = draw_id(&mut rng);
    let main = main_care_type(&mut rng);

    let mut care_types = vec![main.care_type];
    if main.second_type_share > 0.0
        && rng.random_bool(main.second_type_share)
        && let Some(second) = pick_weighted(&mut rng, main.second_types)
    {
        care_types.push(*second);
    }
    let second = care_types
        .get(1)
        .map(|care_type| profiles::profile(*care_type));
    let individual = rng.random_bool(main.individual_share);

    let place = places::place(&mut rng, postal)?;
    let state_code = place.postal.state();
    let state = payers::state(state_code);
    let state_name = state.map_or(state_code, |info| info.name);

    // Credentials: the main type's, and the second type's own (a PT clinic's massage room has
    // a licensed massage therapist; a doula may also be an IBCLC), each for its care type.
    let mut drawn_credentials: Vec<(Credential, CareType)> = Vec::new();
    if let Some(licence) = draw_credential(&mut rng, main.general_credentials, main.general_share) {
        drawn_credentials.push((licence, main.care_type));
    }
    if let Some((extra, share)) = main.extra_general
        && rng.random_bool(share)
    {
        drawn_credentials.push((extra, main.care_type));
    }
    if let Some(credential) =
        draw_credential(&mut rng, main.perinatal_credentials, main.perinatal_share)
    {
        drawn_credentials.push((credential, main.care_type));
    }
    if let Some(second) = second {
        if let Some(licence) =
            draw_credential(&mut rng, second.general_credentials, second.general_share)
        {
            drawn_credentials.push((licence, second.care_type));
        }
        if let Some(credential) = draw_credential(
            &mut rng,
            second.perinatal_credentials,
            second.perinatal_share,
        ) {
            drawn_credentials.push((credential, second.care_type));
        }
    }
    let certifications: Vec<CertificationDraft> = drawn_credentials
        .iter()
        .map(|(credential, care_type)| {
            to_certification(&mut rng, credential, *care_type, state_name)
        })
        .collect();
    let credentials: Vec<Credential> = drawn_credentials
        .iter()
        .map(|(credential, _)| *credential)
        .collect();

    // Treated symptoms: each care type's own, from care-guide.md section 1.
    let mut treats: Vec<Symptom> = Vec::new();
    for profile in std::iter::once(main).chain(second) {
        treats.extend_from_slice(profile.always_treats);
        for (symptom, share) in profile.sometimes_treats {
            if rng.random_bool(*share) {
                treats.push(*symptom);
            }
        }
    }

    let modes = draw_modes(&mut rng, main, second);
    let home_visit_radius_km = if modes.contains(&CareMode::HomeVisit)
        && rng.random_bool(profiles::HOME_VISIT_RADIUS_STATED_SHARE)
    {
        Some(*pick(&mut rng, profiles::HOME_VISIT_RADII_KM))
    } else {
        None
    };

    let city = places::city_name(&place);
    let name = provider_name(&mut rng, main, &care_types, individual, &credentials, &city);
    let mut locations = vec![location(&mut rng, &place, &city)];
    if !individual
        && main.care_type != CareType::SupportGroup
        && rng.random_bool(profiles::SECOND_LOCATION_SHARE)
        && let Origin::Metro(metro_index) = place.origin
        && let Some(second_place) = places::place_in_metro(&mut rng, postal, metro_index)
    {
        let second_city = places::city_name(&second_place);
        locations.push(location(&mut rng, &second_place, &second_city));
    }

    let languages = draw_languages(&mut rng);

    let licensed_regions = match state {
        Some(info)
            if modes.contains(&CareMode::Telehealth)
                && !info.neighbours.is_empty()
                && rng.random_bool(profiles::NEIGHBOUR_LICENCE_SHARE) =>
        {
            vec![(*pick(&mut rng, info.neighbours)).to_owned()]
        }
        _ => Vec::new(),
    };

    let clinical = main.care_type != CareType::SupportGroup;
    let npi_share = if individual {
        main.individual_npi_share
    } else {
        main.practice_npi_share
    };
    let npi = (clinical && rng.random_bool(npi_share)).then(|| npi_for(seed, index));

    let insurance = if rng.random_bool(main.in_network_share) {
        draw_insurance(&mut rng, main, state_code)
            .into_iter()
            .map(|contract| contract_care_types(contract, main.care_type, &care_types))
            .collect()
    } else {
        Vec::new()
    };
    let provides_superbill = clinical
        && rng.random_bool(if insurance.is_empty() {
            main.superbill_share
        } else {
            main.superbill_share / 2.0
        });
    let accepts_fsa_hsa = rng.random_bool(main.fsa_hsa_share);
    let requires_referral = !insurance.is_empty() && rng.random_bool(main.referral_share);
    let self_pay_rate_usd = match main.self_pay_rate_usd {
        // Nine in ten list a rate, rounded to $5.
        Some((low, high)) if rng.random_bool(0.9) => {
            Some(i64::from(rng.random_range(low / 5..=high / 5) * 5))
        }
        Some(_) => None,
        // Most groups are free; some ask a small fee.
        None if rng.random_bool(0.7) => Some(0),
        None => Some(i64::from(rng.random_range(2..=6_u32) * 5)),
    };
    let accepting_new_clients = rng.random_bool(profiles::ACCEPTING_NEW_CLIENTS_SHARE);

    let bio = bio(
        &mut rng,
        main,
        second,
        &treats,
        &credentials,
        &modes,
        home_visit_radius_km,
        &languages,
        requires_referral,
    );

    let draft = ProviderDraft {
        id: None,
        npi,
        name,
        care_types,
        certifications,
        treats,
        locations,
        modes,
        languages,
        accepting_new_clients,
        insurance,
        accepts_fsa_hsa,
        provides_superbill,
        requires_referral,
        self_pay_rate_usd,
        bio: Some(bio),
        licensed_regions,
        home_visit_radius_km,
    };
    Some(Drawn {
        draft,
        id,
        main_care_type: main.care_type,
        individual,
        origin: place.origin,
    })
}

fn draw_modes(
    rng: &mut ChaCha8Rng,
    main: &CareProfile,
    second: Option<&CareProfile>,
) -> Vec<CareMode> {
    let mut modes: Vec<CareMode> = Vec::new();
    if main.care_type == CareType::SupportGroup {
        // A group meets in one form; a few in-person groups also stream their meetings.
        let in_person_share = main.modes.first().map_or(0.5, |(_, share)| *share);
        if rng.random_bool(in_person_share) {
            modes.push(CareMode::InPerson);
            if rng.random_bool(0.1) {
                modes.push(CareMode::VirtualGroup);
            }
        } else {
            modes.push(CareMode::VirtualGroup);
        }
        return modes;
    }
    for profile in std::iter::once(main).chain(second) {
        for (mode, share) in profile.modes {
            // A second care type's support group is hosted by the practice: in person or online.
            // A massage practice sees clients hands-on only: the telehealth a second care type
            // may bring is not listed (care-guide.md section 6, 2nd edition).
            let drawn = rng.random_bool(*share);
            let hands_on_only =
                main.care_type == CareType::PostnatalMassage && *mode == CareMode::Telehealth;
            if drawn && !hands_on_only && !modes.contains(mode) {
                modes.push(*mode);
            }
        }
    }
    if modes.is_empty() {
        modes.push(
            main.modes
                .first()
                .map_or(CareMode::InPerson, |(mode, _)| *mode),
        );
    }
    modes
}

fn draw_languages(rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut languages = vec!["English".to_owned()];
    for (language, share) in profiles::OTHER_LANGUAGES {
        if rng.random_bool(*share) {
            languages.push((*language).to_owned());
        }
    }
    if languages.len() == 2
        && languages[1] == "Spanish"
        && rng.random_bool(profiles::SPANISH_ONLY_SHARE)
    {
        languages.remove(0);
    }
    languages
}

fn location(rng: &mut ChaCha8Rng, place: &Place, city: &str) -> LocationDraft {
    let address = rng.random_bool(profiles::ADDRESS_SHARE).then(|| {
        let number = rng.random_range(100..=9_899_u32);
        let street = pick(rng, profiles::STREET_NAMES);
        let kind = pick(rng, profiles::STREET_KINDS);
        if rng.random_bool(0.3) {
            let suite = rng.random_range(1..=4_u32) * 100 + rng.random_range(0..=20_u32);
            format!("{number} {street} {kind}, Suite {suite}")
        } else {
            format!("{number} {street} {kind}")
        }
    });
    LocationDraft {
        // Six decimals (about 10 cm) is what listings carry; it also keeps exports short.
        latitude: (place.latitude * 1e6).round() / 1e6,
        longitude: (place.longitude * 1e6).round() / 1e6,
        address,
        city: Some(city.to_owned()),
        region: Some(place.postal.state().to_owned()),
        postal_code: Some(place.postal.code().to_owned()),
    }
}
