"""The flight-inspection process (``FLIGHT_FLOW``, 令第6号) bound to the ``flight_inspections`` table: the
facts its guards need, its history and event row, its time limits, and the effects of each action — the
team checked against the registry (at least 2 certified officers, the leader among them, nobody who must
stand aside), the 疑点清单 drawn from the target's open clues, records and findings appended, the refusal to
cooperate noted with Art. 30's interim measure, and at handover every finding registered as a clue on the
existing clue procedure (and in the 清零 ledger); 回头看 closes only when each problem is cleared there and
reopens those it finds wanting."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service import clues, workflow
from fundguard.service.errors import ValidationFailed
from fundguard.service.inspections.registries import KINDS, _codes
from fundguard.service.models import Clue, FlightEvent, FlightInspection, Inspector, Institution, Problem
from fundguard.service.timing import due_date_for, step_due
from fundguard.supervision import draws
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import FLIGHT_VIEW

# 令第6号 leaves the interim measure's wording to the bureau; this is what the record says (configurable text)
INTERIM_MEASURE_ZH = (
    "依据《医疗保障基金使用监督管理条例》第三十条，对拒不配合的机构可采取暂停医保结算等临时措施"
)


def _load_json(text: str, default: Any) -> Any:
    return json.loads(text) if text else default


def _flight_problems(f: FlightInspection):  # type: ignore[no-untyped-def]
    return (Problem.source == "flight") & (Problem.source_ref == f.number)


def _context(session: Session, f: FlightInspection) -> dict[str, Any]:
    open_problems = 0
    if f.status == "revisit":  # 回头看 closes only when each problem is cleared
        open_problems = session.execute(
            select(func.count()).select_from(Problem).where(_flight_problems(f), Problem.status == "open")
        ).scalar_one()
    return {"disputed": f.status == "disputed", "open_problems": open_problems}


def _history(session: Session, f: FlightInspection) -> list[tuple[str, str]]:
    rows = session.execute(
        select(FlightEvent.action, FlightEvent.actor)
        .where(FlightEvent.inspection_id == f.id)
        .order_by(FlightEvent.id)
    )
    return [(a, u) for a, u in rows.all()]


def _log(session: Session, f: FlightInspection, m: workflow.Move) -> None:
    session.add(FlightEvent(inspection_id=f.id, actor=m.actor.username, action=m.action, from_status=m.before,
                            to_status=m.after, comment=m.comment,
                            fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False, default=str)))  # fmt: skip


def _enter(f: FlightInspection, m: workflow.Move) -> None:
    if m.after != m.before:
        f.due_date = due_date_for("flight", m.after, m.day)


def _form_team(session: Session, f: FlightInspection, m: workflow.Move) -> None:
    """组长负责制 and 回避: the leader is one of ≥ 2 certified, available officers; nobody on the team worked at
    the institution or has close relatives there; same-county officers stand aside too."""
    try:
        ids = [int(x) for x in m.values["members"]] + [int(x) for x in m.values.get("experts") or []]
    except ValueError:
        raise ValidationFailed(
            "人员应填写人员名录编号（数字）", "people are given by their registry numbers"
        ) from None
    people = {p.id: p for p in session.execute(select(Inspector).where(Inspector.id.in_(ids))).scalars()}
    missing = sorted(set(ids) - set(people))
    if missing:
        raise ValidationFailed(f"人员名录中没有编号 {missing}", f"no such registry people: {missing}")
    officers = [people[int(x)] for x in dict.fromkeys(m.values["members"])]
    if any(p.kind != "officer" or not p.cert_no for p in officers) or len(officers) < 2:
        raise ValidationFailed(
            "检查组至少须有 2 名持执法证的执法人员", "a team needs at least 2 certified officers"
        )
    if int(m.values["leader"]) not in {p.id for p in officers}:
        raise ValidationFailed("组长须为检查组的执法人员", "the leader must be one of the team's officers")
    target = {"code": f.fixmedins_code, "admdvs": f.admdvs}
    for p in people.values():
        why = draws.recusal({"former_employers": _codes(p.former_employers), "relatives_at": _codes(p.relatives_at),
                             "admdvs": p.admdvs}, target, draws.Rules())  # fmt: skip
        if why:
            raise ValidationFailed(f"{p.name} 须回避：{why}", f"{p.name} must stand aside (recusal)")
    f.team_json = json.dumps({
        "leader": int(m.values["leader"]),
        "members": [{"id": p.id, "name": p.name, "kind": p.kind, "kind_zh": KINDS[p.kind], "cert_no": p.cert_no,
                     "pledges": True} for p in people.values()],
    }, ensure_ascii=False)  # fmt: skip


def _prepare(session: Session, f: FlightInspection, m: workflow.Move) -> None:
    """疑点清单: the target's clues that are not closed (rule hits, models, reports), biggest first."""
    rows = session.execute(
        select(Clue)
        .where(Clue.fixmedins_code == f.fixmedins_code, Clue.status.not_in(("dismissed",)))
        .order_by(Clue.amount.desc(), Clue.id)
        .limit(200)
    ).scalars()
    leads = [{"clue_id": c.id, "rule_name": c.rule_name, "period": c.period, "hits": c.hits,
              "amount": str(c.amount), "status_zh": wf.FLAG_STATES.get(c.status, c.status)} for c in rows]  # fmt: skip
    f.leads_json = json.dumps(leads, ensure_ascii=False)
    m.extra["leads"] = len(leads)


def _append(column: str, item_of: Any) -> workflow.Effect:
    def effect(session: Session, f: FlightInspection, m: workflow.Move) -> None:
        items = _load_json(getattr(f, column), [])
        items.append({**item_of(m), "by": m.actor.username, "on": m.day.isoformat()})
        setattr(f, column, json.dumps(items, ensure_ascii=False))

    return effect


def _refusal(session: Session, f: FlightInspection, m: workflow.Move) -> None:
    f.refused = True
    m.extra["interim_measure_zh"] = INTERIM_MEASURE_ZH


def _hand_over(session: Session, f: FlightInspection, m: workflow.Move) -> None:
    """Each finding becomes a clue (source 检查发现) at the local bureau, on the existing clue procedure."""
    findings = _load_json(f.findings_json, [])
    inst = session.get(Institution, f.fixmedins_code)
    for item in findings:
        if item.get("clue_id"):
            continue
        c = clues.register_clue(session, m.actor, fixmedins_code=f.fixmedins_code, source="inspection",
                                description=f"飞行检查 {f.number}：{item['description']}", amount=item["amount"])  # fmt: skip
        item["clue_id"] = c["id"]
        session.add(
            Problem(
                source="flight",
                source_ref=f.number,
                fixmedins_code=f.fixmedins_code,
                admdvs=f.admdvs,
                category="飞行检查",
                description=item["description"],
                amount=item["amount"],
                owner=inst.name if inst else f.fixmedins_code,
                status="open",
                evidence="",
                deadline=step_due(m.day, "flight_rectification_report"),
            )
        )  # 问题清零台账
    f.findings_json = json.dumps(findings, ensure_ascii=False)
    m.extra["clues"] = [i["clue_id"] for i in findings]
    m.extra["to"] = inst.admdvs if inst else f.admdvs


def _reopen(session: Session, f: FlightInspection, m: workflow.Move) -> None:
    """回头看 finds the 整改 wanting: the problems named (closed ones of this inspection) open again, and every
    open problem of the inspection gets a new 整改 deadline."""
    try:
        named = {int(x) for x in m.values.get("problems") or []}
    except ValueError:
        raise ValidationFailed(
            "问题应填写台账序号（数字）", "problems are given by their ledger numbers"
        ) from None
    rows = {p.id: p for p in session.execute(select(Problem).where(_flight_problems(f))).scalars()}
    stray = sorted(named - set(rows))
    if stray:
        raise ValidationFailed(
            f"台账序号 {stray} 不是本次飞行检查的问题", f"problems {stray} are not this inspection's"
        )
    due = step_due(m.day, "flight_rectification_report")
    for p in rows.values():
        if p.id in named and p.status == "closed":
            p.status, p.closed_on = "open", None
            p.evidence = f"（回头看 {m.day.isoformat()} 重新整改：{m.comment}）{p.evidence}"
        if p.status == "open":
            p.deadline = due
    m.extra["reopened"] = sorted(named)
    m.extra["open_problems"] = sorted(p.id for p in rows.values() if p.status == "open")


# the documents of a flight inspection and the step from which each can be issued (service ``documents``)
FLIGHT_ORDER = ("planned", "approved", "team_formed", "prepared", "on_site", "feedback", "disputed", "decided",
                "rectifying", "revisit", "closed")  # fmt: skip
FLIGHT_DOC_FROM = {
    "notice": "prepared",
    "record": "on_site",
    "feedback": "feedback",
    "rectification": "rectifying",
    "handover": "rectifying",
}
FLIGHT_DOC_ZH = {
    "notice": "飞行检查通知书",
    "record": "现场检查笔录",
    "feedback": "反馈意见书",
    "rectification": "整改通知书",
    "handover": "移交函",
}
# between bureaus: the institution is not its recipient (it gets the 整改通知书)
BUREAU_ONLY_DOCS = ("handover",)


def flight_documents(f: FlightInspection, masked: bool, hospital: bool = False) -> list[dict[str, str]]:
    """The documents ``f`` can issue now (none for masked roles, none between bureaus for the institution),
    with their download addresses."""
    if masked or f.status not in FLIGHT_ORDER:
        return []
    reached = FLIGHT_ORDER.index(f.status)
    has_records = bool(_load_json(f.records_json, []))
    base = f"/api/inspections/flights/{f.id}/documents"
    return [{"kind": k, "name_zh": FLIGHT_DOC_ZH[k], "url": f"{base}/{k}", "pdf_url": f"{base}/{k}?format=pdf"}
            for k, step in FLIGHT_DOC_FROM.items()
            if reached >= FLIGHT_ORDER.index(step) and (k != "record" or has_records)
            and not (hospital and k in BUREAU_ONLY_DOCS)]  # fmt: skip


HIDDEN_FROM_HOSPITAL = ("planned", "approved", "team_formed", "prepared", "cancelled")


def _hidden(actor: Any, f: FlightInspection) -> bool:
    """An unannounced inspection does not exist for the institution until the notice is served."""
    return actor.role == "hospital" and f.status in HIDDEN_FROM_HOSPITAL


FLIGHT = workflow.Process(
    machine=wf.FLIGHT_FLOW,
    model=FlightInspection,
    view=FLIGHT_VIEW,
    what=("飞行检查", "flight inspection"),
    record_action="flight.action",
    effects={
        "form_team": _form_team,
        "prepare": _prepare,
        "add_record": _append(
            "records_json",
            lambda m: {
                "kind": m.values["kind"],
                "kind_zh": wf.RECORD_KINDS[m.values["kind"]],
                "summary": m.values["summary"],
                "pages": m.values.get("pages") or 0,
                "signed": bool(m.values.get("signed")),
            },
        ),
        "add_finding": _append(
            "findings_json",
            lambda m: {"description": m.values["description"], "amount": str(m.values["amount"])},
        ),
        "record_refusal": _refusal,
        "hand_over": _hand_over,
        "reopen": _reopen,
    },
    context=_context,
    history=_history,
    log=_log,
    enter=_enter,
    hidden=_hidden,
)
