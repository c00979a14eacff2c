"""Response models of the disclosure routes (workbench and public)."""

from __future__ import annotations

from fundguard.service.schemas import Action, Model


class Table(Model):
    caption: str
    columns: list[str]
    rows: list[list[str]]


class Content(Model):
    kind: str
    kind_zh: str
    title: str
    paragraphs: list[str]
    facts: list[list[str]]
    tables: list[Table]


class Disclosure(Model):
    id: int
    kind: str
    kind_zh: str
    title: str
    year: int
    status: str
    status_zh: str
    admdvs: str
    fixmedins_code: str
    source_type: str
    source_id: str
    created_by: str
    created_at: str
    published_at: str | None
    withdrawn_at: str | None
    version: int


class DisclosureEvent(Model):
    action: str
    action_zh: str
    actor: str
    to_status_zh: str
    comment: str
    at: str


class DisclosureDetail(Disclosure):
    content: Content
    actions: list[Action]
    events: list[DisclosureEvent]


class DisclosurePage(Model):
    items: list[Disclosure]
    total: int
    page: int
    size: int


class PublicDisclosure(Model):
    id: int
    kind: str
    kind_zh: str
    title: str
    year: int
    published_at: str


class PublicDisclosureDetail(PublicDisclosure):
    content: Content
