//! The export read back: Parquet with the Rust parquet reader (the types DuckDB and pandas
//! see), CSV as text.

#![allow(clippy::unwrap_used)]

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int32Type};
use carematch_analytics::{ExportFormat, export_match_logs, export_schema};
use carematch_domain::{
    BirthType, CareMode, CareType, MatchOutcome, PaymentFit, ProviderId, Symptom,
};
use carematch_store::{
    MatchLogRecord, MatchLogResultRecord, MatchOutcomeRecord, Store, StoreOptions,
};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn week() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn provider(n: u128) -> ProviderId {
    ProviderId::from_uuid(uuid::Uuid::from_u128(n))
}

fn result(rank: u32, provider_number: u128, fit: PaymentFit) -> MatchLogResultRecord {
    MatchLogResultRecord {
        rank,
        provider_id: provider(provider_number),
        score: 0.9 - f64::from(rank) / 10.0,
        need_fit: 1.0,
        distance: 0.5,
        certification: 1.0,
        payment: 0.75,
        availability: 1.0,
        text: 0.0,
        payment_fit: fit,
        beyond_radius: rank > 1,
    }
}

fn log(id: u128, results: Vec<MatchLogResultRecord>) -> MatchLogRecord {
    MatchLogRecord {
        id: uuid::Uuid::from_u128(id),
        week_start: week(),
        state: Some("OR".into()),
        postal_prefix: Some("972".into()),
        radius_km: 25.0,
        care_types_recommended: vec![CareType::PelvicFloorPhysicalTherapy, CareType::Doula],
        care_types_requested: Vec::new(),
        symptoms: vec![Symptom::UrineLeakage, Symptom::LowMood],
        warning_signs: Vec::new(),
        birth_type: Some(BirthType::Vaginal),
        weeks_postpartum_bucket: Some("6-12".into()),
        payer: Some("Aetna".into()),
        has_fsa_or_hsa: false,
        has_referral: true,
        languages: vec!["english".into()],
        modes: vec![CareMode::InPerson],
        text_given: false,
        result_count: u32::try_from(results.len()).unwrap(),
        results_within_radius: 1,
        radius_widened: true,
        cache_hit: false,
        latency_ms: 4.25,
        client_name: Some("web".into()),
        client_version: None,
        operation: "matchProviders".into(),
        replay_of: None,
        results,
    }
}

/// Two matches in one week: the first with two results (rank 1 booked), the second a care
/// desert that returned nothing.
async fn store_with_logs(folder: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}/logs.db", folder.path().display());
    let store = Store::connect(&url, &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let with_results = log(
        1,
        vec![
            result(1, 11, PaymentFit::InNetwork),
            result(2, 12, PaymentFit::SelfPay),
        ],
    );
    store
        .insert_match_logs(&[with_results, log(2, Vec::new())])
        .await
        .unwrap();
    store
        .insert_match_outcome(&MatchOutcomeRecord {
            id: uuid::Uuid::from_u128(100),
            match_id: uuid::Uuid::from_u128(1),
            provider_id: provider(11),
            outcome: MatchOutcome::Booked,
            recorded_week: week(),
        })
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn the_parquet_export_reads_back_with_one_row_per_result_and_typed_columns() {
    let folder = tempfile::tempdir().unwrap();
    let store = store_with_logs(&folder).await;
    let path = folder.path().join("logs.parquet");
    let summary = export_match_logs(
        &store,
        Some(week()),
        Some(week()),
        ExportFormat::Parquet,
        &path,
    )
    .await
    .unwrap();
    assert_eq!((summary.matches, summary.rows), (2, 3));

    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let batch = arrow::compute::concat_batches(&export_schema(), &batches).unwrap();
    assert_eq!(batch.num_rows(), 3);
    assert_eq!(
        batch.schema().fields().len(),
        export_schema().fields().len()
    );
    let column = |name: &str| batch.column_by_name(name).unwrap().clone();
    assert_eq!(column("week_start").data_type(), &DataType::Date32);

    let weeks = column("week_start");
    let weeks = weeks.as_primitive::<Date32Type>();
    assert_eq!(weeks.value_as_date(0), Some(week()));
    let match_ids = column("match_id");
    let match_ids = match_ids.as_string::<i32>();
    assert_eq!(match_ids.value(0), uuid::Uuid::from_u128(1).to_string());
    assert_eq!(match_ids.value(2), uuid::Uuid::from_u128(2).to_string());
    let ranks = column("rank");
    let ranks = ranks.as_primitive::<Int32Type>();
    assert_eq!((ranks.value(0), ranks.value(1)), (1, 2));
    assert!(ranks.is_null(2), "the match without results keeps one row");
    let booked = column("booked");
    let booked = booked.as_boolean();
    assert!(booked.value(0));
    assert!(!booked.value(1));
    assert!(booked.is_null(2));
    let symptoms = column("symptoms");
    assert_eq!(
        symptoms.as_string::<i32>().value(0),
        "URINE_LEAKAGE,LOW_MOOD"
    );
    let fits = column("payment_fit");
    assert_eq!(fits.as_string::<i32>().value(1), "SELF_PAY");
    let latency = column("latency_ms");
    assert_eq!(latency.as_primitive::<Float64Type>().value(2), 4.25);
    let versions = column("client_version");
    assert!(versions.is_null(0));
}

#[tokio::test]
async fn the_csv_export_has_a_header_and_quotes_code_lists() {
    let folder = tempfile::tempdir().unwrap();
    let store = store_with_logs(&folder).await;
    let path = folder.path().join("logs.csv");
    let summary = export_match_logs(&store, Some(week()), Some(week()), ExportFormat::Csv, &path)
        .await
        .unwrap();
    assert_eq!(summary.rows, 3);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("match_id,week_start,operation,state,postal_prefix,"));
    assert!(
        lines[1].contains(",2026-11-23,matchProviders,OR,972,25"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("\"URINE_LEAKAGE,LOW_MOOD\""),
        "{}",
        lines[1]
    );
    assert!(lines[3].ends_with(",,,,,,,,,,,,,,,"), "{}", lines[3]);
}

#[tokio::test]
async fn an_export_outside_the_logged_weeks_is_an_empty_file_with_its_columns() {
    let folder = tempfile::tempdir().unwrap();
    let store = store_with_logs(&folder).await;
    let path = folder.path().join("empty.parquet");
    let later = week() + chrono::TimeDelta::weeks(1);
    let summary = export_match_logs(
        &store,
        Some(later),
        Some(later),
        ExportFormat::Parquet,
        &path,
    )
    .await
    .unwrap();
    assert_eq!((summary.matches, summary.rows), (0, 0));
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(
        builder.schema().fields().len(),
        export_schema().fields().len()
    );
}
