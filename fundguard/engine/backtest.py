"""Replay a rule — or a change to it — over the stored data before it goes live (医保发〔2023〕25号: flags
sized to reviewers): hits, money, institutions and doctors affected, current rule beside the changed one."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from fundguard.core.sql import literal
from fundguard.data.store import Store
from fundguard.engine.batch import run_batch
from fundguard.rules.spec import RuleSet


@dataclass(frozen=True)
class Impact:
    """What one version of the rules flags in the store."""

    hits: int
    amount: str
    institutions: int
    doctors: int
    top_institutions: list[tuple[str, int, str]]
    """(fixmedins_code, hits, amount), most money first."""


def backtest(workspace: Path, rules: RuleSet, rule_ids: list[str]) -> Impact:
    """Run ``rule_ids`` of ``rules`` over the store of ``workspace`` without keeping a result run."""
    with tempfile.TemporaryDirectory(prefix="fg-backtest-") as tmp:
        result = run_batch(workspace, rules.select(rule_ids), out_dir=Path(tmp), progress=False)
        con = Store(workspace).connect()
        try:
            hits = f"read_parquet({literal(str(result.hits_path))})"
            n, amount, inst = con.execute(
                f"SELECT count(*), CAST(COALESCE(sum(amount), 0) AS VARCHAR), count(DISTINCT fixmedins_code) "
                f"FROM {hits}"
            ).fetchone()
            (doctors,) = con.execute(
                f"SELECT count(DISTINCT f.bilg_dr_code) FROM (SELECT DISTINCT unnest(bkkp_sn) AS bkkp_sn FROM {hits}) h "
                "JOIN fee_list_d_valid f USING (bkkp_sn) WHERE f.bilg_dr_code IS NOT NULL"
            ).fetchone()
            top = con.execute(
                f"SELECT fixmedins_code, count(*), CAST(sum(amount) AS VARCHAR) FROM {hits} "
                "GROUP BY 1 ORDER BY sum(amount) DESC, 1 LIMIT 10"
            ).fetchall()
        finally:
            con.close()
    return Impact(n, amount, inst, doctors, [tuple(r) for r in top])
