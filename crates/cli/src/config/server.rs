//! `[server]` settings: where and how the HTTP server listens, who may call it from a
//! browser, and how long clients and requests may take.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, at_least_one, refuse_placeholder};

/// Keys are the file's keys; the environment name is `CAREMATCH_` + the key in upper case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: String,
    /// Serve the GraphQL playground on a browser GET of `/graphql`; off in production.
    pub playground: bool,
    /// Answer introspection and suggest field names in errors; off in production.
    /// `_service { sdl }` (federation) is answered either way.
    pub introspection: bool,
    /// Publish `CareListing @interfaceObject` (the provider behind every listing of a bookings
    /// subgraph). Off by default: switched on, the subgraph composes only beside a subgraph that
    /// owns `interface CareListing @key(fields: "id")`.
    pub care_listing_interface_object: bool,
    /// Browser origins allowed to call `/graphql` (CORS); `*` allows any; empty sends no
    /// CORS headers. In the environment: `CAREMATCH_CORS_ALLOWED_ORIGINS='[https://a, https://b]'`.
    pub cors_allowed_origins: Vec<String>,
    /// Shared secret the router sends in `x-router-secret`; when set, `/graphql` requires it.
    pub router_secret: Option<Secret>,
    /// Deadline for executing one request, in milliseconds.
    pub request_timeout_ms: u64,
    /// How long a client may take to send a request's head (request line and headers), in
    /// milliseconds; the connection is closed past it. An idle keep-alive connection is closed
    /// after the same time.
    pub header_read_timeout_ms: u64,
    /// How long a client may take to send a request's body once its head is read, in
    /// milliseconds (HTTP 408 past it).
    pub body_read_timeout_ms: u64,
    /// Automatic persisted queries kept in memory per replica (least recently used go first).
    pub persisted_queries_capacity: usize,
    /// After SIGTERM, how long in-flight requests may run before the process stops anyway.
    pub shutdown_grace_seconds: u64,
    /// After SIGTERM, how long to keep serving with readiness false before closing the
    /// listener, so the router and the platform stop sending traffic first.
    pub shutdown_delay_seconds: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            playground: true,
            introspection: true,
            care_listing_interface_object: false,
            cors_allowed_origins: vec![
                "http://localhost:3000".into(),
                "http://localhost:5173".into(),
            ],
            router_secret: None,
            request_timeout_ms: 15_000,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            persisted_queries_capacity: 1_000,
            shutdown_grace_seconds: 20,
            shutdown_delay_seconds: 0,
        }
    }
}

impl ServerSettings {
    /// Checks the section and returns the address to listen on.
    pub(super) fn check(&self) -> Result<SocketAddr, ConfigError> {
        let listen =
            self.listen
                .parse::<SocketAddr>()
                .map_err(|_| ConfigError::InvalidSetting {
                    setting: "CAREMATCH_LISTEN",
                    problem: format!(
                        "`{}` is not an address and port like 127.0.0.1:8080",
                        self.listen
                    ),
                })?;
        at_least_one("CAREMATCH_REQUEST_TIMEOUT_MS", self.request_timeout_ms)?;
        at_least_one(
            "CAREMATCH_HEADER_READ_TIMEOUT_MS",
            self.header_read_timeout_ms,
        )?;
        at_least_one("CAREMATCH_BODY_READ_TIMEOUT_MS", self.body_read_timeout_ms)?;
        if let Some(secret) = &self.router_secret
            && secret.expose().len() < 16
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_ROUTER_SECRET",
                problem: "must be at least 16 characters".into(),
            });
        }
        refuse_placeholder(
            "CAREMATCH_ROUTER_SECRET",
            self.router_secret.as_ref().map(Secret::expose),
        )?;
        Ok(listen)
    }

    /// For the start-up log: the router secret hidden.
    pub(super) fn redacted(&self) -> serde_json::Value {
        let mut redacted = serde_json::json!(self);
        redacted["router_secret"] =
            serde_json::json!(self.router_secret.as_ref().map(|_| "[redacted]"));
        redacted
    }
}
