"""Fixtures for the ingest tests: tiny national-format files written by the tests themselves."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

FEE_HEADER = [
    "bkkp_sn",
    "mdtrt_id",
    "fee_ocur_time",
    "setl_id",
    "fixmedins_code",
    "psn_no",
    "cnt",
    "pric",
    "det_item_fee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_amt",
    "chrgitm_lv",
    "hilist_code",
    "hilist_name",
    "list_type",
    "med_chrgitm_type",
    "med_type",
    "bilg_dr_code",
    "vali_flag",
    "init_feedetl_sn",
]


def fee_row(i: int, **over: str) -> dict[str, str]:
    """One valid fee line; ``over`` replaces fields."""
    row = {
        "bkkp_sn": f"BK{i:010d}",
        "mdtrt_id": f"MD{i // 3:010d}",
        "fee_ocur_time": f"2024-0{1 + i % 3}-1{i % 10} 08:30:00",
        "setl_id": f"ST{i // 3:010d}",
        "fixmedins_code": "H43010200001",
        "psn_no": f"43010000000000{i:06d}",
        "cnt": "2",
        "pric": "12.5",
        "det_item_fee_sumamt": "25.00",
        "fulamt_ownpay_amt": "5.00",
        "overlmt_selfpay": "0",
        "preselfpay_amt": "0",
        "inscp_amt": "20.00",
        "chrgitm_lv": "01",
        "hilist_code": "XB05XAL211B002020400318",
        "hilist_name": "氯化钠注射液",
        "list_type": "101",
        "med_chrgitm_type": "09",
        "med_type": "11",
        "bilg_dr_code": "D430105000001",
        "vali_flag": "1",
        "init_feedetl_sn": "",
    }
    row.update(over)
    return row


def write_csv(
    path: Path, rows: list[dict[str, str]], header: list[str] | None = None, encoding: str = "utf-8"
) -> Path:
    header = header or FEE_HEADER
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(h, "") for h in header])
    return path


def read_quarantine(ws: Path) -> list[dict[str, str]]:
    out = []
    for f in sorted((ws / "quarantine").rglob("*.bad.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            out.extend(csv.DictReader(fh))
    return out


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"
