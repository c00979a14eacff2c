"""ORM tables of the service database (SQLAlchemy 2): regions, institutions, users, sessions, grants, clues and
their hits, events and appeals, cases with their steps, measures, penalties and the two money ledgers,
referrals, clue transfers, rule pauses and the hash-chained enforcement record.

Money is kept as integer fen (``Money``) so SQLite and PostgreSQL sum it exactly; times are UTC
(``UTCDateTime``: naive UTC in the database, aware on the way out). Mutable workflow rows carry a
``version`` column for optimistic locking.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """Any number → Decimal with 2 places (yuan)."""
    return Decimal(str(value if value is not None else 0)).quantize(CENT, rounding=ROUND_HALF_UP)


class Money(TypeDecorator):
    """Decimal yuan stored as integer fen."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        return None if value is None else int(money(value) * 100)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else (Decimal(int(value)) / 100).quantize(CENT)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes stored naive (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Region(Base):
    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))  # province / city / county
    parent_code: Mapped[str | None] = mapped_column(String(6), nullable=True)


class Institution(Base):
    __tablename__ = "institutions"
    fixmedins_code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    fixmedins_type: Mapped[str] = mapped_column(String(10), default="")
    hosp_lv: Mapped[str] = mapped_column(String(10), default="")
    agrm_stas: Mapped[str] = mapped_column(String(10), default="")  # 协议状态 as in medins_info_b


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(40))
    admdvs: Mapped[str] = mapped_column(String(6))
    fixmedins_code: Mapped[str | None] = mapped_column(String(30), nullable=True)
    department: Mapped[str] = mapped_column(String(40), default="医保局")
    cert_no: Mapped[str] = mapped_column(String(40), default="", server_default="")  # 执法证号
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    must_change: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa.false()
    )  # first/reset
    # Second factor (admin and legal roles, optional): the TOTP secret sealed under the record key
    # (``service.totp``), whether it is confirmed, and the last accepted time step (no replay).
    totp_secret: Mapped[str | None] = mapped_column(String(120), nullable=True)
    totp_on: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AccessLog(Base):
    """访问日志: who logged in or read patient-level data, or acted as administrator (``service.access``)."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(120), default="")
    client: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="ok")


class LoginThrottle(Base):
    """Failed logins per account name (known or not: the answer must not tell) and per client address; each
    failure past the free ones doubles the wait before the next try (back-off, not a lock)."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # "user:<name>" or "client:<address>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_allowed: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuthSession(Base):
    __tablename__ = "auth_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the bearer token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Grant(Base):
    """A cross-check assignment (交叉检查): a user may see another region or institution until ``valid_to``."""

    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    admdvs: Mapped[str] = mapped_column(String(6))
    fixmedins_code: Mapped[str | None] = mapped_column(String(30), nullable=True)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(400), default="")
    granted_by: Mapped[str] = mapped_column(String(64))


class AuditRun(Base):
    __tablename__ = "audit_runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace: Mapped[str] = mapped_column(Text, default="")  # where the store with the evidence lines is
    ruleset_version: Mapped[str] = mapped_column(String(32), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    clues_created: Mapped[int] = mapped_column(Integer, default=0)


class Clue(Base):
    __tablename__ = "clues"
    __table_args__ = (UniqueConstraint("group_key", name="uq_clue_group_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20), default="rule")  # rule / transfer / model / complaint
    # rule clues: one per "rule|rule_id|institution|month" (imports are idempotent); other sources: NULL
    group_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True, default="")
    rule_version: Mapped[str] = mapped_column(String(32), default="")
    rule_name: Mapped[str] = mapped_column(String(200), default="")
    result_type: Mapped[str] = mapped_column(String(20), default="")
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    fixmedins_name: Mapped[str] = mapped_column(String(200), default="")
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    hits: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    confirmed_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    step_started: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    overturned: Mapped[bool] = mapped_column(Boolean, default=False)  # dismissed on the institution's appeal
    notified: Mapped[bool] = mapped_column(Boolean, default=False)  # shown to the institution (after 复审)
    # what became of the flag: confirmed / dismissed / overturned / penalised / no_penalty (rule precision)
    outcome: Mapped[str] = mapped_column(String(20), default="", server_default="")
    department: Mapped[str] = mapped_column(String(40), default="医保局")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking on flush


class ClueHit(Base):
    __tablename__ = "clue_hits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    run_id: Mapped[str] = mapped_column(String(64))
    mdtrt_id: Mapped[str] = mapped_column(String(64), default="")
    setl_id: Mapped[str] = mapped_column(String(64), default="")
    psn_no: Mapped[str] = mapped_column(String(64), default="")
    bkkp_sn: Mapped[str] = mapped_column(Text, default="")  # ';'-joined fee line numbers
    hilist_code: Mapped[str] = mapped_column(String(64), default="")
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    evidence_zh: Mapped[str] = mapped_column(Text, default="")
    kp_id: Mapped[str] = mapped_column(String(64), default="")
    # copied from the store at import (revision 0003), so the detail page needs no DuckDB scan
    item_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    fee_ocur_time: Mapped[str] = mapped_column(String(19), default="", server_default="")
    psn_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    outcome: Mapped[str] = mapped_column(
        String(20), default="", server_default=""
    )  # the clue's, written back


class ClueEvent(Base):
    __tablename__ = "clue_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(30), default="")
    to_status: Mapped[str] = mapped_column(String(30), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


class Appeal(Base):
    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class AppealFile(Base):
    __tablename__ = "appeal_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(30), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    party_name: Mapped[str] = mapped_column(String(200))
    party_type: Mapped[str] = mapped_column(String(20), default="organisation")  # organisation / individual
    party_id: Mapped[str] = mapped_column(String(64), default="", server_default="")  # an individual's psn_no
    served_on: Mapped[dt.date | None] = mapped_column(
        Date, nullable=True
    )  # the decision served (payment clock)
    closing_grounds: Mapped[str] = mapped_column(String(20), default="", server_default="")
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    opened_at: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    amount_at_issue: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    loss_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    behaviour_code: Mapped[str] = mapped_column(String(20), default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[str] = mapped_column(String(20), default="")  # 主观故意, kept apart from the behaviour
    intent_evidence: Mapped[str] = mapped_column(Text, default="")
    officers_json: Mapped[str] = mapped_column(Text, default="[]")
    proposal_json: Mapped[str] = mapped_column(Text, default="{}")  # proposed penalty and measures
    decision_json: Mapped[str] = mapped_column(Text, default="{}")
    needs_legal_review: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    collective_discussed: Mapped[bool] = mapped_column(Boolean, default=False)
    notice_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    hearing_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    step_started: Mapped[dt.date] = mapped_column(Date)
    closed_at: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking on flush


class CaseStep(Base):
    __tablename__ = "case_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    step: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40), default="", server_default="")
    from_status: Mapped[str] = mapped_column(String(30), default="")
    to_status: Mapped[str] = mapped_column(String(30), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


class CaseExtension(Base):
    __tablename__ = "case_extensions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(100))
    collective: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    new_deadline: Mapped[dt.date] = mapped_column(Date)


class Measure(Base):
    """A 协议处理 measure by the handling agency (on a case or directly on a clue)."""

    __tablename__ = "measures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), nullable=True, index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    admdvs: Mapped[str] = mapped_column(String(6))
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(60))
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(64))


class Penalty(Base):
    """A 行政处罚 decided on a case (per 条例 article, inside the discretion table's range)."""

    __tablename__ = "penalties"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    admdvs: Mapped[str] = mapped_column(String(6))
    article: Mapped[str] = mapped_column(String(20))
    circumstance: Mapped[str] = mapped_column(String(20), default="一般")
    loss_amount: Mapped[Decimal] = mapped_column(Money)
    refund_amount: Mapped[Decimal] = mapped_column(Money)
    fine_amount: Mapped[Decimal] = mapped_column(Money)
    suspension_months: Mapped[int] = mapped_column(Integer, default=0)
    basis_zh: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[str] = mapped_column(String(20), default="")
    decided_at: Mapped[dt.date] = mapped_column(Date)


class FundRefund(Base):
    """退回基金: money recovered to the fund's fiscal special account (条例 Art. 45) — its own ledger."""

    __tablename__ = "fund_refunds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), nullable=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    admdvs: Mapped[str] = mapped_column(String(6))
    amount: Mapped[Decimal] = mapped_column(Money)
    account: Mapped[str] = mapped_column(String(100), default="医保基金财政专户")
    voucher_no: Mapped[str] = mapped_column(String(100), default="")
    paid_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))


class TreasuryFine(Base):
    """罚没收入上缴国库: fines paid to the treasury (条例 Art. 45) — kept apart from refunds."""

    __tablename__ = "treasury_fines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    admdvs: Mapped[str] = mapped_column(String(6))
    amount: Mapped[Decimal] = mapped_column(Money)
    late_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    voucher_no: Mapped[str] = mapped_column(String(100), default="")
    paid_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))


class Referral(Base):
    """移送: a case or clue sent to 公安 / 纪检监察 / 卫生健康 / 市场监管, with its receipt and time limits."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), nullable=True, index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30))
    admdvs: Mapped[str] = mapped_column(String(6))
    target: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        String(20)
    )  # pending_approval / sent / received / accepted / declined
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    receipt_no: Mapped[str] = mapped_column(String(100), default="")
    receipt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    receipt_by: Mapped[str] = mapped_column(String(100), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking on flush


class ClueTransfer(Base):
    """A clue handed between departments or regions (移交/转办), accepted or returned by the receiver."""

    __tablename__ = "clue_transfers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    from_admdvs: Mapped[str] = mapped_column(String(6))
    to_admdvs: Mapped[str] = mapped_column(String(6))
    from_department: Mapped[str] = mapped_column(String(40))
    to_department: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # sent / accepted / returned
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by: Mapped[str] = mapped_column(String(64), default="")


class RulePause(Base):
    __tablename__ = "rule_pauses"
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmation_rate: Mapped[str] = mapped_column(String(20), default="")


class RecordEntry(Base):
    """执法全过程记录: append-only; ``hash = sha256(prev_hash + canonical JSON of the entry)``."""

    __tablename__ = "record_entries"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO text, hashed exactly as stored
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RecordHead(Base):
    """One row: the chain's last seq and hash; locked while appending so concurrent writers queue up."""

    __tablename__ = "record_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


# The real-time audit's API keys (issue 10): see service.realtime_keys.
class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the secret part
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)  # rotation grace
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def usable(self, now: dt.datetime | None = None) -> bool:
        now = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class RealtimeCall(Base):
    __tablename__ = "realtime_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    key_id: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    fixmedins_code: Mapped[str | None] = mapped_column(String(30), nullable=True)
    client: Mapped[str] = mapped_column(String(64), default="")
    route: Mapped[str] = mapped_column(String(40))
    psn_no: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    mdtrt_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))
    """ok | invalid | forbidden | unauthenticated | rate_limited | busy | unavailable | error."""
    status: Mapped[int] = mapped_column(Integer)
    hit_count: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    count: Mapped[int] = mapped_column(Integer, default=1)


# ---------------------------------------------------------------- inspections (issue 14): registries and draws


class InspectionTarget(Base):
    """检查对象名录库: what the registry adds to an institution of the store (risk weight, whether it is in
    the pool, the last inspection); an institution without a row has the defaults."""

    __tablename__ = "inspection_targets"
    fixmedins_code: Mapped[str] = mapped_column(ForeignKey("institutions.fixmedins_code"), primary_key=True)
    risk_weight: Mapped[int] = mapped_column(Integer, default=1)  # 1–10, the draw's weight
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    last_inspected: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Inspector(Base):
    """执法检查人员名录库 and 专家库 in one table: ``kind`` is officer (执法人员, with 执法证号), expert (专家)
    or agency_staff (第三方机构人员, with ``agency_id``). The recusal facts (回避) are the institutions the
    person worked at and those where close relatives work (';'-joined codes)."""

    __tablename__ = "inspectors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(100))
    cert_no: Mapped[str] = mapped_column(String(40), default="")
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    department: Mapped[str] = mapped_column(String(100), default="")
    speciality: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    former_employers: Mapped[str] = mapped_column(Text, default="")
    relatives_at: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agency(Base):
    """A third-party agency (第三方机构: accounting firms, information-technology and medical-review firms)."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), default="")  # 统一社会信用代码
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    speciality: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")


class RegistryChange(Base):
    """The history of every registry edit and import: who changed which row, before and after."""

    __tablename__ = "registry_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book: Mapped[str] = mapped_column(String(20), index=True)  # which registry: target / inspector / agency
    item_key: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))  # create / update / import
    before_json: Mapped[str] = mapped_column(Text, default="{}")
    after_json: Mapped[str] = mapped_column(Text, default="{}")


class Draw(Base):
    """A 双随机 draw: the sealed record (pools, rules, seed, result; ``record_json`` hashed as ``hash``), and
    its publication (公开). A redraw is a new row citing ``previous_id`` with its ``reason``."""

    __tablename__ = "draws"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    seed_value: Mapped[str] = mapped_column(String(200))
    hash: Mapped[str] = mapped_column(String(64))
    record_json: Mapped[str] = mapped_column(Text)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("draws.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="drawn")  # drawn / published / superseded
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by: Mapped[str] = mapped_column(String(64), default="")


class FlightInspection(Base):
    """A 飞行检查 (令第6号) of one institution on the ``flight`` process: plan, team, pre-analysis (疑点清单),
    on-site records, findings, feedback and 陈述申辩, handover as clues, 整改 and 回头看. Lists are JSON."""

    __tablename__ = "flight_inspections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    trigger: Mapped[str] = mapped_column(String(30))
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("draws.id"), nullable=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    scope: Mapped[str] = mapped_column(Text, default="")  # 检查范围与重点
    period_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    period_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    step_started: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    team_json: Mapped[str] = mapped_column(Text, default="{}")
    leads_json: Mapped[str] = mapped_column(Text, default="[]")  # 疑点清单 from the target's clues
    records_json: Mapped[str] = mapped_column(Text, default="[]")  # 笔录、证据、数据调取
    findings_json: Mapped[str] = mapped_column(Text, default="[]")  # problems, each later a clue
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking on flush


class FlightEvent(Base):
    __tablename__ = "flight_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("flight_inspections.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(30), default="")
    to_status: Mapped[str] = mapped_column(String(30), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


class SupervisionPlan(Base):
    """年度监督检查计划: every institution of the region gets a ``PlanItem`` (全覆盖); the prioritised ones on site."""

    __tablename__ = "supervision_plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    title: Mapped[str] = mapped_column(String(300))
    config_json: Mapped[str] = mapped_column(Text, default="{}")  # top_n, sample_ratio, seed value
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanItem(Base):
    __tablename__ = "plan_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("supervision_plans.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    mode: Mapped[str] = mapped_column(String(10))  # onsite / review
    reasons: Mapped[str] = mapped_column(String(200), default="")  # ';'-joined: top / sample / lead / report
    fund_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # prior-year fund payment
    done_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")


class Problem(Base):
    """问题清零台账: one problem with its owner, deadline, status and evidence of closure."""

    __tablename__ = "problems"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # flight / plan / campaign
    source_ref: Mapped[str] = mapped_column(String(60), default="")
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    category: Mapped[str] = mapped_column(String(60), default="")
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    owner: Mapped[str] = mapped_column(String(100))
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open / closed
    evidence: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- 医保支付资格记分 (issue 15): 一人一档


class Staff(Base):
    """One person's file (一人一档): registration (登记备案) with the national code and the 服务承诺; the
    registering institution gives the row its scope, the practice sites (``StaffSite``) widen it."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_code: Mapped[str] = mapped_column(String(30), unique=True)  # 国家医保医师/护士/药师代码
    id_no: Mapped[str] = mapped_column(String(30), index=True)  # 身份证号
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20))  # 医师 / 药师 / 护士 / 技师 / … / 药店主要负责人
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    pledge_on: Mapped[dt.date] = mapped_column(Date)  # 服务承诺 signed
    registered_on: Mapped[dt.date] = mapped_column(Date)  # 登记备案 (again after a bar ends)
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class StaffSite(Base):
    """A designated institution where the person practises (多点执业): points act at every one of them."""

    __tablename__ = "staff_sites"
    __table_args__ = (UniqueConstraint("staff_id", "fixmedins_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    department: Mapped[str] = mapped_column(String(60), default="")


class PointRecord(Base):
    """One scoring of one person from a decided case or 协议处理, through 告知 → 陈述申辩 → 生效 (``POINTS_FLOW``);
    ``decided_on`` is the score date (natural-year window), ``effective_on`` when it took effect."""

    __tablename__ = "point_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    behaviour_code: Mapped[str] = mapped_column(String(20), default="")
    band: Mapped[int] = mapped_column(Integer)
    responsibility: Mapped[str] = mapped_column(String(10))  # 一般 / 重要 / 主要
    adjustment: Mapped[str] = mapped_column(String(10), default="none")  # none / mitigate / aggravate
    points: Mapped[int] = mapped_column(Integer)
    reduced: Mapped[int] = mapped_column(Integer, default=0)  # by 修复
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[dt.date] = mapped_column(Date, index=True)
    statement_due: Mapped[dt.date] = mapped_column(Date)
    effective_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    statement: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    step_started: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class PointEvent(Base):
    __tablename__ = "point_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("point_records.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


class ExternalQualification(Base):
    """Another region's suspension or termination, imported from the exchange file (全国联网惩戒)."""

    __tablename__ = "external_qualifications"
    __table_args__ = (UniqueConstraint("national_code", "source_admdvs", "since"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_code: Mapped[str] = mapped_column(String(30), index=True)
    id_no: Mapped[str] = mapped_column(String(30), default="")
    name: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20))  # suspended / terminated
    since: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    bar_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    source_admdvs: Mapped[str] = mapped_column(String(6))
    reason: Mapped[str] = mapped_column(Text, default="")
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- 医保信用 (issue 15): grades and the blacklist


class CreditGrade(Base):
    """One computed grade of one subject for a natural year, with its reasons (the history is every row)."""

    __tablename__ = "credit_grades"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20), index=True)  # institution / staff / insured
    subject_id: Mapped[str] = mapped_column(String(64), index=True)  # fixmedins_code / national_code / psn_no
    subject_name: Mapped[str] = mapped_column(String(200), default="")
    year: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(4))
    previous: Mapped[str] = mapped_column(String(4), default="")
    reasons_json: Mapped[str] = mapped_column(Text, default="[]")
    fixmedins_code: Mapped[str] = mapped_column(String(30), default="")
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    computed_by: Mapped[str] = mapped_column(String(64))


class BlacklistEntry(Base):
    """严重失信名单 (联合惩戒): entered by a rule or an officer, left on its end date or by repair."""

    __tablename__ = "credit_blacklist"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20), index=True)
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    subject_name: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    entered_on: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    left_reason: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    fixmedins_code: Mapped[str] = mapped_column(String(30), default="")
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    created_by: Mapped[str] = mapped_column(String(64))


# ---------------------------------------------------------------- 举报处理与奖励 (issue 16a): reports and rewards


class Report(Base):
    """A public report (举报投诉) on the ``REPORT_FLOW``. The reporter's identity and contact are only in
    ``identity_sealed`` (AES-GCM under a key outside the database, ``reports.sealing``); the tracking code only as
    its keyed hash. ``fixmedins_code`` is empty until the report becomes a clue."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    target_kind: Mapped[str] = mapped_column(String(20))
    violation_type: Mapped[str] = mapped_column(String(30))
    target_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    happened: Mapped[str] = mapped_column(String(100), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    real_name: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_sealed: Mapped[str] = mapped_column(Text, default="")
    insider: Mapped[bool] = mapped_column(Boolean, default=False)  # 内部人员 (declared; reward bonus)
    excluded: Mapped[str] = mapped_column(String(30), default="")  # staff / self_reporting / already_known
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), default="", index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    step_started: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str] = mapped_column(String(20), default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), nullable=True, index=True)
    inspection: Mapped[str] = mapped_column(String(200), default="")
    duplicate_of: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    notice_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 告知实名举报人 (5 working days)
    notified_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(String(64), default="public")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ReportEvent(Base):
    __tablename__ = "report_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


class ReportAttachment(Base):
    """An attachment, sealed like the identity (a photo or a receipt may name the reporter)."""

    __tablename__ = "report_attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class ReportReward(Base):
    """举报奖励 of one report on the ``REWARD_FLOW``: computed from the case's 案值 → approved → 奖励通知 →
    claimed with an identity check within the window (``due_date``) → paid; or waived / refused."""

    __tablename__ = "report_rewards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), unique=True)
    case_value: Mapped[Decimal] = mapped_column(Money)
    grade: Mapped[int] = mapped_column(Integer)
    insider: Mapped[bool] = mapped_column(Boolean, default=False)
    amount: Mapped[Decimal] = mapped_column(Money)
    basis: Mapped[str] = mapped_column(Text)
    notice_no: Mapped[str] = mapped_column(String(60), default="")
    notified_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    claimed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    claimant_sealed: Mapped[str] = mapped_column(Text, default="")
    voucher_no: Mapped[str] = mapped_column(String(60), default="")
    paid_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    step_started: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class RewardEvent(Base):
    __tablename__ = "reward_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("report_rewards.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


# ---------------------------------------------------------------- issue 16b: 信息公开, 部门协同, 异地就医


class Disclosure(Base):
    """One public-disclosure item (信息公开). ``content_json`` is the masked snapshot composed at drafting: what
    the reviewer and the head approve is exactly what the public page shows."""

    __tablename__ = "disclosures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(30), index=True
    )  # typical_case / flight_notice / draw / fund_use / ...
    title: Mapped[str] = mapped_column(String(300))
    content_json: Mapped[str] = mapped_column(Text, default="{}")
    source_type: Mapped[str] = mapped_column(String(20), default="")  # case / draw / institution / year
    source_id: Mapped[str] = mapped_column(String(64), default="")
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking on flush


class DisclosureEvent(Base):
    __tablename__ = "disclosure_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosures.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExchangeMessage(Base):
    """One message of the inter-department exchange (部门协同), sent or received: a referral, a receipt, a
    result, a partner finding. ``message_id`` is unique, so importing a partner file twice adds nothing."""

    __tablename__ = "exchange_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(80), unique=True)
    direction: Mapped[str] = mapped_column(String(4))  # out / in
    kind: Mapped[str] = mapped_column(String(20))  # referral / receipt / result / finding
    partner: Mapped[str] = mapped_column(String(20))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), nullable=True, index=True)
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), nullable=True, index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), default="")
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(64))


class CrossRegionLink(Base):
    """A clue at the place of treatment that concerns persons insured elsewhere (异地就医): the insurance
    region sees it for its own duty (its insured persons) and may ask for joint handling (联合办案)."""

    __tablename__ = "cross_region_links"
    __table_args__ = (UniqueConstraint("clue_id", "insu_admdvs"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    insu_admdvs: Mapped[str] = mapped_column(String(6), index=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    persons: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    joint_status: Mapped[str] = mapped_column(String(20), default="")  # "" / requested / accepted / declined
    joint_by: Mapped[str] = mapped_column(String(64), default="")
    joint_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# ---------------------------------------------------------------- issue 15: 信用修复 (credit repair process)


class CreditRepair(Base):
    """信用修复申请: the subject (institution, staff, insured) rectified and served the clean period; reviewed,
    approved by the 负责人, then it leaves the blacklist and its grade is restored without the listing."""

    __tablename__ = "credit_repairs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(20), index=True)
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    subject_name: Mapped[str] = mapped_column(String(200), default="")
    blacklist_id: Mapped[int | None] = mapped_column(ForeignKey("credit_blacklist.id"), nullable=True)
    grade_before: Mapped[str] = mapped_column(String(4), default="")
    grade_after: Mapped[str] = mapped_column(String(4), default="")
    rectification: Mapped[str] = mapped_column(Text)  # 整改情况说明
    evidence_json: Mapped[str] = mapped_column(Text, default="[]")  # 整改佐证材料
    pledge: Mapped[str] = mapped_column(Text)  # 信用承诺
    clean_since: Mapped[dt.date] = mapped_column(
        Date
    )  # the last adverse fact: the clean period runs from here
    applied_on: Mapped[dt.date] = mapped_column(Date)
    decide_by: Mapped[dt.date] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), default="")
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CreditRepairEvent(Base):
    __tablename__ = "credit_repair_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("credit_repairs.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


# ---------------------------------------------------------------- 专项整治 (issue 14): special campaigns


class Campaign(Base):
    """A 专项整治 campaign on the ``campaign`` process (动员部署 → 自查自纠 → 抽查复查 → 总结): its theme and
    focus areas, the rules/models it targets (rule ids, as on clues), its region, its self-check deadline, and
    the sample drawn for re-checking (seed value and ratio, so the sample can be recomputed)."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    theme: Mapped[str] = mapped_column(String(60))
    focus_json: Mapped[str] = mapped_column(Text, default="[]")
    targets_json: Mapped[str] = mapped_column(Text, default="[]")  # rule ids / model codes it targets
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), default="")  # none: a campaign spans institutions
    status: Mapped[str] = mapped_column(String(30), index=True)
    step_started: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    self_check_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    rectify_days: Mapped[int] = mapped_column(Integer, default=30)
    seed_value: Mapped[str] = mapped_column(String(200), default="")
    sample_ratio: Mapped[int] = mapped_column(Integer, default=0)  # per cent of the reporting institutions
    summary: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking on flush


class CampaignEvent(Base):
    __tablename__ = "campaign_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(30), default="")
    to_status: Mapped[str] = mapped_column(String(30), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


class CampaignReturn(Base):
    """One institution in a campaign's scope on the ``campaign_return`` process: its 自查自纠 return (problems
    found, money refunded voluntarily), whether it was drawn for re-checking, and the bureau's check (problems
    found, how many it had not reported: handled more strictly)."""

    __tablename__ = "campaign_returns"
    __table_args__ = (UniqueConstraint("campaign_id", "fixmedins_code", name="uq_campaign_return"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(30), index=True)
    admdvs: Mapped[str] = mapped_column(String(6), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    step_started: Mapped[dt.date] = mapped_column(Date)
    problems_json: Mapped[str] = mapped_column(Text, default="[]")
    refunded: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    reported_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    found_json: Mapped[str] = mapped_column(Text, default="[]")
    found_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    unreported: Mapped[int] = mapped_column(Integer, default=0)
    strict: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — optimistic locking on flush


class CampaignReturnEvent(Base):
    __tablename__ = "campaign_return_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("campaign_returns.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(30), default="")
    to_status: Mapped[str] = mapped_column(String(30), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    fields_json: Mapped[str] = mapped_column(Text, default="{}")


# --- issue 15 ---
# the real-time 联网结算 check looks up decided cases by the insured person (``realtime_insured``) on every claim
Index("ix_cases_party_id", Case.party_id)
