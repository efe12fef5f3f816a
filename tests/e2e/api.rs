//! The GraphQL contract over HTTP: matching, pagination, care teams, admin writes and their
//! authentication, and the error codes.

use carematch_tests::{TEST_JWT_SECRET, TestApp, UPSERT_PROVIDER, error_code, spawn_app};
use serde_json::{Value, json};

const MATCH: &str = r#"
query Match($input: MatchInput!, $first: Int, $after: String) {
  matchProviders(input: $input, first: $first, after: $after) {
    matchId totalCount widened explanation
    plan { recommendations { careType } cautions { careType reason } urgent { message } }
    searchArea { radiusKm widened radiusNote foundWithinRadius foundRemote foundBeyondRadius }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        rank score distanceKm paymentFit reasons notes careType mode reach beyondRadius
        provider { id name careTypes }
        scoreBreakdown { needFit distance certification payment availability text }
      }
    }
  }
}"#;

const CARE_TEAM: &str = r#"
query Team($input: MatchInput!) {
  careTeam(input: $input) {
    matchId
    members { careType match { rank provider { id } } }
  }
}"#;

fn portland() -> Value {
    json!({ "latitude": 45.5152, "longitude": -122.6784 })
}

async fn app_with_scenarios() -> TestApp {
    let app = spawn_app().await;
    app.load_scenario_providers().await;
    app
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]["matchProviders"]["edges"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|edge| edge["node"]["provider"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn leaking_urine_ranks_the_perinatal_in_network_pt_first() {
    let app = app_with_scenarios().await;
    let input = json!({ "location": portland(), "radiusKm": 25, "symptoms": ["URINE_LEAKAGE"],
                        "birthType": "VAGINAL", "weeksPostpartum": 34, "insurance": { "payer": "Aetna" } });
    let body = app
        .graphql(MATCH, json!({ "input": input, "first": 20 }))
        .await;
    let result = &body["data"]["matchProviders"];
    assert_eq!(
        result["plan"]["recommendations"][0]["careType"], "PELVIC_FLOOR_PHYSICAL_THERAPY",
        "{body}"
    );
    let ids = ids(&body);
    assert_eq!(ids[0], "00000000-0000-4000-8000-000000000001");
    assert!(
        !ids.contains(&"00000000-0000-4000-8000-000000000016".to_owned()),
        "not accepting clients"
    );
    let edges = result["edges"].as_array().unwrap();
    assert!(
        edges
            .iter()
            .all(|edge| edge["node"]["provider"]["careTypes"]
                == json!(["PELVIC_FLOOR_PHYSICAL_THERAPY"]))
    );
    assert_eq!(edges[0]["node"]["paymentFit"], "IN_NETWORK");
    assert_eq!(edges[0]["node"]["rank"], 1);
    assert!(!edges[0]["node"]["reasons"].as_array().unwrap().is_empty());
    uuid::Uuid::parse_str(result["matchId"].as_str().unwrap()).expect("matchId is a UUID");
    app.stop().await;
}

#[tokio::test]
async fn pages_walked_with_cursors_equal_one_big_page() {
    let app = app_with_scenarios().await;
    let input = json!({ "location": portland(), "radiusKm": 30, "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"] });
    let all = app
        .graphql(MATCH, json!({ "input": input, "first": 20 }))
        .await;
    let expected = ids(&all);
    assert!(expected.len() >= 5, "{all}");
    let mut walked: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let body = app
            .graphql(MATCH, json!({ "input": input, "first": 2, "after": after }))
            .await;
        walked.extend(ids(&body));
        let page_info = &body["data"]["matchProviders"]["pageInfo"];
        assert_eq!(page_info["hasPreviousPage"], json!(after.is_some()));
        if page_info["hasNextPage"] != true {
            break;
        }
        after = page_info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(walked, expected);
    assert_eq!(
        all["data"]["matchProviders"]["totalCount"],
        json!(walked.len())
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cursor_from_another_request_or_forged_is_bad_user_input() {
    let app = app_with_scenarios().await;
    let first = json!({ "location": portland(), "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"] });
    let body = app
        .graphql(MATCH, json!({ "input": first, "first": 1 }))
        .await;
    let cursor = body["data"]["matchProviders"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = json!({ "location": portland(), "careTypes": ["LACTATION_CONSULTING"] });
    for after in [cursor.as_str(), "bm90LWEtY3Vyc29y", "%%%"] {
        let body = app
            .graphql(MATCH, json!({ "input": other, "after": after }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "after");
    }
    for first in [0, 51] {
        let body = app
            .graphql(MATCH, json!({ "input": other, "first": first }))
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn invalid_locations_are_bad_user_input_naming_the_field() {
    let app = app_with_scenarios().await;
    let cases = [
        (
            json!({ "latitude": 123.0, "longitude": -122.6784 }),
            "input.location.latitude",
        ),
        (
            json!({ "latitude": 45.5, "longitude": -122.6, "postalCode": "97205" }),
            "input.location",
        ),
        (
            json!({ "postalCode": "00000" }),
            "input.location.postalCode",
        ),
    ];
    for (location, field) in cases {
        let body = app
            .graphql(MATCH, json!({ "input": { "location": location } }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(field)
        );
        assert!(body["data"].is_null(), "{body}");
    }
    let body = app
        .graphql(
            MATCH,
            json!({ "input": { "location": portland(), "radiusKm": 500 } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.radiusKm",
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_postal_code_location_ranks_like_coordinates() {
    let app = app_with_scenarios().await;
    let input = json!({ "location": { "postalCode": "97205" }, "symptoms": ["URINE_LEAKAGE"], "insurance": { "payer": "Aetna" } });
    let body = app.graphql(MATCH, json!({ "input": input })).await;
    assert_eq!(
        ids(&body)[0],
        "00000000-0000-4000-8000-000000000001",
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn nothing_nearby_says_so_and_offers_telehealth() {
    let app = app_with_scenarios().await;
    let input = json!({ "location": { "latitude": 44.6, "longitude": -119.2 }, "radiusKm": 10,
                        "symptoms": ["URINE_LEAKAGE"], "insurance": { "payer": "Aetna" } });
    let body = app
        .graphql(MATCH, json!({ "input": input, "first": 20 }))
        .await;
    let result = &body["data"]["matchProviders"];
    assert_eq!(result["widened"], true, "{body}");
    assert!(
        result["searchArea"]["radiusNote"]
            .as_str()
            .unwrap()
            .contains("10 km"),
        "{body}"
    );
    let bend = result["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|edge| edge["node"]["provider"]["id"] == "00000000-0000-4000-8000-000000000018")
        .expect("the licensed telehealth PT is offered");
    assert!(bend["node"]["distanceKm"].is_null());
    assert_eq!(bend["node"]["mode"], "TELEHEALTH");
    app.stop().await;
}

#[tokio::test]
async fn the_care_team_covers_each_need_without_repeating_a_provider() {
    let app = app_with_scenarios().await;
    let input = json!({ "location": portland(), "symptoms": ["URINE_LEAKAGE", "STRESS", "ISOLATION"],
                        "birthType": "VAGINAL", "weeksPostpartum": 10, "insurance": { "payer": "Aetna" } });
    let body = app.graphql(CARE_TEAM, json!({ "input": input })).await;
    let members = body["data"]["careTeam"]["members"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let care_types: Vec<&str> = members
        .iter()
        .map(|member| member["careType"].as_str().unwrap())
        .collect();
    for wanted in [
        "PELVIC_FLOOR_PHYSICAL_THERAPY",
        "POSTNATAL_MASSAGE",
        "SUPPORT_GROUP",
    ] {
        assert!(care_types.contains(&wanted), "{care_types:?}");
    }
    let pt = members
        .iter()
        .find(|member| member["careType"] == "PELVIC_FLOOR_PHYSICAL_THERAPY")
        .unwrap();
    assert_eq!(
        pt["match"]["provider"]["id"],
        "00000000-0000-4000-8000-000000000001"
    );
    let mut provider_ids: Vec<&str> = members
        .iter()
        .filter_map(|member| member["match"]["provider"]["id"].as_str())
        .collect();
    let count = provider_ids.len();
    provider_ids.sort_unstable();
    provider_ids.dedup();
    assert_eq!(provider_ids.len(), count, "no provider twice");
    app.stop().await;
}

/// Upserts `provider` as the admin and returns its id.
async fn upserted_id(app: &TestApp, provider: Value) -> String {
    let body = app
        .graphql_as_admin(UPSERT_PROVIDER, json!({ "input": provider }))
        .await;
    body["data"]["upsertProvider"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

fn new_provider(name: &str) -> Value {
    json!({
        "name": name, "careTypes": ["LACTATION_CONSULTING"],
        "certifications": [{ "name": "IBCLC", "issuer": "IBLCE", "scope": "PERINATAL", "verified": true }],
        "treats": ["BREASTFEEDING_DIFFICULTY"],
        "locations": [{ "latitude": 45.5153, "longitude": -122.6785, "region": "OR", "postalCode": "97205" }],
        "modes": ["IN_PERSON"], "languages": ["English"], "acceptingNewClients": true,
        "insurance": [{ "payer": "Cigna" }], "acceptsFsaHsa": true, "providesSuperbill": true,
        "requiresReferral": false
    })
}

#[tokio::test]
async fn an_upsert_is_matched_at_once_and_a_delete_removes_it() {
    let app = app_with_scenarios().await;
    let input = json!({ "location": portland(), "symptoms": ["BREASTFEEDING_DIFFICULTY"], "insurance": { "payer": "Cigna" } });
    let before = ids(&app.graphql(MATCH, json!({ "input": input })).await);
    assert_eq!(before[0], "00000000-0000-4000-8000-000000000008");

    let id = upserted_id(&app, new_provider("Downtown Lactation Studio")).await;
    let after_upsert = ids(&app.graphql(MATCH, json!({ "input": input })).await);
    assert!(after_upsert.contains(&id), "{after_upsert:?}");
    assert_eq!(
        after_upsert[0], id,
        "the nearest IBCLC in network ranks first"
    );

    let delete = "mutation Delete($id: ID!) { deleteProvider(id: $id) }";
    let body = app.graphql_as_admin(delete, json!({ "id": id })).await;
    assert_eq!(body["data"]["deleteProvider"], true, "{body}");
    let body = app.graphql_as_admin(delete, json!({ "id": id })).await;
    assert_eq!(body["data"]["deleteProvider"], false, "{body}");
    assert_eq!(
        ids(&app.graphql(MATCH, json!({ "input": input })).await),
        before
    );

    let provider = app
        .graphql(
            "query($id: ID!) { provider(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(provider["data"]["provider"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn a_page_shows_a_provider_as_written_after_it_was_shown_before() {
    // The first match hydrates the page's providers; the rename must reach the next page.
    let app = app_with_scenarios().await;
    let input = json!({ "location": portland(), "symptoms": ["BREASTFEEDING_DIFFICULTY"], "insurance": { "payer": "Cigna" } });
    let id = upserted_id(&app, new_provider("Downtown Lactation Studio")).await;
    let first_name = |body: &Value| {
        body["data"]["matchProviders"]["edges"][0]["node"]["provider"]["name"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    };
    let before = app.graphql(MATCH, json!({ "input": input })).await;
    assert_eq!(ids(&before)[0], id);
    assert_eq!(first_name(&before), "Downtown Lactation Studio");

    let mut renamed = new_provider("Riverside Lactation Studio");
    renamed["id"] = json!(id);
    assert_eq!(upserted_id(&app, renamed).await, id);
    let after = app.graphql(MATCH, json!({ "input": input })).await;
    assert_eq!(ids(&after)[0], id);
    assert_eq!(first_name(&after), "Riverside Lactation Studio");
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_provider_is_bad_user_input_and_writes_nothing() {
    let app = spawn_app().await;
    let mut provider = new_provider("Broken Location");
    provider["locations"][0]["latitude"] = json!(95.0);
    let body = app
        .graphql_as_admin(UPSERT_PROVIDER, json!({ "input": provider }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.locations[0].latitude"
    );
    assert_eq!(app.store().await.count_providers().await.unwrap(), 0);
    app.stop().await;
}

async fn upsert_with(app: &TestApp, authorization: Option<String>) -> Value {
    let mut request = app.client.post(format!("{}/graphql", app.base_url));
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request
        .json(&json!({ "query": UPSERT_PROVIDER, "variables": { "input": new_provider("Auth Check") } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn hs256(claims: Value, secret: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // Hand-made HS256 token, so the test does not share the server's signing code.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = hmac_sha256(secret.as_bytes(), signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[tokio::test]
async fn admin_writes_need_a_valid_admin_token() {
    let app = spawn_app().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "UNAUTHENTICATED"),
        (Some(format!("Bearer {}", hs256(json!({"role": "admin", "exp": now - 3_600}), TEST_JWT_SECRET))), "UNAUTHENTICATED"),
        (Some(format!("Bearer {}", hs256(json!({"role": "admin", "exp": now + 3_600}), "wrong-secret-wrong-secret-wrong!!"))), "UNAUTHENTICATED"),
        (Some("Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoiYWRtaW4iLCJleHAiOjQxMDI0NDQ4MDB9.".into()), "UNAUTHENTICATED"),
        (Some(format!("Bearer {}", hs256(json!({"role": "viewer", "exp": now + 3_600}), TEST_JWT_SECRET))), "FORBIDDEN"),
    ];
    for (authorization, code) in cases {
        let body = upsert_with(&app, authorization.clone()).await;
        assert_eq!(error_code(&body), Some(code), "{authorization:?}: {body}");
    }
    assert_eq!(
        app.store().await.count_providers().await.unwrap(),
        0,
        "nothing was written"
    );
    let valid = format!(
        "Bearer {}",
        hs256(
            json!({"role": "admin", "sub": "ops", "exp": now + 3_600}),
            TEST_JWT_SECRET
        )
    );
    let body = upsert_with(&app, Some(valid)).await;
    assert!(body["errors"].is_null(), "{body}");
    let id = body["data"]["upsertProvider"]["id"].as_str().unwrap();
    let store = app.store().await;
    let audit = store
        .audit_for_provider(carematch_domain::ProviderId::parse(id).unwrap())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "ops");
    assert_eq!(audit[0].action, "create_provider");
    app.stop().await;
}

#[tokio::test]
async fn an_outcome_for_an_unknown_match_is_not_found() {
    let app = spawn_app().await;
    let mutation = "mutation($m: ID!, $p: ID!) { recordMatchOutcome(matchId: $m, providerId: $p, outcome: CONTACTED) }";
    let body = app
        .graphql(mutation, json!({ "m": uuid::Uuid::new_v4().to_string(), "p": "00000000-0000-4000-8000-000000000001" }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app
        .graphql(
            mutation,
            json!({ "m": "nope", "p": "00000000-0000-4000-8000-000000000001" }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "matchId",
        "{body}"
    );
    app.stop().await;
}
