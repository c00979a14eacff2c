"""Response models of the campaign routes (专项整治)."""

from __future__ import annotations

from fundguard.service.schemas import Action, Model


class CampaignEvent(Model):
    at: str
    actor: str
    action: str
    label_zh: str
    to_status: str
    to_zh: str
    comment: str


class StatusCount(Model):
    status: str
    status_zh: str
    count: int


class LedgerFigures(Model):
    open: int
    closed: int
    overdue: int
    cleared_rate: float


class RegionFigures(Model):
    admdvs: str
    institutions: int
    reported: int
    refunded: str
    selected: int
    checked: int


class CampaignStats(Model):
    institutions: int
    reported: int
    report_rate: float
    self_problems: int
    refunded: str
    selected: int
    checked: int
    found_problems: int
    found_amount: str
    unreported: int
    strict: int
    by_status: list[StatusCount]
    ledger: LedgerFigures
    regions: list[RegionFigures]


class Campaign(Model):
    id: int
    number: str
    title: str
    theme: str
    theme_zh: str
    focus_areas: list[str]
    targets: list[str]
    admdvs: str
    status: str
    status_zh: str
    self_check_due: str | None
    overdue: bool
    rectify_days: int
    seed_value: str
    sample_ratio: int
    summary: str
    created_by: str
    created_at: str
    version: int
    actions: list[Action]
    events: list[CampaignEvent]
    stats: CampaignStats | None


class CampaignPage(Model):
    items: list[Campaign]
    total: int
    page: int
    size: int


class CampaignReturn(Model):
    id: int
    campaign_id: int
    fixmedins_code: str
    fixmedins_name: str
    admdvs: str
    status: str
    status_zh: str
    problems: list[str]
    refunded: str
    reported_on: str | None
    selected: bool | None
    found: list[str]
    found_amount: str
    unreported: int
    strict: bool
    strict_zh: str
    target_clues: int | None
    version: int
    actions: list[Action]
    events: list[CampaignEvent]


class ReturnPage(Model):
    items: list[CampaignReturn]
    total: int
    page: int
    size: int


class CoverageRow(Model):
    key: str
    name: str
    total: int
    done: int
    onsite: int
    coverage: float


class PlanCoverageFigures(Model):
    id: int
    year: int
    title: str
    total: int
    done: int
    coverage: float
    regions: list[CoverageRow]
    types: list[CoverageRow]


class FlightCount(Model):
    status: str
    status_zh: str
    count: int


class ProblemProgress(Model):
    source: str
    source_zh: str
    total: int
    closed: int
    open: int
    overdue: int
    cleared_rate: float


class CampaignProgress(Model):
    id: int
    number: str
    title: str
    status_zh: str
    institutions: int
    reported: int
    selected: int
    checked: int
    refunded: str
    ledger_open: int
    ledger_closed: int


class InspectionOverview(Model):
    """The dashboard's inspection figures: plan coverage, flights, 清零 progress, campaign progress."""

    plan: PlanCoverageFigures | None
    flights: list[FlightCount]
    problems: list[ProblemProgress]
    campaigns: list[CampaignProgress]


class ProblemGroup(Model):
    problems: int
    institutions: int
    amount: str
    closed: int


class CategoryGroup(ProblemGroup):
    source: str
    source_zh: str
    category: str


class TypeGroup(ProblemGroup):
    key: str
    name: str


class CommonProblem(ProblemGroup):
    description: str
    sources_zh: list[str]


class ProblemSummary(Model):
    """问题清单 across inspections, for 举一反三."""

    total: int
    by_category: list[CategoryGroup]
    by_institution_type: list[TypeGroup]
    common: list[CommonProblem]
