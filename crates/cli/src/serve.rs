//! `carematch serve`: bind, then (while `/healthz` and `/readyz` already answer) connect,
//! migrate, seed an empty database and open or rebuild the index; serve until SIGTERM or
//! Ctrl-C, drain within the grace period, flush the match logs, exit.
//!
//! Binding first lets the platform see a live process during a long index rebuild (tens of
//! seconds at a million providers) instead of killing it for failing its liveness probe; the
//! replica reports ready only once its index is loaded.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use std::sync::Arc;

use carematch_api::{
    ApiLimits, ApiOptions, AppState, ApplicationSlot, AuthConfig, Authenticator, RouterSecret,
};
use carematch_cache::{ChangeFeed, RedisLink, TwoTierCache, TwoTierCacheOptions};
use carematch_search::ProviderIndex;
use carematch_service::match_log::{MatchLogWriter, MatchLogWriterOptions};
use carematch_service::propagation::PropagationOptions;
use carematch_service::{MatchService, ProviderDirectory, Readiness, RedisStatus};
use carematch_store::{Store, StoreOptions};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::seed;

/// The database pool's settings, from `CAREMATCH_DATABASE_*`.
pub fn store_options(config: &Config) -> StoreOptions {
    config.settings.database.store_options()
}

pub async fn connect(config: &Config) -> anyhow::Result<Store> {
    let options = store_options(config);
    Store::connect(&config.settings.database.database_url, &options)
        .await
        .context("connecting to the database (CAREMATCH_DATABASE_URL)")
}

fn auth_config(config: &Config) -> anyhow::Result<AuthConfig> {
    let settings = &config.settings.auth;
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
        max_token_lifetime_seconds: settings.jwt_max_lifetime_seconds,
    })
}

/// The HTTP switches and limits from the settings.
pub fn api_options(config: &Config) -> ApiOptions {
    let (settings, limits) = (&config.settings.server, &config.settings.limits);
    ApiOptions {
        playground: settings.playground,
        introspection: settings.introspection,
        limits: ApiLimits {
            max_depth: limits.max_query_depth,
            max_complexity: limits.max_query_complexity,
            max_aliases: limits.max_aliases,
            max_root_fields: limits.max_root_fields,
            max_directives_per_field: limits.max_directives_per_field,
            max_body_bytes: limits.max_request_body_bytes,
            max_query_bytes: limits.max_query_bytes,
            request_timeout: std::time::Duration::from_millis(settings.request_timeout_ms),
            body_read_timeout: Duration::from_millis(settings.body_read_timeout_ms),
        },
        cors_allowed_origins: settings.cors_allowed_origins.clone(),
        router_secret: settings
            .router_secret
            .as_ref()
            .map(|secret| RouterSecret(secret.expose().to_owned())),
        persisted_queries_capacity: settings.persisted_queries_capacity,
        // Connected in start-up (see `redis_link`).
        redis: None,
        response_cache_ttl: Duration::from_secs(config.settings.cache.cache_ttl_seconds),
        response_cache_bytes: config.settings.cache.capacity_bytes(),
        care_listing_interface_object: settings.care_listing_interface_object,
    }
}

/// The subgraph SDL: the providers subgraph alone, or with the `CareListing` interface object.
pub fn schema_sdl(care_listing_interface_object: bool) -> String {
    carematch_api::sdl_of(care_listing_interface_object)
}

/// A server that is bound: the application as a function of configuration, listener and
/// shutdown, so tests can run several side by side on port 0. Start-up (database, migrations,
/// seeding, index) runs once serving has begun, in [`Application::run_until`].
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    config: Config,
    migrate: bool,
    readiness: Arc<Readiness>,
    slot: ApplicationSlot,
    /// Awaited before the index is loaded: tests hold start-up here to observe it.
    hold_startup: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
}

/// How long a stopping server waits for the match-log writer (the database may be down).
const MATCH_LOG_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

impl Application {
    /// Binds the listener. Nothing else: the rest of start-up runs while serving.
    pub async fn build(config: &Config, migrate: bool) -> anyhow::Result<Self> {
        tracing::info!(config = %config.redacted(), "starting carematch");
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {} (CAREMATCH_LISTEN)", config.listen))?;
        let address = listener.local_addr().context("reading the bound address")?;
        let readiness = Arc::new(Readiness::new());
        if config.settings.cache.redis_url.is_some() {
            readiness.set_redis(RedisStatus::Unknown);
        }
        Ok(Self {
            listener,
            address,
            config: config.clone(),
            migrate,
            readiness,
            slot: ApplicationSlot::default(),
            hold_startup: None,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// What `/readyz` answers; [`Readiness::wait_started`] waits for the index.
    pub fn readiness(&self) -> Arc<Readiness> {
        Arc::clone(&self.readiness)
    }

    /// Start-up waits for `gate` before it opens the index (for tests of the start-up phase).
    pub fn hold_startup_until(&mut self, gate: impl Future<Output = ()> + Send + 'static) {
        self.hold_startup = Some(Box::pin(gate));
    }

    /// Serves at once (health, readiness, metrics; `/graphql` once started), runs start-up,
    /// and stops when `shutdown` completes: readiness turns false, the pre-stop delay
    /// (`CAREMATCH_SHUTDOWN_DELAY_SECONDS`) lets the router notice, the listener closes,
    /// in-flight requests get `CAREMATCH_SHUTDOWN_GRACE_SECONDS`, and the match logs are flushed.
    /// A failed start-up stops the server and is returned as the error.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            address,
            config,
            migrate,
            readiness,
            slot,
            hold_startup,
        } = self;
        tracing::info!(address = %address, "listening");
        let settings = &config.settings.server;
        let grace_period = Duration::from_secs(settings.shutdown_grace_seconds);
        let pre_stop_delay = Duration::from_secs(settings.shutdown_delay_seconds);
        let router = carematch_api::service_router(Arc::clone(&readiness), slot.clone());
        let startup = tokio::spawn(start(
            config.clone(),
            migrate,
            Arc::clone(&readiness),
            slot.clone(),
            hold_startup,
        ));
        let (startup_failed_sender, startup_failed) = tokio::sync::oneshot::channel::<String>();
        let startup_readiness = Arc::clone(&readiness);
        tokio::spawn(async move {
            if let Err(problem) = startup_readiness.wait_started().await {
                let _ = startup_failed_sender.send(problem);
            }
        });
        let (failure_sender, mut failure) = tokio::sync::oneshot::channel::<String>();
        let drain_readiness = Arc::clone(&readiness);
        let stop = async move {
            tokio::select! {
                () = shutdown => {
                    drain_readiness.set_draining();
                    tracing::info!(
                        pre_stop_delay_seconds = pre_stop_delay.as_secs(),
                        grace_period_seconds = grace_period.as_secs(),
                        "stopping: readiness is false; draining in-flight requests"
                    );
                    tokio::time::sleep(pre_stop_delay).await;
                }
                Ok(problem) = startup_failed => {
                    drain_readiness.set_draining();
                    let _ = failure_sender.send(problem);
                }
            }
        };
        let serve_options = carematch_api::ServeOptions {
            header_read_timeout: Duration::from_millis(settings.header_read_timeout_ms),
            grace_period,
        };
        let served = carematch_api::serve(listener, router, stop, serve_options)
            .await
            .context("serving HTTP");
        startup.abort();
        if let Ok(problem) = failure.try_recv() {
            anyhow::bail!("starting carematch: {problem}");
        }
        // In-flight requests have finished (or the grace period is over): write every match
        // log they queued.
        if let Some(state) = slot.state() {
            state.match_log.shutdown(MATCH_LOG_SHUTDOWN_TIMEOUT).await;
            save_index_snapshot(Arc::clone(&state.directory.index)).await;
        }
        served?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Saves the index's catalog as of its last commit, so the next start on this index reads one
/// file instead of every stored provider. A failure only slows that start.
async fn save_index_snapshot(index: Arc<ProviderIndex>) {
    match tokio::task::spawn_blocking(move || index.save_snapshot()).await {
        Ok(Ok(true)) => tracing::info!("search index catalog saved for the next start"),
        Ok(Ok(false)) => {}
        Ok(Err(error)) => tracing::warn!(
            error = &error as &dyn std::error::Error,
            "search index catalog not saved; the next start reads every stored provider"
        ),
        Err(error) => tracing::warn!(%error, "search index catalog not saved"),
    }
}

/// Redis, when `CAREMATCH_REDIS_URL` is set. Nothing is connected yet: a replica starts and
/// serves while redis is down.
pub(crate) fn redis_link(config: &Config) -> anyhow::Result<Option<Arc<RedisLink>>> {
    let Some(options) = config.settings.cache.redis_options() else {
        return Ok(None);
    };
    Ok(Some(Arc::new(RedisLink::new(options).map_err(
        |error| anyhow::anyhow!("CAREMATCH_REDIS_URL: {error}"),
    )?)))
}

/// Connects, migrates (unless told not to), seeds an empty database, opens or rebuilds the
/// index, then installs the application and marks the replica started. A failure is
/// reported through `readiness`, which stops the server.
async fn start(
    config: Config,
    migrate: bool,
    readiness: Arc<Readiness>,
    slot: ApplicationSlot,
    hold: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
) {
    match start_application(&config, migrate, &readiness, &slot, hold).await {
        Ok(()) => readiness.set_started(),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "start-up failed");
            readiness.set_failed(format!("{error:#}"));
        }
    }
}

async fn start_application(
    config: &Config,
    migrate: bool,
    readiness: &Arc<Readiness>,
    slot: &ApplicationSlot,
    hold: Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>>,
) -> anyhow::Result<()> {
    let store = connect(config).await?;
    readiness.attach_database(store.clone());
    if migrate {
        store.migrate().await.context("running migrations")?;
    }
    let seed_count = config.settings.index.seed_demo;
    if seed_count > 0
        && store
            .count_providers()
            .await
            .context("counting providers")?
            == 0
    {
        tracing::info!(count = seed_count, "empty database: seeding demo providers");
        let summary =
            seed::seed_demo(&store, seed_count, config.settings.index.seed_demo_seed).await?;
        tracing::info!(
            providers = summary.providers,
            seconds = summary.seconds,
            "demo providers seeded"
        );
    }
    if let Some(hold) = hold {
        hold.await;
    }
    let index_dir = config.settings.index.index_dir.clone();
    let index = tokio::task::spawn_blocking(move || ProviderIndex::open_or_create(&index_dir))
        .await
        .context("opening the search index")?
        .with_context(|| {
            format!(
                "opening the search index in {} (CAREMATCH_INDEX_DIR)",
                config.settings.index.index_dir.display()
            )
        })?;
    let redis = redis_link(config)?;
    let feed = redis.as_ref().map(|redis| {
        ChangeFeed::new(
            Arc::clone(redis),
            format!("replica-{}", uuid::Uuid::new_v4()),
        )
    });
    let mut directory = ProviderDirectory::new(store.clone(), Arc::new(index));
    if let Some(feed) = &feed {
        directory = directory.with_feed(feed.clone());
    }
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
    // Writes committed while the index was built are read again; only then is it ready.
    directory
        .catch_up()
        .await
        .context("catching up with the database")?;
    readiness.set_caught_up(true);
    carematch_service::propagation::start(
        directory.clone(),
        feed,
        redis.clone(),
        Arc::clone(readiness),
        PropagationOptions {
            catch_up_interval: Duration::from_millis(config.settings.index.catch_up_interval_ms),
        },
    );
    let match_log = MatchLogWriter::start(store, MatchLogWriterOptions::default());
    readiness.attach_match_log_writer(match_log.clone());
    let results = TwoTierCache::new(
        &TwoTierCacheOptions {
            ttl: Duration::from_secs(config.settings.cache.cache_ttl_seconds),
            local_capacity_bytes: config.settings.cache.capacity_bytes(),
        },
        redis.clone(),
    );
    let matches = MatchService::new(
        &directory,
        config.settings.ranking.clone(),
        Arc::new(results),
        match_log.clone(),
    )
    .context("ranking configuration")?;
    let authenticator = Authenticator::new(auth_config(config)?)
        .map_err(|problem| anyhow::anyhow!("CAREMATCH_JWT_PUBLIC_KEY_FILE: {problem}"))?;
    let state = AppState {
        directory,
        matches,
        authenticator,
        match_log,
        readiness: Arc::clone(readiness),
    };
    let mut options = api_options(config);
    options.redis = redis;
    slot.install(state, options);
    Ok(())
}

pub async fn serve(config: Config, migrate: bool) -> anyhow::Result<()> {
    // The recorder must exist before the first request records anything.
    carematch_api::metrics::prometheus();
    let application = Application::build(&config, migrate).await?;
    let address = application.address();
    let readiness = application.readiness();
    // One plain line on stdout, once `/graphql` answers, for people and for tests that bind
    // port 0 (`/healthz` answers from the moment the port is bound).
    tokio::spawn(async move {
        if readiness.wait_started().await.is_ok() {
            println!("carematch listening on http://{address}/graphql");
            std::io::stdout().flush().ok();
        }
    });
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
    tracing::info!("shutdown signal received");
}
