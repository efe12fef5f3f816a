#!/usr/bin/env python3
"""Plots bench/scale/results.csv (from run.py) against the number of providers, into
bench/scale/scale.png: each figure beside a line through the smallest size's figure that
grows in proportion (linear), so growth faster than linear shows above it.

    pip install matplotlib==3.10.8
    python3 bench/scale/plot.py [--commit ABC1234]
"""
import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PANELS = [
    ("build_s", "index build (s)"),
    ("index_mib", "index on disk (MiB)"),
    ("rss_mib", "serving RSS after queries (MiB)"),
    ("reopen_s", "reopen (s)"),
    ("p99_ms", "engine latency (ms): p50, p95, p99"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", default=os.path.join(HERE, "results.csv"))
    parser.add_argument("--out", default=os.path.join(HERE, "scale.png"))
    parser.add_argument("--commit", help="plot only rows of this commit (default: the last row's)")
    arguments = parser.parse_args()
    with open(arguments.csv) as source:
        rows = list(csv.DictReader(source))
    commit = arguments.commit or rows[-1]["commit"]
    by_size = {}
    for row in rows:
        if row["commit"] == commit:
            by_size[int(row["providers"])] = row  # the last run of a size wins
    sizes = sorted(by_size)
    millions = [size / 1e6 for size in sizes]
    figure, axes = plt.subplots(1, len(PANELS), figsize=(4.2 * len(PANELS), 3.8))
    for axis, (field, title) in zip(axes, PANELS):
        series = [field] if field != "p99_ms" else ["p50_ms", "p95_ms", "p99_ms"]
        for name in series:
            values = [float(by_size[size][name]) for size in sizes]
            axis.plot(millions, values, marker="o", label=name.replace("_ms", ""))
            if name == series[-1] and values and values[0] > 0:
                linear = [values[0] * size / sizes[0] for size in sizes]
                axis.plot(millions, linear, linestyle=":", color="grey", label="linear from first")
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("providers (millions)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle(f"carematch engine at scale, commit {commit} (engine_bench, bench/scale/run.py)",
                    fontsize=11)
    figure.tight_layout()
    figure.savefig(arguments.out, dpi=110)
    print(f"wrote {arguments.out}")


if __name__ == "__main__":
    main()
