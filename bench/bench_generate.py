"""Benchmark of the synthetic-city generator: fee lines per second and peak RSS, to Parquet and CSV.

    uv run python bench/bench_generate.py [--lines 1000000] [--big]     # --big adds 10M lines to Parquet

Each run is a fresh child process, so the peak RSS printed is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def _child(n: int, fmt: str) -> None:
    from fundguard.synth import CityConfig, generate_city

    out = Path(tempfile.mkdtemp(prefix="fg-bench-generate-"))
    try:
        s = generate_city(out, CityConfig(fee_lines=n, fmt=fmt), progress=False)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"lines": s.counts["fee_list_d"], "seconds": s.seconds, "rss": rss}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--big", action="store_true", help="also 10M lines to parquet")
    args = ap.parse_args()
    runs = [(args.lines, "parquet"), (args.lines, "csv")] + ([(10_000_000, "parquet")] if args.big else [])
    print(f"{'format':8} {'fee lines':>12} {'seconds':>8} {'lines/s':>10} {'peak MB':>8}")
    for n, fmt in runs:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n), fmt], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{fmt:8} {r['lines']:>12,} {r['seconds']:>8.1f} {r['lines'] / r['seconds']:>10,.0f} {r['rss']:>8.0f}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(int(sys.argv[2]), sys.argv[3])
    else:
        main()
