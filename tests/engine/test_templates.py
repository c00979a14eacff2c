"""Each template's fixture cases (tests/engine/fixtures/<template>.yaml) through the real engine and store."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from fundguard.data.ingest import ingest
from fundguard.engine import run_batch
from fundguard.rules import load_rules, national_rule_files
from fundguard.rules.templates import TEMPLATES

FIXTURES = Path(__file__).parent / "fixtures"
RULES = load_rules()

VISIT = {
    "fixmedins_code": "H1",
    "begntime": "2025-03-01 08:00:00",
    "gend": "1",
    "brdy": "1970-01-01",
    "hosp_lv": "02",
    "insutype": "310",
    "vali_flag": "1",
}


def _cases() -> list:
    out = []
    for f in sorted(FIXTURES.glob("*.yaml")):
        for i, case in enumerate(yaml.safe_load(f.read_text(encoding="utf-8"))):
            out.append(pytest.param(case, id=f"{f.stem}-{i}-{case['rule']}"))
    return out


def _write(path: Path, rows: list[dict]) -> Path:
    header = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    return path


def build_store(
    tmp: Path, visits: list[dict], lines: list[dict], tables: dict[str, list[dict]] | None = None
) -> Path:
    """A real store from fixture rows: visits and lines (with defaults filled in) plus any other canonical
    table given by name in ``tables`` (e.g. ``psn_info_b``, ``setl_list_diag_d``, ``invt_chg_d``)."""
    vs = [{**VISIT, **v} for v in visits]
    by_id = {v["mdtrt_id"]: v for v in vs}
    ls = []
    for raw in lines:
        v = by_id[raw["mdtrt_id"]]
        cnt = Decimal(raw.get("cnt", "1"))
        det = Decimal(raw["det_item_fee_sumamt"])
        row = {
            "setl_id": "S" + raw["mdtrt_id"],
            "fixmedins_code": v["fixmedins_code"],
            "psn_no": v["psn_no"],
            "fee_ocur_time": v["begntime"].replace("08:00", "09:00"),
            "cnt": str(cnt),
            "pric": str(det / cnt),
            "inscp_amt": str(det),
            "chrgitm_lv": "02",
            "hilist_name": raw["hilist_code"],
            "vali_flag": "1",
            **raw,
        }
        ls.append(row)
    src = tmp / "src"
    src.mkdir()
    ws = tmp / "ws"
    files = [_write(src / f"{name}.csv", rows) for name, rows in
             (("mdtrt_d", vs), ("fee_list_d", ls), *(tables or {}).items()) if rows]  # fmt: skip
    report = ingest(files, ws, progress=False)
    assert all(f.rows_loaded > 0 for f in report.files), report
    return ws


@pytest.mark.parametrize("case", _cases())
def test_fixture_case(case: dict, tmp_path: Path) -> None:
    ws = build_store(tmp_path, case.get("visits", []), case.get("lines", []), case.get("tables"))
    res = run_batch(ws, RULES.select([case["rule"]]), progress=False)
    with duckdb.connect() as con:
        cur = con.execute(f"SELECT * FROM read_parquet('{res.hits_path}') ORDER BY bkkp_sn")
        cols = [d[0] for d in cur.description]
        got = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    assert [g["bkkp_sn"] for g in got] == [e["bkkp_sn"] for e in case["expect"]], case["name"]
    for g, e in zip(got, case["expect"], strict=True):
        assert g["rule_id"] == case["rule"]
        assert g["amount"] == Decimal(e["amount"]), (g, e)
        assert g["evidence_zh"] and g["psn_no"] and g["mdtrt_id"]
        if "evidence_contains" in e:
            assert e["evidence_contains"] in g["evidence_zh"], g["evidence_zh"]
        if "kp_id" in e:
            assert g["kp_id"] == e["kp_id"]
        if "kp_id_prefix" in e:
            assert g["kp_id"].startswith(e["kp_id_prefix"])
    assert res.hits_by_rule == {case["rule"]: len(case["expect"])}


def test_every_template_has_fixtures() -> None:
    assert {p.stem for p in FIXTURES.glob("*.yaml")} >= set(TEMPLATES)


def test_internet_hospital_rule_needs_local_scope(tmp_path: Path) -> None:
    """L-2025-47 ships disabled; a bureau's override naming its internet hospitals switches it on for them."""
    code = "XN01AHS091B002010101435"  # 枸橼酸舒芬太尼注射液: not for internet prescriptions (batch 10)
    visits = [{"mdtrt_id": "V1", "psn_no": "P1", "med_type": "11", "fixmedins_code": "H1"},
              {"mdtrt_id": "V2", "psn_no": "P2", "med_type": "11", "fixmedins_code": "H2"}]  # fmt: skip
    lines = [{"bkkp_sn": "B1", "mdtrt_id": "V1", "hilist_code": code, "det_item_fee_sumamt": "50.00"},
             {"bkkp_sn": "B2", "mdtrt_id": "V2", "hilist_code": code, "det_item_fee_sumamt": "50.00"}]  # fmt: skip
    ws = build_store(tmp_path, visits, lines)
    assert not RULES["L-2025-47"].enabled
    local = tmp_path / "local.yaml"
    local.write_text(
        "- override: L-2025-47\n  enabled: true\n  params: {fixmedins_codes: [H1]}\n", encoding="utf-8"
    )
    rules = load_rules([*national_rule_files(), local]).select(["L-2025-47"])
    res = run_batch(ws, rules, progress=False)
    with duckdb.connect() as con:
        got = con.execute(f"SELECT bkkp_sn FROM read_parquet('{res.hits_path}')").fetchall()
    assert got == [(["B1"],)]
