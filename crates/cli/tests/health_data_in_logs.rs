//! Request variables carry health information: the real binary, logging at its default level
//! and at `trace`, must not write a mother's coordinates, postal code, insurance or free text
//! anywhere in its logs, whether she sends them by POST, by GET (in the query string) or in a
//! request that fails, on any error path: variables of the wrong type (whose error messages
//! quote the value), invalid input, malformed federation representations, and every limit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

/// Distinctive values no log line could contain by chance.
const LATITUDE: &str = "45.51234987";
const LONGITUDE: &str = "-122.67654321";
const POSTAL_CODE: &str = "97219";
const FREE_TEXT: &str = "zebrafinch-mastitis-secret-note";
const PAYER: &str = "canary-payer-wombat";
const CANARIES: [&str; 5] = [LATITUDE, LONGITUDE, POSTAL_CODE, FREE_TEXT, PAYER];

const MATCH_QUERY: &str = "query($input: MatchInput!) { matchProviders(input: $input, first: 5) { totalCount edges { node { provider { id } } } } careTeam(input: $input) { matchId } }";

fn http(address: &str, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("sends");
    let mut answer = Vec::new();
    // The server may answer and close before reading a whole refused body.
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn post_as(address: &str, content_type: &str, body: &str) -> String {
    http(
        address,
        format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

fn post(address: &str, body: &str) -> String {
    post_as(address, "application/json", body)
}

fn graphql(address: &str, query: &str, variables: serde_json::Value) -> String {
    post(
        address,
        &json!({ "query": query, "variables": variables }).to_string(),
    )
}

fn get(address: &str, query: &str, variables: &str) -> String {
    http(
        address,
        format!(
            "GET /graphql?query={}&variables={} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
            percent_encode(query),
            percent_encode(variables)
        )
        .as_bytes(),
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

/// The carematch binary serving demo data, logging as JSON with `log_filter` (or its
/// default), until killed.
struct Server {
    child: std::process::Child,
    address: String,
    logs: std::thread::JoinHandle<String>,
    _data_dir: tempfile::TempDir,
}

impl Server {
    fn start(log_filter: Option<&str>) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_carematch"));
        command
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
            // Small limits, so each is reached with a small request.
            .env("CAREMATCH_MAX_REQUEST_BODY_BYTES", "4096")
            .env("CAREMATCH_MAX_QUERY_BYTES", "2048")
            .env_remove("CAREMATCH_LOG_FILTER")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(filter) = log_filter {
            command.env("CAREMATCH_LOG_FILTER", filter);
        }
        let mut child = command.spawn().expect("carematch starts");
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
        Self {
            child,
            address,
            logs,
            _data_dir: data_dir,
        }
    }

    /// Stops the server and returns everything it logged.
    fn stop(mut self) -> String {
        self.child.kill().expect("stops");
        self.child.wait().expect("exits");
        self.logs.join().expect("log reader")
    }
}

/// Her request, by coordinates or by postal code, with her insurance and free text.
fn her_input(by_postal_code: bool) -> serde_json::Value {
    let location = if by_postal_code {
        json!({ "postalCode": POSTAL_CODE })
    } else {
        json!({ "latitude": LATITUDE.parse::<f64>().expect("a number"), "longitude": LONGITUDE.parse::<f64>().expect("a number") })
    };
    json!({
        "location": location,
        "symptoms": ["URINE_LEAKAGE"],
        "insurance": { "payer": PAYER },
        "text": FREE_TEXT,
    })
}

/// Every request path, each carrying the canaries: answered requests, then every error.
fn send_every_kind_of_request(address: &str) {
    let answered = |answer: &str, expected: &str| {
        assert!(answer.contains(expected), "expected {expected}: {answer}");
    };
    for by_postal_code in [false, true] {
        let variables = json!({ "input": her_input(by_postal_code) });
        answered(
            &graphql(address, MATCH_QUERY, variables.clone()),
            "totalCount",
        );
        answered(
            &get(address, MATCH_QUERY, &variables.to_string()),
            "totalCount",
        );
    }
    let mut input = her_input(false);
    // Invalid input next to the canaries.
    input["radiusKm"] = json!(-1);
    answered(
        &graphql(address, MATCH_QUERY, json!({ "input": input })),
        "BAD_USER_INPUT",
    );
    let mut input = her_input(false);
    input["location"]["latitude"] = json!(FREE_TEXT);
    answered(
        &graphql(address, MATCH_QUERY, json!({ "input": input })),
        "BAD_USER_INPUT",
    );
    let mut input = her_input(true);
    input["location"]["postalCode"] = json!(format!("{POSTAL_CODE}-{FREE_TEXT}"));
    answered(
        &graphql(address, MATCH_QUERY, json!({ "input": input })),
        "BAD_USER_INPUT",
    );
    // A variable declared with the wrong type: it was logged at ERROR with the value whole.
    answered(
        &graphql(
            address,
            "query($input: String!) { careTeam(input: $input) { matchId } }",
            json!({ "input": her_input(false) }),
        ),
        "GRAPHQL_VALIDATION_FAILED",
    );
    answered(
        &graphql(
            address,
            "query($input: MatchInput!) { careTeam(input: $input) { matchId } }",
            json!({ "input": format!("{FREE_TEXT} {POSTAL_CODE} {LATITUDE} {LONGITUDE} {PAYER}") }),
        ),
        "BAD_USER_INPUT",
    );
    answered(
        &graphql(
            address,
            "query($s: Boolean) { recommendCare(symptoms: $s) { cautions } }",
            json!({ "s": FREE_TEXT }),
        ),
        "GRAPHQL_VALIDATION_FAILED",
    );
    // An argument literal of the wrong type, with the canaries in the document itself.
    answered(
        &graphql(
            address,
            &format!(
                "{{ careTeam(input: {{ location: {{ latitude: \"{FREE_TEXT}\", postalCode: {POSTAL_CODE} }}, insurance: {{ payer: {LONGITUDE} }} }}) {{ matchId }} }}"
            ),
            json!({}),
        ),
        "\"code\"",
    );
    // Malformed federation representations.
    answered(
        &graphql(
            address,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Provider { id } } }",
            json!({ "r": [
                { "__typename": "Provider", "id": FREE_TEXT },
                { "__typename": "Provider", "npi": POSTAL_CODE },
                { "__typename": PAYER, "id": LATITUDE },
                [LONGITUDE],
            ] }),
        ),
        "BAD_USER_INPUT",
    );
    // Every limit, with the canaries in the request.
    let canary_text = json!(format!("{FREE_TEXT} {POSTAL_CODE} {LATITUDE} {PAYER}"));
    let too_deep = format!(
        "{{ __typename @unknown(value: {}{canary_text}{}) }}",
        "[".repeat(100),
        "]".repeat(100)
    );
    answered(&graphql(address, &too_deep, json!({})), "QUERY_TOO_DEEP");
    let multiplying: String = (0..30)
        .map(|level| {
            if level == 29 {
                format!(" fragment F{level} on Query {{ recommendCare(symptoms: [], careTypes: [], weeksPostpartum: 1) {{ cautions }} __typename }}")
            } else {
                format!(" fragment F{level} on Query {{ ...F{0} ...F{0} }}", level + 1)
            }
        })
        .collect();
    answered(
        &graphql(
            address,
            &format!("query($input: MatchInput) {{ ...F0 }}{multiplying}"),
            json!({ "input": her_input(false) }),
        ),
        "QUERY_TOO_COMPLEX",
    );
    let aliases: String = (0..40).map(|n| format!(" a{n}: cautions")).collect();
    answered(
        &graphql(
            address,
            &format!("query($input: MatchInput) {{ recommendCare(symptoms: []) {{ {aliases} }} }}"),
            json!({ "input": her_input(true) }),
        ),
        "TOO_MANY_ALIASES",
    );
    let long_query = format!("{{ __typename }} # {}", FREE_TEXT.repeat(100));
    answered(
        &graphql(address, &long_query, json!({ "input": her_input(true) })),
        "QUERY_TOO_LARGE",
    );
    let big_body = json!({ "query": MATCH_QUERY, "variables": { "input": her_input(false), "padding": FREE_TEXT.repeat(200) } });
    answered(&post(address, &big_body.to_string()), "PAYLOAD_TOO_LARGE");
    answered(
        &graphql(
            address,
            &format!("{{ careTeam(input: {{ text: \"{FREE_TEXT}\" "),
            json!({ "input": her_input(false) }),
        ),
        "GRAPHQL_PARSE_FAILED",
    );
    answered(
        &post(
            address,
            &format!(r#"{{"query": "{{ __typename }}", "variables": {{"input": "{FREE_TEXT}" "#),
        ),
        "BAD_REQUEST",
    );
    // A form another site could post: refused before its body is read.
    answered(
        &post_as(
            address,
            "text/plain",
            &json!({ "query": MATCH_QUERY, "variables": { "input": her_input(true) } }).to_string(),
        ),
        "BAD_REQUEST",
    );
    // A persisted query the server does not know, with her variables.
    answered(
        &post(
            address,
            &json!({
                "variables": { "input": her_input(false) },
                "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } },
            })
            .to_string(),
        ),
        "PERSISTED_QUERY_NOT_FOUND",
    );
    // A mutation by GET, and one without a token.
    answered(
        &get(
            address,
            &format!("mutation {{ deleteProvider(id: \"{FREE_TEXT}\") }}"),
            "{}",
        ),
        "METHOD_NOT_ALLOWED",
    );
    answered(
        &graphql(
            address,
            "mutation($id: ID!) { deleteProvider(id: $id) }",
            json!({ "id": FREE_TEXT }),
        ),
        "\"code\"",
    );
}

fn assert_no_canary_in(logs: &str, level: &str) {
    assert!(
        logs.contains("listening"),
        "the test must capture the server's logs ({level}): {}",
        &logs[..logs.len().min(2_000)]
    );
    for canary in CANARIES {
        let leaked: Vec<&str> = logs.lines().filter(|line| line.contains(canary)).collect();
        assert!(
            leaked.is_empty(),
            "health data `{canary}` in the logs at {level}:\n{}",
            leaked.join("\n")
        );
    }
}

#[test]
fn no_log_line_at_trace_level_contains_health_data_on_any_request_path() {
    let server = Server::start(Some("trace"));
    send_every_kind_of_request(&server.address);
    let logs = server.stop();
    assert!(
        logs.contains("request finished") || logs.contains("http_request"),
        "the test must capture request logs at trace level: {}",
        &logs[..logs.len().min(2_000)]
    );
    assert_no_canary_in(&logs, "trace");
}

#[test]
fn no_log_line_at_the_default_level_contains_health_data_on_any_request_path() {
    let server = Server::start(None);
    send_every_kind_of_request(&server.address);
    assert_no_canary_in(&server.stop(), "the default level");
}
