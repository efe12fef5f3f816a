//! Admin authentication: `Authorization: Bearer <JWT>` checked by the subgraph itself, never
//! trusted from the gateway. A fixed algorithm list (HS256 with a shared secret, RS256 with a
//! public key), `exp` required and no further away than the configured maximum lifetime, `nbf`
//! checked when present, issuer and audience checked when configured, `role: "admin"`.

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};

/// The longest a token may still live when it is checked, unless configured otherwise: a day.
pub const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS: u64 = 86_400;

/// Clock skew allowed between the token's issuer and this replica, for `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

/// How tokens are checked; built from configuration.
#[derive(Clone)]
pub struct AuthConfig {
    pub hs256_secret: Option<String>,
    pub rs256_public_key_pem: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// A token whose `exp` is further away than this is refused: a leaked token must not work
    /// for years (`exp = 2^64 - 1` was accepted before this rule).
    pub max_token_lifetime_seconds: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            hs256_secret: None,
            rs256_public_key_pem: None,
            issuer: None,
            audience: None,
            max_token_lifetime_seconds: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
        }
    }
}

/// Why a request is not allowed to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("an admin bearer token is required")]
    MissingToken,
    #[error("the bearer token is not valid: {0}")]
    InvalidToken(&'static str),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token lives longer than the {max_seconds} s this service accepts")]
    LivesTooLong { max_seconds: u64 },
    #[error("the token does not carry the admin role")]
    NotAdmin,
    #[error("admin writes are disabled: no token key is configured")]
    NotConfigured,
}

impl AuthError {
    /// `FORBIDDEN` when she is who she says but may not do this, else `UNAUTHENTICATED`.
    pub fn code(&self) -> carematch_domain::ErrorCode {
        match self {
            AuthError::NotAdmin => carematch_domain::ErrorCode::Forbidden,
            _ => carematch_domain::ErrorCode::Unauthenticated,
        }
    }
}

impl carematch_domain::HasErrorCode for AuthError {
    fn code(&self) -> carematch_domain::ErrorCode {
        AuthError::code(self)
    }
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    role: Option<String>,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
}

/// Who made an admin write, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub subject: String,
}

#[derive(Clone)]
pub struct Authenticator {
    config: AuthConfig,
    rs256_key: Option<DecodingKey>,
}

impl Authenticator {
    /// Fails when the configured RS256 public key is not a PEM RSA key.
    pub fn new(config: AuthConfig) -> Result<Self, String> {
        let rs256_key = config
            .rs256_public_key_pem
            .as_deref()
            .map(|pem| DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|error| error.to_string()))
            .transpose()?;
        Ok(Self { config, rs256_key })
    }

    /// Checks the `Authorization` header value and that the token carries the admin role.
    pub fn require_admin(&self, authorization: Option<&str>) -> Result<Admin, AuthError> {
        let token = authorization
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(AuthError::MissingToken)?;
        // The header is read only to pick a key from the fixed list; `none` and every other
        // algorithm fail here or at the match below.
        let header = decode_header(token).map_err(|_| AuthError::InvalidToken("malformed"))?;
        let key = match header.alg {
            Algorithm::HS256 => DecodingKey::from_secret(
                self.config
                    .hs256_secret
                    .as_deref()
                    .ok_or(AuthError::NotConfigured)?
                    .as_bytes(),
            ),
            Algorithm::RS256 => self
                .rs256_key
                .clone()
                .ok_or(AuthError::InvalidToken("algorithm not accepted"))?,
            _ => return Err(AuthError::InvalidToken("algorithm not accepted")),
        };
        if self.config.hs256_secret.is_none() && self.rs256_key.is_none() {
            return Err(AuthError::NotConfigured);
        }
        let mut validation = Validation::new(header.alg);
        // `exp` always; `iss` and `aud` too when they are configured, else a token could pass
        // the check by leaving them out.
        let mut required = vec!["exp"];
        if self.config.issuer.is_some() {
            required.push("iss");
        }
        if self.config.audience.is_some() {
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        validation.leeway = LEEWAY_SECONDS;
        // `nbf` is optional, but a token that says it is not valid yet is not.
        validation.validate_nbf = true;
        match &self.config.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &self.config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                    AuthError::InvalidToken("bad signature")
                }
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                    AuthError::InvalidToken("wrong issuer")
                }
                jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                    AuthError::InvalidToken("wrong audience")
                }
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => {
                    AuthError::InvalidToken("missing a required claim")
                }
                _ => AuthError::InvalidToken("malformed"),
            })?
            .claims;
        let max_seconds = self.config.max_token_lifetime_seconds;
        let latest_allowed_exp = jsonwebtoken::get_current_timestamp()
            .saturating_add(max_seconds)
            .saturating_add(LEEWAY_SECONDS);
        if claims.exp > latest_allowed_exp {
            return Err(AuthError::LivesTooLong { max_seconds });
        }
        if claims.role.as_deref() != Some("admin") {
            return Err(AuthError::NotAdmin);
        }
        Ok(Admin {
            subject: claims.sub.unwrap_or_else(|| "admin".to_owned()),
        })
    }
}

/// Mints an HS256 admin token valid for `ttl_seconds` (for `carematch token --admin`).
pub fn mint_admin_token(
    secret: &str,
    subject: &str,
    ttl_seconds: u64,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<String, String> {
    let claims = Claims {
        sub: Some(subject.to_owned()),
        role: Some("admin".to_owned()),
        exp: jsonwebtoken::get_current_timestamp() + ttl_seconds,
        iss: issuer.map(str::to_owned),
        aud: audience.map(str::to_owned),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn authenticator() -> Authenticator {
        Authenticator::new(AuthConfig {
            hs256_secret: Some(SECRET.into()),
            ..AuthConfig::default()
        })
        .unwrap()
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    fn token_with(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn in_an_hour() -> u64 {
        jsonwebtoken::get_current_timestamp() + 3_600
    }

    #[test]
    fn a_minted_admin_token_is_accepted() {
        let token = mint_admin_token(SECRET, "ops@example.org", 3_600, None, None).unwrap();
        let admin = authenticator()
            .require_admin(Some(&bearer(&token)))
            .unwrap();
        assert_eq!(admin.subject, "ops@example.org");
    }

    #[test]
    fn missing_expired_wrongly_signed_and_unsigned_tokens_are_unauthenticated() {
        let auth = authenticator();
        assert_eq!(auth.require_admin(None), Err(AuthError::MissingToken));
        assert_eq!(
            auth.require_admin(Some("Basic abc")),
            Err(AuthError::MissingToken)
        );
        let expired = token_with(serde_json::json!({"role": "admin", "exp": 1_000}), SECRET);
        assert_eq!(
            auth.require_admin(Some(&bearer(&expired))),
            Err(AuthError::Expired)
        );
        let forged = token_with(
            serde_json::json!({"role": "admin", "exp": in_an_hour()}),
            "another-secret-another-secret-00",
        );
        assert_eq!(
            auth.require_admin(Some(&bearer(&forged))),
            Err(AuthError::InvalidToken("bad signature"))
        );
        let no_exp = token_with(serde_json::json!({"role": "admin"}), SECRET);
        assert!(matches!(
            auth.require_admin(Some(&bearer(&no_exp))),
            Err(AuthError::InvalidToken(_))
        ));
        // alg: none, header {"alg":"none","typ":"JWT"}, no signature.
        let unsigned =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJyb2xlIjoiYWRtaW4iLCJleHAiOjQxMDI0NDQ4MDB9.";
        assert!(matches!(
            auth.require_admin(Some(&bearer(unsigned))),
            Err(AuthError::InvalidToken(_))
        ));
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &serde_json::json!({"role": "admin", "exp": in_an_hour()}),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(
            auth.require_admin(Some(&bearer(&hs512))),
            Err(AuthError::InvalidToken("algorithm not accepted"))
        );
        assert!(matches!(
            auth.require_admin(Some("Bearer not.a.jwt")),
            Err(AuthError::InvalidToken(_))
        ));
    }

    #[test]
    fn a_token_not_valid_yet_is_unauthenticated_and_one_whose_time_came_is_accepted() {
        let now = jsonwebtoken::get_current_timestamp();
        let auth = authenticator();
        let future = token_with(
            serde_json::json!({"role": "admin", "exp": in_an_hour(), "nbf": now + 600}),
            SECRET,
        );
        let error = auth.require_admin(Some(&bearer(&future))).unwrap_err();
        assert_eq!(error, AuthError::NotYetValid);
        assert_eq!(error.code(), "UNAUTHENTICATED");
        let past = token_with(
            serde_json::json!({"role": "admin", "exp": in_an_hour(), "nbf": now - 60}),
            SECRET,
        );
        assert!(auth.require_admin(Some(&bearer(&past))).is_ok());
    }

    #[test]
    fn a_token_that_lives_longer_than_the_configured_maximum_is_refused() {
        let now = jsonwebtoken::get_current_timestamp();
        let auth = authenticator();
        for exp in [u64::MAX, now + DEFAULT_MAX_TOKEN_LIFETIME_SECONDS + 3_600] {
            let forever = token_with(serde_json::json!({"role": "admin", "exp": exp}), SECRET);
            assert_eq!(
                auth.require_admin(Some(&bearer(&forever))),
                Err(AuthError::LivesTooLong {
                    max_seconds: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS
                }),
                "exp {exp}"
            );
        }
        let a_day = token_with(
            serde_json::json!({"role": "admin", "exp": now + DEFAULT_MAX_TOKEN_LIFETIME_SECONDS}),
            SECRET,
        );
        assert!(auth.require_admin(Some(&bearer(&a_day))).is_ok());
        let strict = Authenticator::new(AuthConfig {
            hs256_secret: Some(SECRET.into()),
            max_token_lifetime_seconds: 600,
            ..AuthConfig::default()
        })
        .unwrap();
        let hour = mint_admin_token(SECRET, "ops", 3_600, None, None).unwrap();
        assert!(matches!(
            strict.require_admin(Some(&bearer(&hour))),
            Err(AuthError::LivesTooLong { max_seconds: 600 })
        ));
    }

    #[test]
    fn a_valid_token_without_the_admin_role_is_forbidden() {
        let token = token_with(
            serde_json::json!({"role": "viewer", "exp": in_an_hour()}),
            SECRET,
        );
        let error = authenticator()
            .require_admin(Some(&bearer(&token)))
            .unwrap_err();
        assert_eq!(error, AuthError::NotAdmin);
        assert_eq!(error.code(), "FORBIDDEN");
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let auth = Authenticator::new(AuthConfig {
            hs256_secret: Some(SECRET.into()),
            issuer: Some("carematch".into()),
            audience: Some("carematch-admin".into()),
            ..AuthConfig::default()
        })
        .unwrap();
        let right = mint_admin_token(
            SECRET,
            "ops",
            60,
            Some("carematch"),
            Some("carematch-admin"),
        )
        .unwrap();
        assert!(auth.require_admin(Some(&bearer(&right))).is_ok());
        let wrong_issuer = mint_admin_token(
            SECRET,
            "ops",
            60,
            Some("elsewhere"),
            Some("carematch-admin"),
        )
        .unwrap();
        assert_eq!(
            auth.require_admin(Some(&bearer(&wrong_issuer))),
            Err(AuthError::InvalidToken("wrong issuer"))
        );
        let no_audience = mint_admin_token(SECRET, "ops", 60, Some("carematch"), None).unwrap();
        assert!(auth.require_admin(Some(&bearer(&no_audience))).is_err());
    }

    #[test]
    fn without_a_configured_key_writes_are_refused() {
        let auth = Authenticator::new(AuthConfig::default()).unwrap();
        let token = mint_admin_token(SECRET, "ops", 60, None, None).unwrap();
        assert_eq!(
            auth.require_admin(Some(&bearer(&token))),
            Err(AuthError::NotConfigured)
        );
    }
}
