"""Issue 12's templates: their examples through the old per-claim SQL path as well (the compiled evaluators
are compared with the batch by tests/engine/test_templates.py), the coverage goal, and a bureau's knowledge
override reaching a rule."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.examples import _hit_key, build_store, template_examples
from fundguard.engine.realtime import SqlRealtimeAuditor, claim_from_store, realtime_rules
from fundguard.models.indicators import INDICATORS
from fundguard.rules import load_rules
from fundguard.rules.coverage import INDICATOR_CLASSES, coverage

RULES = load_rules()
NEW = {"code_consistency", "drug_safety", "visit_frequency", "prescription_size", "overlapping_supply"}


def _hits(path: Path) -> list[dict]:
    with duckdb.connect() as con:
        cur = con.execute(f"SELECT * FROM read_parquet('{path}')")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


@pytest.mark.parametrize("example", [pytest.param(e, id=e.name) for e in template_examples(NEW)])
def test_sql_path_equals_batch_on_examples(example, tmp_path: Path) -> None:
    """The per-claim SQL path loads these templates' knowledge whole (not by billed codes) and never skips
    them for want of rows: it must give the batch's hits too."""
    one = RULES.select([example.rule_id])
    if not realtime_rules(one, ("事前", "事中")):
        pytest.skip("batch-only rule")
    case = example.case
    ws = build_store(tmp_path, case.get("visits", []), case.get("lines", []), case.get("tables"))
    batch = _hits(run_batch(ws, one, progress=False).hits_path)
    store = Store(ws).connect()
    try:
        visits = [
            v for (v,) in store.execute("SELECT DISTINCT mdtrt_id FROM fee_list_d ORDER BY 1").fetchall()
        ]
        with SqlRealtimeAuditor(ws, one, stage=("事前", "事中")) as auditor:
            for v in visits:
                got = sorted(_hit_key(h) for h in auditor.audit(claim_from_store(store, v)))
                want = sorted(
                    _hit_key({**h, "bkkp_sn": list(h["bkkp_sn"])}) for h in batch if h["mdtrt_id"] == v
                )
                assert got == want, v
    finally:
        store.close()


def test_coverage_goal_and_indicator_classes() -> None:
    rows = {c.seq: c for c in coverage(RULES, indicators=INDICATORS)}
    implemented = [c for c in rows.values() if c.status == "implemented"]
    assert len(implemented) >= 50
    for seq, (code, _name) in INDICATOR_CLASSES.items():
        assert code in INDICATORS and rows[seq].status == "implemented" and code in rows[seq].reason_zh, seq
    # without the model indicators the statistical classes are not claimed
    bare = {c.seq: c for c in coverage(RULES)}
    assert all(bare[s].status == "not_yet" for s in INDICATOR_CLASSES)
    generic = "国家未发布知识点明细：需地方规则参数"
    assert not [c.seq for c in rows.values() if c.status == "not_yet" and c.reason_zh.startswith(generic)]
    for seq in (39, 40, 54, 55, 66, 69, 71, 72, 73, 74, 75, 46, 50, 52, 76, 77, 86, 87, 48):
        assert rows[seq].status == "implemented", seq
