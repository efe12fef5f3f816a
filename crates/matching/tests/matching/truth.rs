//! The truth check: thousands of random requests over the demo directory, and every claim of
//! every match checked against the provider's own record and the care guide. Each check is
//! computed here from the record, not from the engine's own summaries, so a wrong summary, a
//! wrong sentence or a rule applied to the wrong care type fails with the request and the
//! sentence named. `CAREMATCH_TRUTH_REQUESTS` raises the count (default 2,000).

use std::collections::HashSet;

use carematch_domain::CertificationLevel;
use carematch_domain::credentials::counts_for;
use carematch_domain::payment::{
    FREE_GROUP_NOTE, FsaHsaRule, MEDICAID_DOULA_NOTE, contract_covers, fsa_hsa_rule, is_medicaid,
    letter_of_medical_necessity_note, referral_applies,
};
use carematch_domain::{
    BirthType, CareMode, CareType, CautionKind, CertificationScope, InsurancePlanDraft,
    LocationQueryDraft, MatchRequest, MatchRequestDraft, PaymentFit, Provider, Symptom,
    WarningSign, haversine_km,
};
use carematch_matching::{Engine, MatchResults, ProviderMatch};
use carematch_search::{Reach, normalize_name};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::support::engine_over;

const DEMO_SEED: u64 = 7;
const DEMO_PROVIDERS: u64 = 3_000;

/// Metro points to search from (demo data clusters around metros) and rural ones.
const METROS: &[(f64, f64)] = &[
    (45.5152, -122.6784),
    (47.6062, -122.3321),
    (37.7749, -122.4194),
    (34.0522, -118.2437),
    (41.8781, -87.6298),
    (40.7128, -74.0060),
    (29.7604, -95.3698),
    (33.7490, -84.3880),
    (39.7392, -104.9903),
    (42.3601, -71.0589),
];
const RURAL: &[(f64, f64)] = &[
    (44.0, -120.5),
    (46.9, -110.4),
    (35.5, -106.0),
    (31.0, -100.0),
    (43.6, -89.5),
    (37.5, -85.0),
];

const LANGUAGES: &[&str] = &["English", "Spanish", "Vietnamese", "Mandarin", "Somali"];

const CRISIS_TEXTS: &[&str] = &[
    "some nights I think about ending my life",
    "no quiero vivir",
    "I have been hearing voices since the birth",
];
const PLAIN_TEXTS: &[&str] = &["gentle", "pelvic floor", "latch help", "anxiety therapy"];

fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn some_of<T: Copy>(rng: &mut SmallRng, items: &[T], share: f64, most: usize) -> Vec<T> {
    let mut chosen = Vec::new();
    for item in items {
        if chosen.len() < most && rng.random_bool(share) {
            chosen.push(*item);
        }
    }
    chosen
}

/// A random request: every symptom, warning sign, birth type, week, payer, language, mode,
/// radius and place can come up.
fn random_request(rng: &mut SmallRng, payers: &[String]) -> MatchRequestDraft {
    let (latitude, longitude) = if rng.random_bool(0.75) {
        *pick(rng, METROS)
    } else {
        *pick(rng, RURAL)
    };
    let mut draft = MatchRequestDraft::at(LocationQueryDraft {
        latitude: Some(latitude + rng.random_range(-0.15..0.15)),
        longitude: Some(longitude + rng.random_range(-0.15..0.15)),
        postal_code: None,
    });
    draft.radius_km = Some(*pick(rng, &[2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 200.0]));
    draft.symptoms = some_of(rng, Symptom::ALL, 0.12, 5);
    if rng.random_bool(0.2) {
        draft.warning_signs = some_of(rng, WarningSign::ALL, 0.15, 2);
    }
    if rng.random_bool(0.3) {
        draft.care_types = Some(some_of(rng, CareType::ALL, 0.3, 3));
        if let Some(care_types) = &mut draft.care_types {
            // Her order matters: shuffle it.
            if care_types.len() > 1 && rng.random_bool(0.5) {
                care_types.reverse();
            }
        }
    }
    draft.birth_type = *pick(
        rng,
        &[None, Some(BirthType::Vaginal), Some(BirthType::Cesarean)],
    );
    if rng.random_bool(0.7) {
        draft.weeks_postpartum = Some(*pick(rng, &[0, 1, 2, 3, 5, 6, 8, 12, 30, 60]));
    }
    draft.cleared_for_massage = rng.random_bool(0.3);
    if rng.random_bool(0.6) {
        let payer = if rng.random_bool(0.9) && !payers.is_empty() {
            pick(rng, payers).clone()
        } else {
            "Acme Health Mutual".to_owned()
        };
        draft.insurance = Some(InsurancePlanDraft {
            payer,
            plan: None,
            care_types: Vec::new(),
        });
    }
    draft.has_fsa_or_hsa = rng.random_bool(0.4);
    draft.has_referral = rng.random_bool(0.3);
    if rng.random_bool(0.25) {
        let languages = some_of(rng, LANGUAGES, 0.4, 3);
        draft.languages = Some(languages.iter().map(|l| (*l).to_owned()).collect());
    }
    if rng.random_bool(0.25) {
        draft.modes = Some(some_of(rng, CareMode::ALL, 0.5, 3));
    }
    if rng.random_bool(0.1) {
        draft.text = Some((*pick(rng, CRISIS_TEXTS)).to_owned());
    } else if rng.random_bool(0.1) {
        draft.text = Some((*pick(rng, PLAIN_TEXTS)).to_owned());
    }
    draft
}

/// A failed claim: the request and the sentence (or fact) that is false.
struct Falsehoods<'a> {
    request: &'a MatchRequestDraft,
    found: Vec<String>,
}

impl Falsehoods<'_> {
    fn check(&mut self, holds: bool, what: impl FnOnce() -> String) {
        if !holds {
            self.found.push(what());
        }
    }
}

fn level_from_record(provider: &Provider, care_type: CareType) -> CertificationLevel {
    provider
        .certifications
        .iter()
        .filter_map(|certification| counts_for(certification, care_type, &provider.care_types))
        .map(
            |counted| match (counted.strongest, counted.scope, counted.verified) {
                (true, _, true) => CertificationLevel::StrongestCredentialVerified,
                (_, CertificationScope::Perinatal, true) => CertificationLevel::PerinatalVerified,
                (_, CertificationScope::Perinatal, false) => {
                    CertificationLevel::PerinatalSelfReported
                }
                (_, CertificationScope::General, true) => CertificationLevel::GeneralVerified,
                (_, CertificationScope::General, false) => CertificationLevel::GeneralSelfReported,
            },
        )
        .max()
        .unwrap_or(CertificationLevel::None)
}

fn payment_from_record(
    provider: &Provider,
    care_type: CareType,
    request: &MatchRequest,
) -> PaymentFit {
    let in_network = request.insurance.as_ref().is_some_and(|insurance| {
        provider.insurance.iter().any(|plan| {
            normalize_name(&plan.payer) == normalize_name(&insurance.payer)
                && match (&plan.plan, &insurance.plan) {
                    (None, _) | (Some(_), None) => true,
                    (Some(accepted), Some(asked)) => {
                        normalize_name(accepted) == normalize_name(asked)
                    }
                }
                && contract_covers(plan, care_type, &provider.care_types)
        })
    });
    if in_network {
        return PaymentFit::InNetwork;
    }
    if request.insurance.is_some() && provider.provides_superbill {
        return PaymentFit::OutOfNetworkSuperbill;
    }
    if request.has_fsa_or_hsa && provider.accepts_fsa_hsa {
        match fsa_hsa_rule(care_type) {
            FsaHsaRule::Eligible => return PaymentFit::FsaHsaEligible,
            FsaHsaRule::NeedsLetter => return PaymentFit::FsaHsaWithLetterOfMedicalNecessity,
            FsaHsaRule::NotEligible => {}
        }
    }
    PaymentFit::SelfPay
}

fn nearest_km(provider: &Provider, request: &MatchRequest) -> Option<f64> {
    provider
        .locations
        .iter()
        .map(|location| {
            haversine_km(
                request.origin.latitude(),
                request.origin.longitude(),
                location.point.latitude(),
                location.point.longitude(),
            )
        })
        .min_by(f64::total_cmp)
}

fn speaks_one_of_hers(provider: &Provider, request: &MatchRequest) -> bool {
    request.languages.is_empty()
        || request
            .languages
            .iter()
            .any(|language| provider.languages.contains(language))
}

fn accepts(request: &MatchRequest, mode: CareMode) -> bool {
    request.modes.is_empty() || request.modes.contains(&mode)
}

/// Whether she could see this provider for `care_type` in person, or at home, inside her radius
/// (widened by `margin_km`: the index keeps points in single precision, a metre or so off).
fn seen_nearby(
    provider: &Provider,
    care_type: CareType,
    request: &MatchRequest,
    margin_km: f64,
) -> bool {
    if !provider.accepting_new_clients
        || !provider.care_types.contains(&care_type)
        || !speaks_one_of_hers(provider, request)
    {
        return false;
    }
    let radius = request.radius.kilometres();
    provider.locations.iter().any(|location| {
        let distance = haversine_km(
            request.origin.latitude(),
            request.origin.longitude(),
            location.point.latitude(),
            location.point.longitude(),
        );
        distance <= radius + margin_km
            && ((provider.offers(CareMode::InPerson) && accepts(request, CareMode::InPerson))
                || (provider.offers(CareMode::HomeVisit)
                    && accepts(request, CareMode::HomeVisit)
                    && distance <= provider.home_visit_radius_km() + margin_km))
    })
}

fn check_match(
    claims: &mut Falsehoods<'_>,
    request: &MatchRequest,
    results: &MatchResults,
    found: &ProviderMatch,
    provider: &Provider,
) {
    let plan = &results.plan;
    let care = found.care_type;
    let name = provider.name.as_str();
    let said = |sentence: &str| {
        found
            .reasons
            .iter()
            .chain(&found.notes)
            .any(|s| s == sentence)
    };
    let reasons = found.reasons.join(" | ");
    let notes = found.notes.join(" | ");

    // Care type and what it treats.
    claims.check(provider.care_types.contains(&care), || {
        format!("{name} does not give {care}")
    });
    claims.check(
        plan.search_care_types
            .iter()
            .any(|(searched, _)| *searched == care),
        || format!("{name}: {care} was not searched for"),
    );
    claims.check(!plan.held_back(care), || {
        format!("{name}: {care} is held back by a warning sign")
    });
    if plan.recommendation(care).is_none() {
        let asked = request
            .care_types
            .as_ref()
            .is_some_and(|asked| asked.contains(&care));
        claims.check(asked, || {
            format!("{name}: {care} is neither recommended nor asked for")
        });
        for caution in plan
            .cautions_for(care)
            .filter(|caution| caution.kind.blocks())
        {
            claims.check(found.notes.contains(&caution.reason), || {
                format!(
                    "{name}: held-back {care} lacks its caution: {}",
                    caution.reason
                )
            });
        }
    }
    for symptom in found.facts.treated.iter() {
        claims.check(provider.treats.contains(&symptom), || {
            format!(
                "{name}: \"treats {}\" is not in its record",
                symptom.label()
            )
        });
    }
    claims.check(provider.accepting_new_clients, || {
        format!("{name} is not accepting")
    });

    // Mode, distance, reach and licence.
    let mode = found.mode;
    claims.check(provider.offers(mode), || {
        format!("{name} does not offer {mode}")
    });
    claims.check(care.can_be_given_in(mode), || {
        format!("{name}: {care} offered {mode}")
    });
    claims.check(accepts(request, mode), || {
        format!("{name}: {mode} is not a mode she accepts")
    });
    let radius = request.radius.kilometres();
    match (mode.is_physical(), found.distance_km) {
        (true, Some(distance)) => {
            let nearest = nearest_km(provider, request).unwrap_or(f64::INFINITY);
            claims.check(
                provider.locations.iter().any(|location| {
                    let to = haversine_km(
                        request.origin.latitude(),
                        request.origin.longitude(),
                        location.point.latitude(),
                        location.point.longitude(),
                    );
                    (to - distance).abs() < 0.05
                }) && distance >= nearest - 0.05,
                || format!("{name}: distance {distance:.2} km is not to one of its locations"),
            );
            match found.reach {
                Reach::WithinRadius => claims.check(distance <= radius + 0.05, || {
                    format!("{name}: {distance:.1} km said within {radius} km")
                }),
                Reach::BeyondRadius => {
                    claims.check(distance > radius - 0.05, || {
                        format!("{name}: {distance:.1} km said beyond {radius} km")
                    });
                    claims.check(
                        found.notes.iter().any(|n| n.starts_with("Beyond the")),
                        || format!("{name}: beyond the radius but not marked: {notes}"),
                    );
                }
                Reach::Remote => claims.check(false, || format!("{name}: physical yet remote")),
            }
            if mode == CareMode::HomeVisit {
                claims.check(distance <= provider.home_visit_radius_km() + 0.05, || {
                    format!("{name}: visits at {distance:.1} km beyond its service radius")
                });
            }
        }
        (false, None) => {
            claims.check(found.reach == Reach::Remote, || {
                format!("{name}: remote not marked")
            });
            if care.needs_state_licence() {
                let licensed = request
                    .region
                    .as_ref()
                    .is_some_and(|region| provider.is_licensed_in(region));
                claims.check(licensed, || {
                    format!("{name}: {care} by {mode} without a licence in her state")
                });
                if let Some(region) = &request.region {
                    claims.check(
                        reasons.contains(&format!("licensed in {}", region.as_str())),
                        || {
                            format!(
                                "{name}: remote clinical care without its licence said: {reasons}"
                            )
                        },
                    );
                }
            } else {
                claims.check(mode == CareMode::VirtualGroup, || {
                    format!("{name}: a group open everywhere by {mode}")
                });
            }
            claims.check(
                !reasons.contains("wherever you live")
                    || mode == CareMode::VirtualGroup && !care.needs_state_licence(),
                || format!("{name}: \"wherever you live\" for {care} by {mode}"),
            );
        }
        _ => claims.check(false, || {
            format!("{name}: {mode} with distance {:?}", found.distance_km)
        }),
    }
    if found
        .reasons
        .iter()
        .any(|r| r.starts_with("Also offers telehealth") || r == "Also meets online.")
    {
        let remote_allowed = [CareMode::Telehealth, CareMode::VirtualGroup]
            .into_iter()
            .any(|remote| {
                provider.offers(remote) && care.can_be_given_in(remote) && accepts(request, remote)
            });
        let licensed = !care.needs_state_licence()
            || request
                .region
                .as_ref()
                .is_some_and(|region| provider.is_licensed_in(region));
        claims.check(remote_allowed && licensed, || {
            format!("{name}: \"also remote\" is false for {care}")
        });
    }

    // Languages: "Speaks ..." names exactly the languages it speaks among hers.
    let spoken: Vec<&str> = request
        .languages
        .iter()
        .filter(|language| provider.languages.contains(language))
        .map(|language| language.as_str())
        .collect();
    claims.check(speaks_one_of_hers(provider, request), || {
        format!("{name} speaks none of her languages")
    });
    let speaks_sentence = found.reasons.iter().find(|r| r.starts_with("Speaks "));
    match speaks_sentence {
        Some(sentence) => {
            for language in &request.languages {
                let claimed = sentence.contains(language.as_str());
                let true_of_it = provider.languages.contains(language);
                claims.check(!claimed || true_of_it, || {
                    format!(
                        "{name}: \"{sentence}\" but it does not speak {}",
                        language.as_str()
                    )
                });
            }
        }
        None => claims.check(spoken.is_empty(), || {
            format!("{name}: speaks {spoken:?}, not said")
        }),
    }

    // Credentials: only those of this care type count.
    let level = level_from_record(provider, care);
    claims.check(found.facts.certification == level, || {
        format!(
            "{name}: certification for {care} is {level:?}, engine said {:?}: {reasons}",
            found.facts.certification
        )
    });
    if reasons.contains("(IBCLC)") {
        claims.check(care == CareType::LactationConsulting, || {
            format!("{name}: IBCLC claimed for {care}")
        });
    }

    // Payment, per care type.
    let fit = payment_from_record(provider, care, request);
    claims.check(found.payment_fit == fit, || {
        format!(
            "{name}: payment for {care} is {fit:?}, engine said {:?}",
            found.payment_fit
        )
    });
    if let Some(insurance) = &request.insurance {
        let in_network_said = said(&format!("In network with {}.", insurance.payer));
        claims.check(in_network_said == (fit == PaymentFit::InNetwork), || {
            format!("{name}: in-network sentence wrong for {care}: {reasons}")
        });
    }
    let letter = letter_of_medical_necessity_note(care);
    claims.check(
        said(&letter) == (fit == PaymentFit::FsaHsaWithLetterOfMedicalNecessity),
        || format!("{name}: letter note wrong for {care} ({fit:?}): {notes}"),
    );
    if fit == PaymentFit::FsaHsaWithLetterOfMedicalNecessity {
        claims.check(
            matches!(care, CareType::PostnatalMassage | CareType::Doula),
            || format!("{name}: letter rule applied to {care}"),
        );
    }
    if fit == PaymentFit::SelfPay {
        match provider.self_pay_rate_usd {
            Some(0) => claims.check(said("Free of charge."), || {
                format!("{name}: free, not said")
            }),
            Some(rate) => claims.check(said(&format!("Self-pay: ${rate} a visit.")), || {
                format!("{name}: self-pay rate not said as ${rate}: {reasons}")
            }),
            None => claims.check(said("Self-pay."), || format!("{name}: self-pay not said")),
        }
    }
    let free_group = care == CareType::SupportGroup && provider.self_pay_rate_usd == Some(0);
    claims.check(said(FREE_GROUP_NOTE) == free_group, || {
        format!("{name}: free-group note wrong")
    });
    let medicaid_doula = care == CareType::Doula
        && request
            .insurance
            .as_ref()
            .is_some_and(|insurance| is_medicaid(&insurance.payer));
    claims.check(said(MEDICAID_DOULA_NOTE) == medicaid_doula, || {
        format!("{name}: Medicaid doula note wrong")
    });
    let referral = provider.requires_referral && referral_applies(care) && !request.has_referral;
    claims.check(
        said("This provider requires a referral: ask your OB/GYN for a referral before booking.")
            == referral,
        || format!("{name}: referral note wrong for {care}: {notes}"),
    );
    if said(
        "Lactation support is covered without cost sharing under the ACA women's preventive services.",
    ) {
        claims.check(
            care == CareType::LactationConsulting && fit == PaymentFit::InNetwork,
            || format!("{name}: ACA sentence for {care}"),
        );
    }

    // Cautions: every caution of this care type, none of another.
    for caution in plan.cautions.iter() {
        let noted = found.notes.contains(&caution.reason);
        if caution.care_type == care {
            claims.check(noted, || {
                format!("{name}: caution missing: {}", caution.reason)
            });
        } else if !plan
            .cautions_for(care)
            .any(|own| own.reason == caution.reason)
        {
            claims.check(!noted, || {
                format!(
                    "{name}: another care type's caution on {care}: {}",
                    caution.reason
                )
            });
        }
    }
}

fn check_answer(
    claims: &mut Falsehoods<'_>,
    request: &MatchRequest,
    results: &MatchResults,
    engine: &Engine,
    directory: &[Provider],
) {
    let plan = &results.plan;
    // Nothing held back by a warning sign is matched; nothing blocked unless asked for.
    for care in CareType::ALL {
        if plan.held_back(*care) {
            claims.check(
                results.matches.iter().all(|found| found.care_type != *care),
                || format!("{care} is held back yet matched"),
            );
        }
    }
    claims.check(
        plan.cautions
            .iter()
            .all(|caution| caution.kind != CautionKind::WarningSign || plan.urgent.is_some()),
        || "a warning-sign caution without urgent guidance".to_owned(),
    );
    // "Nothing within the radius", per care type, both ways, by brute force.
    let searches_physical =
        accepts(request, CareMode::InPerson) || accepts(request, CareMode::HomeVisit);
    for (care, _) in &plan.search_care_types {
        let surely_nearby = directory
            .iter()
            .any(|provider| seen_nearby(provider, *care, request, -0.01));
        let maybe_nearby = directory
            .iter()
            .any(|provider| seen_nearby(provider, *care, request, 0.01));
        let listed = results.search_area.care_types_without_nearby.contains(care);
        if searches_physical {
            claims.check(!(listed && surely_nearby), || {
                format!("{care}: said to have no one nearby, but a provider is inside the radius")
            });
            claims.check(listed || maybe_nearby, || {
                format!("{care}: no one is inside the radius, but it is not said")
            });
            if listed {
                let note = results.search_area.radius_note.as_deref().unwrap_or("");
                claims.check(note.contains(care.label()), || {
                    format!("radius note does not name {care}: {note}")
                });
            }
        } else {
            claims.check(!listed, || {
                format!("{care} said missing nearby though she asked for remote modes only")
            });
        }
    }
    let hydrated = engine.hydrate(&results.matches).unwrap();
    let mut seen = HashSet::new();
    for (found, provider) in results.matches.iter().zip(hydrated) {
        let Some(provider) = provider else {
            claims.check(false, || {
                format!("match {} has no provider", found.provider_id)
            });
            continue;
        };
        claims.check(seen.insert(found.provider_id), || {
            format!("{} listed twice", provider.name.as_str())
        });
        check_match(claims, request, results, found, &provider);
    }
}

#[test]
fn every_claim_of_every_match_is_true_of_the_provider_and_allowed_by_the_care_guide() {
    let count: usize = std::env::var("CAREMATCH_TRUTH_REQUESTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(2_000);
    let directory: Vec<Provider> =
        carematch_demo::generate_range(DEMO_SEED, 0..DEMO_PROVIDERS).unwrap();
    let engine = engine_over(directory.clone());
    let mut payers: Vec<String> = directory
        .iter()
        .flat_map(|provider| provider.insurance.iter().map(|plan| plan.payer.clone()))
        .collect();
    payers.sort();
    payers.dedup();
    let mut rng = SmallRng::seed_from_u64(2_026);
    let mut failures: Vec<String> = Vec::new();
    let mut matches_checked = 0_usize;
    for number in 0..count {
        let draft = random_request(&mut rng, &payers);
        let request = match engine.validate_request(draft.clone()) {
            Ok(request) => request,
            Err(error) => panic!("request {number} is invalid ({error}): {draft:?}"),
        };
        let results = engine.match_providers(&request).unwrap();
        matches_checked += results.matches.len();
        let mut claims = Falsehoods {
            request: &draft,
            found: Vec::new(),
        };
        check_answer(&mut claims, &request, &results, &engine, &directory);
        if !claims.found.is_empty() && failures.len() < 20 {
            failures.push(format!(
                "request {number}: {}\n  false: {}",
                serde_json::to_string(claims.request).unwrap(),
                claims.found.join("\n  false: ")
            ));
        }
    }
    assert!(
        matches_checked > count,
        "too few matches to check: {matches_checked}"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} requests had false claims:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
