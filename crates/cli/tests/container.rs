//! The binary run the way the container image runs it (deploy/Dockerfile): configuration from
//! the environment only, a read-only working directory, a separate writable data directory, a
//! non-root user, listening on 0.0.0.0. Then `/healthz`, `/readyz`, a match, JSON logs with the
//! request id and trace id, the `healthcheck` subcommand, and SIGTERM under load: exit 0, and
//! every answered match has its match log.
//!
//! `CAREMATCH_TEST_BINARY=target/release/carematch` runs it against the release binary.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The user the image runs as (distroless `nonroot`), used when the tests run as root.
const NONROOT: u32 = 65532;

fn built_binary() -> PathBuf {
    std::env::var_os("CAREMATCH_TEST_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_carematch")))
}

/// The binary, where the non-root user can run it: the build may sit under a directory only
/// root can enter (CI builds in `$HOME/.cache`), as the image's `/usr/local/bin` never does.
fn binary() -> PathBuf {
    static RUNNABLE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    RUNNABLE
        .get_or_init(|| {
            let built = built_binary();
            if !running_as_root() {
                return built;
            }
            let directory =
                std::env::temp_dir().join(format!("carematch-image-bin-{}", std::process::id()));
            std::fs::create_dir_all(&directory).expect("binary directory");
            std::fs::set_permissions(&directory, std::fs::Permissions::from_mode(0o755))
                .expect("binary directory mode");
            let runnable = directory.join("carematch");
            if std::fs::hard_link(&built, &runnable).is_err() {
                std::fs::copy(&built, &runnable).expect("binary copied");
            }
            std::fs::set_permissions(&runnable, std::fs::Permissions::from_mode(0o755))
                .expect("binary mode");
            runnable
        })
        .clone()
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1)
        == 0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Container {
    child: Child,
    port: u16,
    data_dir: PathBuf,
    logs: Arc<Mutex<Vec<String>>>,
    environment: Vec<(String, String)>,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl Container {
    fn command(&self, arguments: &[&str]) -> Command {
        command_for(&self.environment, self._dirs.0.path(), arguments)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn command_for(
    environment: &[(String, String)],
    working_dir: &Path,
    arguments: &[&str],
) -> Command {
    let mut command = Command::new(binary());
    command
        .args(arguments)
        .current_dir(working_dir)
        .env_clear()
        .envs(environment.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if running_as_root() {
        command.uid(NONROOT).gid(NONROOT);
    }
    command
}

fn start_container() -> Container {
    let working_dir = tempfile::tempdir().unwrap();
    let data_root = tempfile::tempdir().unwrap();
    let data_dir = data_root.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    // The image's working directory is not writable by the process; its data directory is.
    std::fs::set_permissions(working_dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    if running_as_root() {
        std::os::unix::fs::chown(&data_dir, Some(NONROOT), Some(NONROOT)).unwrap();
        // The temporary folders themselves are 0700 root: let the user through to its data.
        for dir in [working_dir.path(), data_root.path()] {
            let mode = if dir == working_dir.path() {
                0o555
            } else {
                0o711
            };
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    let port = free_port();
    let environment: Vec<(String, String)> = [
        ("CAREMATCH_LISTEN", format!("0.0.0.0:{port}")),
        (
            "CAREMATCH_DATABASE_URL",
            format!("sqlite://{}/carematch.db?mode=rwc", data_dir.display()),
        ),
        (
            "CAREMATCH_INDEX_DIR",
            format!("{}/index", data_dir.display()),
        ),
        ("CAREMATCH_LOG_FORMAT", "json".into()),
        // `request finished` lines (debug) carry the request span: id and trace context.
        ("CAREMATCH_LOG_FILTER", "info,carematch_api=debug".into()),
        ("CAREMATCH_SEED_DEMO", "300".into()),
        ("CAREMATCH_PLAYGROUND", "false".into()),
        ("CAREMATCH_INTROSPECTION", "false".into()),
        ("CAREMATCH_SHUTDOWN_GRACE_SECONDS", "10".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut child = command_for(&environment, working_dir.path(), &["serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carematch starts");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    {
        let logs = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                logs.lock().unwrap().push(line);
            }
        });
    }
    Container {
        child,
        port,
        data_dir,
        logs,
        environment,
        _dirs: (working_dir, data_root),
    }
}

const MATCH: &str =
    "query($input: MatchInput!) { matchProviders(input: $input, first: 5) { matchId totalCount } }";

fn match_body(n: usize) -> Value {
    json!({ "query": MATCH, "variables": { "input": {
        "location": { "postalCode": "97205" },
        "radiusKm": 200,
        "symptoms": [if n.is_multiple_of(2) { "URINE_LEAKAGE" } else { "LOW_MOOD" }],
    }}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_binary_runs_as_the_image_runs_it_and_stops_cleanly_under_load() {
    let mut container = start_container();
    let client = reqwest::Client::new();

    // Alive as soon as it listens; ready once the index is loaded.
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(container.url("/healthz")).send().await {
            assert_eq!(response.status(), 200);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never listened: {:?}",
            container.logs.lock().unwrap()
        );
        assert!(
            container.child.try_wait().unwrap().is_none(),
            "exited: {:?}",
            container.logs.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    loop {
        let response = client.get(container.url("/readyz")).send().await.unwrap();
        if response.status() == 200 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["status"], "ready", "{body}");
            break;
        }
        assert_eq!(response.status(), 503);
        assert!(started.elapsed() < Duration::from_secs(120), "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The image's HEALTHCHECK: the binary itself, same environment.
    let healthcheck = container.command(&["healthcheck"]).output().unwrap();
    assert!(
        healthcheck.status.success(),
        "{}{}",
        String::from_utf8_lossy(&healthcheck.stdout),
        String::from_utf8_lossy(&healthcheck.stderr)
    );

    // A match, with a request id and a trace context to find in the logs.
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let response = client
        .post(container.url("/graphql"))
        .header("x-request-id", "container-test-request")
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .json(&match_body(0))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answered_trace = response.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        answered_trace.starts_with(&format!("00-{trace_id}-")),
        "{answered_trace}"
    );
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["data"]["matchProviders"]["totalCount"]
            .as_u64()
            .unwrap()
            > 0,
        "{body}"
    );

    // Load, then SIGTERM in the middle of it.
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for client_number in 0..4 {
        let url = container.url("/graphql");
        let answered = Arc::clone(&answered);
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut refused = 0;
            for n in 0.. {
                let Ok(response) = client
                    .post(&url)
                    .json(&match_body(client_number + n))
                    .send()
                    .await
                else {
                    refused += 1;
                    if refused > 50 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let body: Value = response
                    .json()
                    .await
                    .expect("accepted requests are answered");
                assert!(body["errors"].is_null(), "{body}");
                answered.lock().unwrap().push(
                    body["data"]["matchProviders"]["matchId"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let pid = container.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = container.child.try_wait().unwrap() {
            break status;
        }
        assert!(stopping.elapsed() < Duration::from_secs(30), "did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        status.code(),
        Some(0),
        "{:?}",
        container.logs.lock().unwrap()
    );
    for client in clients {
        client.await.unwrap();
    }

    // Every answered match (the first one included) has its de-identified log.
    let mut answered = answered.lock().unwrap().clone();
    answered.push(
        body["data"]["matchProviders"]["matchId"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    assert!(answered.len() > 10, "only {} answered", answered.len());
    let store = carematch_store::Store::connect(
        &format!("sqlite://{}/carematch.db", container.data_dir.display()),
        &Default::default(),
    )
    .await
    .unwrap();
    let logged: HashSet<String> = store
        .match_log_table_as_json("match_logs")
        .await
        .unwrap()
        .iter()
        // SQLite stores UUIDs as blobs, read back as hex without dashes.
        .filter_map(|row| row["id"].as_str().map(|id| id.replace('-', "")))
        .collect();
    let missing: Vec<&String> = answered
        .iter()
        .filter(|id| !logged.contains(&id.replace('-', "")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} answered matches not logged",
        missing.len()
    );

    // JSON logs: every line is a JSON object; the request's line names its id and trace.
    let logs = container.logs.lock().unwrap().clone();
    for line in &logs {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(parsed.is_object());
    }
    assert!(
        logs.iter()
            .any(|line| line.contains("container-test-request") && line.contains(trace_id)),
        "no log line with the request id and trace id"
    );
    // Nothing was written outside the data directory.
    assert_eq!(
        std::fs::read_dir(container._dirs.0.path()).unwrap().count(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_no_migrate_needs_the_migrate_command_first() {
    let working_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let environment: Vec<(String, String)> = [
        ("CAREMATCH_LISTEN", format!("127.0.0.1:{port}")),
        (
            "CAREMATCH_DATABASE_URL",
            format!("sqlite://{}/job.db?mode=rwc", working_dir.path().display()),
        ),
        (
            "CAREMATCH_INDEX_DIR",
            format!("{}/index", working_dir.path().display()),
        ),
        ("CAREMATCH_SEED_DEMO", "0".into()),
        ("CAREMATCH_LOG_FORMAT", "json".into()),
        ("CAREMATCH_LOG_FILTER", "warn".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if running_as_root() {
        std::os::unix::fs::chown(working_dir.path(), Some(NONROOT), Some(NONROOT)).unwrap();
    }
    let run = |arguments: &[&str]| {
        let mut command = command_for(&environment, working_dir.path(), arguments);
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut stderr = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
                    .unwrap();
                return (status, stderr);
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{arguments:?} hangs"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    // Without migrations the tables are missing: start-up fails and the process exits 1 by
    // itself (it does not serve a broken replica forever).
    let (status, stderr) = run(&["serve", "--no-migrate"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("start-up failed"), "{stderr}");

    let (status, stderr) = run(&["migrate"]);
    assert!(status.success(), "{stderr}");

    let mut server = command_for(&environment, working_dir.path(), &["serve", "--no-migrate"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && response.status() == 200
        {
            break;
        }
        assert!(
            server.try_wait().unwrap().is_none(),
            "serve --no-migrate exited"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body: Value = client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let pid = server.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(server.wait().unwrap().code(), Some(0));
}
