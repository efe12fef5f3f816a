//! `carematch seed-demo`: deterministic demo providers, generated on a blocking thread in chunks
//! while the previous chunk is written, so generation and inserts overlap.

use std::time::Instant;

use anyhow::Context;
use carematch_store::Store;

/// Providers per generated chunk and per insert transaction.
const CHUNK: u64 = 1_000;

#[derive(Debug, Clone, Copy)]
pub struct SeedSummary {
    pub providers: u64,
    pub seconds: f64,
}

pub async fn seed_demo(store: &Store, count: u64, seed: u64) -> anyhow::Result<SeedSummary> {
    let started = Instant::now();
    let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
    let generator = tokio::task::spawn_blocking(move || {
        let mut start = 0;
        while start < count {
            let end = (start + CHUNK).min(count);
            let providers = carematch_demo::generate_range(seed, start..end);
            if sender.blocking_send(providers).is_err() {
                break;
            }
            start = end;
        }
    });
    let mut written = 0_u64;
    while let Some(providers) = receiver.recv().await {
        let providers = providers.context("generating demo providers")?;
        store
            .upsert_providers(&providers)
            .await
            .context("writing demo providers")?;
        written += providers.len() as u64;
    }
    generator.await.context("demo generator stopped")?;
    Ok(SeedSummary {
        providers: written,
        seconds: started.elapsed().as_secs_f64(),
    })
}
