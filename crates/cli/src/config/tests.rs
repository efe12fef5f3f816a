//! The loader and the sections' checks: precedence, errors naming the setting, redaction.

// figment's Jail returns its large error type by design.
#![allow(clippy::result_large_err)]

use super::*;

#[test]
fn defaults_give_the_embedded_setup() {
    let config = Config::check(Settings::default()).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert!(config.settings.database.database_url.starts_with("sqlite:"));
    assert_eq!(config.settings.index.seed_demo, 5_000);
    assert!(config.settings.cache.redis_url.is_none());
}

#[test]
fn the_environment_overrides_the_file_which_overrides_defaults() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("custom.toml", "listen = \"0.0.0.0:9000\"\nseed_demo = 10\n")?;
        jail.set_env("CAREMATCH_SEED_DEMO", "0");
        let config = Config::load(Some(Path::new("custom.toml"))).map_err(|e| e.to_string())?;
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.settings.index.seed_demo, 0);
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
            settings.server.cors_allowed_origins,
            ["https://app.example.org", "http://localhost:3000"]
        );
        assert!(!settings.server.introspection);
        assert_eq!(settings.limits.max_query_depth, 9);
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
        assert_eq!(config.settings.server.shutdown_grace_seconds, 7);
        assert_eq!(config.settings.database.database_acquire_timeout_ms, 250);
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
                settings.database.database_url = "postgres://carematch:Change-Me@db:5432/c".into();
            }
            "CAREMATCH_REDIS_URL" => {
                settings.cache.redis_url = Some(Secret("redis://:CHANGE-ME@redis:6379".into()));
            }
            "CAREMATCH_JWT_SECRET" => {
                settings.auth.jwt_secret = Some(Secret(format!("CHANGE-ME-{}", "x".repeat(32))));
            }
            _ => settings.server.router_secret = Some(Secret("change-me-16-or-more".into())),
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
    let mut real = Settings::default();
    real.server.router_secret = Some(Secret("a-real-router-secret".into()));
    real.auth.jwt_secret = Some(Secret("r".repeat(40)));
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
    let mut settings = Settings::default();
    settings.auth.jwt_secret = Some(Secret("s".repeat(40)));
    settings.database.database_url = "postgres://carematch:hunter2@db:5432/carematch".into();
    let config = Config::check(settings).unwrap();
    let text = config.redacted().to_string();
    assert!(
        !text.contains("hunter2") && !text.contains(&"s".repeat(40)),
        "{text}"
    );
    assert!(text.contains("postgres://carematch:[redacted]@db:5432/carematch"));
    assert_eq!(
        format!("{:?}", config.settings.auth.jwt_secret),
        "Some([redacted])"
    );
}

#[test]
fn the_sections_read_exactly_the_setting_keys() {
    let read: Vec<String> = Settings::defaults()
        .extract::<Dict>()
        .unwrap()
        .into_keys()
        .collect();
    let mut listed = setting_names();
    listed.sort();
    assert_eq!(read, listed, "SETTING_KEYS and the sections' keys differ");
}

#[test]
fn an_unknown_key_is_reported_before_a_bad_value_of_a_later_key() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "carematch.toml",
            "lisen = \"0.0.0.0:9000\"\nseed_demo = \"many\"\n",
        )?;
        let error = Config::load(None).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "invalid configuration: CAREMATCH_LISEN (lisen): unknown field: found `lisen`, \
                 expected `one of `listen`, `database_url`"
            ),
            "{error}"
        );
        Ok(())
    });
}
