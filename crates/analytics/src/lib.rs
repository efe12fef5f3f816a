//! Match-log exports for analysts (issue 6): the joined rows of `match_logs`, their results
//! (packed in `match_logs.results`, the `match_log_results` view) and `match_outcomes`,
//! written as Parquet (through Arrow) or CSV.
//!
//! A crate of its own because Arrow and Parquet take minutes to build: only the `carematch`
//! binary links them, never the API or the store.
//!
//! The shape, documented column by column in `docs/analysts.md`: one row per returned provider
//! of each logged match, the match's columns repeated on each of its rows, and one row with
//! empty result columns for a match that returned nothing (a care desert must not vanish from
//! the export). Dates are Parquet `DATE` (Arrow `Date32`); code lists stay comma-separated
//! strings, as in the tables, so SQL over the tables and over the file read alike
//! (DuckDB `string_split(symptoms, ',')`, pandas `df.symptoms.str.split(',')`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, RecordBatch,
    StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use carematch_domain::MatchOutcome;
use carematch_store::{ExportCursor, ExportedMatch, Store, StoreError};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Matches read from the database per page (and written per Arrow batch).
const PAGE_SIZE: u64 = 1_000;

/// The file formats of `carematch logs export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Snappy-compressed Parquet, one row group per 1,000 matches.
    Parquet,
    /// RFC 4180 CSV with a header row; empty fields are nulls.
    Csv,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "parquet" => Ok(ExportFormat::Parquet),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(format!("unknown format `{other}`: use parquet or csv")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the match logs")]
    Store(#[from] StoreError),
    #[error("writing {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing parquet")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("building arrow batches")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    pub matches: u64,
    pub rows: u64,
}

/// The columns of the export, in order. Result and outcome columns are null on the one row
/// of a match without results.
pub fn export_schema() -> SchemaRef {
    use DataType::{Boolean, Date32, Float64, Int32, Utf8};
    let column =
        |name: &str, data_type: DataType, nullable: bool| Field::new(name, data_type, nullable);
    Arc::new(Schema::new(vec![
        column("match_id", Utf8, false),
        column("week_start", Date32, false),
        column("operation", Utf8, false),
        column("state", Utf8, true),
        column("postal_prefix", Utf8, true),
        column("radius_km", Float64, false),
        column("care_types_recommended", Utf8, false),
        column("care_types_requested", Utf8, false),
        column("symptoms", Utf8, false),
        column("warning_signs", Utf8, false),
        column("birth_type", Utf8, true),
        column("weeks_postpartum_bucket", Utf8, true),
        column("payer", Utf8, true),
        column("has_fsa_or_hsa", Boolean, false),
        column("has_referral", Boolean, false),
        column("languages", Utf8, false),
        column("modes", Utf8, false),
        column("text_given", Boolean, false),
        column("result_count", Int32, false),
        column("results_within_radius", Int32, false),
        column("radius_widened", Boolean, false),
        column("cache_hit", Boolean, false),
        column("latency_ms", Float64, false),
        column("client_name", Utf8, true),
        column("client_version", Utf8, true),
        column("rank", Int32, true),
        column("provider_id", Utf8, true),
        column("score", Float64, true),
        column("score_need_fit", Float64, true),
        column("score_distance", Float64, true),
        column("score_certification", Float64, true),
        column("score_payment", Float64, true),
        column("score_availability", Float64, true),
        column("score_text", Float64, true),
        column("payment_fit", Utf8, true),
        column("beyond_radius", Boolean, true),
        column("viewed", Boolean, true),
        column("contacted", Boolean, true),
        column("booked", Boolean, true),
        column("dismissed", Boolean, true),
    ]))
}

/// Column builders for one batch, in schema order.
#[derive(Default)]
struct Columns {
    match_id: StringBuilder,
    week_start: Date32Builder,
    operation: StringBuilder,
    state: StringBuilder,
    postal_prefix: StringBuilder,
    radius_km: Float64Builder,
    care_types_recommended: StringBuilder,
    care_types_requested: StringBuilder,
    symptoms: StringBuilder,
    warning_signs: StringBuilder,
    birth_type: StringBuilder,
    weeks_postpartum_bucket: StringBuilder,
    payer: StringBuilder,
    has_fsa_or_hsa: BooleanBuilder,
    has_referral: BooleanBuilder,
    languages: StringBuilder,
    modes: StringBuilder,
    text_given: BooleanBuilder,
    result_count: Int32Builder,
    results_within_radius: Int32Builder,
    radius_widened: BooleanBuilder,
    cache_hit: BooleanBuilder,
    latency_ms: Float64Builder,
    client_name: StringBuilder,
    client_version: StringBuilder,
    rank: Int32Builder,
    provider_id: StringBuilder,
    score: Float64Builder,
    score_need_fit: Float64Builder,
    score_distance: Float64Builder,
    score_certification: Float64Builder,
    score_payment: Float64Builder,
    score_availability: Float64Builder,
    score_text: Float64Builder,
    payment_fit: StringBuilder,
    beyond_radius: BooleanBuilder,
    viewed: BooleanBuilder,
    contacted: BooleanBuilder,
    booked: BooleanBuilder,
    dismissed: BooleanBuilder,
    rows: u64,
}

fn codes<T: Copy>(items: &[T], code: fn(T) -> &'static str) -> String {
    items
        .iter()
        .map(|item| code(*item))
        .collect::<Vec<_>>()
        .join(",")
}

/// Days from 1970-01-01, as Arrow's `Date32` counts them.
fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((date - epoch).num_days()).unwrap_or(i32::MAX)
}

fn count_i32(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

impl Columns {
    fn push_match(&mut self, exported: &ExportedMatch) {
        let log = &exported.log;
        if log.results.is_empty() {
            self.push_log_columns(exported);
            self.rank.append_null();
            self.provider_id.append_null();
            for score in [
                &mut self.score,
                &mut self.score_need_fit,
                &mut self.score_distance,
                &mut self.score_certification,
                &mut self.score_payment,
                &mut self.score_availability,
                &mut self.score_text,
            ] {
                score.append_null();
            }
            self.payment_fit.append_null();
            for flag in [
                &mut self.beyond_radius,
                &mut self.viewed,
                &mut self.contacted,
                &mut self.booked,
                &mut self.dismissed,
            ] {
                flag.append_null();
            }
            self.rows += 1;
            return;
        }
        for result in &log.results {
            self.push_log_columns(exported);
            self.rank.append_value(count_i32(result.rank));
            self.provider_id
                .append_value(result.provider_id.as_uuid().to_string());
            self.score.append_value(result.score);
            self.score_need_fit.append_value(result.need_fit);
            self.score_distance.append_value(result.distance);
            self.score_certification.append_value(result.certification);
            self.score_payment.append_value(result.payment);
            self.score_availability.append_value(result.availability);
            self.score_text.append_value(result.text);
            self.payment_fit.append_value(result.payment_fit.code());
            self.beyond_radius.append_value(result.beyond_radius);
            let recorded = |outcome: MatchOutcome| {
                exported.outcomes.iter().any(|recorded| {
                    recorded.provider_id == result.provider_id && recorded.outcome == outcome
                })
            };
            self.viewed.append_value(recorded(MatchOutcome::Viewed));
            self.contacted
                .append_value(recorded(MatchOutcome::Contacted));
            self.booked.append_value(recorded(MatchOutcome::Booked));
            self.dismissed
                .append_value(recorded(MatchOutcome::Dismissed));
            self.rows += 1;
        }
    }

    fn push_log_columns(&mut self, exported: &ExportedMatch) {
        let log = &exported.log;
        self.match_id.append_value(log.id.to_string());
        self.week_start
            .append_value(days_since_epoch(log.week_start));
        self.operation.append_value(&log.operation);
        self.state.append_option(log.state.as_deref());
        self.postal_prefix
            .append_option(log.postal_prefix.as_deref());
        self.radius_km.append_value(log.radius_km);
        self.care_types_recommended
            .append_value(codes(&log.care_types_recommended, |care| care.code()));
        self.care_types_requested
            .append_value(codes(&log.care_types_requested, |care| care.code()));
        self.symptoms
            .append_value(codes(&log.symptoms, |symptom| symptom.code()));
        self.warning_signs
            .append_value(codes(&log.warning_signs, |sign| sign.code()));
        self.birth_type
            .append_option(log.birth_type.map(|birth_type| birth_type.code()));
        self.weeks_postpartum_bucket
            .append_option(log.weeks_postpartum_bucket.as_deref());
        self.payer.append_option(log.payer.as_deref());
        self.has_fsa_or_hsa.append_value(log.has_fsa_or_hsa);
        self.has_referral.append_value(log.has_referral);
        self.languages.append_value(log.languages.join(","));
        self.modes
            .append_value(codes(&log.modes, |mode| mode.code()));
        self.text_given.append_value(log.text_given);
        self.result_count.append_value(count_i32(log.result_count));
        self.results_within_radius
            .append_value(count_i32(log.results_within_radius));
        self.radius_widened.append_value(log.radius_widened);
        self.cache_hit.append_value(log.cache_hit);
        self.latency_ms.append_value(log.latency_ms);
        self.client_name.append_option(log.client_name.as_deref());
        self.client_version
            .append_option(log.client_version.as_deref());
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch, arrow::error::ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.match_id.finish()),
            Arc::new(self.week_start.finish()),
            Arc::new(self.operation.finish()),
            Arc::new(self.state.finish()),
            Arc::new(self.postal_prefix.finish()),
            Arc::new(self.radius_km.finish()),
            Arc::new(self.care_types_recommended.finish()),
            Arc::new(self.care_types_requested.finish()),
            Arc::new(self.symptoms.finish()),
            Arc::new(self.warning_signs.finish()),
            Arc::new(self.birth_type.finish()),
            Arc::new(self.weeks_postpartum_bucket.finish()),
            Arc::new(self.payer.finish()),
            Arc::new(self.has_fsa_or_hsa.finish()),
            Arc::new(self.has_referral.finish()),
            Arc::new(self.languages.finish()),
            Arc::new(self.modes.finish()),
            Arc::new(self.text_given.finish()),
            Arc::new(self.result_count.finish()),
            Arc::new(self.results_within_radius.finish()),
            Arc::new(self.radius_widened.finish()),
            Arc::new(self.cache_hit.finish()),
            Arc::new(self.latency_ms.finish()),
            Arc::new(self.client_name.finish()),
            Arc::new(self.client_version.finish()),
            Arc::new(self.rank.finish()),
            Arc::new(self.provider_id.finish()),
            Arc::new(self.score.finish()),
            Arc::new(self.score_need_fit.finish()),
            Arc::new(self.score_distance.finish()),
            Arc::new(self.score_certification.finish()),
            Arc::new(self.score_payment.finish()),
            Arc::new(self.score_availability.finish()),
            Arc::new(self.score_text.finish()),
            Arc::new(self.payment_fit.finish()),
            Arc::new(self.beyond_radius.finish()),
            Arc::new(self.viewed.finish()),
            Arc::new(self.contacted.finish()),
            Arc::new(self.booked.finish()),
            Arc::new(self.dismissed.finish()),
        ];
        self.rows = 0;
        RecordBatch::try_new(Arc::clone(schema), columns)
    }
}

/// Where batches go.
enum Sink {
    Parquet(Box<ArrowWriter<File>>),
    Csv(BufWriter<File>),
}

impl Sink {
    fn create(path: &Path, format: ExportFormat, schema: &SchemaRef) -> Result<Self, ExportError> {
        let io_error = |source| ExportError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File::create(path).map_err(io_error)?;
        match format {
            ExportFormat::Parquet => {
                let properties = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                Ok(Sink::Parquet(Box::new(ArrowWriter::try_new(
                    file,
                    Arc::clone(schema),
                    Some(properties),
                )?)))
            }
            ExportFormat::Csv => {
                let mut writer = BufWriter::new(file);
                let header = schema
                    .fields()
                    .iter()
                    .map(|field| field.name().as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                writeln!(writer, "{header}").map_err(io_error)?;
                Ok(Sink::Csv(writer))
            }
        }
    }

    fn write(&mut self, batch: &RecordBatch, path: &Path) -> Result<(), ExportError> {
        match self {
            Sink::Parquet(writer) => Ok(writer.write(batch)?),
            Sink::Csv(writer) => write_csv_rows(writer, batch).map_err(|source| match source {
                CsvError::Io(source) => ExportError::Io {
                    path: path.display().to_string(),
                    source,
                },
                CsvError::Arrow(error) => ExportError::Arrow(error),
            }),
        }
    }

    fn close(self, path: &Path) -> Result<(), ExportError> {
        match self {
            Sink::Parquet(writer) => {
                writer.close()?;
                Ok(())
            }
            Sink::Csv(mut writer) => writer.flush().map_err(|source| ExportError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

enum CsvError {
    Io(std::io::Error),
    Arrow(arrow::error::ArrowError),
}

/// Writes rows with RFC 4180 quoting: a field holding a comma, quote or line break is quoted
/// (code lists always are), quotes doubled; a null is an empty field; dates are `YYYY-MM-DD`.
fn write_csv_rows(writer: &mut impl Write, batch: &RecordBatch) -> Result<(), CsvError> {
    let options = FormatOptions::default();
    let formatters = batch
        .columns()
        .iter()
        .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CsvError::Arrow)?;
    let mut line = String::new();
    for row in 0..batch.num_rows() {
        line.clear();
        for (index, formatter) in formatters.iter().enumerate() {
            if index > 0 {
                line.push(',');
            }
            let value = formatter.value(row).to_string();
            if value.contains([',', '"', '\n', '\r']) {
                line.push('"');
                line.push_str(&value.replace('"', "\"\""));
                line.push('"');
            } else {
                line.push_str(&value);
            }
        }
        line.push('\n');
        writer.write_all(line.as_bytes()).map_err(CsvError::Io)?;
    }
    Ok(())
}

/// Writes the matches whose week starts between `since` and `until` (inclusive) to `path`; a
/// missing bound does not limit that side, so neither exports every match.
pub async fn export_match_logs(
    store: &Store,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
    format: ExportFormat,
    path: &Path,
) -> Result<ExportSummary, ExportError> {
    let schema = export_schema();
    let mut sink = Sink::create(path, format, &schema)?;
    let mut summary = ExportSummary {
        matches: 0,
        rows: 0,
    };
    let mut cursor: Option<ExportCursor> = None;
    loop {
        let (page, next) = store
            .export_match_logs(since, until, cursor, PAGE_SIZE)
            .await?;
        if !page.is_empty() {
            let mut columns = Columns::default();
            for exported in &page {
                columns.push_match(exported);
            }
            summary.matches += page.len() as u64;
            summary.rows += columns.rows;
            let batch = columns.finish(&schema)?;
            sink.write(&batch, path)?;
        }
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    sink.close(path)?;
    Ok(summary)
}
