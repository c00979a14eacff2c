"""Benchmark of the synthetic-city generator: fee lines per second and peak RSS, to Parquet and CSV.

Usage: ``uv run python bench/bench_generate.py [--lines 1000000] [--big]`` (``--big`` adds 10M lines).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
from pathlib import Path

from fundguard.synth import CityConfig, generate_city


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--big", action="store_true", help="also 10M lines to parquet")
    args = ap.parse_args()
    runs = [(args.lines, "parquet"), (args.lines, "csv")] + ([(10_000_000, "parquet")] if args.big else [])
    for n, fmt in runs:
        out = Path(tempfile.mkdtemp(prefix="fg-bench-"))
        s = generate_city(out, CityConfig(fee_lines=n, fmt=fmt), progress=False)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{fmt:8s} {s.counts['fee_list_d']:>11,d} lines {s.seconds:7.1f} s "
            f"{s.lines_per_second:>10,.0f} lines/s  peak RSS {rss:,.0f} MiB"
        )
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
