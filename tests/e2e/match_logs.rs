//! Match logs end to end: what reaches the log tables is de-identified, every answered request
//! lands exactly once (through a database outage and a graceful stop), and an outcome can be
//! recorded for a match the writer has not stored yet.

use std::time::{Duration, Instant};

use carematch_store::test_support::PostgresDatabase;
use carematch_store::{MATCH_LOG_TABLES, Store, StoreOptions};
use carematch_tests::{AppOptions, TestApp, error_code, spawn_app_with};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

const MATCH: &str = r#"
query Match($input: MatchInput!, $first: Int) {
  matchProviders(input: $input, first: $first) {
    matchId totalCount
    edges { node { rank provider { id } } }
  }
}"#;

const CARE_TEAM: &str = r#"
query Team($input: MatchInput!) {
  careTeam(input: $input) { matchId members { careType match { rank provider { id } } } }
}"#;

const RECORD_OUTCOME: &str = r#"
mutation Outcome($matchId: ID!, $providerId: ID!) {
  recordMatchOutcome(matchId: $matchId, providerId: $providerId, outcome: CONTACTED)
}"#;

// What she sent that must never be stored: precise coordinates (downtown Portland), a full
// postal code, her plan, and free text naming people and a phone number.
const LATITUDE: f64 = 45.518_231;
const LONGITUDE: f64 = -122.679_157;
const POSTAL_CODE: &str = "97205";
const PLAN: &str = "Gold PPO 7731";
const TEXT: &str = "my husband Jonathan Whitaker says call 503-555-0199";
const FORBIDDEN_TEXT: [&str; 9] = [
    POSTAL_CODE,
    "45.518",
    "122.679",
    "Gold PPO",
    "7731",
    "Jonathan",
    "Whitaker",
    "503-555",
    "0199",
];

/// A SQLite file that outlives the app (the app's own temporary folder goes with it).
struct SqliteFile {
    _folder: tempfile::TempDir,
    url: String,
}

fn sqlite_file() -> SqliteFile {
    let folder = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        folder.path().join("carematch.db").display()
    );
    SqliteFile {
        _folder: folder,
        url,
    }
}

async fn app_on(url: &str) -> TestApp {
    let app = spawn_app_with(AppOptions {
        database_url: Some(url.to_owned()),
        ..AppOptions::default()
    })
    .await;
    app.load_scenario_providers().await;
    app
}

/// Posts with the client headers the Apollo router forwards.
async fn graphql_as_client(app: &TestApp, query: &str, variables: Value) -> Value {
    app.client
        .post(format!("{}/graphql", app.base_url))
        .header("apollographql-client-name", "match-logs-e2e")
        .header("apollographql-client-version", "9.8.7")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn identifying_input(location: Value) -> Value {
    json!({
        "location": location,
        "radiusKm": 25,
        "symptoms": ["URINE_LEAKAGE", "LOW_MOOD"],
        "birthType": "CESAREAN",
        "weeksPostpartum": 7,
        "insurance": { "payer": "Aetna", "plan": PLAN },
        "hasFsaOrHsa": true,
        "languages": ["Spanish"],
        "text": TEXT,
    })
}

fn at_her_point() -> Value {
    json!({ "latitude": LATITUDE, "longitude": LONGITUDE })
}

/// One connection (so a transaction's statements share it) to the app's database.
async fn raw_connection(url: &str) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.unwrap()
}

async fn count(connection: &DatabaseConnection, sql: &str) -> i64 {
    let backend = connection.get_database_backend();
    connection
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

/// Every value in `value`, recursively, with the column it sits in.
fn assert_nothing_identifying(table: &str, row: &Value) {
    for (column, value) in row.as_object().unwrap() {
        match value {
            Value::String(text) => {
                // Ids are random UUIDs (hex in SQLite): they carry no input.
                if uuid::Uuid::parse_str(text).is_ok() {
                    continue;
                }
                for forbidden in FORBIDDEN_TEXT {
                    assert!(
                        !text.contains(forbidden),
                        "{table}.{column} holds `{forbidden}`: {row}"
                    );
                }
            }
            Value::Number(number) => {
                let number = number.as_f64().unwrap();
                for coordinate in [LATITUDE, LONGITUDE] {
                    assert!(
                        (number - coordinate).abs() > 0.05,
                        "{table}.{column} holds a coordinate: {row}"
                    );
                }
                assert!(number != 97_205.0, "{table}.{column}: {row}");
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn no_coordinates_postal_code_plan_or_text_reach_any_log_table() {
    let database = sqlite_file();
    let app = app_on(&database.url).await;
    let at_postal_code = json!({ "postalCode": POSTAL_CODE });
    let mut match_ids = Vec::new();
    for location in [at_her_point(), at_postal_code] {
        let input = identifying_input(location);
        let body = graphql_as_client(&app, MATCH, json!({ "input": input, "first": 5 })).await;
        assert!(body["errors"].is_null(), "{body}");
        match_ids.push(body["data"]["matchProviders"]["matchId"].clone());
        let body = graphql_as_client(&app, CARE_TEAM, json!({ "input": input })).await;
        assert!(body["errors"].is_null(), "{body}");
        match_ids.push(body["data"]["careTeam"]["matchId"].clone());
    }
    app.stop().await;

    let store = Store::connect(&database.url, &StoreOptions::default())
        .await
        .unwrap();
    let mut rows_read = 0;
    for table in MATCH_LOG_TABLES {
        for row in store.match_log_table_as_json(table).await.unwrap() {
            assert_nothing_identifying(table, &row);
            rows_read += 1;
        }
    }
    let logs = store.match_log_table_as_json("match_logs").await.unwrap();
    assert_eq!(logs.len(), 4);
    assert!(rows_read > 4, "results were logged too");
    for log in &logs {
        // What analysts do get: coarse, bucketed, flagged.
        assert_eq!(log["state"], "OR", "{log}");
        assert_eq!(log["postal_prefix"], "972", "{log}");
        assert_eq!(log["weeks_postpartum_bucket"], "6-12", "{log}");
        assert_eq!(log["payer"], "Aetna", "{log}");
        assert_eq!(log["languages"], "spanish", "{log}");
        assert_eq!(log["client_name"], "match-logs-e2e", "{log}");
        assert_eq!(log["client_version"], "9.8.7", "{log}");
        assert!(matches!(log["text_given"], Value::Bool(true)) || log["text_given"] == 1);
        let week =
            chrono::NaiveDate::parse_from_str(log["week_start"].as_str().unwrap(), "%Y-%m-%d")
                .unwrap();
        assert_eq!(chrono::Datelike::weekday(&week), chrono::Weekday::Mon);
    }
    let mut operations: Vec<&str> = logs
        .iter()
        .map(|log| log["operation"].as_str().unwrap())
        .collect();
    operations.sort_unstable();
    assert_eq!(
        operations,
        ["careTeam", "careTeam", "matchProviders", "matchProviders"]
    );
    for id in match_ids {
        let id = uuid::Uuid::parse_str(id.as_str().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert!(
            store.match_exists(id).await.unwrap(),
            "{id} was answered and logged"
        );
    }
}

/// Sends `count` requests, `concurrency` at a time, each answered without errors.
async fn send_requests(app: &TestApp, count: usize, concurrency: usize) {
    let mut sent = 0;
    while sent < count {
        let wave = concurrency.min(count - sent);
        let mut requests = tokio::task::JoinSet::new();
        for index in sent..sent + wave {
            let symptom = if index % 2 == 0 {
                "URINE_LEAKAGE"
            } else {
                "LOW_MOOD"
            };
            let input = json!({ "location": { "postalCode": "97205" }, "symptoms": [symptom] });
            let request = app
                .client
                .post(format!("{}/graphql", app.base_url))
                .json(&json!({ "query": MATCH, "variables": { "input": input, "first": 3 } }));
            requests.spawn(async move {
                let body: Value = request.send().await.unwrap().json().await.unwrap();
                body
            });
        }
        while let Some(body) = requests.join_next().await {
            let body = body.unwrap();
            assert!(body["errors"].is_null(), "{body}");
        }
        sent += wave;
    }
}

#[tokio::test]
async fn every_request_lands_exactly_once_through_a_locked_sqlite_file_and_a_graceful_stop() {
    const BEFORE: usize = 60;
    const DURING: usize = 120;
    const AFTER: usize = 60;
    let database = sqlite_file();
    let app = app_on(&database.url).await;
    send_requests(&app, BEFORE, 12).await;

    // Another process takes the write lock for longer than the app's busy timeout (10 s),
    // so the writer's inserts fail with "database is locked" and must be retried.
    let locker = raw_connection(&database.url).await;
    locker.execute_unprepared("BEGIN EXCLUSIVE").await.unwrap();
    let locked_at = Instant::now();
    let counted_during_lock_start = count(&locker, "SELECT COUNT(*) FROM match_logs").await;
    send_requests(&app, DURING, 12).await;
    let reader = raw_connection(&database.url).await;
    tokio::time::sleep(Duration::from_secs(12).saturating_sub(locked_at.elapsed())).await;
    assert_eq!(
        count(&reader, "SELECT COUNT(*) FROM match_logs").await,
        counted_during_lock_start,
        "nothing is written while the file is locked"
    );
    locker.execute_unprepared("COMMIT").await.unwrap();
    locker.close().await.unwrap();

    send_requests(&app, AFTER, 12).await;
    // The same path SIGTERM takes: stop accepting, drain requests, flush the writer.
    app.stop().await;

    let total = (BEFORE + DURING + AFTER) as i64;
    assert_eq!(
        count(&reader, "SELECT COUNT(*) FROM match_logs").await,
        total
    );
    assert_eq!(
        count(&reader, "SELECT COUNT(DISTINCT id) FROM match_logs").await,
        total
    );
    assert_eq!(
        count(
            &reader,
            "SELECT COUNT(*) FROM match_logs l WHERE result_count > 0 AND NOT EXISTS \
             (SELECT 1 FROM match_log_results r WHERE r.match_id = COALESCE(l.replay_of, l.id))"
        )
        .await,
        0,
        "every log with results has its result rows (a replay: those of the answer it repeats)"
    );
}

#[tokio::test]
async fn every_request_lands_exactly_once_through_a_postgres_outage_and_a_graceful_stop() {
    let Some(database) = PostgresDatabase::create("carematch_e2e_logs").await else {
        return;
    };
    let (admin, name, url) = (database.admin(), database.name(), database.url());
    let app = app_on(url).await;
    send_requests(&app, 60, 12).await;

    // The database refuses every connection, and the open ones are cut.
    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"
        ))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    send_requests(&app, 120, 12).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    admin
        .execute_unprepared(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    send_requests(&app, 60, 12).await;
    app.stop().await;

    let reader = raw_connection(url).await;
    assert_eq!(count(&reader, "SELECT COUNT(*) FROM match_logs").await, 240);
    assert_eq!(
        count(&reader, "SELECT COUNT(DISTINCT id) FROM match_logs").await,
        240
    );
    reader.close().await.unwrap();
    database.drop_database().await;
}

#[tokio::test]
async fn an_outcome_for_a_match_still_in_the_writer_queue_is_recorded() {
    let database = sqlite_file();
    let app = app_on(&database.url).await;

    // Hold the write lock so the writer cannot store the match before the outcome arrives;
    // release it (well within the app's busy timeout) while the outcome waits.
    let locker = raw_connection(&database.url).await;
    locker.execute_unprepared("BEGIN EXCLUSIVE").await.unwrap();
    let input = json!({ "location": { "postalCode": "97205" }, "symptoms": ["URINE_LEAKAGE"] });
    let body = graphql_as_client(&app, MATCH, json!({ "input": input, "first": 3 })).await;
    let match_id = body["data"]["matchProviders"]["matchId"].clone();
    let provider_id = body["data"]["matchProviders"]["edges"][0]["node"]["provider"]["id"].clone();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        locker.execute_unprepared("COMMIT").await.unwrap();
        locker.close().await.unwrap();
    });
    let started = Instant::now();
    let body = graphql_as_client(
        &app,
        RECORD_OUTCOME,
        json!({ "matchId": match_id, "providerId": provider_id }),
    )
    .await;
    assert_eq!(body["data"]["recordMatchOutcome"], true, "{body}");
    assert!(
        started.elapsed() >= Duration::from_millis(1_500),
        "the outcome waited for its match to be stored"
    );
    release.await.unwrap();

    let unknown = graphql_as_client(
        &app,
        RECORD_OUTCOME,
        json!({ "matchId": uuid::Uuid::new_v4().to_string(), "providerId": provider_id }),
    )
    .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"), "{unknown}");
    app.stop().await;

    let store = Store::connect(&database.url, &StoreOptions::default())
        .await
        .unwrap();
    let match_id = uuid::Uuid::parse_str(match_id.as_str().unwrap()).unwrap();
    let outcomes = store.match_outcomes(match_id).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].outcome,
        carematch_domain::MatchOutcome::Contacted
    );
}
