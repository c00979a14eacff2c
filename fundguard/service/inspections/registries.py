"""The registries (名录库): inspection targets (the store's institutions with risk, pool membership, last
inspection and open clues), inspectors, experts and third-party staff (with 执法证号 and the recusal facts),
and the agencies. Every edit and import writes a ``RegistryChange`` row (before/after) and a record entry.
Imports read CSV (UTF-8 or GB18030) or .xlsx and report each bad row with its line and reason.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from fundguard.service import record
from fundguard.service.errors import PermissionDenied, ValidationFailed, not_found
from fundguard.service.models import (
    Agency,
    Clue,
    InspectionTarget,
    Inspector,
    Institution,
    RegistryChange,
    utcnow,
)
from fundguard.service.scope import Actor, paged, parents, require_sees, scope_filter
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import INSPECTION_MANAGE, INSPECTION_VIEW

KINDS = {"officer": "执法人员", "expert": "专家", "agency_staff": "第三方机构人员"}
# import headers (Chinese as offices type them, or the field names) → field
HEADERS = {
    "类别": "kind", "kind": "kind", "姓名": "name", "name": "name", "执法证号": "cert_no", "cert_no": "cert_no",
    "区划": "admdvs", "admdvs": "admdvs", "单位": "department", "部门": "department", "department": "department",
    "专业": "speciality", "speciality": "speciality", "第三方机构": "agency", "agency": "agency",
    "是否可用": "available", "available": "available", "曾任职机构": "former_employers",
    "former_employers": "former_employers", "近亲属任职机构": "relatives_at", "relatives_at": "relatives_at",
}  # fmt: skip
YES = {"是", "1", "true", "yes", "y", "可用", ""}


def _codes(text: str) -> list[str]:
    return [c.strip() for c in str(text or "").replace("，", ";").replace(",", ";").split(";") if c.strip()]


def _history(session: Session, actor: Actor, registry: str, key: Any, action: str, before: dict,
             after: dict) -> None:  # fmt: skip
    session.add(RegistryChange(book=registry, item_key=str(key), actor=actor.username, action=action,
                               before_json=json.dumps(before, ensure_ascii=False, default=str),
                               after_json=json.dumps(after, ensure_ascii=False, default=str)))  # fmt: skip
    record.append(session, actor.username, f"registry.{action}", registry, str(key),
                  {"before": before, "after": after})  # fmt: skip


def history(session: Session, actor: Actor, registry: str, key: str) -> list[dict]:
    actor.require(INSPECTION_VIEW)
    rows = session.execute(
        select(RegistryChange)
        .where(RegistryChange.book == registry, RegistryChange.item_key == str(key))
        .order_by(RegistryChange.id)
    ).scalars()
    return [{"at": r.at.isoformat(), "actor": r.actor, "action": r.action, "before": json.loads(r.before_json),
             "after": json.loads(r.after_json)} for r in rows]  # fmt: skip


# ---------------------------------------------------------------- targets (检查对象名录库)


def _open_clues():  # type: ignore[no-untyped-def]
    return (
        select(func.count())
        .where(Clue.fixmedins_code == Institution.fixmedins_code, Clue.status.not_in(wf.FLAG_FLOW.final))
        .scalar_subquery()
    )


def _target_item(inst: Institution, t: InspectionTarget | None, open_clues: int) -> dict:
    return {
        "fixmedins_code": inst.fixmedins_code, "name": inst.name, "admdvs": inst.admdvs,
        "fixmedins_type": inst.fixmedins_type, "hosp_lv": inst.hosp_lv, "agrm_stas": inst.agrm_stas,
        "risk_weight": t.risk_weight if t else 1, "eligible": t.eligible if t else True,
        "last_inspected": t.last_inspected.isoformat() if t and t.last_inspected else None,
        "note": t.note if t else "", "open_clues": int(open_clues or 0),
        "credit_grade": "",  # the credit grade comes with the credit issue (15)
    }  # fmt: skip


def _targets_query(actor: Actor):  # type: ignore[no-untyped-def]
    return (
        select(Institution, InspectionTarget, _open_clues())
        .outerjoin(InspectionTarget, InspectionTarget.fixmedins_code == Institution.fixmedins_code)
        .where(scope_filter(actor, Institution.admdvs, Institution.fixmedins_code))
    )


def list_targets(session: Session, actor: Actor, *, page: int = 1, size: int = 50, q: str = "") -> dict:
    actor.require(INSPECTION_VIEW)
    page, size = max(int(page), 1), min(max(int(size), 1), 500)
    stmt = _targets_query(actor)
    if q:
        stmt = stmt.where(Institution.name.contains(q, autoescape=True) | (Institution.fixmedins_code == q))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(Institution.fixmedins_code).offset((page - 1) * size).limit(size)
    ).all()
    return {"items": [_target_item(*r) for r in rows], "total": total, "page": page, "size": size}


def target_pool(session: Session, actor: Actor) -> list[dict]:
    """The draw's target pool: every institution in the actor's scope, with its registry facts."""
    actor.require(INSPECTION_MANAGE)
    rows = session.execute(_targets_query(actor).order_by(Institution.fixmedins_code)).all()
    return [{"code": i.fixmedins_code, "name": i.name, "admdvs": i.admdvs, "fixmedins_type": i.fixmedins_type,
             "hosp_lv": i.hosp_lv, "risk": (t.risk_weight if t else 1) + min(int(n or 0), 9),
             "eligible": (t.eligible if t else True) and i.agrm_stas != "0"} for i, t, n in rows]  # fmt: skip


def update_target(session: Session, actor: Actor, code: str, **changes: Any) -> dict:
    """Set a target's risk weight (1–10), pool membership, last inspection date or note; history kept."""
    actor.require(INSPECTION_MANAGE)
    inst = session.get(Institution, code)
    if inst is None:
        raise not_found("机构", "institution", code)
    require_sees(actor, inst.admdvs, inst.fixmedins_code, "该机构", "this institution")
    item, _ = _set_target(session, actor, inst, changes, "update")
    return item


def _set_target(session: Session, actor: Actor, inst: Institution, changes: dict[str, Any],
                action: str) -> tuple[dict, bool]:  # fmt: skip
    """Apply ``changes`` to the institution's registry row; history only when something changed."""
    code = inst.fixmedins_code
    t = session.get(InspectionTarget, code) or InspectionTarget(fixmedins_code=code, risk_weight=1, eligible=True,
                                                                 note="")  # fmt: skip
    before = {"risk_weight": t.risk_weight, "eligible": t.eligible, "note": t.note,
              "last_inspected": t.last_inspected}  # fmt: skip
    if "risk_weight" in changes and changes["risk_weight"] is not None:
        w = int(changes["risk_weight"])
        if not 1 <= w <= 10:
            raise ValidationFailed("风险权重应为 1–10", "risk weight must be 1–10")
        t.risk_weight = w
    for name in ("eligible", "note", "last_inspected"):
        if changes.get(name) is not None:
            setattr(t, name, changes[name])
    after = {"risk_weight": t.risk_weight, "eligible": t.eligible, "note": t.note,
             "last_inspected": t.last_inspected}  # fmt: skip
    changed = after != before or t not in session
    if changed:
        session.add(t)
        session.flush()
        _history(session, actor, "target", code, action, before, after)
    n = session.execute(
        select(_open_clues()).select_from(Institution).where(Institution.fixmedins_code == code)
    )
    return _target_item(inst, t, n.scalar_one()), changed


TARGET_HEADERS = {
    "机构编码": "code", "定点机构编码": "code", "fixmedins_code": "code", "code": "code",
    "风险权重": "risk_weight", "risk_weight": "risk_weight", "纳入抽查": "eligible", "是否纳入抽查": "eligible",
    "eligible": "eligible", "最近检查日期": "last_inspected", "最近检查": "last_inspected",
    "last_inspected": "last_inspected", "备注": "note", "note": "note",
}  # fmt: skip
_TRUE, _FALSE = {"是", "1", "true", "yes", "y", "纳入"}, {"否", "0", "false", "no", "n", "不纳入"}


def _target_row(row: dict[str, Any]) -> dict[str, Any]:
    """One import row → the changes it asks for; ``ValidationFailed`` says what is wrong, in both languages."""
    import datetime as dt

    out: dict[str, Any] = {}
    w = str(row.get("risk_weight") or "").strip()
    if w:
        try:
            weight = float(w)
            if weight != int(weight) or not 1 <= weight <= 10:
                raise ValueError
        except ValueError:
            raise ValidationFailed(
                f"风险权重应为 1–10 的整数：{w}", f"risk weight must be an integer 1–10: {w}"
            ) from None
        out["risk_weight"] = int(weight)
    e = str(row.get("eligible") or "").strip().lower()
    if e:
        if e not in _TRUE | _FALSE:
            raise ValidationFailed(f"纳入抽查应填「是」或「否」：{e}", f"eligible must be yes or no: {e}")
        out["eligible"] = e in _TRUE
    d = str(row.get("last_inspected") or "").strip()
    if d:
        try:  # an Excel date cell arrives as "2026-03-01 00:00:00"
            day = dt.date.fromisoformat(d[:10].replace("/", "-"))
        except ValueError:
            raise ValidationFailed(
                f"最近检查日期无效（应为 YYYY-MM-DD）：{d}", f"invalid date (YYYY-MM-DD): {d}"
            ) from None
        if day > dt.date.today():
            raise ValidationFailed(
                f"最近检查日期不能晚于今天：{d}", f"the last inspection cannot be in the future: {d}"
            )
        out["last_inspected"] = day
    note = str(row.get("note") or "")
    if len(note) > 2000:
        raise ValidationFailed("备注不超过 2000 字", "a note has at most 2000 characters")
    if note.strip():
        out["note"] = note.strip()
    return out


def import_targets(session: Session, actor: Actor, filename: str, content: bytes) -> dict:
    """Import the target registry's own columns (风险权重、纳入抽查、最近检查日期、备注) by 机构编码 from Excel/CSV.
    Every row is checked (the institution exists and is in the actor's scope, values valid, a code once per
    file); bad rows are kept aside with their line, values and reason (中文/English) and the rest go in.
    Idempotent: a row that changes nothing writes no history, so importing a file twice changes nothing."""
    actor.require(INSPECTION_MANAGE)
    updated = unchanged = 0
    bad: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(_rows(filename, content, TARGET_HEADERS, ("code", "机构编码")), start=2):
        code = str(row.get("code") or "").strip()
        try:
            if not code:
                raise ValidationFailed("机构编码不能为空", "the institution code is empty")
            if code in seen:
                raise ValidationFailed(
                    f"机构编码与第 {seen[code]} 行重复", f"the code repeats line {seen[code]}"
                )
            changes = _target_row(row)
            if not changes:
                raise ValidationFailed("该行没有可导入的内容", "the row has nothing to import")
            with session.begin_nested():
                inst = session.get(Institution, code)
                if inst is None:
                    raise ValidationFailed(f"定点机构不存在：{code}", f"no such institution: {code}")
                require_sees(actor, inst.admdvs, inst.fixmedins_code, "该机构", "this institution")
                if _set_target(session, actor, inst, changes, "import")[1]:
                    updated += 1
                else:
                    unchanged += 1
            seen[code] = line  # a code goes in once per file: a later row for it is refused
        except (ValidationFailed, PermissionDenied) as exc:
            bad.append({"line": line, "code": code, "values": {k: str(v) for k, v in row.items()},
                        "zh": exc.zh, "en": exc.en})  # fmt: skip
    record.append(session, actor.username, "registry.import", "target registry", 0,
                  {"file": filename, "updated": updated, "unchanged": unchanged, "bad": len(bad)})  # fmt: skip
    return {"updated": updated, "unchanged": unchanged, "bad": bad}


# ---------------------------------------------------------------- inspectors, experts, agencies


def _inspector_item(i: Inspector) -> dict:
    return {
        "id": i.id, "kind": i.kind, "kind_zh": KINDS.get(i.kind, i.kind), "name": i.name, "cert_no": i.cert_no,
        "admdvs": i.admdvs, "department": i.department, "speciality": i.speciality, "agency_id": i.agency_id,
        "available": i.available, "former_employers": _codes(i.former_employers),
        "relatives_at": _codes(i.relatives_at), "updated_at": i.updated_at.isoformat(),
    }  # fmt: skip


def _visible(actor: Actor, admdvs_col):  # type: ignore[no-untyped-def]
    """People and agencies of the actor's scope and of the levels above (a province's expert pool serves its
    cities). People are not institutions: an institution grant (交叉检查 of one hospital) shows none."""
    return or_(scope_filter(actor, admdvs_col, literal("")), admdvs_col.in_(parents(actor.admdvs)))


def _visible_inspectors(actor: Actor):  # type: ignore[no-untyped-def]
    return _visible(actor, Inspector.admdvs)


def list_inspectors(session: Session, actor: Actor, *, kind: str | None = None, page: int = 1,
                    size: int = 50) -> dict:  # fmt: skip
    conds = [Inspector.kind == kind] if kind else []
    return paged(session, actor, Inspector, INSPECTION_VIEW, conds, Inspector.id, _inspector_item, page, size,
                 visible=_visible_inspectors(actor))  # fmt: skip


def inspector_pool(session: Session, actor: Actor) -> list[dict]:
    """The draw's inspector pool: officers (执法人员) in scope, with their recusal facts."""
    actor.require(INSPECTION_MANAGE)
    rows = session.execute(
        select(Inspector)
        .where(_visible_inspectors(actor), Inspector.kind == "officer")
        .order_by(Inspector.id)
    ).scalars()
    return [{"id": f"P{i.id}", "name": i.name, "cert_no": i.cert_no, "admdvs": i.admdvs,
             "available": i.available, "former_employers": _codes(i.former_employers),
             "relatives_at": _codes(i.relatives_at)} for i in rows]  # fmt: skip


def _clean(data: dict[str, Any], actor: Actor, agencies: dict[str, int]) -> dict[str, Any]:
    """Validated inspector fields; raises ValidationFailed with the reason."""
    kind = str(data.get("kind") or "officer").strip()
    kind = {v: k for k, v in KINDS.items()}.get(kind, kind)
    if kind not in KINDS:
        raise ValidationFailed(f"类别应为 {'、'.join(KINDS.values())}", f"kind must be one of {list(KINDS)}")
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationFailed("姓名不能为空", "name is required")
    cert = str(data.get("cert_no") or "").strip()
    if kind == "officer" and not cert:
        raise ValidationFailed(
            "执法人员须填写执法证号", "an officer needs a law-enforcement certificate number"
        )
    admdvs = str(data.get("admdvs") or actor.admdvs).strip()
    if len(admdvs) != 6 or not admdvs.isdigit():
        raise ValidationFailed(f"区划代码应为 6 位数字：{admdvs}", f"admdvs must be 6 digits: {admdvs}")
    require_sees(actor, admdvs, None, "该区划", "this region")
    agency = str(data.get("agency") or "").strip()
    agency_id = data.get("agency_id")
    if agency:
        if agency not in agencies:
            raise ValidationFailed(f"第三方机构不在名录库中：{agency}", f"unknown agency: {agency}")
        agency_id = agencies[agency]
    if agency_id is not None and int(agency_id) not in agencies.values():
        raise ValidationFailed(f"第三方机构不存在：{agency_id}", f"no such agency: {agency_id}")
    if kind == "agency_staff" and not agency_id:
        raise ValidationFailed("第三方机构人员须注明所属机构", "agency staff need their agency")
    available = data.get("available", True)
    if isinstance(available, str):
        available = available.strip().lower() in YES
    return {"kind": kind, "name": name, "cert_no": cert, "admdvs": admdvs,
            "department": str(data.get("department") or "").strip(),
            "speciality": str(data.get("speciality") or "").strip(), "agency_id": agency_id,
            "available": bool(available),
            "former_employers": ";".join(_codes(data.get("former_employers") or "")),
            "relatives_at": ";".join(_codes(data.get("relatives_at") or ""))}  # fmt: skip


def _agency_names(session: Session) -> dict[str, int]:
    return {a.name: a.id for a in session.execute(select(Agency)).scalars()}


def save_inspector(session: Session, actor: Actor, data: dict[str, Any], inspector_id: int | None = None,
                   *, action: str = "") -> dict:  # fmt: skip
    """Create (``inspector_id`` None) or update a person of the registry; the change goes to the history."""
    actor.require(INSPECTION_MANAGE)
    fields = _clean(data, actor, _agency_names(session))
    if inspector_id is None:
        i, before = Inspector(**fields, updated_at=utcnow()), {}
        session.add(i)
    else:
        i = session.get(Inspector, int(inspector_id))
        if i is None:
            raise not_found("检查人员", "inspector", inspector_id)
        require_sees(actor, i.admdvs, None, "该人员", "this person")
        before = {k: v for k, v in _inspector_item(i).items() if k in fields}
        for k, v in fields.items():
            setattr(i, k, v)
        i.updated_at = utcnow()
    session.flush()
    after = {k: v for k, v in _inspector_item(i).items() if k in fields}
    _history(session, actor, "inspector", i.id, action or ("create" if inspector_id is None else "update"),
             before, after)  # fmt: skip
    return _inspector_item(i)


def _rows(filename: str, content: bytes, headers: dict[str, str] | None = None,
          required: tuple[str, str] = ("name", "姓名")) -> list[dict[str, Any]]:  # fmt: skip
    """(header → value) rows of a CSV (UTF-8 or GB18030) or .xlsx file, headers mapped by ``headers``
    (``HEADERS``: the people's); ``required`` is the (field, 中文列名) without which the file is refused."""
    headers = headers or HEADERS
    if filename.lower().endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds on a broken file
            raise ValidationFailed(
                f"无法读取 Excel 文件：{exc}", f"cannot read the Excel file: {exc}"
            ) from None
        raw = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    elif filename.lower().endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("gb18030", errors="replace")
        raw = list(csv.reader(io.StringIO(text)))
    else:
        raise ValidationFailed("仅支持 .xlsx 或 .csv 文件", "only .xlsx or .csv files can be imported")
    if not raw:
        raise ValidationFailed("文件为空", "the file is empty")
    header = [headers.get(h.strip(), "") for h in raw[0]]
    if required[0] not in header:
        raise ValidationFailed(
            f"缺少「{required[1]}」列", f"the file has no {required[1]} ({required[0]}) column"
        )
    return [{h: v for h, v in zip(header, row, strict=False) if h} for row in raw[1:] if any(row)]


def import_inspectors(session: Session, actor: Actor, filename: str, content: bytes) -> dict:
    """Import people from Excel/CSV: a row with a known 执法证号 (or name and region for experts) updates
    that person, others are created; bad rows are reported ``{line, zh, en}`` and the rest go in."""
    actor.require(INSPECTION_MANAGE)
    created = updated = 0
    bad = []
    for line, row in enumerate(_rows(filename, content), start=2):
        try:
            with session.begin_nested():
                cert = str(row.get("cert_no") or "").strip()
                match = select(Inspector.id).where(
                    Inspector.cert_no == cert if cert else
                    (Inspector.name == str(row.get("name", "")).strip()) & (Inspector.admdvs == row.get("admdvs"))
                )  # fmt: skip
                existing = session.execute(match).scalars().first()
                save_inspector(session, actor, row, existing, action="import")
                created, updated = (created, updated + 1) if existing else (created + 1, updated)
        except (ValidationFailed, PermissionDenied) as exc:  # a bad value or a region outside the scope
            bad.append({"line": line, "zh": exc.zh, "en": exc.en})
    return {"created": created, "updated": updated, "bad": bad}


def list_agencies(session: Session, actor: Actor) -> list[dict]:
    actor.require(INSPECTION_VIEW)
    staff = select(func.count()).where(Inspector.agency_id == Agency.id).scalar_subquery()
    rows = session.execute(
        select(Agency, staff).where(_visible(actor, Agency.admdvs)).order_by(Agency.id)
    ).all()
    return [{"id": a.id, "name": a.name, "credit_code": a.credit_code, "admdvs": a.admdvs,
             "speciality": a.speciality, "contact": a.contact, "staff": n} for a, n in rows]  # fmt: skip


def save_agency(session: Session, actor: Actor, data: dict[str, Any]) -> dict:
    actor.require(INSPECTION_MANAGE)
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationFailed("机构名称不能为空", "an agency needs a name")
    credit = str(data.get("credit_code") or "").strip().upper()
    if credit and len(credit) != 18:
        raise ValidationFailed(
            "统一社会信用代码应为 18 位", "the unified social credit code has 18 characters"
        )
    admdvs = str(data.get("admdvs") or actor.admdvs)
    require_sees(actor, admdvs, None, "该区划", "this region")
    a = Agency(name=name, credit_code=credit, admdvs=admdvs, speciality=str(data.get("speciality") or ""),
               contact=str(data.get("contact") or ""))  # fmt: skip
    session.add(a)
    session.flush()
    _history(session, actor, "agency", a.id, "create", {}, {"name": name, "credit_code": credit})
    return {"id": a.id, "name": a.name, "credit_code": a.credit_code, "admdvs": a.admdvs,
            "speciality": a.speciality, "contact": a.contact, "staff": 0}  # fmt: skip
