//! Two `carematch serve` processes sharing one PostgreSQL database (and one redis): a write
//! through one replica changes what the other answers within two seconds, through the change
//! feed when redis is up and through the periodic catch-up when it is not. Needs
//! `TEST_DATABASE_URL` (and `TEST_REDIS_URL` for the feed); skipped without them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use carematch_store::test_support::PostgresDatabase;
use serde_json::{Value, json};

const SECRET: &str = "replica-test-secret-replica-test-secret";

/// One server process; killed when dropped.
struct Replica {
    child: Child,
    graphql: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_replica(database_url: &str, redis_url: &str, extra: &[(&str, &str)]) -> Replica {
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_carematch"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CAREMATCH_DATABASE_URL", database_url)
        .env("CAREMATCH_REDIS_URL", redis_url)
        .env("CAREMATCH_INDEX_DIR", data.path().join("index"))
        .env("CAREMATCH_LISTEN", "127.0.0.1:0")
        .env("CAREMATCH_SEED_DEMO", "0")
        .env("CAREMATCH_JWT_SECRET", SECRET)
        .env("CAREMATCH_LOG_FILTER", "warn")
        .envs(extra.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("carematch starts");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("carematch listening on ") {
                let _ = sender.send(url.trim().to_owned());
            }
        }
    });
    let graphql = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the replica reports it is listening");
    // The index directory lives as long as the test process; the OS cleans the temp dir.
    std::mem::forget(data);
    Replica { child, graphql }
}

fn provider(id: u8, name: &str, in_network: bool, perinatal: bool) -> Value {
    json!({
        "id": format!("00000000-0000-4000-8000-0000000000{id:02}"),
        "name": name,
        "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"],
        "certifications": [{
            "name": if perinatal { "CAPP-OB" } else { "DPT" },
            "issuer": "APTA Pelvic Health",
            "scope": if perinatal { "PERINATAL" } else { "GENERAL" },
            "verified": true
        }],
        "treats": ["URINE_LEAKAGE", "PELVIC_PAIN"],
        "locations": [{"latitude": 45.5231, "longitude": -122.6765, "city": "Portland",
                       "region": "OR", "postalCode": "97205"}],
        "modes": ["IN_PERSON"],
        "languages": ["English"],
        "acceptingNewClients": true,
        "insurance": if in_network { json!([{"payer": "Aetna"}]) } else { json!([]) },
        "acceptsFsaHsa": false,
        "providesSuperbill": false,
        "requiresReferral": false,
        "bio": "Pelvic floor therapy after birth."
    })
}

async fn graphql(client: &reqwest::Client, url: &str, query: &str, variables: Value) -> Value {
    let token =
        carematch_api::mint_admin_token(SECRET, "replica-test", 600, None, None).expect("token");
    let body: Value = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert!(body["errors"].is_null(), "{body}");
    body
}

async fn upsert(client: &reqwest::Client, url: &str, input: Value) {
    graphql(
        client,
        url,
        "mutation($i: ProviderInput!) { upsertProvider(input: $i) { id } }",
        json!({ "i": input }),
    )
    .await;
}

/// The names the replica ranks for a mother in Portland with Aetna and leakage.
async fn ranked_names(client: &reqwest::Client, url: &str) -> Vec<String> {
    let body = graphql(
        client,
        url,
        "query($i: MatchInput!) { matchProviders(input: $i, first: 10) { edges { node { provider { name } } } } }",
        json!({ "i": {
            "location": { "postalCode": "97205" },
            "radiusKm": 25,
            "symptoms": ["URINE_LEAKAGE"],
            "insurance": { "payer": "Aetna" }
        }}),
    )
    .await;
    body["data"]["matchProviders"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            edge["node"]["provider"]["name"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// Polls `url` until `wanted` holds; returns how long it took, failing after `limit`.
async fn seen_within(
    client: &reqwest::Client,
    url: &str,
    limit: Duration,
    wanted: impl Fn(&[String]) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let names = ranked_names(client, url).await;
        if wanted(&names) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "not seen within {limit:?}; the replica answers {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn write_on_a_then_read_on_b(a: &Replica, b: &Replica, limit: Duration) {
    let client = reqwest::Client::new();
    upsert(&client, &a.graphql, provider(1, "Alpha Pelvic", true, true)).await;
    upsert(
        &client,
        &a.graphql,
        provider(2, "Beta Pelvic", false, false),
    )
    .await;
    let took = seen_within(&client, &b.graphql, limit, |names| {
        names == ["Alpha Pelvic", "Beta Pelvic"]
    })
    .await;
    eprintln!("new providers seen on B after {took:?}");
    // B now has this answer cached; the next write must still change it.
    assert_eq!(
        ranked_names(&client, &b.graphql).await,
        ["Alpha Pelvic", "Beta Pelvic"]
    );

    // Alpha leaves the network and loses its perinatal certification: Beta now ranks first.
    upsert(
        &client,
        &a.graphql,
        provider(1, "Alpha Pelvic", false, false),
    )
    .await;
    upsert(&client, &a.graphql, provider(2, "Beta Pelvic", true, true)).await;
    let took = seen_within(&client, &b.graphql, limit, |names| {
        names == ["Beta Pelvic", "Alpha Pelvic"]
    })
    .await;
    eprintln!("ranking change seen on B after {took:?}");

    graphql(
        &client,
        &a.graphql,
        "mutation { deleteProvider(id: \"00000000-0000-4000-8000-000000000002\") }",
        json!({}),
    )
    .await;
    let took = seen_within(&client, &b.graphql, limit, |names| {
        names == ["Alpha Pelvic"]
    })
    .await;
    eprintln!("delete seen on B after {took:?}");
}

#[tokio::test]
async fn a_write_through_one_replica_reaches_the_other_through_the_change_feed() {
    let Some(database) = PostgresDatabase::create("carematch_replicas").await else {
        return;
    };
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "TEST_REDIS_URL must be set under CI"
        );
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    };
    let prefix = format!("carematch-replicas-{}:", uuid::Uuid::new_v4().simple());
    // Catch-up every ten minutes: within the test, only the change feed can deliver.
    let settings = [
        ("CAREMATCH_REDIS_KEY_PREFIX", prefix.as_str()),
        ("CAREMATCH_CATCH_UP_INTERVAL_MS", "600000"),
    ];
    let a = start_replica(database.url(), &redis, &settings);
    let b = start_replica(database.url(), &redis, &settings);
    // B subscribes in the background; give it a moment before the first write.
    tokio::time::sleep(Duration::from_millis(300)).await;
    write_on_a_then_read_on_b(&a, &b, Duration::from_secs(2)).await;
    drop((a, b));
    database.drop_database().await;
}

#[tokio::test]
async fn without_redis_the_periodic_catch_up_delivers_the_write() {
    let Some(database) = PostgresDatabase::create("carematch_replicas").await else {
        return;
    };
    // Nothing listens on this port: the feed never connects, the cache stays in process.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let redis = format!("redis://127.0.0.1:{dead_port}");
    let settings = [("CAREMATCH_CATCH_UP_INTERVAL_MS", "300")];
    let a = start_replica(database.url(), &redis, &settings);
    let b = start_replica(database.url(), &redis, &settings);
    write_on_a_then_read_on_b(&a, &b, Duration::from_secs(2)).await;
    drop((a, b));
    database.drop_database().await;
}

#[tokio::test]
async fn an_import_is_announced_to_running_servers() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "TEST_REDIS_URL must be set under CI"
        );
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    };
    let data = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}?mode=rwc", data.path().join("c.db").display());
    let prefix = format!("carematch-import-{}:", uuid::Uuid::new_v4().simple());
    // Catch-up every ten minutes: only the import's change events can deliver in time.
    let settings = [
        ("CAREMATCH_REDIS_KEY_PREFIX", prefix.as_str()),
        ("CAREMATCH_CATCH_UP_INTERVAL_MS", "600000"),
    ];
    let server = start_replica(&database, &redis, &settings);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ingest/tests/data/npidata_pfile_fixture.csv"
    );
    let imported = Command::new(env!("CARGO_BIN_EXE_carematch"))
        .args(["import", "nppes", fixture])
        .env("CAREMATCH_DATABASE_URL", &database)
        .env("CAREMATCH_REDIS_URL", &redis)
        .env("CAREMATCH_REDIS_KEY_PREFIX", &prefix)
        .env("CAREMATCH_LOG_FILTER", "warn")
        .output()
        .expect("import runs");
    let store = carematch_store::Store::connect(&database, &Default::default())
        .await
        .expect("store");
    let in_database = store.count_providers().await.expect("count");
    assert!(
        in_database > 0,
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let body = graphql(
            &client,
            &server.graphql,
            "{ indexedProviderCount }",
            json!({}),
        )
        .await;
        if body["data"]["indexedProviderCount"].as_u64() == Some(in_database) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the server indexed {} of {in_database} imported providers",
            body["data"]["indexedProviderCount"]
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    eprintln!("import seen by the server after {:?}", started.elapsed());
}
