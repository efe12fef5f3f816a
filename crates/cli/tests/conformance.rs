//! The real binary checked from the outside with tools nobody here wrote (issue 21): the
//! `graphql-http` server audit (GraphQL over HTTP; 0 failures and 0 warnings) and the
//! playground in headless Chromium (it loads with no other origin, and a typed query answers).
//! The scripts and their pinned packages are in `tests/conformance`; these tests start
//! `carematch serve` and run them. They need Node.js 20+ and npm, and the playground check
//! Debian's `chromium` (`.ci/run` installs it when missing).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Far above a normal run (a few seconds); only a hung server or browser gets this far.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance")
}

/// Installs the pinned packages when they are missing or older than the lockfile, once per
/// test process (the tests run in parallel; two `npm ci` in one folder would collide).
/// `.ci/run` has already done it on CI; this makes `cargo test` work on a fresh clone too.
fn ensure_node_modules(dir: &Path) {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *installed {
        return;
    }
    let marker = dir.join("node_modules/.package-lock.json");
    let modified = |path: &Path| path.metadata().and_then(|meta| meta.modified()).ok();
    let up_to_date = match (modified(&marker), modified(&dir.join("package-lock.json"))) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if !up_to_date {
        // --ignore-scripts: nothing in the tree needs an install script (playwright-core's
        // would download a browser; the check uses Debian's chromium instead).
        let status = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(dir)
            .status()
            .unwrap_or_else(|error| {
                panic!(
                    "these checks need Node.js 20+ and npm on PATH (`npm ci` in {}): {error}",
                    dir.display()
                )
            });
        assert!(
            status.success(),
            "`npm ci` in {} failed ({status})",
            dir.display()
        );
    }
    *installed = true;
}

/// `carematch serve` on a free port with a fresh SQLite database; killed on drop.
struct Server {
    child: Child,
    url: String,
    _data_dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_carematch"))
            .arg("serve")
            .current_dir(data_dir.path())
            .env("CAREMATCH_LISTEN", "127.0.0.1:0")
            .env(
                "CAREMATCH_DATABASE_URL",
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.path().join("cm.db").display()
                ),
            )
            .env("CAREMATCH_INDEX_DIR", data_dir.path().join("index"))
            .env("CAREMATCH_SEED_DEMO", "50")
            .env("CAREMATCH_LOG_FORMAT", "json")
            .env("CAREMATCH_LOG_FILTER", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("carematch starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("listening line");
        let url = line
            .trim()
            .strip_prefix("carematch listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        let server = Self {
            child,
            url,
            _data_dir: data_dir,
        };
        server.wait_ready();
        server
    }

    /// `/graphql` answers 503 until the index is loaded: wait for `/readyz`.
    fn wait_ready(&self) {
        let address = self
            .url
            .trim_start_matches("http://")
            .trim_end_matches("/graphql")
            .to_owned();
        let ready = || -> std::io::Result<bool> {
            let mut stream = TcpStream::connect(&address)?;
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(
                stream,
                "GET /readyz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
            )?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok(answer.starts_with("HTTP/1.1 200"))
        };
        let started = Instant::now();
        while started.elapsed() < RUN_TIMEOUT {
            if ready().unwrap_or(false) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("carematch at {address} did not become ready");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `node SCRIPT URL` in `tests/conformance`, killing it past `RUN_TIMEOUT`. Returns
/// whether it passed and its output.
fn run_script(script: &str, url: &str) -> (bool, String) {
    let dir = conformance_dir();
    ensure_node_modules(&dir);
    // Output goes to files, so a chatty child never blocks on a full pipe while we poll it.
    let logs = tempfile::tempdir().expect("temp dir");
    let stdout = std::fs::File::create(logs.path().join("stdout")).expect("stdout file");
    let stderr = std::fs::File::create(logs.path().join("stderr")).expect("stderr file");
    let mut child = Command::new("node")
        .arg(script)
        .arg(url)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|error| panic!("these checks need Node.js 20+ (`node`) on PATH: {error}"));
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
        None => (false, format!("killed after {RUN_TIMEOUT:?}\n{output}")),
    }
}

#[test]
fn the_graphql_http_server_audit_passes_with_no_failure_and_no_warning() {
    let server = Server::start();
    let (passed, output) = run_script("audit.mjs", &server.url);
    assert!(passed, "tests/conformance/audit.mjs failed: {output}");
    assert!(output.contains(" 0 warnings, 0 failures"), "{output}");
    println!("{output}");
}

#[test]
fn the_playground_loads_in_headless_chromium_and_a_typed_query_answers() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the playground check needs Chromium at {chromium} (Debian: `apt-get install chromium`; \
         or set CHROMIUM)"
    );
    let server = Server::start();
    let (passed, output) = run_script("playground.mjs", &server.url);
    assert!(passed, "tests/conformance/playground.mjs failed: {output}");
    println!("{output}");
}
