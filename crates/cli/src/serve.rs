//! `carematch serve`: connect, migrate, seed an empty database, serve until SIGTERM or Ctrl-C.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;
use std::sync::Arc;

use carematch_api::{
    ApiLimits, ApiOptions, AppState, AuthConfig, Authenticator, Directory, RouterSecret,
};
use carematch_matching::Engine;
use carematch_postal::PostalCodes;
use carematch_search::ProviderIndex;
use carematch_store::{Store, StoreOptions};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::seed;

pub async fn connect(config: &Config) -> anyhow::Result<Store> {
    let options = StoreOptions {
        max_connections: config.settings.database_max_connections,
        ..StoreOptions::default()
    };
    Store::connect(&config.settings.database_url, &options)
        .await
        .context("connecting to the database (CAREMATCH_DATABASE_URL)")
}

fn auth_config(config: &Config) -> anyhow::Result<AuthConfig> {
    let settings = &config.settings;
    let rs256_public_key_pem = settings
        .jwt_public_key_file
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path).with_context(|| {
                format!("CAREMATCH_JWT_PUBLIC_KEY_FILE: reading {}", path.display())
            })
        })
        .transpose()?;
    Ok(AuthConfig {
        hs256_secret: settings
            .jwt_secret
            .as_ref()
            .map(|secret| secret.expose().to_owned()),
        rs256_public_key_pem,
        issuer: settings.jwt_issuer.clone(),
        audience: settings.jwt_audience.clone(),
    })
}

/// The HTTP switches and limits from the settings.
pub fn api_options(config: &Config) -> ApiOptions {
    let settings = &config.settings;
    ApiOptions {
        playground: settings.playground,
        introspection: settings.introspection,
        limits: ApiLimits {
            max_depth: settings.max_query_depth,
            max_complexity: settings.max_query_complexity,
            max_aliases: settings.max_aliases,
            max_root_fields: settings.max_root_fields,
            max_directives_per_field: settings.max_directives_per_field,
            max_body_bytes: settings.max_request_body_bytes,
            max_query_bytes: settings.max_query_bytes,
            request_timeout: std::time::Duration::from_millis(settings.request_timeout_ms),
        },
        cors_allowed_origins: settings.cors_allowed_origins.clone(),
        router_secret: settings
            .router_secret
            .as_ref()
            .map(|secret| RouterSecret(secret.expose().to_owned())),
        persisted_queries_capacity: settings.persisted_queries_capacity,
    }
}

pub fn schema_sdl() -> String {
    carematch_api::sdl()
}

/// A server that is bound and ready to serve: the application as a function of configuration,
/// listener and shutdown, so tests can run several side by side on port 0.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    address: SocketAddr,
    /// Flushed after the server stops, so no match log of a served request is lost.
    match_log: carematch_api::match_log::MatchLogWriter,
}

/// How long a stopping server waits for the match-log writer (the database may be down).
const MATCH_LOG_SHUTDOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Application {
    /// Connects, migrates (unless told not to), seeds an empty database, brings the local
    /// index up to date with the database, and binds.
    pub async fn build(config: &Config, migrate: bool) -> anyhow::Result<Self> {
        tracing::info!(config = %config.redacted(), "starting carematch");
        let store = connect(config).await?;
        if migrate {
            store.migrate().await.context("running migrations")?;
        }
        let seed_count = config.settings.seed_demo;
        if seed_count > 0
            && store
                .count_providers()
                .await
                .context("counting providers")?
                == 0
        {
            tracing::info!(count = seed_count, "empty database: seeding demo providers");
            let summary =
                seed::seed_demo(&store, seed_count, config.settings.seed_demo_seed).await?;
            tracing::info!(
                providers = summary.providers,
                seconds = summary.seconds,
                "demo providers seeded"
            );
        }
        let index_dir = config.settings.index_dir.clone();
        let index = tokio::task::spawn_blocking(move || ProviderIndex::open_or_create(&index_dir))
            .await
            .context("opening the search index")?
            .with_context(|| {
                format!(
                    "opening the search index in {}",
                    config.settings.index_dir.display()
                )
            })?;
        let directory = Directory::new(store, Arc::new(index));
        let started = std::time::Instant::now();
        match directory
            .synchronize_index()
            .await
            .context("building the search index")?
        {
            Some(providers) => tracing::info!(
                providers,
                seconds = started.elapsed().as_secs_f64(),
                "search index rebuilt"
            ),
            None => tracing::info!(
                providers = directory.index.len(),
                "search index reopened, already current"
            ),
        }
        let engine = Engine::new(
            Arc::clone(&directory.index),
            PostalCodes::embedded(),
            config.settings.ranking.clone(),
        )
        .context("ranking configuration")?;
        let authenticator = Authenticator::new(auth_config(config)?)
            .map_err(|problem| anyhow::anyhow!("CAREMATCH_JWT_PUBLIC_KEY_FILE: {problem}"))?;
        let match_log = carematch_api::match_log::MatchLogWriter::start(
            directory.store.clone(),
            carematch_api::match_log::MatchLogWriterOptions::default(),
        );
        let state = AppState {
            directory,
            engine: Arc::new(engine),
            authenticator,
            match_log: match_log.clone(),
        };
        let router = carematch_api::router(state, api_options(config));
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {} (CAREMATCH_LISTEN)", config.listen))?;
        let address = listener.local_addr().context("reading the bound address")?;
        Ok(Self {
            listener,
            router,
            address,
            match_log,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.address, "listening");
        let served = carematch_api::serve(self.listener, self.router, shutdown)
            .await
            .context("serving HTTP");
        // In-flight requests have finished: write every match log they queued.
        self.match_log.shutdown(MATCH_LOG_SHUTDOWN_TIMEOUT).await;
        served?;
        tracing::info!("stopped");
        Ok(())
    }
}

pub async fn serve(config: Config, migrate: bool) -> anyhow::Result<()> {
    let application = Application::build(&config, migrate).await?;
    // One plain line on stdout for people and for tests that bind port 0.
    println!(
        "carematch listening on http://{}/graphql",
        application.address()
    );
    std::io::stdout().flush().ok();
    application.run_until(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received: draining in-flight requests");
}
