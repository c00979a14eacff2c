"""``claim_lines`` as a model stored per import: a new import adds its part and keeps the others, an import that
refunds an old line rebuilds that line's part, and the audit over the parts gives the hits of a full build."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.lines import attach_claim_lines, model_dir, update_claim_lines
from fundguard.rules import load_rules
from fundguard.rules.base import CLAIM_LINES_SQL
from fundguard.synth import CityConfig, generate_city

HIT_KEY = (
    "SELECT rule_id, mdtrt_id, setl_id, psn_no, fixmedins_code, list_sort(bkkp_sn) AS bkkp_sn, hilist_code, "
    "amount, evidence_zh, kp_id FROM read_parquet('{}')"
)


def _same_hits(a: Path, b: Path) -> bool:
    with duckdb.connect() as con:
        x, y = HIT_KEY.format(a), HIT_KEY.format(b)
        return con.execute(
            f"SELECT (SELECT count(*) FROM (({x}) EXCEPT ALL ({y}))) + (SELECT count(*) FROM (({y}) EXCEPT ALL ({x})))"
        ).fetchone() == (0,)


def _update(ws: Path) -> dict[str, int]:
    store = Store(ws)
    con = store.connect()
    try:
        return update_claim_lines(store, con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small city whose visits (and their fee lines) are split in two imports by admission time."""
    tmp = tmp_path_factory.mktemp("lines_model")
    city = tmp / "city"
    generate_city(city, CityConfig(seed=7, fee_lines=3_000, fmt="parquet"), progress=False)
    with duckdb.connect() as con:
        visits = f"read_parquet('{city}/mdtrt_d/*.parquet')"
        fees = f"read_parquet('{city}/fee_list_d/*.parquet')"
        cut = con.execute(f"SELECT median(begntime) FROM {visits}").fetchone()[0]
        con.execute(f"CREATE TABLE first AS SELECT mdtrt_id FROM {visits} WHERE begntime < '{cut}'")
        for part, cond in (("a", "IN"), ("b", "NOT IN")):
            (tmp / part).mkdir()
            con.execute(
                f"COPY (SELECT * FROM {visits} WHERE mdtrt_id {cond} (SELECT mdtrt_id FROM first)) "
                f"TO '{tmp / part / 'mdtrt_d.parquet'}' (FORMAT parquet)"
            )
            con.execute(
                f"COPY (SELECT * FROM {fees} WHERE mdtrt_id {cond} (SELECT mdtrt_id FROM first)) "
                f"TO '{tmp / part / 'fee_list_d.parquet'}' (FORMAT parquet)"
            )
    return tmp


def _model_equals_full_build(ws: Path) -> int:
    """The stored parts hold exactly the rows of ``claim_lines`` built over the whole store; returns the rows."""
    store = Store(ws)
    con = store.connect()
    try:
        attach_claim_lines(store, con)  # the audit's view over the parts
        stored, full = "SELECT * FROM claim_lines", f"SELECT * FROM ({CLAIM_LINES_SQL})"
        diff = f"SELECT (SELECT count(*) FROM (({stored}) EXCEPT ALL ({full}))) + (SELECT count(*) FROM (({full}) EXCEPT ALL ({stored})))"
        assert con.execute(diff).fetchone() == (0,)
        return con.execute("SELECT count(*) FROM claim_lines").fetchone()[0]
    finally:
        con.close()


def test_a_new_import_adds_its_part_and_an_import_touching_old_lines_rebuilds_theirs(
    months: Path, tmp_path: Path
) -> None:
    city, ws = months / "city", tmp_path / "ws"
    others = [d for d in sorted(city.iterdir()) if d.is_dir() and d.name not in ("fee_list_d", "mdtrt_d")]
    ingest(others, ws, progress=False)
    ingest([months / "a" / "mdtrt_d.parquet"], ws, table="mdtrt_d", progress=False)
    ingest([months / "a" / "fee_list_d.parquet"], ws, table="fee_list_d", progress=False)
    assert _update(ws) == {"built": 1, "kept": 0}
    assert _update(ws) == {"built": 0, "kept": 1}  # nothing new: nothing built
    rows_a = _model_equals_full_build(ws)
    assert rows_a > 0

    # the next month: its visits and lines touch no old line, so the old part is kept
    ingest([months / "b" / "mdtrt_d.parquet"], ws, table="mdtrt_d", progress=False)
    ingest([months / "b" / "fee_list_d.parquet"], ws, table="fee_list_d", progress=False)
    assert _update(ws) == {"built": 1, "kept": 1}
    rows_ab = _model_equals_full_build(ws)
    assert rows_ab > rows_a

    # a late refund of a first-month line: that part is rebuilt (the line leaves claim_lines), the other kept
    a_fees = months / "a" / "fee_list_d.parquet"
    with duckdb.connect() as con:
        sn = con.execute(
            f"SELECT bkkp_sn FROM read_parquet('{a_fees}') WHERE det_item_fee_sumamt > 0 AND cnt > 0 "
            "AND vali_flag = '1' AND bkkp_sn NOT IN (SELECT init_feedetl_sn FROM read_parquet("
            f"'{a_fees}') WHERE init_feedetl_sn IS NOT NULL) ORDER BY bkkp_sn LIMIT 1"
        ).fetchone()[0]
        refund = tmp_path / "refund.parquet"
        con.execute(
            f"COPY (SELECT * REPLACE (bkkp_sn || 'R' AS bkkp_sn, bkkp_sn AS init_feedetl_sn, -cnt AS cnt, "
            f"-det_item_fee_sumamt AS det_item_fee_sumamt) FROM read_parquet('{a_fees}') "
            f"WHERE bkkp_sn = '{sn}') TO '{refund}' (FORMAT parquet)"
        )
    report = ingest([refund], ws, table="fee_list_d", progress=False)
    assert report.files[0].rows_loaded == 1
    assert _update(ws) == {"built": 2, "kept": 1}  # the refund's own part, and the refunded line's
    assert _model_equals_full_build(ws) == rows_ab - 1
    assert len(list(model_dir(Store(ws)).glob("*.duckdb"))) == 3  # the replaced part's file is gone


@pytest.mark.slow
def test_the_audit_over_the_parts_gives_the_hits_of_a_full_build(months: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ingest(
        [
            d
            for d in sorted((months / "city").iterdir())
            if d.is_dir() and d.name not in ("fee_list_d", "mdtrt_d")
        ],
        ws,
        progress=False,
    )
    for part in ("a", "b"):  # two imports: two parts
        ingest([months / part / "mdtrt_d.parquet"], ws, table="mdtrt_d", progress=False)
        ingest([months / part / "fee_list_d.parquet"], ws, table="fee_list_d", progress=False)
        _update(ws)
    rules = load_rules()
    stored = run_batch(ws, rules, progress=False)
    full = run_batch(ws, rules, progress=False, lines_on_disk=False)
    assert stored.hits > 0
    assert _same_hits(stored.hits_path, full.hits_path)
