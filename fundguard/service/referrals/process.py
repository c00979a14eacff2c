"""The referral process bound to the ``referrals`` table: dates and time limits on each step."""

from __future__ import annotations

import datetime as dt

from fundguard.service import workflow
from fundguard.service.models import Referral, utcnow
from fundguard.service.timing import limits, step_due
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import REFERRAL_VIEW


def _datetime_due(start: dt.datetime, step: str) -> dt.datetime:
    st = limits().step(step)
    if st.unit == "hour":
        return start + dt.timedelta(hours=st.amount)
    d = step_due(start.date(), step)
    return dt.datetime.combine(d, dt.time(23, 59, 59), tzinfo=dt.UTC)


def _enter(r: Referral, m: workflow.Move) -> None:
    """Time limits and dates of each step (police referrals: 24 hours to send, 3 days to decide)."""
    now, action, values = utcnow(), m.action, m.values
    police = r.target == "公安"
    if action == "approve":
        r.approved_at = now
        r.due_at = now + dt.timedelta(hours=limits().step("referral_transfer").amount) if police else None
    elif action == "send":
        r.sent_at = now
        r.due_at = _datetime_due(now, "police_review") if police else None
    elif action == "receipt":
        r.receipt_no, r.receipt_by, r.receipt_at = values["receipt_no"], values["receipt_by"], now
    elif action in ("accept", "decline"):
        r.outcome = values["outcome"]
        r.due_at = _datetime_due(now, "referral_reconsideration_request") if action == "decline" else None
    elif action == "request_reconsideration":
        r.due_at = _datetime_due(now, "police_reconsideration_answer")
    elif action == "reject":
        r.outcome, r.due_at = values["comment"], None


REFERRAL = workflow.Process(
    machine=wf.REFERRAL_FLOW,
    model=Referral,
    view=REFERRAL_VIEW,
    what=("移送", "referral"),
    record_action="referral.update",
    enter=_enter,
)
