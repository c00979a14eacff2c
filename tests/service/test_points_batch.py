"""The 事后 batch check PTS-001 over the real store agrees line for line with the 事中 answer (``check_lines``)
on the same lines: a doctor of the store is terminated part-way through the data, another region suspends a
second one; lines before, emergency lines and other doctors' lines pass in both; the run becomes clues."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from fundguard.data.store import Store
from fundguard.rules.base import create_claim_lines
from fundguard.service import clues, points
from fundguard.service.errors import PermissionDenied
from fundguard.service.models import Clue, ExternalQualification, Institution
from fundguard.service.points.batch import run_batch

if TYPE_CHECKING:
    from tests.service.conftest import World


def _store_lines(world: World) -> list[dict]:
    con = Store(world.workspace).connect()
    try:
        create_claim_lines(con)
        cur = con.execute(
            "SELECT l.bkkp_sn, l.fixmedins_code, CAST(l.fee_ocur_time AS VARCHAR) AS fee_ocur_time, "
            "CAST(l.med_type AS VARCHAR) AS med_type, f.bilg_dr_code, f.acord_dr_code FROM claim_lines l "
            "JOIN fee_list_d_valid f ON f.bkkp_sn = l.bkkp_sn"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def test_batch_agrees_with_real_time(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _store_lines(world)
    by_doctor: dict[str, list[dict]] = {}
    for ln in lines:
        if ln["bilg_dr_code"]:
            by_doctor.setdefault(ln["bilg_dr_code"], []).append(ln)
    busy = sorted(by_doctor, key=lambda c: -len(by_doctor[c]))
    first, second = busy[0], busy[1]
    days = sorted(ln["fee_ocur_time"][:10] for ln in by_doctor[first])
    middle = dt.date.fromisoformat(days[len(days) // 2])
    inst = by_doctor[first][0]["fixmedins_code"]
    monkeypatch.setenv("FUNDGUARD_TODAY", middle.isoformat())
    shi = world.actor("shi")
    with world.db.session() as s:
        assert s.get(Institution, inst) is not None
        points.register_staff(s, shi, national_code=first, id_no="110101199001011234", name="赵医生",
                              category="医师", fixmedins_code=inst, pledge_on=middle)  # fmt: skip
        rec = points.score(s, shi, national_code=first, fixmedins_code=inst, band=4, responsibility="主要",
                           decided_on=middle, reason="协议处理：虚构医药服务")  # fmt: skip
        points.act_on_record(s, shi, rec["id"], "waive", rec["version"])
        s.add(ExternalQualification(national_code=second, source_admdvs="440100", status="suspended",
                                    since=middle, until=middle + dt.timedelta(days=10), reason="外地通报",
                                    imported_by="shi"))  # fmt: skip
    with world.db.session() as s:
        realtime = {
            lines[h["index"]]["bkkp_sn"] for h in points.check_lines(s, lines, middle) if not h["pay"]
        }
        with pytest.raises(PermissionDenied):  # the batch is the bureau's
            run_batch(s, world.actor("yiyuan"), world.workspace)
        out = run_batch(s, shi, world.workspace)
    import duckdb

    hits = duckdb.sql(
        f"SELECT bkkp_sn[1], evidence_zh, amount FROM read_parquet('{world.workspace}/results/run={out['run_id']}/hits.parquet')"
    ).fetchall()
    batch = {h[0] for h in hits}
    assert realtime and batch == realtime and out["hits"] == len(hits)
    assert all(ln["fee_ocur_time"][:10] >= middle.isoformat() for ln in lines if ln["bkkp_sn"] in batch)
    assert any(ln["fee_ocur_time"][:10] < middle.isoformat() for ln in by_doctor[first])  # before: paid
    assert any("医保支付资格已终止" in h[1] for h in hits) and all("不予支付" in h[1] for h in hits)
    exempt = [ln for ln in lines if ln["bkkp_sn"] in {x["bkkp_sn"] for x in by_doctor[first]}
              and ln["med_type"] in ("13", "24") and ln["fee_ocur_time"][:10] >= middle.isoformat()]  # fmt: skip
    assert not {ln["bkkp_sn"] for ln in exempt} & batch  # emergency lines settle in both
    with world.db.session() as s:
        made = clues.import_run(s, world.workspace, out["run_id"], actor=shi)
        assert made["clues_created"] >= 1
        rows = s.execute(select(Clue).where(Clue.rule_id == "PTS-001")).scalars().all()
        assert sum(c.hits for c in rows) == len(hits)


def test_demo_seeds_the_batch_and_a_repair(world: World) -> None:
    from fundguard.service import credit
    from fundguard.service.seed import seed_demo_points, seed_demo_points_batch

    shi = world.actor("shi")
    with world.db.session() as s:
        seed_demo_points(s)
        out = seed_demo_points_batch(s, world.workspace)
        assert out["hits"] > 0 and out["clues"] >= 1 and out.get("repair")
        assert credit.list_repairs(s, shi)["total"] == 1
        assert seed_demo_points_batch(s, world.workspace).get("hits") is None  # idempotent: seeded once
    from typer.testing import CliRunner

    from fundguard.cli import app

    url, ws = world.db.url, str(world.workspace)
    r = CliRunner().invoke(app, ["points", "batch", "--as", "shi", "--workspace", ws, "--database-url", url])
    assert r.exit_code == 0 and f"命中 {out['hits']} 条" in r.output, r.output
    r = CliRunner().invoke(
        app, ["points", "batch", "--as", "yiyuan", "--workspace", ws, "--database-url", url]
    )
    assert r.exit_code != 0 and "权" in r.output, r.output
