"""Store behaviour: keys and idempotency, views, reports, atomicity under SIGKILL and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from conftest import FEE_HEADER, fee_row, read_quarantine, write_csv

from fundguard.core.errors import InputError
from fundguard.data import schema
from fundguard.data.ingest import ingest
from fundguard.data.store import Store


def _listing(ws: Path) -> list[str]:
    root = ws / "store"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".staging" not in p.parts)


def test_duplicate_keys_inside_a_file(tmp_path: Path, ws: Path) -> None:
    rows = [fee_row(1), fee_row(2), fee_row(1, cnt="3")]
    f = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False).files[0]
    assert f.reasons == {"duplicate_key": 1} and f.rows_loaded == 2
    q = read_quarantine(ws)[0]
    assert q["line"] == "4" and "line 2" in q["value"]
    cnt = Store(ws).connect().execute("select cnt from fee_list_d where bkkp_sn = 'BK0000000001'").fetchall()
    assert [str(c[0]) for c in cnt] == ["2.0000"]  # first occurrence wins


def test_keys_across_files_identical_skipped_conflict_quarantined(tmp_path: Path, ws: Path) -> None:
    ingest([write_csv(tmp_path / "a" / "fee_list_d.csv", [fee_row(i) for i in range(5)])], ws, progress=False)
    second = [fee_row(0), fee_row(1, cnt="9"), fee_row(7)]
    f = ingest([write_csv(tmp_path / "b" / "fee_list_d.csv", second)], ws, progress=False).files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_skipped_existing, f.reasons) == (3, 1, 1, {"key_conflict": 1})
    assert Store(ws).row_counts()["fee_list_d"] == 6
    assert any(r["reason_code"] == "key_conflict" and r["line"] == "3" for r in read_quarantine(ws))


def test_reimporting_the_same_file_adds_nothing(tmp_path: Path, ws: Path) -> None:
    p = write_csv(tmp_path / "fee_list_d.csv", [fee_row(i) for i in range(5)])
    ingest([p], ws, progress=False)
    before = _listing(ws)
    f = ingest([p], ws, progress=False).files[0]
    assert f.status == "already_imported" and f.rows_loaded == 0
    assert _listing(ws) == before
    assert len(Store(ws).ingests()) == 1 and Store(ws).ingests()[0]["rows"] == 5


def test_report_counts_add_up_and_files_written(tmp_path: Path, ws: Path) -> None:
    rows = [fee_row(1), fee_row(2, cnt="x"), fee_row(1), fee_row(3, vali_flag="0")]
    r = ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False)
    t = r.totals
    assert t["rows_read"] == 4 == t["rows_loaded"] + t["rows_quarantined"] + t["rows_skipped_existing"]
    data = json.loads((ws / "reports" / "ingest-latest.json").read_text(encoding="utf-8"))
    assert data["totals"]["rows_quarantined"] == 2 and data["files"][0]["reasons"] == {
        "bad_number": 1,
        "duplicate_key": 1,
    }
    html = (ws / "reports" / f"ingest-{r.ingest_id}.html").read_text(encoding="utf-8")
    assert "数据导入报告" in html and "http" not in html
    wb = openpyxl.load_workbook(ws / "reports" / "ingest-latest.xlsx")
    assert wb["文件"]["A1"].value == "文件"
    assert "隔离" in r.summary_zh()
    qfile = Path(r.files[0].quarantine_file)
    assert qfile.read_bytes().startswith(b"\xef\xbb\xbf")


def test_views_work_in_duckdb(tmp_path: Path, ws: Path) -> None:
    rows = [fee_row(1), fee_row(2, vali_flag="0"), fee_row(3)]
    ingest([write_csv(tmp_path / "fee_list_d.csv", rows)], ws, progress=False)
    con = Store(ws).connect()
    assert con.execute("select count(*) from fee_list_d").fetchone() == (3,)
    assert con.execute("select count(*) from fee_list_d_valid").fetchone() == (2,)
    assert con.execute("select count(*) from setl_d_valid").fetchone() == (
        0,
    )  # empty table, canonical schema
    assert con.execute("select sum(medfee_sumamt) from setl_d").fetchone() == (None,)
    files = list((ws / "store" / "fee_list_d").glob("ingest=*/*.parquet"))
    assert len(files) == 1 and pq.read_schema(files[0]).names == list(schema.table("fee_list_d").columns)


def _big_file(path: Path, n: int) -> Path:
    base = fee_row(0)
    cols = {h: pa.array([base[h]] * n) for h in FEE_HEADER}
    cols["bkkp_sn"] = pa.array([f"K{i:012d}" for i in range(n)])
    pacsv.write_csv(pa.table(cols), path)
    return path


CHILD = """
import sys
from pathlib import Path
from fundguard.data.ingest import ingest
ingest([Path(sys.argv[1])], Path(sys.argv[2]), progress=False)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_import_leaves_store_unchanged(tmp_path: Path, ws: Path, sig: int) -> None:
    ingest([write_csv(tmp_path / "fee_list_d-small.csv", [fee_row(i) for i in range(3)])], ws, progress=False)
    before_counts, before_files = Store(ws).row_counts(), _listing(ws)
    big = _big_file(tmp_path / "fee_list_d-big.csv", 600_000)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(big), str(ws)], stderr=subprocess.PIPE)
    staging = ws / "store" / ".staging"
    deadline = time.time() + 30
    while time.time() < deadline and not any(staging.glob("*-pid*/**/*.parquet")):
        time.sleep(0.05)
    assert proc.poll() is None, "import finished before it could be interrupted"
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    assert Store(ws).row_counts() == before_counts
    assert _listing(ws) == before_files
    f = ingest([big], ws, progress=False).files[0]  # a fresh ingest cleans up and succeeds
    assert f.status == "loaded" and f.rows_loaded == 600_000
    assert not any(p.name.endswith(f"pid{proc.pid}") for p in staging.iterdir())


def test_one_import_at_a_time_per_workspace(tmp_path: Path, ws: Path) -> None:
    src = write_csv(tmp_path / "fee_list_d.csv", [fee_row(1)])
    with Store(ws).ingest_lock(), pytest.raises(InputError, match="another import is running"):
        ingest([src], ws, progress=False)
    assert ingest([src], ws, progress=False).files[0].rows_loaded == 1  # released afterwards
