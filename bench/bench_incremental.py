"""Incremental-audit benchmark: a full audit against the audit of the last month alone, in the same run.

    uv run python bench/bench_incremental.py [--lines 1000000] [--months 6] [--workdir /tmp/fg-inc] [--rounds 2]

Generates a city of ``--lines`` fee lines over ``--months`` months, cuts it into monthly extracts
(``synth.monthly``: one import per month, as a bureau receives them) and ingests them — or reuses
``<workdir>/<lines>x<months>/ws`` when a previous run left it — then builds the per-import ``claim_lines``
model once (as the first audit after an import does), and in fresh child processes, alternating, runs the
full audit (``engine.run_batch``, the baseline) and the incremental audit of the last month
(``engine.incremental.run_incremental(month=…)``). Prints lines read, hits, seconds and peak RSS of each,
the incremental run's lines read per window, and checks that its hits equal the full audit's hits owned by
the month (byte-identical rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _child(ws: str, mode: str, month: str) -> None:
    from fundguard.engine import run_batch
    from fundguard.engine.incremental import run_incremental
    from fundguard.rules import load_rules

    rules = load_rules()
    if mode == "full":
        result = run_batch(Path(ws), rules, progress=False)
    else:
        result = run_incremental(Path(ws), rules, month=month, progress=False)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    print(json.dumps({"lines": result.lines_scanned, "hits": result.hits, "seconds": result.seconds,
                      "rss": rss, "hits_path": str(result.hits_path),
                      "windows": record.get("incremental", {}).get("lines_read_by_window"),
                      "windowed": record.get("incremental", {}).get("lines_read_by_windows")}))  # fmt: skip


def _workspace(root: Path, n: int, months: int) -> tuple[Path, str]:
    """``root/<n>x<months>/ws`` with the city ingested month by month; returns it and the last month."""
    from fundguard.data.ingest import ingest
    from fundguard.data.store import Store
    from fundguard.engine.lines import update_claim_lines
    from fundguard.synth import CityConfig, generate_city
    from fundguard.synth.monthly import reference_dirs, split_by_month

    base = root / f"{n}x{months}"
    ws, done = base / "ws", base / "ready"
    end = dt.date(2025, 1, 1) + dt.timedelta(days=31 * months)
    end = dt.date(end.year, end.month, 1) - dt.timedelta(days=1)
    last = end.strftime("%Y-%m")
    if done.exists():
        return ws, last
    shutil.rmtree(base, ignore_errors=True)
    t0 = time.perf_counter()
    city = base / "city"
    generate_city(city, CityConfig(seed=1, fee_lines=n, fmt="parquet", end=end), progress=False)
    ingest(reference_dirs(city), ws, progress=False)
    for d in split_by_month(city, base / "months"):
        ingest([d], ws, progress=False)
    store = Store(ws)
    con = store.connect()
    try:
        update_claim_lines(store, con)  # what the first audit after the imports does, not timed here
    finally:
        con.close()
    shutil.rmtree(city)
    shutil.rmtree(base / "months")
    done.touch()
    print(f"built {ws} ({months} monthly imports) in {time.perf_counter() - t0:.0f} s", flush=True)
    return ws, last


def _same(full: str, inc: str, ws: Path, month: str) -> tuple[int, int]:
    """(owned hits of the full audit not equal to the incremental's, both ways; owned hits)."""
    from fundguard.data.store import Store

    con = Store(ws).connect()
    try:
        first = f"DATE '{month}-01'"
        con.execute(
            "CREATE TEMP TABLE sl AS SELECT bkkp_sn, mdtrt_id FROM fee_list_d_valid "
            f"WHERE CAST(fee_ocur_time AS DATE) >= {first} AND CAST(fee_ocur_time AS DATE) < {first} + INTERVAL 1 MONTH"
        )
        con.execute(
            "CREATE TEMP TABLE sv AS SELECT mdtrt_id FROM sl UNION SELECT mdtrt_id FROM mdtrt_d_valid "
            f"WHERE CAST(begntime AS DATE) >= {first} AND CAST(begntime AS DATE) < {first} + INTERVAL 1 MONTH"
        )
        f = f"read_parquet('{full}', hive_partitioning = false)"
        i = f"read_parquet('{inc}', hive_partitioning = false)"
        con.execute(
            f"CREATE TEMP TABLE own AS SELECT * FROM {f} h WHERE mdtrt_id IN (SELECT mdtrt_id FROM sv) "
            "OR EXISTS (SELECT 1 FROM (SELECT unnest(h.bkkp_sn) AS sn) u JOIN sl ON sl.bkkp_sn = u.sn)"
        )
        diff = con.execute(
            f"SELECT (SELECT count(*) FROM (FROM own EXCEPT ALL FROM {i})) + (SELECT count(*) FROM (FROM {i} EXCEPT ALL FROM own))"
        ).fetchone()[0]
        return int(diff), int(con.execute("SELECT count(*) FROM own").fetchone()[0])
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/fg-inc"))
    ap.add_argument("--rounds", type=int, default=2, help="alternating full / incremental pairs")
    args = ap.parse_args()
    ws, month = _workspace(args.workdir, args.lines, args.months)
    print(
        f"{args.lines:,} lines in {args.months} monthly imports; incremental = month {month}; the machine is shared"
    )
    print(f"{'run':<12} {'lines read':>11} {'hits':>7} {'seconds':>8} {'peak MB':>8}  "
          "distinct lines of the windows (all but population rules); lines per window")  # fmt: skip
    last: dict[str, dict] = {}
    for _ in range(args.rounds):
        for mode in ("full", "incremental"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(ws), mode, month],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{mode:<12} {r['lines']:>11,} {r['hits']:>7,} {r['seconds']:>8.2f} {r['rss']:>8.0f}  "
                + (f"{r['windowed']:,}; {r['windows']}" if r["windows"] else ""),
                flush=True,
            )
            if mode in last:
                shutil.rmtree(Path(last[mode]["hits_path"]).parent, ignore_errors=True)
            last[mode] = r
    diff, owned = _same(last["full"]["hits_path"], last["incremental"]["hits_path"], ws, month)
    print(
        f"owned hits of {month} in the full audit: {owned:,}; rows differing from the incremental run: {diff}"
    )
    for r in last.values():
        shutil.rmtree(Path(r["hits_path"]).parent, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
