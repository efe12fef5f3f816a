#!/usr/bin/env python3
"""Runs `engine_bench all` at each size and appends one row per size to results.csv.

    cargo build --release --locked -p carematch-matching --example engine_bench
    python3 bench/scale/run.py --binary target/release/examples/engine_bench \
        --dir /tmp/scale 1000000 3000000 10000000

Each size builds a fresh index of the demo generator's national mix (seed 42) in DIR/SIZE,
then a fresh process reopens it and runs the query mix (see engine_bench.rs). The row keeps
the commit, the machine's load average and the figures engine_bench printed.
"""
import argparse
import csv
import datetime
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = [
    "providers", "commit", "when", "load_before", "build_s", "index_mib", "reopen_s",
    "reopened_from_snapshot", "build_peak_rss_mib", "rss_mib", "rss_anon_mib", "rss_file_mib",
    "p50_ms", "p95_ms", "p99_ms", "queries",
]

PATTERNS = {
    "build_s": r"^build: \d+ providers in ([\d.]+) s",
    "index_mib": r"^index size on disk: (\d+) MiB",
    "reopen_s": r"^reopen: \d+ providers, .* in ([\d.]+) s",
    "reopened_from_snapshot": r"^reopen: .*catalog from (\w+)",
    "build_peak_rss_mib": r"^build process memory: .*peak RSS (\d+) MiB",
    "rss_mib": r"^serving process memory after queries: RSS (\d+) MiB",
    "rss_anon_mib": r"^serving process memory after queries: .*anonymous (\d+) MiB",
    "rss_file_mib": r"^serving process memory after queries: .*mapped (\d+) MiB",
    "p50_ms": r"^match_providers, .*p50 ([\d.]+) ms",
    "p95_ms": r"^match_providers, .*p95 ([\d.]+) ms",
    "p99_ms": r"^match_providers, .*p99 ([\d.]+) ms",
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--queries", default="5000")
    parser.add_argument("--out", default=os.path.join(HERE, "results.csv"))
    parser.add_argument("--keep", action="store_true", help="keep each index after its run")
    parser.add_argument("--commit", help="the commit the binary was built from (default: HEAD)")
    parser.add_argument("sizes", nargs="+", type=int)
    arguments = parser.parse_args()
    commit = arguments.commit or subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    new_file = not os.path.exists(arguments.out)
    with open(arguments.out, "a", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for size in arguments.sizes:
            directory = os.path.join(arguments.dir, str(size))
            load = os.getloadavg()[0]
            run = subprocess.run([arguments.binary, "all", directory, str(size), arguments.queries],
                                 capture_output=True, text=True)
            sys.stdout.write(run.stdout)
            sys.stderr.write(run.stderr)
            if run.returncode != 0:
                sys.exit(f"engine_bench failed at {size}")
            row = {"providers": size, "commit": commit, "load_before": f"{load:.1f}",
                   "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                   "queries": arguments.queries}
            for field, pattern in PATTERNS.items():
                found = re.search(pattern, run.stdout, re.MULTILINE)
                row[field] = found.group(1) if found else ""
            writer.writerow(row)
            out.flush()
            if not arguments.keep:
                shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
