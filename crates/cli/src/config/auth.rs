//! Admin authentication settings: the keys admin tokens are checked with, and what a token
//! must say.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, more_than_zero, refuse_placeholder};

/// Keys are the file's keys; the environment name is `CAREMATCH_` + the key in upper case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthSettings {
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
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_max_lifetime_seconds: carematch_api::DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
        }
    }
}

impl AuthSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if let Some(secret) = &self.jwt_secret
            && secret.expose().len() < 32
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_JWT_SECRET",
                problem: "must be at least 32 characters".into(),
            });
        }
        more_than_zero(
            "CAREMATCH_JWT_MAX_LIFETIME_SECONDS",
            self.jwt_max_lifetime_seconds,
        )?;
        refuse_placeholder(
            "CAREMATCH_JWT_SECRET",
            self.jwt_secret.as_ref().map(Secret::expose),
        )?;
        if let Some(path) = &self.jwt_public_key_file
            && !path.exists()
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_JWT_PUBLIC_KEY_FILE",
                problem: format!("{} does not exist", path.display()),
            });
        }
        Ok(())
    }

    /// For the start-up log: the HS256 secret hidden.
    pub(super) fn redacted(&self) -> serde_json::Value {
        let mut redacted = serde_json::json!(self);
        redacted["jwt_secret"] = serde_json::json!(self.jwt_secret.as_ref().map(|_| "[redacted]"));
        redacted
    }
}
