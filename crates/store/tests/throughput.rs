//! Measures batch upsert throughput (the seeding and import path). Ignored by default; run:
//! `cargo test -p carematch-store --release --test throughput -- --ignored --nocapture`
//! (with `TEST_DATABASE_URL` set to include PostgreSQL; `THROUGHPUT_PROVIDERS` sets the count).

// Unwrapping is how these measurements fail.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Instant;

use carematch_domain::Provider;
use support::{TestContext, full_provider, minimal_provider};

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
    support::run_on_sqlite(measure).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it with --ignored --nocapture"]
async fn batch_upsert_throughput_on_postgres() {
    support::run_on_postgres(measure).await;
}
