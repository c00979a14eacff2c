"""Incremental audit (``engine.incremental``): on a city imported month by month, auditing one month (by
month or by import) gives exactly the full audit's hits owned by it — the hits on its visits or naming its
lines — byte-identical, evidence included, for the look-back templates (re-admission, concurrent visits,
visit frequency, overlapping supply, windowed counts, pharmacy cashing, indication history) and a
population one; and it reads fewer lines than the full audit."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from fundguard.cli import app
from fundguard.core.errors import InputError
from fundguard.core.workspace import INCREMENTAL_SUFFIX, Workspace
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.incremental import run_incremental
from fundguard.rules import load_rules
from fundguard.rules.spec import RuleSet
from fundguard.synth import CityConfig, generate_city
from fundguard.synth.monthly import reference_dirs, split_by_month

LOOK_BACK = {
    "readmission", "visit_overlap", "visit_frequency", "overlapping_supply", "windowed_aggregate",
    "pharmacy_cashing", "indication",
}  # fmt: skip
OTHERS = {
    "ghost_bed",
    "same_item_repeat",
    "trace_code_reuse",
    "group_admission",
    "quantity_outlier",
}  # visit-alone, population
PLANTED = (
    "phantom_inpatient_gang", "split_admission", "impersonation_concurrent", "frequent_outpatient", "frequent_admission",
    "overlapping_supply", "pharmacy_cashing", "over_frequency", "repeated_test", "indication_history_missing",
    "trace_code_duplicate", "ghost_bed", "consumable_overuse", "tcm_overdose_upload",
)  # fmt: skip


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A small city over three months, imported one month at a time (one ingest per month); returns the
    workspace and the ingest ids, oldest first."""
    tmp = tmp_path_factory.mktemp("incremental")
    cfg = CityConfig(
        seed=7, fee_lines=6_000, fmt="parquet", end=dt.date(2025, 3, 31),
        violation_rates=dict.fromkeys(PLANTED, 0.3),
    )  # fmt: skip
    generate_city(tmp / "city", cfg, progress=False)
    ws = tmp / "ws"
    ingest(reference_dirs(tmp / "city"), ws, progress=False)
    ids = [ingest([d], ws, progress=False).ingest_id for d in split_by_month(tmp / "city", tmp / "months")]
    assert len(ids) == 3
    return ws, ids


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    all_rules = load_rules()
    return all_rules.select([r.id for r in all_rules.enabled() if r.template in LOOK_BACK | OTHERS])


@pytest.fixture(scope="module")
def full(city: tuple[Path, list[str]], rules: RuleSet) -> Path:
    return run_batch(city[0], rules, progress=False).hits_path


def _owned(con: duckdb.DuckDBPyConnection, hits: Path, lines: str, visits: str) -> None:
    """Table ``own``: the rows of ``hits`` on a visit of ``visits`` or naming a line of ``lines`` (queries),
    worked out here from the store, not by the engine's code."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE sl AS {lines}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE sv AS SELECT mdtrt_id FROM sl UNION {visits}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE own AS SELECT * FROM read_parquet('{hits}', hive_partitioning = false) h "
        "WHERE mdtrt_id IN (SELECT mdtrt_id FROM sv) OR list_has_any(bkkp_sn, (SELECT list(bkkp_sn) FROM sl))"
    )


def _differing(con: duckdb.DuckDBPyConnection, inc: Path) -> int:
    i = f"read_parquet('{inc}', hive_partitioning = false)"
    return con.execute(
        f"SELECT (SELECT count(*) FROM (FROM own EXCEPT ALL FROM {i})) + (SELECT count(*) FROM (FROM {i} EXCEPT ALL FROM own))"
    ).fetchone()[0]


def test_a_middle_month_gives_the_full_audits_hits_on_it(
    city: tuple[Path, list[str]], rules: RuleSet, full: Path
) -> None:
    ws, _ = city
    inc = run_incremental(ws, rules, month="2025-02", progress=False)
    con = Store(ws).connect()
    try:
        month = "strftime(fee_ocur_time, '%Y-%m') = '2025-02'"
        _owned(con, full, f"SELECT bkkp_sn, mdtrt_id FROM fee_list_d_valid WHERE {month}",
               "SELECT mdtrt_id FROM mdtrt_d_valid WHERE strftime(begntime, '%Y-%m') = '2025-02'")  # fmt: skip
        assert _differing(con, inc.hits_path) == 0
        by_template = dict(con.execute("SELECT rule_id, count(*) FROM own GROUP BY ALL").fetchall())
        templates = {rules[r].template for r in by_template}
        # the look-back templates hit in this month, so their windows were exercised
        assert {"readmission", "visit_overlap", "overlapping_supply", "pharmacy_cashing"} <= templates
        assert "group_admission" in templates  # read through its institutions' window, not the whole store
        assert "quantity_outlier" in templates  # through the lines of its items, not the whole store
        # some owned hits reach into other months (back, and forward: March exists): the windows mattered
        outside = con.execute(
            "SELECT count(DISTINCT h.n) FROM (SELECT row_number() OVER () AS n, unnest(bkkp_sn) AS sn FROM own) h "
            "ANTI JOIN sl ON sl.bkkp_sn = h.sn"
        ).fetchone()[0]
        assert outside > 0
        store_lines = con.execute("SELECT count(*) FROM fee_list_d_valid").fetchone()[0]
    finally:
        con.close()
    record = json.loads((inc.run_dir / "run.json").read_text(encoding="utf-8"))["incremental"]
    assert record["month"] == "2025-02" and record["lines"] > 0
    windows = {k.split("+")[0] for k in record["lines_read_by_window"]}  # "+<hash>": which lines
    # every window cut: person windows, the institutions' window (集中住院), the trace codes' (追溯码重复)
    assert {"0", "all", "90", "institutions±3", "sharing-keys"} <= windows
    assert not record["population_rules_read_the_store"]
    assert all(n < store_lines for n in record["lines_read_by_window"].values())
    assert inc.lines_scanned == record["lines_read_by_windows"] < store_lines


def test_the_last_import_gives_the_full_audits_hits_on_it(
    city: tuple[Path, list[str]], rules: RuleSet, full: Path
) -> None:
    ws, ids = city
    inc = run_incremental(ws, rules, imports=[ids[-1]], progress=False)
    store = Store(ws)
    fee = [d for d in store.import_dirs("fee_list_d") if ids[-1] in d.name]
    visits = [d for d in store.import_dirs("mdtrt_d") if ids[-1] in d.name]
    con = store.connect()
    try:
        _owned(con, full, f"SELECT bkkp_sn, mdtrt_id FROM read_parquet('{fee[0]}/*.parquet') WHERE vali_flag = '1'",
               f"SELECT mdtrt_id FROM read_parquet('{visits[0]}/*.parquet')")  # fmt: skip
        assert con.execute("SELECT count(*) FROM own").fetchone()[0] > 0
        assert _differing(con, inc.hits_path) == 0
    finally:
        con.close()
    record = json.loads((inc.run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["incremental"]["imports"] == sorted(d.name.split("=", 1)[1] for d in [*fee, *visits])


def test_an_unknown_month_or_import_is_refused_in_both_languages(
    city: tuple[Path, list[str]], rules: RuleSet
) -> None:
    ws, _ = city
    with pytest.raises(InputError, match="2025-01 … 2025-03"):
        run_incremental(ws, rules, month="2024-12", progress=False)
    with pytest.raises(InputError, match="YYYY-MM"):
        run_incremental(ws, rules, month="2025-13", progress=False)
    runner = CliRunner(env={"COLUMNS": "200"})
    out = runner.invoke(app, ["audit", "-w", str(ws), "--import", "no-such-import", "--no-progress"])
    assert out.exit_code != 0
    assert "未知的导入批次 no-such-import" in out.output and "unknown import no-such-import" in out.output


@pytest.mark.slow
def test_every_national_rule_gives_the_full_audits_hits_on_a_month(city: tuple[Path, list[str]]) -> None:
    ws, _ = city
    rules = load_rules()
    full_all = run_batch(ws, rules, progress=False).hits_path
    inc = run_incremental(ws, rules, month="2025-02", progress=False)
    con = Store(ws).connect()
    try:
        month = "strftime(fee_ocur_time, '%Y-%m') = '2025-02'"
        _owned(con, full_all, f"SELECT bkkp_sn, mdtrt_id FROM fee_list_d_valid WHERE {month}",
               "SELECT mdtrt_id FROM mdtrt_d_valid WHERE strftime(begntime, '%Y-%m') = '2025-02'")  # fmt: skip
        assert con.execute("SELECT count(*) FROM own").fetchone()[0] > 100
        assert _differing(con, inc.hits_path) == 0
    finally:
        con.close()


def test_readers_of_every_hit_skip_incremental_runs(
    city: tuple[Path, list[str]], rules: RuleSet, full: Path
) -> None:
    ws, _ = city
    inc = run_incremental(ws, rules, month="2025-03", progress=False)
    assert inc.run_id.endswith(INCREMENTAL_SUFFIX) and inc.run_id > full.parent.name.split("=", 1)[1]
    assert (
        Workspace(ws).latest_run() == inc.run_id
    )  # the clue import takes it (hits are added, never removed)
    latest = Workspace(ws).latest_hits()  # the models read a whole-store run's hits
    assert latest is not None and latest.exists() and not latest.parent.name.endswith(INCREMENTAL_SUFFIX)
