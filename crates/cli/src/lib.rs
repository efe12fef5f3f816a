//! The `carematch` command: configuration, wiring of store, index and API, and the
//! subcommands (`serve`, `migrate`, `seed-demo`, `import`, `export`, `schema`, `token`, `logs`).
//!
//! This is the only crate that uses `anyhow`: below it, every crate has its own error enum.

pub mod config;
mod healthcheck;
pub mod import;
mod logs;
pub mod seed;
mod serve;
mod telemetry;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
pub use crate::serve::Application;

#[derive(Debug, Parser)]
#[command(
    name = "carematch",
    version,
    about = "Matches mothers after birth with the care providers they need"
)]
struct Cli {
    /// A TOML configuration file (default: ./carematch.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the GraphQL API (migrates and seeds demo data on an empty database first).
    Serve {
        /// Do not run migrations (when a separate job runs `carematch migrate`).
        #[arg(long)]
        no_migrate: bool,
    },
    /// Run database migrations and exit.
    Migrate,
    /// Exit 0 when the local server answers `/healthz` (the container image's HEALTHCHECK,
    /// which has no curl).
    Healthcheck {
        /// The path to check, on the address of CAREMATCH_LISTEN.
        #[arg(long, default_value = "/healthz")]
        path: String,
    },
    /// Generate deterministic demo providers into the database.
    SeedDemo {
        #[arg(long, default_value_t = 5_000)]
        count: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Import providers: `import FILE.jsonl` (one ProviderInput per line), `import nppes
    /// FILE.csv` (the NPPES NPI registry) or `import fhir FILE` (a FHIR Plan-Net directory).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Import {
        #[command(subcommand)]
        source: Option<ImportSource>,
        /// A JSON Lines file of providers in the ProviderInput shape.
        #[arg(required = true)]
        file: Option<PathBuf>,
    },
    /// Export every provider to a JSON Lines file in the import format.
    Export { file: PathBuf },
    /// Print the GraphQL schema (the subgraph SDL). `schema.graphql` is this output without
    /// flags; the configuration is not read.
    Schema {
        /// Print the SDL a server with `care_listing_interface_object` on publishes: with
        /// `CareListing @interfaceObject`.
        #[arg(long)]
        care_listing_interface_object: bool,
    },
    /// Match logs for analysts: export them, or delete the ones past retention.
    Logs {
        #[command(subcommand)]
        command: logs::LogsCommand,
    },
    /// Mint a bearer token for local admin use (needs CAREMATCH_JWT_SECRET).
    Token {
        /// Give the token the admin role (the only role carematch checks).
        #[arg(long)]
        admin: bool,
        /// How long the token is valid, e.g. 30m, 1h, 2d.
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// Who the token speaks for, recorded in the audit log.
        #[arg(long, default_value = "local-admin")]
        subject: String,
    },
}

/// Registry and directory formats `carematch import` reads besides JSON Lines.
#[derive(Debug, Subcommand)]
enum ImportSource {
    /// The NPPES NPI registry's monthly CSV (npidata_pfile): providers whose taxonomy maps to
    /// a care type, upserted by NPI. Exits non-zero only when a row failed.
    Nppes {
        file: PathBuf,
        /// Rows per write transaction.
        #[arg(long, default_value_t = carematch_ingest::DEFAULT_BATCH_SIZE)]
        batch_size: usize,
    },
    /// A FHIR R4 Plan-Net directory: a Bundle (JSON) or NDJSON of Practitioner,
    /// PractitionerRole, Location, Organization, HealthcareService and InsurancePlan resources.
    /// Exits non-zero only when a resource failed.
    Fhir { file: PathBuf },
}

/// Runs the command line and turns the outcome into the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Schema {
        care_listing_interface_object,
    } = cli.command
    {
        print!("{}", serve::schema_sdl(care_listing_interface_object));
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(cli.config.as_deref())?;
    if let Command::Token {
        admin,
        ttl,
        subject,
    } = &cli.command
    {
        anyhow::ensure!(*admin, "only admin tokens exist: pass --admin");
        let secret = config
            .settings
            .auth
            .jwt_secret
            .as_ref()
            .context("CAREMATCH_JWT_SECRET must be set to mint a token")?;
        let seconds = parse_duration_seconds(ttl).with_context(|| format!("--ttl {ttl}"))?;
        let max_seconds = config.settings.auth.jwt_max_lifetime_seconds;
        anyhow::ensure!(
            seconds <= max_seconds,
            "--ttl {ttl}: longer than CAREMATCH_JWT_MAX_LIFETIME_SECONDS ({max_seconds} s), the service would refuse it"
        );
        let token = carematch_api::mint_admin_token(
            secret.expose(),
            subject,
            seconds,
            config.settings.auth.jwt_issuer.as_deref(),
            config.settings.auth.jwt_audience.as_deref(),
        )
        .map_err(|problem| anyhow::anyhow!(problem))?;
        println!("{token}");
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Healthcheck { path } = &cli.command {
        return healthcheck::check(config.listen, path);
    }
    telemetry::init(&config.settings.logging);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { no_migrate } => serve::serve(config, !no_migrate)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Migrate => {
                let store = serve::connect(&config).await?;
                store.migrate().await.context("running migrations")?;
                tracing::info!(backend = store.backend_name(), "migrations applied");
                Ok(ExitCode::SUCCESS)
            }
            Command::SeedDemo { count, seed } => {
                let store = serve::connect(&config).await?;
                store.migrate().await.context("running migrations")?;
                let summary = seed::seed_demo(&store, count, seed).await?;
                println!(
                    "seeded {} demo providers in {:.1} s",
                    summary.providers, summary.seconds
                );
                Ok(ExitCode::SUCCESS)
            }
            Command::Import {
                source: Some(source),
                ..
            } => {
                let (format, file, batch_size) = match source {
                    ImportSource::Nppes { file, batch_size } => {
                        (import::DirectoryFormat::Nppes, file, batch_size)
                    }
                    ImportSource::Fhir { file } => (
                        import::DirectoryFormat::Fhir,
                        file,
                        carematch_ingest::DEFAULT_BATCH_SIZE,
                    ),
                };
                let store = serve::connect(&config).await?;
                store.migrate().await.context("running migrations")?;
                let summary = import::import_directory(&store, format, &file, batch_size).await?;
                import::announce_changes(&config, &store, &summary.changed_provider_ids).await;
                Ok(if summary.failures.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Command::Import {
                source: None,
                file: Some(file),
            } => {
                let store = serve::connect(&config).await?;
                store.migrate().await.context("running migrations")?;
                let reader = std::fs::File::open(&file)
                    .with_context(|| format!("opening {}", file.display()))?;
                let summary = import::import_jsonl(&store, std::io::BufReader::new(reader)).await?;
                for failure in &summary.failures {
                    eprintln!("line {}: {}", failure.line, failure.problem);
                }
                println!("{}", summary.describe());
                Ok(if summary.failures.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Command::Export { file } => {
                let store = serve::connect(&config).await?;
                let count = import::export_jsonl(&store, &file).await?;
                println!("exported {count} providers to {}", file.display());
                Ok(ExitCode::SUCCESS)
            }
            Command::Logs { command } => logs::run(&config, command).await,
            Command::Import {
                source: None,
                file: None,
            } => anyhow::bail!("import needs a FILE.jsonl, or `nppes FILE` or `fhir FILE`"),
            Command::Schema { .. } | Command::Token { .. } | Command::Healthcheck { .. } => {
                unreachable!("handled before the runtime starts")
            }
        }
    })
}

/// `90s`, `30m`, `1h`, `2d`, or plain seconds.
pub fn parse_duration_seconds(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: u64 = number
        .parse()
        .context("expected a number followed by s, m, h or d")?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => anyhow::bail!("unknown unit `{unit}`: use s, m, h or d"),
    };
    anyhow::ensure!(number > 0, "must be more than zero");
    Ok(number * factor)
}
