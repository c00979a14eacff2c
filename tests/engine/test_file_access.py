"""While rules run, DuckDB reads and writes only the store and the run folder (issue 10, low): a rule whose SQL
reaches for another file — a bureau's template, or a parameter that slipped into the SQL — is refused."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from fundguard.core.sql import literal
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.realtime import RealtimeAuditor, claim_from_store
from fundguard.rules.base import HIT_COLUMNS
from fundguard.rules.spec import Rule, RuleSet
from fundguard.rules.templates import TEMPLATES
from fundguard.rules.templates.base import Template
from fundguard.synth import CityConfig, generate_city


class _ReadsAFile(Template):
    """A template whose SQL reads a file outside the workspace."""

    name = "reads_a_file"
    title_zh = "读取工作区外文件的模板"

    def __init__(self, path: Path) -> None:
        self.path = path

    def sql(self, rule: Rule) -> str:
        cols = ", ".join(
            f"CAST({'content' if c == 'evidence_zh' else 'NULL'} AS {t}) AS {c}"
            for c, t in HIT_COLUMNS.items()
        )
        return f"SELECT {cols} FROM read_text({literal(str(self.path))})"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("access")
    generate_city(tmp / "city", CityConfig(seed=9, fee_lines=2_000, fmt="parquet"), progress=False)
    ingest([p for p in sorted((tmp / "city").iterdir()) if p.is_dir()], tmp / "ws", progress=False)
    return tmp / "ws"


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RuleSet:
    secret = tmp_path / "secret.txt"
    secret.write_text("密钥", encoding="utf-8")
    monkeypatch.setitem(TEMPLATES, "reads_a_file", _ReadsAFile(secret))
    rule = Rule(id="L-FILE-1", name_zh="读文件", template="reads_a_file", params={}, result_type="可疑",
                legal_basis="无", amount_rule="line_amount")  # fmt: skip
    return RuleSet({rule.id: rule}, "test")


def test_batch_rules_cannot_read_other_files(ws: Path, rules: RuleSet) -> None:
    with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
        run_batch(ws, rules, progress=False)


def test_realtime_rules_cannot_read_other_files(ws: Path, rules: RuleSet) -> None:
    store = Store(ws).connect()
    (v,) = store.execute("SELECT min(mdtrt_id) FROM fee_list_d").fetchone()
    claim = claim_from_store(store, v)
    store.close()
    with RealtimeAuditor(ws, rules) as auditor, pytest.raises(duckdb.PermissionException):
        auditor.audit(claim)
