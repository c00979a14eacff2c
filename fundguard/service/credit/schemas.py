"""Response models of the credit routes."""

from __future__ import annotations

from fundguard.service.schemas import Model


class Reason(Model):
    item: str
    label_zh: str
    count: int
    deduct: int


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
