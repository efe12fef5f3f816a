//! `carematch seed-demo` (and `serve` on an empty database): deterministic demo providers,
//! generated on a blocking thread in chunks while the store writes the previous chunk, so
//! generation and inserts overlap.
//!
//! The providers are generated in the order of their ids (`carematch_demo::indexes_in_id_order`:
//! the same providers as `0..count`), and written through the store's bulk load, which on an
//! empty database builds the child tables' secondary indexes once at the end. Sorted ids keep
//! every primary-key insert at the right edge of its B-tree; random v4 ids put each one at a
//! random page, which is what made a million-provider seed slow once the indexes outgrew
//! memory (see BENCHMARKS.md, "Seeding").

use std::time::Instant;

use anyhow::Context;
use carematch_store::Store;

/// Providers per generated chunk and per insert transaction.
const CHUNK: usize = 10_000;

#[derive(Debug, Clone, Copy)]
pub struct SeedSummary {
    pub providers: u64,
    pub seconds: f64,
}

pub async fn seed_demo(store: &Store, count: u64, seed: u64) -> anyhow::Result<SeedSummary> {
    let started = Instant::now();
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let generator = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let order = carematch_demo::indexes_in_id_order(seed, count);
        for chunk in order.chunks(CHUNK) {
            let providers = chunk
                .iter()
                .map(|&index| carematch_demo::generate_one(seed, index))
                .collect::<Result<Vec<_>, _>>()
                .context("generating demo providers")?;
            if sender.blocking_send(providers).is_err() {
                // The writer stopped; its error is the one reported.
                break;
            }
        }
        Ok(())
    });
    let batches = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|batch| (batch, receiver))
    });
    let loaded = store
        .bulk_load_providers(batches)
        .await
        .context("writing demo providers");
    let generated = generator.await.context("demo generator stopped")?;
    let summary = loaded?;
    generated?;
    Ok(SeedSummary {
        providers: summary.providers,
        seconds: started.elapsed().as_secs_f64(),
    })
}
