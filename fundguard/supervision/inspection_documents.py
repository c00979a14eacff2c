"""Inspection documents (.docx; PDF through ``documents.docx_to_pdf``): 检查通知书 (飞行检查 or 日常监督检查),
现场检查笔录, 检查结果告知书（反馈意见书）, 整改通知书 and 移交函 (a flight inspection's findings handed to the
local bureau as clues), in the same official layout as the case documents
(A4, GB/T 9704-style margins and fonts — the helpers of ``documents``).

Required fields per kind (``INSPECTION_DOCUMENT_FIELDS``): a missing or empty one raises ``InputError`` naming
it in Chinese. The periods (陈述申辩, 整改报告) are written from the time-limit configuration, as the
deadlines are computed. Pure Python: the service passes plain mappings and gets the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

from fundguard.core.errors import InputError
from fundguard.supervision import deadlines
from fundguard.supervision.documents import (
    _cell_text,
    _date,
    _heading,
    _missing,
    _money,
    _names,
    _new_document,
    _number_line,
    _numbered,
    _para,
    _save,
    _signature,
    _title,
    _yuan,
)

INSPECTION_DOCUMENTS: dict[str, str] = {
    "notice": "检查通知书",
    "record": "现场检查笔录",
    "feedback": "检查结果告知书",
    "rectification": "整改通知书",
    "handover": "移交函",
}
_COMMON = {"authority": "执法机关", "date": "日期", "doc_number": "文号", "party_name": "被检查单位"}
INSPECTION_DOCUMENT_FIELDS: dict[str, dict[str, str]] = {
    "notice": {**_COMMON, "inspection": "检查类别", "scope": "检查内容", "team": "检查人员"},
    "record": {**_COMMON, "team": "检查人员", "records": "检查记录"},
    "feedback": {**_COMMON, "inspection": "检查类别", "findings": "发现的问题"},
    "rectification": {**_COMMON, "problems": "整改问题"},
    "handover": {**_COMMON, "recipient": "受移交单位", "findings": "移交的问题"},
}


def _validate(kind: str, data: Mapping[str, Any]) -> None:
    if kind not in INSPECTION_DOCUMENTS:
        known = "、".join(f"{k}（{v}）" for k, v in INSPECTION_DOCUMENTS.items())
        raise InputError(
            f"未知的检查文书类型：{kind}（可选：{known}）", f"unknown inspection document: {kind}"
        )
    for key, zh in INSPECTION_DOCUMENT_FIELDS[kind].items():
        if key not in data or _missing(data[key]):
            raise InputError(f"{INSPECTION_DOCUMENTS[kind]}缺少必填项：{zh}（{key}）",
                             f"{kind}: required field '{key}' ({zh}) is missing or empty")  # fmt: skip


def _title_of(kind: str, data: Mapping[str, Any]) -> str:
    """飞行检查通知书 / 监督检查通知书 …: the inspection's kind heads the title."""
    prefix = {"flight": "飞行检查", "daily": "监督检查"}.get(str(data.get("inspection") or ""), "")
    if kind == "notice":
        return f"{prefix}通知书"
    if kind == "feedback":
        return "飞行检查反馈意见书" if prefix == "飞行检查" else "监督检查结果告知书"
    return INSPECTION_DOCUMENTS[kind]


def _team(data: Mapping[str, Any]) -> list[str]:
    return _names(data["team"]) if not isinstance(data["team"], list) else [str(t) for t in data["team"] if t]


def _notice(data: Mapping[str, Any], limits: deadlines.TimeLimits) -> bytes:
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), _title_of("notice", data))
    _number_line(doc, str(data["doc_number"]))
    _para(doc, f"{data['party_name']}：", indent=False)
    basis = str(data.get("basis") or "《医疗保障基金使用监督管理条例》《医疗保障基金飞行检查管理暂行办法》")
    period = f"，检查期间为{data['period']}" if data.get("period") else ""
    _para(
        doc,
        f"根据{basis}的规定，我局决定对你单位医疗保障基金使用情况进行检查{period}。检查内容：{data['scope']}。",
    )
    _para(doc, "检查人员将出示执法证件。请你单位指定专人配合，如实提供与检查事项有关的文件、资料、数据和说明，"
               "不得拒绝、阻碍检查或者谎报、瞒报。拒不配合的，依据《医疗保障基金使用监督管理条例》第三十条可采取临时措施。")  # fmt: skip
    _heading(doc, "检查人员")
    _numbered(doc, _team(data))
    if data.get("contact"):
        _para(doc, f"联系人：{data['contact']}")
    _signature(doc, str(data["authority"]), when)
    _para(
        doc,
        f"签收人：{data.get('served_to') or '　　　　　　'}　　　　签收日期：　　年　　月　　日",
        indent=False,
    )
    return _save(doc)


def _record(data: Mapping[str, Any], limits: deadlines.TimeLimits) -> bytes:
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), INSPECTION_DOCUMENTS["record"])
    _number_line(doc, str(data["doc_number"]))
    team = _team(data)
    rows = [("被检查单位", str(data["party_name"])), ("机构编码", str(data.get("party_code") or "")),
            ("检查日期", when), ("检查人员及执法证号", "；".join(team)),
            ("被检查单位陪同人员", str(data.get("served_to") or ""))]  # fmt: skip
    grid = doc.add_table(rows=len(rows), cols=2)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, (label, value) in enumerate(rows):
        cells = grid.rows[i].cells
        cells[0].width, cells[1].width = Cm(4.5), Cm(11)
        _cell_text(cells[0], [label], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _cell_text(cells[1], [value])
    _para(doc)
    _heading(doc, "检查记录")
    items = []
    for r in data["records"]:
        pages = f"（共 {r['pages']} 页，已逐页签字）" if r.get("signed") and r.get("pages") else ""
        items.append(f"{r.get('kind_zh') or ''}：{r.get('summary') or ''}{pages}")
    _numbered(doc, items)
    if data.get("refused"):
        _para(
            doc,
            "被检查单位拒不配合检查，已记录在案；依据《医疗保障基金使用监督管理条例》第三十条可采取临时措施。",
        )
    _para(doc, "以上笔录已交被检查单位核对，确认无误。")
    _para(
        doc,
        f"被检查单位签字：　　　　　　　　检查人员签字：{'、'.join(t.split('（')[0] for t in team)}",
        indent=False,
    )
    _para(doc, f"日期：{when}", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    return _save(doc)


def _problems(doc: Any, items: list[Mapping[str, Any]]) -> None:
    lines = []
    for it in items:
        amount = (
            f"（涉及金额 {_yuan(_money(it['amount'], '涉及金额'))}）"
            if it.get("amount") not in (None, "")
            else ""
        )
        lines.append(f"{it['description']}{amount}")
    _numbered(doc, lines)


def _feedback(data: Mapping[str, Any], limits: deadlines.TimeLimits) -> bytes:
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), _title_of("feedback", data))
    _number_line(doc, str(data["doc_number"]))
    _para(doc, f"{data['party_name']}：", indent=False)
    _para(
        doc,
        f"我局于{data.get('inspected_on') or when}对你单位医疗保障基金使用情况进行了检查。现将检查发现的问题告知如下：",
    )
    _problems(doc, list(data["findings"]))
    if data.get("opinion"):
        _heading(doc, "检查意见")
        _para(doc, str(data["opinion"]))
    period = limits.step("flight_feedback_statement").text_zh
    _para(doc, f"你单位如有异议，可自收到本告知书之日起{period}内提出书面陈述、申辩意见并提供相关证据；"
               "逾期未提出的，视为无异议。对有异议的问题，我局将集体研究决定。")  # fmt: skip
    _signature(doc, str(data["authority"]), when)
    return _save(doc)


def _rectification(data: Mapping[str, Any], limits: deadlines.TimeLimits) -> bytes:
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), INSPECTION_DOCUMENTS["rectification"])
    _number_line(doc, str(data["doc_number"]))
    _para(doc, f"{data['party_name']}：", indent=False)
    source = data.get("source") or "检查"
    _para(doc, f"经{source}，你单位存在以下问题，现责令整改：")
    _problems(doc, list(data["problems"]))
    due = (f"于{_date(data['deadline'], '整改期限')}前" if data.get("deadline")
           else f"自收到本通知之日起{limits.step('flight_rectification_report').text_zh}内")  # fmt: skip
    _para(doc, f"请你单位{due}完成整改，向我局报送书面整改报告（附整改佐证材料），并主动退回违规使用的医保基金。"
               "我局将组织“回头看”，对整改不到位的依法依规从严处理。涉及违法违规使用医保基金的，另行依法处理。")  # fmt: skip
    _signature(doc, str(data["authority"]), when)
    return _save(doc)


def _handover(data: Mapping[str, Any], limits: deadlines.TimeLimits) -> bytes:
    """飞行检查问题移交函: to the institution's local bureau, which takes the findings on as clues (their numbers
    are listed) on its own clue and case procedure, follows the 整改 up and reports back."""
    when = _date(data["date"], "日期")
    doc = _new_document()
    _title(doc, str(data["authority"]), "飞行检查问题移交函")
    _number_line(doc, str(data["doc_number"]))
    _para(doc, f"{data['recipient']}：", indent=False)
    on = f"于{_date(data['inspected_on'], '检查日期')}" if data.get("inspected_on") else ""
    number = f"（检查编号 {data['number']}）" if data.get("number") else ""
    code = f"（机构编码 {data['party_code']}）" if data.get("party_code") else ""
    _para(doc, f"根据《医疗保障基金使用监督管理条例》《医疗保障基金飞行检查管理暂行办法》的规定，我局{on}对"
               f"{data['party_name']}{code}开展了飞行检查{number}。检查结论已经确定，现将检查发现的问题移交你单位，"
               "作为线索依法依规调查处理：")  # fmt: skip
    lines = []
    for it in data["findings"]:
        amount = (
            f"，涉及金额 {_yuan(_money(it['amount'], '涉及金额'))}"
            if it.get("amount") not in (None, "")
            else ""
        )
        clue = f"（线索编号 {it['clue_id']}）" if it.get("clue_id") else ""
        lines.append(f"{it['description']}{amount}{clue}")
    _numbered(doc, lines)
    if data.get("conclusion"):
        _heading(doc, "检查结论")
        _para(doc, str(data["conclusion"]))
    period = limits.step("flight_rectification_report").text_zh
    _para(doc, f"请你单位：一是对上述问题依法依规核查处理，涉嫌违法违规使用医保基金的依法立案查处，涉嫌犯罪的移送公安机关；"
               f"二是督促被检查单位自收到整改通知书之日起{period}内完成整改并报送整改报告，组织“回头看”；"
               "三是将调查处理和整改情况书面报送我局。")  # fmt: skip
    attachments = [str(a) for a in data.get("attachments") or [] if a]
    if attachments:
        _para(doc, "附件：" + "；".join(f"{i}. {a}" for i, a in enumerate(attachments, 1)), indent=False)
    if data.get("contact"):
        _para(doc, f"联系人：{data['contact']}")
    _signature(doc, str(data["authority"]), when)
    return _save(doc)


_RENDERERS = {"notice": _notice, "record": _record, "feedback": _feedback, "rectification": _rectification,
              "handover": _handover}  # fmt: skip


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value: Any) -> Any:
    """Text as Word can hold it: control characters (typed or pasted into a title) are dropped, not a crash."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, Mapping):
        return {k: _xml_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_xml_safe(v) for v in value]
    return value


def render_inspection_document(kind: str, data: Mapping[str, Any], *,
                               limits: deadlines.TimeLimits | None = None) -> bytes:  # fmt: skip
    """The .docx bytes of one inspection document; ``InputError`` names a missing field or an invalid value."""
    data = _xml_safe(data)
    _validate(kind, data)
    return _RENDERERS[kind](data, limits or deadlines.default_limits())
