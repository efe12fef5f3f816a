//! `carematch import FILE.jsonl` and `carematch export FILE.jsonl`: providers as JSON Lines in
//! the contract's `ProviderInput` shape. A bad line is reported with its number and field and
//! writes nothing; good lines are upserted in batches.
//!
//! `carematch import nppes FILE.csv` and `carematch import fhir FILE` run the importers of
//! `carematch-ingest` with a progress bar on a terminal and print their summary. Their exit
//! code is non-zero only when a record failed (bad data worth a look); records skipped by rule
//! (deactivated, unmapped taxonomy, ...) are normal and counted.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use carematch_domain::{Provider, ProviderDraft, ProviderId};
use carematch_store::{Store, UpsertOutcome};
use futures::StreamExt;

/// Lines per insert transaction.
const BATCH: usize = 500;

/// A line that was not imported, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFailure {
    pub line: u64,
    pub problem: String,
}

#[derive(Debug, Default)]
pub struct ImportSummary {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub failures: Vec<LineFailure>,
}

impl ImportSummary {
    pub fn describe(&self) -> String {
        format!(
            "read {} lines: imported {} ({} created, {} updated), failed {}",
            self.read,
            self.created + self.updated,
            self.created,
            self.updated,
            self.failures.len()
        )
    }
}

/// Reads providers line by line; blank lines are skipped. A line that is not UTF-8 is one bad
/// line, reported by number like any other. Only an I/O error stops the import, and the lines
/// read before it are written first.
pub async fn import_jsonl(
    store: &Store,
    mut reader: impl BufRead,
) -> anyhow::Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let mut batch: Vec<(u64, Provider)> = Vec::with_capacity(BATCH);
    let mut ids_in_batch: HashSet<ProviderId> = HashSet::new();
    let mut bytes = Vec::new();
    let mut line_number = 0_u64;
    loop {
        bytes.clear();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                write_batch(store, &mut batch, &mut summary).await;
                return Err(error).with_context(|| {
                    format!("reading line {}: {}", line_number + 1, summary.describe())
                });
            }
        }
        line_number += 1;
        let line = match std::str::from_utf8(&bytes) {
            Ok(line) => line,
            Err(error) => {
                summary.read += 1;
                summary.failures.push(LineFailure {
                    line: line_number,
                    problem: format!(
                        "not valid UTF-8 (at byte {} of the line)",
                        error.valid_up_to() + 1
                    ),
                });
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        summary.read += 1;
        match parse_line(line) {
            Ok(provider) => {
                // The same id twice in one transaction would be one write; keep file order.
                if !ids_in_batch.insert(provider.id) {
                    write_batch(store, &mut batch, &mut summary).await;
                    ids_in_batch = HashSet::from([provider.id]);
                }
                batch.push((line_number, provider));
                if batch.len() >= BATCH {
                    write_batch(store, &mut batch, &mut summary).await;
                    ids_in_batch.clear();
                }
            }
            Err(problem) => summary.failures.push(LineFailure {
                line: line_number,
                problem,
            }),
        }
    }
    write_batch(store, &mut batch, &mut summary).await;
    summary.failures.sort_by_key(|failure| failure.line);
    Ok(summary)
}

/// Parses and validates one line; the error names the field (`locations[0].latitude: ...`).
fn parse_line(line: &str) -> Result<Provider, String> {
    let deserializer = &mut serde_json::Deserializer::from_str(line);
    let draft: ProviderDraft = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if path.is_empty() || path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    draft
        .validate(ProviderId::from_uuid(uuid::Uuid::new_v4()))
        .map_err(|error| error.to_string())
}

/// Writes a batch in one transaction; when that fails (say one NPI belongs to another provider),
/// writes its providers one by one so only the offending lines fail.
async fn write_batch(store: &Store, batch: &mut Vec<(u64, Provider)>, summary: &mut ImportSummary) {
    if batch.is_empty() {
        return;
    }
    let providers: Vec<Provider> = batch.iter().map(|(_, provider)| provider.clone()).collect();
    match store.upsert_providers(&providers).await {
        Ok(outcomes) => outcomes.iter().for_each(|outcome| count(summary, *outcome)),
        Err(_) => {
            for (line, provider) in batch.iter() {
                match store.upsert_provider(provider).await {
                    Ok(outcome) => count(summary, outcome),
                    Err(error) => summary.failures.push(LineFailure {
                        line: *line,
                        problem: error.to_string(),
                    }),
                }
            }
        }
    }
    batch.clear();
}

fn count(summary: &mut ImportSummary, outcome: UpsertOutcome) {
    match outcome {
        UpsertOutcome::Created => summary.created += 1,
        UpsertOutcome::Updated => summary.updated += 1,
    }
}

/// Writes every provider, one JSON object per line, in id order. Returns how many.
pub async fn export_jsonl(store: &Store, path: &Path) -> anyhow::Result<u64> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let mut written = 0_u64;
    let mut pages = std::pin::pin!(store.stream_providers(1_000));
    while let Some(page) = pages.next().await {
        for provider in page.context("reading providers")? {
            serde_json::to_writer(&mut writer, &provider.to_draft())?;
            writer.write_all(b"\n")?;
            written += 1;
        }
    }
    writer.flush()?;
    Ok(written)
}

/// The most failures printed one per line; the summary still counts them all.
const MAX_FAILURES_PRINTED: usize = 1_000;

/// Which registry or directory format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryFormat {
    Nppes,
    Fhir,
}

/// Imports an NPPES CSV or a FHIR Plan-Net file, drawing a progress bar on a terminal, then
/// prints failures (stderr) and the summary (stdout).
pub async fn import_directory(
    store: &Store,
    format: DirectoryFormat,
    path: &Path,
    batch_size: usize,
) -> anyhow::Result<carematch_ingest::ImportSummary> {
    let progress = Arc::new(TerminalProgress::new());
    let summary = match format {
        DirectoryFormat::Nppes => {
            carematch_ingest::nppes::import_nppes_file(
                store,
                path,
                progress,
                carematch_ingest::nppes::NppesOptions { batch_size },
            )
            .await
        }
        DirectoryFormat::Fhir => {
            carematch_ingest::fhir::import_fhir_file(store, path, progress).await
        }
    }
    .with_context(|| format!("importing {}", path.display()))?;
    for failure in summary.failures.iter().take(MAX_FAILURES_PRINTED) {
        eprintln!("{failure}");
    }
    if summary.failures.len() > MAX_FAILURES_PRINTED {
        eprintln!(
            "... and {} more failures",
            summary.failures.len() - MAX_FAILURES_PRINTED
        );
    }
    println!("{}", summary.describe());
    Ok(summary)
}

/// Ids per change event: one event stays a small message.
const IDS_PER_EVENT: usize = 1_000;

/// Tells running servers which providers an import changed, over redis when configured, so
/// they apply them within a second; without redis (or if this fails) their periodic catch-up
/// finds the writes in the database.
pub async fn announce_changes(
    config: &crate::config::Config,
    store: &Store,
    changed: &[carematch_domain::ProviderId],
) {
    if changed.is_empty() {
        return;
    }
    let feed = match crate::serve::redis_link(config) {
        Ok(Some(link)) => {
            carematch_cache::ChangeFeed::new(link, format!("import-{}", uuid::Uuid::new_v4()))
        }
        _ => {
            tracing::info!(
                changed = changed.len(),
                "import written; servers pick it up at their next catch-up"
            );
            return;
        }
    };
    let generation = match store.data_generation().await {
        Ok(generation) => u64::try_from(generation).unwrap_or_default(),
        Err(error) => {
            tracing::warn!(%error, "import written; change events not sent, servers catch up");
            return;
        }
    };
    for ids in changed.chunks(IDS_PER_EVENT) {
        if let Err(error) = feed.publish(generation, ids.to_vec(), Vec::new()).await {
            tracing::warn!(%error, "import written; change events not sent, servers catch up");
            return;
        }
    }
    tracing::info!(
        changed = changed.len(),
        "import written and announced to servers"
    );
}

/// A byte-position progress bar on stderr, drawn only when stderr is a terminal (so logs and
/// CI output stay clean).
struct TerminalProgress {
    bar: indicatif::ProgressBar,
}

impl TerminalProgress {
    fn new() -> Self {
        use std::io::IsTerminal;
        let target = if std::io::stderr().is_terminal() {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        };
        let bar = indicatif::ProgressBar::with_draw_target(None, target);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        ) {
            bar.set_style(style);
        }
        Self { bar }
    }
}

impl carematch_ingest::Progress for TerminalProgress {
    fn start(&self, total_bytes: u64) {
        self.bar.set_length(total_bytes);
    }

    fn advance_to(&self, bytes_read: u64) {
        self.bar.set_position(bytes_read);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
