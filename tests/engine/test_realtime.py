"""Real-time (事中) audit of one claim gives the batch's hits for that visit, with the same rule SQL."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from fundguard.core.errors import InputError
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.realtime import POPULATION_TEMPLATES, RealtimeAuditor, claim_from_store, realtime_rules
from fundguard.rules import load_rules
from fundguard.synth import CityConfig, generate_city


def _key(h: dict) -> tuple:
    return (h["rule_id"], tuple(sorted(h["bkkp_sn"] or [])), str(h["amount"]))


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


def test_rule_selection(city: tuple) -> None:
    _, rules, rt = city
    assert rt and all("事中" in r.stages and r.template not in POPULATION_TEMPLATES for r in rt)
    auditor_skipped = {r.template for r in rules.enabled()} & POPULATION_TEMPLATES
    assert auditor_skipped == POPULATION_TEMPLATES  # the national set has both: they really are left out


def test_realtime_equals_batch(city: tuple) -> None:
    ws, rules, rt = city
    res = run_batch(ws, rules.select([r.id for r in rt]), progress=False)
    with duckdb.connect() as con:
        batch = con.execute(f"SELECT * FROM read_parquet('{res.hits_path}')").fetchall()
        cols = [d[0] for d in con.description]
    by_visit: dict[str, list[tuple]] = defaultdict(list)
    for row in batch:
        h = dict(zip(cols, row, strict=True))
        by_visit[h["mdtrt_id"]].append(_key(h))
    assert len({k[0] for ks in by_visit.values() for k in ks}) >= 10, "the city should trip many rules"
    store = Store(ws).connect()
    try:
        visits = [
            v for (v,) in store.execute("SELECT DISTINCT mdtrt_id FROM fee_list_d ORDER BY 1").fetchall()
        ]
        # ~0.5 s per claim (see bench/bench_realtime.py): two hit visits per rule plus 12 visits without hits
        per_rule: dict[str, list[str]] = defaultdict(list)
        for v in sorted(by_visit):
            for rule in sorted({k[0] for k in by_visit[v]}):
                per_rule[rule].append(v)
        hit_visits = sorted({v for vs in per_rule.values() for v in vs[:2]})
        rng = random.Random(7)
        sample = hit_visits + rng.sample(sorted(set(visits) - set(by_visit)), 12)
        mismatches = {}
        with RealtimeAuditor(ws, rules) as auditor:
            assert {r.id for r in auditor.rules} == {r.id for r in rt}
            for v in sample:
                got = sorted(_key(h) for h in auditor.audit(claim_from_store(store, v)))
                want = sorted(by_visit.get(v, []))
                if got != want:
                    mismatches[v] = {"realtime": got, "batch": want}
    finally:
        store.close()
    assert len(hit_visits) >= 10
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
