//! What an answer says about where the search looked: the radius, widening, and the care
//! types with no one nearby; and why an empty answer is empty.

use carematch_domain::{CareType, MatchRequest};
use carematch_search::CandidateCounts;

use crate::results::SearchArea;
use crate::words;

use super::{Engine, Prepared};

impl Engine {
    pub(super) fn search_area(
        &self,
        counts: &CandidateCounts,
        request: &MatchRequest,
    ) -> SearchArea {
        let set = counts;
        let radius = words::kilometres(request.radius.kilometres());
        let without_nearby: Vec<CareType> = set.missing_nearby.iter().collect();
        let mut sentences: Vec<String> = Vec::new();
        if set.widened
            && set.found_within_radius > 0
            && set.found_within_radius < self.config.widen_when_fewer_than
        {
            sentences.push(format!(
                "Only {} {} found within {radius} of you.",
                set.found_within_radius,
                if set.found_within_radius == 1 {
                    "provider was"
                } else {
                    "providers were"
                }
            ));
        }
        let labels: Vec<&str> = without_nearby.iter().map(|care| care.label()).collect();
        if set.found_within_radius == 0 && (set.widened || !labels.is_empty()) {
            if labels.is_empty() {
                sentences.push(format!("Nothing was found within {radius} of you."));
            } else {
                sentences.push(format!(
                    "Nothing was found within {radius} of you for {}.",
                    words::join_with_or(&labels)
                ));
            }
        } else if !labels.is_empty() {
            sentences.push(format!(
                "No one to see in person for {} was found within {radius} of you.",
                words::join_with_or(&labels)
            ));
        }
        let radius_note = (!sentences.is_empty()).then(|| {
            let mut note = sentences.join(" ");
            let mut offers: Vec<String> = Vec::new();
            if set.found_remote > 0 {
                offers.push("telehealth and online options".to_owned());
            }
            if set.found_beyond_radius > 0 {
                offers.push(format!(
                    "the nearest providers beyond {radius}, marked as farther away"
                ));
            }
            if offers.is_empty() {
                note.push_str(" Try a larger distance, or telehealth if you can.");
            } else {
                note.push_str(&format!(" We also show {}.", offers.join(", and ")));
            }
            note
        });
        SearchArea {
            radius_km: request.radius.kilometres(),
            found_within_radius: set.found_within_radius,
            found_remote: set.found_remote,
            found_beyond_radius: set.found_beyond_radius,
            widened: set.widened,
            radius_note,
            care_types_without_nearby: without_nearby,
        }
    }

    pub(super) fn explain_empty(
        &self,
        prepared: &Prepared<'_, '_>,
        request: &MatchRequest,
    ) -> String {
        if prepared.wanted.is_empty() {
            if let Some(notice) = &prepared.plan.notice {
                return notice.clone();
            }
            return "The care that fits what you told us is not advised yet (see the cautions in your care plan), so there are no providers to show. Ask your provider when it is safe, then search again.".to_owned();
        }
        if prepared.view.is_empty() {
            return "The provider directory is empty right now, so there is no one to match yet. Please try again later.".to_owned();
        }
        let care: Vec<&str> = prepared
            .wanted
            .iter()
            .map(|wanted| wanted.care_type.label())
            .collect();
        let mut ways = vec![format!(
            "within {} of you",
            words::kilometres(request.radius.kilometres())
        )];
        if let Some(region) = &request.region {
            ways.push(format!("by telehealth licensed in {}", region.as_str()));
        }
        ways.push("online".to_owned());
        format!(
            "No provider of {} taking new clients was found {}. Try a larger distance, fewer languages or other ways of being seen.",
            words::join(&care),
            words::join_with_or(&ways.iter().map(String::as_str).collect::<Vec<_>>())
        )
    }
}
