//! `carematch logs export` and `carematch logs prune`: the analysts' file of match logs, and
//! retention (`match_log_retention_days`, 180 by default).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use carematch_analytics::ExportFormat;
use chrono::NaiveDate;
use clap::Subcommand;

use crate::config::Config;
use crate::serve;

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Write the matches whose ISO week starts between --since and --until (inclusive; without
    /// either, every match on that side), one row per returned provider with its outcomes, as
    /// Parquet or CSV (see docs/analysts.md).
    Export {
        /// First day, YYYY-MM-DD (weeks starting on or after it); default: the earliest.
        #[arg(long)]
        since: Option<NaiveDate>,
        /// Last day, YYYY-MM-DD (weeks starting on or before it); default: the latest.
        #[arg(long)]
        until: Option<NaiveDate>,
        #[arg(long, default_value = "parquet", value_parser = parse_format)]
        format: ExportFormat,
        /// The file to write (replaced if it exists).
        out: PathBuf,
    },
    /// Delete the matches (with their results and outcomes) whose week started more than
    /// this long ago: e.g. 180d. Default: the `match_log_retention_days` setting.
    Prune {
        #[arg(long)]
        older_than: Option<String>,
    },
}

fn parse_format(text: &str) -> Result<ExportFormat, String> {
    text.parse()
}

pub async fn run(config: &Config, command: LogsCommand) -> anyhow::Result<ExitCode> {
    let store = serve::connect(config).await?;
    store.migrate().await.context("running migrations")?;
    match command {
        LogsCommand::Export {
            since,
            until,
            format,
            out,
        } => {
            if let (Some(since), Some(until)) = (since, until) {
                anyhow::ensure!(since <= until, "--since must not be after --until");
            }
            let summary =
                carematch_analytics::export_match_logs(&store, since, until, format, &out)
                    .await
                    .with_context(|| format!("exporting match logs to {}", out.display()))?;
            println!(
                "exported {} matches as {} rows to {}",
                summary.matches,
                summary.rows,
                out.display()
            );
        }
        LogsCommand::Prune { older_than } => {
            let days = match older_than {
                Some(text) => {
                    let seconds = crate::parse_duration_seconds(&text)
                        .with_context(|| format!("--older-than {text}"))?;
                    anyhow::ensure!(
                        seconds % 86_400 == 0,
                        "--older-than {text}: give whole days, e.g. 180d"
                    );
                    seconds / 86_400
                }
                None => u64::from(config.settings.match_log.match_log_retention_days),
            };
            let today = chrono::Utc::now().date_naive();
            let cutoff = today
                - chrono::TimeDelta::try_days(i64::try_from(days).unwrap_or(i64::MAX))
                    .context("--older-than is too long")?;
            let deleted = store
                .prune_match_logs(cutoff)
                .await
                .context("pruning match logs")?;
            println!("deleted {deleted} matches from weeks starting before {cutoff}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
