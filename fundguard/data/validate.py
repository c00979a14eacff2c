"""Row validation as SQL: one DuckDB query turns raw columns into canonical typed rows plus a failure code.

``Validator`` compiles a table's rules into SQL over a relation of raw columns (``c0``, ``c1``, … by header
position, strings or — from Parquet — already typed) with an ordinal ``__n``. The query yields the canonical
columns, ``__fail`` (the index of the first failing check, NULL for a good row) and ``__raw`` (the raw values,
for failing rows only). Everything runs vectorised and multi-threaded inside DuckDB; Python only touches the
rare failing rows. A row fails on the first of: a NUL character in a text field (``nul_byte``), unparsable number/date (``bad_number``/``bad_date``/
``time_only``), bad ID (``bad_id``), empty required field (``required_missing``), unknown value of a strict
enumeration (``unknown_code``), negative amount that is not a refund (``negative_not_refund``). Reader-level
failures (``malformed_row``) and key checks (``duplicate_key``, ``key_conflict``) are added by ``ingest``.

Choices where the national conventions are silent (national-schema.md §6.3, §8):

- digit-only code values shorter than their dictionary width are zero-padded (``'1'`` → ``'01'``) when that
  dictionary is zero-padded (its shortest codes start with ``0``); ``'1.0'`` is read as ``'1'``;
- ``hosp_lv`` given as level-only integers: if the first 100,000 values of a file hold only ``1/2/3/11``, the
  whole file is read as levels and mapped onto ``14`` 一级无等 / ``13`` 二级无等 / ``12`` 三级无等 / ``11``
  无等级, with the warning ``hosp_lv_level_only`` on every such row; otherwise values are padded codes
  (``'2'`` → ``'02'`` 三级甲等);
- a missing or empty ``vali_flag`` is read as ``'1'`` (warning ``vali_flag_missing``);
- dates and datetimes: the formats of ``DATETIME_FORMATS``, mixed freely, a date alone meaning midnight, and
  Excel serial day numbers (``45292.5``); an ``'HH:MM:SS'`` value in a datetime column is a bad row
  (``time_only``): there is no date to give it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fundguard.core.sql import ident as q
from fundguard.core.sql import literal as lit
from fundguard.data import schema
from fundguard.data.headers import HeaderMapping

REASONS: dict[str, tuple[str, str]] = {
    "malformed_row": (
        "行格式错误（字段数不符、引号不闭合、编码错误或 JSON 无法解析）",
        "malformed row (wrong field count, bad quoting, bad encoding or broken JSON)",
    ),
    "bad_encoding": (
        "行编码错误（含无法解码的字节，或与文件其余部分编码不同），未入库以免乱码",
        "line not in the file's encoding (undecodable bytes, or another encoding than the rest), kept out "
        "rather than stored as mojibake",
    ),
    "nul_byte": ("字段含 NUL 空字符（0x00）", "field contains a NUL character (0x00)"),
    "required_missing": ("必填字段为空", "required field is empty"),
    "bad_number": ("数值无法解析", "number cannot be parsed"),
    "bad_date": ("日期/时间无法解析", "date/time cannot be parsed"),
    "time_only": ("日期时间字段只有时间没有日期", "datetime field holds a time without a date"),
    "bad_id": (
        "ID 格式错误（小数/科学计数法形式或超过 30 位）",
        "bad ID (float or scientific notation, or longer than 30)",
    ),
    "unknown_code": ("代码值不在字典中", "code value not in the dictionary"),
    "negative_not_refund": (
        "负数金额/数量但不是退费记录",
        "negative amount or quantity on a row that is not a refund",
    ),
    "duplicate_key": (
        "文件内主键重复（保留首次出现的行）",
        "duplicate key inside the file (first occurrence kept)",
    ),
    "key_conflict": ("主键已在库中但内容不同", "key already stored with different content"),
}
"""Stable reason codes of quarantined rows with their Chinese and English text."""

WARNINGS: dict[str, tuple[str, str]] = {
    "unknown_code": (
        "代码值不在字典中（非严格字典，行已保留）",
        "code value not in the dictionary (lenient, row kept)",
    ),
    "fixmedins_code_format": (
        "定点医药机构编号不符合 H/P+11 位格式",
        "institution code is not H/P + 11 digits",
    ),
    "hilist_code_format": (
        "医保目录编码不符合国家编码格式",
        "hilist_code does not match a national code format",
    ),
    "diag_code_format": ("诊断代码不符合 ICD-10 医保版格式", "diagnosis code does not match ICD-10 医保版"),
    "amount_identity": (
        "总额 ≠ 全自费+超限价+先行自付+符合范围",
        "total ≠ fulamt_ownpay + overlmt + preselfpay + inscp",
    ),
    "bilg_dr_placeholder": ("开单医生编码为空或占位值", "ordering-doctor code empty or a placeholder"),
    "vali_flag_missing": ("有效标志缺失，按有效(1)处理", "vali_flag missing, read as valid (1)"),
    "hosp_lv_level_only": (
        "医院等级为仅级别整数(1/2/3/11)，已映射为无等级代码",
        "hosp_lv given as level-only integers, mapped to 无等 codes",
    ),
    "excel_sheet_skipped": ("Excel 工作表表头不同，已跳过", "Excel sheet with a different header skipped"),
    "unknown_json_key": ("JSON 行含表头以外的键，已忽略", "JSON line has keys outside the header, ignored"),
}

SQL_TYPES = {
    "money": "DECIMAL(16,2)",
    "price": "DECIMAL(16,6)",
    "quantity": "DECIMAL(16,4)",
    "ratio": "DECIMAL(5,4)",
    "age": "DECIMAL(4,1)",
    "decimal_4_2": "DECIMAL(6,2)",
    "int": "INTEGER",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "string": "VARCHAR",
    "code": "VARCHAR",
}
NUMBER_KINDS = {"money", "price", "quantity", "ratio", "age", "decimal_4_2", "int"}
TYPED_SOURCES = ("DECIMAL", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DATE", "TIME", "TIMESTAMP")  # fmt: skip
"""Source column types (DuckDB's names, prefixes) whose values print as non-blank text."""
TIME_KINDS = {"date", "datetime"}
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
)
"""Spellings real extracts mix (Oracle adds ``.0``; Excel and HIS exports drop the separators)."""
ID_EXCLUDED = {"crter_id", "opter_id"}
PLACEHOLDER_DOCTORS = ("0", "-", "--", "/", "无", "null", "NULL", "none", "None", "NA", "N/A", "未知")
HOSP_LEVEL_ONLY = {"1": "14", "2": "13", "3": "12", "11": "11"}
HILIST_PATTERN = r"(?:X[0-9A-Z]{22}|Z[0-9A-Z]{19}|C[0-9A-Z]{19}|\d{15}(?:-.+)?|T[0-9A-Z]{9,19})"
"""西药 X + 22, 中成药 Z + 19 (the 两库 codes: 11,577 X-codes of 23 chars, 8,425 Z-codes of 20), 耗材 C + 19,
医疗服务项目 15 digits (optional provincial suffix), 中药饮片/配方颗粒 T + 9–19."""
DIAG_PATTERN = r"(?i)[A-Z]\d{2}(?:\.[0-9x][0-9x]{0,2}(?:x\d{3})?)?(?:\+[A-Z]\d{2}(?:\.[0-9x]{1,3})?\*)?"
"""ICD-10 医保版 2.0: ``I10.x00x002``, ``K22.301``, and dagger–asterisk pairs ``A01.002+G01*`` (1,178 of them)."""
ID_FLOAT_PATTERN = r"[+-]?\d+\.\d*|[+-]?\d*\.?\d+[eE][+-]?\d+"
TIME_ONLY_PATTERN = r"\d{1,2}:\d{2}(:\d{2})?(\.\d+)?"


def lit_list(values: Iterable[str]) -> str:
    return lit(list(values))


def is_id_field(f: schema.Field) -> bool:
    return (
        f.kind == "string"
        and (f.name == "psn_no" or f.name.endswith(("_id", "_sn")))
        and f.name not in ID_EXCLUDED
    )


def merged_dictionary(extra: dict[str, dict[str, str]] | None = None) -> dict[str, set[str]]:
    """Built-in code values plus a workspace's own (``NAT_DATA_DIC_A`` export) per ``dic_type``."""
    out = {k: set(v) for k, v in schema.dictionary().items()}
    for k, v in (extra or {}).items():
        out.setdefault(k.upper(), set()).update(v)
    return out


def pad_width(codes: set[str]) -> int:
    """Width to zero-pad digit-only values to: that of the shortest codes, if the dictionary is zero-padded."""
    if not codes:
        return 0
    shortest = min(len(c) for c in codes)
    padded = any(len(c) == shortest and c.startswith("0") and len(c) > 1 for c in codes)
    return shortest if padded else 0


def hosp_level_only(values: Iterable[str]) -> bool:
    """True when a file's ``hosp_lv`` values are level-only integers (1/2/3/11), not dictionary codes."""
    found = {v.removesuffix(".0") for v in values if v}
    return bool(found) and found <= set(HOSP_LEVEL_ONLY) and bool(found & {"1", "2", "3"})


def _point_zero(text: str) -> str:
    """SQL: ``text`` without a spreadsheet's ``.0`` ('12.0' → '12'). Only a text with a dot can change, and a
    dot is rare in a code: the regex runs on those alone, not on every value of every code column."""
    return (
        f"CASE WHEN contains({text}, '.') THEN regexp_replace({text}, '^(\\d+)\\.0+$', '\\1') ELSE {text} END"
    )


@dataclass(frozen=True)
class Check:
    code: str
    column: str
    sql: str


@dataclass
class Validator:
    """The validation query of one file: its table, header mapping, source column types and dictionary."""

    table: schema.Table
    mapping: HeaderMapping
    codes: dict[str, set[str]]
    width: int
    """Number of raw columns (the source header's length)."""
    source_types: dict[int, str] = field(default_factory=dict)
    """Raw column position → DuckDB type; absent or VARCHAR means text."""
    level_only: set[str] = field(default_factory=set)
    """HOSP_LV columns this file gives as level-only integers."""
    nul_check: bool = True
    """Whether text fields may hold NULs (a CSV whose bytes hold none skips the ``nul_byte`` checks)."""

    def __post_init__(self) -> None:
        self.position = {code: i for i, code in self.mapping.columns.items()}
        self.present = set(self.position)
        self.checks = self._checks()
        self.warnings = self._warnings()

    # --- the query -----------------------------------------------------------------------------------
    def select_sql(self, raw: str) -> str:
        """SQL over relation ``raw`` (columns ``c0``…) yielding the canonical columns, ``__fail`` and ``__raw``.

        Rows keep the source order (with ``preserve_insertion_order``), so a row's position in the output is
        its ordinal in the source: no row-number column is computed here, because a window over a parallel
        scan would serialise the whole query.
        """
        cols = ", ".join(q(c) for c in self.table.columns)
        raw_list = ", ".join(f"CAST(c{i} AS VARCHAR)" for i in range(self.width))
        # The raw values travel only for failing rows: CASE evaluates the list for those alone.
        return (
            f"{self._ctes(raw)} SELECT {cols}, __fail, CASE WHEN __fail IS NOT NULL THEN [{raw_list}] END AS __raw"
            + "".join(f", {q('__t_' + n)}" for n in ("vali_flag",) if n in self.present)
            + " FROM c"
        )

    def verbatim_sql(self, raw: str) -> str:
        """Counts of failing rows and of rows that normalisation would change: (0, 0) means the source can
        be stored byte for byte. Only meaningful when every typed column already has its canonical type."""
        changed = " OR ".join(
            f"{q(f.name)} IS DISTINCT FROM CAST(c{self.position[f.name]} AS VARCHAR)"
            for f in self.table.fields
            if f.kind in ("string", "code") and f.name in self.present
        )
        return (
            f"{self._ctes(raw)} SELECT count(*) FILTER (WHERE __fail IS NOT NULL), "
            f"count(*) FILTER (WHERE {changed or 'false'}) FROM c"
        )

    def _ctes(self, raw: str) -> str:
        typed = [f"{self._typed(f)} AS {q(f.name)}" for f in self.table.fields]
        # the source text of a number or time (was a value given that did not parse?): a typed source needs
        # none (``_given``), so its values are not printed as text
        texts = [
            f"{self._text(f.name)} AS {q('__t_' + f.name)}"
            for f in self.table.fields
            if f.name in self.present
            and (
                (f.kind in NUMBER_KINDS | TIME_KINDS and not self._typed_source(f.name))
                or f.name == "vali_flag"
            )
        ]
        raw_cols = ", ".join(f"c{i}" for i in range(self.width))
        fail = " ".join(f"WHEN {c.sql} THEN {i}" for i, c in enumerate(self.checks))
        fail_sql = f"CASE {fail} END" if self.checks else "NULL::INTEGER"
        texts_sql = "".join(f", {t}" for t in texts)
        return (
            f"WITH t AS (SELECT {', '.join(typed)}{texts_sql}, {raw_cols} FROM {raw}), "
            f"c AS (SELECT *, {fail_sql} AS __fail FROM t)"
        )

    def warning_sql(self, relation: str) -> str:
        """One row of warning counts (in ``self.warnings`` order) over the good rows of ``relation``."""
        if not self.warnings:
            return "SELECT NULL WHERE false"
        sums = ", ".join(f"count(*) FILTER (WHERE {w.sql})" for w in self.warnings)
        return f"SELECT {sums} FROM {relation}"

    def canonical_types(self) -> bool:
        """True when the source's columns are the canonical ones, in order, with the canonical types."""
        if list(self.mapping.columns.values()) != list(self.table.columns) or self.width != len(
            self.table.columns
        ):
            return False
        for i, name in self.mapping.columns.items():
            kind = self.table.field(name).kind
            have = self.source_types.get(i, "VARCHAR")
            want = SQL_TYPES[kind]
            if not (
                have == want
                or (kind == "datetime" and have.startswith("TIMESTAMP") and "TIME ZONE" not in have)
            ):
                return False
        return True

    def _src(self, name: str) -> str:
        return f"c{self.position[name]}"

    def _is_text(self, name: str) -> bool:
        return self.source_types.get(self.position[name], "VARCHAR") == "VARCHAR"

    def _typed_source(self, name: str) -> bool:
        """Whether the source column is a number, date or time type: its text is never blank, so a value
        was given exactly where it is not NULL."""
        return self.source_types.get(self.position[name], "VARCHAR").startswith(TYPED_SOURCES)

    def _given(self, name: str) -> str:
        """SQL: the source holds a value for field ``name`` (its text, trimmed, is not blank)."""
        return f"{self._src(name) if self._typed_source(name) else q('__t_' + name)} IS NOT NULL"

    def _given_text(self, name: str) -> str:
        """SQL: the source's text of field ``name`` (trimmed; NULL when blank)."""
        return self._text(name) if self._typed_source(name) else q("__t_" + name)

    def _text(self, name: str) -> str:
        src = self._src(name)
        return f"NULLIF(trim(CAST({src} AS VARCHAR)), '')"

    def _typed(self, f: schema.Field) -> str:
        target = SQL_TYPES[f.kind]
        if f.name not in self.present:
            return "'1'" if f.name == "vali_flag" else f"NULL::{target}"
        text = self._text(f.name)
        if f.kind == "string":
            return text
        if f.kind == "code":
            e = _point_zero(text)
            if f.name in self.level_only:
                mapping = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in HOSP_LEVEL_ONLY.items())
                e = f"CASE {e} {mapping} ELSE {e} END"
            width = pad_width(self.codes.get(f.dic_type, set()))
            if width > 1:
                e = f"CASE WHEN regexp_full_match({e}, '\\d+') AND length({e}) < {width} THEN lpad({e}, {width}, '0') ELSE {e} END"
            return f"coalesce({e}, '1')" if f.name == "vali_flag" else e
        if not self._is_text(f.name):  # typed Parquet column: cast, never re-parse
            return f"TRY_CAST({self._src(f.name)} AS {target})"
        if f.kind in NUMBER_KINDS:
            if f.kind == "int":
                text = _point_zero(text)
            return f"TRY_CAST({text} AS {target})"
        serial = (
            f"CASE WHEN regexp_full_match({text}, '\\d{{5}}(\\.\\d+)?') THEN TIMESTAMP '1899-12-30' + "
            f"to_microseconds(CAST(round(TRY_CAST({text} AS DOUBLE) * 86400) * 1000000 AS BIGINT)) END"
        )
        parsed = f"coalesce(try_strptime({text}, {lit_list(DATETIME_FORMATS)}), {serial})"
        return f"CAST({parsed} AS DATE)" if f.kind == "date" else parsed

    # --- rules ---------------------------------------------------------------------------------------
    def _checks(self) -> list[Check]:
        """Failure checks in priority order; a row takes the first that holds."""
        t, out = self.table, []
        for f in t.fields if self.nul_check else ():  # numbers and dates with a NUL fail to parse anyway
            if f.name in self.present and f.kind in ("string", "code") and self._is_text(f.name):
                out.append(Check("nul_byte", f.name, f"contains({q(f.name)}, chr(0))"))
        for f in t.fields:
            if f.name in self.present and f.kind in NUMBER_KINDS | TIME_KINDS:
                failed = f"({self._given(f.name)} AND {q(f.name)} IS NULL)"
                if f.kind == "datetime":
                    text = self._given_text(f.name)
                    out.append(
                        Check(
                            "time_only",
                            f.name,
                            f"{failed} AND regexp_full_match({text}, '{TIME_ONLY_PATTERN}')",
                        )
                    )
                out.append(Check("bad_date" if f.kind in TIME_KINDS else "bad_number", f.name, failed))
        for f in t.fields:
            if f.name in self.present and is_id_field(f):
                c = q(f.name)
                out.append(
                    Check(
                        "bad_id",
                        f.name,
                        f"{c} IS NOT NULL AND (length({c}) > 30 OR regexp_full_match({c}, '{ID_FLOAT_PATTERN}'))",
                    )
                )
        out += [Check("required_missing", name, f"{q(name)} IS NULL") for name in t.required]
        for f in t.fields:
            allowed = self.codes.get(f.dic_type)
            if f.strict and allowed and (f.name in self.present or f.name == "vali_flag"):
                out.append(
                    Check(
                        "unknown_code",
                        f.name,
                        f"{q(f.name)} IS NOT NULL AND NOT list_contains({lit_list(sorted(allowed))}, {q(f.name)})",
                    )
                )
        if t.name == "fee_list_d":
            out.append(
                Check(
                    "negative_not_refund",
                    "det_item_fee_sumamt",
                    "(cnt < 0 OR det_item_fee_sumamt < 0) AND init_feedetl_sn IS NULL",
                )
            )
        elif t.name == "setl_d":
            out.append(
                Check(
                    "negative_not_refund",
                    "medfee_sumamt",
                    "medfee_sumamt < 0 AND coalesce(refd_setl_flag, '') <> '1'",
                )
            )
        return out

    def _warnings(self) -> list[Check]:
        t, out = self.table, []
        for f in t.fields:
            allowed = self.codes.get(f.dic_type)
            if not f.strict and allowed and f.name in self.present:
                out.append(
                    Check(
                        "unknown_code",
                        f.name,
                        f"{q(f.name)} IS NOT NULL AND NOT list_contains({lit_list(sorted(allowed))}, {q(f.name)})",
                    )
                )
        if "fixmedins_code" in self.present:
            out.append(
                Check(
                    "fixmedins_code_format",
                    "fixmedins_code",
                    "NOT regexp_full_match(fixmedins_code, '[HP]\\d{11}')",
                )
            )
        if "hilist_code" in self.present and t.name in ("fee_list_d", "hilist_b", "invt_chg_d"):
            out.append(
                Check(
                    "hilist_code_format",
                    "hilist_code",
                    f"NOT regexp_full_match(hilist_code, '{HILIST_PATTERN}')",
                )
            )
        for name in ("diag_code", "dscg_maindiag_code"):
            if name in self.present:
                out.append(
                    Check("diag_code_format", name, f"NOT regexp_full_match({q(name)}, '{DIAG_PATTERN}')")
                )
        parts = ["fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_amt"]
        total = {"setl_d": "medfee_sumamt", "fee_list_d": "det_item_fee_sumamt"}.get(t.name)
        if total and all(p in self.present for p in parts):
            sums = " + ".join(f"coalesce({p}, 0)" for p in parts)
            out.append(Check("amount_identity", total, f"abs({total} - ({sums})) > 0.011"))
        if t.name == "fee_list_d":
            out.append(
                Check(
                    "bilg_dr_placeholder",
                    "bilg_dr_code",
                    f"bilg_dr_code IS NULL OR list_contains({lit_list(PLACEHOLDER_DOCTORS)}, bilg_dr_code) "
                    "OR regexp_full_match(bilg_dr_code, '0+|9+|-+|\\*+')",
                )
            )
        if "vali_flag" in t.columns:
            raw = q("__t_vali_flag") if "vali_flag" in self.present else "NULL"
            out.append(Check("vali_flag_missing", "vali_flag", f"{raw} IS NULL"))
        out += [
            Check("hosp_lv_level_only", name, f"{q(name)} IS NOT NULL") for name in sorted(self.level_only)
        ]
        return out
