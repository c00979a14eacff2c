"""Real time after a new month's import: the history refreshed for the persons it touches vs read again whole.

    uv run python bench/bench_history_refresh.py [--lines 1000000] [--last-share 0.0833] [--workdir DIR]

Generates a city (Parquet; reused from ``--workdir``), splits it by admission time (``synth.monthly.split_by_admission``): the
store as it was, then the visits of the last ``--last-share`` of the period (about a month) with their lines.
Ingests the first part, loads a ``RealtimeAuditor`` (all real-time rules, 事前 + 事中), ingests the second part,
then times in the same run ``refresh()`` (reads again only the persons the import touches) beside a fresh
auditor reading the whole store (what a refresh did before), and prints seconds, persons touched, the
history's bytes per person, the process's resident memory, and whether both hold the same history.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from fundguard.data.ingest import ingest
from fundguard.engine.realtime import RealtimeAuditor
from fundguard.rules import load_rules
from fundguard.synth import CityConfig, generate_city
from fundguard.synth.monthly import split_by_admission

STAGES = ("事前", "事中")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _lines(a: RealtimeAuditor) -> dict[str, list[str]]:
    return {p: sorted(r["bkkp_sn"] for r in rows) for p, rows in a._history.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000, help="fee lines of the city (default 1,000,000)")
    ap.add_argument("--last-share", type=float, default=1 / 12, help="share of visits in the new import")
    ap.add_argument("--workdir", type=Path, help="keep the generated city here and reuse it")
    args = ap.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="fg-bench-refresh-"))
    try:
        city = root / f"city-{args.lines}"
        if not (city / "city.json").exists():
            generate_city(city, CityConfig(seed=1, fee_lines=args.lines, fmt="parquet"), progress=False)
        parts = root / f"split-{args.lines}-{args.last_share:.4f}"
        shutil.rmtree(parts, ignore_errors=True)
        first, second = split_by_admission(city, parts, args.last_share)
        ws = parts / "ws"
        ingest([first], ws, progress=False)
        rules = load_rules()
        t = time.perf_counter()
        live = RealtimeAuditor(ws, rules, stage=STAGES)
        load = time.perf_counter() - t
        t = time.perf_counter()
        ingest([second], ws, progress=False)
        ingest_s = time.perf_counter() - t
        live.refresh()
        inc, kind, inc_rss = live.refresh_seconds, live.refresh_kind, _rss_mb()
        t = time.perf_counter()
        fresh = RealtimeAuditor(ws, rules, stage=STAGES)
        full = time.perf_counter() - t
        persons = len(fresh._psn)
        same = _lines(live) == _lines(fresh) and live._visits.keys() == fresh._visits.keys()
        size, _ = fresh.history_bytes
        print(
            f"city {args.lines:,} lines; new import: last {args.last_share:.1%} of visits (ingested in {ingest_s:.1f} s)"
        )
        print(f"  first load (store before the import):  {load:8.2f} s")
        print(f"  refresh after the import ({kind}):  {inc:8.2f} s   process RSS {inc_rss:,.0f} MB")
        print(
            f"  fresh load of the whole store (before): {full:8.2f} s   = {full / max(inc, 1e-9):.1f}x the refresh"
        )
        print(
            f"  history {size / max(persons, 1):,.0f} bytes/person ({persons:,} persons); same history: {'yes' if same else 'NO'}"
        )
        live.close()
        fresh.close()
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
