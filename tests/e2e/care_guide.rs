//! The care guide's second edition over HTTP: the fields it adds to the schema, on the real
//! server.

use carematch_tests::{UPSERT_PROVIDER, error_code, spawn_app};
use serde_json::json;

const PROVIDER: &str = r#"
query One($id: ID!) {
  provider(id: $id) {
    certifications { name careType }
    insurance { payer careTypes }
  }
}"#;

const MATCH: &str = r#"
query Match($input: MatchInput!) {
  matchProviders(input: $input, first: 50) {
    plan { cautions { careType reason heldBack blocksRecommendation } }
    searchArea { careTypesWithoutNearby radiusNote }
    edges { node { careType mode paymentFit notes provider { id } } }
  }
}"#;

fn clinic() -> serde_json::Value {
    json!({
        "name": "Alberta Street Clinic", "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY", "POSTNATAL_MASSAGE"],
        "certifications": [
            { "name": "PWCS", "issuer": "ABPTS", "scope": "PERINATAL", "verified": true },
            { "name": "Lymphatic Drainage Diploma", "scope": "GENERAL", "verified": true, "careType": "POSTNATAL_MASSAGE" }
        ],
        "treats": ["URINE_LEAKAGE", "NECK_SHOULDER_TENSION"],
        "locations": [{ "latitude": 45.5590, "longitude": -122.6450, "region": "OR", "postalCode": "97211" }],
        "modes": ["IN_PERSON", "TELEHEALTH"], "languages": ["English"], "acceptingNewClients": true,
        "insurance": [{ "payer": "Cigna" }, { "payer": "Aetna", "careTypes": ["POSTNATAL_MASSAGE"] }],
        "acceptsFsaHsa": true, "providesSuperbill": false, "requiresReferral": true
    })
}

#[tokio::test]
async fn credentials_and_contracts_say_which_care_type_they_are_for() {
    let app = spawn_app().await;
    let written = app
        .graphql_as_admin(UPSERT_PROVIDER, json!({ "input": clinic() }))
        .await;
    let id = written["data"]["upsertProvider"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{written}"))
        .to_owned();
    let body = app.graphql(PROVIDER, json!({ "id": id })).await;
    let provider = &body["data"]["provider"];
    assert_eq!(
        provider["certifications"],
        json!([
            { "name": "PWCS", "careType": "PELVIC_FLOOR_PHYSICAL_THERAPY" },
            { "name": "Lymphatic Drainage Diploma", "careType": "POSTNATAL_MASSAGE" }
        ]),
        "{body}"
    );
    assert_eq!(
        provider["insurance"],
        json!([
            { "payer": "Cigna", "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"] },
            { "payer": "Aetna", "careTypes": ["POSTNATAL_MASSAGE"] }
        ]),
        "{body}"
    );

    // Her massage search: the massage room in person only, in network through the contract
    // that names massage, no referral note (PT's rule).
    let input = json!({
        "location": { "latitude": 45.5590, "longitude": -122.6450 }, "radiusKm": 5,
        "careTypes": ["POSTNATAL_MASSAGE"], "symptoms": ["NECK_SHOULDER_TENSION"],
        "birthType": "VAGINAL", "weeksPostpartum": 10, "insurance": { "payer": "Aetna" }
    });
    let body = app.graphql(MATCH, json!({ "input": input })).await;
    let edges = body["data"]["matchProviders"]["edges"].as_array().unwrap();
    let node = &edges
        .iter()
        .find(|edge| edge["node"]["provider"]["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{body}"))["node"];
    assert_eq!(node["careType"], "POSTNATAL_MASSAGE");
    assert_eq!(node["mode"], "IN_PERSON");
    assert_eq!(node["paymentFit"], "IN_NETWORK");
    assert!(!node["notes"].to_string().contains("referral"), "{node}");
}

#[tokio::test]
async fn a_warning_sign_holds_massage_back_and_the_answer_says_so() {
    let app = spawn_app().await;
    app.load_scenario_providers().await;
    let input = json!({
        "location": { "latitude": 45.5152, "longitude": -122.6784 },
        "careTypes": ["POSTNATAL_MASSAGE"], "warningSigns": ["LEG_PAIN_OR_SWELLING"],
        "birthType": "VAGINAL", "weeksPostpartum": 10, "clearedForMassage": true
    });
    let body = app.graphql(MATCH, json!({ "input": input })).await;
    let answer = &body["data"]["matchProviders"];
    let caution = answer["plan"]["cautions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|caution| caution["careType"] == "POSTNATAL_MASSAGE")
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(caution["heldBack"], true);
    assert_eq!(caution["blocksRecommendation"], true);
    assert!(caution["reason"].as_str().unwrap().contains("blood clot"));
    assert!(
        answer["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|edge| edge["node"]["careType"] != "POSTNATAL_MASSAGE"),
        "{body}"
    );
}

#[tokio::test]
async fn recommend_care_reads_her_words_for_crisis_and_never_echoes_them() {
    let app = spawn_app().await;
    let query = r#"query($text: String) {
        recommendCare(symptoms: [POOR_SLEEP], text: $text) {
            urgent { level warningSigns message } recommendations { careType priority } notice
        }
    }"#;
    let text = "honestly I think everyone would be better off without me";
    let body = app.graphql(query, json!({ "text": text })).await;
    let plan = &body["data"]["recommendCare"];
    assert_eq!(plan["urgent"]["level"], "EMERGENCY", "{body}");
    assert_eq!(plan["urgent"]["warningSigns"], json!(["THOUGHTS_OF_HARM"]));
    assert_eq!(
        plan["recommendations"][0]["careType"],
        "PERINATAL_MENTAL_HEALTH"
    );
    assert!(
        !body.to_string().contains("better off"),
        "her words are not echoed"
    );

    let calm = app
        .graphql(query, json!({ "text": "looking for a gentle massage" }))
        .await;
    assert_eq!(
        calm["data"]["recommendCare"]["urgent"],
        json!(null),
        "{calm}"
    );
}

#[tokio::test]
async fn a_contracts_care_types_in_a_match_request_are_bad_user_input_naming_the_field() {
    let app = spawn_app().await;
    let input = json!({
        "location": { "latitude": 45.5152, "longitude": -122.6784 },
        "insurance": { "payer": "Aetna", "careTypes": ["DOULA"] }
    });
    let body = app.graphql(MATCH, json!({ "input": input })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.insurance.careTypes"
    );
}
