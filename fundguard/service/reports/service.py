"""Report service functions: filing (public, or recorded by staff for phone, letter and visit reports) with the
identity sealed and a tracking code shown once; the public status by code; the handlers' list and detail (facts
only — never the identity); actions through the workflow engine; the designated role's decryption with a reason
(access log and enforcement record); duplicate and repeat linking; overdue warnings; statistics."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from fundguard.service import access, record, uploads, workflow
from fundguard.service.clues import CONFIRMED_OUTCOMES
from fundguard.service.errors import NotFound, ValidationFailed, forbidden
from fundguard.service.models import (
    Case,
    Clue,
    Region,
    Report,
    ReportAttachment,
    ReportEvent,
    ReportReward,
    money,
)
from fundguard.service.reports import sealing
from fundguard.service.reports.process import REPORT, REWARD
from fundguard.service.scope import Actor, paged, scope_filter
from fundguard.service.timing import due_date_for, flag_warning, today
from fundguard.supervision import reports as rules
from fundguard.supervision import workflow as wf
from fundguard.supervision.deadlines import DUE_SOON, OVERDUE
from fundguard.supervision.roles import REPORT_IDENTITY, REPORT_VIEW

MAX_DESCRIPTION = 5000
MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
ATTACHMENT_TYPES = {"image/jpeg": (".jpg", b"\xff\xd8\xff"), "image/png": (".png", b"\x89PNG"),
                    "application/pdf": (".pdf", b"%PDF")}  # fmt: skip
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone
_CODE_RE = re.compile(r"^[A-Z2-9]{5}(-[A-Z2-9]{5}){3}$")
_PHONE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")
_ID_NO = re.compile(r"^\d{17}[\dXx]$")
REPEAT_DAYS = 180  # an earlier report on the same target within this many days is linked as a repeat


def new_code() -> str:
    """A tracking code: 20 random characters of a 32-letter alphabet (100 bits), in four groups."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


def _text(value: Any, name_zh: str, name_en: str, limit: int, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(f"请填写{name_zh}", f"{name_en} is required")
    if len(text) > limit:
        raise ValidationFailed(f"{name_zh}不能超过 {limit} 字", f"{name_en} longer than {limit} characters")
    return text


def _identity(identity: dict | None, real_name: bool) -> dict:
    """Real-name reporters give a name and a phone (ID number optional until a reward is claimed)."""
    if not real_name:
        return {}
    identity = identity or {}
    out = {
        "name": _text(identity.get("name"), "举报人姓名", "reporter name", 50),
        "phone": _text(identity.get("phone"), "联系电话", "phone", 20),
        "id_no": _text(identity.get("id_no"), "身份证号", "ID number", 18, required=False).upper(),
        "address": _text(identity.get("address"), "联系地址", "address", 200, required=False),
    }
    if not _PHONE.match(out["phone"]):
        raise ValidationFailed("联系电话格式不正确", "bad phone number")
    if out["id_no"] and not _ID_NO.match(out["id_no"]):
        raise ValidationFailed("身份证号应为 18 位", "an ID number has 18 characters")
    return out


def file_report(session: Session, *, target_kind: str, violation_type: str, target_name: str, description: str,
                admdvs: str, happened: str = "", place: str = "", real_name: bool = False,
                identity: dict | None = None, insider: bool = False, channel: str = "internet",
                attachments: Sequence[tuple[str, str, bytes]] = (), actor: Actor | None = None) -> dict:  # fmt: skip
    """Register a report (a public filing, or ``actor`` recording a phone/letter/visit report). Returns the
    report's number and its tracking code — the code is shown this once and stored only as its keyed hash."""
    if channel not in rules.CHANNELS:
        raise ValidationFailed(f"举报渠道应为 {'、'.join(rules.CHANNELS.values())}", "unknown channel")
    if target_kind not in rules.TARGETS:
        raise ValidationFailed(
            f"被举报对象类别应为 {'、'.join(rules.TARGETS.values())}", "unknown target kind"
        )
    if violation_type not in rules.VIOLATION_TYPES:
        raise ValidationFailed("请选择违法违规类型", "unknown violation type")
    region = session.get(Region, str(admdvs or "").strip())
    if region is None:
        raise ValidationFailed("请选择受理举报的医保部门（区划）", "unknown region")
    if actor is not None:
        actor.require(REPORT_VIEW)
        if not actor.role.endswith("_supervisor"):
            raise forbidden("只有监管人员可登记举报", "only supervisors record reports")
    facts = {
        "target_name": _text(target_name, "被举报对象", "target", 200),
        "description": _text(description, "举报内容", "description", MAX_DESCRIPTION),
        "happened": _text(happened, "发生时间", "time", 100, required=False),
        "place": _text(place, "发生地点", "place", 200, required=False),
    }
    if len(facts["description"]) < 10:
        raise ValidationFailed(
            "举报内容过短，请写明具体违法违规事实（至少 10 字）", "describe the facts (10+ characters)"
        )
    who = _identity(identity, real_name)
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"附件最多 {MAX_ATTACHMENTS} 个", f"at most {MAX_ATTACHMENTS} attachments")
    for name, ctype, data in attachments:
        if ctype not in ATTACHMENT_TYPES:
            raise ValidationFailed("附件仅限 JPG、PNG、PDF", "attachments must be JPG, PNG or PDF")
        if len(data) > MAX_ATTACHMENT_BYTES or not data:
            raise ValidationFailed(f"附件 {name} 为空或超过 2 MB", f"attachment {name} empty or over 2 MB")
        ext, magic = ATTACHMENT_TYPES[ctype]
        why = None if data.startswith(magic) else ("文件内容与类型不符", "content does not match its type")
        why = why or uploads.problems(ext, data)
        if why:
            raise ValidationFailed(
                f"附件 {uploads.safe_name(name)}：{why[0]}", f"attachment refused: {why[1]}"
            )
    day, code = today(), new_code()
    r = Report(number="tmp-" + secrets.token_hex(6), code_hash=sealing.code_hash(code), channel=channel,
               target_kind=target_kind, violation_type=violation_type, **facts, real_name=bool(real_name),
               insider=bool(insider), admdvs=region.code, status="registered", step_started=day,
               due_date=due_date_for("report", "registered", day), created_by=actor.username if actor else "public")  # fmt: skip
    session.add(r)
    session.flush()
    r.number = f"JB{day.year}{r.id:06d}"
    if who:
        r.identity_sealed = sealing.seal(who, r.number)
    for name, ctype, data in attachments:
        session.add(ReportAttachment(report_id=r.id, filename=uploads.safe_name(name) or "附件",
                                     content_type=ctype, size=len(data), sealed=sealing.seal_bytes(data, r.number)))  # fmt: skip
    r.duplicate_of = _earlier_on_same_target(session, r)
    session.add(ReportEvent(report_id=r.id, action="register", from_status="", to_status="registered",
                            actor=r.created_by, comment="", fields_json="{}"))  # fmt: skip
    record.append(session, r.created_by, "report.register", "report", r.id,
                  {"number": r.number, "channel": channel, "admdvs": r.admdvs, "real_name": r.real_name,
                   "violation_type": violation_type, "repeat_of": r.duplicate_of})  # fmt: skip  # never the identity
    return {"number": r.number, "code": code, "status_zh": wf.REPORT_STATES["registered"]}


def _norm(name: str) -> str:
    return re.sub(r"[\s·,，。()（）]", "", name).lower()


def _earlier_on_same_target(session: Session, r: Report) -> int | None:
    """重复举报: the earliest report on the same target (normalised name) in the same city within 180 days."""
    since = r.received_at - dt.timedelta(days=REPEAT_DAYS) if r.received_at else None
    rows = session.execute(
        select(Report.id, Report.target_name)
        .where(Report.id != r.id, Report.admdvs.startswith(r.admdvs[:4]), *([Report.received_at >= since] if since else []))
        .order_by(Report.received_at, Report.id)
    ).all()  # fmt: skip
    key = _norm(r.target_name)
    return next((i for i, name in rows if _norm(name) == key), None)


# ---------------------------------------------------------------- rewards as read everywhere

SYSTEM = Actor(user_id=0, username="system", display_name="系统", role="system", admdvs="")


def reward_item(r: ReportReward) -> dict:
    return {
        "id": r.id, "report_id": r.report_id, "case_value": str(money(r.case_value)), "grade": r.grade, "insider": r.insider,
        "amount": str(money(r.amount)), "basis": r.basis, "status": r.status, "status_zh": wf.REWARD_STATES[r.status],
        "notice_no": r.notice_no, "notified_on": r.notified_on.isoformat() if r.notified_on else None,
        "claim_due": r.due_date.isoformat() if r.due_date and r.status == "notified" else None,
        "claimed_on": r.claimed_on.isoformat() if r.claimed_on else None, "voucher_no": r.voucher_no,
        "paid_on": r.paid_on.isoformat() if r.paid_on else None, "version": r.version,
    }  # fmt: skip


def public_reward(r: ReportReward | None) -> dict | None:
    """A reward as the reporter sees it: only once the notice went out."""
    if r is None or r.status not in ("notified", "claimed", "paid", "waived"):
        return None
    return {"status": r.status, "status_zh": wf.REWARD_STATES[r.status], "amount": str(money(r.amount)),
            "claim_due": r.due_date.isoformat() if r.due_date and r.status == "notified" else None}  # fmt: skip


def expire(session: Session) -> int:
    """视为放弃: every notified reward whose claim window has closed (checked on each read; idempotent)."""
    day = today()
    rows = session.execute(select(ReportReward).where(ReportReward.status == "notified",
                                                      ReportReward.due_date < day)).scalars().all()  # fmt: skip
    for w in rows:
        workflow.move(session, SYSTEM, REWARD, w, "waive", {}, role="system")
    return len(rows)


# ---------------------------------------------------------------- public look-up


def by_code(session: Session, code: str, *, for_update: bool = False) -> Report:
    """The report of a tracking code; a malformed or unknown code is the same 404 (no enumeration)."""
    code = str(code or "").strip().upper()
    stmt = select(Report).where(Report.code_hash == sealing.code_hash(code)) if _CODE_RE.match(code) else None
    if stmt is not None and for_update:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none() if stmt is not None else None
    if row is None:
        raise NotFound("查询码无效或举报不存在", "no report with this tracking code")
    return row


def public_status(session: Session, code: str) -> dict:
    """What a reporter sees: the status, the reply and any reward to claim — nothing else."""
    r = by_code(session, code)
    expire(session)
    reward = session.execute(select(ReportReward).where(ReportReward.report_id == r.id)).scalar_one_or_none()
    return {"status": r.status, "status_zh": wf.REPORT_STATES[r.status], "received_on": r.received_at.date().isoformat(),
            "reply": r.reply, "reward": public_reward(reward)}  # fmt: skip


# ---------------------------------------------------------------- handlers


def _overdue(r: Report, day: dt.date) -> list[str]:
    """The report's time-limit warnings: its step (受理, 核查) and the notice owed to a real-name reporter."""
    out = []
    w = flag_warning(r.due_date, day) if r.status not in wf.REPORT_FLOW.final else ""
    if w in (OVERDUE, DUE_SOON):
        out.append(f"{wf.REPORT_STATES[r.status]}{w}（{r.due_date}）")
    if r.notice_due and not r.notified_on:
        n = flag_warning(r.notice_due, day)
        out.append(
            f"告知实名举报人（{r.notice_due.isoformat()} 前）"
            + (f"{n}" if n in (OVERDUE, DUE_SOON) else "待办")
        )
    return out


def _item(r: Report, day: dt.date | None = None) -> dict:
    """A report as a handler sees it: the facts, never who reported (only whether it was real-name)."""
    day = day or today()
    return {
        "id": r.id, "number": r.number, "channel": r.channel, "channel_zh": rules.CHANNELS[r.channel],
        "target_kind": r.target_kind, "target_kind_zh": rules.TARGETS[r.target_kind],
        "violation_type": r.violation_type, "violation_type_zh": rules.VIOLATION_TYPES.get(r.violation_type, ""),
        "target_name": r.target_name, "admdvs": r.admdvs, "fixmedins_code": r.fixmedins_code,
        "real_name": r.real_name, "insider": r.insider, "excluded": r.excluded,
        "status": r.status, "status_zh": wf.REPORT_STATES[r.status], "outcome": r.outcome,
        "received_on": r.received_at.date().isoformat(), "due_date": r.due_date.isoformat() if r.due_date else None,
        "notice_due": r.notice_due.isoformat() if r.notice_due else None,
        "notified_on": r.notified_on.isoformat() if r.notified_on else None,
        "warnings": _overdue(r, day), "clue_id": r.clue_id, "duplicate_of": r.duplicate_of, "version": r.version,
    }  # fmt: skip


def list_reports(session: Session, actor: Actor, *, status: str = "", overdue: bool = False, page: int = 1,
                 size: int = 20) -> dict:  # fmt: skip
    conds = []
    if status:
        conds.append(Report.status == status)
    if overdue:
        day = today()
        conds.append(Report.status.not_in(wf.REPORT_FLOW.final))
        conds.append(Report.due_date < day)
    day = today()
    return paged(session, actor, Report, REPORT_VIEW, conds, (Report.received_at.desc(), Report.id.desc()),
                 lambda r: _item(r, day), page, size)  # fmt: skip


def get_report(session: Session, actor: Actor, report_id: int) -> dict:
    r = workflow.load(session, actor, REPORT, report_id)
    events = session.execute(
        select(ReportEvent).where(ReportEvent.report_id == r.id).order_by(ReportEvent.id)
    ).scalars()
    files = session.execute(select(ReportAttachment.id, ReportAttachment.filename, ReportAttachment.size)
                            .where(ReportAttachment.report_id == r.id).order_by(ReportAttachment.id)).all()  # fmt: skip
    linked = session.execute(select(Report.id, Report.number, Report.received_at).where(
        Report.id != r.id, (Report.duplicate_of == r.id) | (Report.id == (r.duplicate_of or 0)))
        .order_by(Report.received_at)).all()  # fmt: skip
    reward = session.execute(select(ReportReward).where(ReportReward.report_id == r.id)).scalar_one_or_none()
    return {
        **_item(r), "description": r.description, "happened": r.happened, "place": r.place, "reply": r.reply,
        "inspection": r.inspection,
        "events": [{"action": e.action, "label_zh": "登记" if e.action == "register" else wf.REPORT_FLOW.label(e.action),
                    "to_status_zh": wf.REPORT_STATES.get(e.to_status, e.to_status), "actor": e.actor,
                    "at": e.at.isoformat(), "comment": e.comment} for e in events],
        "attachments": [{"id": i, "filename": n, "size": s} for i, n, s in files],
        "linked": [{"id": i, "number": n, "received_on": at.date().isoformat()} for i, n, at in linked],
        # anonymous reporters are told nothing: they look the report up with their code
        "actions": [a for a in REPORT.actions(session, r, actor) if r.real_name or a["action"] != "notify"],
        "reward": reward_item(reward) if reward else None,
        "can_decrypt": actor.can(REPORT_IDENTITY) and r.real_name,
    }  # fmt: skip


def act_on_report(
    session: Session, actor: Actor, report_id: int, action: str, version: int, **fields: Any
) -> dict:
    workflow.act(session, actor, REPORT, report_id, action, version, fields)
    return get_report(session, actor, report_id)


def set_exclusion(session: Session, actor: Actor, report_id: int, excluded: str, version: int) -> dict:
    """Mark the reporter as excluded from rewards (staff of the bureau, an offender reporting themself, facts
    already known) — found when the handler checks the facts; kept on the record."""
    r = workflow.load(session, actor, REPORT, report_id, for_update=True)
    if not actor.role.endswith("_supervisor"):
        raise forbidden("只有监管人员可认定奖励排除情形", "only supervisors mark exclusions")
    workflow.check_version(REPORT, r, version)
    if excluded and excluded not in rules.load_reward_rules().exclusions:
        raise ValidationFailed("排除情形应为 staff、self_reporting、already_known 之一", "unknown exclusion")
    r.excluded = excluded
    workflow.flush(session, REPORT)
    record.append(session, actor.username, "report.exclusion", "report", r.id, {"excluded": excluded})
    return get_report(session, actor, report_id)


def attachment(session: Session, actor: Actor, report_id: int, attachment_id: int) -> tuple[str, str, bytes]:
    r = workflow.load(session, actor, REPORT, report_id)
    a = session.get(ReportAttachment, attachment_id)
    if a is None or a.report_id != r.id:
        raise NotFound("附件不存在", "no such attachment")
    return a.filename, a.content_type, sealing.open_bytes(a.sealed, r.number)


def reveal_identity(session: Session, actor: Actor, report_id: int, reason: str, client: str = "") -> dict:
    """The designated role decrypts a reporter's identity for a stated reason (e.g. to pay a reward or to hear
    them as a witness); each decryption goes into the access log and the enforcement record."""
    actor.require(REPORT_IDENTITY)
    reason = _text(reason, "解密理由", "reason", 200)
    if len(reason) < 4:
        raise ValidationFailed("请写明解密理由（至少 4 字）", "give a reason (4+ characters)")
    r = workflow.load(session, actor, REPORT, report_id)
    if not r.identity_sealed:
        raise ValidationFailed("匿名举报，无举报人信息", "anonymous report: no identity")
    who = sealing.unseal(r.identity_sealed, r.number)
    access.log(session, actor.username, "report.identity", f"report:{r.id} {reason}"[:120], client)
    record.append(session, actor.username, "report.identity", "report", r.id, {"reason": reason})
    return {"report_id": r.id, "number": r.number, **who}


# ---------------------------------------------------------------- statistics


def statistics(session: Session, actor: Actor) -> dict:
    """Reports by channel, type, status and outcome; how many became cases; money recovered and rewards paid."""
    actor.require(REPORT_VIEW)
    seen = scope_filter(actor, Report.admdvs, Report.fixmedins_code)

    def by(col: Any, labels: dict[str, str]) -> list[dict]:
        rows = session.execute(select(col, func.count()).where(seen).group_by(col).order_by(col)).all()
        return [{"key": k, "label_zh": labels.get(k, k or "未办结"), "count": n} for k, n in rows]

    total = session.execute(select(func.count()).select_from(Report).where(seen)).scalar_one()
    clue_ids = select(Report.clue_id).where(seen, Report.clue_id.is_not(None))
    to_clue = session.execute(
        select(func.count()).select_from(Report).where(seen, Report.clue_id.is_not(None))
    ).scalar_one()
    cases = session.execute(
        select(func.count(func.distinct(Case.clue_id))).where(Case.clue_id.in_(clue_ids))
    ).scalar_one()
    recovered = session.execute(select(func.coalesce(func.sum(Clue.confirmed_amount), 0)).where(
        Clue.id.in_(clue_ids), Clue.outcome.in_(CONFIRMED_OUTCOMES))).scalar_one()  # fmt: skip
    paid = session.execute(select(func.coalesce(func.sum(ReportReward.amount), 0)).where(
        and_(scope_filter(actor, ReportReward.admdvs, ReportReward.fixmedins_code), ReportReward.status == "paid"))).scalar_one()  # fmt: skip
    outcomes = {**rules.OUTCOMES, "rejected": "不予受理"}
    return {
        "total": total,
        "by_channel": by(Report.channel, rules.CHANNELS),
        "by_type": by(Report.violation_type, rules.VIOLATION_TYPES),
        "by_status": by(Report.status, wf.REPORT_STATES),
        "by_outcome": by(Report.outcome, outcomes),
        "became_clues": to_clue,
        "became_cases": cases,
        "case_share": round(cases / total, 4) if total else 0.0,
        "recovered": str(_yuan(recovered)),
        "rewards_paid": str(_yuan(paid)),
    }


def _yuan(value: Any) -> Any:
    return money(value or 0)  # the sum comes back through the Money column type: already yuan
