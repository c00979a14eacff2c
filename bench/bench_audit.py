"""Batch-audit benchmark: the national rule pack over a synthetic city's store, next to a bare DuckDB scan.

    uv run python bench/bench_audit.py --lines 1000000 [--lines 10000000]

For each size: generate the city (Parquet), ingest it, then in a fresh child process run the full rule pack
(``fundguard.engine.run_batch``) and print lines/s and peak RSS, and the time of a bare ``SELECT sum(...)``
over the same fee lines in the same process, so the engine's cost shows against the scan it stands on.
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


def _child(ws: str) -> None:
    from fundguard.data.store import Store
    from fundguard.engine import run_batch
    from fundguard.rules import load_rules

    con = Store(Path(ws)).connect()
    t0 = time.perf_counter()
    con.execute(
        "SELECT sum(det_item_fee_sumamt), count(DISTINCT hilist_code) FROM fee_list_d_valid"
    ).fetchone()
    bare = time.perf_counter() - t0
    con.close()
    rules = load_rules()
    result = run_batch(Path(ws), rules, progress=False)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"lines": result.lines_scanned, "rules": result.rules, "hits": result.hits,
                      "seconds": result.seconds, "bare": bare, "rss": rss}))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, action="append", help="fee lines (repeatable; default 1,000,000)")
    args = ap.parse_args()
    from fundguard.data.ingest import ingest
    from fundguard.synth import CityConfig, generate_city

    print(
        f"{'lines':>12} {'rules':>6} {'hits':>8} {'seconds':>8} {'lines/s':>10} {'peak MB':>8} {'bare scan s':>11}"
    )
    for n in args.lines or [1_000_000]:
        tmp = Path(tempfile.mkdtemp(prefix="fg-bench-audit-"))
        try:
            city = tmp / "city"
            generate_city(city, CityConfig(seed=1, fee_lines=n, fmt="parquet"), progress=False)
            ingest([d for d in sorted(city.iterdir()) if d.is_dir()], tmp / "ws", progress=False)
            out = subprocess.run([sys.executable, __file__, "--child", str(tmp / "ws")],
                                 capture_output=True, text=True, check=True)  # fmt: skip
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['lines']:>12,} {r['rules']:>6} {r['hits']:>8,} {r['seconds']:>8.1f} "
                  f"{r['lines'] / r['seconds']:>10,.0f} {r['rss']:>8.0f} {r['bare']:>11.2f}")  # fmt: skip
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        main()
