"""Ledgers: the .xlsx opens with openpyxl with title, headers, typed cells, totals and print setup; long
ledgers stream in flat memory."""

from __future__ import annotations

import gc
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import openpyxl
import psutil
import pytest

from fundguard.core.errors import InputError
from fundguard.supervision.ledgers import ledger_bytes, write_ledger

COLUMNS = [
    ("case_no", "案件编号"),
    ("party", "当事人"),
    ("opened", "立案日期", "date"),
    ("amount", "涉案金额", "money"),
    ("fine", "罚款金额"),
    ("hits", "疑点数"),
    ("updated", "更新时间"),
    ("officers", "承办人"),
]


def _rows() -> list[dict]:
    return [
        {
            "case_no": "示医保立〔2026〕1号",
            "party": "示例市第一人民医院",
            "opened": date(2026, 11, 2),
            "amount": Decimal("123456.785"),
            "fine": Decimal("160493.81"),
            "hits": 123,
            "updated": datetime(2026, 11, 3, 9, 30),
            "officers": ["张三", "李四"],
        },
        {
            "case_no": '=HYPERLINK("x")',  # must stay text, never a formula
            "party": "0001",
            "opened": "2026-11-05",
            "amount": "1,000.5",
            "fine": None,
            "hits": 0,
        },
    ]


def test_ledger_opens_with_headers_types_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "cases.xlsx"
    assert write_ledger(path, "案件台账", COLUMNS, _rows(), subtitle_zh="导出时间：2026-11-24") == 2
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws.title == "案件台账"
    assert ws["A1"].value == "案件台账" and "A1:H1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value == "导出时间：2026-11-24"
    assert [c.value for c in ws[3]] == [zh for _, zh, *_ in COLUMNS]
    assert ws["A3"].font.b
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref == "A3:H5"
    row = ws[4]
    assert row[0].value == "示医保立〔2026〕1号"
    assert isinstance(row[2].value, datetime) and row[2].value.date() == date(2026, 11, 2)
    assert row[2].number_format == "yyyy-mm-dd"
    assert row[3].value == pytest.approx(123456.785) and row[3].number_format == "#,##0.00"
    assert row[4].value == pytest.approx(160493.81) and row[4].number_format == "#,##0.00"  # Decimal inferred
    assert row[5].value == 123 and isinstance(row[5].value, int)
    assert row[6].value == datetime(2026, 11, 3, 9, 30)
    assert row[7].value == "张三、李四"
    second = ws[5]
    assert second[0].value == '=HYPERLINK("x")' and second[0].data_type == "s"
    assert second[1].value == "0001"
    assert second[2].value.date() == date(2026, 11, 5)
    assert second[3].value == pytest.approx(1000.5)
    assert second[4].value is None
    total = ws[6]
    assert total[0].value == "合计"
    assert total[3].value == "=SUBTOTAL(109,D4:D5)" and total[4].value == "=SUBTOTAL(109,E4:E5)"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.page_setup.fitToWidth in (None, 1)  # 1 is the default, left out of the XML
    assert ws.print_title_rows == "$3:$3"
    assert ws.column_dimensions["A"].width >= 18  # A and B share one <col> element (same width)


def test_empty_ledger_and_bytes() -> None:
    data = ledger_bytes("罚款台账", [("a", "编号"), ("b", "金额", "money")], [])
    ws = openpyxl.load_workbook(BytesIO(data)).active
    assert [c.value for c in ws[2]] == ["编号", "金额"] and ws.max_row == 2


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="至少需要一列"):
        write_ledger(tmp_path / "x.xlsx", "台账", [], [])
    with pytest.raises(InputError, match="类型无效"):
        write_ledger(tmp_path / "x.xlsx", "台账", [("a", "甲", "currency")], [])
    with pytest.raises(InputError, match="列重复"):
        write_ledger(tmp_path / "x.xlsx", "台账", [("a", "甲"), ("a", "乙")], [])
    with pytest.raises(InputError, match="第3行第2列"):
        write_ledger(
            tmp_path / "x.xlsx", "台账", [("a", "甲"), ("m", "金额", "money")], [{"a": "x", "m": "abc"}]
        )


def test_streaming_keeps_memory_flat(tmp_path: Path) -> None:
    start = date(2025, 1, 1)

    def rows():
        for i in range(200_000):
            yield {
                "id": f"XS{i:08d}",
                "day": start + timedelta(days=i % 365),
                "amount": Decimal(i % 100000) / 100,
            }

    cols = [("id", "线索编号"), ("day", "日期"), ("amount", "金额")]
    gc.collect()
    proc = psutil.Process()
    before = proc.memory_info().rss
    path = tmp_path / "big.xlsx"
    peak = before

    def watched():
        nonlocal peak
        for n, row in enumerate(rows()):
            if n % 20_000 == 0:
                peak = max(peak, proc.memory_info().rss)
            yield row

    assert write_ledger(path, "线索台账", cols, watched()) == 200_000
    peak = max(peak, proc.memory_info().rss)
    assert (peak - before) < 60 * 1024 * 1024, f"RSS grew by {(peak - before) / 2**20:.0f} MiB"
    ws = openpyxl.load_workbook(path, read_only=True).active
    assert ws.max_row == 200_000 + 3  # title + header + rows + 合计
