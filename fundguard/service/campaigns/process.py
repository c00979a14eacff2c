"""The special-campaign processes (专项整治) bound to their tables: ``CAMPAIGN`` (``campaigns``: 动员部署 →
自查自纠 → 抽查复查 → 总结) and ``RETURN`` (``campaign_returns``: each institution's 自查自纠 return, then the
bureau's re-check and its confirmation by another officer). Their effects: the re-check sample drawn from a
seed fixed beforehand (recomputable: ``sample``), the 清零 ledger fed with every self-reported problem when
self-checking ends and with every problem the bureau found when its check is confirmed — an unreported one
marked for stricter handling (从严处理)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from fundguard.service import workflow
from fundguard.service.models import (
    Campaign,
    CampaignEvent,
    CampaignReturn,
    CampaignReturnEvent,
    Institution,
    Problem,
    money,
)
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CAMPAIGN_VIEW

STRICT_ZH = "未在自查自纠中主动报告、经复查发现的问题，依法从严从重处理"
# before the head approves, the institutions are not told of it; a cancelled campaign is gone for them
HIDDEN_FROM_HOSPITAL = ("planned", "cancelled")


def sample(number: str, seed_value: str, reported: Sequence[str], ratio: int) -> list[str]:
    """The re-check sample of the institutions that reported: ``ratio`` per cent (at least one), drawn from a
    generator seeded by the campaign number and the seed value fixed beforehand — anyone can recompute it."""
    pool = sorted(reported)
    if not pool:
        return []
    k = min(len(pool), max(1, math.ceil(len(pool) * ratio / 100)))
    seed = int.from_bytes(hashlib.sha256(f"{number}|{seed_value}".encode()).digest()[:8], "big")
    return sorted(random.Random(seed).sample(pool, k))


def _problem_rows(session: Session, c: Campaign, r: CampaignReturn, items: list[tuple[str, str]], amount: Any,
                  day: dt.date) -> None:  # fmt: skip
    """One ledger row per (problem, category); the total amount stands on the first (offices sum by return)."""
    inst = session.get(Institution, r.fixmedins_code)
    for i, (text, category) in enumerate(items):
        session.add(Problem(source="campaign", source_ref=c.number, fixmedins_code=r.fixmedins_code,
                            admdvs=r.admdvs, category=category, description=f"{c.title}：{text}",
                            amount=money(amount if i == 0 else 0), owner=inst.name if inst else r.fixmedins_code,
                            deadline=day + dt.timedelta(days=c.rectify_days), status="open", evidence=""))  # fmt: skip


# ---------------------------------------------------------------- the campaign


def _campaign_context(session: Session, c: Campaign) -> dict[str, Any]:
    unconfirmed = session.execute(
        select(func.count()).select_from(CampaignReturn)
        .where(CampaignReturn.campaign_id == c.id, CampaignReturn.selected.is_(True),
               CampaignReturn.status != "confirmed")
    ).scalar_one()  # fmt: skip
    return {"unconfirmed": unconfirmed}


def _campaign_history(session: Session, c: Campaign) -> list[tuple[str, str]]:
    rows = session.execute(select(CampaignEvent.action, CampaignEvent.actor)
                           .where(CampaignEvent.campaign_id == c.id).order_by(CampaignEvent.id))  # fmt: skip
    return [(a, u) for a, u in rows.all()]


def _campaign_log(session: Session, c: Campaign, m: workflow.Move) -> None:
    session.add(CampaignEvent(campaign_id=c.id, actor=m.actor.username, action=m.action, from_status=m.before,
                              to_status=m.after, comment=m.comment,
                              fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False, default=str)))  # fmt: skip


def _open_self_check(session: Session, c: Campaign, m: workflow.Move) -> None:
    c.self_check_due = m.values["self_check_due"]
    c.due_date = c.self_check_due


def _start_recheck(session: Session, c: Campaign, m: workflow.Move) -> None:
    """Self-checking ends: every self-reported problem enters the 清零 ledger; every institution that did not
    report is re-checked, and ``ratio`` % of those that did are drawn."""
    returns = (
        session.execute(select(CampaignReturn).where(CampaignReturn.campaign_id == c.id)).scalars().all()
    )
    reported = [r.fixmedins_code for r in returns if r.status == "reported"]
    drawn = set(sample(c.number, m.values["seed_value"], reported, m.values["ratio"]))
    for r in returns:
        r.selected = r.status == "pending" or r.fixmedins_code in drawn
        if r.status == "reported":
            items = [(text, "自查自纠") for text in json.loads(r.problems_json or "[]")]
            _problem_rows(session, c, r, items, r.refunded, m.day)
    c.seed_value, c.sample_ratio, c.due_date = m.values["seed_value"], m.values["ratio"], None
    m.extra.update(
        drawn=sorted(drawn), not_reported=sorted(r.fixmedins_code for r in returns if r.status == "pending")
    )


def _summarise(session: Session, c: Campaign, m: workflow.Move) -> None:
    c.summary = m.values["summary"]


CAMPAIGN = workflow.Process(
    machine=wf.CAMPAIGN_FLOW,
    model=Campaign,
    view=CAMPAIGN_VIEW,
    what=("专项整治", "campaign"),
    record_action="campaign.action",
    effects={"open_self_check": _open_self_check, "start_recheck": _start_recheck, "summarise": _summarise},
    context=_campaign_context,
    history=_campaign_history,
    log=_campaign_log,
)


# ---------------------------------------------------------------- one institution's return and re-check


def _return_context(session: Session, r: CampaignReturn) -> dict[str, Any]:
    c = session.get(Campaign, r.campaign_id)
    return {"phase": c.status if c else "", "selected": r.selected}


def _return_history(session: Session, r: CampaignReturn) -> list[tuple[str, str]]:
    rows = session.execute(select(CampaignReturnEvent.action, CampaignReturnEvent.actor)
                           .where(CampaignReturnEvent.return_id == r.id).order_by(CampaignReturnEvent.id))  # fmt: skip
    return [(a, u) for a, u in rows.all()]


def _return_log(session: Session, r: CampaignReturn, m: workflow.Move) -> None:
    session.add(CampaignReturnEvent(return_id=r.id, actor=m.actor.username, action=m.action, from_status=m.before,
                                    to_status=m.after, comment=m.comment,
                                    fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False, default=str)))  # fmt: skip


def _self_check(session: Session, r: CampaignReturn, m: workflow.Move) -> None:
    r.problems_json = json.dumps(m.values.get("problems") or [], ensure_ascii=False)
    r.refunded, r.reported_on = m.values["refunded"], m.day


def _check(session: Session, r: CampaignReturn, m: workflow.Move) -> None:
    r.found_json = json.dumps(m.values.get("found") or [], ensure_ascii=False)
    r.found_amount, r.unreported = m.values["found_amount"], m.values["unreported"]
    r.strict = r.unreported > 0
    if r.strict:
        m.extra["strict_zh"] = STRICT_ZH


def _confirm(session: Session, r: CampaignReturn, m: workflow.Move) -> None:
    """The confirmed findings enter the 清零 ledger; the unreported ones are marked 从严处理."""
    c = session.get(Campaign, r.campaign_id)
    found = json.loads(r.found_json or "[]")
    # the officer lists the problems the institution had not reported last (the form says so)
    first_strict = len(found) - min(r.unreported, len(found))
    items = [
        (text, "未自查问题（从严处理）" if i >= first_strict else "抽查复查发现")
        for i, text in enumerate(found)
    ]
    _problem_rows(session, c, r, items, r.found_amount, m.day)
    m.extra["ledger_items"] = len(found)


def _send_back(session: Session, r: CampaignReturn, m: workflow.Move) -> None:
    m.extra["_target"] = "reported" if r.reported_on else "pending"
    r.found_json, r.found_amount, r.unreported, r.strict = "[]", money(0), 0, False


def _return_hidden(actor: Any, r: CampaignReturn) -> bool:
    if actor.role != "hospital":
        return False
    c = object_session(r).get(Campaign, r.campaign_id)  # type: ignore[union-attr]
    return c is None or c.status in HIDDEN_FROM_HOSPITAL


RETURN = workflow.Process(
    machine=wf.RETURN_FLOW,
    model=CampaignReturn,
    view=CAMPAIGN_VIEW,
    what=("专项整治自查报告", "campaign return"),
    record_action="campaign_return.action",
    effects={
        "submit_self_check": _self_check,
        "amend_self_check": _self_check,
        "check": _check,
        "confirm": _confirm,
        "send_back": _send_back,
    },
    context=_return_context,
    history=_return_history,
    log=_return_log,
    hidden=_return_hidden,
)
