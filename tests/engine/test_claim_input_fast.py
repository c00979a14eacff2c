"""The fast cast of claim rows (``claim_input._rows_fast``, a parser generated per row shape) gives exactly the general
path's rows and errors."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fundguard.core.errors import InputError
from fundguard.engine import claim_input

BASE = {
    "bkkp_sn": "L1", "mdtrt_id": "V1", "psn_no": "P1", "hilist_code": "XA01", "hilist_name": " 阿司匹林 ",
    "fee_ocur_time": "2024-03-01 08:30:00", "cnt": "2", "pric": "12.345", "det_item_fee_sumamt": "24.69",
    "fixmedins_code": "H1", "list_type": "101", "vali_flag": "1", "setl_id": "S1",
}  # fmt: skip
ODD = [None, "", "  ", 5, 2.5, True, False, "abc", [1], {"a": 1}, " 12.345 ", "2020-01-01", -1, 10**12,
       float("nan"), "1e3", "2024-03-01T08:30:00+08:00", "2024-13-01", b"XA01"]  # fmt: skip


def _outcome(name: str, rows: list[dict[str, Any]]) -> tuple[str, Any]:
    try:
        out = claim_input._rows(name, rows)
    except InputError as e:
        return "error", str(e)
    return "rows", [list(r.items()) for r in out]  # values, types and field order


def test_fast_path_equals_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(7)
    cases = [[dict(BASE, bkkp_sn=f"L{i}") for i in range(5)]]
    for n in range(300):
        rows = [dict(BASE, bkkp_sn=f"L{i}") for i in range(3)]
        row = rnd.choice(rows)
        key = rnd.choice(list(row))
        row[key] = rnd.choice(ODD)
        if n % 7 == 0:
            row["not_a_field"] = "1"
        if n % 5 == 0:
            del row[rnd.choice(list(row))]
        cases.append(rows)
    fast = [_outcome("fee_list_d", rows) for rows in cases]
    monkeypatch.setattr(claim_input, "_rows_fast", lambda name, rows: None)
    general = [_outcome("fee_list_d", rows) for rows in cases]
    assert fast == general
    assert {kind for kind, _ in general} == {"rows", "error"}  # both outcomes were exercised


def test_fast_path_takes_plain_rows() -> None:
    rows = [dict(BASE, bkkp_sn=f"L{i}") for i in range(3)]
    out = claim_input._rows_fast("fee_list_d", rows)
    assert out is not None and out[0]["hilist_name"] == "阿司匹林" and out[0]["cnt"] == 2
    assert (
        claim_input._rows_fast("fee_list_d", [dict(BASE, cnt="x")]) is None
    )  # the error is the general path's
