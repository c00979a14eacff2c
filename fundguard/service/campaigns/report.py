"""A campaign's summary report (专项整治总结报告, .docx or PDF): its figures over the institutions in the reader's
scope (``campaign_stats``), the typical cases — the decided cases of the campaign's institutions on the rules
and models it targets since it began, and the confirmed re-checks that found the most (unreported problems
first) — and the institutions that refunded most of their own accord.

Who gets it: the bureau side that reads the campaign's figures (a county officer gets the county's part);
never a hospital — the report names the other institutions and their findings."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.errors import FundGuardError, InputError
from fundguard.service.campaigns.service import _load, _names, _return_visible, campaign_stats
from fundguard.service.cases.service import bureau
from fundguard.service.errors import InvalidTransition, ValidationFailed
from fundguard.service.models import Campaign, CampaignReturn, Case, Clue, Region
from fundguard.service.scope import Actor, region_prefix, scope_filter
from fundguard.service.timing import today
from fundguard.supervision import workflow as wf
from fundguard.supervision.campaign_report import CAMPAIGN_REPORT_ZH, render_campaign_report
from fundguard.supervision.documents import docx_to_pdf

TYPICAL = 5  # typical cases of each kind in the report, as offices print them
FACTS_CHARS = 160


def _year(c: Campaign) -> int:
    """The campaign's year as its number says (ZX<admdvs>-<year>-<seq>: the service's clock, as cases')."""
    m = re.match(r"^ZX\d*-(\d{4})-", c.number)
    return int(m.group(1)) if m else c.created_at.year


def _decided_cases(session: Session, actor: Actor, c: Campaign, codes: list[str]) -> list[dict[str, Any]]:
    """Decided cases of the campaign's institutions, opened in its year, on the rules/models it targets (any
    case of those institutions when it targets none), the largest first. The year, not the day it began: a
    case on the theme opened shortly before is often what started the campaign and one of its typical cases."""
    if not codes:
        return []
    targets = json.loads(c.targets_json or "[]")
    q = (
        select(Case)
        .outerjoin(Clue, Clue.id == Case.clue_id)
        .where(Case.fixmedins_code.in_(codes), Case.opened_at >= dt.date(_year(c), 1, 1), Case.decision_json != "{}",
               scope_filter(actor, Case.admdvs, Case.fixmedins_code))
    )  # fmt: skip
    if targets:
        q = q.where(Clue.rule_id.in_(targets))
    rows = session.execute(q.order_by(Case.amount_at_issue.desc(), Case.id).limit(TYPICAL)).scalars()
    out = []
    for k in rows:
        decision = json.loads(k.decision_json or "{}")
        parts = [f"处理决定：{decision.get('type', '')}"]
        if decision.get("refund_amount") not in (None, "", "0", "0.00"):
            parts.append(f"责令退回 {Decimal(str(decision['refund_amount'])):,.2f} 元")
        if decision.get("fine_amount") not in (None, "", "0", "0.00"):
            parts.append(f"罚款 {Decimal(str(decision['fine_amount'])):,.2f} 元")
        facts = (k.findings or k.title).strip()
        facts = facts if len(facts) <= FACTS_CHARS else facts[: FACTS_CHARS - 1] + "…"
        out.append({"party": k.party_name, "facts": f"（案件 {k.number}）{facts}",
                    "amount": str(k.loss_amount if k.loss_amount is not None else k.amount_at_issue),
                    "outcome": "，".join(parts) + "。"})  # fmt: skip
    return out


def _rechecks(session: Session, actor: Actor, c: Campaign, names: dict[str, str]) -> list[dict[str, Any]]:
    """Confirmed re-checks that found problems: unreported ones (从严) first, then by amount."""
    rows = session.execute(
        select(CampaignReturn)
        .where(_return_visible(actor, c.id), CampaignReturn.status == "confirmed", CampaignReturn.found_json != "[]")
        .order_by(CampaignReturn.strict.desc(), CampaignReturn.found_amount.desc(), CampaignReturn.id)
        .limit(TYPICAL)
    ).scalars()  # fmt: skip
    out = []
    for r in rows:
        found = json.loads(r.found_json or "[]")
        facts = f"复查发现{'、'.join(found[:3])}{'等' if len(found) > 3 else ''} {len(found)} 个问题"
        outcome = (f"其中 {r.unreported} 个未在自查中报告，依法从严从重处理。" if r.strict
                   else "问题均已在自查中报告，纳入清零台账督促整改。")  # fmt: skip
        out.append({"party": names.get(r.fixmedins_code) or r.fixmedins_code, "facts": facts,
                    "amount": str(r.found_amount), "outcome": outcome})  # fmt: skip
    return out


def _refunds(session: Session, actor: Actor, c: Campaign, names: dict[str, str]) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CampaignReturn)
        .where(_return_visible(actor, c.id), CampaignReturn.reported_on.is_not(None), CampaignReturn.refunded > 0)
        .order_by(CampaignReturn.refunded.desc(), CampaignReturn.id)
        .limit(TYPICAL)
    ).scalars()  # fmt: skip
    return [{"party": names.get(r.fixmedins_code) or r.fixmedins_code,
             "problems": len(json.loads(r.problems_json or "[]")), "refunded": str(r.refunded)} for r in rows]  # fmt: skip


def report_data(session: Session, actor: Actor, campaign_id: int) -> dict[str, Any]:
    """The report's fields, scoped to ``actor`` (``campaign_stats`` refuses hospitals and roles without
    campaigns)."""
    stats = campaign_stats(session, actor, campaign_id)
    c = _load(session, actor, campaign_id)
    codes = list(
        session.execute(select(CampaignReturn.fixmedins_code).where(_return_visible(actor, c.id))).scalars()
    )
    names = _names(session, codes)
    regions = dict(session.execute(select(Region.code, Region.name)
                                   .where(Region.code.in_([r["admdvs"] for r in stats["regions"]]))).all())  # fmt: skip
    stats["regions"] = [{**r, "name": regions.get(r["admdvs"], r["admdvs"])} for r in stats["regions"]]
    mine = session.get(Region, actor.admdvs)
    partial = not c.admdvs.startswith(region_prefix(actor.admdvs))  # a county officer on a city campaign
    scope_zh = f"{mine.name if mine else actor.admdvs}辖区内的整治对象" if partial else "全部整治对象"
    return {
        "authority": bureau(session, actor.username), "date": today(), "doc_number": f"{c.number}-总结",
        "title": c.title, "theme_zh": wf.CAMPAIGN_THEMES.get(c.theme, c.theme),
        "status_zh": wf.CAMPAIGN_STATES.get(c.status, c.status), "focus_areas": json.loads(c.focus_json or "[]"),
        "scope_zh": scope_zh, "stats": stats, "summary": c.summary,
        "cases": _decided_cases(session, actor, c, codes) + _rechecks(session, actor, c, names),
        "refunds": _refunds(session, actor, c, names), "number": c.number,
    }  # fmt: skip


def campaign_report(session: Session, actor: Actor, campaign_id: int, fmt: str = "docx") -> tuple[str, bytes]:
    """``(filename, bytes)`` of the campaign's summary report as .docx or PDF (LibreOffice)."""
    if fmt not in ("docx", "pdf"):
        raise ValidationFailed("报告格式应为 docx 或 pdf", "format must be docx or pdf")
    data = report_data(session, actor, campaign_id)
    try:
        docx = render_campaign_report(data)
        body = docx_to_pdf(docx, "campaign-report") if fmt == "pdf" else docx
    except InputError as e:
        raise ValidationFailed(e.zh, e.en) from None
    except FundGuardError as e:  # LibreOffice missing or failing: say so, the .docx still works
        raise InvalidTransition(getattr(e, "zh", str(e)), getattr(e, "en", str(e))) from None
    return f"{data['number']}-{CAMPAIGN_REPORT_ZH}.{fmt}", body
