"""The batch engine's two ways of holding ``claim_lines`` (in memory, or compressed in a DuckDB file for
stores past the memory limit) give the same hits, the run record carries the seconds per phase, and the
rules of one template run as one query with each rule's own hits."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.batch import prepare
from fundguard.rules import load_rules
from fundguard.rules.base import HIT_COLUMNS
from fundguard.rules.templates import TEMPLATES
from fundguard.synth import CityConfig, generate_city

HIT_KEY = (
    "SELECT rule_id, mdtrt_id, setl_id, psn_no, fixmedins_code, list_sort(bkkp_sn) AS bkkp_sn, hilist_code, "
    "amount, evidence_zh, kp_id FROM read_parquet('{}')"
)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("batch")
    generate_city(tmp / "city", CityConfig(seed=5, fee_lines=8_000, fmt="parquet"), progress=False)
    ingest([p for p in sorted((tmp / "city").iterdir()) if p.is_dir()], tmp / "ws", progress=False)
    return tmp / "ws"


def test_on_disk_claim_lines_give_the_same_hits(ws: Path) -> None:
    rules = load_rules()
    memory = run_batch(ws, rules, progress=False, lines_on_disk=False)
    disk = run_batch(ws, rules, progress=False, lines_on_disk=True)
    assert memory.hits > 0
    assert disk.hits_by_rule == memory.hits_by_rule
    with duckdb.connect() as con:
        a, b = HIT_KEY.format(memory.hits_path), HIT_KEY.format(disk.hits_path)
        assert con.execute(f"SELECT count(*) FROM (({a}) EXCEPT ALL ({b}))").fetchall() == [(0,)]
        assert con.execute(f"SELECT count(*) FROM (({b}) EXCEPT ALL ({a}))").fetchall() == [(0,)]
    # the DuckDB file and the per-template parts are gone; only the results stay
    assert sorted(p.name for p in disk.run_dir.iterdir()) == ["hits.parquet", "run.json"]


def test_run_record_has_phase_seconds(ws: Path) -> None:
    rules = load_rules()
    res = run_batch(ws, rules, progress=False)
    templates = {r.template for r in rules.enabled()}
    assert set(res.phase_seconds) == {"claim_lines", "gather", *templates}
    assert all(s >= 0 for s in res.phase_seconds.values())
    assert sum(res.phase_seconds.values()) <= res.seconds
    record = json.loads((res.run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["phase_seconds"] == res.phase_seconds
    # hits.parquet holds exactly the hit schema (no column picked up from the run=<id> folder name)
    with duckdb.connect() as con:
        cols = [
            (c, t)
            for c, t, *_ in con.execute(
                f"DESCRIBE SELECT * FROM read_parquet('{res.hits_path}', hive_partitioning = false)"
            ).fetchall()
        ]
    assert cols == list(HIT_COLUMNS.items())


def test_rules_of_one_template_in_one_query_give_each_rule_its_own_hits(ws: Path) -> None:
    """``Template.sql_group`` (the rules of a template sharing their scan) yields exactly the hits of the
    rules' own queries, rule by rule (every template with several rules in the national pack)."""
    store = Store(ws)
    con = store.connect()
    rules = load_rules().enabled()
    prepare(con, rules, stored=store)
    groups: dict[str, list] = {}
    for r in rules:
        groups.setdefault(r.template, []).append(r)
    key = "SELECT rule_id, mdtrt_id, setl_id, psn_no, fixmedins_code, list_sort(bkkp_sn), hilist_code, amount, evidence_zh, kp_id FROM ({})"
    shared = 0
    for name, group in sorted(groups.items()):
        if len(group) < 2:
            continue
        together = key.format(TEMPLATES[name].sql_group(group))
        alone = " UNION ALL ".join(f"({key.format(r.sql())})" for r in group)
        for a, b in ((together, alone), (alone, together)):
            assert con.execute(f"SELECT count(*) FROM (({a}) EXCEPT ALL ({b}))").fetchone() == (0,), name
        shared += con.execute(f"SELECT count(*) FROM ({together})").fetchone()[0]
    con.close()
    assert shared > 0


def test_templates_sharing_work_say_so() -> None:
    """A template whose ``sql_group`` shares work between its rules declares ``shares_work`` (the batch then
    runs its rules as one query), and one that does not runs them one by one."""
    from fundguard.engine.batch import template_queries
    from fundguard.rules.templates import Template

    by_template: dict[str, list] = {}
    for r in load_rules().enabled():
        by_template.setdefault(r.template, []).append(r)
    for name, t in TEMPLATES.items():
        assert (type(t).sql_group is not Template.sql_group) == t.shares_work, name
        rules = by_template.get(name)
        if rules:
            assert len(template_queries(rules)) == (1 if t.shares_work else len(rules)), name
