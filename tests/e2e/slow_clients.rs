//! Slow clients: a client that never finishes its request's head, or its body, must not hold
//! a connection open for long (a few hundred such clients would exhaust the file descriptors).

use std::time::{Duration, Instant};

use carematch_tests::{AppOptions, TestApp, spawn_app_with_settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn app_with_read_timeouts(header_ms: u64, body_ms: u64) -> TestApp {
    spawn_app_with_settings(AppOptions::default(), |settings| {
        settings.server.header_read_timeout_ms = header_ms;
        settings.server.body_read_timeout_ms = body_ms;
    })
    .await
}

/// Sends `sent`, then waits until the server closes the connection; returns what it answered
/// and how long it took. Gives up after 30 s (the server held the connection).
async fn send_and_wait_for_close(app: &TestApp, sent: &str) -> (String, Duration) {
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    stream.write_all(sent.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "the connection was still open after 30 s; answered so far: {}",
        String::from_utf8_lossy(&answer)
    );
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_request_whose_headers_never_finish_is_closed_after_the_header_timeout() {
    let app = app_with_read_timeouts(1_000, 60_000).await;
    let half_a_head = "POST /graphql HTTP/1.1\r\nHost: carematch\r\nContent-Type: applica";
    let (answer, elapsed) = send_and_wait_for_close(&app, half_a_head).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(
        elapsed >= Duration::from_millis(900),
        "closed after {elapsed:?}"
    );
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_is_answered_408_after_the_body_timeout() {
    let app = app_with_read_timeouts(60_000, 1_000).await;
    let head_and_half_a_body = "POST /graphql HTTP/1.1\r\nHost: carematch\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\": \"{ __typ";
    let (answer, elapsed) = send_and_wait_for_close(&app, head_and_half_a_body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "answered after {elapsed:?}"
    );
    app.assert_still_serving().await;
}
