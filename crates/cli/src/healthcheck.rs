//! `carematch healthcheck`: one HTTP GET to the local server, for the container image's
//! HEALTHCHECK (the runtime image has no curl). Plain HTTP/1.0 over a socket: no client crate.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

/// How long the whole check may take.
const TIMEOUT: Duration = Duration::from_secs(3);

/// GETs `path` from the server listening on `listen` (an unspecified address such as
/// `0.0.0.0` is reached on loopback); success when it answers 200.
pub fn check(listen: SocketAddr, path: &str) -> anyhow::Result<ExitCode> {
    let address = SocketAddr::new(
        match listen.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        },
        listen.port(),
    );
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .with_context(|| format!("connecting to {address} (CAREMATCH_LISTEN)"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\nUser-Agent: carematch-healthcheck\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .context("reading the answer")?;
    let status_line = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let healthy = status_line
        .split_whitespace()
        .nth(1)
        .is_some_and(|code| code == "200");
    println!("{address}{path}: {status_line}");
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
