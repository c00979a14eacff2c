"""Inspection documents from the records of a flight inspection or a daily check (plan item): 检查通知书,
现场检查笔录, 检查结果告知书/反馈意见书, 整改通知书 and a flight inspection's 移交函 (to the local bureau, never
the institution's to read), as .docx or PDF (LibreOffice). Each is available once the
inspection has reached its step; like case documents, they identify the institution's people and are
refused to masked roles (third-party inspectors). The institution reads those of its own flight inspection
once the notice is served (it is their recipient)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.errors import FundGuardError, InputError
from fundguard.service import workflow
from fundguard.service.cases.service import bureau
from fundguard.service.errors import InvalidTransition, PermissionDenied, ValidationFailed, not_found
from fundguard.service.inspections.process import BUREAU_ONLY_DOCS, FLIGHT, FLIGHT_DOC_FROM, FLIGHT_ORDER
from fundguard.service.models import (
    FlightEvent,
    FlightInspection,
    Institution,
    PlanItem,
    Problem,
    Region,
    SupervisionPlan,
    User,
)
from fundguard.service.scope import Actor, require_sees
from fundguard.service.timing import today
from fundguard.supervision.documents import docx_to_pdf
from fundguard.supervision.inspection_documents import INSPECTION_DOCUMENTS, render_inspection_document
from fundguard.supervision.roles import INSPECTION_VIEW


def _check_request(actor: Actor, kind: str, fmt: str) -> None:
    if actor.masked:
        raise PermissionDenied("检查文书载有被检查单位人员信息，第三方检查员不可查看",
                               "inspection documents identify people; third-party inspectors cannot open them")  # fmt: skip
    if kind not in INSPECTION_DOCUMENTS:
        raise not_found("文书类型", "document kind", kind)
    if fmt not in ("docx", "pdf"):
        raise ValidationFailed("文书格式应为 docx 或 pdf", "format must be docx or pdf")


def _render(kind: str, data: dict[str, Any], fmt: str) -> bytes:
    try:
        docx = render_inspection_document(kind, data)
        return docx_to_pdf(docx, kind) if fmt == "pdf" else docx
    except InputError as e:
        raise ValidationFailed(e.zh, e.en) from None
    except FundGuardError as e:  # LibreOffice missing or failing: say so, the .docx still works
        raise InvalidTransition(getattr(e, "zh", str(e)), getattr(e, "en", str(e))) from None


def _event_fields(session: Session, f: FlightInspection, action: str) -> dict[str, Any]:
    e = session.execute(select(FlightEvent).where(FlightEvent.inspection_id == f.id, FlightEvent.action == action)
                        .order_by(FlightEvent.id.desc())).scalars().first()  # fmt: skip
    return {**json.loads(e.fields_json or "{}"), "comment": e.comment, "at": e.at} if e else {}


def _team(f: FlightInspection) -> list[str]:
    members = json.loads(f.team_json or "{}").get("members") or []
    return [f"{m['name']}（执法证号 {m['cert_no']}）" if m.get("cert_no") else f"{m['name']}（{m.get('kind_zh', '')}）"
            for m in members]  # fmt: skip


def flight_document(
    session: Session, actor: Actor, flight_id: int, kind: str, fmt: str = "docx"
) -> tuple[str, bytes]:
    """One document of a flight inspection (飞行检查通知书, 现场检查笔录, 反馈意见书, 整改通知书, 移交函)."""
    f = workflow.load(session, actor, FLIGHT, flight_id)
    _check_request(actor, kind, fmt)
    if actor.role == "hospital" and kind in BUREAU_ONLY_DOCS:
        raise PermissionDenied("移交函是医保部门之间的公文，被检查单位不可查看",
                               "the handover letter goes between bureaus; the institution cannot open it")  # fmt: skip
    reached = FLIGHT_ORDER.index(f.status) if f.status in FLIGHT_ORDER else -1
    records = json.loads(f.records_json or "[]")
    findings = json.loads(f.findings_json or "[]")
    if reached < FLIGHT_ORDER.index(FLIGHT_DOC_FROM[kind]) or (kind == "record" and not records):
        raise InvalidTransition(f"飞行检查尚未到达可出具「{INSPECTION_DOCUMENTS[kind]}」的环节",
                                f"the inspection has not reached the step for {kind}")  # fmt: skip
    inst = session.get(Institution, f.fixmedins_code)
    served = _event_fields(session, f, "serve_notice")
    year = f.created_at.year
    data: dict[str, Any] = {
        "authority": bureau(session, f.created_by), "date": today(), "party_name": inst.name if inst else f.fixmedins_code,
        "party_code": f.fixmedins_code, "inspection": "flight", "team": _team(f), "served_to": served.get("served_to", ""),
    }  # fmt: skip
    if kind == "notice":
        period = f"{f.period_from}至{f.period_to}" if f.period_from and f.period_to else ""
        data.update(doc_number=served.get("notice_no") or f"飞检通〔{year}〕{f.id}号", scope=f.scope or f.title,
                    period=period)  # fmt: skip
    elif kind == "record":
        data.update(doc_number=f"{f.number}-笔录", records=records, refused=f.refused)
    elif kind == "feedback":
        sent = _event_fields(session, f, "send_feedback")
        data.update(doc_number=f"飞检反〔{year}〕{f.id}号", findings=findings, opinion=sent.get("feedback", ""),
                    inspected_on=served["at"].date().isoformat() if served.get("at") else "")  # fmt: skip
    elif kind == "handover":
        handed = _event_fields(session, f, "hand_over")
        decided = _event_fields(session, f, "decide")
        to = str(handed.get("to") or (inst.admdvs if inst else f.admdvs))
        region = session.get(Region, to)
        data.update(doc_number=f"飞检移〔{year}〕{f.id}号", recipient=f"{region.name if region else to}医疗保障局",
                    findings=findings, conclusion=decided.get("conclusion", ""), number=f.number,
                    inspected_on=served["at"].date().isoformat() if served.get("at") else "",
                    attachments=["飞行检查反馈意见书", "现场检查笔录", "证据材料清单"])  # fmt: skip
    else:
        data.update(doc_number=f"飞检改〔{year}〕{f.id}号", problems=findings, source="飞行检查",
                    deadline=f.due_date if f.status == "rectifying" else None)  # fmt: skip
    return f"{f.number}-{INSPECTION_DOCUMENTS[kind]}.{fmt}", _render(kind, data, fmt)


def plan_item_document(
    session: Session, actor: Actor, item_id: int, kind: str, fmt: str = "docx"
) -> tuple[str, bytes]:
    """One document of a daily check of the annual plan: 监督检查通知书 (any time), 检查结果告知书 (once checked,
    with the institution's plan problems), 整改通知书 (its open plan problems). No 笔录 for a plan item: its
    on-site record is the result text; a check with a full record is a flight inspection."""
    actor.require(INSPECTION_VIEW)
    _check_request(actor, kind, fmt)
    p = session.get(PlanItem, int(item_id))
    if p is None:
        raise not_found("计划检查对象", "plan item", item_id)
    require_sees(actor, p.admdvs, p.fixmedins_code, "该机构", "this institution")
    plan = session.get(SupervisionPlan, p.plan_id)
    inst = session.get(Institution, p.fixmedins_code)
    problems = [{"description": x.description, "amount": str(x.amount)} for x in session.execute(
        select(Problem).where(Problem.fixmedins_code == p.fixmedins_code, Problem.source == "plan",
                              Problem.status == "open").order_by(Problem.deadline, Problem.id)).scalars()]  # fmt: skip
    user = session.execute(select(User).where(User.username == actor.username)).scalar_one_or_none()
    officer = (
        f"{actor.display_name}（执法证号 {user.cert_no}）" if user and user.cert_no else actor.display_name
    )
    data: dict[str, Any] = {
        "authority": bureau(session, plan.created_by if plan else actor.username), "date": today(),
        "party_name": inst.name if inst else p.fixmedins_code, "party_code": p.fixmedins_code,
        "inspection": "daily", "team": [officer],
    }  # fmt: skip
    year = plan.year if plan else today().year
    mode = "现场检查" if p.mode == "onsite" else "书面审查"
    if kind == "notice":
        data.update(doc_number=f"医保监检通〔{year}〕{p.id}号", scope=f"{plan.title if plan else ''}（{mode}）",
                    basis="《医疗保障基金使用监督管理条例》")  # fmt: skip
    elif kind == "feedback":
        if p.done_on is None:
            raise InvalidTransition(
                "该机构尚未检查，不能出具检查结果告知书", "the institution has not been checked yet"
            )
        data.update(doc_number=f"医保监检告〔{year}〕{p.id}号", opinion=p.result, inspected_on=p.done_on.isoformat(),
                    findings=problems or [{"description": "未发现违法违规使用医保基金的问题", "amount": None}])  # fmt: skip
    elif kind == "rectification":
        if not problems:
            raise InvalidTransition("该机构没有待整改的问题", "the institution has no open problems")
        data.update(doc_number=f"医保监检改〔{year}〕{p.id}号", problems=problems, source=f"{year}年度{mode}")
    elif kind == "handover":
        raise InvalidTransition("移交函用于飞行检查发现问题的移交；日常检查的问题直接登记线索",
                                "a handover letter belongs to a flight inspection")  # fmt: skip
    else:
        raise InvalidTransition("日常监督检查的检查记录即检查结果，请出具检查结果告知书",
                                "a daily check has no separate record; issue the result notice")  # fmt: skip
    return f"{p.fixmedins_code}-{year}-{INSPECTION_DOCUMENTS[kind]}.{fmt}", _render(kind, data, fmt)
