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
//!
//! `engine_bench postgis DIR COUNT QUERIES DATABASE_URL` is the PostGIS comparison: it writes
//! the same COUNT demo providers to PostGIS with COPY (one row per provider location, plus one
//! row per telehealth licence state or open online group), indexes, clusters and vacuums them,
//! then runs the same query mix through the engine (reopening the index in DIR, built by
//! `build`) and as one prepared SQL statement on one connection, and prints both sets of
//! percentiles.

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
        Some("http-mix") => http_mix(
            Path::new(&argument(&arguments, 1)?),
            argument(&arguments, 2)?.parse()?,
        ),
        Some("postgis") => postgis::run(
            Path::new(&argument(&arguments, 1)?),
            argument(&arguments, 2)?.parse()?,
            argument(&arguments, 3)?.parse()?,
            &argument(&arguments, 4)?,
        ),
        _ => Err(
            "usage: engine_bench all|build|query|http-mix DIR [COUNT] [QUERIES] | postgis DIR COUNT QUERIES URL"
                .into(),
        ),
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
        "reopen: {} providers, generation {:?}, in {:.1} s, catalog from {}",
        index.len(),
        index.generation(),
        started.elapsed().as_secs_f64(),
        if index.opened_from_snapshot() {
            "snapshot"
        } else {
            "documents"
        }
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
    println!("{}", index_memory_report(engine.index()));
    Ok(())
}

/// The in-memory index by part (`ProviderIndex::memory`), in MiB.
fn index_memory_report(index: &ProviderIndex) -> String {
    let memory = index.memory();
    let catalog = memory.catalog;
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    format!(
        "index memory by part: summaries {:.0} MiB ({} providers), id map and free slots {:.0} MiB, \
         R*-trees {:.0} MiB ({} leaves), remote pools {:.0} MiB ({} entries), vocabularies {:.1} MiB, \
         document addresses {:.0} MiB, in all {:.0} MiB; hydrated providers kept: {}",
        mib(catalog.summaries_bytes),
        catalog.summaries,
        mib(catalog.slots_bytes),
        mib(catalog.trees_bytes),
        catalog.tree_leaves,
        mib(catalog.remote_pools_bytes),
        catalog.remote_entries,
        mib(catalog.vocabularies_bytes),
        mib(memory.document_addresses_bytes),
        mib(catalog.total_bytes() + memory.document_addresses_bytes),
        memory.hydrated_providers
    )
}

/// `Engine::rank` alone (no words, no hydration) on the HTTP benchmark's uncached mix
/// (`bench/http/match.lua`): its 16 metro postal codes, a radius of 5-50 km, one of its six
/// symptoms. The in-process share of an uncached HTTP request that ranking costs.
fn http_mix(directory: &Path, queries: usize) -> Result<(), AnyError> {
    const POSTAL: &[&str] = &[
        "97205", "10001", "60614", "94110", "30303", "75201", "98101", "02139", "80202", "33101",
        "85004", "19104", "48201", "55401", "63101", "37203",
    ];
    const SYMPTOMS: &[Symptom] = &[
        Symptom::UrineLeakage,
        Symptom::LowMood,
        Symptom::PelvicPain,
        Symptom::BreastfeedingDifficulty,
        Symptom::BackPain,
        Symptom::Anxiety,
    ];
    let index = Arc::new(ProviderIndex::open_or_create(directory)?);
    let engine = Engine::new(index, PostalCodes::embedded(), RankingConfig::default())?;
    let mut random = QueryRandom(11);
    let mut requests = Vec::with_capacity(queries + 200);
    while requests.len() < queries + 200 {
        let n = random.below(1_000_000);
        let mut draft = MatchRequestDraft::at(LocationQueryDraft {
            latitude: None,
            longitude: None,
            postal_code: Some(POSTAL[n % POSTAL.len()].to_owned()),
        });
        draft.radius_km = Some(5.0 + random.unit() * 45.0);
        draft.symptoms = vec![SYMPTOMS[n % SYMPTOMS.len()]];
        requests.push(engine.validate_request(draft)?);
    }
    for request in &requests[..200] {
        engine.rank(request)?;
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(queries);
    let started = Instant::now();
    for request in &requests[200..] {
        let one = Instant::now();
        engine.rank(request)?;
        latencies.push(one.elapsed());
    }
    let total = started.elapsed();
    println!(
        "rank, HTTP uncached mix, {} queries: mean {:.1} µs, {}",
        latencies.len(),
        total.as_secs_f64() * 1e6 / latencies.len().max(1) as f64,
        percentiles(&mut latencies)
    );
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
                care_types: Vec::new(),
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

/// The PostGIS comparison: the same providers and the same query mix, as SQL.
mod postgis {
    use std::fmt::Write as _;
    use std::path::Path;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use carematch_domain::{
        CareMode, CareType, CertificationScope, MatchRequest, Provider, Symptom,
    };
    use carematch_matching::{Engine, RankingConfig};
    use carematch_postal::PostalCodes;
    use carematch_search::ProviderIndex;
    use sqlx::{Connection, PgConnection, Row};

    use super::{AnyError, percentiles, query_mix, stream_providers};

    const SCHEMA: &str = "
        DROP TABLE IF EXISTS site;
        DROP TABLE IF EXISTS remote;
        CREATE EXTENSION IF NOT EXISTS postgis;
        CREATE TABLE site (
            pid integer NOT NULL,
            geog geography(Point, 4326) NOT NULL,
            care_types integer NOT NULL,
            accepting boolean NOT NULL,
            modes integer NOT NULL,
            languages text[] NOT NULL,
            payers text[] NOT NULL,
            cert_level smallint NOT NULL,
            treats integer NOT NULL,
            fsa boolean NOT NULL,
            superbill boolean NOT NULL,
            referral boolean NOT NULL
        );
        CREATE TABLE remote (
            pid integer NOT NULL,
            region text NOT NULL,
            care_types integer NOT NULL,
            accepting boolean NOT NULL,
            modes integer NOT NULL,
            languages text[] NOT NULL,
            payers text[] NOT NULL,
            cert_level smallint NOT NULL,
            treats integer NOT NULL,
            fsa boolean NOT NULL,
            superbill boolean NOT NULL,
            referral boolean NOT NULL
        );";

    const INDEXES: &[&str] = &[
        "CREATE INDEX site_geog ON site USING gist (geog)",
        "CREATE INDEX site_pid ON site (pid)",
        "CREATE INDEX site_care_types ON site (care_types) WHERE accepting",
        "CREATE INDEX site_languages ON site USING gin (languages)",
        "CREATE INDEX site_payers ON site USING gin (payers)",
        "CREATE INDEX remote_region ON remote (region, care_types)",
        "CREATE INDEX remote_languages ON remote USING gin (languages)",
    ];

    /// Candidates (within the radius, accepting, of a care type of her plan, in a physical
    /// mode she accepts, speaking her language; or telehealth licensed in her state, or an
    /// open online group) scored with the engine's weights and constants, one score per
    /// provider (its best location), the top 200.
    const MATCH_SQL: &str = "
        WITH hits AS (
            SELECT s.pid, s.care_types, s.modes, s.cert_level, s.treats, s.payers, s.fsa,
                   s.superbill, s.referral,
                   exp(ln(0.5) * power(greatest(0.0, ST_Distance(s.geog,
                       ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, false) / 1000.0 - 1.0)
                       / 10.0, 2)) AS distance_score
            FROM site s
            WHERE ST_DWithin(s.geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, $3, false)
              AND s.accepting AND s.care_types & $4 <> 0 AND s.modes & $13 <> 0
              AND (cardinality($12::text[]) = 0 OR s.languages && $12::text[])
            UNION ALL
            SELECT r.pid, r.care_types, r.modes, r.cert_level, r.treats, r.payers, r.fsa,
                   r.superbill, r.referral, 0.5
            FROM remote r
            WHERE $14 AND r.region IN ($11, '*') AND r.accepting AND r.care_types & $4 <> 0
              AND (cardinality($12::text[]) = 0 OR r.languages && $12::text[])
        ),
        scored AS (
            SELECT pid,
                0.30 * (CASE WHEN care_types & $5 <> 0 THEN 1.0
                             WHEN care_types & $6 <> 0 THEN 0.7 ELSE 0.5 END)
                     * (CASE WHEN $8 = 0 THEN 1.0
                             ELSE 0.25 + 0.75 * bit_count((treats & $7)::bit(32)) / $8 END)
              + 0.20 * distance_score
              + 0.20 * (CASE cert_level WHEN 5 THEN 1.0 WHEN 4 THEN 0.9 WHEN 3 THEN 0.65
                                        WHEN 2 THEN 0.45 WHEN 1 THEN 0.3 ELSE 0.15 END)
              + 0.20 * (CASE WHEN $9 <> '' AND $9 = ANY(payers) THEN 1.0
                             WHEN $9 <> '' AND superbill THEN 0.7
                             WHEN $10 AND fsa THEN 0.55
                             ELSE 0.2 END)
                     * (CASE WHEN referral AND NOT $15 THEN 0.75 ELSE 1.0 END)
              + 0.05 * (CASE bit_count(modes::bit(32)) WHEN 1 THEN 0.6 WHEN 2 THEN 0.8
                                                       ELSE 1.0 END) AS score
            FROM hits
        )
        SELECT pid, max(score)::float8 AS score FROM scored
        GROUP BY pid ORDER BY score DESC, pid LIMIT 200";

    fn bit<T: PartialEq>(all: &[T], value: &T) -> i32 {
        all.iter()
            .position(|candidate| candidate == value)
            .map_or(0, |position| 1 << position)
    }

    fn mask<'a, T: PartialEq + 'a>(all: &[T], values: impl IntoIterator<Item = &'a T>) -> i32 {
        values
            .into_iter()
            .fold(0, |mask, value| mask | bit(all, value))
    }

    /// Text-format COPY array literal; the demo's values hold no quotes, backslashes or tabs,
    /// and any that did are dropped rather than escaped.
    fn array<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
        let mut literal = String::from("{");
        for (position, value) in values.into_iter().enumerate() {
            if position > 0 {
                literal.push(',');
            }
            literal.push('"');
            literal.extend(
                value
                    .to_lowercase()
                    .chars()
                    .filter(|character| !matches!(character, '"' | '\\' | '\t' | '\n' | '\r')),
            );
            literal.push('"');
        }
        literal.push('}');
        literal
    }

    /// 5 the strongest credential verified (IBCLC), 4 perinatal verified, 3 perinatal
    /// self-reported, 2 general verified, 1 general self-reported, 0 none.
    fn certification_level(provider: &Provider) -> i16 {
        provider
            .certifications
            .iter()
            .map(
                |certification| match (certification.scope, certification.verified) {
                    (_, true) if certification.name.to_uppercase().contains("IBCLC") => 5,
                    (CertificationScope::Perinatal, true) => 4,
                    (CertificationScope::Perinatal, false) => 3,
                    (CertificationScope::General, true) => 2,
                    (CertificationScope::General, false) => 1,
                },
            )
            .max()
            .unwrap_or(0)
    }

    /// The columns after pid (and region) shared by both tables.
    fn attributes(provider: &Provider, care_types: i32) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            care_types,
            if provider.accepting_new_clients {
                "t"
            } else {
                "f"
            },
            mask(CareMode::ALL, &provider.modes),
            array(provider.languages.iter().map(|language| language.as_str())),
            array(provider.insurance.iter().map(|plan| plan.payer.as_str())),
            certification_level(provider),
            mask(Symptom::ALL, &provider.treats),
            if provider.accepts_fsa_hsa { "t" } else { "f" },
            if provider.provides_superbill {
                "t"
            } else {
                "f"
            },
            if provider.requires_referral { "t" } else { "f" },
        )
    }

    async fn load(connection: &mut PgConnection, count: u64) -> Result<(u64, u64), AnyError> {
        sqlx::raw_sql(SCHEMA).execute(&mut *connection).await?;
        let group = bit(CareType::ALL, &CareType::SupportGroup);
        let licensed_care = CareType::ALL
            .iter()
            .filter(|care_type| care_type.needs_state_licence())
            .fold(0, |mask, care_type| mask | bit(CareType::ALL, care_type));
        let (receiver, generator) = stream_providers(count);
        let mut remote_rows = String::new();
        let mut sites = 0_u64;
        let mut remotes = 0_u64;
        let mut copy = connection
            .copy_in_raw(
                "COPY site (pid, geog, care_types, accepting, modes, languages, payers, \
                 cert_level, treats, fsa, superbill, referral) FROM STDIN",
            )
            .await?;
        let mut buffer = String::with_capacity(1 << 22);
        for (pid, provider) in receiver.into_iter().enumerate() {
            let care_types = mask(CareType::ALL, &provider.care_types);
            let shared = attributes(&provider, care_types);
            for location in &provider.locations {
                writeln!(
                    buffer,
                    "{pid}\tSRID=4326;POINT({} {})\t{shared}",
                    location.point.longitude(),
                    location.point.latitude()
                )?;
                sites += 1;
            }
            if provider.offers(CareMode::Telehealth) && care_types & licensed_care != 0 {
                let licensed = attributes(&provider, care_types & licensed_care);
                for region in provider.licensed_regions() {
                    writeln!(remote_rows, "{pid}\t{}\t{licensed}", region.as_str())?;
                    remotes += 1;
                }
            }
            if care_types & group != 0
                && (provider.offers(CareMode::VirtualGroup)
                    || provider.offers(CareMode::Telehealth))
            {
                writeln!(remote_rows, "{pid}\t*\t{}", attributes(&provider, group))?;
                remotes += 1;
            }
            if buffer.len() > (1 << 22) - 4096 {
                copy.send(buffer.as_bytes()).await?;
                buffer.clear();
            }
        }
        let _ = generator.join();
        copy.send(buffer.as_bytes()).await?;
        copy.finish().await?;
        let mut copy = connection
            .copy_in_raw(
                "COPY remote (pid, region, care_types, accepting, modes, languages, payers, \
                 cert_level, treats, fsa, superbill, referral) FROM STDIN",
            )
            .await?;
        for chunk in remote_rows.as_bytes().chunks(1 << 22) {
            copy.send(chunk).await?;
        }
        copy.finish().await?;
        Ok((sites, remotes))
    }

    pub fn run(directory: &Path, count: u64, queries: usize, url: &str) -> Result<(), AnyError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(run_async(directory, count, queries, url))
    }

    async fn run_async(
        directory: &Path,
        count: u64,
        queries: usize,
        url: &str,
    ) -> Result<(), AnyError> {
        let mut connection = PgConnection::connect(url).await?;
        let versions: (String, String) = sqlx::query_as(
            "SELECT version(), (SELECT default_version FROM pg_available_extensions \
             WHERE name = 'postgis')",
        )
        .fetch_one(&mut connection)
        .await?;
        println!("server: {} / PostGIS {}", versions.0, versions.1);
        for setting in ["shared_buffers", "work_mem", "effective_cache_size", "jit"] {
            let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {setting}")))
                .fetch_one(&mut connection)
                .await?;
            println!("  {setting} = {value}");
        }

        let started = Instant::now();
        let (sites, remotes) = load(&mut connection, count).await?;
        let copied = started.elapsed();
        println!(
            "COPY: {count} providers as {sites} site rows and {remotes} remote rows in {:.1} s \
             (generation included)",
            copied.as_secs_f64()
        );
        let started = Instant::now();
        for statement in INDEXES {
            let one = Instant::now();
            sqlx::query(*statement).execute(&mut connection).await?;
            println!("  {statement}: {:.1} s", one.elapsed().as_secs_f64());
        }
        // As a DBA would: rows in index order (sites near each other on the same pages,
        // remote rows of a state together), then hint bits, visibility map and statistics.
        for statement in [
            "CLUSTER site USING site_geog",
            "CLUSTER remote USING remote_region",
            "VACUUM (FREEZE, ANALYZE) site",
            "VACUUM (FREEZE, ANALYZE) remote",
        ] {
            let one = Instant::now();
            sqlx::query(statement).execute(&mut connection).await?;
            println!("  {statement}: {:.1} s", one.elapsed().as_secs_f64());
        }
        println!(
            "indexes + CLUSTER + VACUUM ANALYZE: {:.1} s; load total {:.1} s",
            started.elapsed().as_secs_f64(),
            (copied + started.elapsed()).as_secs_f64()
        );
        let sizes = sqlx::query(
            "SELECT c.relname::text, pg_relation_size(c.oid)::int8 FROM pg_class c \
             WHERE c.relname IN ('site', 'remote') OR c.oid IN (SELECT indexrelid FROM pg_index \
             WHERE indrelid IN ('site'::regclass, 'remote'::regclass)) ORDER BY 1",
        )
        .fetch_all(&mut connection)
        .await?;
        let mut total = 0_i64;
        for row in &sizes {
            let bytes: i64 = row.get(1);
            total += bytes;
            println!(
                "  size {}: {:.0} MiB",
                row.get::<String, _>(0),
                bytes as f64 / 1_048_576.0
            );
        }
        println!("  size total: {:.0} MiB", total as f64 / 1_048_576.0);

        let index = Arc::new(ProviderIndex::open_or_create(directory)?);
        println!("engine index: {} providers", index.len());
        let engine = Engine::new(index, PostalCodes::embedded(), RankingConfig::default())?;
        let requests = query_mix(&engine, queries + 200)?;

        // The engine's care plan for each request (its triage), given to the SQL as masks.
        let mut plans = Vec::with_capacity(requests.len());
        for request in &requests {
            let results = engine.match_providers(request)?;
            let mut priorities = [0_i32; 4];
            for (care_type, priority) in &results.plan.search_care_types {
                priorities[usize::from(*priority).min(3)] |= bit(CareType::ALL, care_type);
            }
            plans.push(priorities);
        }

        // The engine, exactly as `query` measures it.
        let mut engine_latencies = Vec::with_capacity(queries);
        let mut engine_returned = 0_usize;
        for request in &requests[200..] {
            let started = Instant::now();
            let results = engine.match_providers(request)?;
            engine_latencies.push(started.elapsed());
            engine_returned += results.matches.len();
        }

        let explain = sqlx::query(sqlx::AssertSqlSafe(format!(
            "EXPLAIN (ANALYZE, BUFFERS) {MATCH_SQL}"
        )));
        let explain = bind(explain, &requests[200], &plans[200]);
        let lines = explain.fetch_all(&mut connection).await?;
        println!("EXPLAIN ANALYZE of the first measured query:");
        for line in lines {
            println!("    {}", line.get::<String, _>(0));
        }

        for (request, plan) in requests[..200].iter().zip(&plans) {
            bind(sqlx::query(MATCH_SQL), request, plan)
                .fetch_all(&mut connection)
                .await?;
        }
        let mut sql_latencies: Vec<Duration> = Vec::with_capacity(queries);
        let mut sql_returned = 0_usize;
        for (request, plan) in requests[200..].iter().zip(&plans[200..]) {
            let started = Instant::now();
            let rows = bind(sqlx::query(MATCH_SQL), request, plan)
                .fetch_all(&mut connection)
                .await?;
            sql_latencies.push(started.elapsed());
            sql_returned += rows.len();
        }

        let sql_summary = percentiles(&mut sql_latencies);
        let engine_summary = percentiles(&mut engine_latencies);
        println!(
            "PostGIS, {} queries (mean {:.0} rows): {sql_summary}",
            sql_latencies.len(),
            sql_returned as f64 / sql_latencies.len().max(1) as f64
        );
        println!(
            "engine, {} queries (mean {:.0} matches): {engine_summary}",
            engine_latencies.len(),
            engine_returned as f64 / engine_latencies.len().max(1) as f64
        );
        let at = |latencies: &[Duration], share: f64| {
            let position =
                ((latencies.len() as f64 * share).ceil() as usize).clamp(1, latencies.len());
            latencies[position - 1].as_secs_f64()
        };
        for (name, share) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
            println!(
                "ratio ours/PostGIS {name}: {:.4} (PostGIS {:.1}x slower)",
                at(&engine_latencies, share) / at(&sql_latencies, share),
                at(&sql_latencies, share) / at(&engine_latencies, share)
            );
        }
        Ok(())
    }

    fn bind<'q>(
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
        request: &MatchRequest,
        plan: &[i32; 4],
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let physical = [CareMode::InPerson, CareMode::HomeVisit];
        let (physical_modes, remote_allowed) = if request.modes.is_empty() {
            (mask(CareMode::ALL, &physical), true)
        } else {
            (
                mask(
                    CareMode::ALL,
                    request.modes.iter().filter(|mode| mode.is_physical()),
                ),
                request
                    .modes
                    .iter()
                    .any(|mode| matches!(mode, CareMode::Telehealth | CareMode::VirtualGroup)),
            )
        };
        let symptoms = mask(Symptom::ALL, &request.symptoms);
        let languages: Vec<String> = request
            .languages
            .iter()
            .map(|language| language.as_str().to_lowercase())
            .collect();
        query
            .bind(request.origin.longitude())
            .bind(request.origin.latitude())
            .bind(request.radius.kilometres() * 1_000.0)
            .bind(plan[1] | plan[2] | plan[3])
            .bind(plan[1])
            .bind(plan[2])
            .bind(symptoms)
            .bind(f64::from(symptoms.count_ones()))
            .bind(
                request
                    .insurance
                    .as_ref()
                    .map_or(String::new(), |insurance| insurance.payer.to_lowercase()),
            )
            .bind(request.has_fsa_or_hsa)
            .bind(
                request
                    .region
                    .as_ref()
                    .map(|region| region.as_str().to_owned()),
            )
            .bind(languages)
            .bind(physical_modes)
            .bind(remote_allowed)
            .bind(request.has_referral)
    }
}
