"""Latency of the real-time (事中) audit: ``RealtimeAuditor.audit`` per claim of ~100 lines.

    uv run python bench/bench_realtime.py [--lines 200000] [--claims 200] [--claim-lines 100] [--workdir DIR]

Builds a store from a generated city (Parquet), takes the largest visits, pads each to ``--claim-lines``
lines by duplicating its lines under new ``bkkp_sn``, and times ``audit()`` per claim, split into input
validation/cast, history query on the store and rule SQL. Prints p50/p99 in ms. Target: p99 ≤ 10 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine.realtime import RealtimeAuditor, claim_from_store, claim_tables
from fundguard.rules import load_rules
from fundguard.rules.base import CLAIM_LINES_SQL
from fundguard.synth import CityConfig, generate_city


def _claim(con, mdtrt_id: str, n_lines: int) -> dict:
    claim = claim_from_store(con, mdtrt_id)
    lines = claim["fee_list_d"]
    base = list(lines)
    i = 0
    while len(lines) < n_lines:
        lines.append({**base[i % len(base)], "bkkp_sn": f"{base[i % len(base)]['bkkp_sn']}-pad{i}"})
        i += 1
    return claim


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--claims", type=int, default=200)
    ap.add_argument("--claim-lines", type=int, default=100)
    ap.add_argument("--workdir", type=Path, default=None, help="reuse a city/workspace here")
    a = ap.parse_args()
    work = a.workdir or Path(tempfile.mkdtemp(prefix="bench_realtime_"))
    ws = work / "ws"
    if not (ws / "store").exists():
        t0 = time.perf_counter()
        generate_city(work / "city", CityConfig(seed=3, fee_lines=a.lines, fmt="parquet"), progress=False)
        ingest([p for p in sorted((work / "city").iterdir()) if p.is_dir()], ws, progress=False)
        print(f"city + ingest: {time.perf_counter() - t0:.1f} s ({work})")
    store = Store(ws).connect()
    visits = [
        v
        for (v,) in store.execute(
            "SELECT mdtrt_id FROM fee_list_d GROUP BY mdtrt_id ORDER BY count(*) DESC, mdtrt_id LIMIT ?",
            [a.claims],
        ).fetchall()
    ]
    claims = [_claim(store, v, a.claim_lines) for v in visits]
    store.close()
    lines = [len(c["fee_list_d"]) for c in claims]
    print(
        f"{len(claims)} claims, lines per claim: min {min(lines)} median {statistics.median(lines)} max {max(lines)}"
    )
    t0 = time.perf_counter()
    auditor = RealtimeAuditor(ws, load_rules())
    print(
        f"auditor start: {1000 * (time.perf_counter() - t0):.0f} ms, {len(auditor.rules)} rules in real time"
    )
    auditor.audit(claims[0])  # warm-up
    total, cast, hist, lines_ms, hits = [], [], [], [], 0
    for c in claims:
        t0 = time.perf_counter()
        hits += len(auditor.audit(c))
        total.append(1000 * (time.perf_counter() - t0))
        # the parts, measured apart (same work as audit() does)
        t0 = time.perf_counter()
        tb = claim_tables(c)
        t1 = time.perf_counter()
        v = tb["mdtrt_d"].slice(0, 1).to_pylist()[0]
        auditor._history(v["psn_no"], v["mdtrt_id"], tb)
        t2 = time.perf_counter()
        auditor._con.execute(f"CREATE OR REPLACE TEMP TABLE claim_lines AS {CLAIM_LINES_SQL}")
        t3 = time.perf_counter()
        cast.append(1000 * (t1 - t0))
        hist.append(1000 * (t2 - t1))
        lines_ms.append(1000 * (t3 - t2))
    auditor.close()
    for label, xs in (("audit() total", total), ("  validate+cast", cast), ("  history query", hist),
                      ("  claim_lines build", lines_ms)):  # fmt: skip
        print(f"{label:22s} p50 {_pct(xs, 50):8.1f} ms   p99 {_pct(xs, 99):8.1f} ms")
    rest = [t - c - h - m for t, c, h, m in zip(total, cast, hist, lines_ms, strict=True)]
    print(f"{'  rule SQL (rest)':22s} p50 {_pct(rest, 50):8.1f} ms   p99 {_pct(rest, 99):8.1f} ms")
    print(f"hits: {hits}; target p99 ≤ 10 ms: {'met' if _pct(total, 99) <= 10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
