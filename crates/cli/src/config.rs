//! All of carematch's settings, in one place.
//!
//! Precedence, lowest first: built-in defaults < the TOML file (`carematch.toml` in the working
//! directory, or `--config PATH`) < environment variables `CAREMATCH_<SETTING>`. A bad value
//! stops start-up with a message naming the setting. Secrets live in [`Secret`], which never
//! prints its value, so the effective configuration can be logged at start.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use carematch_matching::RankingConfig;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The default configuration file, read when present in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "carematch.toml";

/// Every setting the service reads. Field names are the TOML keys; the environment name is
/// `CAREMATCH_` + the name in upper case (`database_url` -> `CAREMATCH_DATABASE_URL`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: String,
    /// SQLite (`sqlite://path?mode=rwc`) or PostgreSQL (`postgres://...`) URL.
    pub database_url: String,
    /// Redis URL for the shared cache; unset means an in-process cache.
    pub redis_url: Option<Secret>,
    /// Where the local search index lives.
    pub index_dir: PathBuf,
    /// HS256 secret for admin tokens (at least 32 characters).
    pub jwt_secret: Option<Secret>,
    /// PEM file of an RSA public key, to accept RS256 admin tokens from an identity provider.
    pub jwt_public_key_file: Option<PathBuf>,
    /// Required `iss` of admin tokens, when set.
    pub jwt_issuer: Option<String>,
    /// Required `aud` of admin tokens, when set.
    pub jwt_audience: Option<String>,
    /// Admin tokens whose `exp` is further away than this many seconds are refused (a leaked
    /// token must not work for years); `carematch token --ttl` cannot mint longer ones.
    pub jwt_max_lifetime_seconds: u64,
    /// How many demo providers to seed when the database is empty; 0 turns seeding off.
    pub seed_demo: u64,
    /// The generator seed for demo data, so every replica seeds the same providers.
    pub seed_demo_seed: u64,
    /// Log format: `json`, `text`, or `auto` (text on a terminal, JSON otherwise).
    pub log_format: LogFormat,
    /// Log filter in `tracing` env-filter syntax.
    pub log_filter: String,
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
    /// Deepest selection nesting a query may have.
    pub max_query_depth: usize,
    /// Highest query cost (one per field; `matchProviders` costs `first` times its selection).
    pub max_query_complexity: usize,
    /// Aliases per query, fragments expanded.
    pub max_aliases: usize,
    /// Root fields per operation, `__typename` included.
    pub max_root_fields: usize,
    /// Directives on one field.
    pub max_directives_per_field: usize,
    /// Bytes of a POST body (HTTP 413 beyond).
    pub max_request_body_bytes: usize,
    /// Bytes of the query text.
    pub max_query_bytes: usize,
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
    /// Maximum database connections in the pool.
    pub database_max_connections: u32,
    /// How long opening one database connection may take, in milliseconds.
    pub database_connect_timeout_ms: u64,
    /// How long a request waits for a free pooled connection, in milliseconds, before it fails
    /// as unavailable (instead of queueing without end while the database is down).
    pub database_acquire_timeout_ms: u64,
    /// Idle pooled connections are closed after this many seconds; 0 keeps them.
    pub database_idle_timeout_seconds: u64,
    /// Pooled connections are replaced after this many seconds; 0 keeps them.
    pub database_max_lifetime_seconds: u64,
    /// After SIGTERM, how long in-flight requests may run before the process stops anyway.
    pub shutdown_grace_seconds: u64,
    /// After SIGTERM, how long to keep serving with readiness false before closing the
    /// listener, so the router and the platform stop sending traffic first.
    pub shutdown_delay_seconds: u64,
    /// Days match logs are kept: `carematch logs prune` deletes the weeks that started
    /// earlier (see docs/analysts.md).
    pub match_log_retention_days: u32,
    /// Put in front of every redis key and channel, so deployments can share a redis server.
    pub redis_key_prefix: String,
    /// The deadline of one redis command, reconnection included; a request waits no longer.
    pub redis_command_timeout_ms: u64,
    /// The deadline of opening a redis connection.
    pub redis_connect_timeout_ms: u64,
    /// Redis failures in a row that open the circuit breaker (requests then skip redis).
    pub redis_breaker_failures: u32,
    /// How long an open breaker skips redis before one probe call.
    pub redis_breaker_open_ms: u64,
    /// How long a ranked list stays cached (in process and in redis).
    pub cache_ttl_seconds: u64,
    /// Megabytes of ranked lists cached in this process.
    pub cache_capacity_mb: u64,
    /// How often the index catches up with the database (repairs change events lost while
    /// redis was unreachable, and picks up imports written by `carematch import`).
    pub catch_up_interval_ms: u64,
    /// Ranking weights and scores (the `[ranking]` table of the file); see `RankingConfig`.
    pub ranking: RankingConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://data/carematch.db?mode=rwc".into(),
            redis_url: None,
            index_dir: PathBuf::from("data/index"),
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_max_lifetime_seconds: carematch_api::DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
            seed_demo: 5_000,
            seed_demo_seed: 42,
            log_format: LogFormat::Auto,
            log_filter: "info".into(),
            playground: true,
            introspection: true,
            care_listing_interface_object: false,
            cors_allowed_origins: vec![
                "http://localhost:3000".into(),
                "http://localhost:5173".into(),
            ],
            router_secret: None,
            max_query_depth: 15,
            max_query_complexity: 5_000,
            max_aliases: 30,
            max_root_fields: 10,
            max_directives_per_field: 5,
            max_request_body_bytes: 256 * 1024,
            max_query_bytes: 32 * 1024,
            request_timeout_ms: 15_000,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            persisted_queries_capacity: 1_000,
            database_max_connections: 10,
            database_connect_timeout_ms: 5_000,
            database_acquire_timeout_ms: 5_000,
            database_idle_timeout_seconds: 600,
            database_max_lifetime_seconds: 1_800,
            shutdown_grace_seconds: 20,
            shutdown_delay_seconds: 0,
            match_log_retention_days: 180,
            redis_key_prefix: "carematch:".into(),
            redis_command_timeout_ms: 100,
            redis_connect_timeout_ms: 500,
            redis_breaker_failures: 3,
            redis_breaker_open_ms: 5_000,
            cache_ttl_seconds: 300,
            cache_capacity_mb: 64,
            catch_up_interval_ms: 5_000,
            ranking: RankingConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
    Auto,
}

/// A secret value: deserialized like a string, printed as `[redacted]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A setting that could not be used, named as the operator wrote it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: not found")]
    MissingFile { path: PathBuf },
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("invalid setting {setting}: {problem}")]
    InvalidSetting {
        setting: &'static str,
        problem: String,
    },
}

/// The mark of the example values in deploy/k8s/secret.yaml (`CHANGE-ME`): a replica started
/// with them would run with secrets everyone can read, so start-up stops instead.
const PLACEHOLDER_MARK: &str = "change-me";

/// Refuses a secret that still holds the shipped placeholder (any case), naming its setting.
fn refuse_placeholder_secrets(settings: &Settings) -> Result<(), ConfigError> {
    let secrets = [
        (
            "CAREMATCH_DATABASE_URL",
            Some(settings.database_url.as_str()),
        ),
        (
            "CAREMATCH_REDIS_URL",
            settings.redis_url.as_ref().map(Secret::expose),
        ),
        (
            "CAREMATCH_JWT_SECRET",
            settings.jwt_secret.as_ref().map(Secret::expose),
        ),
        (
            "CAREMATCH_ROUTER_SECRET",
            settings.router_secret.as_ref().map(Secret::expose),
        ),
    ];
    for (setting, value) in secrets {
        if value.is_some_and(|value| value.to_ascii_lowercase().contains(PLACEHOLDER_MARK)) {
            return Err(ConfigError::InvalidSetting {
                setting,
                problem: "still holds the CHANGE-ME placeholder of the example Secret; \
                          set a real value"
                    .into(),
            });
        }
    }
    Ok(())
}

/// Settings after their values were checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub listen: SocketAddr,
}

impl Config {
    /// Loads defaults < file < environment. `explicit_file` must exist; the default file is
    /// read only when present.
    pub fn load(explicit_file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(explicit_file, Env::prefixed("CAREMATCH_"))
    }

    fn load_from(explicit_file: Option<&Path>, environment: Env) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match explicit_file {
            Some(path) if !path.exists() => {
                return Err(ConfigError::MissingFile {
                    path: path.to_owned(),
                });
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                figment = figment.merge(Toml::file(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        let settings: Settings = figment
            .merge(environment)
            .extract()
            .map_err(|error| ConfigError::Invalid(describe_figment_error(&error)))?;
        Self::check(settings)
    }

    fn check(settings: Settings) -> Result<Self, ConfigError> {
        let listen =
            settings
                .listen
                .parse::<SocketAddr>()
                .map_err(|_| ConfigError::InvalidSetting {
                    setting: "CAREMATCH_LISTEN",
                    problem: format!(
                        "`{}` is not an address and port like 127.0.0.1:8080",
                        settings.listen
                    ),
                })?;
        let url = settings.database_url.as_str();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_DATABASE_URL",
                problem: "must start with sqlite:, postgres:// or postgresql://".into(),
            });
        }
        if let Some(redis_url) = &settings.redis_url
            && !(redis_url.expose().starts_with("redis://")
                || redis_url.expose().starts_with("rediss://"))
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_REDIS_URL",
                problem: "must start with redis:// or rediss://".into(),
            });
        }
        if settings.match_log_retention_days == 0 {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_MATCH_LOG_RETENTION_DAYS",
                problem: "must be at least 1".into(),
            });
        }
        if settings.match_log_retention_days == 0 {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_MATCH_LOG_RETENTION_DAYS",
                problem: "must be at least 1".into(),
            });
        }
        if settings.database_max_connections == 0 {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_DATABASE_MAX_CONNECTIONS",
                problem: "must be at least 1".into(),
            });
        }
        for (setting, value) in [
            ("CAREMATCH_MAX_QUERY_DEPTH", settings.max_query_depth),
            (
                "CAREMATCH_MAX_QUERY_COMPLEXITY",
                settings.max_query_complexity,
            ),
            ("CAREMATCH_MAX_ROOT_FIELDS", settings.max_root_fields),
            (
                "CAREMATCH_MAX_REQUEST_BODY_BYTES",
                settings.max_request_body_bytes,
            ),
            ("CAREMATCH_MAX_QUERY_BYTES", settings.max_query_bytes),
        ] {
            if value == 0 {
                return Err(ConfigError::InvalidSetting {
                    setting,
                    problem: "must be at least 1".into(),
                });
            }
        }
        for (setting, value) in [
            (
                "CAREMATCH_DATABASE_CONNECT_TIMEOUT_MS",
                settings.database_connect_timeout_ms,
            ),
            (
                "CAREMATCH_DATABASE_ACQUIRE_TIMEOUT_MS",
                settings.database_acquire_timeout_ms,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::InvalidSetting {
                    setting,
                    problem: "must be at least 1".into(),
                });
            }
        }
        for (setting, value) in [
            ("CAREMATCH_REQUEST_TIMEOUT_MS", settings.request_timeout_ms),
            (
                "CAREMATCH_HEADER_READ_TIMEOUT_MS",
                settings.header_read_timeout_ms,
            ),
            (
                "CAREMATCH_BODY_READ_TIMEOUT_MS",
                settings.body_read_timeout_ms,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::InvalidSetting {
                    setting,
                    problem: "must be at least 1".into(),
                });
            }
        }
        if let Some(secret) = &settings.router_secret
            && secret.expose().len() < 16
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_ROUTER_SECRET",
                problem: "must be at least 16 characters".into(),
            });
        }
        if let Some(secret) = &settings.jwt_secret
            && secret.expose().len() < 32
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_JWT_SECRET",
                problem: "must be at least 32 characters".into(),
            });
        }
        for (setting, value) in [
            (
                "CAREMATCH_REDIS_COMMAND_TIMEOUT_MS",
                settings.redis_command_timeout_ms,
            ),
            (
                "CAREMATCH_REDIS_CONNECT_TIMEOUT_MS",
                settings.redis_connect_timeout_ms,
            ),
            (
                "CAREMATCH_REDIS_BREAKER_FAILURES",
                u64::from(settings.redis_breaker_failures),
            ),
            ("CAREMATCH_CACHE_TTL_SECONDS", settings.cache_ttl_seconds),
            (
                "CAREMATCH_JWT_MAX_LIFETIME_SECONDS",
                settings.jwt_max_lifetime_seconds,
            ),
            (
                "CAREMATCH_CATCH_UP_INTERVAL_MS",
                settings.catch_up_interval_ms,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::InvalidSetting {
                    setting,
                    problem: "must be more than 0".into(),
                });
            }
        }
        settings
            .ranking
            .validate()
            .map_err(|error| ConfigError::InvalidSetting {
                setting: "ranking",
                problem: error.to_string(),
            })?;
        refuse_placeholder_secrets(&settings)?;
        if let Some(path) = &settings.jwt_public_key_file
            && !path.exists()
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_JWT_PUBLIC_KEY_FILE",
                problem: format!("{} does not exist", path.display()),
            });
        }
        Ok(Self { settings, listen })
    }

    /// The effective configuration for the start-up log: secrets and database passwords hidden.
    pub fn redacted(&self) -> serde_json::Value {
        let settings = &self.settings;
        let mut redacted = serde_json::json!({
            "listen": self.listen.to_string(),
            "database_url": redact_url_password(&settings.database_url),
            "redis_url": settings.redis_url.as_ref().map(|_| "[redacted]"),
            "index_dir": settings.index_dir,
            "jwt_secret": settings.jwt_secret.as_ref().map(|_| "[redacted]"),
            "jwt_public_key_file": settings.jwt_public_key_file,
            "jwt_issuer": settings.jwt_issuer,
            "jwt_audience": settings.jwt_audience,
            "ranking": settings.ranking,
            "seed_demo": settings.seed_demo,
            "seed_demo_seed": settings.seed_demo_seed,
            "log_format": settings.log_format,
            "log_filter": settings.log_filter,
            "playground": settings.playground,
            "introspection": settings.introspection,
            "care_listing_interface_object": settings.care_listing_interface_object,
            "cors_allowed_origins": settings.cors_allowed_origins,
            "router_secret": settings.router_secret.as_ref().map(|_| "[redacted]"),
            "max_query_depth": settings.max_query_depth,
            "max_query_complexity": settings.max_query_complexity,
            "max_aliases": settings.max_aliases,
            "max_root_fields": settings.max_root_fields,
            "max_directives_per_field": settings.max_directives_per_field,
            "max_request_body_bytes": settings.max_request_body_bytes,
            "max_query_bytes": settings.max_query_bytes,
            "request_timeout_ms": settings.request_timeout_ms,
            "persisted_queries_capacity": settings.persisted_queries_capacity,
            "database_max_connections": settings.database_max_connections,
            "match_log_retention_days": settings.match_log_retention_days,
            "redis_key_prefix": settings.redis_key_prefix,
            "redis_command_timeout_ms": settings.redis_command_timeout_ms,
            "redis_connect_timeout_ms": settings.redis_connect_timeout_ms,
            "redis_breaker_failures": settings.redis_breaker_failures,
            "redis_breaker_open_ms": settings.redis_breaker_open_ms,
            "cache_ttl_seconds": settings.cache_ttl_seconds,
            "cache_capacity_mb": settings.cache_capacity_mb,
            "catch_up_interval_ms": settings.catch_up_interval_ms,
        });
        // Plain numbers, added apart: one `json!` of every setting passes its macro
        // recursion limit.
        for (key, value) in [
            (
                "database_connect_timeout_ms",
                settings.database_connect_timeout_ms,
            ),
            (
                "database_acquire_timeout_ms",
                settings.database_acquire_timeout_ms,
            ),
            (
                "database_idle_timeout_seconds",
                settings.database_idle_timeout_seconds,
            ),
            (
                "database_max_lifetime_seconds",
                settings.database_max_lifetime_seconds,
            ),
            ("header_read_timeout_ms", settings.header_read_timeout_ms),
            ("body_read_timeout_ms", settings.body_read_timeout_ms),
            ("shutdown_grace_seconds", settings.shutdown_grace_seconds),
            ("shutdown_delay_seconds", settings.shutdown_delay_seconds),
            (
                "jwt_max_lifetime_seconds",
                settings.jwt_max_lifetime_seconds,
            ),
        ] {
            redacted[key] = serde_json::Value::from(value);
        }
        redacted
    }
}

/// Every setting's key (the TOML key; the environment name is `CAREMATCH_` + it in upper
/// case), in declaration order: docs/operations.md must list exactly these.
pub fn setting_names() -> Vec<String> {
    match serde_json::to_value(Settings::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Names the setting by its environment name, which is how operators set it in containers.
fn describe_figment_error(error: &figment::Error) -> String {
    let mut messages = Vec::new();
    for error in error.clone() {
        let setting = error
            .path
            .first()
            .map(|key| format!("CAREMATCH_{} ({key})", key.to_uppercase()))
            .unwrap_or_else(|| "configuration".into());
        messages.push(format!("{setting}: {}", error.kind));
    }
    messages.join("; ")
}

fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:[redacted]@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
// figment's Jail returns its large error type by design.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_the_embedded_setup() {
        let config = Config::check(Settings::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(config.settings.database_url.starts_with("sqlite:"));
        assert_eq!(config.settings.seed_demo, 5_000);
        assert!(config.settings.redis_url.is_none());
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("custom.toml", "listen = \"0.0.0.0:9000\"\nseed_demo = 10\n")?;
            jail.set_env("CAREMATCH_SEED_DEMO", "0");
            let config = Config::load(Some(Path::new("custom.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
            assert_eq!(config.settings.seed_demo, 0);
            Ok(())
        });
    }

    #[test]
    fn a_bad_setting_names_its_environment_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CAREMATCH_LISTEN", "not an address");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("CAREMATCH_LISTEN"), "{error}");
            jail.set_env("CAREMATCH_LISTEN", "127.0.0.1:0");
            jail.set_env("CAREMATCH_SEED_DEMO", "many");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("CAREMATCH_SEED_DEMO"), "{error}");
            jail.set_env("CAREMATCH_SEED_DEMO", "1");
            jail.set_env("CAREMATCH_DATABASE_URL", "mysql://x");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("CAREMATCH_DATABASE_URL"), "{error}");
            jail.set_env("CAREMATCH_DATABASE_URL", "sqlite::memory:");
            jail.set_env("CAREMATCH_JWT_SECRET", "short");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("CAREMATCH_JWT_SECRET"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn api_settings_come_from_the_environment_and_the_router_secret_is_redacted() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "CAREMATCH_CORS_ALLOWED_ORIGINS",
                "[https://app.example.org, http://localhost:3000]",
            );
            jail.set_env("CAREMATCH_ROUTER_SECRET", "router-secret-0123456789");
            jail.set_env("CAREMATCH_INTROSPECTION", "false");
            jail.set_env("CAREMATCH_MAX_QUERY_DEPTH", "9");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            let settings = &config.settings;
            assert_eq!(
                settings.cors_allowed_origins,
                ["https://app.example.org", "http://localhost:3000"]
            );
            assert!(!settings.introspection);
            assert_eq!(settings.max_query_depth, 9);
            assert!(!config.redacted().to_string().contains("router-secret"));
            jail.set_env("CAREMATCH_ROUTER_SECRET", "short");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("CAREMATCH_ROUTER_SECRET"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn every_setting_is_in_the_redacted_configuration() {
        let config = Config::check(Settings::default()).unwrap();
        let redacted = config.redacted();
        for name in setting_names() {
            assert!(
                redacted.get(&name).is_some(),
                "{name} is not logged at start"
            );
        }
        assert!(setting_names().contains(&"shutdown_grace_seconds".to_owned()));
    }

    #[test]
    fn pool_and_shutdown_settings_come_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CAREMATCH_SHUTDOWN_GRACE_SECONDS", "7");
            jail.set_env("CAREMATCH_DATABASE_ACQUIRE_TIMEOUT_MS", "250");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.settings.shutdown_grace_seconds, 7);
            assert_eq!(config.settings.database_acquire_timeout_ms, 250);
            jail.set_env("CAREMATCH_DATABASE_ACQUIRE_TIMEOUT_MS", "0");
            let error = Config::load(None).unwrap_err().to_string();
            assert!(
                error.contains("CAREMATCH_DATABASE_ACQUIRE_TIMEOUT_MS"),
                "{error}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_placeholder_secret_stops_start_up_naming_the_setting() {
        let placeholder = |setting: &str| {
            let mut settings = Settings::default();
            match setting {
                "CAREMATCH_DATABASE_URL" => {
                    settings.database_url = "postgres://carematch:Change-Me@db:5432/c".into();
                }
                "CAREMATCH_REDIS_URL" => {
                    settings.redis_url = Some(Secret("redis://:CHANGE-ME@redis:6379".into()));
                }
                "CAREMATCH_JWT_SECRET" => {
                    settings.jwt_secret = Some(Secret(format!("CHANGE-ME-{}", "x".repeat(32))));
                }
                _ => settings.router_secret = Some(Secret("change-me-16-or-more".into())),
            }
            Config::check(settings).unwrap_err().to_string()
        };
        for setting in [
            "CAREMATCH_DATABASE_URL",
            "CAREMATCH_REDIS_URL",
            "CAREMATCH_JWT_SECRET",
            "CAREMATCH_ROUTER_SECRET",
        ] {
            let error = placeholder(setting);
            assert!(error.contains(setting), "{error}");
        }
        let real = Settings {
            router_secret: Some(Secret("a-real-router-secret".into())),
            jwt_secret: Some(Secret("r".repeat(40))),
            ..Settings::default()
        };
        Config::check(real).unwrap();
    }

    #[test]
    fn an_unknown_key_in_the_file_is_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("carematch.toml", "lisen = \"0.0.0.0:9000\"\n")?;
            let error = Config::load(None).unwrap_err().to_string();
            assert!(error.contains("lisen"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let error = Config::load(Some(Path::new("/nonexistent/carematch.toml"))).unwrap_err();
        assert!(matches!(error, ConfigError::MissingFile { .. }));
    }

    #[test]
    fn secrets_and_database_passwords_are_redacted() {
        let settings = Settings {
            jwt_secret: Some(Secret("s".repeat(40))),
            database_url: "postgres://carematch:hunter2@db:5432/carematch".into(),
            ..Settings::default()
        };
        let config = Config::check(settings).unwrap();
        let text = config.redacted().to_string();
        assert!(
            !text.contains("hunter2") && !text.contains(&"s".repeat(40)),
            "{text}"
        );
        assert!(text.contains("postgres://carematch:[redacted]@db:5432/carematch"));
        assert_eq!(
            format!("{:?}", config.settings.jwt_secret),
            "Some([redacted])"
        );
    }
}
