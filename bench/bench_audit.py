"""Batch-audit benchmark: the national rule pack over a synthetic city's store, next to a bare DuckDB scan.

    uv run python bench/bench_audit.py --lines 1000000 [--lines 10000000] [--workdir /tmp/fg-bench]

For each size: generate the city (Parquet) and ingest it — or reuse ``<workdir>/<lines>/ws`` when a previous
run left it there — then in a fresh child process time a bare scan of the same store
(``SELECT count(*), sum(det_item_fee_sumamt) FROM fee_list_d``) and run the full rule pack
(``fundguard.engine.run_batch``) three ways: building ``claim_lines`` for the run alone (the old way, the
baseline), then with the per-import ``claim_lines`` model (``engine.lines``: a part per import, built by the
first audit after it, reused after); print lines/s, seconds and peak RSS of the child, and the seconds of each phase (``claim_lines``, one
per template, ``gather``), so the engine's cost shows against the scan it stands on. Without ``--workdir`` the generated data go to a temporary folder removed afterwards.
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

from bench_handwritten import RULES


def _child(ws: str) -> None:
    from fundguard.data.store import Store
    from fundguard.engine import run_batch
    from fundguard.rules import load_rules

    con = Store(Path(ws)).connect()
    t0 = time.perf_counter()
    con.execute("SELECT count(*), sum(det_item_fee_sumamt) FROM fee_list_d").fetchall()
    bare = time.perf_counter() - t0
    con.close()
    # old: claim_lines built for this run alone (in memory up to ~2.7M lines, as before the per-import file)
    mode = {"old": {"lines_on_disk": Path(ws).joinpath("..", "big").exists()}, "new": {}}[sys.argv[3]]
    result = run_batch(Path(ws), load_rules(), progress=False, **mode)
    use = resource.getrusage(resource.RUSAGE_SELF)
    shutil.rmtree(result.run_dir, ignore_errors=True)  # keep a reused workdir from growing
    print(json.dumps({"lines": result.lines_scanned, "rules": result.rules, "hits": result.hits,
                      "seconds": result.seconds, "bare": bare, "rss": use.ru_maxrss / 1024,
                      "cpu": use.ru_utime + use.ru_stime, "phases": result.phase_seconds}))  # fmt: skip


def _hand_child(ws: str) -> None:
    """The six hand-written rules of ``bench_handwritten`` beside the engine's SQL for them (stored
    ``claim_lines``, as the audit reads it): seconds, peak RSS and whether the hits agree."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_handwritten import measure

    m = measure(Path(ws), 1, stored=True)
    m["con"].close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"lines": m["lines"], "hand": sum(m["hand"].values()), "gen": sum(m["gen"].values()),
                      "base": m["base"], "hits": sum(m["hits"].values()), "diff": m["diff"], "rss": rss}))  # fmt: skip


def _workspace(root: Path, n: int) -> Path:
    """``root/<n>/ws`` with an ingested city of ``n`` fee lines, built unless a previous run left it."""
    from fundguard.data.ingest import ingest
    from fundguard.synth import CityConfig, generate_city

    base = root / str(n)
    ws = base / "ws"
    done = base / "ready"
    if done.exists():
        return ws
    shutil.rmtree(base, ignore_errors=True)
    t0 = time.perf_counter()
    generate_city(base / "city", CityConfig(seed=1, fee_lines=n, fmt="parquet"), progress=False)
    ingest([d for d in sorted((base / "city").iterdir()) if d.is_dir()], ws, progress=False)
    shutil.rmtree(base / "city")
    done.write_text("generated and ingested\n", encoding="utf-8")
    print(f"  (city of {n:,} lines generated and ingested in {time.perf_counter() - t0:.0f} s)", flush=True)
    return ws


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, action="append", help="fee lines (repeatable; default 1,000,000)")
    ap.add_argument("--workdir", type=Path, help="keep generated stores here and reuse them in later runs")
    ap.add_argument("--repeat", type=int, default=1, help="audit runs per size (the machine may be shared)")
    ap.add_argument("--skip-old", action="store_true", help="skip the run building claim_lines for itself")
    ap.add_argument("--skip-hand", action="store_true", help="skip the hand-written SQL (bench_handwritten)")
    args = ap.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="fg-bench-audit-"))
    header = (
        f"{'lines':>12} {'rules':>6} {'hits':>8} {'seconds':>8} {'lines/s':>10} {'peak MB':>8} {'cpu s':>7} "
        f"{'bare scan s':>11} {'bare lines/s':>13}"
    )
    try:
        for n in args.lines or [1_000_000]:
            ws = _workspace(root, n)
            print(header)
            if n > 2_500_000:
                (ws.parent / "big").touch()
            runs = [] if args.skip_old else [("old", "claim_lines built per run")]
            runs += [("new", "claim_lines per import" + (" (built now)" if i == 0 and not list(
                (ws / "cache" / "claim_lines").glob("part-*.duckdb")) else " (reused)")) for i in range(args.repeat)]  # fmt: skip
            for mode, label in runs:
                out = subprocess.run([sys.executable, __file__, "--child", str(ws), mode],
                                     capture_output=True, text=True)  # fmt: skip
                if out.returncode:  # e.g. a template out of DuckDB memory: say which, and fail
                    sys.exit(f"{'':>12} {label}: the audit failed\n{out.stderr[-3000:]}")
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{'':>12} {label}")
                print(f"{r['lines']:>12,} {r['rules']:>6} {r['hits']:>8,} {r['seconds']:>8.2f} "
                      f"{r['lines'] / r['seconds']:>10,.0f} {r['rss']:>8.0f} {r['cpu']:>7.1f} {r['bare']:>11.3f} "
                      f"{r['lines'] / max(r['bare'], 1e-9):>13,.0f}")  # fmt: skip
                phases = "  ".join(
                    f"{k} {v:.2f}" for k, v in sorted(r["phases"].items(), key=lambda kv: -kv[1])
                )
                print(f"{'':>12} phases (s): {phases}")
            if not args.skip_hand:
                out = subprocess.run([sys.executable, __file__, "--hand", str(ws), "-"],
                                     capture_output=True, text=True, check=True)  # fmt: skip
                h = json.loads(out.stdout.strip().splitlines()[-1])
                same = "yes" if not h["diff"] else f"NO {h['diff']}"
                print(f"{'':>12} hand-written SQL, {len(RULES)} rules (no evidence; bench_handwritten.py): "
                      f"{h['hand']:.2f} s = {h['lines'] / h['hand']:,.0f} lines/s; the engine's SQL for them "
                      f"(stored claim_lines): {h['gen']:.2f} s = {h['lines'] / h['gen']:,.0f} lines/s; "
                      f"peak {h['rss']:.0f} MB; {h['hits']:,} hits, same: {same}")  # fmt: skip
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "--hand":
        _hand_child(sys.argv[2])
    else:
        main()
