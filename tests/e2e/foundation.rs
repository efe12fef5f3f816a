//! The foundation over HTTP: triage, provider lookup, health, playground, demo seeding.

use carematch_tests::{AppOptions, error_code, spawn_app, spawn_app_with};
use serde_json::json;

const RECOMMEND_CARE: &str = r#"
query Recommend($symptoms: [Symptom!]!, $warningSigns: [WarningSign!], $birthType: BirthType,
                $weeksPostpartum: Int, $clearedForMassage: Boolean) {
  recommendCare(symptoms: $symptoms, warningSigns: $warningSigns, birthType: $birthType,
                weeksPostpartum: $weeksPostpartum, clearedForMassage: $clearedForMassage) {
    urgent { message warningSigns level }
    recommendations { careType priority reasons }
    cautions { careType reason blocksRecommendation }
    notice
  }
}"#;

const PROVIDER: &str = r#"
query Provider($id: ID!) {
  provider(id: $id) {
    id npi name careTypes treats modes languages acceptingNewClients acceptsFsaHsa
    providesSuperbill requiresReferral selfPayRateUsd bio licensedRegions
    certifications { name issuer scope verified }
    locations { latitude longitude city region postalCode }
    insurance { payer plan }
  }
}"#;

#[tokio::test]
async fn recommend_care_sends_diastasis_recti_to_pt_not_massage() {
    let app = spawn_app().await;
    let body = app
        .graphql(RECOMMEND_CARE, json!({ "symptoms": ["DIASTASIS_RECTI"], "birthType": "VAGINAL", "weeksPostpartum": 12 }))
        .await;
    let plan = &body["data"]["recommendCare"];
    assert_eq!(
        plan["recommendations"][0]["careType"], "PELVIC_FLOOR_PHYSICAL_THERAPY",
        "{body}"
    );
    let recommendations = plan["recommendations"].as_array().unwrap();
    assert!(
        recommendations
            .iter()
            .all(|r| r["careType"] != "POSTNATAL_MASSAGE")
    );
    assert!(plan["cautions"].as_array().unwrap().iter().any(|c| {
        c["careType"] == "POSTNATAL_MASSAGE"
            && c["reason"].as_str().unwrap().contains("will not heal")
    }));
    assert!(plan["urgent"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn recommend_care_puts_thoughts_of_harm_first_with_crisis_lines() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            RECOMMEND_CARE,
            json!({ "symptoms": ["LOW_MOOD"], "warningSigns": ["THOUGHTS_OF_HARM"] }),
        )
        .await;
    let plan = &body["data"]["recommendCare"];
    assert_eq!(
        plan["urgent"]["warningSigns"],
        json!(["THOUGHTS_OF_HARM"]),
        "{body}"
    );
    let message = plan["urgent"]["message"].as_str().unwrap();
    assert!(
        message.contains("988") && message.contains("1-833-852-6262"),
        "{message}"
    );
    assert_eq!(plan["urgent"]["level"], "EMERGENCY");
    assert_eq!(
        plan["recommendations"][0]["careType"],
        "PERINATAL_MENTAL_HEALTH"
    );
    app.stop().await;
}

#[tokio::test]
async fn recommend_care_with_nothing_given_says_so() {
    let app = spawn_app().await;
    let body = app.graphql(RECOMMEND_CARE, json!({ "symptoms": [] })).await;
    let plan = &body["data"]["recommendCare"];
    assert_eq!(plan["recommendations"], json!([]), "{body}");
    assert!(
        plan["notice"]
            .as_str()
            .unwrap()
            .contains("nothing to recommend")
    );
    app.stop().await;
}

#[tokio::test]
async fn recommend_care_rejects_weeks_out_of_range_naming_the_argument() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            RECOMMEND_CARE,
            json!({ "symptoms": ["STRESS"], "weeksPostpartum": 600 }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "weeksPostpartum");
    assert!(body["data"].is_null() || body["data"]["recommendCare"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn provider_returns_every_field_of_a_stored_provider() {
    let app = spawn_app().await;
    assert_eq!(app.load_scenario_providers().await, 18);
    let body = app
        .graphql(
            PROVIDER,
            json!({ "id": "00000000-0000-4000-8000-000000000017" }),
        )
        .await;
    let provider = &body["data"]["provider"];
    assert_eq!(provider["name"], "Clínica Mamá Sana", "{body}");
    assert_eq!(
        provider["careTypes"],
        json!(["PELVIC_FLOOR_PHYSICAL_THERAPY"])
    );
    assert_eq!(provider["languages"], json!(["Spanish", "English"]));
    assert_eq!(
        provider["insurance"][0]["payer"],
        "Oregon Health Plan (Medicaid)"
    );
    assert_eq!(provider["certifications"][0]["scope"], "PERINATAL");
    assert_eq!(provider["locations"][0]["region"], "OR");
    assert_eq!(provider["licensedRegions"], json!(["OR"]));
    assert_eq!(provider["acceptingNewClients"], true);
    app.stop().await;
}

#[tokio::test]
async fn provider_is_null_when_unknown_and_bad_user_input_when_not_an_id() {
    let app = spawn_app().await;
    let body = app
        .graphql(
            PROVIDER,
            json!({ "id": "00000000-0000-4000-8000-00000000ffff" }),
        )
        .await;
    assert!(body["data"]["provider"].is_null(), "{body}");
    assert!(body["errors"].is_null());
    let body = app.graphql(PROVIDER, json!({ "id": "p-1" })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id");
    app.stop().await;
}

#[tokio::test]
async fn health_readiness_and_playground_answer() {
    let app = spawn_app().await;
    let health = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(format!("{}/readyz", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let playground = app
        .client
        .get(format!("{}/graphql", app.base_url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(playground.status(), 200);
    let page = playground.text().await.unwrap();
    // GraphiQL, from the binary's own files (crates/cli/tests/conformance.rs runs it in Chromium).
    assert!(page.contains("graphiql/4.1.2/graphiql.min.js"), "{page}");
    assert!(!page.contains("//cdn"), "{page}");
    let script = app
        .client
        .get(format!("{}/graphiql/4.1.2/graphiql.min.js", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.bytes().await.unwrap().len() > 1_000_000);
    app.stop().await;
}

#[tokio::test]
async fn an_empty_database_is_seeded_with_demo_providers_once() {
    let app = spawn_app_with(AppOptions {
        seed_demo: 40,
        ..AppOptions::default()
    })
    .await;
    let store = app.store().await;
    assert_eq!(store.count_providers().await.unwrap(), 40);
    let database_url = app.database_url.clone();
    app.stop().await;
    // A restart on the same database does not seed again.
    let again = spawn_app_with(AppOptions {
        seed_demo: 40,
        database_url: Some(database_url),
    })
    .await;
    assert_eq!(again.store().await.count_providers().await.unwrap(), 40);
    again.stop().await;
}
