"""Response models of the credit routes."""

from __future__ import annotations

from fundguard.service.schemas import Action, Model


class Reason(Model):
    item: str
    label_zh: str
    count: int
    deduct: int


class Measures(Model):
    """A grade's payment measures (configuration): 审核比例, 预付, the 双随机 weight, the measure in words."""

    review_share: float
    prepayment: bool
    draw_weight: int
    measure_zh: str


class SettlementPeriod(Model):
    since: str
    until: str
    months: int
    basis_zh: str
    active: bool


class Settlement(Model):
    """An insured person's 联网结算 standing today (条例 Art. 41; the credit scheme's insured measures)."""

    suspended: bool
    until: str | None
    status_zh: str
    periods: list[SettlementPeriod]


class CreditGrade(Model):
    id: int
    subject_type: str
    subject_type_zh: str
    subject_id: str
    subject_name: str
    year: int
    score: int
    grade: str
    grade_zh: str
    previous: str
    reasons: list[Reason]
    fixmedins_code: str
    admdvs: str
    computed_at: str
    consequence: str
    measures: Measures
    settlement: Settlement | None = None


class GradeMeasures(Measures):
    """One row of the scheme's measures table."""

    grade: str
    grade_zh: str
    floor: int
    insured_suspend_months: int
    insured_measure_zh: str


class InsuredCredit(Model):
    psn_no: str
    name: str
    grade: CreditGrade | None
    settlement: Settlement
    history: list[CreditGrade]


class GradePage(Model):
    items: list[CreditGrade]
    total: int
    page: int
    size: int


class Recomputed(Model):
    year: int
    subjects: dict[str, int]
    changed: list[dict[str, str]]


class BlacklistEntry(Model):
    id: int
    subject_type: str
    subject_type_zh: str
    subject_id: str
    subject_name: str
    reason: str
    entered_on: str
    until: str
    left_on: str | None
    left_reason: str
    public: bool
    fixmedins_code: str
    admdvs: str


class BlacklistPage(Model):
    items: list[BlacklistEntry]
    total: int
    page: int
    size: int


class Distribution(Model):
    """Latest grades counted by grade, per subject."""

    institution: dict[str, int]
    staff: dict[str, int]
    insured: dict[str, int]


class DrawWeights(Model):
    """双随机 weight per institution code (lower grades drawn more often)."""

    weights: dict[str, int]


class RepairStep(Model):
    action: str
    action_zh: str
    actor: str
    at: str
    to_status_zh: str
    comment: str


class CreditRepair(Model):
    """信用修复申请 with its state, the clean period and, in the detail, the actions and the timeline."""

    id: int
    subject_type: str
    subject_type_zh: str
    subject_id: str
    subject_name: str
    blacklist_id: int | None
    grade_before: str
    grade_after: str
    rectification: str
    evidence: list[str]
    pledge: str
    clean_since: str
    eligible_on: str
    applied_on: str
    decide_by: str
    decided_on: str | None
    status: str
    status_zh: str
    fixmedins_code: str
    admdvs: str
    version: int
    actions: list[Action]
    timeline: list[RepairStep]


class RepairPage(Model):
    items: list[CreditRepair]
    total: int
    page: int
    size: int
