"""The supervision dashboard's inspection figures (issue 14): the year's plan coverage (全覆盖) by region and by
institution type, flight inspections by state, special-campaign progress, the 问题清零 progress by source, and
the 问题清单 across inspections for 举一反三 (``problem_summary``) — all over what the actor may see (region scope). Supervisors and the head only (``inspection.view``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fundguard.service.campaigns.service import campaign_stats, visible_campaigns
from fundguard.service.errors import ValidationFailed
from fundguard.service.models import (
    Campaign,
    FlightInspection,
    Institution,
    PlanItem,
    Problem,
    Region,
    SupervisionPlan,
)
from fundguard.service.scope import Actor, scope_filter
from fundguard.service.timing import today
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CAMPAIGN_VIEW, INSPECTION_VIEW

TYPE_ZH = {"1": "定点医疗机构", "2": "定点零售药店"}  # 1201 fixmedins_type as the store has it
SOURCE_ZH = {"flight": "飞行检查", "plan": "日常监督检查", "campaign": "专项整治"}


def _ratio(done: int, total: int) -> float:
    return round(done / total, 4) if total else 0.0


def _plan_coverage(session: Session, actor: Actor, year: int) -> dict[str, Any] | None:
    """The newest plan of ``year`` (else the newest plan) with its items in scope, by region and by type."""
    in_scope = scope_filter(actor, PlanItem.admdvs, PlanItem.fixmedins_code)
    plan = session.execute(
        select(SupervisionPlan).where(SupervisionPlan.id.in_(select(PlanItem.plan_id).where(in_scope)))
        .order_by((SupervisionPlan.year == year).desc(), SupervisionPlan.year.desc(), SupervisionPlan.id.desc())
    ).scalars().first()  # fmt: skip
    if plan is None:
        return None
    onsite = func.sum(case((PlanItem.mode == "onsite", 1), else_=0))
    cond = (PlanItem.plan_id == plan.id) & in_scope
    names = dict(session.execute(select(Region.code, Region.name)).all())
    regions = [{"key": code, "name": names.get(code, code), "total": n, "done": done, "onsite": int(on or 0),
                "coverage": _ratio(done, n)}
               for code, n, done, on in session.execute(
                   select(PlanItem.admdvs, func.count(), func.count(PlanItem.done_on), onsite).where(cond)
                   .group_by(PlanItem.admdvs).order_by(PlanItem.admdvs)).all()]  # fmt: skip
    types = [{"key": t or "", "name": TYPE_ZH.get(t or "", t or "未分类"), "total": n, "done": done,
              "onsite": int(on or 0), "coverage": _ratio(done, n)}
             for t, n, done, on in session.execute(
                 select(Institution.fixmedins_type, func.count(), func.count(PlanItem.done_on), onsite)
                 .join(Institution, Institution.fixmedins_code == PlanItem.fixmedins_code).where(cond)
                 .group_by(Institution.fixmedins_type).order_by(Institution.fixmedins_type)).all()]  # fmt: skip
    total, done = sum(r["total"] for r in regions), sum(r["done"] for r in regions)
    return {"id": plan.id, "year": plan.year, "title": plan.title, "total": total, "done": done,
            "coverage": _ratio(done, total), "regions": regions, "types": types}  # fmt: skip


def inspection_overview(session: Session, actor: Actor) -> dict[str, Any]:
    actor.require(INSPECTION_VIEW)
    day = today()
    flights = [{"status": s, "status_zh": wf.FLIGHT_STATES.get(s, s), "count": n}
               for s, n in session.execute(
                   select(FlightInspection.status, func.count())
                   .where(scope_filter(actor, FlightInspection.admdvs, FlightInspection.fixmedins_code))
                   .group_by(FlightInspection.status)).all()]  # fmt: skip
    flights.sort(
        key=lambda r: list(wf.FLIGHT_STATES).index(r["status"]) if r["status"] in wf.FLIGHT_STATES else 99
    )
    late = func.sum(case(((Problem.status == "open") & (Problem.deadline < day), 1), else_=0))
    closed = func.sum(case((Problem.status == "closed", 1), else_=0))
    problems = [{"source": src, "source_zh": SOURCE_ZH.get(src, src), "total": n, "closed": int(c or 0),
                 "open": n - int(c or 0), "overdue": int(o or 0), "cleared_rate": _ratio(int(c or 0), n)}
                for src, n, c, o in session.execute(
                    select(Problem.source, func.count(), closed, late)
                    .where(scope_filter(actor, Problem.admdvs, Problem.fixmedins_code))
                    .group_by(Problem.source).order_by(Problem.source)).all()]  # fmt: skip
    campaigns = []
    if actor.can(CAMPAIGN_VIEW):
        rows = session.execute(select(Campaign).where(visible_campaigns(actor), Campaign.status != "cancelled")
                               .order_by(Campaign.id.desc()).limit(12)).scalars().all()  # fmt: skip
        for c in rows:
            st = campaign_stats(session, actor, c.id)
            campaigns.append({"id": c.id, "number": c.number, "title": c.title, "status_zh": wf.CAMPAIGN_STATES[c.status],
                              "institutions": st["institutions"], "reported": st["reported"],
                              "selected": st["selected"], "checked": st["checked"], "refunded": st["refunded"],
                              "ledger_open": st["ledger"]["open"], "ledger_closed": st["ledger"]["closed"]})  # fmt: skip
    return {"plan": _plan_coverage(session, actor, day.year), "flights": flights, "problems": problems,
            "campaigns": campaigns}  # fmt: skip


COMMON_MIN = (
    2  # a problem found at this many institutions or more is a 共性问题 to check everywhere (举一反三)
)
COMMON_TOP = 30


def _problem_text(p_source: str, description: str) -> str:
    """The problem itself: a campaign's ledger rows carry its title first (``<title>：<problem>``)."""
    text = description.strip()
    if p_source == "campaign" and "：" in text:
        text = text.split("：", 1)[1].strip()
    return text


def problem_summary(session: Session, actor: Actor, *, source: str | None = None) -> dict[str, Any]:
    """问题清单 across inspections (flight, daily checks, campaigns) in the actor's scope, for 举一反三: by
    category, by institution type, and the problems found at several institutions (共性问题), most widespread
    first. Supervisors and the head (``inspection.view``); never a hospital."""
    actor.require(INSPECTION_VIEW)
    if source is not None and source not in SOURCE_ZH:
        raise ValidationFailed(
            f"来源应为 {'、'.join(SOURCE_ZH.values())}", f"source must be one of {list(SOURCE_ZH)}"
        )
    conds = [scope_filter(actor, Problem.admdvs, Problem.fixmedins_code)]
    if source:
        conds.append(Problem.source == source)
    rows = session.execute(
        select(Problem.source, Problem.category, Problem.description, Problem.fixmedins_code, Problem.amount,
               Problem.status, Institution.fixmedins_type)
        .outerjoin(Institution, Institution.fixmedins_code == Problem.fixmedins_code).where(*conds)
    ).all()  # fmt: skip
    zero = Decimal("0")

    def bucket() -> dict[str, Any]:
        return {"problems": 0, "institutions": set(), "amount": zero, "closed": 0}

    by_category: dict[tuple[str, str], dict[str, Any]] = {}
    by_type: dict[str, dict[str, Any]] = {}
    common: dict[str, dict[str, Any]] = {}
    for src, category, description, code, amount, status, itype in rows:
        text = _problem_text(src, description)
        for b in (by_category.setdefault((src, category or SOURCE_ZH.get(src, src)), bucket()),
                  by_type.setdefault(itype or "", bucket()), common.setdefault(text, bucket())):  # fmt: skip
            b["problems"] += 1
            b["institutions"].add(code)
            b["amount"] += amount or zero
            b["closed"] += status == "closed"
        common[text].setdefault("sources", set()).add(src)

    def out(b: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {**extra, "problems": b["problems"], "institutions": len(b["institutions"]),
                "amount": str(b["amount"].quantize(Decimal("0.01"))), "closed": b["closed"]}  # fmt: skip

    widespread = sorted(((t, b) for t, b in common.items() if len(b["institutions"]) >= COMMON_MIN),
                        key=lambda tb: (-len(tb[1]["institutions"]), -tb[1]["problems"], tb[0]))[:COMMON_TOP]  # fmt: skip
    return {
        "total": len(rows),
        "by_category": [out(b, source=s, source_zh=SOURCE_ZH.get(s, s), category=c)
                        for (s, c), b in sorted(by_category.items(), key=lambda kv: -kv[1]["problems"])],
        "by_institution_type": [out(b, key=t, name=TYPE_ZH.get(t, t or "未分类"))
                                for t, b in sorted(by_type.items(), key=lambda kv: -kv[1]["problems"])],
        "common": [out(b, description=t, sources_zh=[SOURCE_ZH.get(s, s) for s in sorted(b["sources"])])
                   for t, b in widespread],
    }  # fmt: skip
