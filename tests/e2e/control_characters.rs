//! Text with control characters (a NUL, an escape) is a client's mistake, answered
//! `BAD_USER_INPUT` naming the field on every backend, and changes nothing. PostgreSQL's text
//! cannot hold NUL while SQLite can: before the domain refused them, a provider write answered
//! INTERNAL on PostgreSQL and stored the NUL on SQLite, and a match request with a NUL payer was
//! answered and then stalled the PostgreSQL match-log writer.

use carematch_store::test_support::PostgresDatabase;
use carematch_tests::{AppOptions, TestApp, UPSERT_PROVIDER, error_code, spawn_app_with};
use serde_json::{Value, json};

const MATCH: &str =
    "query($input: MatchInput!) { matchProviders(input: $input, first: 3) { matchId } }";

fn provider() -> Value {
    json!({
        "name": "Downtown Lactation Studio", "careTypes": ["LACTATION_CONSULTING"],
        "certifications": [{ "name": "IBCLC", "issuer": "IBLCE", "scope": "PERINATAL", "verified": true }],
        "treats": ["BREASTFEEDING_DIFFICULTY"],
        "locations": [{ "latitude": 45.5153, "longitude": -122.6785, "region": "OR", "postalCode": "97205" }],
        "modes": ["IN_PERSON"], "languages": ["English"], "acceptingNewClients": true,
        "insurance": [{ "payer": "Cigna" }], "acceptsFsaHsa": true, "providesSuperbill": true,
        "requiresReferral": false, "bio": "Lactation support.\nHome visits on request."
    })
}

async fn text_with_control_characters_is_bad_user_input_naming_the_field(app: &TestApp) {
    type Breaker = fn(&mut Value);
    let provider_cases: [(&str, Breaker); 4] = [
        ("input.name", |p| p["name"] = json!("Downtown\u{0} Studio")),
        ("input.bio", |p| p["bio"] = json!("Lactation\u{0} support")),
        ("input.insurance[0].payer", |p| {
            p["insurance"][0]["payer"] = json!("Aet\u{0}na")
        }),
        ("input.locations[0].city", |p| {
            p["locations"][0]["city"] = json!("Portland\u{1b}[2J")
        }),
    ];
    for (field, break_it) in provider_cases {
        let mut input = provider();
        break_it(&mut input);
        let body = app
            .graphql_as_admin(UPSERT_PROVIDER, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{field}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(app.store().await.count_providers().await.unwrap(), 0);

    let location = json!({ "postalCode": "97205" });
    let match_cases = [
        (
            json!({ "location": location, "insurance": { "payer": "Aet\u{0}na" } }),
            "input.insurance.payer",
        ),
        (
            json!({ "location": location, "text": "pelvic\u{0} pain" }),
            "input.text",
        ),
        (
            json!({ "location": location, "languages": ["Span\u{0}ish"] }),
            "input.languages[0]",
        ),
    ];
    for (input, field) in match_cases {
        let body = app.graphql(MATCH, json!({ "input": input })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{field}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // Line breaks stay allowed in free text.
    let body = app
        .graphql_as_admin(UPSERT_PROVIDER, json!({ "input": provider() }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test]
async fn sqlite_refuses_control_characters_in_text_as_bad_user_input() {
    let app = spawn_app_with(AppOptions::default()).await;
    text_with_control_characters_is_bad_user_input_naming_the_field(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn postgres_refuses_control_characters_in_text_as_bad_user_input() {
    let Some(database) = PostgresDatabase::create("carematch_e2e_controls").await else {
        return;
    };
    let app = spawn_app_with(AppOptions {
        database_url: Some(database.url().to_owned()),
        ..AppOptions::default()
    })
    .await;
    text_with_control_characters_is_bad_user_input_naming_the_field(&app).await;
    app.stop().await;
    database.drop_database().await;
}
