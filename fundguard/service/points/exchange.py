"""Files in and out of the points registry: the staff import (Excel or CSV, bad rows reported by line), the
nationwide exchange file of suspensions and terminations (``docs/points-exchange.md``), and the qualification
snapshot the batch audit joins by service day."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.errors import FundGuardError
from fundguard.service import record
from fundguard.service.errors import ValidationFailed
from fundguard.service.models import ExternalQualification, PointRecord, Staff
from fundguard.service.points.process import rules
from fundguard.service.points.service import _events, register_staff
from fundguard.service.scope import Actor
from fundguard.supervision import points as pts
from fundguard.supervision.roles import POINTS_MANAGE

# Chinese header → field; the English field names are accepted as headers too
STAFF_COLUMNS = {"国家医保编码": "national_code", "身份证号": "id_no", "姓名": "name", "人员类别": "category",
                 "定点机构编码": "fixmedins_code", "科室": "department", "服务承诺日期": "pledge_on"}  # fmt: skip
EXCHANGE_COLUMNS = {"国家医保编码": "national_code", "身份证号": "id_no", "姓名": "name", "资格状态": "status",
                    "起始日期": "since", "截止日期": "until", "禁止再次登记至": "bar_until", "通报地区": "source_admdvs",
                    "事由": "reason"}  # fmt: skip
STATUS_CODES = {
    "暂停": "suspended",
    "终止": "terminated",
    "suspended": "suspended",
    "terminated": "terminated",
}


def _rows(path: Path, columns: dict[str, str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {field: text}) from a CSV (UTF-8 or GB18030) or an .xlsx file; headers Chinese or English."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        raw: list[list[Any]] = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
        raw = list(csv.reader(io.StringIO(text)))
    if not raw:
        raise ValidationFailed(f"文件 {path.name} 为空", f"{path.name} is empty")
    fields = {**columns, **{v: v for v in columns.values()}}
    header = [fields.get(str(h or "").strip(), "") for h in raw[0]]
    missing = [
        zh
        for zh, f in columns.items()
        if f not in header and f not in ("department", "id_no", "name", "until", "bar_until", "reason")
    ]
    if missing:
        raise ValidationFailed(
            f"文件 {path.name} 缺少列：{'、'.join(missing)}", f"{path.name}: missing columns"
        )
    for n, row in enumerate(raw[1:], start=2):
        if any(str(c or "").strip() for c in row):
            yield n, {f: _text(c) for f, c in zip(header, row, strict=False) if f}


def _text(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return "" if v is None else str(v).strip()


def _date(v: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(v.replace("/", "-"))
    except ValueError:
        raise ValidationFailed(f"{what}不是有效日期：{v}", f"{what}: not a date: {v!r}") from None


def import_staff(session: Session, actor: Actor, path: Path) -> dict:
    """登记备案 in bulk: every good row is registered; each bad row is reported with its line and reason."""
    created, errors = 0, []
    for line, row in _rows(path, STAFF_COLUMNS):
        try:
            with session.begin_nested():
                register_staff(session, actor, national_code=row.get("national_code", ""),
                               id_no=row.get("id_no", ""), name=row.get("name", ""),
                               category=row.get("category", ""), fixmedins_code=row.get("fixmedins_code", ""),
                               pledge_on=_date(row.get("pledge_on", ""), "服务承诺日期"),
                               department=row.get("department", ""))  # fmt: skip
            created += 1
        except FundGuardError as exc:
            errors.append({"line": line, "reason_zh": exc.zh, "reason_en": exc.en})
    return {"created": created, "errors": errors}


def export_exchange(session: Session, path: Path | None = None) -> str:
    """The exchange file (CSV, UTF-8 with BOM, Chinese header): every suspension and termination decided here."""
    cfg = rules()
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(list(EXCHANGE_COLUMNS))
    scored = select(PointRecord.staff_id).where(PointRecord.status == "effective").distinct()
    for st in session.execute(
        select(Staff).where(Staff.id.in_(scored)).order_by(Staff.national_code)
    ).scalars():
        for p in pts.periods(_events(session, st.id), cfg, st.registered_on):
            w.writerow([st.national_code, st.id_no, st.name, "暂停" if p.status == "suspended" else "终止",
                        p.since.isoformat(), p.until.isoformat() if p.until else "",
                        p.bar_until.isoformat() if p.bar_until else "", st.admdvs, p.reason_zh])  # fmt: skip
    text = out.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8-sig")
    return text


def import_exchange(session: Session, actor: Actor, path: Path) -> dict:
    """Other regions' suspensions and terminations: they act here from their start date (nationwide effect)."""
    actor.require(POINTS_MANAGE)
    imported, errors = 0, []
    for line, row in _rows(path, EXCHANGE_COLUMNS):
        try:
            status = STATUS_CODES.get(row.get("status", ""))
            if status is None:
                raise ValidationFailed("资格状态应为 暂停 或 终止", "status must be 暂停 or 终止")
            code, region = row.get("national_code", ""), row.get("source_admdvs", "")
            if not code or not region:
                raise ValidationFailed(
                    "国家医保编码和通报地区不能为空", "national code and region are required"
                )
            since = _date(row.get("since", ""), "起始日期")
            until = _date(row["until"], "截止日期") if row.get("until") else None
            if status == "suspended" and until is None:
                raise ValidationFailed("暂停须有截止日期", "a suspension needs an end date")
            bar = _date(row["bar_until"], "禁止再次登记至") if row.get("bar_until") else None
            known = session.execute(select(ExternalQualification).where(
                ExternalQualification.national_code == code, ExternalQualification.source_admdvs == region,
                ExternalQualification.since == since)).scalar_one_or_none()  # fmt: skip
            if known is None:
                known = ExternalQualification(national_code=code, source_admdvs=region, since=since)
                session.add(known)
            known.status, known.until, known.bar_until = status, until, bar
            known.id_no, known.name, known.reason = (
                row.get("id_no", ""),
                row.get("name", ""),
                row.get("reason", ""),
            )
            known.imported_by = actor.username
            session.flush()
            imported += 1
        except FundGuardError as exc:
            errors.append({"line": line, "reason_zh": exc.zh, "reason_en": exc.en})
    record.append(session, actor.username, "points.exchange_import", "exchange", path.name,
                  {"imported": imported, "errors": len(errors)})  # fmt: skip
    return {"imported": imported, "errors": errors}


SNAPSHOT_SCHEMA = pa.schema([("national_code", pa.string()), ("status", pa.string()), ("since", pa.date32()),
                             ("until", pa.date32()), ("reason_zh", pa.string()),
                             ("source_admdvs", pa.string())])  # fmt: skip


def write_snapshot(session: Session, path: Path) -> int:
    """The qualification periods (local and imported) as Parquet for the batch audit: a line whose doctor
    (``bilg_dr_code`` / 开单医师) served on a day inside ``[since, until]`` is settled under a suspended or
    terminated person (``until`` null: terminated, open-ended). Returns the number of periods."""
    cfg = rules()
    rows: list[dict[str, Any]] = []
    scored = select(PointRecord.staff_id).where(PointRecord.status == "effective").distinct()
    for st in session.execute(select(Staff).where(Staff.id.in_(scored))).scalars():
        for p in pts.periods(_events(session, st.id), cfg, st.registered_on):
            rows.append({"national_code": st.national_code, "status": p.status, "since": p.since,
                         "until": p.until, "reason_zh": p.reason_zh, "source_admdvs": st.admdvs})  # fmt: skip
    for e in session.execute(select(ExternalQualification)).scalars():
        rows.append({"national_code": e.national_code, "status": e.status, "since": e.since, "until": e.until,
                     "reason_zh": e.reason, "source_admdvs": e.source_admdvs})  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SNAPSHOT_SCHEMA), path)
    return len(rows)
