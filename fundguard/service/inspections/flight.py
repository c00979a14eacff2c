"""Flight inspections (飞行检查): create a plan (from a draw or a trigger), list and read them in scope, and
act through the workflow engine. The institution sees its inspection once the notice is served, without the
疑点清单 (the pre-analysis stays with the team)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service import record, workflow
from fundguard.service.errors import PermissionDenied, ValidationFailed, not_found
from fundguard.service.inspections.process import FLIGHT, HIDDEN_FROM_HOSPITAL, flight_documents
from fundguard.service.models import Draw, FlightEvent, FlightInspection, Institution
from fundguard.service.scope import Actor, paged, require_sees, scope_filter
from fundguard.service.timing import today
from fundguard.supervision import workflow as wf
from fundguard.supervision.ledgers import ledger_bytes
from fundguard.supervision.roles import FLIGHT_VIEW, INSPECTION_MANAGE


def _item(f: FlightInspection, *, team_side: bool = True) -> dict:
    final = f.status in wf.FLIGHT_FLOW.final
    return {
        "id": f.id, "number": f.number, "title": f.title, "trigger": f.trigger,
        "trigger_zh": wf.FLIGHT_TRIGGERS.get(f.trigger, f.trigger), "draw_id": f.draw_id,
        "fixmedins_code": f.fixmedins_code, "admdvs": f.admdvs, "scope": f.scope,
        "period_from": f.period_from.isoformat() if f.period_from else None,
        "period_to": f.period_to.isoformat() if f.period_to else None,
        "status": f.status, "status_zh": wf.FLIGHT_STATES.get(f.status, f.status),
        "due_date": None if final or not f.due_date else f.due_date.isoformat(),
        "overdue": bool(not final and f.due_date and f.due_date < today()),
        "team": json.loads(f.team_json or "{}"), "leads": json.loads(f.leads_json or "[]") if team_side else [],
        "records": json.loads(f.records_json or "[]"), "findings": json.loads(f.findings_json or "[]"),
        "refused": f.refused, "created_by": f.created_by, "created_at": f.created_at.isoformat(),
        "version": f.version, "actions": [], "events": [], "documents": [],
    }  # fmt: skip


def create_flight(session: Session, actor: Actor, *, title: str, trigger: str, fixmedins_code: str,
                  scope: str = "", period_from: dt.date | None = None, period_to: dt.date | None = None,
                  draw_id: int | None = None) -> dict:  # fmt: skip
    """A 检查方案 awaiting the head's approval. A plan check cites its draw (the target must be in it)."""
    actor.require(INSPECTION_MANAGE)
    if trigger not in wf.FLIGHT_TRIGGERS:
        raise ValidationFailed(f"检查启动原因应为 {'、'.join(wf.FLIGHT_TRIGGERS.values())}",
                               f"trigger must be one of {list(wf.FLIGHT_TRIGGERS)}")  # fmt: skip
    if not (title or "").strip():
        raise ValidationFailed("检查方案名称不能为空", "a plan needs a title")
    inst = session.get(Institution, fixmedins_code)
    if inst is None:
        raise not_found("定点机构", "institution", fixmedins_code)
    require_sees(actor, inst.admdvs, inst.fixmedins_code, "该机构", "this institution")
    d = session.get(Draw, int(draw_id)) if draw_id else None
    if draw_id and d is None:
        raise not_found("抽取记录", "draw", draw_id)
    if trigger == "annual_plan":
        drawn = [t["code"] for t in json.loads(d.record_json)["result"]["targets"]] if d else []
        if d is None or d.status == "superseded" or fixmedins_code not in drawn:
            raise ValidationFailed("年度计划检查须引用有效的双随机抽取，且该机构在抽取结果中",
                                   "a plan check must cite a valid draw that drew this institution")  # fmt: skip
    if period_from and period_to and period_from > period_to:
        raise ValidationFailed("检查期间起止日期颠倒", "the period ends before it starts")
    seq = session.execute(select(func.count()).select_from(FlightInspection)).scalar_one()
    day = today()
    f = FlightInspection(number=f"FJ{actor.admdvs}-{day.year}-{seq + 1:04d}", title=title.strip(), trigger=trigger,
                         draw_id=draw_id, fixmedins_code=inst.fixmedins_code, admdvs=inst.admdvs, scope=scope,
                         period_from=period_from, period_to=period_to, status="planned", step_started=day,
                         created_by=actor.username, team_json="{}", leads_json="[]", records_json="[]",
                         findings_json="[]", refused=False)  # fmt: skip
    session.add(f)
    session.flush()
    record.append(session, actor.username, "flight.create", "flight inspection", f.id,
                  {"number": f.number, "trigger": trigger, "fixmedins_code": f.fixmedins_code, "draw_id": draw_id})  # fmt: skip
    return get_flight(session, actor, f.id)


def _visible(actor: Actor):  # type: ignore[no-untyped-def]
    cond = scope_filter(actor, FlightInspection.admdvs, FlightInspection.fixmedins_code)
    if actor.role == "hospital":
        cond = cond & FlightInspection.status.not_in(HIDDEN_FROM_HOSPITAL)
    return cond


def list_flights(session: Session, actor: Actor, *, page: int = 1, size: int = 20) -> dict:
    return paged(session, actor, FlightInspection, FLIGHT_VIEW, [], FlightInspection.id.desc(),
                 lambda f: _item(f, team_side=actor.role != "hospital"), page, size, visible=_visible(actor))  # fmt: skip


def get_flight(session: Session, actor: Actor, flight_id: int) -> dict:
    f = workflow.load(session, actor, FLIGHT, flight_id)
    out = _item(f, team_side=actor.role != "hospital")
    out["actions"] = FLIGHT.actions(session, f, actor)
    out["documents"] = flight_documents(f, actor.masked, actor.role == "hospital")
    events = (
        session.execute(select(FlightEvent).where(FlightEvent.inspection_id == f.id).order_by(FlightEvent.id))
        .scalars()
        .all()
    )
    names = workflow.names_of(session, (e.actor for e in events))
    out["events"] = [{"at": e.at.isoformat(), "actor": e.actor, "actor_name": names[e.actor], "action": e.action,
                      "label_zh": wf.FLIGHT_FLOW.label(e.action), "to_status": e.to_status,
                      "to_zh": wf.FLIGHT_STATES.get(e.to_status, e.to_status), "comment": e.comment}
                     for e in events
                     if actor.role != "hospital" or e.to_status not in HIDDEN_FROM_HOSPITAL]  # fmt: skip
    return out


def act_on_flight(session: Session, actor: Actor, flight_id: int, action: str, version: int,
                  **fields: Any) -> dict:  # fmt: skip
    workflow.act(session, actor, FLIGHT, flight_id, action, version, fields)
    return get_flight(session, actor, flight_id)


LEADS_COLUMNS = [
    ("clue_id", "线索编号", "int"), ("rule_name", "规则/来源"), ("period", "期间"), ("hits", "命中数", "int"),
    ("amount", "涉及金额（元）", "money"), ("status_zh", "线索状态"),
]  # fmt: skip


def flight_leads(session: Session, actor: Actor, flight_id: int) -> tuple[str, bytes]:
    """The 疑点清单 (.xlsx) exported for the team: never for the institution, which must not learn what the team
    looks for."""
    f = workflow.load(session, actor, FLIGHT, flight_id)
    if actor.role == "hospital":
        raise PermissionDenied("疑点清单仅供检查组使用", "the list of suspicions is for the team only")
    leads = json.loads(f.leads_json or "[]")
    if not leads and f.status in ("planned", "approved", "team_formed"):
        raise ValidationFailed("尚未完成预分析，没有疑点清单", "the pre-analysis has not been done yet")
    rows = [{**r, "amount": Decimal(str(r.get("amount") or "0"))} for r in leads]
    return f"{f.number}-疑点清单.xlsx", ledger_bytes(f"{f.number} {f.title} 疑点清单", LEADS_COLUMNS, rows)
