"""Ingest benchmark: lines/s and peak memory of ``fundguard ingest`` on the synthetic city's fee lines.

    uv run python bench/bench_ingest.py --lines 1000000 [--lines 10000000] [--format csv|parquet|both]

The input is ``fee_list_d`` of a city from ``fundguard.synth`` (82 national columns, ~510 bytes a CSV line).
Each ingest runs in a fresh child process, so the peak RSS printed is that run's alone. For scale, the same
run also times a bare DuckDB scan of the file (every column read, ``max`` of each): the floor any validating
reader stands on.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from fundguard.synth import CityConfig, generate_city


def _child(path: str, ws: str) -> None:
    from fundguard.data.ingest import ingest

    t0 = time.perf_counter()
    report = ingest([Path(path)], Path(ws), progress=False)
    secs = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": secs, "peak_mb": peak_kb / 1024, **report.totals}))


def _bare_scan(files: list[Path], fmt: str) -> float:
    paths = [str(f) for f in files]
    reader = f"read_csv({paths}, all_varchar = true)" if fmt == "csv" else f"read_parquet({paths})"
    t0 = time.perf_counter()
    # every column decoded (``max`` of each): ``count(*)`` alone reads a Parquet file's footer, not its data
    duckdb.connect().execute(f"SELECT max(COLUMNS(*)) FROM {reader}").fetchone()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, action="append", help="fee lines (repeatable; default 1,000,000)")
    ap.add_argument("--format", choices=["csv", "parquet", "both"], default="both")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    sizes = args.lines or [1_000_000]
    formats = ["csv", "parquet"] if args.format == "both" else [args.format]
    tmp = Path(tempfile.mkdtemp(prefix="fg-bench-ingest-"))
    try:
        print(
            f"{'format':8} {'lines':>12} {'MB':>7} {'seconds':>8} {'lines/s':>10} {'peak MB':>8} {'bare scan s':>11}"
        )
        for n in sizes:
            for fmt in formats:
                city = tmp / f"city-{fmt}-{n}"
                generate_city(city, CityConfig(seed=1, fee_lines=n, fmt=fmt), progress=False)
                src = city / "fee_list_d"
                files = sorted(src.iterdir())
                ws = tmp / f"ws-{fmt}-{n}"
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(src), str(ws)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                assert r["rows_loaded"] == r["rows_read"] > 0, r
                lines = r["rows_read"]
                mb = sum(f.stat().st_size for f in files) / 1e6
                bare = _bare_scan(files, fmt)
                print(
                    f"{fmt:8} {lines:>12,} {mb:>7.0f} {r['seconds']:>8.2f} {lines / r['seconds']:>10,.0f} "
                    f"{r['peak_mb']:>8.0f} {bare:>11.2f}"
                )
                shutil.rmtree(ws, ignore_errors=True)
                shutil.rmtree(city, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
