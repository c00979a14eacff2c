"""The canonical tables: the national platform's extraction tables and the reference data supervision needs.

Owns the column lists (field codes as column names, Chinese names, types, keys, required columns), the
enumeration dictionary and the header aliases, all as data files beside this module:

- ``national_fields.csv`` — 就诊 ``mdtrt_d``, 结算 ``setl_d``, 费用明细 ``fee_list_d``, 诊断 ``setl_list_diag_d``,
  手术 ``setl_list_oprn_d``, in the order of the NHSA extraction templates (built by ``tools/build_schema.py``);
- ``reference_fields.csv`` — 定点医药机构 ``medins_info_b``, 医保医师/药师/护士 ``medins_staff_b``,
  参保人 ``psn_info_b``, 医保目录 ``hilist_b``, 进销存 ``invt_chg_d``;
- ``dictionary.csv`` — code values per ``dic_type`` as in ``NAT_DATA_DIC_A`` (confidence H/M/L as in
  national-schema.md; a workspace may add a region's own dictionary on top);
- ``aliases.csv`` — interface (HIS) names that differ from the core-table names.

May import: the standard library and pyarrow only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyarrow as pa

_HERE = Path(__file__).parent

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "code": pa.string(),
    "money": pa.decimal128(16, 2),
    "price": pa.decimal128(16, 6),
    "quantity": pa.decimal128(16, 4),
    "ratio": pa.decimal128(5, 4),
    "age": pa.decimal128(4, 1),
    "decimal_4_2": pa.decimal128(6, 2),
    "int": pa.int32(),
    "date": pa.date32(),
    "datetime": pa.timestamp("s"),
}
"""Field kind → Arrow type. Amounts are decimals, never floats (national-schema.md §8.9)."""

TABLE_NAMES_ZH = {
    "mdtrt_d": "就诊信息",
    "setl_d": "结算信息",
    "fee_list_d": "费用明细",
    "setl_list_diag_d": "结算清单诊断信息",
    "setl_list_oprn_d": "结算清单手术操作信息",
    "medins_info_b": "定点医药机构",
    "medins_staff_b": "医保医师/药师/护士",
    "psn_info_b": "参保人员",
    "hilist_b": "医保目录",
    "invt_chg_d": "进销存",
}

TIME_COLUMN = {
    "mdtrt_d": "begntime",
    "setl_d": "setl_time",
    "fee_list_d": "fee_ocur_time",
    "invt_chg_d": "chg_time",
}
"""The column that dates a row of each large table (what a time range filters on)."""


@dataclass(frozen=True, slots=True)
class Field:
    """One column: national field code, Chinese name and kind (see ``ARROW_TYPES``)."""

    table: str
    name: str
    name_zh: str
    kind: str
    dic_type: str = ""
    """Dictionary holding the allowed values of a code column (代码标识 = Y)."""
    strict: bool = False
    """Unknown code values quarantine the row (True) or are only counted as warnings (False)."""
    required: bool = False
    """The column must be in the header and non-empty in every row."""
    key: bool = False

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.kind]


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    name_zh: str
    fields: tuple[Field, ...]

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.key)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def time_column(self) -> str | None:
        return TIME_COLUMN.get(self.name)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        return self._by_name()[name]

    def _by_name(self) -> dict[str, Field]:
        return _field_index(self.name)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(f.name, f.arrow_type, metadata={"name_zh": f.name_zh}) for f in self.fields],
            metadata={"table": self.name, "name_zh": self.name_zh},
        )


def _read_fields(path: Path) -> dict[str, list[Field]]:
    out: dict[str, list[Field]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["table"], []).append(
                Field(
                    r["table"],
                    r["field"],
                    r["name_zh"],
                    r["type"],
                    r["dic_type"],
                    r["strict"] == "1",
                    r["required"] == "1",
                    r["key"] == "1",
                )
            )
    return out


@cache
def tables() -> dict[str, Table]:
    """All canonical tables by name, national extraction tables first."""
    fields = _read_fields(_HERE / "national_fields.csv") | _read_fields(_HERE / "reference_fields.csv")
    return {name: Table(name, TABLE_NAMES_ZH[name], tuple(fs)) for name, fs in fields.items()}


@cache
def _field_index(table_name: str) -> dict[str, Field]:
    return {f.name: f for f in tables()[table_name].fields}


def table(name: str) -> Table:
    """The table called ``name``; raises ``KeyError`` with the known names otherwise."""
    try:
        return tables()[name]
    except KeyError:
        raise KeyError(f"未知表 unknown table {name!r}; known: {', '.join(tables())}") from None


@cache
def dictionary() -> dict[str, dict[str, str]]:
    """Built-in code values: ``{dic_type: {code: name}}``."""
    out: dict[str, dict[str, str]] = {}
    with (_HERE / "dictionary.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["dic_type"], {})[r["code"]] = r["name"]
    return out


@cache
def aliases(table_name: str) -> dict[str, str]:
    """Header spellings accepted for ``table_name`` → canonical field code.

    Covers the interface (HIS) names of national-schema.md §5 and each field's Chinese name.
    """
    t = table(table_name)
    out = {f.name_zh: f.name for f in t.fields}
    with (_HERE / "aliases.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["table"] in ("*", table_name) and r["field"] in t.columns:
                out[r["alias"]] = r["field"]
    return out


def markdown() -> str:
    """Every table as Markdown: the documentation in ``docs/tables.md`` is generated from this."""
    dic = dictionary()
    out = [
        "# Canonical tables 标准表结构",
        "",
        "Generated by `fundguard schema --markdown` from `fundguard/data/schema/*.csv`; do not edit by hand.",
        "Kinds map to Arrow types: " + ", ".join(f"`{k}` → `{v}`" for k, v in ARROW_TYPES.items()) + ".",
        "",
    ]
    for t in tables().values():
        out += [
            f"## `{t.name}` {t.name_zh}",
            "",
            f"Key: `{', '.join(t.key)}`. Required: {', '.join(f'`{c}`' for c in t.required)}."
            + (f" Dated by `{t.time_column}`." if t.time_column else ""),
            "",
            "| # | field | 中文名 | kind | codes |",
            "|---|---|---|---|---|",
        ]
        for i, f in enumerate(t.fields, 1):
            codes = ""
            if f.dic_type:
                values = dic.get(f.dic_type, {})
                shown = " · ".join(f"{c} {n}" for c, n in list(values.items())[:8])
                codes = (
                    f"{f.dic_type}{' (strict)' if f.strict else ''}: {shown}{' …' if len(values) > 8 else ''}"
                )
            flags = " **required**" if f.required else ""
            out.append(f"| {i} | `{f.name}`{flags} | {f.name_zh} | {f.kind} | {codes} |")
        out.append("")
    return "\n".join(out)
