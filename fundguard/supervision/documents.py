"""Official documents: 立案审批表, 行政处罚事先告知书, 行政处罚决定书 and 协议处理通知书 as .docx (or PDF).

Owns the wording and layout of the documents a case produces: required fields per kind (``DOCUMENT_FIELDS``,
a missing or empty one raises ``InputError`` naming it in Chinese), the Chinese official layout (A4, GB/T
9704-style margins, 方正小标宋 title, 仿宋 body, 黑体 headings, 宋体 tables — set through the east-asian font
attribute so Word and LibreOffice pick them), the rights text (陈述申辩 always; 听证 where the configured
threshold applies) and remedy text (行政复议 / 行政诉讼) with periods from the time-limit configuration.
Pure Python: the service passes plain mappings and stores the bytes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell

from fundguard.core.errors import FundGuardError, InputError
from fundguard.supervision import deadlines, penalties

DOCUMENT_KINDS: dict[str, str] = {
    "case_filing": "立案审批表",
    "prior_notice": "行政处罚事先告知书",
    "penalty_decision": "行政处罚决定书",
    "agreement_notice": "协议处理通知书",
}

_COMMON = {"authority": "执法机关", "date": "日期"}
# Required keys per kind → their Chinese names (used in the error for a missing one).
DOCUMENT_FIELDS: dict[str, dict[str, str]] = {
    "case_filing": {
        **_COMMON,
        "case_number": "案件编号",
        "case_title": "案由",
        "party_name": "当事人",
        "source": "案件来源",
        "facts": "简要案情",
        "amount": "涉案金额",
        "handlers": "承办人",
        "handler_opinion": "承办人意见",
    },
    "prior_notice": {
        **_COMMON,
        "doc_number": "文号",
        "party_name": "当事人",
        "facts": "违法事实",
        "evidence": "证据",
        "basis": "处罚依据",
        "proposed_penalty": "拟作出的行政处罚",
        "fine": "拟罚款金额",
    },
    "penalty_decision": {
        **_COMMON,
        "doc_number": "文号",
        "party_name": "当事人",
        "facts": "违法事实",
        "evidence": "证据",
        "basis": "处罚依据",
        "decision": "处罚决定",
        "fine": "罚款金额",
    },
    "agreement_notice": {
        **_COMMON,
        "doc_number": "文号",
        "party_name": "当事人",
        "facts": "违约事实",
        "basis": "处理依据",
        "measures": "处理措施",
    },
}
# Optional keys per kind → Chinese names (documented for callers; validated when present).
OPTIONAL_FIELDS: dict[str, dict[str, str]] = {
    "case_filing": {
        "party_code": "机构编码/统一社会信用代码",
        "party_address": "地址",
        "legal_rep": "法定代表人（负责人）",
        "legal_basis": "涉嫌违反的规定",
        "reviewer_opinion": "审核意见",
        "reviewer": "审核人",
        "review_date": "审核日期",
        "approver_opinion": "负责人审批意见",
        "approver": "负责人",
        "approval_date": "审批日期",
        "remarks": "备注",
    },
    "prior_notice": {
        "party_type": "当事人类型（organisation/individual）",
        "measures": "拟采取的其他措施代码",
        "hearing": "听证权利（强制告知）",
        "violated": "违反的规定",
        "contact": "联系人及电话",
        "address": "本机关地址",
        "officers": "执法人员（姓名及执法证号）",
    },
    "penalty_decision": {
        "party_type": "当事人类型（organisation/individual）",
        "party_code": "机构编码/统一社会信用代码",
        "party_address": "地址",
        "legal_rep": "法定代表人（负责人）",
        "case_opened": "立案日期",
        "notice_date": "事先告知日期",
        "defence_result": "陈述申辩及听证情况",
        "violated": "违反的规定",
        "refund": "责令退回金额",
        "payment_account": "罚款缴纳方式",
        "reconsideration_body": "行政复议机关",
        "court": "人民法院",
        "officers": "执法人员（姓名及执法证号）",
    },
    "agreement_notice": {
        "agreement": "服务协议",
        "amount": "涉及金额",
        "rectify_by": "整改期限",
        "contact": "联系人及电话",
    },
}

# Fonts named as Chinese Word installations know them; LibreOffice maps them to installed CJK fonts.
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
TABLE_FONT = "宋体"
LATIN_FONT = "Times New Roman"
TITLE_PT, BODY_PT, TABLE_PT = 22, 16, 12  # 二号, 三号, 小四
LINE_PT = 28  # fixed line spacing: about 22 lines per A4 page


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Sequence | Mapping | set):
        return len(value) == 0
    return False


def _validate(kind: str, data: Mapping[str, Any]) -> None:
    if kind not in DOCUMENT_KINDS:
        known = "、".join(f"{k}（{v}）" for k, v in DOCUMENT_KINDS.items())
        raise InputError(f"未知的文书类型：{kind}（可选：{known}）", f"unknown document kind: {kind}")
    if not isinstance(data, Mapping):
        raise InputError("文书数据必须是键值对", "document data must be a mapping")
    for key, zh in DOCUMENT_FIELDS[kind].items():
        if key not in data or _missing(data[key]):
            raise InputError(
                f"{DOCUMENT_KINDS[kind]}缺少必填项：{zh}（{key}）",
                f"{kind}: required field '{key}' ({zh}) is missing or empty",
            )


def _date(value: Any, zh: str) -> str:
    """Dates written with Arabic numerals in full (GB/T 9704): 2026年11月24日."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip()[:10])
        except ValueError as exc:
            raise InputError(f"{zh}不是有效日期：{value}", f"{zh}: invalid date {value!r}") from exc
    return f"{value.year}年{value.month}月{value.day}日"


def _money(value: Any, zh: str) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (ArithmeticError, ValueError) as exc:
        raise InputError(f"{zh}不是有效金额：{value}", f"{zh}: invalid amount {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise InputError(f"{zh}必须为非负金额：{value}", f"{zh}: amount must be non-negative")
    return amount.quantize(Decimal("0.01"))


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}元"


def _lines(value: Any) -> list[str]:
    """A text (split on line breaks) or a sequence of items → non-empty lines."""
    items = [str(v) for v in value] if isinstance(value, list | tuple) else str(value).splitlines()
    return [s.strip() for s in items if s and s.strip()]


def _names(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else re.split(r"[、，,；;\s]+", str(value))
    return [str(s).strip() for s in items if str(s).strip()]


def _set_run_font(run: Any, east_asia: str, size_pt: float, bold: bool = False) -> None:
    run.font.name = LATIN_FONT
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), east_asia)


def _new_document() -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    # A4 with GB/T 9704-2012 margins (天头 37 mm, 订口 28 mm).
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PT)
    fmt.space_before = fmt.space_after = Pt(0)
    return doc


def _para(
    doc: DocxDocument | _Cell,
    text: str = "",
    *,
    align: WD_ALIGN_PARAGRAPH | None = None,
    font: str = BODY_FONT,
    size: float = BODY_PT,
    bold: bool = False,
    indent: bool = True,
) -> Any:
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent and align in (None, WD_ALIGN_PARAGRAPH.JUSTIFY):
        p.paragraph_format.first_line_indent = Pt(size * 2)  # 首行缩进两字
    if text:
        _set_run_font(p.add_run(text), font, size, bold)
    return p


def _title(doc: DocxDocument, authority: str, kind_zh: str) -> None:
    for text in (authority, kind_zh):
        p = _para(doc, text, align=WD_ALIGN_PARAGRAPH.CENTER, font=TITLE_FONT, size=TITLE_PT, indent=False)
        p.paragraph_format.line_spacing = Pt(36)


def _number_line(doc: DocxDocument, text: str) -> None:
    _para(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)


def _heading(doc: DocxDocument, text: str) -> None:
    _para(doc, text, font=HEADING_FONT)


def _signature(doc: DocxDocument, authority: str, when: str) -> None:
    _para(doc)
    _para(doc)
    for text in (authority, when, "（印章）"):
        p = _para(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        p.paragraph_format.right_indent = Pt(BODY_PT * 2)


def _pronoun(data: Mapping[str, Any]) -> str:
    party_type = str(data.get("party_type") or "organisation")
    if party_type not in penalties.PARTY_TYPES:
        raise InputError(
            f"未知的当事人类型：{party_type}（可选：organisation 单位、individual 个人）",
            f"unknown party type: {party_type}",
        )
    return "你单位" if party_type == "organisation" else "你"


def _limit(step: str, limits: deadlines.TimeLimits) -> str:
    return limits.step(step).text_zh


def _cell_text(cell: _Cell, lines: Sequence[str], *, bold: bool = False, align: Any = None) -> None:
    cell.paragraphs[0].text = ""
    first = True
    for line in lines or [""]:
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        if align is not None:
            p.alignment = align
        p.paragraph_format.line_spacing = Pt(20)
        if line:
            _set_run_font(p.add_run(line), TABLE_FONT, TABLE_PT, bold)


def _officers(doc: DocxDocument, data: Mapping[str, Any]) -> None:
    """The investigating officers by name and law-enforcement certificate number (执法证号)."""
    names = _names(data.get("officers") or [])
    if names:
        _para(doc, f"执法人员：{'、'.join(names)}", indent=False)


def _sign_line(name: str, when: str) -> str:
    return f"签名：{name or '　　　　　　'}　　　　{when or '　　年　　月　　日'}"


def _case_filing(
    data: Mapping[str, Any], limits: deadlines.TimeLimits, table: penalties.DiscretionTable
) -> bytes:
    handlers = _names(data["handlers"])
    if len(handlers) < 2:
        raise InputError(
            "承办人不得少于2人（行政处罚法第四十二条）", "at least two handling officers are required"
        )
    amount = _money(data["amount"], "涉案金额")
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), DOCUMENT_KINDS["case_filing"])
    _number_line(doc, f"案件编号：{data['case_number']}")
    rows: list[tuple[str, Any]] = [
        ("案由", str(data["case_title"])),
        ("当事人", (str(data["party_name"]), "机构编码", str(data.get("party_code") or ""))),
        (
            "地址",
            (str(data.get("party_address") or ""), "法定代表人（负责人）", str(data.get("legal_rep") or "")),
        ),
        ("案件来源", str(data["source"])),
        ("涉案金额", _yuan(amount)),
        ("简要案情", _lines(data["facts"])),
        ("涉嫌违反的规定", _lines(data.get("legal_basis") or "")),
        ("承办人意见", [*_lines(data["handler_opinion"]), _sign_line("、".join(handlers), when)]),
        (
            "审核意见",
            [
                *_lines(data.get("reviewer_opinion") or ""),
                _sign_line(
                    str(data.get("reviewer") or ""),
                    _date(data["review_date"], "审核日期") if data.get("review_date") else "",
                ),
            ],
        ),
        (
            "负责人审批",
            [
                *_lines(data.get("approver_opinion") or ""),
                _sign_line(
                    str(data.get("approver") or ""),
                    _date(data["approval_date"], "审批日期") if data.get("approval_date") else "",
                ),
            ],
        ),
        ("备注", _lines(data.get("remarks") or "")),
    ]
    grid = doc.add_table(rows=len(rows), cols=4)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Cm(3.2), Cm(5.6), Cm(3.2), Cm(3.6))
    for i, (label, value) in enumerate(rows):
        cells = grid.rows[i].cells
        for cell, width in zip(cells, widths, strict=True):
            cell.width = width
        _cell_text(cells[0], [label], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        if isinstance(value, tuple):
            _cell_text(cells[1], [value[0]])
            _cell_text(cells[2], [value[1]], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
            _cell_text(cells[3], [value[2]])
        else:
            merged = cells[1].merge(cells[3])
            _cell_text(merged, value if isinstance(value, list) else [value])
        if label in ("承办人意见", "审核意见", "负责人审批", "简要案情"):
            grid.rows[i].height = Cm(3)
    _para(doc)
    _para(doc, f"填表日期：{when}", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    return _save(doc)


_ENUMERATED = re.compile(r"^(\d+[.、．]|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、)")


def _numbered(doc: DocxDocument, items: Sequence[str]) -> None:
    if len(items) == 1:
        _para(doc, items[0])
        return
    for i, item in enumerate(items, start=1):
        _para(doc, item if _ENUMERATED.match(item) else f"{i}. {item}")


def _basis(data: Mapping[str, Any]) -> str:
    text = str(data["basis"]).strip()
    return f"处罚依据：{text[2:] if text.startswith('依据') else text}"


def _prior_notice(
    data: Mapping[str, Any], limits: deadlines.TimeLimits, table: penalties.DiscretionTable
) -> bytes:
    you = _pronoun(data)
    fine = _money(data["fine"], "拟罚款金额")
    when = _date(data["date"], "日期")
    measures = _names(data.get("measures") or [])
    hearing = bool(data.get("hearing")) or penalties.hearing_required(
        fine, party_type=str(data.get("party_type") or "organisation"), measures=measures, table=table
    )
    doc = _new_document()
    _title(doc, str(data["authority"]), DOCUMENT_KINDS["prior_notice"])
    _number_line(doc, str(data["doc_number"]))
    _para(doc, f"{data['party_name']}：", indent=False)
    _para(doc, f"经调查核实，{you}存在以下违法事实：")
    _numbered(doc, _lines(data["facts"]))
    _para(doc, "以上事实有下列证据证明：")
    _numbered(doc, _lines(data["evidence"]))
    if data.get("violated"):
        _para(doc, f"{you}的上述行为违反了{data['violated']}。")
    _para(doc, _basis(data))
    _para(doc, f"根据上述规定，本机关拟对{you}作出如下行政处罚：")
    _numbered(doc, _lines(data["proposed_penalty"]))
    if fine > 0:
        _para(doc, f"其中拟罚款金额为{_yuan(fine)}。")
    sections = iter("一二三四五六七八九十")
    _heading(doc, f"{next(sections)}、陈述、申辩权利")
    _para(
        doc,
        f"根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，{you}有权进行陈述和申辩。"
        f"如需陈述、申辩，请于收到本告知书之日起{_limit('statement_defence', limits)}内向本机关书面提出，"
        "或者到本机关口头提出；逾期未提出的，视为放弃陈述、申辩权利。本机关不因当事人陈述、申辩而给予更重的处罚。",
    )
    if hearing:
        _heading(doc, f"{next(sections)}、听证权利")
        _para(
            doc,
            f"根据《中华人民共和国行政处罚法》第六十三条、第六十四条的规定，{you}有权要求举行听证。"
            f"如要求听证，应当在收到本告知书之日起{_limit('hearing_request', limits)}内向本机关提出；"
            f"本机关将在举行听证的{_limit('hearing_notice', limits)}前通知举行听证的时间、地点。逾期未提出的，视为放弃听证权利。",
        )
    if data.get("contact"):
        _para(doc, f"联系人及电话：{data['contact']}")
    if data.get("address"):
        _para(doc, f"本机关地址：{data['address']}")
    _officers(doc, data)
    _signature(doc, str(data["authority"]), when)
    return _save(doc)


def _penalty_decision(
    data: Mapping[str, Any], limits: deadlines.TimeLimits, table: penalties.DiscretionTable
) -> bytes:
    you = _pronoun(data)
    fine = _money(data["fine"], "罚款金额")
    refund = _money(data.get("refund") or 0, "责令退回金额")
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), DOCUMENT_KINDS["penalty_decision"])
    _number_line(doc, str(data["doc_number"]))
    _para(doc, f"当事人：{data['party_name']}", indent=False)
    for key in ("party_code", "party_address", "legal_rep"):
        if data.get(key):
            _para(doc, f"{OPTIONAL_FIELDS['penalty_decision'][key]}：{data[key]}", indent=False)
    opened = f"本机关于{_date(data['case_opened'], '立案日期')}立案，" if data.get("case_opened") else ""
    _para(doc, f"{opened}依法对{you}涉嫌违法使用医疗保障基金一案进行了调查，现已调查终结。")
    _para(doc, "经查明：")
    _numbered(doc, _lines(data["facts"]))
    _para(doc, "以上事实有下列证据证明：")
    _numbered(doc, _lines(data["evidence"]))
    if data.get("violated"):
        _para(doc, f"{you}的上述行为违反了{data['violated']}。")
    if data.get("notice_date"):
        _para(
            doc, f"本机关于{_date(data['notice_date'], '事先告知日期')}向{you}送达了《行政处罚事先告知书》。"
        )
    if data.get("defence_result"):
        _para(doc, str(data["defence_result"]))
    _para(doc, _basis(data))
    _para(doc, "本机关决定：")
    _numbered(doc, _lines(data["decision"]))
    if refund > 0:
        # 条例 Art. 45: refunds go to the fund's fiscal special account, fines to the treasury.
        _para(doc, f"责令退回的医疗保障基金{_yuan(refund)}应当缴入医疗保障基金财政专户。")
    if fine > 0:
        account = data.get("payment_account") or "指定的代收银行"
        _para(
            doc,
            f"罚款{_yuan(fine)}上缴国库。{you}应当自收到本决定书之日起{_limit('fine_payment', limits)}内，"
            f"到{account}缴纳罚款。到期不缴纳罚款的，本机关可以每日按罚款数额的百分之三加处罚款，"
            "加处罚款的数额不超过罚款的数额（《中华人民共和国行政处罚法》第七十二条）。",
        )
    body = data.get("reconsideration_body") or "有管辖权的行政复议机关"
    court = data.get("court") or "有管辖权的人民法院"
    _para(
        doc,
        f"如不服本处罚决定，可以在收到本决定书之日起{_limit('admin_reconsideration', limits)}内向{body}申请行政复议，"
        f"或者在{_limit('admin_litigation', limits)}内依法向{court}提起行政诉讼。"
        "行政复议或者行政诉讼期间，本处罚决定不停止执行，法律另有规定的除外。",
    )
    if fine > 0:
        _para(
            doc,
            "逾期不申请行政复议、不提起行政诉讼又不履行本决定的，本机关将依法申请人民法院强制执行。",
        )
    _officers(doc, data)
    _signature(doc, str(data["authority"]), when)
    return _save(doc)


def _measure_zh(item: str) -> str:
    if item in penalties.MEASURES:
        return penalties.MEASURES[item]
    if item in penalties.MEASURES.values():
        return item
    known = "、".join(f"{k}（{v}）" for k, v in penalties.MEASURES.items())
    raise InputError(f"未知的协议处理措施：{item}（可选：{known}）", f"unknown agreement measure: {item}")


def _agreement_notice(
    data: Mapping[str, Any], limits: deadlines.TimeLimits, table: penalties.DiscretionTable
) -> bytes:
    measures = [_measure_zh(m) for m in _names(data["measures"])]
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), DOCUMENT_KINDS["agreement_notice"])
    _number_line(doc, str(data["doc_number"]))
    _para(doc, f"{data['party_name']}：", indent=False)
    agreement = (
        f"根据{data['agreement']}的约定，"
        if data.get("agreement")
        else "根据你单位与本机构签订的医疗保障服务协议，"
    )
    _para(doc, f"{agreement}经核查，你单位存在以下违反协议的情形：")
    _numbered(doc, _lines(data["facts"]))
    _para(doc, f"依据{data['basis']}，本机构决定对你单位作出如下协议处理：")
    _numbered(doc, measures)
    if data.get("amount"):
        amount = _money(data["amount"], "涉及金额")
        _para(
            doc,
            f"涉及医疗保障基金{_yuan(amount)}，由本机构在后续结算中扣回或由你单位退回至医疗保障基金财政专户。",
        )
    if data.get("rectify_by"):
        _para(doc, f"请于{_date(data['rectify_by'], '整改期限')}前完成整改，并将整改情况书面报送本机构。")
    _para(
        doc,
        f"如对本处理有异议，可在收到本通知书之日起{_limit('statement_defence', limits)}内向本机构提出陈述、申辩；"
        "对处理决定不服的，可以依法申请行政复议或者提起行政诉讼。",
    )
    if data.get("contact"):
        _para(doc, f"联系人及电话：{data['contact']}")
    _signature(doc, str(data["authority"]), when)
    return _save(doc)


def _save(doc: DocxDocument) -> bytes:
    buf = BytesIO()
    doc.save(buf)
    return buf.getvalue()


_RENDERERS = {
    "case_filing": _case_filing,
    "prior_notice": _prior_notice,
    "penalty_decision": _penalty_decision,
    "agreement_notice": _agreement_notice,
}


def render_document(
    kind: str,
    data: Mapping[str, Any],
    *,
    limits: deadlines.TimeLimits | None = None,
    table: penalties.DiscretionTable | None = None,
) -> bytes:
    """The .docx bytes of one document; ``InputError`` names a missing field or an invalid value."""
    _validate(kind, data)
    return _RENDERERS[kind](data, limits or deadlines.default_limits(), table or penalties.default_table())


def pdf_available() -> bool:
    """Whether LibreOffice is installed for PDF conversion."""
    return _soffice() is not None


def _soffice() -> str | None:
    return shutil.which("libreoffice") or shutil.which("soffice")


def render_pdf(kind: str, data: Mapping[str, Any], *, timeout_s: float = 120, **kwargs: Any) -> bytes:
    """The document as PDF through ``libreoffice --headless --convert-to pdf`` (needs LibreOffice)."""
    return docx_to_pdf(render_document(kind, data, **kwargs), kind, timeout_s=timeout_s)


def docx_to_pdf(docx_bytes: bytes, stem: str = "document", *, timeout_s: float = 120) -> bytes:
    """Any .docx as PDF through LibreOffice (case and inspection documents alike)."""
    exe = _soffice()
    if exe is None:
        raise FundGuardError(
            "未安装 LibreOffice，无法生成 PDF，请下载 .docx 文书", "LibreOffice is not installed"
        )
    with tempfile.TemporaryDirectory(prefix="fg-doc-") as tmp:
        src = Path(tmp) / f"{stem}.docx"
        src.write_bytes(docx_bytes)
        # A private profile keeps parallel conversions from fighting over the user's profile lock.
        profile = Path(tmp, "profile").as_uri()
        cmd = [
            exe,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            tmp,
            str(src),
        ]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout_s)
        except (subprocess.SubprocessError, OSError) as exc:
            raise FundGuardError(f"PDF 转换失败：{exc}", f"PDF conversion failed: {exc}") from exc
        out = src.with_suffix(".pdf")
        if not out.exists():
            raise FundGuardError("PDF 转换未生成文件", "PDF conversion produced no file")
        return out.read_bytes()
