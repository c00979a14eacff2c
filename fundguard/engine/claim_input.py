"""A real-time claim as input: validate it and cast its values to the canonical types, in plain Python.

``parse_claim`` checks the claim's shape (one visit, at least one fee line, known tables and fields, the
required fields, one visit and person throughout) and casts every value it carries by the field's kind
(decimals rounded half away from zero to the kind's scale, as the Arrow cast at ingest; dates; times, a date
alone meaning midnight), raising a bilingual ``InputError`` that names the table, row and field. It returns
rows as dicts holding only the fields sent (``vali_flag`` defaults to ``'1'``: what a HIS sends for audit
is the current record). A row is read in one call by a parser generated for its shape (``row_parser``, also
reading 3101 DTOs): texts are stripped in place, other values cast through memos of the texts already seen
(``_Memo``: claims repeat their values, and a dict lookup is cheaper than parsing a Decimal or a time again);
any other row, and every error, goes the general way. ``claim_tables`` gives the same rows as Arrow tables
of the canonical schemas (the SQL path); ``claim_from_store`` reads a stored visit back as a claim (replay,
tests, benchmarks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa

from fundguard.core.errors import InputError
from fundguard.core.memo import BoundedMemo
from fundguard.data import schema

CLAIM_TABLES = ("mdtrt_d", "fee_list_d", "setl_d", "setl_list_diag_d", "setl_list_oprn_d")
"""Tables a claim may carry (``mdtrt_d`` exactly one row, ``fee_list_d`` at least one)."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "mdtrt_d": ("mdtrt_id", "psn_no"),
    "fee_list_d": (
        "bkkp_sn",
        "mdtrt_id",
        "psn_no",
        "hilist_code",
        "fee_ocur_time",
        "cnt",
        "det_item_fee_sumamt",
    ),
    "setl_d": ("setl_id", "mdtrt_id", "psn_no"),
    "setl_list_diag_d": ("mdtrt_id", "diag_code"),
    "setl_list_oprn_d": ("mdtrt_id", "oprn_oprt_code"),
}
"""Fields a real-time claim must fill (the rules' join keys and what every line rule reads)."""


def _err(zh: str, en: str) -> InputError:
    return InputError(f"实时审核输入错误：{zh}", f"real-time claim invalid: {en}")


def py_value(v: Any) -> str | None:
    """A claim value as the string the canonical cast reads (None/'' → null)."""
    if v is None:
        return None
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, Decimal):
        return format(v, "f")
    s = str(v).strip()
    return s or None


def _decimal(t: pa.Decimal128Type) -> Callable[[str], Decimal]:
    q = Decimal(1).scaleb(-t.scale)
    bound = Decimal(10) ** (t.precision - t.scale)

    def cast(s: str) -> Decimal:
        d = Decimal(s).quantize(q, rounding=ROUND_HALF_UP)  # NaN / Infinity raise here
        if not -bound < d < bound:
            raise ValueError(s)
        return d

    return cast


def _int(s: str) -> int:
    i = int(s)
    if not -(2**31) <= i < 2**31:
        raise ValueError(s)
    return i


def _datetime(s: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(s + " 00:00:00" if len(s) == 10 else s)
    if t.tzinfo is not None:  # as Arrow's cast: an offset is converted to UTC
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t.replace(microsecond=0) if t.microsecond else t


def _date(s: str) -> dt.date:
    return dt.date.fromisoformat(s[:10])


class _Memo(BoundedMemo):
    """Text → cast value of one field kind (``cast``; None for text fields: the text stripped), filled on first
    sight: ``memo[text]``; '' or blanks give None (the field is left out).

    A claim repeats its values (prices, quantities, times of one day) and so do the claims of one hospital:
    a hit is one C-level dict lookup where parsing a Decimal or a datetime again costs microseconds. The
    values are immutable (Decimal, datetime, date, int, str), so sharing them is safe; a text that does not
    parse raises and is not kept. Bounded at ``MEMO_SIZE`` entries."""

    __slots__ = ()

    def __init__(self, cast: Callable[[str], Any] | None) -> None:
        super().__init__(cast, MEMO_SIZE)

    def __missing__(self, text: Any) -> Any:
        # one frame: a first pass over new claims misses on every unique value (记账流水号, times), so the
        # eviction of ``BoundedMemo.remember`` is repeated inline (calling it cost 30–150 ns a miss, measured)
        if text.__class__ is not str:  # a JSON number, true/false or null: through its text, not kept
            return self[py_value(text) or ""]
        s = text.strip()
        value = (s if self.fill is None else self.fill(s)) if s else None
        if len(self) >= self.size:
            self.clear()
        self[text] = value
        return value


MEMO_SIZE = 200_000
"""Entries kept per field kind in the cast memo (a few MiB at most)."""


def cast_of(t: pa.DataType) -> Callable[[str], Any] | None:
    """The cast from text of an Arrow type (None: text stays text)."""
    if pa.types.is_decimal(t):
        return _decimal(t)
    if pa.types.is_integer(t):
        return _int
    if pa.types.is_timestamp(t):
        return _datetime
    if pa.types.is_date(t):
        return _date
    return None


@cache
def _casts(table: str) -> dict[str, tuple[schema.Field, Callable[[str], Any] | None]]:
    """Field → (field, cast from text; None for text)."""
    return {f.name: (f, cast_of(f.arrow_type)) for f in schema.table(table).fields}


@cache
def _memo(kind: pa.DataType) -> _Memo:
    """The memo of one cast kind (an Arrow type: fields of one type share it)."""
    return _Memo(cast_of(kind))


@cache
def _memos(table: str) -> dict[str, _Memo]:
    """Field → the memo of its cast (fields cast from text only)."""
    return {name: _memo(f.arrow_type) for name, (f, cast) in _casts(table).items() if cast is not None}


@cache
def _lookups(table: str) -> dict[str, dict]:
    """Field → the memo turning a text value into the cast value (text fields: stripped)."""
    memos = _memos(table)
    return {name: memos[name] if name in memos else _Memo(None) for name in _casts(table)}


@cache
def _parsers(name: str) -> BoundedMemo:
    """Row shape (its field names in order) → ``_row_parser`` of that shape, None for a shape that is not all
    known fields holding every required one (a HIS sends one or a few shapes: the fields it fills)."""
    return BoundedMemo(lambda shape: _row_parser(name, shape), size=MAX_SHAPES)


MAX_SHAPES = 1_000
"""Row shapes remembered per table."""


def _row_parser(name: str, shape: tuple[str, ...]) -> Callable[[dict], dict | None] | None:
    """``row_parser`` of a ``name`` row of ``shape``: a text field stripped in place (its memo would only strip
    it, and a lookup in a memo of many unique texts such as 记账流水号 misses the CPU's cache: 25 % of the
    cast, measured), any other field through its memo; None for a shape that is not all known fields holding
    every required one."""
    lookups = _lookups(name)
    if not (lookups.keys() >= set(shape) and set(REQUIRED[name]) <= set(shape)):
        return None
    reads = [(k, None if lookups[k].fill is None else lookups[k]) for k in shape]
    # a row sent for audit is in force unless it says otherwise
    return row_parser(reads, {} if "vali_flag" in shape else {"vali_flag": "1"})


def row_parser(
    reads: list[tuple[str | None, dict | None]], extra: dict[str, str], max_text: int | None = None
) -> Callable[[dict], dict | None]:
    """A function reading in one call a dict whose values come in the order of ``reads``, each (the key it
    fills, None for a value only checked; how it is read: None strips a text in place with ``str.strip``,
    else a memo maps the value to its result). It returns the keys filled in that order (a later one wins)
    and then ``extra``; None when a value is blank (None) or a stripped text is longer than ``max_text``;
    ``str.strip`` raises TypeError on a value of another type. The caller's general path then says what is
    wrong, or reads it another way. Generated from source once per shape, as ``namedtuple`` and
    ``dataclasses`` generate theirs: the values are unpacked into locals, with no call per value but a
    memo's miss. The keys are known field names, quoted with ``repr``."""
    n = range(len(reads))
    texts = [i for i, (_, memo) in enumerate(reads) if memo is None]
    values = [f"strip(a{i}) or None" if memo is None else f"m{i}[a{i}]" for i, (_, memo) in enumerate(reads)]
    fields = [f"{key!r}: v{i}" for i, (key, _) in enumerate(reads) if key is not None]
    fields += [f"{key!r}: {value!r}" for key, value in extra.items()]
    rejects = [f"v{i} is None" for i in n] + [f"len(v{i}) > {max_text}" for i in texts if max_text]
    src = "\n".join([
        f"def bind(strip, {''.join(f'm{i}, ' for i in n)}):",
        "    def parse(row):",
        f"        {''.join(f'a{i}, ' for i in n)}= row.values()",
        *(f"        v{i} = {v}" for i, v in zip(n, values, strict=True)),
        f"        if {' or '.join(rejects) or 'False'}:",
        "            return None",
        f"        return {{{', '.join(fields)}}}",
        "    return parse",
    ])  # fmt: skip
    scope: dict[str, Any] = {}
    exec(src, scope)  # our own source, over field names the callers checked
    return scope["bind"](str.strip, *(memo for _, memo in reads))


def _rows_fast(name: str, rows: list) -> list[dict[str, Any]] | None:
    """``_rows`` for rows that are plain dicts of known fields, every value given, each row cast by the parser
    of its shape (``_row_parser``); None when a row needs the general path (another type, an unknown,
    missing or blank field, a value that does not parse): that path then gives the same rows, or the error
    naming the row and field."""
    parsers = _parsers(name)
    out = []
    try:
        for row in rows:
            if row.__class__ is not dict:
                return None
            parse = parsers[tuple(row)]
            rec = parse(row) if parse is not None else None
            if rec is None:
                return None
            out.append(rec)
    except (ValueError, ArithmeticError, InvalidOperation, TypeError):
        return None
    return out


def _rows(name: str, rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list):
        raise _err(f"{name} 必须是行的列表", f"{name} must be a list of rows")
    fast = _rows_fast(name, rows)
    if fast is not None:
        return fast
    fields = _casts(name)
    lookups = _lookups(name)
    keys = fields.keys()
    required = REQUIRED[name]
    out = []
    for i, row in enumerate(rows):
        if row.__class__ is not dict and not isinstance(row, dict):
            raise _err(f"{name} 第 {i + 1} 行不是字典", f"{name} row {i + 1} is not a dict")
        if not keys >= row.keys():
            extra = sorted(set(row) - set(fields))
            raise _err(
                f"{name} 第 {i + 1} 行有未知字段 {extra}", f"{name} row {i + 1} has unknown fields {extra}"
            )
        try:
            # one memo lookup per field (texts as JSON sends them); other values go through their text
            rec = {
                k: got
                for k, v in row.items()
                if (got := lookups[k][v if v.__class__ is str else py_value(v) or ""]) is not None
            }
        except (ValueError, ArithmeticError, InvalidOperation):
            raise _cast_error(name, i, row, fields) from None
        if "vali_flag" not in rec:
            rec["vali_flag"] = "1"  # a row sent for audit is in force unless it says otherwise
        for r in required:
            if r not in rec:
                f = fields[r][0]
                raise _err(
                    f"{name} 第 {i + 1} 行缺少必填字段 {f.name}（{f.name_zh}）",
                    f"{name} row {i + 1} lacks required field {f.name}",
                )
        out.append(rec)
    return out


def _cast_error(name: str, i: int, row: dict, fields: dict) -> InputError:
    """The error naming the first field of ``row`` whose value does not parse."""
    lookups = _lookups(name)
    for k, v in row.items():
        try:
            lookups[k][v if v.__class__ is str else py_value(v) or ""]
        except (ValueError, ArithmeticError, InvalidOperation):
            f = fields[k][0]
            kind, en = ("日期/时间", "date/time") if f.kind in ("date", "datetime") else ("数值", "number")
            v = v.strip() if isinstance(v, str) else v
            return _err(
                f"{name} 第 {i + 1} 行字段 {f.name}（{f.name_zh}）{kind}无法解析：{v!r}",
                f"{name} row {i + 1} field {f.name}: {en} cannot be parsed: {v!r}",
            )
    raise AssertionError("a value failed to parse once and then parsed")  # pragma: no cover


def parse_claim(claim: Any) -> dict[str, list[dict[str, Any]]]:
    """Validate ``claim`` and cast its values (see the module docstring); one row list per claim table."""
    if not isinstance(claim, dict):
        raise _err("claim 必须是字典", "claim must be a dict")
    unknown = sorted(set(claim) - set(CLAIM_TABLES))
    if unknown:
        raise _err(f"未知表 {unknown}", f"unknown tables {unknown}")
    visits = claim.get("mdtrt_d") or []
    if not isinstance(visits, list) or len(visits) != 1:
        n = len(visits) if isinstance(visits, list) else 0
        raise _err(
            f"mdtrt_d 必须恰好一行就诊记录（收到 {n} 行）",
            f"mdtrt_d must hold exactly one visit row (got {n})",
        )
    if not claim.get("fee_list_d"):
        raise _err("fee_list_d 至少需要一行费用明细", "fee_list_d needs at least one fee line")
    out = {name: _rows(name, claim.get(name) or []) for name in CLAIM_TABLES}
    visit = out["mdtrt_d"][0]
    mdtrt_id, psn_no = visit["mdtrt_id"], visit["psn_no"]
    for name in CLAIM_TABLES[1:]:
        bad = sorted({r["mdtrt_id"] for r in out[name]} - {mdtrt_id})
        if bad:
            raise _err(
                f"{name} 的 mdtrt_id {bad} 与就诊 {mdtrt_id} 不符",
                f"{name} mdtrt_id {bad} differs from the visit {mdtrt_id}",
            )
        bad = sorted({r.get("psn_no") for r in out[name]} - {None, psn_no})
        if bad:
            raise _err(
                f"{name} 的 psn_no {bad} 与就诊人员 {psn_no} 不符",
                f"{name} psn_no {bad} differs from the visit's person {psn_no}",
            )
    return out


def claim_texts(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, str]]]:
    """A claim in ``parse_claim``'s form (cast values) back as texts, the form a HIS sends."""
    return {
        name: [{k: py_value(v) for k, v in row.items() if v is not None} for row in rows]
        for name, rows in tables.items()
    }


def claim_tables(claim: Any) -> dict[str, pa.Table]:
    """``parse_claim`` as Arrow tables of the canonical schemas (absent fields null)."""
    return {
        name: pa.Table.from_pylist(rows, schema=schema.table(name).arrow_schema)
        for name, rows in parse_claim(claim).items()
    }


def claim_from_store(con: duckdb.DuckDBPyConnection, mdtrt_id: str) -> dict[str, list[dict[str, str]]]:
    """The stored rows of one visit as a claim (national field codes → strings), from a ``Store.connect()``
    connection: what a HIS would send for that visit; used to replay stored visits through real time."""
    claim = {}
    for name in CLAIM_TABLES:
        cur = con.execute(f'SELECT * FROM "{name}" WHERE mdtrt_id = ?', [mdtrt_id])
        cols = [d[0] for d in cur.description]
        claim[name] = [
            {c: py_value(v) for c, v in zip(cols, r, strict=True) if v is not None} for r in cur.fetchall()
        ]
    return claim


def claims_from_store(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, list[dict[str, str]]]]:
    """Every stored visit as a claim (``claim_from_store`` for all visits with fee lines, one query per
    table): what the equality tests and benchmarks replay."""
    claims: dict[str, dict[str, list[dict[str, str]]]] = {}
    for (v,) in con.execute("SELECT DISTINCT mdtrt_id FROM fee_list_d ORDER BY 1").fetchall():
        claims[v] = {name: [] for name in CLAIM_TABLES}
    for name in CLAIM_TABLES:
        cur = con.execute(f'SELECT * FROM "{name}" ORDER BY mdtrt_id')
        cols = [d[0] for d in cur.description]
        for r in cur.fetchall():
            row = {c: py_value(v) for c, v in zip(cols, r, strict=True) if v is not None}
            claim = claims.get(row.get("mdtrt_id"))  # type: ignore[arg-type]
            if claim is not None:
                claim[name].append(row)
    return claims
