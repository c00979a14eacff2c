"""Cost of the 医保支付资格 check the API layer adds to each real-time answer (``api.realtime_points``), beside
the auditor's own 事中 audit of the same claims in the same run (the baseline).

    uv run python bench/bench_realtime_points.py [--lines 30000] [--claims 200] [--workdir DIR]

Builds a generated city (reused with ``--workdir``), a SQLite service database with the demo users and the
demo's staff (one suspended doctor), and times, per claim of the demo hospital, ``RealtimeAuditor.audit`` and
then ``realtime_points.check`` (a session of its own, as the route opens one); every 10th claim names the
suspended doctor, so both the quick path and the lookup path are timed. The insured person's 联网结算 check
(``api.realtime_insured``, issue 15; part of ``realtime_points.check``) is also timed alone: every 10th claim's
patient (offset 5) has a decided Art. 41 case suspending direct settlement, the others no credit file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from fundguard.api import realtime_points
from fundguard.api.realtime_insured import insured_items
from fundguard.api.realtime_worker import staff_lines
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine.realtime import RealtimeAuditor, claim_from_store, realtime_rules
from fundguard.rules import load_rules
from fundguard.service.db import Database, migrate
from fundguard.service.models import Case, User
from fundguard.service.seed import seed_demo, seed_demo_points
from fundguard.service.timing import today
from fundguard.synth import CityConfig, generate_city


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return 1000 * xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=30_000)
    ap.add_argument("--claims", type=int, default=200)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    ws = (args.workdir or Path(tempfile.mkdtemp(prefix="fg-bench-points-"))) / "ws"
    if not ws.exists():
        generate_city(ws / "city", CityConfig(seed=7, fee_lines=args.lines, fmt="parquet"), progress=False)
        ingest([d for d in sorted((ws / "city").iterdir()) if d.is_dir()], ws, progress=False)
    url = f"sqlite:///{ws.resolve()}/service.db"
    migrate(url)
    db = Database(url)
    with db.session() as s:
        seed_demo(s, ws)
        seed_demo_points(s)
        code = s.execute(select(User.fixmedins_code).where(User.username == "yiyuan")).scalar_one()
    store = Store(ws).connect()
    visits = store.execute(
        "SELECT mdtrt_id FROM mdtrt_d WHERE fixmedins_code = ? ORDER BY mdtrt_id LIMIT ?", [code, args.claims]
    ).fetchall()
    claims = [claim_from_store(store, v) for (v,) in visits]
    store.close()
    day = today().isoformat()  # inside the seeded suspension
    for c in claims[::10]:
        c["mdtrt_d"][0]["begntime"] = f"{day} 08:00:00"
        for line in c["fee_list_d"]:
            line.update(bilg_dr_code=f"D{code[-6:]}001", fee_ocur_time=f"{day} 10:00:00")
    decided = today() - dt.timedelta(days=10)
    with db.session() as s:
        for i, c in enumerate(claims[5::10]):
            psn = c["mdtrt_d"][0]["psn_no"]
            c["mdtrt_d"][0]["begntime"] = f"{day} 08:00:00"  # the visit falls inside the suspension
            if s.execute(select(Case.id).where(Case.party_id == psn)).first() is None:
                s.add(Case(number=f"BENCH-41-{i}", title="冒名就医", status="serving", fixmedins_code=code,
                           party_name="参保人", admdvs="000000", party_type="individual", party_id=psn,
                           opened_at=decided, deadline=decided, step_started=decided, behaviour_code="A41_F",
                           proposal_json='{"suspension_months": 6}', created_by="bench",
                           decision_json=json.dumps({"decided_on": decided.isoformat()})))  # fmt: skip
    rules = load_rules()
    auditor = RealtimeAuditor(ws, rules.select([r.id for r in realtime_rules(rules)]), stage=("事中",))
    base, points, insured, items, refused = [], [], [], 0, 0
    for c in claims:
        t = time.perf_counter()
        auditor.audit(c, stage="事中")
        base.append(time.perf_counter() - t)
        summary = [staff_lines(c, code)]
        t = time.perf_counter()
        with db.session() as s:
            items += realtime_points.check(s, "claim", {"hits": []}, summary, "事中")
        points.append(time.perf_counter() - t)
        t = time.perf_counter()
        with db.session() as s:
            refused += len(insured_items(s, summary[0], "事中"))
        insured.append(time.perf_counter() - t)
    db.dispose()
    print(
        f"{len(claims)} claims of {code}, {items} points and insured items, {refused} claims refused 联网结算"
    )
    for label, xs in (
        ("auditor.audit (baseline)", base),
        ("realtime_points.check", points),
        ("  of which insured_items", insured),
    ):
        print(f"{label:26s} p50 {_pct(xs, 50):7.2f} ms   p99 {_pct(xs, 99):7.2f} ms")


if __name__ == "__main__":
    main()
