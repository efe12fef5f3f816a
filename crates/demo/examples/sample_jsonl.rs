//! Prints demo providers as JSON lines in the import format, to read what the generator makes.
//!
//! `cargo run -p carematch-demo --example sample_jsonl -- [COUNT] [SEED]`

use carematch_demo::{DemoConfig, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().map_or(Ok(5), |text| text.parse())?;
    let seed: u64 = args
        .next()
        .map_or(Ok(DemoConfig::DEFAULT_SEED), |text| text.parse())?;
    for provider in generate(&DemoConfig::new(count, seed)) {
        println!("{}", serde_json::to_string(&provider?.to_draft())?);
    }
    Ok(())
}
