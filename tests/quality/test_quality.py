"""The data-quality profile finds what is wrong with a store and nothing on a consistent one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.kb import codes
from fundguard.quality import profile_store
from fundguard.synth import CityConfig, generate_city


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate_city(out, CityConfig(seed=11, fee_lines=20_000, fmt="parquet"), progress=False)
    return out


def _profile(city: Path, ws: Path, *, skip: str | None = None):
    paths = [p for p in sorted(city.iterdir()) if p.is_dir() and p.name != skip]
    ingest(paths, ws, progress=False)
    return profile_store(Store(ws), icd10_codes=codes.icd10()["code"].to_list())


def test_generated_city_is_consistent(city: Path, tmp_path: Path) -> None:
    report = _profile(city, tmp_path)
    by_code = {c.code: c for c in report.checks}
    for code in (
        "fee_orphan_visit",
        "setl_orphan_visit",
        "setl_total_mismatch",
        "person_unknown",
        "institution_unknown",
        "diag_not_icd10",
        "visit_end_before_start",
    ):
        assert by_code[code].checked, code
        assert by_code[code].count == 0, (code, by_code[code].sample[:3])
    assert {t.table for t in report.tables} >= {"mdtrt_d", "setl_d", "fee_list_d", "psn_info_b"}
    fee = next(t for t in report.tables if t.table == "fee_list_d")
    assert fee.rows == fee.distinct_keys > 0


def test_missing_visits_show_as_orphans(city: Path, tmp_path: Path) -> None:
    report = _profile(city, tmp_path, skip="mdtrt_d")
    by_code = {c.code: c for c in report.checks}
    # Without the visit table the orphan checks cannot run: the report must say so rather than claim "0".
    assert not by_code["fee_orphan_visit"].checked

    partial = tmp_path / "partial"
    shutil.copytree(city, partial)
    visits = sorted((partial / "mdtrt_d").iterdir())
    table = pq.read_table(visits[0])
    pq.write_table(table.slice(0, table.num_rows // 2), visits[0])  # drop half the visits of the first file
    report = _profile(partial, tmp_path / "ws2")
    orphans = {c.code: c for c in report.checks}["fee_orphan_visit"]
    assert orphans.checked and orphans.count > 0
    assert len(orphans.sample) == min(orphans.count, 20)


def test_report_files(city: Path, tmp_path: Path) -> None:
    report = _profile(city, tmp_path)
    paths = report.write(tmp_path / "reports")
    html = paths["html"].read_text("utf-8")
    assert "数据质量报告" in html and "费用明细" in html and "<script" not in html
    from openpyxl import load_workbook

    wb = load_workbook(paths["xlsx"], read_only=True)
    assert {"表概况", "质量检查"} <= set(wb.sheetnames)
