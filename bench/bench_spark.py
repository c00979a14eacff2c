"""Spark vs DuckDB: the national rule pack over one synthetic city's store on both engines, hits compared.

    uv run python bench/bench_spark.py --lines 1000000 [--workdir /tmp/fg-bench] [--master local[2]]

Generates the city (Parquet) and ingests it — or reuses ``<workdir>/<lines>/ws`` left by an earlier run (the
same layout as ``bench_audit.py``) — then runs ``run_batch`` (DuckDB) and ``run_spark`` (local-mode Spark),
each in a fresh child process, and prints for each engine the seconds, lines/s and hits (Spark's session
start-up shown apart), whether the two hit sets are equal row for row (every hit column, amounts exact), and
the per-rule count difference when they are not. Without ``--workdir`` the data go to a temporary folder
removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def _child(engine: str, ws: str, master: str) -> None:
    from fundguard.rules import load_rules

    rules = load_rules()
    startup = 0.0
    if engine == "duckdb":
        from fundguard.engine import run_batch

        result = run_batch(Path(ws), rules, progress=False)
    else:
        from fundguard.engine.spark import run_spark, spark_session

        t0 = time.perf_counter()
        spark = spark_session(master)
        startup = time.perf_counter() - t0
        result = run_spark(Path(ws), rules, spark=spark, progress=False)
        spark.stop()
    print(json.dumps({"lines": result.lines_scanned, "hits": result.hits, "seconds": result.seconds,
                      "startup": startup, "hits_path": str(result.hits_path), "run_dir": str(result.run_dir),
                      "by_rule": result.hits_by_rule, "phases": result.phase_seconds}))  # fmt: skip


def _differing_rows(a: str, b: str) -> tuple[int, int]:
    """Rows only in ``a`` and only in ``b`` (multisets, every hit column)."""
    from fundguard.rules.base import HIT_COLUMNS

    cols = ", ".join(HIT_COLUMNS)
    src = f"SELECT {cols} FROM read_parquet('{{}}', hive_partitioning = false)"
    with duckdb.connect() as con:
        q = f"SELECT count(*) FROM ({src} EXCEPT ALL {src})"
        return con.execute(q.format(a, b)).fetchone()[0], con.execute(q.format(b, a)).fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000, help="fee lines (default 1,000,000)")
    ap.add_argument("--workdir", type=Path, help="keep the generated store here and reuse it in later runs")
    ap.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_audit import _workspace  # the same generated store as the other batch benches

    root = args.workdir or Path(tempfile.mkdtemp(prefix="fg-bench-spark-"))
    try:
        ws = _workspace(root, args.lines)
        res = {}
        for engine in ("duckdb", "spark"):
            out = subprocess.run([sys.executable, __file__, "--child", engine, str(ws), args.master],
                                 capture_output=True, text=True, check=True)  # fmt: skip
            res[engine] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{'engine':>8} {'lines':>12} {'hits':>8} {'seconds':>8} {'lines/s':>10} {'start-up s':>10}")
        for engine, r in res.items():
            print(f"{engine:>8} {r['lines']:>12,} {r['hits']:>8,} {r['seconds']:>8.2f} "
                  f"{r['lines'] / r['seconds']:>10,.0f} {r['startup']:>10.1f}")  # fmt: skip
        only_duck, only_spark = _differing_rows(res["duckdb"]["hits_path"], res["spark"]["hits_path"])
        equal = only_duck == only_spark == 0
        print(f"Spark vs DuckDB hits: {res['spark']['hits']:,} vs {res['duckdb']['hits']:,} — "
              f"equal: {'yes' if equal else 'no'} (rows only in DuckDB {only_duck}, only in Spark {only_spark})")  # fmt: skip
        d, s = res["duckdb"]["by_rule"], res["spark"]["by_rule"]
        for rule in sorted(set(d) | set(s)):
            if d.get(rule, 0) != s.get(rule, 0):
                print(f"  {rule}: DuckDB {d.get(rule, 0)}, Spark {s.get(rule, 0)}")
        slow = sorted(res["spark"]["phases"].items(), key=lambda kv: -kv[1])
        print("  Spark phases (s): " + "  ".join(f"{k} {v:.1f}" for k, v in slow))
        for r in res.values():
            shutil.rmtree(r["run_dir"], ignore_errors=True)
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
