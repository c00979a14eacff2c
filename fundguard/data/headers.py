"""Header recognition: map a file's column names onto a canonical table and pick the table of a file.

Accepted spellings of a column: the national field code (case-insensitive, trimmed, BOM and quotes
stripped), its Chinese name, or an interface (HIS) name from ``schema.aliases``. Unknown columns are kept
in the mapping's ``unknown`` list so the report can name them; they are never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fundguard.core.errors import InputError
from fundguard.data import schema


def normalise_header(name: object) -> str:
    """A header cell as text without BOM, surrounding blanks and quotes (case kept for Chinese)."""
    text = "" if name is None else str(name)
    return text.replace("\ufeff", "").strip().strip('"').strip("'").strip()


ColumnMap = dict[str, dict[str, str]]
"""A user's column map: table (``*`` for any) → lower-cased source header → canonical field code."""


def _lookup(table_name: str, column_map: ColumnMap | None = None) -> dict[str, str]:
    t = schema.table(table_name)
    out: dict[str, str] = {}
    for alias, code in schema.aliases(table_name).items():
        out[alias.lower()] = code
    for f in t.fields:  # field codes win over aliases of another field
        out[f.name.lower()] = f.name
    for scope in ("*", table_name):  # the user's map wins: it says what this extract's headers mean
        for raw, code in (column_map or {}).get(scope, {}).items():
            if code in t.columns:
                out[raw] = code
    return out


def load_column_map(path: Path) -> ColumnMap:
    """Read a column-map CSV (``--columns``): header ``column,field`` and optionally ``table`` (empty or ``*``:
    any table). ``column`` is the extract's header, ``field`` the canonical field code it holds.

    Raises ``InputError`` naming the line of an unknown table or field, or a file without those columns.
    """
    import csv

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"无法读取列映射文件 {path}（须为 UTF-8 CSV）：{exc}",
            f"cannot read the column map {path} (must be UTF-8 CSV): {exc}",
        ) from None
    rows = list(csv.DictReader(text.splitlines()))
    head = {normalise_header(h).lower() for h in (rows[0].keys() if rows else [])}
    if not {"column", "field"} <= head:
        raise InputError(
            f"列映射文件 {path.name} 须含表头 column,field（可选 table）",
            f"the column map {path.name} needs the header column,field (optionally table)",
        )
    tables = schema.tables()
    out: ColumnMap = {}
    for n, r in enumerate(rows, 2):
        r = {normalise_header(k).lower(): normalise_header(v) for k, v in r.items() if k is not None}
        table, raw, code = r.get("table") or "*", r.get("column", ""), r.get("field", "")
        if not raw or not code:
            continue
        if table != "*" and table not in tables:
            raise InputError(
                f"列映射文件 {path.name} 第 {n} 行：未知表 {table}",
                f"column map {path.name} line {n}: unknown table {table}",
            )
        if not any(code in t.columns for name, t in tables.items() if table in ("*", name)):
            raise InputError(
                f"列映射文件 {path.name} 第 {n} 行：{table} 无字段 {code}",
                f"column map {path.name} line {n}: {table} has no field {code}",
            )
        out.setdefault(table, {})[raw.lower()] = code
    return out


@dataclass
class HeaderMapping:
    """How the raw header of one file maps onto ``table``."""

    table: str
    columns: dict[int, str]
    """Raw column position → canonical field code (first occurrence wins)."""
    unknown: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)


def map_header(raw: list[str], table_name: str, column_map: ColumnMap | None = None) -> HeaderMapping:
    """Match raw header names against ``table_name`` (and the user's ``column_map``); never raises on a bad
    header."""
    lookup = _lookup(table_name, column_map)
    columns: dict[int, str] = {}
    seen: set[str] = set()
    unknown: list[str] = []
    duplicated: list[str] = []
    for i, name in enumerate(raw):
        clean = normalise_header(name)
        code = lookup.get(clean.lower())
        if code is None:
            unknown.append(clean or f"<空列名 empty #{i + 1}>")
        elif code in seen:
            duplicated.append(clean)
        else:
            seen.add(code)
            columns[i] = code
    t = schema.table(table_name)
    return HeaderMapping(
        table=table_name,
        columns=columns,
        unknown=unknown,
        duplicated=duplicated,
        missing_required=[c for c in t.required if c not in seen],
        missing_optional=[c for c in t.columns if c not in seen and c not in t.required],
    )


def table_from_path(path: Path) -> str | None:
    """The table named by the file name or its parent folder (``fee_list_d-00003.csv``, ``fee_list_d/x.csv``)."""
    names = sorted(schema.tables(), key=len, reverse=True)  # setl_list_diag_d before setl_d
    for candidate in (path.name, path.parent.name):
        low = candidate.lower()
        for name in names:
            if re.match(rf"{re.escape(name)}($|[^a-z0-9])", low):
                return name
    return None


def detect_table(raw: list[str], path: Path, column_map: ColumnMap | None = None) -> str:
    """The table whose required columns are all in the header; the one recognising most columns wins a tie.

    Raises ``InputError`` when no table fits or two tables fit equally well.
    """
    scored: list[tuple[int, str]] = []
    for name in schema.tables():
        m = map_header(raw, name, column_map)
        if not m.missing_required:
            scored.append((len(m.columns), name))
    if not scored:
        raise InputError(
            f"无法识别文件 {path.name} 对应的表：表头不含任何一张表的全部必填列；请用 --table 指定",
            f"cannot tell the table of {path.name}: its header has no table's required columns; pass --table",
        )
    scored.sort(reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        both = ", ".join(n for _, n in scored[:2])
        raise InputError(
            f"文件 {path.name} 的表头同时符合多张表（{both}）；请用 --table 指定",
            f"the header of {path.name} fits several tables ({both}); pass --table",
        )
    return scored[0][1]
