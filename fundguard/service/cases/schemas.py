"""Response models of the case routes: the list item and the detail with its timeline, execution, documents
and the actions the engine offers."""

from __future__ import annotations

from typing import Any

from fundguard.service.schemas import Action, Measure, Model


class Party(Model):
    fixmedins_code: str
    name: str
    type: str
    type_zh: str
    id: str


class CaseSummary(Model):
    id: int
    number: str
    title: str
    status: str
    status_zh: str
    fixmedins_code: str
    party: Party
    admdvs: str
    opened_at: str
    deadline: str
    days_left: int | None
    overdue: bool
    amount_at_issue: str
    version: int


class CasePage(Model):
    items: list[CaseSummary]
    total: int
    page: int
    size: int


class Officer(Model):
    username: str
    name: str
    cert_no: str


class Execution(Model):
    refund_due: str
    refund_paid: str
    fine_due: str
    surcharge: str
    fine_total_due: str
    fine_paid: str
    payment_due: str | None
    complete: bool
    payment_overdue: bool


class Extension(Model):
    days: int
    reason: str
    approved_by: str
    collective: bool
    at: str
    new_deadline: str


class Step(Model):
    step: str
    step_zh: str
    action: str
    action_zh: str
    from_status: str
    to_status: str
    to_status_zh: str
    at: str
    actor: str
    actor_name: str
    comment: str
    due: str | None
    fields: dict[str, Any]


class Document(Model):
    kind: str
    name_zh: str
    url: str
    pdf_url: str


class Penalty(Model):
    article: str
    article_zh: str
    circumstance: str
    loss_amount: str
    refund_amount: str
    fine_amount: str
    suspension_months: int
    basis_zh: str
    intent: str
    intent_zh: str
    decided_at: str


class Payment(Model):
    amount: str
    paid_on: str
    voucher_no: str | None


class CaseReferral(Model):
    id: int
    target: str
    status: str
    status_zh: str
    receipt_no: str | None


class CaseDetail(CaseSummary):
    clue_id: int | None
    loss_amount: str | None
    behaviour_code: str
    behaviour_zh: str
    findings: str
    intent: str
    intent_zh: str
    intent_evidence: str
    officers: list[Officer]
    proposal: dict[str, Any]
    decision: dict[str, Any]
    needs_legal_review: bool
    hearing_eligible: bool
    major: bool
    collective_discussed: bool
    notice_date: str | None
    hearing_date: str | None
    served_on: str | None
    closed_at: str | None
    closing_grounds: str
    closing_grounds_zh: str
    execution: Execution
    extensions: list[Extension]
    timeline: list[Step]
    documents: list[Document]
    measures: list[Measure]
    penalty: Penalty | None
    refunds: list[Payment]
    fines: list[Payment]
    referrals: list[CaseReferral]
    actions: list[Action]
