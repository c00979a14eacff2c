"""Response models of the inspection routes (registries and draws)."""

from __future__ import annotations

from typing import Any

from fundguard.service.schemas import Action, Model


class Target(Model):
    fixmedins_code: str
    name: str
    admdvs: str
    fixmedins_type: str
    hosp_lv: str
    agrm_stas: str
    risk_weight: int
    eligible: bool
    last_inspected: str | None
    note: str
    open_clues: int
    credit_grade: str


class TargetPage(Model):
    items: list[Target]
    total: int
    page: int
    size: int


class Inspector(Model):
    id: int
    kind: str
    kind_zh: str
    name: str
    cert_no: str
    admdvs: str
    department: str
    speciality: str
    agency_id: int | None
    available: bool
    former_employers: list[str]
    relatives_at: list[str]
    updated_at: str


class InspectorPage(Model):
    items: list[Inspector]
    total: int
    page: int
    size: int


class Agency(Model):
    id: int
    name: str
    credit_code: str
    admdvs: str
    speciality: str
    contact: str
    staff: int


class BadRow(Model):
    line: int
    zh: str
    en: str


class ImportResult(Model):
    created: int
    updated: int
    bad: list[BadRow]


class Change(Model):
    at: str
    actor: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


class TeamMember(Model):
    name: str
    cert_no: str
    leader: bool


class DrawnTarget(Model):
    code: str
    name: str
    admdvs: str
    team: list[TeamMember]


class Stratum(Model):
    stratum: str
    size: int
    drawn: int


class Recusal(Model):
    id: str
    reason: str


class Draw(Model):
    id: int
    number: str
    title: str
    admdvs: str
    status: str
    status_zh: str
    seed_value: str
    seed: str
    hash: str
    previous_id: int | None
    previous: dict[str, Any] | None
    reason: str
    created_at: str
    created_by: str
    published_at: str | None
    rules: dict[str, Any]
    targets: list[DrawnTarget]
    pool_sizes: dict[str, int]
    strata: list[Stratum]
    unstaffed: list[str]
    recused: dict[str, list[Recusal]] | None = None
    focus: dict[str, str] | None = None  # drawn targets a focus area (异地就医) weighted, with the reason


class DrawPage(Model):
    items: list[Draw]
    total: int
    page: int
    size: int


class DrawCheck(Model):
    ok: bool
    problems: list[str]
    hash: str


class FlightEvent(Model):
    at: str
    actor: str
    actor_name: str
    action: str
    label_zh: str
    to_status: str
    to_zh: str
    comment: str


class Flight(Model):
    id: int
    number: str
    title: str
    trigger: str
    trigger_zh: str
    draw_id: int | None
    fixmedins_code: str
    admdvs: str
    scope: str
    period_from: str | None
    period_to: str | None
    status: str
    status_zh: str
    due_date: str | None
    overdue: bool
    team: dict[str, Any]
    leads: list[dict[str, Any]]
    records: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    refused: bool
    created_by: str
    created_at: str
    version: int
    actions: list[Action]
    events: list[FlightEvent]
    documents: list[dict[str, str]]  # kind, name_zh, url, pdf_url: the documents it can issue now


class FlightPage(Model):
    items: list[Flight]
    total: int
    page: int
    size: int


class DrawRecord(Model):
    """The sealed record exactly as drawn (see ``supervision.draws``)."""

    format: str
    meta: dict[str, Any]
    seed_value: str
    seed: str
    pools: dict[str, Any]
    rules: dict[str, Any]
    previous: dict[str, Any] | None
    result: dict[str, Any]
    hash: str


class RegionCoverage(Model):
    admdvs: str
    total: int
    done: int
    onsite: int
    onsite_done: int
    coverage: float


class PlanCoverage(Model):
    id: int
    year: int
    title: str
    admdvs: str
    config: dict[str, Any]
    total: int
    done: int
    onsite: int
    coverage: float
    regions: list[RegionCoverage]


class PlanItem(Model):
    id: int
    plan_id: int
    fixmedins_code: str
    admdvs: str
    mode: str
    mode_zh: str
    reasons_zh: list[str]
    fund_paid: str
    done_on: str | None
    result: str


class PlanItemPage(Model):
    items: list[PlanItem]
    total: int
    page: int
    size: int


class Problem(Model):
    id: int
    source: str
    source_ref: str
    fixmedins_code: str
    admdvs: str
    category: str
    description: str
    amount: str
    owner: str
    deadline: str
    status: str
    status_zh: str
    evidence: str
    closed_on: str | None
    overdue: bool


class ProblemPage(Model):
    items: list[Problem]
    total: int
    page: int
    size: int


class BadTargetRow(Model):
    line: int
    code: str
    values: dict[str, str]
    zh: str
    en: str


class TargetImportResult(Model):
    """The target-registry import: rows changed, rows already so (idempotent), bad rows kept aside."""

    updated: int
    unchanged: int
    bad: list[BadTargetRow]
