//! Measures demo generation speed: single-threaded, then in chunks on every core, and checks
//! that both give the same providers.
//!
//! `cargo run --release -p carematch-demo --example generation_speed -- [COUNT] [SEED]`

use std::time::Instant;

use carematch_demo::{DemoConfig, chunks, generate, generate_range};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().map_or(Ok(1_000_000), |text| text.parse())?;
    let seed: u64 = args
        .next()
        .map_or(Ok(DemoConfig::DEFAULT_SEED), |text| text.parse())?;
    let config = DemoConfig::new(count, seed);

    // Parse the postal table before timing: it is a one-off cost of the process.
    let _ = carematch_demo::generate_one(seed, 0)?;

    let started = Instant::now();
    let mut checksum = 0_u64;
    for provider in generate(&config) {
        let provider = provider?;
        checksum = checksum.wrapping_add(provider.name.as_str().len() as u64);
    }
    let single = started.elapsed();
    println!(
        "single thread: {count} providers in {:.2} s ({:.0} per second), checksum {checksum}",
        single.as_secs_f64(),
        count as f64 / single.as_secs_f64()
    );

    // Chunks of 10,000, dealt round-robin to the threads and dropped after use, as a caller
    // that inserts chunk by chunk would; the checksum shows the result is the same.
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let ranges: Vec<_> = chunks(count, 10_000).collect();
    let started = Instant::now();
    let parallel_checksum = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let mine: Vec<_> = ranges
                    .iter()
                    .skip(thread)
                    .step_by(threads)
                    .cloned()
                    .collect();
                scope.spawn(move || {
                    let mut checksum = 0_u64;
                    for range in mine {
                        for provider in generate_range(seed, range)? {
                            checksum = checksum.wrapping_add(provider.name.as_str().len() as u64);
                        }
                    }
                    Ok::<u64, carematch_demo::DemoError>(checksum)
                })
            })
            .collect();
        let mut checksum = 0_u64;
        for handle in handles {
            let part = handle.join().map_err(|_| "a generator thread panicked")??;
            checksum = checksum.wrapping_add(part);
        }
        Ok::<u64, Box<dyn std::error::Error>>(checksum)
    })?;
    let parallel = started.elapsed();
    println!(
        "{threads} threads: {count} providers in {:.2} s, checksum {parallel_checksum} ({})",
        parallel.as_secs_f64(),
        if parallel_checksum == checksum {
            "same"
        } else {
            "DIFFERENT"
        }
    );
    Ok(())
}
