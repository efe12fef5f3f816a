//! The words of a match: why the provider ranks here (reasons) and what she should know
//! before booking (notes), written from the facts ranking kept.

use carematch_domain::payment::{
    FREE_GROUP_NOTE, MEDICAID_DOULA_NOTE, is_medicaid, letter_of_medical_necessity_note,
};
use carematch_domain::{
    CareMode, CarePlan, CareType, CertificationLevel, MatchRequest, PaymentFit,
};
use carematch_search::Reach;

use crate::results::ProviderMatch;
use crate::words;

/// Writes the reasons and notes of a match from its facts: every match of
/// [`Engine::match_providers`], only the shown ones of [`Engine::rank`]. `plan` is the care
/// plan of `request`.
pub fn write_words(found: &mut ProviderMatch, plan: &CarePlan, request: &MatchRequest) {
    found.reasons = reasons(found, request);
    found.notes = notes(found, plan, request);
}

/// Why this provider ranks here, in words a mother understands. Every sentence is a fact of
/// this provider for the care type it was matched for.
fn reasons(found: &ProviderMatch, request: &MatchRequest) -> Vec<String> {
    let facts = &found.facts;
    let mut reasons = Vec::new();
    let treated: Vec<&str> = facts
        .treated
        .iter()
        .map(|symptom| symptom.label())
        .collect();
    if treated.is_empty() {
        reasons.push(format!("Offers {}.", found.care_type.label()));
    } else {
        reasons.push(format!(
            "Offers {} and treats {}.",
            found.care_type.label(),
            words::join(&treated)
        ));
    }
    match facts.certification {
        CertificationLevel::StrongestCredentialVerified => reasons
            .push("Holds the strongest credential in the field (IBCLC), verified.".to_owned()),
        CertificationLevel::PerinatalVerified => {
            reasons.push("Certified in pregnancy and postpartum care, verified.".to_owned())
        }
        CertificationLevel::PerinatalSelfReported => reasons.push(
            "Reports a pregnancy and postpartum certification (not yet verified).".to_owned(),
        ),
        CertificationLevel::GeneralVerified => reasons.push(
            "Has a general licence or certification (verified), not one specific to postpartum care."
                .to_owned(),
        ),
        CertificationLevel::GeneralSelfReported => reasons.push(
            "Reports a general licence or certification (not yet verified).".to_owned(),
        ),
        CertificationLevel::None => {}
    }
    let distance = found.distance_km.map(words::distance);
    let licensed_in = request
        .region
        .as_ref()
        .filter(|_| found.care_type.needs_state_licence());
    match (found.reach, found.mode, distance) {
        (Reach::BeyondRadius, CareMode::HomeVisit, Some(distance)) => reasons.push(format!(
            "Visits you at home, {distance} away: farther than the {} you asked for.",
            words::kilometres(request.radius.kilometres())
        )),
        (Reach::BeyondRadius, _, Some(distance)) => reasons.push(format!(
            "{distance} away: farther than the {} you asked for.",
            words::kilometres(request.radius.kilometres())
        )),
        (_, CareMode::HomeVisit, Some(distance)) => {
            reasons.push(format!("Visits you at home ({distance} away)."))
        }
        (_, _, Some(distance)) => reasons.push(format!("{distance} from you.")),
        (_, CareMode::VirtualGroup, None) => match licensed_in {
            Some(region) => reasons.push(format!("Meets online, licensed in {}.", region.as_str())),
            None => reasons.push("Meets online, open to you wherever you live.".to_owned()),
        },
        (_, _, None) => match licensed_in {
            Some(region) => reasons.push(format!(
                "Sees you by telehealth, licensed in {}.",
                region.as_str()
            )),
            None => reasons.push("Sees you by telehealth.".to_owned()),
        },
    }
    if facts.also_remote && found.distance_km.is_some() {
        reasons.push(if found.care_type == CareType::SupportGroup {
            "Also meets online.".to_owned()
        } else {
            "Also offers telehealth.".to_owned()
        });
    }
    let payer = request
        .insurance
        .as_ref()
        .map(|insurance| insurance.payer.as_str());
    match (found.payment_fit, payer) {
        (PaymentFit::InNetwork, Some(payer)) => {
            reasons.push(format!("In network with {payer}."));
            if found.care_type == CareType::LactationConsulting {
                reasons.push("Lactation support is covered without cost sharing under the ACA women's preventive services.".to_owned());
            }
        }
        (PaymentFit::OutOfNetworkSuperbill, _) => reasons.push(
            "Out of network with your insurance, but gives a superbill you can submit for reimbursement."
                .to_owned(),
        ),
        (PaymentFit::FsaHsaEligible, _) => {
            reasons.push("You can pay with your FSA or HSA.".to_owned())
        }
        (PaymentFit::FsaHsaWithLetterOfMedicalNecessity, _) => reasons.push(
            "You can pay with your FSA or HSA with a letter of medical necessity.".to_owned(),
        ),
        _ => match facts.self_pay_rate_usd {
            Some(0) => reasons.push("Free of charge.".to_owned()),
            Some(rate) => reasons.push(format!("Self-pay: ${rate} a visit.")),
            None => reasons.push("Self-pay.".to_owned()),
        },
    }
    let spoken: Vec<&str> = request
        .languages
        .iter()
        .enumerate()
        .filter(|(position, _)| *position < 32 && facts.spoken_languages & (1 << position) != 0)
        .map(|(_, language)| language.as_str())
        .collect();
    if !spoken.is_empty() {
        reasons.push(format!("Speaks {}.", words::join(&spoken)));
    }
    if found.breakdown.text > 0.0 {
        reasons.push("Matches the words you searched for.".to_owned());
    }
    reasons
}

/// What she should know before booking.
fn notes(found: &ProviderMatch, plan: &CarePlan, request: &MatchRequest) -> Vec<String> {
    let mut notes: Vec<String> = plan
        .cautions_for(found.care_type)
        .map(|caution| caution.reason.clone())
        .collect();
    if found.facts.referral_missing {
        notes.push(
            "This provider requires a referral: ask your OB/GYN for a referral before booking."
                .to_owned(),
        );
    }
    if found.payment_fit == PaymentFit::FsaHsaWithLetterOfMedicalNecessity {
        notes.push(letter_of_medical_necessity_note(found.care_type));
    }
    if found.care_type == CareType::SupportGroup && found.facts.self_pay_rate_usd == Some(0) {
        notes.push(FREE_GROUP_NOTE.to_owned());
    }
    if found.care_type == CareType::Doula
        && request
            .insurance
            .as_ref()
            .is_some_and(|insurance| is_medicaid(&insurance.payer))
    {
        notes.push(MEDICAID_DOULA_NOTE.to_owned());
    }
    if found.reach == Reach::BeyondRadius {
        notes.push(format!(
            "Beyond the {} you asked for.",
            words::kilometres(request.radius.kilometres())
        ));
    }
    notes
}
