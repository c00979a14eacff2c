"""Value-level validation: types, dates, IDs, codes, refunds, required fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from conftest import FEE_HEADER, fee_row, read_quarantine, write_csv

from fundguard.data.ingest import ingest
from fundguard.data.store import Store


def _rows(ws: Path, sql: str) -> list[tuple]:
    return Store(ws).connect().execute(sql).fetchall()


def test_missing_required_columns_reject_the_file(tmp_path: Path, ws: Path) -> None:
    header = [h for h in FEE_HEADER if h not in ("psn_no", "cnt")]
    p = write_csv(tmp_path / "fee_list_d.csv", [fee_row(1)], header)
    f = ingest([p], ws, progress=False).files[0]
    assert f.status == "rejected" and f.reject_code == "missing_required"
    assert "psn_no" in f.reject_zh and "cnt" in f.reject_en
    assert Store(ws).row_counts()["fee_list_d"] == 0


def test_wrong_types_are_quarantined_naming_column_and_value(tmp_path: Path, ws: Path) -> None:
    rows = [
        fee_row(1),
        fee_row(2, cnt="两个"),
        fee_row(3, fee_ocur_time="2024-13-45"),
        fee_row(4, fee_ocur_time="08:30:00"),
    ]
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False).files[0]
    assert (f.rows_loaded, f.rows_quarantined) == (1, 3)
    assert f.reasons == {"bad_number": 1, "bad_date": 1, "time_only": 1}
    q = {r["reason_code"]: r for r in read_quarantine(ws)}
    assert q["bad_number"]["column"] == "cnt" and q["bad_number"]["value"] == "两个"
    assert q["bad_number"]["line"] == "3" and q["bad_number"]["reason_zh"]
    assert q["bad_date"]["value"] == "2024-13-45"


def test_mixed_date_formats_in_one_file(tmp_path: Path, ws: Path) -> None:
    formats = [
        "2024-03-05 08:30:00",
        "2024/03/05 08:30:00",
        "20240305083000",
        "2024-03-05T08:30:00",
        "2024-03-05 08:30:00.0",
        "2024-03-05",
        "2024/03/05",
        "20240305",
        "45356.3541666667",
    ]
    rows = [fee_row(i, fee_ocur_time=v) for i, v in enumerate(formats)]
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False).files[0]
    assert f.rows_loaded == len(formats), f.reasons
    got = sorted(r[0] for r in _rows(ws, "select fee_ocur_time from fee_list_d"))
    assert got[0] == dt.datetime(2024, 3, 5, 0, 0) and got[-1] == dt.datetime(2024, 3, 5, 8, 30)
    assert sum(1 for g in got if g == dt.datetime(2024, 3, 5, 8, 30)) == 6  # incl. the Excel serial


def test_float_and_scientific_ids_rejected(tmp_path: Path, ws: Path) -> None:
    rows = [
        fee_row(1),
        fee_row(2, psn_no="1.23457E+19"),
        fee_row(3, mdtrt_id="4301020001.0"),
        fee_row(4, bkkp_sn="B" * 31),
    ]
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False).files[0]
    assert f.reasons == {"bad_id": 3} and f.rows_loaded == 1


def test_required_field_empty(tmp_path: Path, ws: Path) -> None:
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", [fee_row(1, psn_no=" ")])], ws, progress=False).files[
        0
    ]
    assert f.reasons == {"required_missing": 1}


def test_negative_amounts_need_a_refund_link(tmp_path: Path, ws: Path) -> None:
    rows = [
        fee_row(1),
        fee_row(2, cnt="-2", det_item_fee_sumamt="-25.00", fulamt_ownpay_amt="-5", inscp_amt="-20"),
        fee_row(
            3,
            cnt="-2",
            det_item_fee_sumamt="-25.00",
            fulamt_ownpay_amt="-5",
            inscp_amt="-20",
            init_feedetl_sn="BK0000000001",
        ),
    ]
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False).files[0]
    assert f.reasons == {"negative_not_refund": 1} and f.rows_loaded == 2
    assert _rows(ws, "select sum(det_item_fee_sumamt) from fee_list_d") == [(Decimal("0.00"),)]


def test_setl_refund_flag(tmp_path: Path, ws: Path) -> None:
    header = [
        "setl_id",
        "mdtrt_id",
        "psn_no",
        "fixmedins_code",
        "setl_time",
        "medfee_sumamt",
        "refd_setl_flag",
        "hosp_lv",
    ]
    rows = [
        {
            "setl_id": "S1",
            "mdtrt_id": "M1",
            "psn_no": "P1",
            "fixmedins_code": "H43010200001",
            "setl_time": "2024-01-02 10:00:00",
            "medfee_sumamt": "100",
            "refd_setl_flag": "0",
            "hosp_lv": "5",
        },
        {
            "setl_id": "S2",
            "mdtrt_id": "M1",
            "psn_no": "P1",
            "fixmedins_code": "H43010200001",
            "setl_time": "2024-01-03 10:00:00",
            "medfee_sumamt": "-100",
            "refd_setl_flag": "1",
            "hosp_lv": "5",
        },
        {
            "setl_id": "S3",
            "mdtrt_id": "M1",
            "psn_no": "P1",
            "fixmedins_code": "H43010200001",
            "setl_time": "2024-01-03 10:00:00",
            "medfee_sumamt": "-100",
            "refd_setl_flag": "0",
            "hosp_lv": "5",
        },
    ]
    f = ingest([write_csv(tmp_path / "setl_d.csv", rows, header)], ws, progress=False).files[0]
    assert f.reasons == {"negative_not_refund": 1} and f.rows_loaded == 2
    assert f.warnings.get("vali_flag_missing") == 2
    assert _rows(ws, "select distinct hosp_lv, vali_flag from setl_d_valid") == [("05", "1")]


def test_unknown_enumeration_strict_vs_lenient(tmp_path: Path, ws: Path) -> None:
    rows = [fee_row(1), fee_row(2, med_type="77"), fee_row(3, med_chrgitm_type="99")]
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False).files[0]
    assert f.reasons == {"unknown_code": 1}  # med_type is strict
    assert f.warning_columns["unknown_code:med_chrgitm_type"] == 1  # lenient: kept, counted
    assert f.rows_loaded == 2


def test_workspace_dictionary_extends_codes(tmp_path: Path, ws: Path) -> None:
    dic = tmp_path / "dic.csv"
    dic.write_text("dic_type,code,name\nMED_TYPE,140104,门诊慢病\n", encoding="utf-8")
    p = write_csv(tmp_path / "fee_list_d.csv", [fee_row(1, med_type="140104")])
    assert ingest([p], ws, progress=False).files[0].reasons == {"unknown_code": 1}
    f = ingest([p], tmp_path / "ws2", progress=False, dictionary_files=[dic]).files[0]
    assert f.rows_loaded == 1 and not f.reasons


def test_integer_mangled_codes_restored(tmp_path: Path, ws: Path) -> None:
    rows = [
        fee_row(1, med_chrgitm_type="9", chrgitm_lv="1.0"),
        fee_row(2, med_chrgitm_type="3", chrgitm_lv="2"),
    ]
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False).files[0]
    assert f.rows_loaded == 2, f.reasons
    got = sorted(_rows(ws, "select med_chrgitm_type, chrgitm_lv from fee_list_d"))
    assert got == [("03", "02"), ("09", "01")]


def test_hosp_lv_level_only_heuristic(tmp_path: Path, ws: Path) -> None:
    header = ["setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "setl_time", "medfee_sumamt", "hosp_lv"]
    base = {
        "mdtrt_id": "M1",
        "psn_no": "P1",
        "fixmedins_code": "H43010200001",
        "setl_time": "2024-01-02 10:00:00",
        "medfee_sumamt": "1",
    }
    rows = [{**base, "setl_id": f"S{i}", "hosp_lv": v} for i, v in enumerate(["1", "2", "3", "11"])]
    f = ingest([write_csv(tmp_path / "setl_d.csv", rows, header)], ws, progress=False).files[0]
    assert f.warnings["hosp_lv_level_only"] == 4
    assert sorted(r[0] for r in _rows(ws, "select hosp_lv from setl_d")) == ["11", "12", "13", "14"]


def test_warnings_do_not_drop_rows(tmp_path: Path, ws: Path) -> None:
    rows = [
        fee_row(1, fixmedins_code="4301XYZ", hilist_code="abc", bilg_dr_code="0", det_item_fee_sumamt="99.00")
    ]
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False).files[0]
    assert f.rows_loaded == 1
    for code in ("fixmedins_code_format", "hilist_code_format", "bilg_dr_placeholder", "amount_identity"):
        assert f.warnings[code] == 1, code
