"""Ingest against bad bytes and failures (issue 10, findings 10 and 11): mixed encodings, NULs, absurd widths,
rejected files, sets cut short by a kill, a full disk."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from conftest import FEE_HEADER, fee_row, read_quarantine, write_csv
from typer.testing import CliRunner

from fundguard.cli import app
from fundguard.data.ingest import ingest
from fundguard.data.store import Store

runner = CliRunner(env={"COLUMNS": "200"})
FUNDGUARD = str(Path(sys.executable).with_name("fundguard"))


def _names(ws: Path) -> list[str]:
    return [
        r[0] for r in Store(ws).connect().execute("select hilist_name from fee_list_d order by 1").fetchall()
    ]


def test_utf8_lines_in_a_gbk_file_are_quarantined_not_stored_as_mojibake(tmp_path: Path, ws: Path) -> None:
    rows = [fee_row(i, hilist_name="阿莫西林胶囊") for i in range(8)]
    p = write_csv(tmp_path / "fee_list_d.csv", rows, encoding="gbk")
    lines = p.read_bytes().split(b"\r\n")
    for i in (3, 6):  # lines 4 and 7 pasted in from a UTF-8 export
        lines[i] = lines[i].decode("gbk").encode("utf-8")
    lines[5] = lines[5].replace("胶囊".encode("gbk"), b"\xff\xfe")  # line 6: bytes no encoding knows
    p.write_bytes(b"\r\n".join(lines))
    f = ingest([p], ws, progress=False).files[0]
    assert f.encoding == "gb18030" and (f.rows_loaded, f.reasons) == (5, {"bad_encoding": 3})
    assert set(_names(ws)) == {"阿莫西林胶囊"}  # no 闃胯帿瑗挎灄… stored
    q = {r["line"]: r for r in read_quarantine(ws)}
    assert sorted(q) == ["4", "6", "7"]
    assert "阿莫西林胶囊" in q["4"]["bkkp_sn"] and "UTF-8" in q["4"]["value"]  # shown as it was meant
    assert "无法" in q["6"]["value"] and q["6"]["reason_zh"].startswith("行编码错误")


def test_a_gbk_line_in_a_utf8_file_and_in_json_lines(tmp_path: Path, ws: Path) -> None:
    p = write_csv(tmp_path / "fee_list_d.csv", [fee_row(i, hilist_name="阿莫西林") for i in range(5)])
    b = p.read_bytes().splitlines(keepends=True)
    b[2] = b[2].replace("阿莫西林".encode(), "阿莫西林".encode("gbk"))
    p.write_bytes(b"".join(b))
    f = ingest([p], ws, progress=False).files[0]
    assert f.encoding == "utf-8" and (f.rows_loaded, f.reasons) == (4, {"bad_encoding": 1})
    j = tmp_path / "j" / "fee_list_d.jsonl"
    j.parent.mkdir()
    text = [json.dumps(fee_row(100 + i, hilist_name="阿莫西林"), ensure_ascii=False) for i in range(3)]
    j.write_bytes(b"\n".join([text[0].encode(), text[1].encode("gbk"), text[2].encode()]) + b"\n")
    g = ingest([j], ws, progress=False).files[0]
    assert (g.rows_loaded, g.reasons) == (2, {"bad_encoding": 1})
    assert set(_names(ws)) == {"阿莫西林"}


def test_nul_bytes_are_quarantined(tmp_path: Path, ws: Path) -> None:
    p = write_csv(tmp_path / "fee_list_d.csv", [fee_row(1), fee_row(2, hilist_name="阿莫\x00西林")])
    j = tmp_path / "j" / "fee_list_d.jsonl"
    j.parent.mkdir()
    j.write_text(json.dumps(fee_row(3, psn_no="4301\x00")) + "\n", encoding="utf-8")
    r = ingest([p, j], ws, progress=False)
    assert [f.reasons for f in r.files] == [{"nul_byte": 1}, {"nul_byte": 1}]
    q = read_quarantine(ws)
    assert {x["column"] for x in q} == {"hilist_name", "psn_no"} and "NUL" in q[0]["reason_en"]
    assert "\x00" not in "".join(_names(ws))


def test_ten_thousand_columns_are_rejected_with_a_clear_error(tmp_path: Path, ws: Path) -> None:
    p = tmp_path / "fee_list_d.csv"
    width = 10_000
    header = FEE_HEADER + [f"x{i}" for i in range(width - len(FEE_HEADER))]
    p.write_text(",".join(header) + "\n" + "\n".join(",".join("1" for _ in header) for _ in range(40)) + "\n")
    result = runner.invoke(app, ["ingest", str(p), "-w", str(ws), "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "列数过多" in result.output and "10000" in result.output and "Traceback" not in result.output
    assert Store(ws).row_counts()["fee_list_d"] == 0


def test_a_rejected_file_fails_the_command_and_keeps_the_whole_set_out(tmp_path: Path, ws: Path) -> None:
    folder = tmp_path / "extract"
    write_csv(folder / "fee_list_d.csv", [fee_row(i) for i in range(3)])
    bad = [h for h in FEE_HEADER if h != "psn_no"]
    write_csv(folder / "fee_list_d-2.csv", [fee_row(10)], bad)  # required column missing
    (folder / "README.csv").write_text("说明,备注\n本目录为三月抽取,\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(folder), "-w", str(ws), "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "缺少必填列" in result.output and "整批未入库" in result.output
    assert Store(ws).row_counts()["fee_list_d"] == 0
    (folder / "fee_list_d-2.csv").unlink()  # fixed: the set goes in, the README is skipped, exit 0
    result = runner.invoke(app, ["ingest", str(folder), "-w", str(ws), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert Store(ws).row_counts()["fee_list_d"] == 3


def test_keys_are_checked_across_the_files_of_one_set(tmp_path: Path, ws: Path) -> None:
    a = write_csv(tmp_path / "fee_list_d-a.csv", [fee_row(i) for i in range(3)])
    b = write_csv(tmp_path / "fee_list_d-b.csv", [fee_row(2), fee_row(3, mdtrt_id="X"), fee_row(1, cnt="9")])
    r = ingest([a, b], ws, progress=False)
    assert r.files[1].rows_skipped_existing == 1 and r.files[1].reasons == {"key_conflict": 1}
    assert Store(ws).row_counts()["fee_list_d"] == 4


def _big_setl(path: Path, n: int) -> None:
    """A settlement file large enough that its import takes a few seconds."""
    cols = {
        "setl_id": [f"ST{i:012d}" for i in range(n)],
        "mdtrt_id": [f"MD{i:012d}" for i in range(n)],
        "psn_no": [f"4301{i:016d}" for i in range(n)],
        "fixmedins_code": ["H43010200001"] * n,
        "setl_time": ["2024-03-05 10:00:00"] * n,
        "medfee_sumamt": ["100.00"] * n,
        "med_type": ["11"] * n,
        "insutype": ["310"] * n,
    }
    pacsv.write_csv(pa.table(cols), path)


@pytest.mark.skipif(sys.platform != "linux", reason="SIGKILL timing of a child process")
def test_a_kill_while_importing_a_folder_leaves_no_table_of_the_set(tmp_path: Path, ws: Path) -> None:
    folder = tmp_path / "extract"
    write_csv(folder / "fee_list_d.csv", [fee_row(i) for i in range(30)])
    _big_setl(folder / "setl_d.csv", 1_500_000)
    proc = subprocess.Popen(
        [FUNDGUARD, "ingest", str(folder), "-w", str(ws), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    staging = ws / "store" / ".staging"
    while time.monotonic() < deadline and proc.poll() is None:  # the second file is being read
        if any(d.name.split("-pid")[0].endswith("-001") for d in staging.glob("*-pid*")):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the import ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    counts = Store(ws).row_counts()
    assert counts["fee_list_d"] == 0 and counts["setl_d"] == 0  # fee_list_d was staged, never committed
    r = ingest([folder / "fee_list_d.csv"], ws, progress=False)  # the next import cleans up and works
    assert r.files[0].status == "loaded" and not list(staging.glob("*-pid*-*"))


def test_a_set_cut_short_while_publishing_is_invisible_and_rolled_back(tmp_path: Path, ws: Path) -> None:
    """The state a kill between two renames leaves: one directory published, the journal still there."""
    ingest([write_csv(tmp_path / "fee_list_d.csv", [fee_row(1)])], ws, progress=False)
    store = Store(ws)
    ghost = store.root / "fee_list_d" / "ingest=20990101T000000-dead00-000"
    shutil.copytree(store.import_dirs("fee_list_d")[0], ghost)
    pid = 2**22 - 3  # no process runs with it
    (store.root / f".pending-20990101T000000-dead00-pid{pid}.json").write_text(
        json.dumps({"dirs": [ghost.name, "ingest=20990101T000000-dead00-001"]})
    )
    assert store.row_counts()["fee_list_d"] == 1 and len(store.ingests()) == 1  # not read
    ingest([write_csv(tmp_path / "x" / "fee_list_d.csv", [fee_row(2)])], ws, progress=False)
    assert not ghost.exists() and not list(store.root.glob(".pending-*"))
    assert store.row_counts()["fee_list_d"] == 2


@pytest.mark.skipif(
    shutil.which("unshare") is None
    or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0,
    reason="needs unshare (user and mount namespaces) to mount a small tmpfs",
)
def test_disk_full_gives_a_bilingual_error_and_leaves_the_store_unchanged(tmp_path: Path) -> None:
    small = write_csv(tmp_path / "in" / "fee_list_d.csv", [fee_row(i) for i in range(5)])
    rows = [fee_row(i, hilist_name=os.urandom(12).hex()) for i in range(100, 60_000)]  # incompressible
    big = write_csv(tmp_path / "in2" / "fee_list_d.csv", rows)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = (
        f"mount -t tmpfs -o size=1m none {mnt} && "
        f"{FUNDGUARD} ingest {small} -w {mnt}/ws --no-progress >/dev/null && "
        f"{FUNDGUARD} ingest {big} -w {mnt}/ws --no-progress; echo EXIT=$?; "
        f"{FUNDGUARD} store -w {mnt}/ws; ls -a {mnt}/ws/store/.staging"
    )
    out = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    text = out.stdout + out.stderr
    assert "EXIT=2" in text, text
    assert "磁盘空间不足" in text and "disk full" in text and "Traceback" not in text
    fee = next(line for line in text.splitlines() if line.strip().startswith("│ fee_list_d"))
    assert fee.split("│")[3].strip() == "5"  # the store still holds the first import only
