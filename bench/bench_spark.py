"""Spark vs DuckDB: the national rule pack over one synthetic city's store on both engines, hits compared.

    uv run python bench/bench_spark.py --lines 1000000 [--workdir /tmp/fg-bench] [--master local[2]]
        [--repeat 1] [--old]

Generates the city (Parquet) and ingests it — or reuses ``<workdir>/<lines>/ws`` left by an earlier run (the
same layout as ``bench_audit.py``) — then runs ``run_batch`` (DuckDB) and ``run_spark`` (Spark), each in a
fresh child process: a first round that builds what each engine keeps between runs (DuckDB's per-import
``claim_lines``, Spark's ``claim_lines`` Parquet) if an earlier run did not, then ``--repeat`` rounds reusing
them, DuckDB and Spark alternating (the machine may be shared). ``--old`` adds Spark building ``claim_lines``
for its run alone (the engine's first way) to every round. It prints for each run the seconds, lines/s and
hits (Spark's session start-up shown apart, not counted), the CPU seconds used (this process and Spark's
JVM: the work done, whatever the machine's load), Spark's time and CPU over DuckDB's of the same round,
whether the hit sets are equal row for row (every hit column, amounts exact) with the per-rule count
difference when they are not, Spark's slowest phases, and how much of Spark's CPU its JVM's JIT compilers
took and how many times Spark compiled code it generated (each query's own, which the JIT compiles again). Without
``--workdir`` the data go to a temporary folder removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def _cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of this process (with its threads), or of process ``pid`` (``/proc``)."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _jvm_compiling(spark) -> tuple[float, int]:
    """(seconds the JVM's JIT compilers have spent so far — their threads' time, beside the executors' —,
    times Spark has compiled code it generated so far, each a class and its nested ones)."""
    jvm = spark.sparkContext._jvm
    jit = jvm.java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime()
    generated = jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME().getCount()
    return jit / 1000, int(generated)


def _child(engine: str, ws: str, master: str) -> None:
    """One audit in this process: ``engine`` is ``duckdb``, ``spark`` or ``spark-old``. Its CPU seconds
    (this process and Spark's JVM, start-up left out) tell the work done apart from the machine's load."""
    from fundguard.rules import load_rules

    rules = load_rules()
    startup = 0.0
    jvm_work: dict[str, float] = {}
    if engine == "duckdb":
        from fundguard.engine import run_batch

        cpu = _cpu_seconds()
        result = run_batch(Path(ws), rules, progress=False)
        cpu = _cpu_seconds() - cpu
    else:
        from fundguard.engine.spark import run_spark, spark_session

        t0 = time.perf_counter()
        spark = spark_session(master)
        startup = time.perf_counter() - t0
        jvm = spark.sparkContext._gateway.proc.pid
        jit, codegen = _jvm_compiling(spark)
        cpu = _cpu_seconds() + _cpu_seconds(jvm)
        result = run_spark(Path(ws), rules, spark=spark, progress=False, reuse_lines=engine == "spark")
        cpu = _cpu_seconds() + _cpu_seconds(jvm) - cpu
        jit_after, codegen_after = _jvm_compiling(spark)
        jvm_work = {"jit": jit_after - jit, "codegen": codegen_after - codegen}
        spark.stop()
    print(json.dumps({"lines": result.lines_scanned, "hits": result.hits, "seconds": result.seconds,
                      "startup": startup, "cpu": cpu, "hits_path": str(result.hits_path),
                      "run_dir": str(result.run_dir), "by_rule": result.hits_by_rule,
                      "phases": result.phase_seconds, **jvm_work}))  # fmt: skip


def _differing_rows(a: str, b: str) -> tuple[int, int]:
    """Rows only in ``a`` and only in ``b`` (multisets, every hit column)."""
    from fundguard.rules.base import HIT_COLUMNS

    cols = ", ".join(HIT_COLUMNS)
    src = f"SELECT {cols} FROM read_parquet('{{}}', hive_partitioning = false)"
    with duckdb.connect() as con:
        q = f"SELECT count(*) FROM ({src} EXCEPT ALL {src})"
        return con.execute(q.format(a, b)).fetchone()[0], con.execute(q.format(b, a)).fetchone()[0]


def _run(engine: str, ws: Path, master: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", engine, str(ws), master],
                         capture_output=True, text=True)  # fmt: skip
    if out.returncode:  # the child's own error, not only its exit status
        tail = [ln for ln in out.stderr.splitlines() if ln.strip() and not ln.startswith(("\tat ", "WARN"))]
        sys.exit(f"{engine} failed ({out.returncode}):\n" + "\n".join(tail[-25:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000, help="fee lines (default 1,000,000)")
    ap.add_argument("--workdir", type=Path, help="keep the generated store here and reuse it in later runs")
    ap.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    ap.add_argument(
        "--repeat", type=int, default=1, help="rounds reusing what the first one built (default 1)"
    )
    ap.add_argument("--old", action="store_true", help="also run Spark building claim_lines per run")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_audit import _workspace  # the same generated store as the other batch benches

    root = args.workdir or Path(tempfile.mkdtemp(prefix="fg-bench-spark-"))
    try:
        ws = _workspace(root, args.lines)
        engines = ["duckdb", "spark", *(["spark-old"] if args.old else [])]
        print(f"{'round':>6} {'engine':>10} {'lines':>12} {'hits':>7} {'seconds':>8} {'lines/s':>9} "
              f"{'start-up s':>10} {'CPU s':>7} {'x DuckDB':>8} {'CPU x':>6}  equal")  # fmt: skip
        for rnd in range(1 + args.repeat):
            res = {engine: _run(engine, ws, args.master) for engine in engines}
            duck = res["duckdb"]
            for engine, r in res.items():
                if engine == "duckdb":
                    same = ""
                else:
                    only_duck, only_spark = _differing_rows(duck["hits_path"], r["hits_path"])
                    same = (
                        "yes"
                        if only_duck == only_spark == 0
                        else f"NO ({only_duck} / {only_spark} rows differ)"
                    )
                print(f"{rnd:>6} {engine:>10} {r['lines']:>12,} {r['hits']:>7,} {r['seconds']:>8.2f} "
                      f"{r['lines'] / r['seconds']:>9,.0f} {r['startup']:>10.1f} {r['cpu']:>7.1f} "
                      f"{r['seconds'] / duck['seconds']:>8.1f} {r['cpu'] / duck['cpu']:>6.1f}  {same}")  # fmt: skip
                d, s = duck["by_rule"], r["by_rule"]
                for rule in sorted(set(d) | set(s)):
                    if d.get(rule, 0) != s.get(rule, 0):
                        print(f"         {rule}: DuckDB {d.get(rule, 0)}, {engine} {s.get(rule, 0)}")
                slow = sorted(r["phases"].items(), key=lambda kv: -kv[1])[:8]
                print("         phases (s): " + "  ".join(f"{k} {v:.1f}" for k, v in slow), flush=True)
                if "jit" in r:
                    print(f"         JVM: JIT compilers {r['jit']:.0f} s (of the CPU s above), "
                          f"Spark compiled its generated code {r['codegen']:,} times", flush=True)  # fmt: skip
            for r in res.values():
                shutil.rmtree(r["run_dir"], ignore_errors=True)
        print("(round 0 builds what an engine keeps between runs, unless an earlier run left it)")
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
