"""Run the three tiers over a store and write the report as JSON, a Chinese HTML page and an Excel workbook."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import xlsxwriter
from jinja2 import Environment, PackageLoader, select_autoescape

from fundguard.data import schema
from fundguard.data.store import Store
from fundguard.quality.checks import CHECKS, Check

SAMPLE_ROWS = 20


@dataclass
class TableProfile:
    table: str
    name_zh: str
    rows: int
    valid_rows: int
    distinct_keys: int
    time_min: str | None = None
    time_max: str | None = None
    refund_rows: int = 0


@dataclass
class CheckResult:
    code: str
    name_zh: str
    name_en: str
    severity: str
    count: int
    checked: bool
    """False when a table the check needs has no rows (the check says nothing then)."""
    columns: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)


@dataclass
class QualityReport:
    workspace: str
    created: str
    seconds: float
    tables: list[TableProfile]
    checks: list[CheckResult]
    money_by_month: list[dict[str, Any]]
    money_by_med_type: list[dict[str, Any]]

    @property
    def errors(self) -> int:
        return sum(c.count for c in self.checks if c.severity == "error")

    def summary_zh(self) -> str:
        rows = sum(t.rows for t in self.tables)
        failing = [c for c in self.checks if c.count]
        lines = [f"数据质量：{len(self.tables)} 张表共 {rows:,} 行；{len(failing)} 项检查发现问题。"]
        lines += [f"  [{c.severity}] {c.name_zh}：{c.count:,}" for c in failing]
        return "\n".join(lines)

    def write(self, out_dir: Path, stem: str = "quality") -> dict[str, Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {ext: out_dir / f"{stem}.{ext}" for ext in ("json", "html", "xlsx")}
        paths["json"].write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2, default=str), "utf-8")
        paths["html"].write_text(_render_html(self), "utf-8")
        _write_excel(self, paths["xlsx"])
        return paths


def profile_store(store: Store, *, icd10_codes: list[str] | None = None) -> QualityReport:
    """Profile every table of ``store``; ``icd10_codes`` enables the diagnosis-code check."""
    started = time.perf_counter()
    con = store.connect()
    counts = store.row_counts()
    if icd10_codes is not None:
        con.register("icd10_codes", pa.table({"code": pa.array(icd10_codes, pa.string())}))
        con.execute("CREATE TEMP TABLE icd10 AS SELECT DISTINCT code FROM icd10_codes")
    tables = [_profile_table(con, name) for name, n in counts.items() if n]
    checks = [_run_check(con, c, counts, icd10_codes is not None) for c in CHECKS]
    return QualityReport(
        workspace=str(store.workspace),
        created=datetime.now().isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - started, 2),
        tables=tables,
        checks=checks,
        money_by_month=_rows(
            con,
            """
            SELECT strftime(setl_time, '%Y-%m') AS month, count(*) AS settlements,
                   sum(medfee_sumamt) AS medfee_sumamt, sum(fund_pay_sumamt) AS fund_pay_sumamt
            FROM setl_d_valid GROUP BY 1 ORDER BY 1""",
        )
        if counts.get("setl_d")
        else [],
        money_by_med_type=_rows(
            con,
            """
            SELECT med_type, count(*) AS settlements, sum(medfee_sumamt) AS medfee_sumamt,
                   sum(fund_pay_sumamt) AS fund_pay_sumamt
            FROM setl_d_valid GROUP BY 1 ORDER BY 3 DESC""",
        )
        if counts.get("setl_d")
        else [],
    )


def _profile_table(con: duckdb.DuckDBPyConnection, name: str) -> TableProfile:
    t = schema.table(name)
    key = ", ".join(t.key)
    has_vali = "vali_flag" in t.columns
    valid = "count(*) FILTER (WHERE vali_flag = '1')" if has_vali else "count(*)"
    time_col = t.time_column
    span = f"min({time_col})::VARCHAR, max({time_col})::VARCHAR" if time_col else "NULL, NULL"
    refunds = (
        "count(*) FILTER (WHERE refd_setl_flag = '1')"
        if name == "setl_d"
        else ("count(*) FILTER (WHERE init_feedetl_sn IS NOT NULL)" if name == "fee_list_d" else "0")
    )
    rows, valid_rows, distinct, tmin, tmax, refund_rows = con.execute(
        f"SELECT count(*), {valid}, count(DISTINCT ({key})), {span}, {refunds} FROM {name}"
    ).fetchone()
    return TableProfile(name, t.name_zh, rows, valid_rows, distinct, tmin, tmax, refund_rows)


def _run_check(
    con: duckdb.DuckDBPyConnection, check: Check, counts: dict[str, int], have_icd: bool
) -> CheckResult:
    result = CheckResult(check.code, check.name_zh, check.name_en, check.severity, 0, checked=False)
    if not all(counts.get(t) for t in check.tables) or (check.code == "diag_not_icd10" and not have_icd):
        return result
    result.checked = True
    # One scan: the offending rows land in a temp table (spilled to disk if there are many).
    con.execute(f"CREATE OR REPLACE TEMP TABLE check_rows AS {check.sql}")
    result.count = con.execute("SELECT count(*) FROM check_rows").fetchone()[0]
    cur = con.execute(f"SELECT * FROM check_rows LIMIT {SAMPLE_ROWS}")
    result.columns = [d[0] for d in cur.description]
    result.sample = [["" if v is None else str(v) for v in row] for row in cur.fetchall()]
    return result


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [
        dict(zip(names, ("" if v is None else str(v) for v in row), strict=True)) for row in cur.fetchall()
    ]


def _render_html(report: QualityReport) -> str:
    env = Environment(loader=PackageLoader("fundguard.quality", "templates"), autoescape=select_autoescape())
    return env.get_template("quality.html").render(r=report, med_types=schema.dictionary()["MED_TYPE"])


def _write_excel(report: QualityReport, path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    ws = wb.add_worksheet("表概况")
    _sheet(
        ws,
        head,
        ["表名", "中文名", "行数", "有效行数", "不同主键数", "最早时间", "最晚时间", "退费行数"],
        [
            [t.table, t.name_zh, t.rows, t.valid_rows, t.distinct_keys, t.time_min, t.time_max, t.refund_rows]
            for t in report.tables
        ],
    )
    ws = wb.add_worksheet("质量检查")
    _sheet(
        ws,
        head,
        ["检查代码", "检查项", "Check", "级别", "问题行数", "是否执行"],
        [
            [c.code, c.name_zh, c.name_en, c.severity, c.count, "是" if c.checked else "否（缺少数据）"]
            for c in report.checks
        ],
    )
    for c in report.checks:
        if c.count:
            _sheet(wb.add_worksheet(c.code[:31]), head, c.columns, c.sample)
    ws = wb.add_worksheet("按月金额")
    _sheet(
        ws,
        head,
        ["月份", "结算笔数", "医疗费总额", "基金支付总额"],
        [list(r.values()) for r in report.money_by_month],
    )
    wb.close()


def _sheet(ws: Any, head: Any, columns: list[str], rows: list[list[Any]]) -> None:
    ws.write_row(0, 0, columns, head)
    for i, row in enumerate(rows, start=1):
        ws.write_row(i, 0, row)
    ws.set_column(0, max(len(columns) - 1, 0), 18)
    ws.freeze_panes(1, 0)
