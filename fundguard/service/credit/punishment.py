"""失信联合惩戒名单: the current 严重失信名单 exported for partner departments (市场监管, 卫生健康, 税务 … through the
全国信用信息共享平台, 条例 Art. 33), in a documented, versioned format — version 1.0.

The format follows the conventions of the exchange format (``service.exchange.format``: an envelope with
``format``, ``version``, ``sender`` {department, admdvs} and ``created_at``, validated by Pydantic, its JSON Schema
published under ``docs/exchange/``, the Excel form with a 说明 sheet of envelope fields and one data sheet whose
headers are the field names). The models are not imported from there: the layer contract puts ``credit`` below
``exchange``, and this file is one-way (we publish; partners do not send lists back). A new version adds fields;
a reader refuses a major version it does not know.

The export is scoped by region (the officer's scope, narrowed to a region they cover), unmasked (partners act on
the names and codes), and recorded: who exported, for which region, how many entries, in which form.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service import record
from fundguard.service.models import BlacklistEntry, CreditGrade, utcnow
from fundguard.service.scope import Actor
from fundguard.service.timing import today
from fundguard.supervision import credit as cr
from fundguard.supervision.roles import CREDIT_MANAGE

from .service import _in_region, scheme

SCHEMA_VERSION = "1.0"
FORMAT = "fundguard-joint-punishment"
FORMATS = ("xlsx", "json", "csv")


class Sender(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=40, description="发布部门")
    admdvs: str = Field(default="", pattern=r"^(\d{6})?$", description="发布部门医保区划")


class Entry(BaseModel):
    """One listed subject, as partners act on it."""

    model_config = ConfigDict(extra="forbid")
    entry_id: int = Field(ge=1, description="名单记录号（医保部门内唯一）")
    subject_type: Literal["institution", "staff", "insured"] = Field(description="对象类型")
    subject_type_zh: str = Field(max_length=20, description="对象类型（中文）")
    subject_id: str = Field(
        min_length=1, max_length=64, description="统一编码：机构编码、国家医保医师代码或人员编号"
    )
    subject_name: str = Field(max_length=200, description="名称/姓名")
    reason: str = Field(max_length=4000, description="列入事由")
    entered_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="列入日期")
    until: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="惩戒截止日期（信用修复可提前移出）")
    grade: str = Field(default="", max_length=4, description="当前信用等级")
    measures_zh: str = Field(default="", max_length=200, description="医保部门采取的措施")
    admdvs: str = Field(pattern=r"^\d{6}$", description="医保区划")
    fixmedins_code: str = Field(default="", max_length=30, description="所属定点机构编码")


class PunishmentList(BaseModel):
    """A file: the current list of one region at one moment, from one sender."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["fundguard-joint-punishment"] = FORMAT
    version: str = Field(default=SCHEMA_VERSION, pattern=r"^1\.\d+$", description="格式版本（主版本须为 1）")
    sender: Sender
    region: str = Field(pattern=r"^\d{6}$", description="名单覆盖的医保区划")
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="名单截止日期（当日有效的记录）")
    created_at: str = Field(max_length=32, description="导出时间 ISO 8601")
    exported_by: str = Field(min_length=1, max_length=100, description="导出人")
    entries: list[Entry] = Field(max_length=100_000)


COLUMNS = list(Entry.model_fields)
ENVELOPE = (
    "format",
    "version",
    "sender.department",
    "sender.admdvs",
    "region",
    "as_of",
    "created_at",
    "exported_by",
)


def json_schema() -> dict:
    schema = PunishmentList.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://fundguard.local/exchange/joint-punishment-schema-{SCHEMA_VERSION}.json"
    schema["title"] = f"FundGuard 失信联合惩戒名单 {SCHEMA_VERSION}"
    return schema


def build(session: Session, actor: Actor, *, region: str = "", form: str = "json") -> dict[str, Any]:
    """The current list in the actor's scope (narrowed to ``region``), validated; recorded as exported."""
    actor.require(CREDIT_MANAGE)
    where = _in_region(actor, region, BlacklistEntry.admdvs, BlacklistEntry.fixmedins_code)
    day, sch = today(), scheme()
    rows = list(session.execute(select(BlacklistEntry).where(
        where, BlacklistEntry.left_on.is_(None), BlacklistEntry.entered_on <= day, BlacklistEntry.until >= day)
        .order_by(BlacklistEntry.id)).scalars())  # fmt: skip
    grades = _latest_grades(session, [(e.subject_type, e.subject_id) for e in rows])
    entries = []
    for e in rows:
        g = grades.get((e.subject_type, e.subject_id), sch.blacklist_grade)
        measure = sch.measures(g)["measure_zh"]
        if e.subject_type == "insured":
            measure = sch.insured_suspension(g, True)[1] or measure
        entries.append(Entry(entry_id=e.id, subject_type=e.subject_type,  # type: ignore[arg-type]
                             subject_type_zh=cr.SUBJECTS[e.subject_type], subject_id=e.subject_id,
                             subject_name=e.subject_name, reason=e.reason, entered_on=e.entered_on.isoformat(),
                             until=e.until.isoformat(), grade=g, measures_zh=measure, admdvs=e.admdvs,
                             fixmedins_code=e.fixmedins_code or ""))  # fmt: skip
    doc = PunishmentList(sender=Sender(department=actor.department or "医保局", admdvs=actor.admdvs),
                         region=region or actor.admdvs, as_of=day.isoformat(),
                         created_at=utcnow().astimezone(dt.UTC).isoformat(timespec="seconds"),
                         exported_by=actor.display_name or actor.username, entries=entries)  # fmt: skip
    record.append(session, actor.username, "credit.blacklist_export", "blacklist", doc.region,
                  {"region": doc.region, "entries": len(entries), "form": form, "version": SCHEMA_VERSION,
                   "entry_ids": [e.entry_id for e in entries]})  # fmt: skip
    return doc.model_dump()


def _latest_grades(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for kind, key in set(keys):
        g = session.execute(select(CreditGrade.grade).where(CreditGrade.subject_type == kind,
                                                            CreditGrade.subject_id == key)
                            .order_by(CreditGrade.id.desc()).limit(1)).scalar()  # fmt: skip
        if g:
            out[(kind, key)] = g
    return out


def _envelope_rows(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(doc["sender"][k.split(".")[1]] if k.startswith("sender.") else doc[k])) for k in ENVELOPE]


def to_xlsx(doc: dict[str, Any]) -> bytes:
    """Sheet 说明: the envelope fields (column A names, column B values) and the Chinese meaning of each column;
    sheet 名单: one row per entry, the field names as headers."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    meta = wb.add_worksheet("说明")
    rows = _envelope_rows(doc)
    for i, (k, v) in enumerate(rows):
        meta.write_row(i, 0, [k, v])
    for i, name in enumerate(COLUMNS, start=len(rows) + 1):
        meta.write_row(i, 0, [f"列 {name}", Entry.model_fields[name].description or ""])
    ws = wb.add_worksheet("名单")
    ws.write_row(0, 0, COLUMNS)
    for i, e in enumerate(doc["entries"], start=1):
        ws.write_row(i, 0, [e[c] for c in COLUMNS])
    wb.close()
    return buf.getvalue()


def to_csv(doc: dict[str, Any]) -> str:
    """The entries with a Chinese header (for a quick look in a spreadsheet; the JSON and Excel forms carry the
    envelope)."""
    import csv

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([Entry.model_fields[c].description for c in COLUMNS])
    for e in doc["entries"]:
        w.writerow([e[c] for c in COLUMNS])
    return out.getvalue()


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


def read_xlsx(data: bytes) -> dict[str, Any]:
    """The Excel form back as the document (a partner's reader, and the round-trip test), validated."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    meta = {
        str(r[0]): "" if r[1] is None else str(r[1]) for r in wb["说明"].iter_rows(values_only=True) if r[0]
    }
    rows = list(wb["名单"].iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    entries = [{h: ("" if v is None else v) for h, v in zip(head, row, strict=False)} for row in rows[1:]]
    doc = {k: meta.get(k, "") for k in ENVELOPE if not k.startswith("sender.")}
    doc["sender"] = {"department": meta.get("sender.department", ""), "admdvs": meta.get("sender.admdvs", "")}
    doc["entries"] = entries
    return PunishmentList.model_validate(doc).model_dump()
