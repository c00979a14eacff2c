"""Response models of the staff-registry and points routes."""

from __future__ import annotations

from fundguard.service.schemas import Action, Model, TimelineEntry


class Site(Model):
    fixmedins_code: str
    admdvs: str
    department: str


class Qualification(Model):
    national_code: str
    registered: bool
    status: str
    status_zh: str
    points_year: int
    since: str | None
    until: str | None
    bar_until: str | None
    reason_zh: str
    source_admdvs: str
    warn: bool
    on_date: str


class Lookup(Qualification):
    name: str
    in_scope: bool
    staff_id: int | None


class DocumentLink(Model):
    kind: str
    name_zh: str
    url: str
    pdf_url: str


class PointRecord(Model):
    id: int
    staff_id: int
    case_id: int | None
    fixmedins_code: str
    behaviour_code: str
    behaviour_zh: str
    band: int
    responsibility: str
    adjustment: str
    adjustment_zh: str
    points: int
    reduced: int
    reason: str
    decided_on: str
    statement_due: str
    effective_on: str | None
    statement: str
    status: str
    status_zh: str
    version: int
    actions: list[Action]
    events: list[TimelineEntry]
    documents: list[DocumentLink]


class Person(Model):
    id: int
    national_code: str
    name: str
    id_no: str
    category: str
    fixmedins_code: str
    admdvs: str
    pledge_on: str
    registered_on: str
    version: int
    status: str
    status_zh: str
    points_year: int


class StaffFile(Person):
    qualification: Qualification
    sites: list[Site]
    records: list[PointRecord]


class StaffPage(Model):
    items: list[Person]
    total: int
    page: int
    size: int


class PointPage(Model):
    items: list[PointRecord]
    total: int
    page: int
    size: int


class RowError(Model):
    line: int
    reason_zh: str
    reason_en: str


class ImportResult(Model):
    created: int = 0
    imported: int = 0
    errors: list[RowError]
