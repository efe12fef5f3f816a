//! `spawn_app`: the real server on a free loopback port with its own fresh database, plus small
//! helpers to send GraphQL over HTTP. Every test gets its own app, so tests run in parallel.

use std::path::PathBuf;

use carematch_cli::Application;
use carematch_cli::config::{Config, Secret, Settings};
use carematch_store::{Store, StoreOptions};
use serde_json::{Value, json};

/// The HS256 secret every test app accepts admin tokens for.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret";

fn test_secret() -> Secret {
    serde_json::from_value(json!(TEST_JWT_SECRET)).expect("secret")
}

/// The mutation that writes one provider.
pub const UPSERT_PROVIDER: &str =
    "mutation Upsert($input: ProviderInput!) { upsertProvider(input: $input) { id } }";

/// The project's copy of the public scenario providers.
pub fn scenario_providers_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/providers.jsonl")
}

pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub database_url: String,
    /// Keeps the database and index directory alive as long as the app.
    _data_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Options for one test app.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Demo providers to seed on start (0: none).
    pub seed_demo: u64,
    /// Database URL; default: a fresh SQLite file.
    pub database_url: Option<String>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    spawn_app_with_settings(options, |_| {}).await
}

/// Like [`spawn_app_with`], and `customize_settings` changes any other setting (limits,
/// introspection, CORS, router secret, ...) before the app is built.
pub async fn spawn_app_with_settings(
    options: AppOptions,
    customize_settings: impl FnOnce(&mut Settings),
) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let database_url = options.database_url.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.path().join("carematch.db").display()
        )
    });
    let mut settings = Settings::default();
    settings.server.listen = "127.0.0.1:0".into();
    settings.database.database_url = database_url.clone();
    settings.index.index_dir = data_dir.path().join("index");
    settings.index.seed_demo = options.seed_demo;
    settings.auth.jwt_secret = Some(test_secret());
    customize_settings(&mut settings);
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        settings,
    };
    let application = Application::build(&config, true).await.expect("app builds");
    let base_url = format!("http://{}", application.address());
    let readiness = application.readiness();
    let (shutdown, shutdown_received) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async {
        let _ = shutdown_received.await;
    }));
    // The server answers `/healthz` at once; `/graphql` once the index is loaded.
    readiness.wait_started().await.expect("app starts");
    TestApp {
        base_url,
        client: reqwest::Client::new(),
        database_url,
        _data_dir: data_dir,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

impl TestApp {
    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base_url))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("the body of /metrics")
    }

    /// The `/graphql` URL.
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// Asserts the server still answers a trivial query, after a refused one.
    pub async fn assert_still_serving(&self) {
        let body = self.graphql("{ __typename }", json!({})).await;
        assert_eq!(body["data"]["__typename"], "Query", "{body}");
    }

    /// Posts a GraphQL request and returns the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.base_url))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        response.json().await.expect("JSON body")
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.database_url, &StoreOptions::default())
            .await
            .expect("store")
    }

    /// A valid admin token for this app.
    pub fn admin_token(&self) -> String {
        carematch_api::mint_admin_token(TEST_JWT_SECRET, "tests", 3_600, None, None).expect("token")
    }

    /// Posts a GraphQL request with an admin bearer token.
    pub async fn graphql_as_admin(&self, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("{}/graphql", self.base_url))
            .bearer_auth(self.admin_token())
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("JSON body")
    }

    /// Loads the scenario providers through `upsertProvider`, as an admin tool would, so
    /// the database, the index and the audit log all see them.
    pub async fn load_scenario_providers(&self) -> usize {
        let text = std::fs::read_to_string(scenario_providers_path()).expect("providers.jsonl");
        let mut loaded = 0;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let input: Value = serde_json::from_str(line).expect("scenario line parses");
            let body = self
                .graphql_as_admin(UPSERT_PROVIDER, json!({ "input": input }))
                .await;
            assert!(
                body["errors"].is_null(),
                "scenario provider rejected: {body}"
            );
            loaded += 1;
        }
        loaded
    }

    /// Stops the server the way SIGTERM does and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }
}

/// The first error's `extensions.code`, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}
