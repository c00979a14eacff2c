"""Response models of the referral and transfer routes."""

from __future__ import annotations

from fundguard.service.schemas import Action, Model


class Referral(Model):
    id: int
    case_id: int | None
    clue_id: int | None
    fixmedins_code: str
    admdvs: str
    target: str
    reason: str
    status: str
    status_zh: str
    created_at: str
    approved_at: str | None
    sent_at: str | None
    due_at: str | None
    overdue: bool
    receipt_no: str | None
    receipt_by: str | None
    receipt_at: str | None
    outcome: str | None
    version: int
    actions: list[Action]


class ReferralPage(Model):
    items: list[Referral]
    total: int
    page: int
    size: int


class TransferClue(Model):
    rule_name: str
    fixmedins_name: str
    period: str
    amount: str


class Transfer(Model):
    id: int
    clue_id: int
    from_admdvs: str
    to_admdvs: str
    from_department: str
    to_department: str
    reason: str
    status: str
    sent_at: str
    sent_by: str
    answered_at: str | None
    answered_by: str
    clue: TransferClue | None
    clue_visible: bool | None = None
