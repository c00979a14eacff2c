"""Response models shared by the supervision concepts (Pydantic): the strict base, pages, the action forms the
workflow engine offers, users, the process definitions, the scorecard and the enforcement record. Each
concept's own shapes are in ``<concept>/schemas.py``. The API declares them on every route, so the web front end
reads one documented shape and never guesses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Strict: a service answer with a field the schema does not declare is a bug, not a silent drop."""

    model_config = ConfigDict(extra="forbid")


class Choice(Model):
    value: str
    label_zh: str


class FormField(Model):
    name: str
    label_zh: str
    type: str
    required: bool
    choices: list[Choice] | None = None
    source: str | None = None


class Action(Model):
    """An action the actor may take now, with its form; ``blocked_zh`` says why a rule refuses it."""

    action: str
    label_zh: str
    fields: list[FormField]
    blocked_zh: str | None = None


class TimelineEntry(Model):
    """One step of an item's history (``workflow.timeline``)."""

    at: str
    action: str
    action_zh: str
    actor_name: str
    to_status: str
    to_status_zh: str
    comment: str


class Measure(Model):
    code: str
    name_zh: str
    amount: str | None
    at: str
    by: str


class Grant(Model):
    admdvs: str
    fixmedins_code: str | None
    valid_to: str


class User(Model):
    username: str
    display_name: str
    role: str
    role_zh: str
    admdvs: str
    fixmedins_code: str | None
    department: str
    cert_no: str = ""
    grants: list[Grant] = []
    permissions: list[str] = []
    must_change: bool = False  # a first or reset password: change it before anything else
    totp_on: bool = False  # the second factor (admin and legal roles) is on


class Login(Model):
    token: str
    user: User


class UserRow(User):
    active: bool = True


class GrantRow(Model):
    id: int
    username: str
    admdvs: str
    fixmedins_code: str | None
    valid_to: str
    reason: str
    granted_by: str


class AccessLogItem(Model):
    id: int
    at: str
    username: str
    action: str
    action_zh: str
    target: str
    client: str
    outcome: str


class AccessLogPage(Model):
    items: list[AccessLogItem]
    total: int
    page: int
    size: int


class Revoked(Model):
    ok: bool
    revoked: int


class TemporaryPassword(Model):
    username: str
    temporary_password: str


class Ok(Model):
    ok: bool


class TotpEnrolment(Model):
    otpauth_uri: str  # shown once, for the authenticator app
    secret: str  # the same secret as base32 text, for typing in


class State(Model):
    code: str
    label_zh: str
    final: bool


class Transition(Model):
    action: str
    label_zh: str
    sources: list[str]
    roles: list[str]
    step_zh: str
    fields: list[FormField]


class Process(Model):
    name: str
    states: list[State]
    transitions: list[Transition]


class ScorecardRow(Model):
    rule_id: str
    rule_version: str
    rule_name: str | None
    flags: int
    hits: int
    confirmed: int
    dismissed: int
    overturned: int
    decided: int
    confirmation_rate: str | None
    money_at_issue: str
    money_confirmed: str
    below_floor: bool
    paused: bool
    paused_reason: str
    paused_by: str
    file: str | None = None


class RecordItem(Model):
    seq: int
    at: str
    actor: str
    action: str
    action_zh: str
    entity: str
    entity_zh: str
    entity_id: str
    payload: dict[str, Any]
    hash: str


class RecordPage(Model):
    items: list[RecordItem]
    total: int
    page: int
    size: int


class Mismatch(Model):
    """A row whose watched field differs from what the record says (``field`` ``*``: a row never recorded)."""

    entity: str
    id: int
    field: str
    recorded: Any
    current: Any


class Anchor(Model):
    db: str
    at: str
    seq: int
    hash: str


class Verification(Model):
    ok: bool
    entries: int
    first_bad: int | None
    reason_zh: str
    reason_en: str
    head_hash: str | None = None
    anchor: Anchor | None = None
    mismatches: list[Mismatch] = []
