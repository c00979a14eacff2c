"""Response models of the clue routes: list items, the detail with evidence, events and appeals, and the
dashboard."""

from __future__ import annotations

from typing import Any

from fundguard.service.schemas import Action, Measure, Model


class ClueItem(Model):
    id: int
    source: str
    rule_id: str
    rule_name: str
    rule_version: str
    fixmedins_code: str
    fixmedins_name: str
    admdvs: str
    period: str
    hits: int
    amount: str
    confirmed_amount: str | None
    outcome: str
    outcome_zh: str
    status: str
    status_zh: str
    result_type: str
    due_date: str | None
    overdue: bool
    warning: str
    version: int


class CluePage(Model):
    items: list[ClueItem]
    total: int
    page: int
    size: int


class Evidence(Model):
    mdtrt_id: str
    setl_id: str
    bkkp_sn: list[str]
    psn_no: str
    psn_name: str
    hilist_code: str
    item_name: str
    fee_ocur_time: str
    amount: str
    evidence_zh: str
    kp_id: str


class ClueEvent(Model):
    at: str
    action: str
    action_zh: str
    actor: str
    actor_name: str
    from_status: str
    to_status: str
    to_status_zh: str
    comment: str
    fields: dict[str, Any]


class AppealFile(Model):
    id: int
    filename: str
    size: int


class Appeal(Model):
    id: int
    at: str
    by: str
    reason: str
    files: list[AppealFile]


class ClueDetail(ClueItem):
    legal_basis: str
    knowledge_source: str
    suggested_handling: str
    description: str
    department: str
    evidence: list[Evidence]
    events: list[ClueEvent]
    appeals: list[Appeal]
    case_id: int | None
    measures: list[Measure]
    actions: list[Action]


class Totals(Model):
    clues: int
    amount_at_issue: str
    confirmed_amount: str
    recovered: str
    fines: str
    cases_open: int
    overdue: int


class ByRule(Model):
    rule_id: str
    rule_name: str | None
    count: int
    amount: str


class ByRegion(Model):
    admdvs: str
    name: str
    count: int
    amount: str


class ByMonth(Model):
    month: str
    count: int
    amount: str
    recovered: str


class Dashboard(Model):
    totals: Totals
    by_rule: list[ByRule]
    by_region: list[ByRegion]
    by_month: list[ByMonth]
