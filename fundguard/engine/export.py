"""Hits for officials: an Excel workbook with Chinese headers, one row per hit, rule metadata alongside."""

from __future__ import annotations

from pathlib import Path

import duckdb
import xlsxwriter

from fundguard.rules.spec import RuleSet

EXCEL_MAX_ROWS = 1_000_000
"""Rows per workbook (Excel's limit is 1,048,576); the Parquet file always holds every hit."""

HEADERS = (
    ("rule_id", "规则编号"),
    ("name_zh", "规则名称"),
    ("result_type", "结果类型"),
    ("fixmedins_code", "定点医药机构编号"),
    ("psn_no", "人员编号"),
    ("mdtrt_id", "就诊ID"),
    ("setl_id", "结算ID"),
    ("bkkp_sn", "明细流水号"),
    ("hilist_code", "医保目录编码"),
    ("amount", "违规金额（元）"),
    ("evidence_zh", "证据说明"),
    ("legal_basis", "政策依据"),
    ("knowledge_source", "知识来源"),
    ("kp_id", "知识点ID"),
)


def write_hits_excel(hits_path: Path, rules: RuleSet, out: Path) -> int:
    """Write ``hits_path`` as an Excel workbook at ``out``; returns the number of rows written."""
    con = duckdb.connect()
    meta = [(r.id, r.name_zh, r.result_type, r.legal_basis, r.knowledge_source) for r in rules.rules.values()]
    con.execute("CREATE TABLE rule_meta (rule_id VARCHAR, name_zh VARCHAR, result_type VARCHAR, "
                "legal_basis VARCHAR, knowledge_source VARCHAR)")  # fmt: skip
    if meta:
        con.executemany("INSERT INTO rule_meta VALUES (?, ?, ?, ?, ?)", meta)
    cols = ", ".join("array_to_string(h.bkkp_sn, ';')" if c == "bkkp_sn" else c for c, _ in HEADERS)
    rows = con.execute(
        f"SELECT {cols} FROM read_parquet(?) h LEFT JOIN rule_meta USING (rule_id) "
        f"ORDER BY fixmedins_code, rule_id, mdtrt_id LIMIT {EXCEL_MAX_ROWS}",
        [str(hits_path)],
    ).fetchall()
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    ws = wb.add_worksheet("审核结果")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    ws.write_row(0, 0, [zh for _, zh in HEADERS], head)
    money = wb.add_format({"num_format": "#,##0.00"})
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if HEADERS[j][0] == "amount" and value is not None:
                ws.write_number(i, j, float(value), money)
            else:
                ws.write(i, j, "" if value is None else str(value))
    ws.freeze_panes(1, 0)
    ws.set_column(0, len(HEADERS) - 1, 16)
    ws.set_column(10, 10, 60)
    wb.close()
    return len(rows)
