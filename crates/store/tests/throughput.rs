//! Measures batch upsert throughput (the seeding and import path) and match-log batch inserts
//! (the match-log writer's path). Ignored by default; run:
//! `cargo test -p carematch-store --release --test throughput -- --ignored --nocapture`
//! (with `TEST_DATABASE_URL` set to include PostgreSQL; `THROUGHPUT_PROVIDERS` sets the count).

// Unwrapping is how these measurements fail.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Instant;

use carematch_domain::{CareMode, CareType, PaymentFit, Provider, Symptom};
use carematch_store::test_support::{self, TestContext};
use carematch_store::{MatchLogRecord, MatchLogResultRecord};
use support::{full_provider, minimal_provider};

const BATCH_SIZE: usize = 1_000;

fn providers(count: usize) -> Vec<Provider> {
    (0..count as u128)
        .map(|n| {
            // Mostly full providers (18 child rows each), some minimal ones.
            if n % 5 == 4 {
                minimal_provider(n + 1)
            } else {
                full_provider(n + 1)
            }
        })
        .collect()
}

async fn measure(ctx: TestContext) {
    let count: usize = std::env::var("THROUGHPUT_PROVIDERS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_000);
    let providers = providers(count);
    let backend = ctx.store.backend_name();

    for pass in ["insert", "update"] {
        let started = Instant::now();
        for batch in providers.chunks(BATCH_SIZE) {
            ctx.store.upsert_providers(batch).await.unwrap();
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{backend} {pass}: {count} providers in batches of {BATCH_SIZE} in {seconds:.2} s = {:.0} providers/s",
            count as f64 / seconds
        );
    }
    assert_eq!(ctx.store.count_providers().await.unwrap(), count as u64);

    let started = Instant::now();
    let mut streamed = 0;
    let mut stream = std::pin::pin!(ctx.store.stream_providers(BATCH_SIZE as u64));
    while let Some(page) = futures::StreamExt::next(&mut stream).await {
        streamed += page.unwrap().len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{backend} stream: {streamed} providers in pages of {BATCH_SIZE} in {seconds:.2} s = {:.0} providers/s",
        streamed as f64 / seconds
    );
    assert_eq!(streamed, count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it with --ignored --nocapture"]
async fn batch_upsert_throughput_on_sqlite() {
    test_support::run_on_sqlite(measure).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it with --ignored --nocapture"]
async fn batch_upsert_throughput_on_postgres() {
    test_support::run_on_postgres(measure).await;
}

/// What the writer sends: a request with 20 results whose scores, like the engine's, need
/// 16-17 digits, in batches of 2,000 (its default).
fn match_logs(count: usize) -> Vec<MatchLogRecord> {
    let week = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    (0..count as u128)
        .map(|n| MatchLogRecord {
            id: uuid::Uuid::from_u128(n + 1),
            week_start: week,
            state: Some("OR".into()),
            postal_prefix: Some("972".into()),
            radius_km: 25.0,
            care_types_recommended: vec![CareType::PelvicFloorPhysicalTherapy, CareType::Doula],
            care_types_requested: Vec::new(),
            symptoms: vec![Symptom::UrineLeakage, Symptom::LowMood],
            warning_signs: Vec::new(),
            birth_type: None,
            weeks_postpartum_bucket: Some("6-12".into()),
            payer: Some("Aetna".into()),
            has_fsa_or_hsa: false,
            has_referral: false,
            languages: vec!["english".into()],
            modes: vec![CareMode::InPerson],
            text_given: false,
            result_count: 42,
            results_within_radius: 12,
            radius_widened: false,
            cache_hit: false,
            latency_ms: 3.5,
            client_name: Some("web".into()),
            client_version: Some("1.0.0".into()),
            operation: "matchProviders".into(),
            replay_of: None,
            results: (1..=20)
                .map(|rank| {
                    let x = f64::from(rank) + (n % 7) as f64;
                    MatchLogResultRecord {
                        rank,
                        provider_id: support::provider_id(n * 20 + u128::from(rank)),
                        score: 1.0 / (x + 2.0),
                        need_fit: 2.0 / 3.0,
                        distance: 1.0 / (x + 1.0).sqrt(),
                        certification: 1.0,
                        payment: 0.7,
                        availability: 2.0 / 3.0,
                        text: 0.0,
                        payment_fit: PaymentFit::InNetwork,
                        beyond_radius: false,
                    }
                })
                .collect(),
        })
        .collect()
}

async fn measure_match_logs(ctx: TestContext) {
    const WRITER_BATCH: usize = 2_000;
    let count: usize = std::env::var("THROUGHPUT_MATCH_LOGS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_000);
    let logs = match_logs(count);
    let backend = ctx.store.backend_name();
    let started = Instant::now();
    for batch in logs.chunks(WRITER_BATCH) {
        ctx.store.insert_match_logs(batch).await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{backend} match logs: {count} (20 results each) in batches of {WRITER_BATCH} in {seconds:.2} s = {:.0} logs/s",
        count as f64 / seconds
    );
    assert_eq!(
        ctx.scalar("SELECT COUNT(*) FROM match_logs").await,
        count as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it with --ignored --nocapture"]
async fn match_log_insert_throughput_on_sqlite() {
    test_support::run_on_sqlite(measure_match_logs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it with --ignored --nocapture"]
async fn match_log_insert_throughput_on_postgres() {
    test_support::run_on_postgres(measure_match_logs).await;
}
