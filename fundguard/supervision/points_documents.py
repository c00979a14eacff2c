"""Documents of the payment-qualification points (医保发〔2024〕23号): 记分告知书, 陈述申辩复核结果告知书 and
暂停/终止医保支付资格决定书, as .docx in the same official layout as the case documents (``documents``).

Pure Python: the service passes plain mappings (required fields per kind in ``POINTS_DOCUMENT_FIELDS``; a
missing one raises ``InputError`` naming it in Chinese) and stores or serves the bytes; PDF goes through
``documents.docx_to_pdf``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docx.enum.text import WD_ALIGN_PARAGRAPH

from fundguard.core.errors import InputError
from fundguard.supervision import deadlines
from fundguard.supervision.documents import (
    _date,
    _lines,
    _missing,
    _new_document,
    _number_line,
    _numbered,
    _para,
    _save,
    _signature,
    _title,
)

POINTS_DOCUMENT_KINDS: dict[str, str] = {
    "points_notice": "医保支付资格记分告知书",
    "statement_outcome": "陈述申辩复核结果告知书",
    "qualification_decision": "医保支付资格处理决定书",  # 暂停 or 终止 in the title, from ``status``
}
_COMMON = {"authority": "医保部门", "date": "日期", "doc_number": "文号", "person_name": "姓名",
           "national_code": "国家医保编码", "institution": "执业机构"}  # fmt: skip
POINTS_DOCUMENT_FIELDS: dict[str, dict[str, str]] = {
    "points_notice": {**_COMMON, "facts": "记分事由", "decided_on": "记分日期", "points": "记分分值",
                      "band_zh": "记分档次", "responsibility": "责任程度", "statement_due": "陈述申辩截止日期"},
    "statement_outcome": {**_COMMON, "statement": "陈述申辩内容", "outcome": "复核结论", "reason": "复核理由",
                          "points": "记分分值"},
    "qualification_decision": {**_COMMON, "status": "处理结果", "since": "起始日期", "reason_zh": "处理事由",
                               "records": "记分记录"},
}  # fmt: skip
OUTCOMES = {
    "uphold": "申辩不成立，维持原记分",
    "reduce": "申辩部分成立，调减记分",
    "adopt": "申辩成立，撤销记分",
}


def title(kind: str, data: Mapping[str, Any]) -> str:
    if kind == "qualification_decision":
        return "终止医保支付资格决定书" if data.get("status") == "terminated" else "暂停医保支付资格决定书"
    return POINTS_DOCUMENT_KINDS[kind]


def _validate(kind: str, data: Mapping[str, Any]) -> None:
    if kind not in POINTS_DOCUMENT_KINDS:
        known = "、".join(f"{k}（{v}）" for k, v in POINTS_DOCUMENT_KINDS.items())
        raise InputError(f"未知的文书类型：{kind}（可选：{known}）", f"unknown document kind: {kind}")
    for key, zh in POINTS_DOCUMENT_FIELDS[kind].items():
        if key not in data or _missing(data[key]):
            raise InputError(f"{POINTS_DOCUMENT_KINDS[kind]}缺少必填项：{zh}（{key}）",
                             f"{kind}: required field '{key}' ({zh}) is missing or empty")  # fmt: skip
    if kind == "qualification_decision" and data["status"] not in ("suspended", "terminated"):
        raise InputError("处理结果应为暂停或终止", "status must be suspended or terminated")
    if kind == "statement_outcome" and data["outcome"] not in OUTCOMES:
        raise InputError("复核结论应为维持、调减或撤销", "outcome must be uphold, reduce or adopt")


def _addressee(doc: Any, data: Mapping[str, Any]) -> None:
    _para(doc, f"{data['person_name']}（国家医保编码：{data['national_code']}）：", indent=False)


def _remedy(doc: Any, limits: deadlines.TimeLimits) -> None:
    _para(doc, f"如不服本决定，可以在收到本决定书之日起{limits.step('admin_reconsideration').text_zh}内依法申请"
               f"行政复议，或者在{limits.step('admin_litigation').text_zh}内依法提起行政诉讼。")  # fmt: skip


def _points_notice(data: Mapping[str, Any], limits: deadlines.TimeLimits) -> bytes:
    doc = _new_document()
    _title(doc, str(data["authority"]), title("points_notice", data))
    _number_line(doc, str(data["doc_number"]))
    _addressee(doc, data)
    _para(doc, f"经查，你在{data['institution']}执业期间，存在以下情形：")
    _numbered(doc, _lines(data["facts"]))
    adj = (
        f"，情节{data['adjustment_zh']}"
        if data.get("adjustment_zh") and data["adjustment_zh"] != "无"
        else ""
    )
    _para(doc, f"依据《医疗保障基金使用监督管理条例》及医保支付资格管理的有关规定，该情形属于{data['band_zh']}记分"
               f"情形，你负{data['responsibility']}责任{adj}，拟自{_date(data['decided_on'], '记分日期')}起记"
               f"{data['points']}分。")  # fmt: skip
    if data.get("year_points") is not None:
        _para(doc, f"本次记分生效后，你本自然年度累计记分为{data['year_points']}分（年度满分12分，记满9分暂停、"
                   "记满12分终止医保支付资格）。")  # fmt: skip
    _para(doc, f"你有权进行陈述和申辩。如有异议，请于{_date(data['statement_due'], '陈述申辩截止日期')}前通过所在"
               "定点医药机构向本部门提交书面陈述申辩材料；逾期未提出的，视为放弃陈述申辩权利，记分自期满之日起生效。")  # fmt: skip
    if data.get("contact"):
        _para(doc, f"联系人及电话：{data['contact']}")
    _signature(doc, str(data["authority"]), _date(data["date"], "日期"))
    return _save(doc)


def _statement_outcome(data: Mapping[str, Any], limits: deadlines.TimeLimits) -> bytes:
    doc = _new_document()
    _title(doc, str(data["authority"]), title("statement_outcome", data))
    _number_line(doc, str(data["doc_number"]))
    _addressee(doc, data)
    _para(doc, "你对本部门作出的医保支付资格记分提出的陈述申辩收悉。你提出：")
    _numbered(doc, _lines(data["statement"]))
    _para(doc, f"经复核，{OUTCOMES[data['outcome']]}。理由：{data['reason']}")
    if data["outcome"] == "adopt":
        _para(doc, "该次记分予以撤销，不计入你的年度累计分值。")
    else:
        _para(doc, f"该次记分为{data['points']}分，自复核决定之日起生效。")
        _remedy(doc, limits)
    _signature(doc, str(data["authority"]), _date(data["date"], "日期"))
    return _save(doc)


def _qualification_decision(data: Mapping[str, Any], limits: deadlines.TimeLimits) -> bytes:
    doc = _new_document()
    terminated = data["status"] == "terminated"
    _title(doc, str(data["authority"]), title("qualification_decision", data))
    _number_line(doc, str(data["doc_number"]))
    _addressee(doc, data)
    _para(doc, "你在定点医药机构执业期间，经本部门依法记分，记分情况如下：")
    _numbered(doc, _lines(data["records"]))
    if data.get("defence_result"):
        _para(doc, f"陈述申辩情况：{data['defence_result']}")
    since = _date(data["since"], "起始日期")
    if terminated:
        what = f"自{since}起终止你的医保支付资格"
        if data.get("bar_until"):
            what += f"，{_date(data['bar_until'], '禁止再次登记至')}前不得再次登记备案"
    else:
        until = _date(data.get("until") or "", "截止日期")
        what = f"自{since}起至{until}止暂停你的医保支付资格"
    _para(doc, f"{data['reason_zh']}。依据医保支付资格管理的有关规定，本部门决定：{what}。")
    _para(doc, f"{'终止' if terminated else '暂停'}期间，你在{data['institution']}及全国其他定点医药机构提供的"
               "医药服务费用（急诊、抢救除外），医保基金不予结算。本决定全国联网、各定点医药机构一体执行。")  # fmt: skip
    _remedy(doc, limits)
    p = _para(doc, "抄送：所在定点医药机构、卫生健康行政部门", indent=False)
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    _signature(doc, str(data["authority"]), _date(data["date"], "日期"))
    return _save(doc)


_RENDERERS = {"points_notice": _points_notice, "statement_outcome": _statement_outcome,
              "qualification_decision": _qualification_decision}  # fmt: skip


def render_points_document(
    kind: str, data: Mapping[str, Any], *, limits: deadlines.TimeLimits | None = None
) -> bytes:
    """The .docx bytes of one points document; ``InputError`` names a missing field or a bad value."""
    _validate(kind, data)
    return _RENDERERS[kind](data, limits or deadlines.default_limits())
