//! Where a reopened index's memory goes, step by step: `open_memory DIR` prints the process's
//! resident memory after tantivy's reader, after its writer, and after a whole
//! `ProviderIndex::open_or_create` (BENCHMARKS.md, "Where memory goes").

use std::path::Path;

fn resident() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kilobytes| kilobytes.parse::<u64>().ok())
            .map_or("?".to_owned(), |kilobytes| {
                format!("{} MiB", kilobytes / 1024)
            })
    };
    format!(
        "RSS {} (anonymous {}, files {})",
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:")
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let directory = std::env::args().nth(1).ok_or("usage: open_memory DIR")?;
    let directory = Path::new(&directory);
    println!("start: {}", resident());
    {
        let index = tantivy::Index::open_in_dir(directory)?;
        let reader: tantivy::IndexReader = index.reader()?;
        let searcher = reader.searcher();
        println!(
            "tantivy reader ({} documents): {}",
            searcher.num_docs(),
            resident()
        );
        let writer: tantivy::IndexWriter = index.writer_with_num_threads(2, 300_000_000)?;
        println!(
            "+ tantivy writer (2 threads, 300 MB budget): {}",
            resident()
        );
        drop(writer);
    }
    println!("both dropped: {}", resident());
    let index = carematch_search::ProviderIndex::open_or_create(directory)?;
    println!(
        "ProviderIndex::open_or_create (catalog from snapshot: {}): {}",
        index.opened_from_snapshot(),
        resident()
    );
    let memory = index.memory();
    println!(
        "counted in the catalog: {} MiB",
        memory.catalog.total_bytes() >> 20
    );
    Ok(())
}
