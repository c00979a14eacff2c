"""Response models of reports and rewards. None of them has a field for the reporter's identity but
``Identity``, which only the decryption route answers."""

from __future__ import annotations

from fundguard.service.schemas import Action, Model


class Filed(Model):
    number: str
    code: str  # shown once
    status_zh: str


class PublicReward(Model):
    status: str
    status_zh: str
    amount: str
    claim_due: str | None = None


class PublicStatus(Model):
    status: str
    status_zh: str
    received_on: str
    reply: str
    reward: PublicReward | None = None


class Challenge(Model):
    challenge: str
    bits: int
    question_zh: str


class Region(Model):
    code: str
    name: str
    level: str


class Option(Model):
    value: str
    label_zh: str


class PublicForm(Model):
    regions: list[Region]
    target_kinds: list[Option]
    violation_types: list[Option]


class Reward(Model):
    id: int
    report_id: int
    case_value: str
    grade: int
    insider: bool
    amount: str
    basis: str
    status: str
    status_zh: str
    notice_no: str
    notified_on: str | None
    claim_due: str | None
    claimed_on: str | None
    voucher_no: str
    paid_on: str | None
    version: int


class RewardDetail(Reward):
    actions: list[Action]


class RewardPage(Model):
    items: list[Reward]
    total: int
    page: int
    size: int


class ReportItem(Model):
    id: int
    number: str
    channel: str
    channel_zh: str
    target_kind: str
    target_kind_zh: str
    violation_type: str
    violation_type_zh: str
    target_name: str
    admdvs: str
    fixmedins_code: str
    real_name: bool
    insider: bool
    excluded: str
    status: str
    status_zh: str
    outcome: str
    received_on: str
    due_date: str | None
    notice_due: str | None
    notified_on: str | None
    warnings: list[str]
    clue_id: int | None
    duplicate_of: int | None
    version: int


class ReportPage(Model):
    items: list[ReportItem]
    total: int
    page: int
    size: int


class Event(Model):
    action: str
    label_zh: str
    to_status_zh: str
    actor: str
    at: str
    comment: str


class AttachmentInfo(Model):
    id: int
    filename: str
    size: int


class Linked(Model):
    id: int
    number: str
    received_on: str


class ReportDetail(ReportItem):
    description: str
    happened: str
    place: str
    reply: str
    inspection: str
    events: list[Event]
    attachments: list[AttachmentInfo]
    linked: list[Linked]
    actions: list[Action]
    reward: Reward | None
    can_decrypt: bool


class Identity(Model):
    report_id: int
    number: str
    name: str
    phone: str
    id_no: str = ""
    address: str = ""


class Count(Model):
    key: str | None
    label_zh: str
    count: int


class Statistics(Model):
    total: int
    by_channel: list[Count]
    by_type: list[Count]
    by_status: list[Count]
    by_outcome: list[Count]
    became_clues: int
    became_cases: int
    case_share: float
    recovered: str
    rewards_paid: str
