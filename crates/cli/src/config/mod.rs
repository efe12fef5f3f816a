//! All of carematch's settings, in one place.
//!
//! Precedence, lowest first: built-in defaults < the TOML file (`carematch.toml` in the working
//! directory, or `--config PATH`) < environment variables `CAREMATCH_<SETTING>`. A bad value
//! stops start-up with a message naming the setting. Secrets live in [`Secret`], which never
//! prints its value, so the effective configuration can be logged at start.
//!
//! The settings come in sections (server, query limits, database, cache, index, match log,
//! auth, logs, ranking), each a struct in its own file that checks itself and converts into
//! what its crate takes. The file and the environment stay flat (`database_url`,
//! `CAREMATCH_DATABASE_URL`): every section is read from the same flat keys, so a field is
//! named by its full key. serde's `flatten` would keep one struct but loses figment's key
//! paths, and with them the setting an error names.

mod auth;
mod cache;
mod database;
mod index;
mod limits;
mod logging;
mod match_log;
mod server;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use carematch_matching::RankingConfig;
use figment::Figment;
use figment::error::Kind;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::Dict;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use auth::AuthSettings;
pub use cache::CacheSettings;
pub use database::DatabaseSettings;
pub use index::IndexSettings;
pub use limits::QueryLimitSettings;
pub use logging::{LogFormat, LogSettings};
pub use match_log::MatchLogSettings;
pub use server::ServerSettings;

/// The default configuration file, read when present in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "carematch.toml";

/// Every key of the file (the environment name is `CAREMATCH_` + the key in upper case), in
/// the order an unknown key's error lists them. The sections read exactly these (a test
/// checks it).
const SETTING_KEYS: [&str; 46] = [
    "listen",
    "database_url",
    "redis_url",
    "index_dir",
    "jwt_secret",
    "jwt_public_key_file",
    "jwt_issuer",
    "jwt_audience",
    "jwt_max_lifetime_seconds",
    "seed_demo",
    "seed_demo_seed",
    "log_format",
    "log_filter",
    "playground",
    "introspection",
    "care_listing_interface_object",
    "cors_allowed_origins",
    "router_secret",
    "max_query_depth",
    "max_query_complexity",
    "max_aliases",
    "max_root_fields",
    "max_directives_per_field",
    "max_request_body_bytes",
    "max_query_bytes",
    "request_timeout_ms",
    "header_read_timeout_ms",
    "body_read_timeout_ms",
    "persisted_queries_capacity",
    "database_max_connections",
    "database_connect_timeout_ms",
    "database_acquire_timeout_ms",
    "database_idle_timeout_seconds",
    "database_max_lifetime_seconds",
    "shutdown_grace_seconds",
    "shutdown_delay_seconds",
    "match_log_retention_days",
    "redis_key_prefix",
    "redis_command_timeout_ms",
    "redis_connect_timeout_ms",
    "redis_breaker_failures",
    "redis_breaker_open_ms",
    "cache_ttl_seconds",
    "cache_capacity_mb",
    "catch_up_interval_ms",
    "ranking",
];

/// Every setting the service reads, by section.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub server: ServerSettings,
    pub limits: QueryLimitSettings,
    pub database: DatabaseSettings,
    pub cache: CacheSettings,
    pub index: IndexSettings,
    pub match_log: MatchLogSettings,
    pub auth: AuthSettings,
    pub logging: LogSettings,
    /// Ranking weights and scores (the `[ranking]` table of the file); see `RankingConfig`.
    pub ranking: RankingConfig,
}

/// The `[ranking]` table, read from the flat keys like the other sections.
#[derive(Default, Serialize, Deserialize)]
struct RankingSection {
    ranking: RankingConfig,
}

impl Settings {
    /// Every section's defaults, the lowest layer.
    fn defaults() -> Figment {
        Figment::new()
            .merge(Serialized::defaults(ServerSettings::default()))
            .merge(Serialized::defaults(QueryLimitSettings::default()))
            .merge(Serialized::defaults(DatabaseSettings::default()))
            .merge(Serialized::defaults(CacheSettings::default()))
            .merge(Serialized::defaults(IndexSettings::default()))
            .merge(Serialized::defaults(MatchLogSettings::default()))
            .merge(Serialized::defaults(AuthSettings::default()))
            .merge(Serialized::defaults(LogSettings::default()))
            .merge(Serialized::defaults(RankingSection::default()))
    }

    /// Reads every section from the merged layers, refusing keys no section reads.
    fn extract(figment: &Figment) -> Result<Settings, ConfigError> {
        let mut first_error = FirstError::default();
        let settings = Settings {
            server: first_error.section(figment),
            limits: first_error.section(figment),
            database: first_error.section(figment),
            cache: first_error.section(figment),
            index: first_error.section(figment),
            match_log: first_error.section(figment),
            auth: first_error.section(figment),
            logging: first_error.section(figment),
            ranking: first_error.section::<RankingSection>(figment).ranking,
        };
        first_error.refuse_unknown_keys(figment);
        match first_error.0 {
            Some(error) => Err(ConfigError::Invalid(describe_figment_error(&error))),
            None => Ok(settings),
        }
    }
}

/// The error a single struct of every key would have reported: serde reads keys in order
/// (figment's are sorted) and stops at the first bad one, so of the sections' errors the one
/// whose key sorts first is reported.
#[derive(Default)]
struct FirstError(Option<figment::Error>);

impl FirstError {
    /// The section read from `figment`, or its defaults when it could not be (the error kept).
    fn section<T: DeserializeOwned + Default>(&mut self, figment: &Figment) -> T {
        figment.extract().unwrap_or_else(|error| {
            self.keep(error);
            T::default()
        })
    }

    fn refuse_unknown_keys(&mut self, figment: &Figment) {
        // When the layers cannot be read at all, the sections already kept that error.
        let Ok(keys) = figment.extract::<Dict>() else {
            return;
        };
        for key in keys.into_keys() {
            if !SETTING_KEYS.contains(&key.as_str()) {
                let mut error =
                    figment::Error::from(Kind::UnknownField(key.clone(), &SETTING_KEYS));
                error.path = vec![key];
                self.keep(error);
            }
        }
    }

    fn keep(&mut self, error: figment::Error) {
        if self
            .0
            .as_ref()
            .is_none_or(|kept| error.path.first() < kept.path.first())
        {
            self.0 = Some(error);
        }
    }
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

/// Refuses 0 for a count or a duration that must be at least 1.
fn at_least_one(setting: &'static str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::InvalidSetting {
            setting,
            problem: "must be at least 1".into(),
        });
    }
    Ok(())
}

/// Refuses 0 for a duration or a count that must be positive.
fn more_than_zero(setting: &'static str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::InvalidSetting {
            setting,
            problem: "must be more than 0".into(),
        });
    }
    Ok(())
}

/// The mark of the example values in deploy/k8s/secret.yaml (`CHANGE-ME`): a replica started
/// with them would run with secrets everyone can read, so start-up stops instead.
const PLACEHOLDER_MARK: &str = "change-me";

/// Refuses a secret that still holds the shipped placeholder (any case), naming its setting.
fn refuse_placeholder(setting: &'static str, value: Option<&str>) -> Result<(), ConfigError> {
    if value.is_some_and(|value| value.to_ascii_lowercase().contains(PLACEHOLDER_MARK)) {
        return Err(ConfigError::InvalidSetting {
            setting,
            problem: "still holds the CHANGE-ME placeholder of the example Secret; \
                      set a real value"
                .into(),
        });
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
        let mut figment = Settings::defaults();
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
        let settings = Settings::extract(&figment.merge(environment))?;
        Self::check(settings)
    }

    /// Each section checks its own values; the server's gives the address to listen on.
    fn check(settings: Settings) -> Result<Self, ConfigError> {
        let listen = settings.server.check()?;
        settings.database.check()?;
        settings.cache.check()?;
        settings.match_log.check()?;
        settings.limits.check()?;
        settings.auth.check()?;
        settings.index.check()?;
        settings
            .ranking
            .validate()
            .map_err(|error| ConfigError::InvalidSetting {
                setting: "ranking",
                problem: error.to_string(),
            })?;
        Ok(Self { settings, listen })
    }

    /// The effective configuration for the start-up log: secrets and database passwords hidden.
    pub fn redacted(&self) -> serde_json::Value {
        let settings = &self.settings;
        let mut redacted = serde_json::Map::new();
        for section in [
            settings.server.redacted(),
            serde_json::json!(settings.limits),
            settings.database.redacted(),
            settings.cache.redacted(),
            serde_json::json!(settings.index),
            serde_json::json!(settings.match_log),
            settings.auth.redacted(),
            serde_json::json!(settings.logging),
            serde_json::json!({ "ranking": settings.ranking }),
        ] {
            if let serde_json::Value::Object(keys) = section {
                redacted.extend(keys);
            }
        }
        redacted.insert("listen".into(), self.listen.to_string().into());
        serde_json::Value::Object(redacted)
    }
}

/// Every setting's key (the TOML key; the environment name is `CAREMATCH_` + it in upper
/// case): docs/operations.md must list exactly these.
pub fn setting_names() -> Vec<String> {
    SETTING_KEYS.iter().map(|key| (*key).to_owned()).collect()
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
