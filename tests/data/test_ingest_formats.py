"""Input formats and headers: encodings, Excel, Parquet, JSON lines, broken files, header spellings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import FEE_HEADER, fee_row, read_quarantine, write_csv

from fundguard.core.errors import InputError
from fundguard.data import schema
from fundguard.data.ingest import ingest
from fundguard.data.store import Store


def _one(path: Path, ws: Path, **kw):
    return ingest([path], ws, progress=False, **kw).files[0]


def test_gbk_file_with_chinese_headers(tmp_path: Path, ws: Path) -> None:
    t = schema.table("fee_list_d")
    header = [t.field(c).name_zh for c in FEE_HEADER]
    rows = [
        {t.field(k).name_zh: v for k, v in fee_row(i, hilist_name="阿莫西林胶囊").items()} for i in range(3)
    ]
    f = _one(write_csv(tmp_path / "费用明细.csv", rows, header, encoding="gbk"), ws, table="fee_list_d")
    assert f.encoding == "gb18030" and f.rows_loaded == 3 and not f.unknown_columns
    names = Store(ws).connect().execute("select distinct hilist_name from fee_list_d").fetchall()
    assert names == [("阿莫西林胶囊",)]


def test_gb18030_only_characters(tmp_path: Path, ws: Path) -> None:
    name = "𠮷䶮医院"  # not in GBK
    with pytest.raises(UnicodeEncodeError):
        name.encode("gbk")
    p = write_csv(tmp_path / "fee_list_d.csv", [fee_row(1, hilist_name=name)], encoding="gb18030")
    assert _one(p, ws).rows_loaded == 1
    assert Store(ws).connect().execute("select hilist_name from fee_list_d").fetchall() == [(name,)]


def test_utf8_bom_and_interface_headers(tmp_path: Path, ws: Path) -> None:
    header = [
        "feedetl_sn" if h == "bkkp_sn" else "BILG_DR_CODG" if h == "bilg_dr_code" else h for h in FEE_HEADER
    ]
    rows = [
        {
            ("feedetl_sn" if k == "bkkp_sn" else "BILG_DR_CODG" if k == "bilg_dr_code" else k): v
            for k, v in fee_row(1).items()
        }
    ]
    p = write_csv(tmp_path / "x.csv", rows, [*header, "extra_col"], encoding="utf-8-sig")
    f = _one(p, ws)  # table detected from the header
    assert f.table == "fee_list_d" and f.encoding == "utf-8-sig" and f.unknown_columns == ["extra_col"]
    got = Store(ws).connect().execute("select bkkp_sn, bilg_dr_code from fee_list_d").fetchall()
    assert got == [("BK0000000001", "D430105000001")]


def test_truncated_last_line_and_bad_quoting(tmp_path: Path, ws: Path) -> None:
    p = write_csv(tmp_path / "fee_list_d-a.csv", [fee_row(i) for i in range(4)])
    text = p.read_text(encoding="utf-8")
    p.write_text(text + ",".join(text.splitlines()[-1].split(",")[:5]), encoding="utf-8")  # truncated tail
    f = _one(p, ws)
    assert (f.rows_read, f.rows_loaded, f.reasons) == (5, 4, {"malformed_row": 1})
    assert read_quarantine(ws)[0]["line"] == "6"
    q = write_csv(tmp_path / "fee_list_d-b.csv", [fee_row(i) for i in range(10, 14)])
    lines = q.read_text(encoding="utf-8").splitlines()
    lines.insert(2, 'BKX,"unterminated,2024-01-01')  # bad quoting swallows the rest of the file
    q.write_text("\n".join(lines) + "\n", encoding="utf-8")
    g = _one(q, ws)
    assert g.reasons == {"malformed_row": 1} and g.rows_loaded == 1


def test_empty_and_header_only_files(tmp_path: Path, ws: Path) -> None:
    empty = tmp_path / "fee_list_d-0.csv"
    empty.write_bytes(b"")
    header_only = write_csv(tmp_path / "fee_list_d-1.csv", [])
    r = ingest([empty, header_only], ws, progress=False)
    e, h = r.files
    assert e.status == "rejected" and e.reject_code == "empty_file" and "空" in e.reject_zh
    # an empty file is rejected, so the set is held back: the header-only file was fine but is not stored
    assert h.status == "withheld" and h.rows_read == 0 and not r.published
    assert ingest([header_only], ws, progress=False).files[0].status == "loaded"


def test_bad_paths_raise_input_error(tmp_path: Path, ws: Path) -> None:
    with pytest.raises(InputError, match="不存在"):
        ingest([tmp_path / "nope.csv"], ws, progress=False)
    bad = tmp_path / "fee_list_d.doc"
    bad.write_text("x")
    with pytest.raises(InputError, match="unsupported"):
        ingest([bad], ws, progress=False)


def test_excel_with_numeric_codes_and_ids(tmp_path: Path, ws: Path) -> None:
    wb = openpyxl.Workbook()
    sh = wb.active
    sh.append(FEE_HEADER)
    import datetime as dt

    for i in range(3):
        r = fee_row(i)
        r.update(
            {
                "cnt": 2,
                "pric": 12.5,
                "det_item_fee_sumamt": 25,
                "chrgitm_lv": 1,
                "med_chrgitm_type": 9,
                "med_type": 11,
                "list_type": 101,
                "fee_ocur_time": dt.datetime(2024, 5, 1, 9, 0),
                "psn_no": 4301000001 + i,
            }
        )
        if i == 2:
            r["psn_no"] = 1.2345678901234567e19  # Excel already mangled this ID
        sh.append([r.get(h) for h in FEE_HEADER])
    p = tmp_path / "fee_list_d.xlsx"
    wb.save(p)
    f = _one(p, ws)
    assert f.format == "xlsx" and f.rows_loaded == 2 and f.reasons == {"bad_id": 1}
    got = (
        Store(ws)
        .connect()
        .execute("select distinct chrgitm_lv, med_chrgitm_type, psn_no from fee_list_d order by psn_no")
        .fetchall()
    )
    assert got[0] == ("01", "09", "4301000001")


def test_parquet_with_typed_columns(tmp_path: Path, ws: Path) -> None:
    import datetime as dt

    n = 5
    data = pa.table(
        {
            "bkkp_sn": [f"B{i}" for i in range(n)],
            "mdtrt_id": pa.array([4301000 + i for i in range(n)], pa.int64()),
            "fee_ocur_time": pa.array([dt.datetime(2024, 2, 1, 8, i) for i in range(n)], pa.timestamp("ms")),
            "fixmedins_code": ["H43010200001"] * n,
            "psn_no": pa.array([430100 + i for i in range(n)], pa.int64()),
            "cnt": pa.array([1.5] * n, pa.float64()),
            "pric": pa.array([10.0] * n, pa.float64()),
            "det_item_fee_sumamt": pa.array([15.0] * n, pa.float64()),
            "hilist_code": ["XB05XAL211B002020400318"] * n,
            "chrgitm_lv": pa.array([1, 2, 3, 1, 2], pa.int64()),
            "med_chrgitm_type": pa.array([9.0] * n, pa.float64()),
        }
    )
    p = tmp_path / "fee_list_d" / "part-1.parquet"
    p.parent.mkdir()
    pq.write_table(data, p)
    f = _one(p, ws)
    assert f.table == "fee_list_d" and f.rows_loaded == n, f.reasons
    got = (
        Store(ws)
        .connect()
        .execute(
            "select mdtrt_id, chrgitm_lv, med_chrgitm_type, cnt, fee_ocur_time from fee_list_d order by bkkp_sn limit 1"
        )
        .fetchall()[0]
    )
    assert (
        got[:3] == ("4301000", "01", "09")
        and str(got[3]) == "1.5000"
        and got[4] == dt.datetime(2024, 2, 1, 8, 0)
    )


@pytest.mark.parametrize(
    ("times", "reasons"),
    [
        (pa.array([dt.datetime(2024, 2, 1, 8, i) for i in range(3)], pa.timestamp("ms")), {"bad_number": 1}),
        (pa.array([dt.time(8, i) for i in range(3)], pa.time64("us")), {"time_only": 3}),
    ],
)
def test_parquet_typed_values_that_do_not_fit_are_quarantined(
    tmp_path: Path, ws: Path, times: pa.Array, reasons: dict[str, int]
) -> None:
    """A typed column needs no text to tell a value given from one missing: a number too large for its field
    is ``bad_number``, a time of day with no date ``time_only``, and a null is simply absent."""
    data = pa.table(
        {
            "bkkp_sn": ["B0", "B1", "B2"],
            "mdtrt_id": ["M0", "M1", "M2"],
            "fee_ocur_time": times,
            "fixmedins_code": ["H43010200001"] * 3,
            "psn_no": ["P0", "P1", "P2"],
            "cnt": pa.array([1.0] * 3, pa.float64()),
            "pric": pa.array([10.0] * 3, pa.float64()),
            "inscp_amt": pa.array([5.0, 5.0, None], pa.float64()),
            "det_item_fee_sumamt": pa.array([1e20, 10.0, 10.0], pa.float64()),
            "hilist_code": ["XB05XAL211B002020400318"] * 3,
        }
    )
    p = tmp_path / "fee_list_d" / "part-1.parquet"
    p.parent.mkdir()
    pq.write_table(data, p)
    f = _one(p, ws)
    assert f.reasons == reasons and f.rows_loaded == 3 - sum(reasons.values())
    first = read_quarantine(ws)[0]
    if "bad_number" in reasons:
        assert (first["line"], first["column"]) == ("1", "det_item_fee_sumamt")
        assert Store(ws).connect().execute(
            "SELECT count(*) FROM fee_list_d WHERE inscp_amt IS NULL"
        ).fetchone() == (1,)
    else:  # the time comes first among the row's checks
        assert (first["column"], first["value"]) == ("fee_ocur_time", "08:00:00")


def test_json_lines_with_a_broken_line(tmp_path: Path, ws: Path) -> None:
    p = tmp_path / "fee_list_d.jsonl"
    lines = [json.dumps(fee_row(i) | {"cnt": 2}, ensure_ascii=False) for i in range(3)]
    lines.insert(1, '{"bkkp_sn": "BROKEN", ')
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    f = _one(p, ws)
    assert (f.rows_read, f.rows_loaded, f.reasons) == (4, 3, {"malformed_row": 1})
    assert read_quarantine(ws)[0]["line"] == "2"
