"""Case service functions: 立案 from a clue (institution or individual), list and detail through the scope
choke point, acting through the workflow engine, and the case documents (.docx / PDF)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.service import clues, record, workflow
from fundguard.service.cases.process import (
    CASE,
    _officer_users,
    execution,
    officer_choices,
)
from fundguard.service.errors import (
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
    not_found,
)
from fundguard.service.models import (
    Appeal,
    AppealFile,
    Case,
    CaseExtension,
    CaseStep,
    Clue,
    ClueHit,
    FundRefund,
    Institution,
    Measure,
    Penalty,
    Referral,
    Region,
    TreasuryFine,
    User,
    money,
)
from fundguard.service.scope import Actor, mask_id, mask_name, mask_text, paged
from fundguard.service.timing import case_deadline, today
from fundguard.supervision import workflow as wf
from fundguard.supervision.penalties import ARTICLES_ZH, BEHAVIOURS
from fundguard.supervision.roles import CASE_VIEW

DOCUMENT_KINDS = {
    "case_filing": "立案审批表",
    "prior_notice": "行政处罚事先告知书",
    "penalty_decision": "行政处罚决定书",
    "agreement_notice": "协议处理通知书",
}


# which documents exist once the case has reached a state
_DOC_FROM = {"case_filing": "investigating", "prior_notice": "statement", "penalty_decision": "serving",
             "agreement_notice": "serving"}  # fmt: skip


_ORDER = list(wf.CASE_STATES)


def _load(session: Session, actor: Actor, case_id: int, *, for_update: bool = False) -> Case:
    c = workflow.load(session, actor, CASE, case_id, for_update=for_update)
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    return c


def open_case(session: Session, actor: Actor, clue_id: int, clue_version: int, psn_no: str = "") -> dict:
    """立案 on a clue in 调查核实 or 待处理 (the clue moves to 已立案). With ``psn_no`` the party is that insured
    person (条例 Art. 41), one of the clue's patients; otherwise the institution."""
    clue = workflow.load(session, actor, clues.FLAG, clue_id, for_update=True)
    workflow.check_version(clues.FLAG, clue, clue_version)
    inst = session.get(Institution, clue.fixmedins_code)
    party = (inst.name if inst else clue.fixmedins_name, "organisation", "")
    psn_no = (psn_no or "").strip()
    if psn_no:  # checked before anything moves
        name = (
            session.execute(
                select(ClueHit.psn_name).where(ClueHit.clue_id == clue.id, ClueHit.psn_no == psn_no)
            )
            .scalars()
            .first()
        )
        if name is None:
            raise ValidationFailed(
                f"人员 {psn_no} 不在本线索的疑点明细中", f"person {psn_no} is not among this clue's hits"
            )
        party = (name or psn_no, "individual", psn_no)
    workflow.move(session, actor, clues.FLAG, clue, "open_case", {"psn_no": psn_no})
    day = today()
    c = Case(
        number=f"待编号-{uuid.uuid4().hex}", clue_id=clue.id,
        title=f"{party[0]}涉嫌{clue.rule_name}案", status="filed",
        fixmedins_code=clue.fixmedins_code, party_name=party[0], party_type=party[1], party_id=party[2],
        admdvs=clue.admdvs, opened_at=day, deadline=case_deadline(day),
        amount_at_issue=money(clue.confirmed_amount if clue.confirmed_amount is not None else clue.amount),
        step_started=day, created_by=actor.username,
    )  # fmt: skip
    session.add(c)
    workflow.flush(session, CASE)
    c.number = f"医保立〔{day.year}〕{c.id:04d}号"  # from the row id: two officers filing at once never clash
    session.add(CaseStep(case_id=c.id, step="立案", action="open", to_status="filed", actor=actor.username,
                         comment=f"由线索 {clue.id} 立案", due=c.deadline))  # fmt: skip
    workflow.flush(session, CASE)
    record.append(session, actor.username, "case.open", "case", c.id,
                  {"number": c.number, "clue_id": clue.id, "deadline": c.deadline.isoformat(),
                   "party_type": c.party_type, "amount_at_issue": str(c.amount_at_issue)})  # fmt: skip
    return get_case(session, actor, c.id)


def list_cases(session: Session, actor: Actor, *, status: str | None = None, fixmedins_code: str | None = None,
               overdue: bool | None = None, page: int = 1, size: int = 20) -> dict:  # fmt: skip
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    conds = []
    if status:
        conds.append(Case.status == status)
    if fixmedins_code:
        conds.append(Case.fixmedins_code == fixmedins_code)
    if overdue:
        conds.append(and_(Case.status != "closed", Case.deadline < today()))
    summary = (lambda c: _summary(c, masked=True)) if actor.masked else _summary
    return paged(session, actor, Case, CASE_VIEW, conds, Case.id.desc(), summary, page, size)


def _summary(c: Case, masked: bool = False) -> dict:
    day = today()
    open_ = c.status != "closed"
    person = masked and c.party_type == "individual"  # an insured person is a patient
    return {
        "id": c.id, "number": c.number, "status": c.status,
        "status_zh": wf.CASE_STATES.get(c.status, c.status), "fixmedins_code": c.fixmedins_code,
        "title": mask_text(c.title, [c.party_name]) if person else c.title,
        "party": {"fixmedins_code": c.fixmedins_code, "name": mask_name(c.party_name) if person else c.party_name,
                  "type": c.party_type, "type_zh": PARTY_TYPES.get(c.party_type, c.party_type),
                  "id": mask_id(c.party_id) if person else c.party_id},
        "admdvs": c.admdvs, "opened_at": c.opened_at.isoformat(), "deadline": c.deadline.isoformat(),
        "days_left": (c.deadline - day).days if open_ else None, "overdue": open_ and c.deadline < day,
        "amount_at_issue": str(c.amount_at_issue), "version": c.version,
    }  # fmt: skip


PARTY_TYPES = {"organisation": "定点医药机构", "individual": "参保个人"}


def get_case(session: Session, actor: Actor, case_id: int) -> dict:
    c = _load(session, actor, case_id)
    out = _summary(c, masked=actor.masked)
    steps = session.execute(select(CaseStep).where(CaseStep.case_id == c.id).order_by(CaseStep.id)).scalars()
    exts = session.execute(
        select(CaseExtension).where(CaseExtension.case_id == c.id).order_by(CaseExtension.id)
    )
    penalty = session.execute(select(Penalty).where(Penalty.case_id == c.id)).scalars().first()
    reached = _ORDER.index(c.status) if c.status in _ORDER else 0
    users = {u.username: u for u in session.execute(select(User)).scalars()}
    out.update(
        clue_id=c.clue_id,
        loss_amount=None if c.loss_amount is None else str(c.loss_amount),
        behaviour_code=c.behaviour_code,
        behaviour_zh=BEHAVIOURS.get(c.behaviour_code, c.behaviour_code),
        findings=c.findings,
        intent=c.intent,
        intent_zh=wf.INTENT_ZH.get(c.intent, c.intent),
        intent_evidence=c.intent_evidence,
        officers=[_person(users, n) for n in json.loads(c.officers_json or "[]")],
        proposal=json.loads(c.proposal_json or "{}"),
        decision=json.loads(c.decision_json or "{}"),
        needs_legal_review=c.needs_legal_review,
        hearing_eligible=c.hearing_eligible,
        major=c.major,
        collective_discussed=c.collective_discussed,
        notice_date=c.notice_date.isoformat() if c.notice_date else None,
        hearing_date=c.hearing_date.isoformat() if c.hearing_date else None,
        served_on=c.served_on.isoformat() if c.served_on else None,
        closed_at=c.closed_at.isoformat() if c.closed_at else None,
        closing_grounds=c.closing_grounds,
        closing_grounds_zh=wf.CLOSING_GROUNDS.get(c.closing_grounds, ""),
        execution=execution(session, c),
        extensions=[
            {
                "days": e.days,
                "reason": e.reason,
                "approved_by": e.approved_by,
                "collective": e.collective,
                "at": e.at.isoformat(),
                "new_deadline": e.new_deadline.isoformat(),
            }
            for e in exts.scalars()
        ],
        timeline=[
            {
                "step": s.step,
                "step_zh": s.step,
                "action": s.action,
                "action_zh": "立案"
                if s.action == "open"
                else wf.CASE_FLOW.label(s.action)
                if s.action
                else s.step,
                "from_status": s.from_status,
                "to_status": s.to_status,
                "to_status_zh": wf.CASE_STATES.get(s.to_status, s.to_status),
                "at": s.at.isoformat(),
                "actor": s.actor,
                "actor_name": _person(users, s.actor)["name"],
                "comment": s.comment,
                "due": s.due.isoformat() if s.due else None,
                "fields": json.loads(s.fields_json or "{}"),
            }
            for s in steps
        ],
        documents=[
            {
                "kind": k,
                "name_zh": zh,
                "url": f"/api/cases/{c.id}/documents/{k}",
                "pdf_url": f"/api/cases/{c.id}/documents/{k}?format=pdf",
            }
            for k, zh in DOCUMENT_KINDS.items()
            if reached >= _ORDER.index(_DOC_FROM[k]) and _doc_applies(session, c, k)
        ],
        measures=clues.measure_items(session, Measure.case_id == c.id),
        penalty=None
        if penalty is None
        else {
            "article": penalty.article,
            "article_zh": ARTICLES_ZH.get(penalty.article, penalty.article),
            "circumstance": penalty.circumstance,
            "loss_amount": str(penalty.loss_amount),
            "refund_amount": str(penalty.refund_amount),
            "fine_amount": str(penalty.fine_amount),
            "suspension_months": penalty.suspension_months,
            "basis_zh": penalty.basis_zh,
            "intent": penalty.intent,
            "intent_zh": wf.INTENT_ZH.get(penalty.intent, penalty.intent),
            "decided_at": penalty.decided_at.isoformat(),
        },
        refunds=[
            {"amount": str(r.amount), "paid_on": r.paid_on.isoformat(), "voucher_no": r.voucher_no}
            for r in session.execute(select(FundRefund).where(FundRefund.case_id == c.id)).scalars()
        ],
        fines=[
            {"amount": str(f.amount), "paid_on": f.paid_on.isoformat(), "voucher_no": f.voucher_no}
            for f in session.execute(select(TreasuryFine).where(TreasuryFine.case_id == c.id)).scalars()
        ],
        referrals=[
            {
                "id": r.id,
                "target": r.target,
                "status": r.status,
                "status_zh": wf.REFERRAL_STATES.get(r.status, r.status),
                "receipt_no": r.receipt_no,
            }
            for r in session.execute(select(Referral).where(Referral.case_id == c.id)).scalars()
        ],
        actions=_with_sources(session, actor, c, CASE.actions(session, c, actor)),
    )
    if actor.masked:  # third-party inspectors: patients masked in every text; documents are not theirs
        person = (c.party_name,) if c.party_type == "individual" else ()
        mask = clues.text_masker(session, actor, c.clue_id, person)
        out = mask(out)
        out["documents"] = []
    return out


def _person(users: dict[str, User], username: str) -> dict[str, str]:
    u = users.get(username)
    return {
        "username": username,
        "name": u.display_name if u else username,
        "cert_no": u.cert_no if u else "",
    }


def _with_sources(session: Session, actor: Actor, c: Case, actions: list[dict]) -> list[dict]:
    for a in actions:
        for f in a["fields"]:
            if f.get("source") == "officers":
                f["choices"] = officer_choices(session, actor, c)
    return actions


def _doc_applies(session: Session, c: Case, kind: str) -> bool:
    proposal = json.loads(c.proposal_json or "{}")
    if kind == "agreement_notice":
        return bool(proposal.get("measures"))
    if kind in ("prior_notice", "penalty_decision"):
        return not proposal.get("no_penalty")
    return True


def act_on_case(
    session: Session, actor: Actor, case_id: int, action: str, version: int, **fields: Any
) -> dict:
    """One step of the procedure; returns the updated case (as ``get_case``)."""
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能查看案件", "hospital users cannot see cases")
    workflow.act(session, actor, CASE, case_id, action, version, fields)
    return get_case(session, actor, case_id)


def case_document(
    session: Session, actor: Actor, case_id: int, kind: str, fmt: str = "docx"
) -> tuple[str, bytes]:
    """The .docx (or, with ``fmt="pdf"``, the PDF through LibreOffice) of one key step (立案审批表, 事先告知书,
    行政处罚决定书, 协议处理通知书)."""
    from fundguard.supervision.documents import render_document, render_pdf

    c = _load(session, actor, case_id)
    if actor.masked:
        raise PermissionDenied("文书载有当事人与患者身份信息，第三方检查员不可查看",
                               "documents identify parties and patients; third-party inspectors cannot open them")  # fmt: skip
    if kind not in DOCUMENT_KINDS:
        raise not_found("文书类型", "document kind", kind)
    if fmt not in ("docx", "pdf"):
        raise ValidationFailed("文书格式应为 docx 或 pdf", "format must be docx or pdf")
    reached = _ORDER.index(c.status) if c.status in _ORDER else 0
    if reached < _ORDER.index(_DOC_FROM[kind]) or not _doc_applies(session, c, kind):
        raise InvalidTransition(f"案件尚未到达可出具「{DOCUMENT_KINDS[kind]}」的环节",
                                f"the case has not reached the step for {kind}")  # fmt: skip
    render = render_pdf if fmt == "pdf" else render_document
    try:
        data = render(kind, document_data(session, c, kind))
    except InputError as e:
        raise ValidationFailed(e.zh, e.en) from None
    return f"{c.number}-{DOCUMENT_KINDS[kind]}.{fmt}", data


def bureau(session: Session, username: str) -> str:
    """The issuing authority: the handling user's own bureau (region name + department)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    region = session.get(Region, user.admdvs) if user else None
    department = user.department if user else "医保局"
    return f"{region.name if region else ''}{'医疗保障局' if department == '医保局' else department}"


def document_data(session: Session, c: Case, kind: str) -> dict[str, Any]:
    """The fields ``supervision.documents.render_document`` needs for ``kind``, from the case and its clue.
    Evidence lists only what was recorded: the flagged lines, the officers' evidence list, the appeal files."""
    from fundguard.supervision.penalties import MEASURES

    proposal = json.loads(c.proposal_json or "{}")
    decision = json.loads(c.decision_json or "{}")
    clue = session.get(Clue, c.clue_id) if c.clue_id else None
    officers = [f"{u.display_name}（执法证号 {u.cert_no}）" for u in _officer_users(session, c)]
    clue_facts = (
        f"经智能审核，{c.party_name}在{clue.period}期间有 {clue.hits} 条费用记录命中规则“{clue.rule_name}”"
        f"（{clue.rule_id}），涉及医保基金 {clue.amount} 元。"
        if clue
        else c.title
    )
    evidence = [f"智能审核疑点明细 {clue.hits} 条（线索编号 {clue.id}）"] if clue and clue.hits else []
    for s in session.execute(
        select(CaseStep).where(CaseStep.case_id == c.id, CaseStep.action == "finish_investigation").order_by(CaseStep.id.desc())
    ).scalars():  # fmt: skip
        evidence += json.loads(s.fields_json or "{}").get("evidence") or []
        break  # the latest investigation report's list
    if clue:
        evidence += [
            f"当事人申诉材料：{name}"
            for (name,) in session.execute(
                select(AppealFile.filename).join(Appeal, Appeal.id == AppealFile.appeal_id).where(Appeal.clue_id == clue.id)
            ).all()
        ]  # fmt: skip
    fine = Decimal(proposal.get("fine_amount") or 0)
    refund = Decimal(proposal.get("refund_amount") or 0)
    penalty_lines = []
    if refund > 0:
        penalty_lines.append(f"责令退回医保基金 {refund} 元")
    if fine > 0:
        penalty_lines.append(f"处罚款 {fine} 元")
    if proposal.get("suspension_months"):
        what = (
            "暂停医疗费用联网结算"
            if c.party_type == "individual"
            else "暂停相关责任部门涉及医保基金使用的医药服务"
        )
        penalty_lines.append(f"{what} {proposal['suspension_months']} 个月")
    defence = [s.comment for s in session.execute(
        select(CaseStep).where(CaseStep.case_id == c.id, CaseStep.step.in_(("陈述申辩", "听证"))).order_by(CaseStep.id)
    ).scalars() if s.comment]  # fmt: skip
    behaviour = BEHAVIOURS.get(c.behaviour_code)
    common = {
        "authority": bureau(session, c.created_by),
        "date": today(),
        "party_name": c.party_name,
        "party_type": c.party_type,
        "facts": c.findings or clue_facts,
        "evidence": evidence or ["（尚未登记证据）"],
        "basis": proposal.get("basis_zh") or "《医疗保障基金使用监督管理条例》",
        "fine": fine,
        "violated": f"《医疗保障基金使用监督管理条例》关于“{behaviour}”的规定" if behaviour else "",
    }
    party_code = c.party_id if c.party_type == "individual" else c.fixmedins_code
    if kind == "case_filing":
        return {
            **common, "case_number": c.number, "case_title": c.title, "source": "智能监管系统疑点线索",
            "facts": clue_facts, "amount": c.amount_at_issue, "handlers": officers, "party_code": party_code,
            "handler_opinion": "经初步核查，当事人涉嫌违法违规使用医保基金，符合立案条件，建议立案调查。",
            "legal_basis": (clue and rule_basis(clue.rule_id)) or "",
        }  # fmt: skip
    number = c.number.replace("立", "罚")
    if kind == "prior_notice":
        return {**common, "doc_number": number.replace("罚", "罚告"), "proposed_penalty": penalty_lines or ["不予罚款"],
                "measures": proposal.get("measures") or [], "hearing": c.hearing_eligible, "officers": officers}  # fmt: skip
    if kind == "penalty_decision":
        return {**common, "doc_number": number, "decision": penalty_lines or ["不予行政处罚"], "refund": refund,
                "party_code": party_code, "case_opened": c.opened_at, "notice_date": c.notice_date,
                "defence_result": "；".join(defence) or "当事人在规定期限内未提出陈述、申辩。",
                "decided_on": decision.get("decided_on", ""), "officers": officers}  # fmt: skip
    return {**common, "authority": common["authority"].replace("医疗保障局", "医疗保障事业管理中心"),
            "doc_number": number.replace("罚", "协处"),
            "measures": [MEASURES.get(m, m) for m in proposal.get("measures") or []],
            "amount": refund if refund > 0 else None}  # fmt: skip


def rule_basis(rule_id: str) -> str:
    from fundguard.service.clues import rule_set

    rule = rule_set().rules.get(rule_id)
    return rule.legal_basis if rule else ""
