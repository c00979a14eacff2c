"""The summary report of a special campaign (专项整治总结报告), as .docx (PDF through ``documents.docx_to_pdf``),
in the official layout of the other documents (the helpers of ``documents``): the campaign, its figures
(institutions in scope, 自查自纠 returns, problems self-found, money refunded voluntarily, re-checks, problems
found later that were not self-reported and handled more strictly, the 问题清零 ledger), the same figures as
tables (by phase of the returns and by region: the chart of the workbench, printable), and the typical cases.

Pure Python: the service passes a plain mapping (required fields in ``CAMPAIGN_REPORT_FIELDS``; a missing one
raises ``InputError`` naming it in Chinese) and gets the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH

from fundguard.core.errors import InputError
from fundguard.supervision.documents import (
    _cell_text,
    _date,
    _heading,
    _missing,
    _money,
    _new_document,
    _number_line,
    _numbered,
    _para,
    _save,
    _signature,
    _title,
    _yuan,
)
from fundguard.supervision.inspection_documents import _xml_safe

CAMPAIGN_REPORT_ZH = "专项整治总结报告"
CAMPAIGN_REPORT_FIELDS: dict[str, str] = {
    "authority": "报告单位",
    "date": "日期",
    "doc_number": "编号",
    "title": "专项整治名称",
    "theme_zh": "整治主题",
    "status_zh": "所处阶段",
    "stats": "整治数据",
}
_STATS_FIELDS = {
    "institutions": "范围内机构数",
    "reported": "已报送自查机构数",
    "self_problems": "自查问题数",
    "refunded": "主动退回金额",
    "selected": "抽中复查机构数",
    "checked": "已复查机构数",
    "found_problems": "复查发现问题数",
    "found_amount": "复查发现金额",
    "unreported": "未自查问题数",
    "strict": "从严处理机构数",
    "ledger": "问题清零台账",
}


def _validate(data: Mapping[str, Any]) -> None:
    for key, zh in CAMPAIGN_REPORT_FIELDS.items():
        if key not in data or _missing(data[key]):
            raise InputError(f"{CAMPAIGN_REPORT_ZH}缺少必填项：{zh}（{key}）",
                             f"campaign report: required field '{key}' ({zh}) is missing or empty")  # fmt: skip
    stats = data["stats"]
    if not isinstance(stats, Mapping):
        raise InputError("整治数据必须是键值对", "stats must be a mapping")
    for key, zh in _STATS_FIELDS.items():
        if key not in stats:
            raise InputError(
                f"{CAMPAIGN_REPORT_ZH}的整治数据缺少：{zh}（{key}）", f"stats: '{key}' is missing"
            )
        if key not in ("ledger", "refunded", "found_amount") and (
            not isinstance(stats[key], int) or stats[key] < 0
        ):
            raise InputError(
                f"{zh}应为非负整数：{stats[key]}", f"stats: '{key}' must be a non-negative integer"
            )


def _percent(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "—"


def _table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A grid table: bold header, numbers right-aligned (every column after the first)."""
    grid = doc.add_table(rows=1 + len(rows), cols=len(header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for j, label in enumerate(header):
        _cell_text(grid.rows[0].cells[j], [label], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            align = WD_ALIGN_PARAGRAPH.RIGHT if j else None
            _cell_text(grid.rows[i].cells[j], [str(value)], align=align)
    _para(doc)


def _figures(doc: Any, st: Mapping[str, Any]) -> None:
    n, reported = st["institutions"], st["reported"]
    refunded, found_amount = (
        _money(st["refunded"], "主动退回金额"),
        _money(st["found_amount"], "复查发现金额"),
    )
    ledger = st["ledger"]
    total = int(ledger.get("open", 0)) + int(ledger.get("closed", 0))
    _heading(doc, "一、总体情况")
    _para(doc, f"本次专项整治范围内定点医药机构 {n} 家，已报送自查自纠报告 {reported} 家（报送率 "
               f"{_percent(reported, n)}），自查发现问题 {st['self_problems']} 个，主动退回医保基金 {_yuan(refunded)}。")  # fmt: skip
    if not st["selected"] and not st["checked"]:  # still in 动员部署 or 自查自纠: say so, claim nothing
        _para(doc, "抽查复查尚未开展。")
    else:
        _para(doc, f"抽查复查阶段抽中 {st['selected']} 家（含未报送自查的机构），已完成复查 {st['checked']} 家，复查发现问题 "
                   f"{st['found_problems']} 个，涉及金额 {_yuan(found_amount)}。")  # fmt: skip
        if st["unreported"]:
            _para(doc, f"其中 {st['unreported']} 个问题未在自查自纠中主动报告、经复查发现，涉及 {st['strict']} 家机构，"
                       "已依法从严从重处理。")  # fmt: skip
        elif st["checked"]:
            _para(doc, "已完成的复查中未发现应报未报的问题。")
    if not total:
        _para(doc, "问题清零台账暂无问题（自查自纠结束后，自查和复查发现的问题逐项入账）。")
    else:
        _para(doc, f"问题清零台账共 {total} 个问题，已整改销号 {ledger.get('closed', 0)} 个，尚未清零 {ledger.get('open', 0)} 个"
                   f"（其中逾期 {ledger.get('overdue', 0)} 个），清零率 {_percent(int(ledger.get('closed', 0)), total)}。")  # fmt: skip
    _heading(doc, "二、整治数据")
    rows = [
        ("范围内机构（家）", str(n)),
        ("已报送自查（家）", f"{reported}（{_percent(reported, n)}）"),
        ("自查发现问题（个）", str(st["self_problems"])),
        ("主动退回金额（元）", f"{refunded:,.2f}"),
        ("抽中复查 / 已复查（家）", f"{st['selected']} / {st['checked']}"),
        ("复查发现问题（个）", str(st["found_problems"])),
        ("复查发现金额（元）", f"{found_amount:,.2f}"),
        ("未自查、从严处理的问题（个）", str(st["unreported"])),
        ("清零台账：已清零 / 未清零 / 逾期（个）",
         f"{ledger.get('closed', 0)} / {ledger.get('open', 0)} / {ledger.get('overdue', 0)}"),
    ]  # fmt: skip
    _table(doc, ("项目", "数值"), rows)
    phases = [(str(s["status_zh"]), str(s["count"])) for s in st.get("by_status") or []]
    if phases:
        _para(doc, "表1　机构自查自纠与复查进度", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
        _table(doc, ("进度", "机构数（家）"), phases)
    regions = st.get("regions") or []
    if regions:
        _para(doc, "表2　分区划情况", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
        _table(doc, ("区划", "机构", "已报送", "主动退回（元）", "抽中", "已复查"), [
            (str(r.get("name") or r["admdvs"]), str(r["institutions"]), str(r["reported"]),
             f"{_money(r['refunded'], '退回金额'):,.2f}", str(r["selected"]), str(r["checked"])) for r in regions
        ])  # fmt: skip


def _cases(doc: Any, data: Mapping[str, Any]) -> None:
    _heading(doc, "三、典型案例")
    items = []
    for c in data.get("cases") or []:
        amount = (
            f"，涉及金额 {_yuan(_money(c['amount'], '涉及金额'))}"
            if c.get("amount") not in (None, "")
            else ""
        )
        items.append(f"{c['party']}：{c['facts']}{amount}。{c.get('outcome') or ''}".rstrip())
    if items:
        _numbered(doc, items)
    else:
        _para(doc, "本次整治尚无查实的典型案例（复查和案件查处完成后补充）。")
    refunds = data.get("refunds") or []
    if refunds:
        _para(doc, "自查自纠主动退回金额较多的机构：", indent=False)
        _numbered(doc, [f"{r['party']}：自查问题 {r['problems']} 个，主动退回 {_yuan(_money(r['refunded'], '退回金额'))}"
                        for r in refunds])  # fmt: skip


def render_campaign_report(data: Mapping[str, Any]) -> bytes:
    """The .docx bytes of a campaign's summary report; ``InputError`` names a missing field or an invalid value."""
    data = _xml_safe(data)
    _validate(data)
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), CAMPAIGN_REPORT_ZH)
    _number_line(doc, str(data["doc_number"]))
    _para(doc, str(data["title"]), align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, bold=True)
    focus = "、".join(str(f) for f in data.get("focus_areas") or []) or "—"
    _para(
        doc, f"整治主题：{data['theme_zh']}；整治重点：{focus}；当前阶段：{data['status_zh']}。", indent=False
    )
    if data.get("scope_zh"):
        _para(doc, f"统计范围：{data['scope_zh']}。", indent=False)
    _figures(doc, data["stats"])
    _cases(doc, data)
    if data.get("summary"):
        _heading(doc, "四、工作总结")
        _para(doc, str(data["summary"]))
    _signature(doc, str(data["authority"]), when)
    return _save(doc)
