//! Criterion benchmarks of the engine over generated providers (carematch-demo) at 10k and
//! 100k: a metro query, a rural query, a query with text, and a care team. Whole-run figures
//! at 1M (build, size, memory, percentiles) come from `examples/engine_bench.rs`.
//!
//! `cargo bench -p carematch-matching --bench engine`

use std::hint::black_box;
use std::sync::Arc;

use carematch_demo::{DemoConfig, generate_range};
use carematch_domain::{MatchRequest, MatchRequestDraft};
use carematch_matching::{Engine, RankingConfig};
use carematch_postal::PostalCodes;
use carematch_search::ProviderIndex;
use criterion::{Criterion, criterion_group, criterion_main};

fn engine_over(count: u64) -> Engine {
    let providers = generate_range(DemoConfig::DEFAULT_SEED, 0..count).expect("demo providers");
    let index = ProviderIndex::in_ram_with(carematch_search::IndexOptions::default())
        .expect("index in RAM");
    index.rebuild(providers, 1).expect("index build");
    Engine::new(
        Arc::new(index),
        PostalCodes::embedded(),
        RankingConfig::default(),
    )
    .expect("engine")
}

fn request(engine: &Engine, json: serde_json::Value) -> MatchRequest {
    let draft: MatchRequestDraft = serde_json::from_value(json).expect("request JSON");
    engine.validate_request(draft).expect("valid request")
}

fn engine_benchmarks(criterion: &mut Criterion) {
    for count in [10_000_u64, 100_000] {
        let engine = engine_over(count);
        let metro = request(
            &engine,
            serde_json::json!({
                "location": {"latitude": 40.73, "longitude": -73.99},
                "radiusKm": 25,
                "symptoms": ["URINE_LEAKAGE", "BACK_PAIN"],
                "insurance": {"payer": "Aetna"}
            }),
        );
        let rural = request(
            &engine,
            serde_json::json!({
                "location": {"latitude": 44.6, "longitude": -119.2},
                "radiusKm": 50,
                "symptoms": ["BREASTFEEDING_DIFFICULTY"]
            }),
        );
        let with_text = request(
            &engine,
            serde_json::json!({
                "location": {"latitude": 34.05, "longitude": -118.24},
                "radiusKm": 10,
                "symptoms": ["ANXIETY"],
                "text": "postpartum anxiety therapy",
                "hasFsaOrHsa": true
            }),
        );
        let mut group = criterion.benchmark_group(format!("engine_{count}"));
        group.bench_function("metro_match", |bencher| {
            bencher.iter(|| engine.match_providers(black_box(&metro)).expect("match"))
        });
        group.bench_function("rural_match", |bencher| {
            bencher.iter(|| engine.match_providers(black_box(&rural)).expect("match"))
        });
        group.bench_function("text_match", |bencher| {
            bencher.iter(|| {
                engine
                    .match_providers(black_box(&with_text))
                    .expect("match")
            })
        });
        group.bench_function("care_team", |bencher| {
            bencher.iter(|| engine.care_team(black_box(&metro)).expect("care team"))
        });
        group.finish();
    }
}

criterion_group!(benches, engine_benchmarks);
criterion_main!(benches);
