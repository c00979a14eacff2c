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


def _lookup(table_name: str) -> dict[str, str]:
    t = schema.table(table_name)
    out: dict[str, str] = {}
    for alias, code in schema.aliases(table_name).items():
        out[alias.lower()] = code
    for f in t.fields:  # field codes win over aliases of another field
        out[f.name.lower()] = f.name
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


def map_header(raw: list[str], table_name: str) -> HeaderMapping:
    """Match raw header names against ``table_name``; never raises on a bad header."""
    lookup = _lookup(table_name)
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


def detect_table(raw: list[str], path: Path) -> str:
    """The table whose required columns are all in the header; the one recognising most columns wins a tie.

    Raises ``InputError`` when no table fits or two tables fit equally well.
    """
    scored: list[tuple[int, str]] = []
    for name in schema.tables():
        m = map_header(raw, name)
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
