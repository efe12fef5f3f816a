//! The `carematch` binary: parses the command line and hands over to the library.

// mimalloc instead of glibc malloc: ranking allocates many short-lived strings, and glibc's
// consolidation showed as a third of an uncached request's CPU time (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    carematch_cli::main()
}
