"""The real-time audit's test city (a generated city, its batch hits by visit, some stored claims) and API keys
for its institutions, shared by the audit API tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from audit_city import DISCLOSURE_RULES, hit_key

from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.realtime import claim_from_store, realtime_rules
from fundguard.rules import load_rules
from fundguard.service.db import Database, database_url, migrate
from fundguard.service.realtime_keys import issue_key
from fundguard.synth import CityConfig, generate_city


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[tuple]], dict, dict]:
    """A small city's workspace, the batch's 事中 real-time hits by visit, some claims (hit visits first, one
    visit of each ``DISCLOSURE_RULES`` rule, one clean visit) and the batch evidence by (visit, rule)."""
    tmp = tmp_path_factory.mktemp("audit_api_city")
    generate_city(
        tmp / "city", CityConfig(seed=5, fee_lines=8_000, fmt="parquet", violation_scale=1.0), progress=False
    )
    ws = tmp / "ws"
    ingest([p for p in sorted((tmp / "city").iterdir()) if p.is_dir()], ws, progress=False)
    rules = load_rules()
    res = run_batch(ws, rules.select([r.id for r in realtime_rules(rules)]), progress=False)
    by_visit: dict[str, list[tuple]] = defaultdict(list)
    evidence: dict[tuple[str, str], str] = {}
    with duckdb.connect() as con:
        for rule_id, mdtrt_id, sns, amount, ev in con.execute(
            f"SELECT rule_id, mdtrt_id, bkkp_sn, amount, evidence_zh FROM read_parquet('{res.hits_path}')"
        ).fetchall():
            by_visit[mdtrt_id].append(hit_key(rule_id, sns, amount))
            evidence[(mdtrt_id, rule_id)] = ev
    assert len(by_visit) >= 5
    special = [min(v for v, r in evidence if r == rule) for rule in DISCLOSURE_RULES]
    store = Store(ws).connect()
    try:
        clean = store.execute(
            "SELECT min(mdtrt_id) FROM fee_list_d WHERE NOT list_contains(?, mdtrt_id)", [sorted(by_visit)]
        ).fetchone()[0]
        claims = {v: claim_from_store(store, v) for v in [*sorted(by_visit)[:8], *special, clean]}
    finally:
        store.close()
    return ws, by_visit, claims, evidence


@pytest.fixture(scope="session")
def api_key(city: tuple) -> Callable[[str], str]:
    """``api_key(fixmedins_code)`` → a key of that institution in the city's service database (one each)."""
    ws = city[0]
    url = database_url(ws)
    migrate(url)
    db = Database(url)
    keys: dict[str, str] = {}

    def key(code: str) -> str:
        if code not in keys:
            with db.session() as s:
                keys[code] = issue_key(s, code, name="测试", workspace=ws)[1]
        return keys[code]

    yield key
    db.dispose()
