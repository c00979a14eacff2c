"""参保人员 as credit subjects (条例 Art. 41, individual fraud): beyond the grade, whether the person's 医疗费用联网结算
(direct settlement) is suspended on a day, and why. Three sources, each a period:

- a decided Art. 41 case against the person that set ``suspension_months`` (the decision's own 3–12 months,
  from its decision day);
- the credit grade: the scheme's ``insured_measures.<grade>`` months, counted from the latest decision against
  the person (the fact the grade answers) or, with none, from the day the person was first given that grade in
  the current run of equal grades (a later recompute at the same grade does not restart it);
- the 严重失信名单: ``insured_measures.blacklist`` months from the entry day, ended early when the person leaves
  the list through 信用修复.

The figures are configuration (``supervision/data/credit.yaml``); this module only reads the facts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service.models import BlacklistEntry, Case, CreditGrade
from fundguard.supervision import credit as cr
from fundguard.supervision import points as pts


def _decided_cases(session: Session, psn_no: str) -> list[tuple[str, dt.date, int]]:
    """(number, decision day, suspension months) of the decided cases against the person."""
    rows = session.execute(select(Case.number, Case.decision_json, Case.proposal_json).where(
        Case.party_type == "individual", Case.party_id == psn_no, Case.decision_json != "{}",
        Case.decision_json != "")).all()  # fmt: skip
    out = []
    for number, decision, proposal in rows:
        day = str(json.loads(decision or "{}").get("decided_on", ""))[:10]
        if len(day) == 10:
            months = int(json.loads(proposal or "{}").get("suspension_months") or 0)
            out.append((number, dt.date.fromisoformat(day), months))
    return out


def _case_periods(cases: list[tuple[str, dt.date, int]]) -> list[dict[str, Any]]:
    return [{"since": since, "until": pts.add_months(since, months), "months": months,
             "basis_zh": f"行政处罚决定（{number}）：暂停医疗费用联网结算 {months} 个月"}
            for number, since, months in cases if months > 0]  # fmt: skip


def _grade_period(session: Session, scheme: cr.Scheme, psn_no: str,
                  cases: list[tuple[str, dt.date, int]]) -> list[dict[str, Any]]:  # fmt: skip
    """The grade's measure, from the latest decision against the person (the fact the grade answers) or, with
    none, the day the person was first given the grade in the current run of equal grades."""
    rows = list(session.execute(select(CreditGrade).where(
        CreditGrade.subject_type == "insured", CreditGrade.subject_id == psn_no).order_by(CreditGrade.id.desc())
    ).scalars())  # fmt: skip
    if not rows:
        return []
    latest = rows[0]
    listed = any(r["item"] == "blacklist" for r in json.loads(latest.reasons_json or "[]"))
    # the list's own period is counted from the entry (below); here only the grade's
    months, measure = scheme.insured_suspension(latest.grade, False)
    if months <= 0:
        return []
    first = latest
    for g in rows[1:]:
        if g.grade != latest.grade:
            break
        first = g
    since = max((day for _, day, _ in cases), default=first.computed_at.date())
    label = f"信用等级 {latest.grade} {scheme.grade_name(latest.grade)}{'（列入失信名单）' if listed else ''}"
    return [{"since": since, "until": pts.add_months(since, months), "months": months,
             "basis_zh": f"{label}：{measure}"}]  # fmt: skip


def _list_periods(session: Session, scheme: cr.Scheme, psn_no: str) -> list[dict[str, Any]]:
    months, measure = scheme.insured_suspension("", True)
    if months <= 0:
        return []
    out = []
    for e in session.execute(select(BlacklistEntry).where(
            BlacklistEntry.subject_type == "insured", BlacklistEntry.subject_id == psn_no)).scalars():  # fmt: skip
        until = min(pts.add_months(e.entered_on, months), e.until)
        if e.left_on is not None:
            until = min(until, e.left_on)  # repaired: the suspension ends with the listing
        out.append({"since": e.entered_on, "until": until, "months": months,
                    "basis_zh": f"严重失信名单（{e.reason}）：{measure}"})  # fmt: skip
    return out


def settlement_standing(session: Session, scheme: cr.Scheme, psn_no: str, day: dt.date) -> dict[str, Any]:
    """Whether the person's 联网结算 is suspended on ``day`` (a period covers ``since <= day < until``), until
    when (the latest end among the covering periods), and every period with its basis."""
    cases = _decided_cases(session, psn_no)
    periods = sorted(_case_periods(cases) + _grade_period(session, scheme, psn_no, cases)
                     + _list_periods(session, scheme, psn_no), key=lambda p: p["since"])  # fmt: skip
    active = [p for p in periods if p["since"] <= day < p["until"]]
    until = max((p["until"] for p in active), default=None)
    return {
        "suspended": bool(active),
        "until": until.isoformat() if until else None,
        "status_zh": f"暂停医疗费用联网结算至 {until.isoformat()}（不含）" if until else "联网结算正常",
        "periods": [
            {**p, "since": p["since"].isoformat(), "until": p["until"].isoformat(), "active": p in active}
            for p in periods
        ],
    }
