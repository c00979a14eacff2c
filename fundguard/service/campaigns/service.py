"""Special campaigns (专项整治): plan one (theme, focus areas, the rules/models it targets, the institutions in
scope), list and read them, act through the workflow engine, the institutions' returns and re-checks, the
campaign's figures and its 清零 ledger.

Who sees what: supervisors see the campaigns of their region and those reaching institutions in it (a county
officer re-checks the county's institutions of a city campaign); the head reads; a hospital sees only the
campaigns it is in, once approved, and only its own return — never whether it was drawn for re-checking before
the check is made, nor the clues the campaign targets, nor the figures of the others."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from fundguard.service import record, workflow
from fundguard.service.campaigns.process import CAMPAIGN, HIDDEN_FROM_HOSPITAL, RETURN, STRICT_ZH
from fundguard.service.errors import ValidationFailed, not_found
from fundguard.service.inspections.plans import problem_ledger
from fundguard.service.models import (
    Campaign,
    CampaignEvent,
    CampaignReturn,
    CampaignReturnEvent,
    Clue,
    Institution,
    Problem,
)
from fundguard.service.scope import Actor, paged, region_prefix, require_sees, scope_filter, sees
from fundguard.service.timing import today
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CAMPAIGN_MANAGE, CAMPAIGN_VIEW

TARGET_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
MAX_FOCUS = 20


def visible_campaigns(actor: Actor):  # type: ignore[no-untyped-def]
    """The campaigns ``actor`` may read: see the module docstring."""
    if actor.role == "hospital":
        mine = exists().where(CampaignReturn.campaign_id == Campaign.id,
                              CampaignReturn.fixmedins_code == (actor.fixmedins_code or ""))  # fmt: skip
        return and_(mine, Campaign.status.not_in(HIDDEN_FROM_HOSPITAL))
    reaches = exists().where(CampaignReturn.campaign_id == Campaign.id,
                             scope_filter(actor, CampaignReturn.admdvs, CampaignReturn.fixmedins_code))  # fmt: skip
    return or_(scope_filter(actor, Campaign.admdvs, Campaign.fixmedins_code), reaches)


def _load(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    actor.require(CAMPAIGN_VIEW)
    c = session.execute(
        select(Campaign).where(Campaign.id == int(campaign_id), visible_campaigns(actor))
    ).scalar_one_or_none()
    if c is None:
        raise not_found("专项整治", "campaign", campaign_id)  # outside the scope reads as missing
    return c


def _item(c: Campaign) -> dict:
    final = c.status in wf.CAMPAIGN_FLOW.final
    return {
        "id": c.id, "number": c.number, "title": c.title, "theme": c.theme,
        "theme_zh": wf.CAMPAIGN_THEMES.get(c.theme, c.theme), "focus_areas": json.loads(c.focus_json or "[]"),
        "targets": json.loads(c.targets_json or "[]"), "admdvs": c.admdvs, "status": c.status,
        "status_zh": wf.CAMPAIGN_STATES.get(c.status, c.status),
        "self_check_due": c.self_check_due.isoformat() if c.self_check_due else None,
        "overdue": bool(not final and c.due_date and c.due_date < today()),
        "rectify_days": c.rectify_days, "seed_value": c.seed_value, "sample_ratio": c.sample_ratio,
        "summary": c.summary, "created_by": c.created_by, "created_at": c.created_at.isoformat(),
        "version": c.version, "actions": [], "events": [], "stats": None,
    }  # fmt: skip


def create_campaign(session: Session, actor: Actor, *, title: str, theme: str, focus_areas: list[str] | None = None,
                    targets: list[str] | None = None, institutions: list[str] | None = None,
                    fixmedins_type: str | None = None, rectify_days: int = 30) -> dict:  # fmt: skip
    """An 整治方案 awaiting the head's approval. Scope: the listed institutions, or every institution of the
    planner's region (of ``fixmedins_type`` when given); each gets its return (待自查)."""
    actor.require(CAMPAIGN_MANAGE)
    if not (title or "").strip():
        raise ValidationFailed("专项整治名称不能为空", "a campaign needs a title")
    if theme not in wf.CAMPAIGN_THEMES:
        raise ValidationFailed(f"整治主题应为 {'、'.join(wf.CAMPAIGN_THEMES)}",
                               f"theme must be one of {list(wf.CAMPAIGN_THEMES)}")  # fmt: skip
    focus = [f.strip() for f in focus_areas or [] if f and f.strip()]
    if len(focus) > MAX_FOCUS or any(len(f) > 60 for f in focus):
        raise ValidationFailed(f"整治重点至多 {MAX_FOCUS} 项、每项不超过 60 字",
                               f"at most {MAX_FOCUS} focus areas of 60 characters")  # fmt: skip
    rule_ids = list(dict.fromkeys(t.strip() for t in targets or [] if t and t.strip()))
    bad = [t for t in rule_ids if not TARGET_ID.match(t)]
    if bad or len(rule_ids) > 100:
        raise ValidationFailed(f"规则/模型编号无效：{bad[:5]}", f"invalid rule/model ids: {bad[:5]}")
    if not 1 <= int(rectify_days) <= 365:
        raise ValidationFailed("整改期限应为 1–365 天", "the rectification period is 1–365 days")
    if institutions:
        codes = list(dict.fromkeys(institutions))
        found = {i.fixmedins_code: i for i in session.execute(
            select(Institution).where(Institution.fixmedins_code.in_(codes))).scalars()}  # fmt: skip
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValidationFailed(f"定点机构不存在：{missing[:5]}", f"no such institutions: {missing[:5]}")
        for i in found.values():
            require_sees(
                actor,
                i.admdvs,
                i.fixmedins_code,
                f"机构 {i.fixmedins_code}",
                f"institution {i.fixmedins_code}",
            )
        insts = [found[c] for c in codes]
    else:
        q = select(Institution).where(
            Institution.admdvs.startswith(region_prefix(actor.admdvs), autoescape=True)
        )
        if fixmedins_type:
            q = q.where(Institution.fixmedins_type == fixmedins_type)
        insts = list(session.execute(q.order_by(Institution.fixmedins_code)).scalars())
    if not insts:
        raise ValidationFailed("整治范围内没有定点机构", "no institution in the campaign's scope")
    day = today()
    seq = session.execute(select(func.count()).select_from(Campaign)).scalar_one()
    c = Campaign(number=f"ZX{actor.admdvs}-{day.year}-{seq + 1:03d}", title=title.strip(), theme=theme,
                 focus_json=json.dumps(focus, ensure_ascii=False), targets_json=json.dumps(rule_ids),
                 admdvs=actor.admdvs, fixmedins_code="", status="planned", step_started=day,
                 rectify_days=int(rectify_days), created_by=actor.username)  # fmt: skip
    session.add(c)
    session.flush()
    for i in insts:
        session.add(CampaignReturn(campaign_id=c.id, fixmedins_code=i.fixmedins_code, admdvs=i.admdvs,
                                   status="pending", step_started=day))  # fmt: skip
    session.add(CampaignEvent(campaign_id=c.id, actor=actor.username, action="create", to_status="planned",
                              fields_json=json.dumps({"institutions": len(insts)})))  # fmt: skip
    session.flush()
    record.append(session, actor.username, "campaign.create", "campaign", c.id,
                  {"number": c.number, "theme": theme, "targets": rule_ids, "institutions": len(insts)})  # fmt: skip
    return get_campaign(session, actor, c.id)


def _for(actor: Actor, c: Campaign) -> dict:
    out = _item(c)
    if actor.role == "hospital":
        out.update(targets=[], seed_value="")  # what the bureau targets stays with the bureau
    return out


def list_campaigns(session: Session, actor: Actor, *, page: int = 1, size: int = 20) -> dict:
    return paged(session, actor, Campaign, CAMPAIGN_VIEW, [], Campaign.id.desc(), lambda c: _for(actor, c), page,
                 size, visible=visible_campaigns(actor))  # fmt: skip


def _events(
    session: Session, model: type, key: Any, machine: wf.Machine, states: dict[str, str]
) -> list[dict]:
    rows = session.execute(select(model).where(key).order_by(model.id)).scalars()
    labels = {"create": "制定整治方案"}
    return [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
             "label_zh": labels.get(e.action) or machine.label(e.action), "to_status": e.to_status,
             "to_zh": states.get(e.to_status, e.to_status), "comment": e.comment} for e in rows]  # fmt: skip


def get_campaign(session: Session, actor: Actor, campaign_id: int) -> dict:
    c = _load(session, actor, campaign_id)
    out = _for(actor, c)
    if actor.role == "hospital":
        return out
    if sees(actor, c.admdvs, c.fixmedins_code):  # the planning bureau acts on the campaign itself
        out["actions"] = CAMPAIGN.actions(session, c, actor)
    out["events"] = _events(session, CampaignEvent, CampaignEvent.campaign_id == c.id, wf.CAMPAIGN_FLOW,
                            wf.CAMPAIGN_STATES)  # fmt: skip
    out["stats"] = campaign_stats(session, actor, c.id)
    return out


def act_on_campaign(session: Session, actor: Actor, campaign_id: int, action: str, version: int,
                    **fields: Any) -> dict:  # fmt: skip
    workflow.act(session, actor, CAMPAIGN, campaign_id, action, version, fields)
    return get_campaign(session, actor, campaign_id)


# ---------------------------------------------------------------- returns (自查自纠) and re-checks


def _return_item(session: Session, r: CampaignReturn, actor: Actor, names: dict[str, str]) -> dict:
    hospital = actor.role == "hospital"
    shown = not hospital or r.status in ("checked", "confirmed")  # the re-check is unannounced
    return {
        "id": r.id, "campaign_id": r.campaign_id, "fixmedins_code": r.fixmedins_code,
        "fixmedins_name": names.get(r.fixmedins_code, ""), "admdvs": r.admdvs, "status": r.status,
        "status_zh": wf.RETURN_STATES.get(r.status, r.status), "problems": json.loads(r.problems_json or "[]"),
        "refunded": str(r.refunded), "reported_on": r.reported_on.isoformat() if r.reported_on else None,
        "selected": bool(r.selected) if shown else None, "found": json.loads(r.found_json or "[]") if shown else [],
        "found_amount": str(r.found_amount) if shown else "0.00", "unreported": r.unreported if shown else 0,
        "strict": bool(r.strict) if shown else False, "strict_zh": STRICT_ZH if r.strict and shown else "",
        "target_clues": None if hospital else 0, "version": r.version, "actions": [], "events": [],
    }  # fmt: skip


def _names(session: Session, codes: list[str]) -> dict[str, str]:
    rows = session.execute(select(Institution.fixmedins_code, Institution.name)
                           .where(Institution.fixmedins_code.in_(codes)))  # fmt: skip
    return dict(rows.all())


def _return_visible(actor: Actor, campaign_id: int):  # type: ignore[no-untyped-def]
    cond = and_(CampaignReturn.campaign_id == int(campaign_id),
                scope_filter(actor, CampaignReturn.admdvs, CampaignReturn.fixmedins_code))  # fmt: skip
    return cond


def list_returns(session: Session, actor: Actor, campaign_id: int, *, status: str | None = None,
                 selected: bool | None = None, page: int = 1, size: int = 50) -> dict:  # fmt: skip
    c = _load(session, actor, campaign_id)
    conds = []
    if status:
        if status not in wf.RETURN_STATES:
            raise ValidationFailed(f"状态应为 {'、'.join(wf.RETURN_STATES.values())}",
                                   f"status must be one of {list(wf.RETURN_STATES)}")  # fmt: skip
        conds.append(CampaignReturn.status == status)
    if selected is not None and actor.role != "hospital":
        conds.append(CampaignReturn.selected.is_(selected))
    out = paged(session, actor, CampaignReturn, CAMPAIGN_VIEW, conds, CampaignReturn.fixmedins_code,
                lambda r: r, page, size, visible=_return_visible(actor, c.id))  # fmt: skip
    names = _names(session, [r.fixmedins_code for r in out["items"]])
    targets = json.loads(c.targets_json or "[]")
    hits = _target_clues(session, [r.fixmedins_code for r in out["items"]], targets)
    items = []
    for r in out["items"]:
        d = _return_item(session, r, actor, names)
        if actor.role != "hospital":
            d["target_clues"] = hits.get(r.fixmedins_code, 0)
        items.append(d)
    out["items"] = items
    return out


def _target_clues(session: Session, codes: list[str], targets: list[str]) -> dict[str, int]:
    """Per institution, the clues raised by the rules/models the campaign targets (the re-check's leads)."""
    if not codes or not targets:
        return {}
    rows = session.execute(
        select(Clue.fixmedins_code, func.count())
        .where(Clue.fixmedins_code.in_(codes), Clue.rule_id.in_(targets)).group_by(Clue.fixmedins_code)
    )  # fmt: skip
    return {code: n for code, n in rows.all()}


def get_return(session: Session, actor: Actor, return_id: int) -> dict:
    r = workflow.load(session, actor, RETURN, return_id)
    _load(session, actor, r.campaign_id)  # the campaign must be visible too
    out = _return_item(session, r, actor, _names(session, [r.fixmedins_code]))
    if actor.role != "hospital":
        c = session.get(Campaign, r.campaign_id)
        out["target_clues"] = _target_clues(
            session, [r.fixmedins_code], json.loads(c.targets_json or "[]")
        ).get(r.fixmedins_code, 0)
    out["actions"] = RETURN.actions(session, r, actor)
    events = _events(session, CampaignReturnEvent, CampaignReturnEvent.return_id == r.id, wf.RETURN_FLOW,
                     wf.RETURN_STATES)  # fmt: skip
    out["events"] = [e for e in events if actor.role != "hospital" or e["action"] in (
        "submit_self_check", "amend_self_check", "confirm")]  # fmt: skip
    return out


def act_on_return(
    session: Session, actor: Actor, return_id: int, action: str, version: int, **fields: Any
) -> dict:
    workflow.act(session, actor, RETURN, return_id, action, version, fields)
    return get_return(session, actor, return_id)


# ---------------------------------------------------------------- figures and the 清零 ledger


def campaign_stats(session: Session, actor: Actor, campaign_id: int) -> dict:
    """The campaign's figures over the institutions in ``actor``'s scope: returns by status, problems
    self-reported and money refunded, the sample and its re-checks, unreported problems (从严), the 清零
    ledger (open / closed / overdue), by region. Not for hospitals."""
    c = _load(session, actor, campaign_id)
    if actor.role == "hospital":
        raise not_found("专项整治统计", "campaign figures", campaign_id)
    returns = list(session.execute(select(CampaignReturn).where(_return_visible(actor, c.id))).scalars())
    by_status = {s: 0 for s in wf.RETURN_STATES}
    regions: dict[str, dict[str, Any]] = {}
    zero = Decimal("0")
    totals: dict[str, Any] = {"institutions": 0, "reported": 0, "self_problems": 0, "refunded": zero,
                              "selected": 0, "checked": 0, "found_problems": 0, "found_amount": zero,
                              "unreported": 0, "strict": 0}  # fmt: skip
    for r in returns:
        by_status[r.status] = by_status.get(r.status, 0) + 1
        reg = regions.setdefault(r.admdvs, {"admdvs": r.admdvs, "institutions": 0, "reported": 0, "refunded": zero,
                                            "selected": 0, "checked": 0})  # fmt: skip
        reported = r.reported_on is not None
        checked = r.status in ("checked", "confirmed")
        for bucket in (totals, reg):
            bucket["institutions"] += 1
            bucket["reported"] += reported
            bucket["refunded"] += r.refunded
            bucket["selected"] += bool(r.selected)
            bucket["checked"] += checked
        totals["self_problems"] += len(json.loads(r.problems_json or "[]"))
        if checked:
            totals["found_problems"] += len(json.loads(r.found_json or "[]"))
            totals["found_amount"] += r.found_amount
            totals["unreported"] += r.unreported
            totals["strict"] += bool(r.strict)
    day = today()
    late = func.sum(case((Problem.deadline < day, 1), else_=0))
    ledger = session.execute(
        select(Problem.status, late, func.count())
        .where(Problem.source == "campaign", Problem.source_ref == c.number,
               scope_filter(actor, Problem.admdvs, Problem.fixmedins_code))
        .group_by(Problem.status)
    ).all()  # fmt: skip
    open_ = sum(n for s, _, n in ledger if s == "open")
    overdue = sum(int(k or 0) for s, k, _ in ledger if s == "open")
    closed = sum(n for s, _, n in ledger if s == "closed")
    n = totals["institutions"]
    return {
        **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in totals.items()},
        "report_rate": round(totals["reported"] / n, 4) if n else 0.0,
        "by_status": [{"status": s, "status_zh": wf.RETURN_STATES[s], "count": by_status[s]} for s in wf.RETURN_STATES],
        "ledger": {"open": open_, "closed": closed, "overdue": overdue,
                   "cleared_rate": round(closed / (open_ + closed), 4) if open_ + closed else 0.0},
        "regions": [{**v, "refunded": str(v["refunded"])} for _, v in sorted(regions.items())],
    }  # fmt: skip


def campaign_ledger(session: Session, actor: Actor, campaign_id: int) -> bytes:
    """The campaign's 问题清零台账 (.xlsx), as offices print it."""
    c = _load(session, actor, campaign_id)
    return problem_ledger(session, actor, source_ref=c.number, title_zh=f"{c.title} 问题清零台账")
