"""事前/事中 real-time audit of ONE claim with the same rule SQL as the batch engine.

``RealtimeAuditor`` keeps one in-memory DuckDB holding the knowledge tables. Per claim it fills tables named
like the store's (``fee_list_d``, ``mdtrt_d``, ``setl_d``, ``setl_list_diag_d``, ``psn_info_b``,
``medins_info_b``, ``hilist_b`` … with ``*_valid`` views over them) with the claim's rows plus the patient's
history from the store (that person's other visits, lines, settlements and diagnoses; the person, the
institutions and the catalogue entries those rows name), builds ``claim_lines`` exactly as ``prepare`` does,
runs the SAME ``hits_sql(rules)`` and returns the hits whose ``mdtrt_id`` is the claim's visit.

Rules run in real time when their ``stages`` include the auditor's stage and their template is not in
``POPULATION_TEMPLATES``: those compare an institution or a group of people against the whole population
(``inventory_balance``: an institution's purchases against everything it billed; ``group_admission``: many
people admitted together), which one patient's history cannot decide. Every other template looks at one
line, one visit or one person's visits, so the patient's history is all it needs.

History is every stored row of the person except the claim's own visit (the claim replaces it), so a claim
already in the store is audited exactly as the batch audits it. Person-level hits (one hit per person, e.g.
``pharmacy_cashing``) are returned only when their ``mdtrt_id`` is the claim's visit — as in the batch.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from fundguard.core.errors import InputError
from fundguard.data import schema
from fundguard.data.store import Store
from fundguard.engine.batch import hits_sql
from fundguard.rules import knowledge
from fundguard.rules.base import CLAIM_LINES_SQL, HIT_COLUMNS
from fundguard.rules.spec import Rule, RuleSet

POPULATION_TEMPLATES: frozenset[str] = frozenset({"inventory_balance", "group_admission"})
"""Templates that need the whole population (not one person's history): never run in real time."""

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

_ALL_TABLES = tuple(schema.tables())


def realtime_rules(rules: RuleSet, stage: str = "事中") -> list[Rule]:
    """The enabled rules of ``rules`` that run at ``stage`` and are decidable per claim."""
    return [r for r in rules.enabled() if stage in r.stages and r.template not in POPULATION_TEMPLATES]


def _err(zh: str, en: str) -> InputError:
    return InputError(f"实时审核输入错误：{zh}", f"real-time claim invalid: {en}")


def _py_value(v: Any) -> str | None:
    """A claim value as the string the canonical cast reads (None/'' → null)."""
    if v is None:
        return None
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


def claim_from_store(con: duckdb.DuckDBPyConnection, mdtrt_id: str) -> dict[str, list[dict[str, str]]]:
    """The stored rows of one visit as a claim (national field codes → strings), from a ``Store.connect()``
    connection: what a HIS would send for that visit; used to replay stored visits through real time."""
    claim = {}
    for name in CLAIM_TABLES:
        cur = con.execute(f'SELECT * FROM "{name}" WHERE mdtrt_id = ?', [mdtrt_id])
        cols = [d[0] for d in cur.description]
        claim[name] = [
            {c: _py_value(v) for c, v in zip(cols, r, strict=True) if v is not None} for r in cur.fetchall()
        ]
    return claim


def _cast_vector(values: list[str | None], target: pa.DataType) -> pa.Array:
    """Strings → ``target`` (raises ``pa.ArrowInvalid`` on a bad value)."""
    if pa.types.is_string(target):
        return pa.array(values, pa.string())
    if pa.types.is_decimal(target):
        raw = pa.array(values, pa.string())
        try:
            return pc.cast(raw, target)
        except pa.ArrowInvalid:  # more decimals than the scale: round half away from zero
            wide = pc.cast(raw, pa.decimal128(38, 12))
            return pc.cast(pc.round(wide, ndigits=target.scale, round_mode="half_away_from_zero"), target)
    if pa.types.is_timestamp(target):  # a date alone means midnight (as at ingest)
        values = [v + " 00:00:00" if v is not None and len(v) == 10 else v for v in values]
    elif pa.types.is_date32(target):
        values = [v[:10] if v else v for v in values]
    return pc.cast(pa.array(values, pa.string()), target)


def _cast(values: list[str | None], field: schema.Field, table: str) -> pa.Array:
    """Strings → the field's canonical Arrow type (vectorised; a bad value raises a bilingual error)."""
    try:
        return _cast_vector(values, field.arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    kind, en = ("日期/时间", "date/time") if field.kind in ("date", "datetime") else ("数值", "number")
    for i, v in enumerate(values):
        try:
            _cast_vector([v], field.arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _err(
                f"{table} 第 {i + 1} 行字段 {field.name}（{field.name_zh}）{kind}无法解析：{v!r}",
                f"{table} row {i + 1} field {field.name}: {en} cannot be parsed: {v!r}",
            ) from None
    raise _err(
        f"{table} 字段 {field.name} {kind}无法解析", f"{table} field {field.name}: {en} cannot be parsed"
    )


def claim_tables(claim: dict) -> dict[str, pa.Table]:
    """Validate ``claim`` and cast its rows to the canonical Arrow schemas (one table per claim table)."""
    if not isinstance(claim, dict):
        raise _err("claim 必须是字典", "claim must be a dict")
    unknown = sorted(set(claim) - set(CLAIM_TABLES))
    if unknown:
        raise _err(f"未知表 {unknown}", f"unknown tables {unknown}")
    visits = claim.get("mdtrt_d") or []
    if len(visits) != 1:
        raise _err(
            f"mdtrt_d 必须恰好一行就诊记录（收到 {len(visits)} 行）",
            f"mdtrt_d must hold exactly one visit row (got {len(visits)})",
        )
    if not claim.get("fee_list_d"):
        raise _err("fee_list_d 至少需要一行费用明细", "fee_list_d needs at least one fee line")
    out: dict[str, pa.Table] = {}
    for name in CLAIM_TABLES:
        rows = claim.get(name) or []
        t = schema.table(name)
        cols = set(t.columns)
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise _err(f"{name} 第 {i + 1} 行不是字典", f"{name} row {i + 1} is not a dict")
            extra = sorted(set(row) - cols)
            if extra:
                raise _err(
                    f"{name} 第 {i + 1} 行有未知字段 {extra}",
                    f"{name} row {i + 1} has unknown fields {extra}",
                )
        arrays = []
        for f in t.fields:
            values = [_py_value(r.get(f.name)) for r in rows]
            if f.name in REQUIRED[name]:
                for i, v in enumerate(values):
                    if v is None:
                        raise _err(
                            f"{name} 第 {i + 1} 行缺少必填字段 {f.name}（{f.name_zh}）",
                            f"{name} row {i + 1} lacks required field {f.name}",
                        )
            arrays.append(_cast(values, f, name))
        out[name] = pa.Table.from_arrays(arrays, schema=t.arrow_schema)
    visit = out["mdtrt_d"].slice(0, 1).to_pylist()[0]
    for name in CLAIM_TABLES[1:]:
        tbl = out[name]
        if not tbl.num_rows:
            continue
        bad = [v for v in set(tbl.column("mdtrt_id").to_pylist()) if v != visit["mdtrt_id"]]
        if bad:
            raise _err(
                f"{name} 的 mdtrt_id {bad} 与就诊 {visit['mdtrt_id']} 不符",
                f"{name} mdtrt_id {bad} differs from the visit {visit['mdtrt_id']}",
            )
        if "psn_no" in tbl.column_names:
            bad = [v for v in set(tbl.column("psn_no").to_pylist()) if v not in (None, visit["psn_no"])]
            if bad:
                raise _err(
                    f"{name} 的 psn_no {bad} 与就诊人员 {visit['psn_no']} 不符",
                    f"{name} psn_no {bad} differs from the visit's person {visit['psn_no']}",
                )
    return out


class RealtimeAuditor:
    """Audit one claim at a time with the batch rule SQL over the claim plus the patient's history."""

    def __init__(self, workspace: Path, rules: RuleSet, *, stage: str = "事中"):
        self.workspace = Path(workspace)
        self.stage = stage
        self.rules = realtime_rules(rules, stage)
        self.skipped = sorted(
            r.id for r in rules.enabled() if stage in r.stages and r.template in POPULATION_TEMPLATES
        )
        store = Store(self.workspace)
        if not store.root.exists():
            raise InputError(f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store")
        self._store = store.connect()  # history source: views over the stored Parquet
        self._sql = hits_sql(self.rules)
        self._con = duckdb.connect(":memory:")
        knowledge.register(self._con, sorted({r.knowledge for r in self.rules if r.knowledge}))
        self._empty = {n: t.arrow_schema.empty_table() for n, t in schema.tables().items()}
        self._filled: set[str] = set()  # tables holding rows of the previous claim
        for name, t in schema.tables().items():
            self._load(name, self._empty[name])
            valid = " WHERE vali_flag = '1'" if "vali_flag" in t.columns else ""
            self._con.execute(f'CREATE VIEW "{name}_valid" AS SELECT * FROM "{name}"{valid}')
        self._cols = {n: ", ".join(f'"{c}"' for c in t.columns) for n, t in schema.tables().items()}

    def _load(self, name: str, data: pa.Table) -> None:
        """Replace the native temp table ``name`` with ``data`` (native tables scan faster than Arrow ones)."""
        self._con.register("_arrow_claim", data)
        self._con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM _arrow_claim')
        self._con.unregister("_arrow_claim")
        (self._filled.add if data.num_rows else self._filled.discard)(name)

    def close(self) -> None:
        self._con.close()
        self._store.close()

    def __enter__(self) -> RealtimeAuditor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, name: str, where: str, params: list) -> pa.Table:
        """Stored rows of ``name`` matching ``where``, in the canonical Arrow schema."""
        sql = f'SELECT {self._cols[name]} FROM "{name}" WHERE {where}'
        return self._store.sql(sql, params=params).to_arrow_table().cast(self._empty[name].schema)

    def _history(self, psn_no: str, mdtrt_id: str, claim: dict[str, pa.Table]) -> dict[str, pa.Table]:
        """The person's stored rows (other visits) and the reference rows they and the claim name."""
        out: dict[str, pa.Table] = {}
        for name in ("mdtrt_d", "fee_list_d", "setl_d"):
            out[name] = self._query(name, "psn_no = ? AND mdtrt_id <> ?", [psn_no, mdtrt_id])
        visits = out["mdtrt_d"].column("mdtrt_id").to_pylist()
        for name in ("setl_list_diag_d", "setl_list_oprn_d"):
            out[name] = (
                self._query(name, "list_contains(?, mdtrt_id)", [visits]) if visits else self._empty[name]
            )
        out["psn_info_b"] = self._query("psn_info_b", "psn_no = ?", [psn_no])
        insts = {
            v
            for n in ("mdtrt_d", "fee_list_d", "setl_d")
            for tbl in (out[n], claim[n])
            for v in tbl.column("fixmedins_code").to_pylist()
            if v
        }
        codes = {
            v
            for tbl in (out["fee_list_d"], claim["fee_list_d"])
            for v in tbl.column("hilist_code").to_pylist()
            if v
        }
        for name, col, keys in (
            ("medins_info_b", "fixmedins_code", insts),
            ("hilist_b", "hilist_code", codes),
        ):
            out[name] = self._query(name, f"list_contains(?, {col})", [sorted(keys)])
        return out

    def audit(self, claim: dict) -> list[dict]:
        """The hits (``HIT_COLUMNS`` dicts) of the real-time rules on the claim's visit."""
        tables = claim_tables(claim)
        visit = tables["mdtrt_d"].slice(0, 1).to_pylist()[0]
        mdtrt_id, psn_no = visit["mdtrt_id"], visit["psn_no"]
        hist = self._history(psn_no, mdtrt_id, tables)
        con = self._con
        for name in _ALL_TABLES:
            parts = [t for t in (tables.get(name), hist.get(name)) if t is not None and t.num_rows]
            data = pa.concat_tables(parts) if len(parts) > 1 else (parts[0] if parts else self._empty[name])
            if data.num_rows or name in self._filled:
                self._load(name, data)
        con.execute(f"CREATE OR REPLACE TEMP TABLE claim_lines AS {CLAIM_LINES_SQL}")
        rows = con.execute(f"SELECT * FROM ({self._sql}) WHERE mdtrt_id = ?", [mdtrt_id]).fetchall()
        cols = list(HIT_COLUMNS)
        return [dict(zip(cols, r, strict=True)) for r in rows]


__all__ = ["POPULATION_TEMPLATES", "RealtimeAuditor", "claim_tables", "realtime_rules"]
