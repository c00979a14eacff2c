"""Big-data model leads imported as clues (source 大数据模型): one clue per institution × month with the leads'
reasons as evidence, one per person or group lead (its insured persons on the evidence lines, masked for masked
roles), idempotent, recorded once, region-scoped, and shown to the institution only once notified."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest
import sqlalchemy as sa

from fundguard.models import run_models
from fundguard.service import auth, clues
from fundguard.service.errors import NotFound, PermissionDenied
from fundguard.service.models import Clue, ClueHit, Institution, RecordEntry

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture(scope="session")
def leads_run(workspace: Path) -> str:
    """One model run over the session's audited city (the newest audit run's hits give the money)."""
    return run_models(workspace).run_id


def _import(world: World, run_id: str, actor: str | None = None) -> dict:
    with world.db.session() as s:
        return clues.import_leads(s, world.workspace, run_id, actor=world.actor(actor) if actor else None)


def test_leads_become_clues_once(world: World, leads_run: str) -> None:
    leads = pl.read_parquet(world.workspace / "leads" / f"run={leads_run}" / "leads.parquet")
    with pytest.raises(PermissionDenied):  # the third-party inspector may not import
        _import(world, leads_run, "disanfang")
    first = _import(world, leads_run, "shi")
    people = leads.filter(
        (pl.col("entity_type") == "group") | ((pl.col("entity_type") == "person") & (pl.col("rank") <= 50))
    ).select("entity_type", "entity_id")
    assert first["clues_created"] > people.n_unique() and first["leads"] == leads.height
    beyond = leads.filter((pl.col("entity_type") == "person") & (pl.col("rank") > 50)).height
    assert sum(v for k, v in first["skipped"].items() if "前50名之外" in k) == beyond
    assert _import(world, leads_run) == {**first, "already_imported": True, "clues_created": 0, "leads": 0,
                                         "skipped": {}}  # fmt: skip
    with world.db.session() as s:
        model_clues = s.execute(sa.select(Clue).where(Clue.source == "model")).scalars().all()
        assert len(model_clues) == first["clues_created"]
        entries = (
            s.execute(sa.select(RecordEntry).where(RecordEntry.action == "clue.import_leads")).scalars().all()
        )
        assert len(entries) == 1 and entries[0].actor == "shi"
        insts = {i.fixmedins_code: i.admdvs for i in s.execute(sa.select(Institution)).scalars()}
        for c in model_clues:
            assert c.admdvs == insts[c.fixmedins_code] and c.status == "pending_initial" and not c.notified
            hits = s.execute(sa.select(ClueHit).where(ClueHit.clue_id == c.id)).scalars().all()
            assert c.amount == max(h.amount for h in hits)
            if ":" in c.group_key:  # a person or group clue: its people on the evidence lines
                assert all(h.psn_no for h in hits)
            else:
                assert c.hits == len(hits)
    with world.db.session() as s:  # the workbench's source filter
        city = world.actor("shi")
        listed = clues.list_clues(s, city, source="model", size=100)
        assert listed["total"] == first["clues_created"] and {c["source"] for c in listed["items"]} == {
            "model"
        }
        assert {c["source"] for c in clues.list_clues(s, city, source="rule", size=100)["items"]} == {"rule"}
    # an institution's own lead: its model, score, rank, reasons and money reach the clue
    top = (
        leads.filter(pl.col("entity_type") == "institution").sort("score", descending=True).row(0, named=True)
    )
    city = world.actor("shi")
    with world.db.session() as s:
        cid = s.execute(
            sa.select(Clue.id).where(
                Clue.source == "model", Clue.fixmedins_code == top["entity_id"], ~Clue.group_key.contains(":")
            )
        ).scalar_one()
        detail = clues.get_clue(s, city, cid)
    assert detail["source"] == "model" and detail["rule_name"].startswith("大数据模型：")
    ev = next(
        e for e in detail["evidence"] if e["kp_id"] == top["model"] and top["entity_name"] in e["evidence_zh"]
    )
    assert all(r in ev["evidence_zh"] for r in top["reasons"])
    assert f"风险分 {top['score']:.2f}，第 {top['rank']} 名" in ev["evidence_zh"]
    assert float(ev["amount"]) == pytest.approx(top["money"], abs=0.01)


def test_person_and_group_leads_become_clues_masked_for_masked_roles(world: World, leads_run: str) -> None:
    _import(world, leads_run)
    leads = pl.read_parquet(world.workspace / "leads" / f"run={leads_run}" / "leads.parquet")
    person = leads.filter(pl.col("entity_type") == "person").sort("score", descending=True).row(0, named=True)
    with world.db.session() as s:
        clue = s.execute(
            sa.select(Clue).where(Clue.group_key.like(f"model|person:{person['entity_id']}|%"))
        ).scalar_one()
        assert clue.fixmedins_code == person["institutions"][0] and clue.rule_id == person["model"]
        cid = clue.id
    with world.db.session() as s:
        seen = clues.get_clue(s, world.actor("shi"), cid)
        masked = clues.get_clue(s, world.actor("disanfang"), cid)
    assert person["entity_id"] in str(seen["evidence"]) and all(
        r in str(seen["evidence"]) for r in person["reasons"]
    )
    assert person["entity_id"] not in str(masked)
    groups = leads.filter(pl.col("entity_type") == "group")
    with world.db.session() as s:
        for g in groups.iter_rows(named=True):
            c = s.execute(
                sa.select(Clue).where(Clue.group_key.like(f"model|group:{g['entity_id']}|%"))
            ).scalar_one()
            members = {
                h.psn_no for h in s.execute(sa.select(ClueHit).where(ClueHit.clue_id == c.id)).scalars()
            }
            assert members == set(g["related"])


def test_model_clues_are_scoped_and_told_only_once_notified(world: World, leads_run: str) -> None:
    _import(world, leads_run)
    county = world.actor("xian")
    with world.db.session() as s:
        clue = (
            s.execute(
                sa.select(Clue).where(Clue.source == "model", Clue.admdvs == county.admdvs).order_by(Clue.id)
            )
            .scalars()
            .first()
        )
        assert clue is not None, "the city has model clues in the county"
        cid, code = clue.id, clue.fixmedins_code
        auth.create_user(s, "moxing", "Model-hosp-33x", "hospital", clue.admdvs, fixmedins_code=code,
                         must_change=False)  # fmt: skip
        auth.create_user(s, "linqu", "Next-county-33x", "county_supervisor", "890103", must_change=False)
    world.passwords.update(moxing="Model-hosp-33x", linqu="Next-county-33x")
    hosp, other = world.actor("moxing"), world.actor("linqu")
    with world.db.session() as s:
        assert cid in {c["id"] for c in clues.list_clues(s, county, size=100, fixmedins_code=code)["items"]}
        for who in (hosp, other):  # not yet told / another region
            assert cid not in {c["id"] for c in clues.list_clues(s, who, size=100)["items"]}
            with pytest.raises(NotFound):
                clues.get_clue(s, who, cid)
        version = clues.get_clue(s, county, cid)["version"]
        clues.act_on_clue(s, county, cid, "initial_confirm", version, comment="模型线索核实")
    jingban = world.actor("jingban")
    with world.db.session() as s:
        version = clues.get_clue(s, jingban, cid)["version"]
        clues.act_on_clue(s, jingban, cid, "review_confirm", version, comment="告知机构")
    with world.db.session() as s:
        seen = clues.get_clue(s, hosp, cid)
        assert seen["source"] == "model" and seen["evidence"]
        with pytest.raises(NotFound):
            clues.get_clue(s, other, cid)


def test_decided_model_clues_give_precision_by_model_and_labels(world: World, leads_run: str) -> None:
    """Outcomes read back: a model clue dismissed at 初审 and one confirmed after 核实 credit their models."""
    from fundguard.service.leads import institution_labels, model_precision

    _import(world, leads_run)
    county = world.actor("xian")
    with world.db.session() as s:
        before = {r["model"]: r for r in model_precision(s)}
        picked = (
            s.execute(
                sa.select(Clue)
                .where(Clue.source == "model", Clue.admdvs == county.admdvs, Clue.status == "pending_initial")
                .order_by(Clue.id)
            )
            .scalars()
            .all()
        )
        assert len(picked) >= 2, "two open model clues in the county"
        yes, no = picked[0], next(c for c in picked[1:] if c.fixmedins_code != picked[0].fixmedins_code)
        yes_id, no_id, code = yes.id, no.id, yes.fixmedins_code
        models_yes = set(s.execute(sa.select(ClueHit.kp_id).where(ClueHit.clue_id == yes_id)).scalars())
        models_no = set(s.execute(sa.select(ClueHit.kp_id).where(ClueHit.clue_id == no_id)).scalars())
        auth.create_user(s, "moxing2", "Model-hosp-44x", "hospital", yes.admdvs, fixmedins_code=code,
                         must_change=False)  # fmt: skip
    world.passwords.update(moxing2="Model-hosp-44x")
    steps = [("xian", no_id, "initial_dismiss", {}), ("xian", yes_id, "initial_confirm", {}),
             ("jingban", yes_id, "review_confirm", {}), ("moxing2", yes_id, "accept", {}),
             ("shi", yes_id, "verify_confirm", {"confirmed_amount": "100.00"})]  # fmt: skip
    for who, cid, action, fields in steps:
        actor = world.actor(who)
        with world.db.session() as s:
            version = clues.get_clue(s, actor, cid)["version"]
            clues.act_on_clue(s, actor, cid, action, version, comment="模型线索办理", **fields)
    with world.db.session() as s:
        after = {r["model"]: r for r in model_precision(s)}
        labels = institution_labels(s)
        outcome = {
            c.id: c.outcome for c in s.execute(sa.select(Clue).where(Clue.id.in_([yes_id, no_id]))).scalars()
        }
    assert outcome == {yes_id: "confirmed", no_id: "dismissed"}
    for m in models_yes | models_no:
        gained = (after[m]["confirmed"] - before[m]["confirmed"], after[m]["refuted"] - before[m]["refuted"])
        assert gained == (int(m in models_yes), int(m in models_no)), m
        assert after[m]["precision"] == round(after[m]["confirmed"] / after[m]["decided"], 4)
    assert labels[code] == 1
