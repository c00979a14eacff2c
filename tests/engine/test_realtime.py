"""Real-time (事前/事中) audit of one claim gives the batch's hits for that visit, byte for byte (evidence
included): the compiled evaluators on EVERY visit of a generated 20k-line city; the old SQL path (still the
fallback for a template without an evaluator, and the benchmark's baseline) on a sample, with the shortcuts
it takes (knowledge filtered to the claim's codes, rules with no knowledge left not run)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from fundguard.core.errors import InputError
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.batch import hits_sql
from fundguard.engine.claim_input import claims_from_store
from fundguard.engine.payload3101 import parse_3101, to_3101
from fundguard.engine.realtime import RealtimeAuditor, SqlRealtimeAuditor, claim_from_store, realtime_rules
from fundguard.rules import knowledge, load_rules
from fundguard.rules.base import HIT_COLUMNS, create_claim_lines
from fundguard.rules.plan import plan
from fundguard.rules.templates import TEMPLATES
from fundguard.synth import CityConfig, generate_city


def _key(h: dict) -> tuple:
    """The whole hit: every column, the amount as text, the line list in its order."""
    return tuple(str(h[c]) if c == "amount" else tuple(h[c]) if c == "bkkp_sn" else h[c] for c in HIT_COLUMNS)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    tmp = tmp_path_factory.mktemp("realtime_city")
    out = tmp / "city"
    generate_city(
        out, CityConfig(seed=11, fee_lines=20_000, fmt="parquet", violation_scale=1.0), progress=False
    )
    ws = tmp / "ws"
    ingest([p for p in sorted(out.iterdir()) if p.is_dir()], ws, progress=False)
    rules = load_rules()
    rt = realtime_rules(rules)
    return ws, rules, rt


POPULATION_TEMPLATES = {name for name, t in TEMPLATES.items() if t.population}


def test_rule_selection(city: tuple) -> None:
    _, rules, rt = city
    assert rt and all("事中" in r.stages and r.template not in POPULATION_TEMPLATES for r in rt)
    auditor_skipped = {r.template for r in rules.enabled()} & POPULATION_TEMPLATES
    assert auditor_skipped == POPULATION_TEMPLATES  # the national set has both: they really are left out


@pytest.fixture(scope="module")
def batch(city: tuple) -> tuple[dict[str, list[tuple]], list[str]]:
    """The batch's hits of the 事前/事中 real-time rules by visit, and a sample of visits: three hit visits
    per rule plus 20 visits without hits (~0.15 s per claim, see bench/bench_realtime.py)."""
    ws, rules, _ = city
    rt = realtime_rules(rules, ("事前", "事中"))
    res = run_batch(ws, rules.select([r.id for r in rt]), progress=False)
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT * FROM read_parquet('{res.hits_path}', hive_partitioning = false)"
        ).fetchall()
        cols = [d[0] for d in con.description]
    by_visit: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        h = dict(zip(cols, row, strict=True))
        by_visit[h["mdtrt_id"]].append(_key(h))
    assert len({k[0] for ks in by_visit.values() for k in ks}) >= 10, "the city should trip many rules"
    store = Store(ws).connect()
    try:
        visits = [
            v for (v,) in store.execute("SELECT DISTINCT mdtrt_id FROM fee_list_d ORDER BY 1").fetchall()
        ]
    finally:
        store.close()
    per_rule: dict[str, list[str]] = defaultdict(list)
    for v in sorted(by_visit):
        for rule in sorted({k[0] for k in by_visit[v]}):
            per_rule[rule].append(v)
    hit_visits = sorted({v for vs in per_rule.values() for v in vs[:3]})
    assert len(hit_visits) >= 10
    rng = random.Random(7)
    return by_visit, hit_visits + rng.sample(sorted(set(visits) - set(by_visit)), 20)


def _compare(
    auditor: RealtimeAuditor, ws: Path, sample: list[str], want_of, stage: str | None = None
) -> dict:
    mismatches = {}
    store = Store(ws).connect()
    try:
        for i, v in enumerate(sample):
            if i == len(sample) // 2:
                auditor.refresh()  # re-reading the store mid-way changes nothing
            got = sorted(_key(h) for h in auditor.audit(claim_from_store(store, v), stage=stage))
            want = sorted(want_of(v))
            if got != want:
                mismatches[v] = {"realtime": got, "batch": want}
    finally:
        store.close()
    return mismatches


def test_every_visit_equals_batch(city: tuple, batch: tuple) -> None:
    """The compiled evaluators on every visit of the city (4.5k claims): the batch's hits exactly."""
    ws, rules, _ = city
    by_visit, _ = batch
    rt = realtime_rules(rules, ("事前", "事中"))
    assert all(plan(r).compiled for r in rt), "every real-time template has an evaluator"
    store = Store(ws).connect()
    try:
        claims = claims_from_store(store)
    finally:
        store.close()
    mismatches = {}
    # replaying a year of old visits needs all of each person's history, not the windows back from the
    # store's latest line that serve new claims (those: test_history_is_cut_to_each_rules_window)
    with RealtimeAuditor(ws, rules, stage=("事前", "事中"), history_since=dt.date.min) as auditor:
        for i, (v, claim) in enumerate(claims.items()):
            if i == len(claims) // 2:
                auditor.refresh()  # re-reading the store mid-way changes nothing
            got = sorted(_key(h) for h in auditor.audit(claim))
            if got != sorted(by_visit.get(v, [])):
                mismatches[v] = {"realtime": got, "batch": sorted(by_visit.get(v, []))}
        assert auditor.last_timings["rules_compiled"] == len(rt)
    assert sum(len(h) for h in by_visit.values()) > 40
    assert not mismatches, {k: mismatches[k] for k in list(mismatches)[:3]}


def test_sql_path_equals_batch(city: tuple, batch: tuple) -> None:
    """The old path (the batch SQL over the claim in DuckDB) on a sample of visits."""
    ws, rules, rt = city
    by_visit, sample = batch
    ids = {r.id for r in rt}
    with SqlRealtimeAuditor(ws, rules) as auditor:
        assert {r.id for r in auditor.rules} == ids
        assert auditor.memory_bytes > 0
        mismatches = _compare(
            auditor, ws, sample[::2], lambda v: [k for k in by_visit.get(v, []) if k[0] in ids]
        )
        assert auditor.last_timings["rules_run"] + auditor.last_timings["rules_skipped"] == len(rt)
    assert not mismatches, {k: mismatches[k] for k in list(mismatches)[:5]}


def test_stage_filter_equals_batch(city: tuple, batch: tuple) -> None:
    """One auditor for 事前 and 事中; asked for 事前 it gives the batch hits of the rules with 事前 only."""
    ws, rules, _ = city
    by_visit, sample = batch
    pre = {r.id for r in realtime_rules(rules, "事前")}
    assert pre < {r.id for r in realtime_rules(rules, ("事前", "事中"))}  # stay rules are 事中 only
    with RealtimeAuditor(ws, rules, stage=("事前", "事中"), history_since=dt.date.min) as auditor:
        mismatches = _compare(
            auditor, ws, sample[::4], lambda v: [k for k in by_visit.get(v, []) if k[0] in pre], stage="事前"
        )
        with pytest.raises(InputError, match="事后"):
            auditor.audit(_small_claim(ws), stage="事后")
    assert not mismatches, {k: mismatches[k] for k in list(mismatches)[:5]}


def test_empty_knowledge_no_hits(city: tuple) -> None:
    """Why the auditor may leave out a rule whose knowledge table has no row for the claim's codes: over the
    whole city, every real-time rule with a knowledge table hits, if at all, only through its rows."""
    ws, rules, _ = city
    rt = realtime_rules(rules, ("事前", "事中"))
    by_kb: dict[str, list] = defaultdict(list)
    for r in rt:
        if r.knowledge and plan(r).knowledge_by_code:  # the others never skip (knowledge_by_code False)
            by_kb[r.knowledge].append(r)
    con = Store(ws).connect()
    try:
        knowledge.register(con, sorted(by_kb))
        create_claim_lines(con, materialize=True)
        full = {kb: len(con.execute(hits_sql(group)).fetchall()) for kb, group in by_kb.items()}
        assert sum(full.values()) > 0, "the city should trip knowledge rules"
        for kb, group in by_kb.items():
            con.execute(f'DELETE FROM "{kb}"')
            assert con.execute(hits_sql(group)).fetchall() == [], kb
    finally:
        con.close()


@pytest.mark.parametrize("fallback", [False, True], ids=["compiled", "sql_fallback"])
def test_3101_replay_equals_national_form(
    city: tuple, batch: tuple, fallback: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored visit sent as a 3101 request (the fields 3101 carries) gets the hits of its national form,
    also where a template without an evaluator runs through the SQL path (the claim, already cast by
    ``parse_3101``, is given back to it as texts)."""
    ws, rules, _ = city
    by_visit, sample = batch
    visits = [v for v in sample if v in by_visit][::6]
    if fallback:  # the template of a rule these visits hit, as if it had no evaluator yet
        template = rules[by_visit[visits[0]][0][0]].template

        def sql_only(rule):
            p = plan(rule)
            return dataclasses.replace(p, evaluator=None) if rule.template == template else p

        monkeypatch.setattr("fundguard.engine.realtime.plan", sql_only)
    store = Store(ws).connect()
    mismatches = {}
    try:
        with RealtimeAuditor(ws, rules) as auditor:
            assert (auditor._sql is not None) == fallback
            for v in visits:
                claim = claim_from_store(store, v)
                # 3101 carries fewer fields (no settlement id): rules, lines and amounts must agree
                want = sorted(_key(h)[:1] + _key(h)[5:8] for h in auditor.audit(claim))
                (c,) = parse_3101(to_3101(claim)).claims
                got = sorted(_key(h)[:1] + _key(h)[5:8] for h in auditor.audit_parsed(c.claim))
                if got != want:
                    mismatches[v] = {"3101": got, "national": want}
    finally:
        store.close()
    assert not mismatches, {k: mismatches[k] for k in list(mismatches)[:5]}


def _small_claim(ws: Path) -> dict:
    store = Store(ws).connect()
    try:
        (v,) = store.execute("SELECT min(mdtrt_id) FROM fee_list_d").fetchone()
        return claim_from_store(store, v)
    finally:
        store.close()


def test_bad_claims(city: tuple) -> None:
    ws, rules, _ = city
    good = _small_claim(ws)
    with RealtimeAuditor(ws, rules) as auditor:
        assert isinstance(auditor.audit(good), list)
        with pytest.raises(InputError, match="mdtrt_d"):
            auditor.audit({**good, "mdtrt_d": []})
        bad = {**good, "fee_list_d": [{**good["fee_list_d"][0], "det_item_fee_sumamt": "12,3元"}]}
        with pytest.raises(InputError, match="det_item_fee_sumamt") as e:
            auditor.audit(bad)
        assert "无法解析" in str(e.value) and "cannot be parsed" in str(e.value)
        bad = {**good, "fee_list_d": [{**good["fee_list_d"][0], "fee_ocur_time": "2024-13-45 25:00:00"}]}
        with pytest.raises(InputError, match="fee_ocur_time"):
            auditor.audit(bad)
        line = {k: v for k, v in good["fee_list_d"][0].items() if k != "hilist_code"}
        with pytest.raises(InputError, match="hilist_code") as e:
            auditor.audit({**good, "fee_list_d": [line]})
        assert "必填" in str(e.value) and "required" in str(e.value)
        with pytest.raises(InputError, match="psn_no"):
            auditor.audit(
                {**good, "mdtrt_d": [{k: v for k, v in good["mdtrt_d"][0].items() if k != "psn_no"}]}
            )
        with pytest.raises(InputError, match="unknown fields"):
            auditor.audit({**good, "fee_list_d": [{**good["fee_list_d"][0], "foo": "1"}]})


def test_rule_changes_apply_without_restart(city: tuple, batch: tuple, tmp_path: Path) -> None:
    """A maintainer's pause (``<ws>/rules/paused.yaml``) and a bureau's new rule in the workspace reach a
    running auditor at its next rules check, without a restart; a broken file keeps the rules in force."""
    ws, rules, _ = city
    by_visit, _ = batch
    visit = next(v for v in sorted(by_visit) if by_visit[v])
    rule_id = by_visit[visit][0][0]
    store = Store(ws).connect()
    try:
        claim = claim_from_store(store, visit)
    finally:
        store.close()
    paused = ws / "rules" / "paused.yaml"
    paused.parent.mkdir(exist_ok=True)
    try:
        with RealtimeAuditor(ws, rules, stage=("事前", "事中"), history_since=dt.date.min) as auditor:
            assert rule_id in {h["rule_id"] for h in auditor.audit(claim)}
            paused.write_text(f"- override: {rule_id}\n  enabled: false\n", encoding="utf-8")
            assert auditor.check_rules(force=True)
            assert rule_id not in {h["rule_id"] for h in auditor.audit(claim)}
            assert rule_id not in auditor.rule_by_id
            paused.write_text("- override: [broken\n", encoding="utf-8")
            assert not auditor.check_rules(force=True) and auditor.rules_error is not None
            assert rule_id not in auditor.rule_by_id  # the last good rules stay in force
            paused.unlink()
            assert auditor.check_rules(force=True)
            assert rule_id in {h["rule_id"] for h in auditor.audit(claim)}
    finally:
        paused.unlink(missing_ok=True)


def test_history_is_cut_to_each_rules_window(city: tuple) -> None:
    """Without ``history_since`` each look-back rule keeps only the lines of its own window (counted back from
    the store's latest line), every window is bounded, and no line a rule may read is left out."""
    ws, rules, _ = city
    con = Store(ws).connect()
    try:
        latest = con.execute("SELECT max(CAST(fee_ocur_time AS DATE)) FROM fee_list_d_valid").fetchone()[0]
    finally:
        con.close()
    with (
        RealtimeAuditor(ws, rules, stage=("事前", "事中")) as cut,
        RealtimeAuditor(ws, rules, stage=("事前", "事中"), history_since=dt.date.min) as full,
    ):
        keep = [p for p in cut._compiled if p.keeps_history is not None]
        assert keep and all(p.history_days is not None for p in keep)  # pharmacy_cashing included
        assert any(p.rule.template == "pharmacy_cashing" for p in keep)

        def within(p, row: dict) -> bool:
            lo = latest - dt.timedelta(days=p.history_days)
            return (
                row["fee_date"] is not None and row["fee_date"] >= lo and p.keeps_history(row, cut._ins.get)
            )

        kept = {r["bkkp_sn"]: r for rows in cut._history.values() for r in rows}
        assert kept and all(any(within(p, r) for p in keep) for r in kept.values())
        needed = {
            r["bkkp_sn"] for rows in full._history.values() for r in rows if any(within(p, r) for p in keep)
        }
        assert needed == set(kept)
        assert sum(map(len, full._history.values())) > len(kept)  # the cut really drops lines
        assert cut.history_bytes[0] < full.history_bytes[0]


_CLINICAL_FILES = {
    "kb_drug_safety": "drug_safety",
    "kb_diag_sex": "diagnosis_sex",
    "kb_diag_age": "diagnosis_age",
    "kb_oprn_sex": "operation_sex",
    "kb_oprn_diag": "operation_diagnosis",
}


def test_new_knowledge_version_applies_without_restart(
    city: tuple, batch: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bureau's knowledge override file (``FUNDGUARD_KB_OVERRIDES``) that removes a point reaches a running
    auditor at its next rules check; taking the file away brings the point back."""
    ws, rules, _ = city
    by_visit, _ = batch
    found = next(
        (v, h)
        for v in sorted(by_visit)
        for h in by_visit[v]
        if h[-1] and rules[h[0]].knowledge in _CLINICAL_FILES
    )
    visit, (rule_id, *_, kp_id) = found
    folder = tmp_path / "kb"
    folder.mkdir()
    monkeypatch.setenv("FUNDGUARD_KB_OVERRIDES", str(folder))
    store = Store(ws).connect()
    try:
        claim = claim_from_store(store, visit)
    finally:
        store.close()

    def points() -> set[tuple]:
        return {(h["rule_id"], h["kp_id"]) for h in auditor.audit(claim)}

    try:
        with RealtimeAuditor(ws, rules, stage=("事前", "事中"), history_since=dt.date.min) as auditor:
            assert (rule_id, kp_id) in points()
            override = folder / f"{_CLINICAL_FILES[rules[rule_id].knowledge]}.csv"
            override.write_text(f"kp_id,action,reviewer\n{kp_id},remove,测试\n", encoding="utf-8")
            assert auditor.check_rules(force=True) and auditor.rules_error is None
            assert (rule_id, kp_id) not in points()
            override.unlink()
            assert auditor.check_rules(force=True)
            assert (rule_id, kp_id) in points()
    finally:
        monkeypatch.delenv("FUNDGUARD_KB_OVERRIDES")
        knowledge.arrow.cache_clear()  # the other tests read the shipped knowledge
        from fundguard.engine.realtime import _forget_knowledge

        _forget_knowledge()
