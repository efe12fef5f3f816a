//! Owns the composition and gateway test against the real Apollo stack (issues 4 and 21): starts
//! carematch twice with the scenario providers (one also with a provider with an NPI), as
//! configured by default and with `care_listing_interface_object` on, then runs
//! `tests/federation/run.mjs`. It composes the default alone and with a `bookings` subgraph that
//! only extends `Provider`, the interface-object variant with the bookings subgraph that owns
//! `interface CareListing`, runs `@apollo/gateway` over each supergraph and queries across both
//! subgraphs: bookings' fields on carematch's `Provider`, and carematch's `provider` on bookings'
//! listings. The assertions live in run.mjs (the Apollo libraries are JavaScript); this test
//! supplies the servers and fails with run.mjs's output.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use carematch_domain::{ProviderDraft, ProviderId};
use carematch_tests::{
    AppOptions, scenario_providers_path, spawn_app_with, spawn_app_with_settings,
};
use serde_json::Value;

/// run.mjs looks this provider up by NPI; keep these in sync with `NPI_PROVIDER` there.
const NPI_PROVIDER_ID: &str = "00000000-0000-4000-8000-0000000000a1";
const NPI_PROVIDER_NAME: &str = "Pearl District Pelvic Therapy";
/// The usual example of a valid NPI (its Luhn check digit is right).
const NPI: &str = "1234567893";

/// Far above a normal run (a few seconds); only a hung gateway or server gets this far.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

fn federation_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("federation")
}

/// Installs the pinned packages when they are missing or older than the lockfile. `.ci/run` has
/// already done it on CI; this makes `cargo test` work on a fresh clone too.
fn ensure_node_modules(dir: &Path) {
    // npm ci writes node_modules/.package-lock.json; it is missing after an interrupted install.
    let installed = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let modified = |path: &Path| path.metadata().and_then(|meta| meta.modified()).ok();
    let up_to_date = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if up_to_date {
        return;
    }
    // --ignore-scripts: nothing in the tree needs an install script, so none runs.
    let status = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .unwrap_or_else(|error| {
            panic!(
                "the federation test needs Node.js 20+ and npm on PATH (`npm ci` in {}): {error}",
                dir.display()
            )
        });
    assert!(
        status.success(),
        "`npm ci` in {} failed ({status}); see its output above",
        dir.display()
    );
}

/// The scenario's first provider under another id, with an NPI (no scenario provider has one).
fn npi_provider() -> carematch_domain::Provider {
    let text = std::fs::read_to_string(scenario_providers_path()).expect("providers.jsonl");
    let mut draft: Value =
        serde_json::from_str(text.lines().next().expect("a scenario provider")).expect("JSON");
    draft["id"] = NPI_PROVIDER_ID.into();
    draft["npi"] = NPI.into();
    draft["name"] = NPI_PROVIDER_NAME.into();
    let draft: ProviderDraft = serde_json::from_value(draft).expect("a provider draft");
    draft
        .validate(ProviderId::from_uuid(uuid::Uuid::new_v4()))
        .expect("the NPI provider is valid")
}

/// Runs `node run.mjs <base_urls>...`, killing it past `RUN_TIMEOUT`. Returns success and its
/// output.
fn run_script(dir: &Path, base_urls: &[String]) -> (bool, String) {
    // Output goes to files, so a chatty child never blocks on a full pipe while we poll it.
    let logs = tempfile::tempdir().expect("temp dir");
    let stdout = std::fs::File::create(logs.path().join("stdout")).expect("stdout file");
    let stderr = std::fs::File::create(logs.path().join("stderr")).expect("stderr file");
    let mut child = Command::new("node")
        .arg("run.mjs")
        .args(base_urls)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|error| {
            panic!("the federation test needs Node.js 20+ (`node`) on PATH: {error}")
        });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read = |name: &str| std::fs::read_to_string(logs.path().join(name)).unwrap_or_default();
    let output = format!(
        "--- stdout\n{}--- stderr\n{}",
        read("stdout"),
        read("stderr")
    );
    match status {
        Some(status) => (status.success(), format!("{status}\n{output}")),
        None => (
            false,
            format!("killed after {RUN_TIMEOUT:?} without finishing\n{output}"),
        ),
    }
}

// Multi-threaded: the server keeps answering on the runtime while the script runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carematch_composes_alone_or_beside_a_bookings_subgraph_and_its_interface_object_beside_the_owner()
 {
    let dir = federation_dir();
    ensure_node_modules(&dir);

    let app = spawn_app_with(AppOptions::default()).await;
    app.load_scenario_providers().await;
    app.store()
        .await
        .upsert_provider(&npi_provider())
        .await
        .expect("NPI provider stored");

    let with_listings = spawn_app_with_settings(AppOptions::default(), |settings| {
        settings.server.care_listing_interface_object = true;
    })
    .await;
    with_listings.load_scenario_providers().await;

    let base_urls = [app.base_url.clone(), with_listings.base_url.clone()];
    let (passed, output) = tokio::task::spawn_blocking(move || run_script(&dir, &base_urls))
        .await
        .expect("run.mjs task");
    app.stop().await;
    with_listings.stop().await;
    assert!(passed, "tests/federation/run.mjs failed: {output}");
    // Shown with --nocapture: which checks ran.
    println!("{output}");
}
