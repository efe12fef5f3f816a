//! Request variables carry health information: the real binary, logging at `trace`, must not
//! write a mother's coordinates, postal code or free text anywhere in its logs, whether she
//! sends them by POST, by GET (in the query string) or in a request that fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Distinctive values no log line could contain by chance.
const LATITUDE: &str = "45.51234987";
const LONGITUDE: &str = "-122.67654321";
const POSTAL_CODE: &str = "97219";
const FREE_TEXT: &str = "zebrafinch-mastitis-secret-note";

fn http(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    answer
}

fn post(address: &str, body: &str) -> String {
    http(
        address,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[test]
fn no_log_line_at_trace_level_contains_the_request_variables() {
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
        .env("CAREMATCH_SEED_DEMO", "60")
        .env("CAREMATCH_LOG_FORMAT", "json")
        .env("CAREMATCH_LOG_FILTER", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carematch starts");
    let stderr = child.stderr.take().expect("stderr");
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("listening line");
    let address = line
        .trim()
        .strip_prefix("carematch listening on http://")
        .and_then(|rest| rest.strip_suffix("/graphql"))
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();

    let query = "query($input: MatchInput!) { matchProviders(input: $input, first: 5) { totalCount edges { node { provider { id } } } } careTeam(input: $input) { matchId } }";
    let by_coordinates = format!(r#"{{"latitude": {LATITUDE}, "longitude": {LONGITUDE}}}"#);
    let by_postal_code = format!(r#"{{"postalCode": "{POSTAL_CODE}"}}"#);
    for location in [&by_coordinates, &by_postal_code] {
        let variables = format!(
            r#"{{"input": {{"location": {location}, "symptoms": ["URINE_LEAKAGE"], "text": "{FREE_TEXT}"}}}}"#
        );
        let body = format!(
            r#"{{"query": {}, "variables": {variables}}}"#,
            serde_json::json!(query)
        );
        let answer = post(&address, &body);
        assert!(answer.contains("totalCount"), "{answer}");
        // The same variables in a GET query string.
        let answer = http(
            &address,
            &format!(
                "GET /graphql?query={}&variables={} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
                percent_encode(query),
                percent_encode(&variables)
            ),
        );
        assert!(answer.contains("totalCount"), "{answer}");
    }
    // A failing request: a bad radius next to the same values.
    let variables = format!(
        r#"{{"input": {{"location": {by_coordinates}, "radiusKm": -1, "text": "{FREE_TEXT}"}}}}"#
    );
    let answer = post(
        &address,
        &format!(
            r#"{{"query": {}, "variables": {variables}}}"#,
            serde_json::json!(query)
        ),
    );
    assert!(answer.contains("BAD_USER_INPUT"), "{answer}");
    // A wrong variable type, whose error message quotes the value.
    let answer = post(
        &address,
        &format!(
            r#"{{"query": {}, "variables": {{"input": {{"location": {{"latitude": "{FREE_TEXT}"}}}}}}}}"#,
            serde_json::json!(query)
        ),
    );
    assert!(answer.contains("BAD_USER_INPUT"), "{answer}");

    child.kill().expect("stops");
    child.wait().expect("exits");
    let logs = logs.join().expect("log reader");
    assert!(
        logs.contains("request finished") || logs.contains("http_request"),
        "the test must capture request logs at trace level: {}",
        &logs[..logs.len().min(2_000)]
    );
    for secret in [LATITUDE, LONGITUDE, POSTAL_CODE, FREE_TEXT] {
        let leaked: Vec<&str> = logs.lines().filter(|line| line.contains(secret)).collect();
        assert!(
            leaked.is_empty(),
            "health data `{secret}` in the logs:\n{}",
            leaked.join("\n")
        );
    }
}
