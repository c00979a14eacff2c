"""Ledgers (台账): streaming .xlsx export of supervision lists — clues, cases, measures, penalties, refunds, fines.

Owns the workbook layout every ledger shares: a merged title row, a bold frozen header with autofilter,
column widths, typed cells (money as numbers with two decimals, dates as Excel dates, text always as text so
a leading '=' is never a formula), a 合计 row of SUBTOTALs over the money columns, and print setup (A4
landscape, fit to width, header rows repeated, page numbers). Rows are streamed through xlsxwriter's
``constant_memory`` mode, so memory stays flat however long the ledger is. Pure Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from fundguard.core.errors import InputError

# Column types: explicit as a third tuple element, otherwise inferred per cell from the Python value.
COLUMN_TYPES = ("text", "money", "int", "number", "date", "datetime")
Column = tuple[str, str] | tuple[str, str, str]
_DEFAULT_WIDTH = {"text": 18, "money": 15, "int": 10, "number": 12, "date": 12, "datetime": 19}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _columns(columns: Sequence[Column]) -> list[tuple[str, str, str | None]]:
    if not columns:
        raise InputError("台账至少需要一列", "a ledger needs at least one column")
    out: list[tuple[str, str, str | None]] = []
    seen: set[str] = set()
    for col in columns:
        if len(col) not in (2, 3):
            raise InputError(f"台账列定义无效：{col!r}", f"invalid ledger column: {col!r}")
        key, zh = str(col[0]), str(col[1])
        kind = str(col[2]) if len(col) == 3 else None  # type: ignore[misc]
        if kind is not None and kind not in COLUMN_TYPES:
            raise InputError(
                f"台账列 {zh} 类型无效：{kind}（可选：{'、'.join(COLUMN_TYPES)}）",
                f"ledger column {key}: invalid type {kind}",
            )
        if key in seen:
            raise InputError(f"台账列重复：{key}", f"duplicate ledger column: {key}")
        seen.add(key)
        out.append((key, zh, kind))
    return out


def write_ledger(
    target: str | Path | IO[bytes],
    title_zh: str,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    totals: bool = True,
    subtitle_zh: str = "",
) -> int:
    """Write ``rows`` (mappings keyed by the column keys; missing keys are blank) under ``title_zh`` to a path
    or a binary file object; returns the number of data rows written."""
    cols = _columns(columns)
    if not str(title_zh).strip():
        raise InputError("台账标题不能为空", "the ledger title is empty")
    target_arg: Any = str(target) if isinstance(target, str | Path) else target
    wb = xlsxwriter.Workbook(
        target_arg,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "remove_timezone": True,
        },
    )
    try:
        count = _fill(wb, title_zh, cols, rows, totals=totals, subtitle_zh=subtitle_zh)
    finally:
        wb.close()
    return count


def ledger_bytes(
    title_zh: str, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], **kwargs: Any
) -> bytes:
    """The ledger as .xlsx bytes (for an HTTP response)."""
    buf = BytesIO()
    write_ledger(buf, title_zh, columns, rows, **kwargs)
    return buf.getvalue()


def _fill(
    wb: xlsxwriter.Workbook,
    title_zh: str,
    cols: list[tuple[str, str, str | None]],
    rows: Iterable[Mapping[str, Any]],
    *,
    totals: bool,
    subtitle_zh: str,
) -> int:
    font = {"font_name": "宋体", "font_size": 10}
    fmt = {
        "title": wb.add_format(
            {**font, "bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}
        ),
        "subtitle": wb.add_format({**font, "align": "left"}),
        "header": wb.add_format(
            {**font, "bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#D9E1F2"}
        ),
        "text": wb.add_format({**font, "border": 1}),
        "money": wb.add_format({**font, "border": 1, "num_format": "#,##0.00"}),
        "int": wb.add_format({**font, "border": 1, "num_format": "0"}),
        "number": wb.add_format({**font, "border": 1, "num_format": "#,##0.00"}),
        "date": wb.add_format({**font, "border": 1, "num_format": "yyyy-mm-dd"}),
        "datetime": wb.add_format({**font, "border": 1, "num_format": "yyyy-mm-dd hh:mm:ss"}),
        "total_label": wb.add_format({**font, "bold": True, "border": 1, "align": "center"}),
        "total": wb.add_format({**font, "bold": True, "border": 1, "num_format": "#,##0.00"}),
    }
    ws = wb.add_worksheet(_SHEET_BAD.sub("_", title_zh)[:31])
    last_col = len(cols) - 1
    for i, (_, zh, kind) in enumerate(cols):
        ws.set_column(i, i, max(_width(zh) + 2, _DEFAULT_WIDTH[kind or "text"]))
    # Rows must be written in order in constant_memory mode: title, optional subtitle, header, data.
    ws.set_row(0, 28)
    if last_col > 0:
        ws.merge_range(0, 0, 0, last_col, title_zh, fmt["title"])
    else:
        ws.write_string(0, 0, title_zh, fmt["title"])
    header_row = 1
    if subtitle_zh:
        ws.write_string(1, 0, subtitle_zh, fmt["subtitle"])
        header_row = 2
    for i, (_, zh, _kind) in enumerate(cols):
        ws.write_string(header_row, i, zh, fmt["header"])
    first = header_row + 1
    row = first
    sums: dict[int, Decimal] = {}
    for item in rows:
        for i, (key, _zh, kind) in enumerate(cols):
            value = item.get(key)
            amount = _write(ws, row, i, value, kind, fmt)
            if amount is not None:
                sums[i] = sums.get(i, Decimal(0)) + amount
        row += 1
    last = row - 1
    money_cols = {i for i, (_, _, kind) in enumerate(cols) if kind == "money"} | set(sums)
    if totals and money_cols and row > first:
        label_col = min(set(range(len(cols))) - money_cols, default=None)
        if label_col is not None:
            ws.write_string(row, label_col, "合计", fmt["total_label"])
        for i in sorted(money_cols):
            rng = f"{xl_rowcol_to_cell(first, i)}:{xl_rowcol_to_cell(last, i)}"
            # SUBTOTAL(109, …) sums only the rows an autofilter leaves visible.
            ws.write_formula(row, i, f"=SUBTOTAL(109,{rng})", fmt["total"], float(sums.get(i, Decimal(0))))
    ws.freeze_panes(header_row + 1, 0)
    ws.autofilter(header_row, 0, max(last, header_row), last_col)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    ws.set_footer("&C第 &P 页，共 &N 页")
    return row - first


def _write(
    ws: Any, row: int, col: int, value: Any, kind: str | None, fmt: Mapping[str, Any]
) -> Decimal | None:
    """Write one typed cell; returns the amount when it is a money cell (for the 合计 row)."""
    if value is None or (isinstance(value, str) and kind not in (None, "text") and not value.strip()):
        ws.write_blank(row, col, None, fmt[kind or "text"])
        return None
    if kind is None:
        kind = _infer(value)
    try:
        if kind in ("money", "number"):
            amount = Decimal(str(value).replace(",", "")) if isinstance(value, str) else Decimal(str(value))
            ws.write_number(row, col, float(amount), fmt[kind])
            return amount if kind == "money" else None
        elif kind == "int":
            ws.write_number(row, col, int(value), fmt["int"])
        elif kind == "date":
            day = value.date() if isinstance(value, datetime) else value
            if not isinstance(day, date):
                day = date.fromisoformat(str(value)[:10])
            ws.write_datetime(row, col, datetime(day.year, day.month, day.day), fmt["date"])
        elif kind == "datetime":
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            ws.write_datetime(row, col, moment, fmt["datetime"])
        else:
            ws.write_string(row, col, _text(value), fmt["text"])
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise InputError(
            f"台账第{row + 1}行第{col + 1}列的值无效：{value!r}",
            f"ledger row {row + 1} column {col + 1}: invalid value {value!r}",
        ) from exc
    return None


def _infer(value: Any) -> str:
    if isinstance(value, bool):
        return "text"
    if isinstance(value, Decimal | float):
        return "money"
    if isinstance(value, int):
        return "int"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "text"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple | set):
        return "、".join(str(v) for v in value)
    return str(value)
