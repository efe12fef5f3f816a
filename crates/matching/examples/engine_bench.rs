//! Whole-run benchmark of the engine over generated providers (carematch-demo): index build
//! time, index size on disk, resident memory, and uncached latency percentiles of a query mix.
//!
//! `cargo run --release -p carematch-matching --example engine_bench -- all DIR COUNT [QUERIES]`
//! builds an index of COUNT providers in DIR, then re-runs itself as a fresh serving process
//! (`query DIR QUERIES`) that reopens the index and measures queries, so the serving memory is
//! not inflated by the build. `build` and `query` run one phase each.
//!
//! The query mix: metro points (the demo's metros, jittered) and rural points (random postal
//! codes), radii 10/25/50 km, one to three symptoms or an asked-for care type, with and
//! without insurance, with and without text. Each query is distinct and nothing is cached.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use carematch_demo::{DemoConfig, METROS, chunks, generate_range};
use carematch_domain::{
    InsurancePlanDraft, LocationQueryDraft, MatchRequest, MatchRequestDraft, Provider, Symptom,
};
use carematch_matching::{Engine, RankingConfig};
use carematch_postal::PostalCodes;
use carematch_search::{IndexOptions, ProviderIndex};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), AnyError> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match arguments.first().map(String::as_str) {
        Some("all") => {
            let directory = PathBuf::from(argument(&arguments, 1)?);
            let count: u64 = argument(&arguments, 2)?.parse()?;
            let queries = arguments
                .get(3)
                .cloned()
                .unwrap_or_else(|| "5000".to_owned());
            build(&directory, count)?;
            let status = std::process::Command::new(std::env::current_exe()?)
                .args(["query", &directory.to_string_lossy(), &queries])
                .status()?;
            if !status.success() {
                return Err("query phase failed".into());
            }
            Ok(())
        }
        Some("build") => build(
            Path::new(&argument(&arguments, 1)?),
            argument(&arguments, 2)?.parse()?,
        ),
        Some("query") => query(
            Path::new(&argument(&arguments, 1)?),
            argument(&arguments, 2)?.parse()?,
        ),
        _ => Err("usage: engine_bench all|build|query DIR [COUNT] [QUERIES]".into()),
    }
}

fn argument(arguments: &[String], position: usize) -> Result<String, AnyError> {
    arguments
        .get(position)
        .cloned()
        .ok_or_else(|| format!("missing argument {position}").into())
}

/// Generates `count` demo providers on a helper thread (chunks of 10,000) into a bounded
/// channel, the way a store export streams rows.
fn stream_providers(
    count: u64,
) -> (
    std::sync::mpsc::Receiver<Provider>,
    std::thread::JoinHandle<()>,
) {
    let (sender, receiver) = sync_channel::<Provider>(20_000);
    let seed = DemoConfig::DEFAULT_SEED;
    let handle = std::thread::spawn(move || {
        for range in chunks(count, 10_000) {
            let Ok(providers) = generate_range(seed, range) else {
                return;
            };
            for provider in providers {
                if sender.send(provider).is_err() {
                    return;
                }
            }
        }
    });
    (receiver, handle)
}

fn build(directory: &Path, count: u64) -> Result<(), AnyError> {
    println!("machine: {} cores", std::thread::available_parallelism()?);
    let _ = PostalCodes::embedded().len();

    let started = Instant::now();
    let (receiver, generator) = stream_providers(count);
    let generated = receiver.into_iter().count();
    let _ = generator.join();
    let generation_only = started.elapsed();
    println!(
        "generation alone: {generated} providers in {:.1} s",
        generation_only.as_secs_f64()
    );

    if directory.exists() {
        std::fs::remove_dir_all(directory)?;
    }
    let index = ProviderIndex::open_or_create_with(directory, IndexOptions::default())?;
    let (receiver, generator) = stream_providers(count);
    let report = index.rebuild(receiver, 1)?;
    let _ = generator.join();
    println!(
        "build: {} providers in {:.1} s (generation included, on its own thread)",
        report.providers,
        report.elapsed.as_secs_f64()
    );
    println!(
        "index size on disk: {:.0} MiB",
        index.disk_size_bytes().unwrap_or(0) as f64 / 1_048_576.0
    );
    println!("build process memory: {}", memory_report());
    Ok(())
}

fn query(directory: &Path, queries: usize) -> Result<(), AnyError> {
    let started = Instant::now();
    let index = Arc::new(ProviderIndex::open_or_create(directory)?);
    println!(
        "reopen: {} providers, generation {:?}, in {:.1} s",
        index.len(),
        index.generation(),
        started.elapsed().as_secs_f64()
    );
    println!("serving process memory after reopen: {}", memory_report());
    let engine = Engine::new(index, PostalCodes::embedded(), RankingConfig::default())?;
    let requests = query_mix(&engine, queries + 200)?;
    // Warm the code paths and the page cache for the index files; every measured query is a
    // different request, and the engine caches nothing.
    for request in &requests[..200] {
        engine.match_providers(request)?;
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(queries);
    let mut text_latencies: Vec<Duration> = Vec::new();
    let mut returned = 0_usize;
    for request in &requests[200..] {
        let started = Instant::now();
        let results = engine.match_providers(request)?;
        let elapsed = started.elapsed();
        returned += results.matches.len();
        latencies.push(elapsed);
        if request.text.is_some() {
            text_latencies.push(elapsed);
        }
    }
    let mut team_latencies: Vec<Duration> = Vec::new();
    for request in requests[200..].iter().take(queries / 5) {
        let started = Instant::now();
        engine.care_team(request)?;
        team_latencies.push(started.elapsed());
    }
    println!(
        "match_providers, {} queries (mean {:.0} matches): {}",
        latencies.len(),
        returned as f64 / latencies.len().max(1) as f64,
        percentiles(&mut latencies)
    );
    println!(
        "  of which with text ({}): {}",
        text_latencies.len(),
        percentiles(&mut text_latencies)
    );
    println!(
        "care_team, {} queries: {}",
        team_latencies.len(),
        percentiles(&mut team_latencies)
    );
    println!("serving process memory after queries: {}", memory_report());
    Ok(())
}

fn percentiles(latencies: &mut [Duration]) -> String {
    if latencies.is_empty() {
        return "none".to_owned();
    }
    latencies.sort();
    let at = |share: f64| {
        let position = ((latencies.len() as f64 * share).ceil() as usize).clamp(1, latencies.len());
        latencies[position - 1].as_secs_f64() * 1_000.0
    };
    format!(
        "p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        at(0.50),
        at(0.95),
        at(0.99),
        at(1.0)
    )
}

/// Resident and peak memory from /proc (Linux).
fn memory_report() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kilobytes| kilobytes.parse::<f64>().ok())
            .map_or("?".to_owned(), |kilobytes| {
                format!("{:.0} MiB", kilobytes / 1024.0)
            })
    };
    format!(
        "RSS {} (anonymous {}, index files mapped {}), peak RSS {}",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:"),
        field("VmHWM:")
    )
}

/// SplitMix64: a small deterministic generator, so every run asks the same queries.
struct QueryRandom(u64);

impl QueryRandom {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

const PAYERS: &[&str] = &[
    "Aetna",
    "Cigna",
    "UnitedHealthcare",
    "Humana",
    "Kaiser Permanente",
];
const TEXTS: &[&str] = &[
    "pelvic floor",
    "c-section scar",
    "diastasis recti",
    "lactation tongue tie",
    "postpartum anxiety",
    "home visits",
    "spanish",
    "pelvic AND (OR",
];

fn query_mix(engine: &Engine, count: usize) -> Result<Vec<MatchRequest>, AnyError> {
    let postal = PostalCodes::embedded();
    let entries = postal.entries();
    let mut random = QueryRandom(7);
    let mut requests = Vec::with_capacity(count);
    while requests.len() < count {
        // Two in three queries from a metro (as the population is), one from anywhere.
        let (latitude, longitude) = if random.below(3) < 2 {
            let metro = &METROS[random.below(METROS.len())];
            (
                metro.latitude + (random.unit() - 0.5) * 0.3,
                metro.longitude + (random.unit() - 0.5) * 0.3,
            )
        } else {
            let entry = &entries[random.below(entries.len())];
            (entry.latitude, entry.longitude)
        };
        let mut draft = MatchRequestDraft::at(LocationQueryDraft {
            latitude: Some(latitude),
            longitude: Some(longitude),
            postal_code: None,
        });
        draft.radius_km = Some([10.0, 25.0, 50.0][random.below(3)]);
        if random.below(6) == 0 {
            draft.care_types = Some(vec![
                carematch_domain::CareType::ALL
                    [random.below(carematch_domain::CareType::ALL.len())],
            ]);
        } else {
            let symptom_count = 1 + random.below(3);
            draft.symptoms = (0..symptom_count)
                .map(|_| Symptom::ALL[random.below(Symptom::ALL.len())])
                .collect();
        }
        if random.below(2) == 0 {
            draft.insurance = Some(InsurancePlanDraft {
                payer: PAYERS[random.below(PAYERS.len())].to_owned(),
                plan: None,
            });
        }
        draft.has_fsa_or_hsa = random.below(3) == 0;
        if random.below(4) == 0 {
            draft.text = Some(TEXTS[random.below(TEXTS.len())].to_owned());
        }
        if let Ok(request) = engine.validate_request(draft) {
            requests.push(request);
        }
    }
    Ok(requests)
}
