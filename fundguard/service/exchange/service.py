"""Export and import of exchange files: referrals out (with their receipts and results coming back) and partner
findings in (registered as clues), each message logged once."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service import clues, record, workflow
from fundguard.service.errors import InvalidTransition, RowsRejected, ServiceError, ValidationFailed
from fundguard.service.exchange.format import COLUMNS, FORMAT, KIND_ZH, SCHEMA_VERSION, Envelope, Message
from fundguard.service.models import Case, Clue, ExchangeMessage, Institution, Referral, utcnow
from fundguard.service.referrals import REFERRAL
from fundguard.service.scope import Actor, scope_filter
from fundguard.supervision.roles import CLUE_REGISTER, REFERRAL_VIEW

SENT = ("sent", "received", "accepted", "declined", "reconsidering")  # referrals that have left the bureau
RESULT_ZH = {"accepted": "已立案/已受理", "declined": "不予立案/不予受理", "confirmed": "查实", "dismissed": "不予认定",
             "pending": "办理中"}  # fmt: skip


def _log(session: Session, actor: Actor, m: Message, direction: str, *, admdvs: str, inst: str = "",
         referral_id: int | None = None, clue_id: int | None = None) -> None:  # fmt: skip
    session.add(ExchangeMessage(message_id=m.message_id, direction=direction, kind=m.kind, partner=m.partner,
                                referral_id=referral_id, clue_id=clue_id, admdvs=admdvs, fixmedins_code=inst,
                                payload_json=m.model_dump_json(), by=actor.username))  # fmt: skip


def export_envelope(session: Session, actor: Actor, partner: str | None = None) -> dict[str, Any]:
    """Every referral in scope that has left the bureau, and our results on the partners' findings, as one
    envelope (format version ``SCHEMA_VERSION``); each message is logged the first time it goes out."""
    actor.require(REFERRAL_VIEW)
    now = utcnow().isoformat()
    logged = set(session.execute(select(ExchangeMessage.message_id)).scalars())
    out: list[Message] = []
    refs = session.execute(select(Referral, Case.number).join(Case, Case.id == Referral.case_id, isouter=True)
                           .where(scope_filter(actor, Referral.admdvs, Referral.fixmedins_code),
                                  Referral.status.in_(SENT)).order_by(Referral.id)).all()  # fmt: skip
    for r, number in refs:
        clue = session.get(Clue, r.clue_id) if r.clue_id else None
        m = Message(message_id=f"FG-{r.admdvs}-RF{r.id}", kind="referral", partner=r.target,
                    sent_at=(r.sent_at or r.created_at).isoformat(), referral_id=r.id, case_number=number or "",
                    fixmedins_code=r.fixmedins_code, fixmedins_name=clue.fixmedins_name if clue else "",
                    admdvs=r.admdvs, summary=r.reason, amount=str(clue.amount) if clue else "0")  # fmt: skip
        out.append(m)
        if m.message_id not in logged:
            _log(
                session,
                actor,
                m,
                "out",
                admdvs=r.admdvs,
                inst=r.fixmedins_code,
                referral_id=r.id,
                clue_id=r.clue_id,
            )
    findings = session.execute(select(ExchangeMessage, Clue).join(Clue, Clue.id == ExchangeMessage.clue_id)
                               .where(ExchangeMessage.kind == "finding", ExchangeMessage.direction == "in",
                                      scope_filter(actor, Clue.admdvs, Clue.fixmedins_code),
                                      Clue.outcome.in_(("confirmed", "dismissed", "penalised", "no_penalty"))))  # fmt: skip
    for em, clue in findings.all():
        src = Message.model_validate_json(em.payload_json)
        result = "dismissed" if clue.outcome == "dismissed" else "confirmed"
        m = Message(message_id=f"FG-{clue.admdvs}-RS{clue.id}-{clue.outcome}", kind="result", partner=src.partner,
                    sent_at=now, partner_ref=src.partner_ref, fixmedins_code=clue.fixmedins_code,
                    fixmedins_name=clue.fixmedins_name, admdvs=clue.admdvs, result=result,
                    outcome=f"医保部门核查{RESULT_ZH[result]}（线索 {clue.id}）",
                    amount=str(clue.confirmed_amount if clue.confirmed_amount is not None else clue.amount))  # fmt: skip
        out.append(m)
        if m.message_id not in logged:
            _log(session, actor, m, "out", admdvs=clue.admdvs, inst=clue.fixmedins_code, clue_id=clue.id)
    if partner:
        out = [m for m in out if m.partner == partner]
    env = Envelope(sender={"department": "医疗保障局", "admdvs": actor.admdvs}, created_at=now, messages=out)
    record.append(session, actor.username, "exchange.export", "exchange", actor.admdvs,
                  {"messages": len(out), "partner": partner or ""})  # fmt: skip
    return env.model_dump()


ERRORS_ZH = {  # pydantic's error types in the words of the exchange format's readers
    "missing": "缺少必填字段",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "格式不符合交换格式的规定",
    "string_type": "应为文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "list_type": "应为列表（JSON 数组）",
    "extra_forbidden": "不是交换格式中的字段（请检查列名）",
    "dict_type": "应为对象",
}
MAX_LISTED = 20  # bad rows named in the message; every one is in ``rows``


def _why_zh(err: dict[str, Any]) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "string_too_long" or kind == "too_long":
        return f"过长（最多 {ctx.get('max_length', '')}）"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("', '", "'、'").replace("' or '", "'、'")
        return f"取值应为 {expected} 之一"
    if kind == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    return ERRORS_ZH.get(kind, str(err.get("msg", "")))


def _errors_zh(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"列 {where}：{_why_zh(err)}" if where else _why_zh(err))
    return "；".join(parts)


def _rejected(bad: list[dict[str, Any]]) -> RowsRejected:
    listed = "\n".join(f"{b['row']}{'（消息号 ' + b['message_id'] + '）' if b['message_id'] else ''}：{b['reason_zh']}"
                        for b in bad[:MAX_LISTED])  # fmt: skip
    more = f"\n……另有 {len(bad) - MAX_LISTED} 行" if len(bad) > MAX_LISTED else ""
    return RowsRejected(f"交换文件有 {len(bad)} 行不符合格式 {SCHEMA_VERSION}，未导入任何消息：\n{listed}{more}",
                        f"{len(bad)} rows do not match exchange format {SCHEMA_VERSION}; nothing was imported",
                        bad)  # fmt: skip


def _validated(data: Any, labels: list[str] | None = None) -> Envelope:
    """The envelope, or every bad row at once (``RowsRejected``: its row — Excel line or message number —, message
    id and reason in Chinese); the version is checked first (a reader refuses a major version it does not know)."""
    if isinstance(data, dict) and data.get("format") == FORMAT:
        major = str(data.get("version", "")).split(".")[0]
        if major != SCHEMA_VERSION.split(".")[0]:
            raise ValidationFailed(f"不支持的交换格式版本 {data.get('version')}（支持 {SCHEMA_VERSION}）",
                                   f"unsupported exchange format version {data.get('version')}")  # fmt: skip
    if not isinstance(data, dict) or not isinstance(data.get("messages", []), list):
        raise ValidationFailed("交换文件应为一个信封对象（format、version、sender、created_at、messages）",
                               "an exchange file is one envelope object")  # fmt: skip
    raw = data.get("messages", [])
    try:
        head = Envelope.model_validate({**data, "messages": []})
    except ValidationError as e:
        where = _errors_zh(e)
        raise ValidationFailed(f"交换文件不符合格式 {SCHEMA_VERSION}：{where}",
                               f"exchange file does not match format {SCHEMA_VERSION}: {where}") from None  # fmt: skip
    labels = labels or [f"第 {i} 条消息" for i in range(1, len(raw) + 1)]
    messages, bad, ids = [], [], {}
    for label, m in zip(labels, raw, strict=True):
        mid = str(m.get("message_id", "")) if isinstance(m, dict) else ""
        try:
            msg = Message.model_validate(m)
        except ValidationError as e:
            bad.append({"row": label, "message_id": mid, "reason_zh": _errors_zh(e)})
            continue
        if msg.message_id in ids:
            bad.append({"row": label, "message_id": mid, "reason_zh": f"消息号与{ids[msg.message_id]}重复"})
            continue
        ids[msg.message_id] = label
        messages.append(msg)
    if len(raw) > 10_000:
        raise ValidationFailed("交换文件最多 10000 条消息", "an exchange file holds at most 10,000 messages")
    if bad:
        raise _rejected(bad)
    head.messages = messages
    return head


def import_envelope(
    session: Session, actor: Actor, data: Any, labels: list[str] | None = None
) -> dict[str, Any]:
    """Apply a partner's file: receipts and results move our referrals on their process, findings become clues
    (source 部门互认, with the partner's document numbers). A message already seen is skipped. All or nothing:
    every row is checked before any is applied (bad rows are all reported, ``RowsRejected``), and an error while
    applying names its row and leaves the caller's transaction to roll back. ``labels``: each message's row as
    the file names it (Excel: 第 N 行)."""
    actor.require(REFERRAL_VIEW)
    env = _validated(data, labels)
    labels = labels or [f"第 {i} 条消息" for i in range(1, len(env.messages) + 1)]
    seen = set(session.execute(select(ExchangeMessage.message_id)
                               .where(ExchangeMessage.message_id.in_([m.message_id for m in env.messages]))).scalars())  # fmt: skip
    unknown = [{"row": label, "message_id": m.message_id,
                "reason_zh": f"定点机构 {m.fixmedins_code} 不存在（请核对机构编码）"}
               for label, m in zip(labels, env.messages, strict=True)
               if m.kind == "finding" and m.message_id not in seen
               and session.get(Institution, m.fixmedins_code) is None]  # fmt: skip
    if unknown:
        raise _rejected(unknown)
    done: dict[str, Any] = {"imported": 0, "skipped": 0, "clues": [], "referrals": []}
    for label, m in zip(labels, env.messages, strict=True):
        if m.message_id in seen:
            done["skipped"] += 1
            continue
        seen.add(m.message_id)
        try:
            _apply(session, actor, m, done)
        except ServiceError as e:
            raise type(e)(
                f"{label}（消息号 {m.message_id}）：{e.zh}", f"{label} ({m.message_id}): {e.en}"
            ) from None
        done["imported"] += 1
    session.flush()
    record.append(session, actor.username, "exchange.import", "exchange", env.sender.department,
                  {k: v for k, v in done.items()})  # fmt: skip
    return done


def _apply(session: Session, actor: Actor, m: Message, done: dict[str, Any]) -> None:
    """One message: a receipt or result moves its referral, a finding becomes a clue."""
    if m.kind in ("receipt", "result") and m.referral_id is not None:
        r = workflow.load(session, actor, REFERRAL, m.referral_id, for_update=True)
        if r.target != m.partner:
            raise ValidationFailed(f"移送 {r.id} 的接收部门是{r.target}，不是{m.partner}",
                                   f"referral {r.id} went to {r.target}, not {m.partner}")  # fmt: skip
        if m.kind == "receipt":
            fields = {"receipt_no": m.receipt_no, "receipt_by": m.receipt_by, "comment": m.summary}
            action = "receipt"
        elif m.result in ("accepted", "declined"):
            action, fields = ("accept" if m.result == "accepted" else "decline"), {"outcome": m.outcome}
        else:
            raise ValidationFailed(f"移送结果应为 accepted 或 declined（消息 {m.message_id}）",
                                   f"a referral result is accepted or declined ({m.message_id})")  # fmt: skip
        try:
            workflow.move(session, actor, REFERRAL, r, action, fields)
        except InvalidTransition as e:
            raise ValidationFailed(
                f"消息 {m.message_id}：{e.zh}", f"message {m.message_id}: {e.en}"
            ) from None
        _log(
            session,
            actor,
            m,
            "in",
            admdvs=r.admdvs,
            inst=r.fixmedins_code,
            referral_id=r.id,
            clue_id=r.clue_id,
        )
        done["referrals"].append(r.id)
    elif m.kind == "finding":
        actor.require(CLUE_REGISTER)
        docs = "；".join(f"{d.name}{'（' + d.number + '）' if d.number else ''}" for d in m.documents)
        text = f"【{m.partner}认定，文号 {m.partner_ref}】{m.summary}" + (f"\n附件：{docs}" if docs else "")
        clue = clues.register_clue(session, actor, fixmedins_code=m.fixmedins_code, source="partner",
                                   description=text, amount=m.amount, department="医保局")  # fmt: skip
        _log(session, actor, m, "in", admdvs=clue["admdvs"], inst=m.fixmedins_code, clue_id=clue["id"])
        done["clues"].append(clue["id"])
    else:
        raise ValidationFailed(f"无法处理的{KIND_ZH[m.kind]}消息 {m.message_id}（来自对方的移送请走线索登记）",
                               f"cannot apply a {m.kind} message {m.message_id}")  # fmt: skip


def list_messages(session: Session, actor: Actor, *, limit: int = 200) -> list[dict[str, Any]]:
    actor.require(REFERRAL_VIEW)
    rows = session.execute(select(ExchangeMessage)
                           .where(scope_filter(actor, ExchangeMessage.admdvs, ExchangeMessage.fixmedins_code))
                           .order_by(ExchangeMessage.id.desc()).limit(limit)).scalars()  # fmt: skip
    return [{"id": e.id, "message_id": e.message_id, "direction": e.direction,
             "direction_zh": "发出" if e.direction == "out" else "接收", "kind": e.kind,
             "kind_zh": KIND_ZH.get(e.kind, e.kind), "partner": e.partner, "referral_id": e.referral_id,
             "clue_id": e.clue_id, "admdvs": e.admdvs, "at": e.at.isoformat(), "by": e.by} for e in rows]  # fmt: skip


def write_file(envelope: dict[str, Any], path: Path) -> Path:
    """``.json`` (the envelope) or ``.xlsx`` (sheet 消息 one row per message, sheet 说明 the envelope fields)."""
    path = Path(path)
    envelope = _validated(envelope).model_dump()  # every field present, in the documented shape
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(envelope, ensure_ascii=False, indent=2), encoding="utf-8")
        return path
    if path.suffix.lower() != ".xlsx":
        raise ValidationFailed("交换文件须为 .json 或 .xlsx", "an exchange file is .json or .xlsx")
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    meta = wb.add_worksheet("说明")
    for i, (k, v) in enumerate([("format", envelope["format"]), ("version", envelope["version"]),
                                ("sender.department", envelope["sender"]["department"]),
                                ("sender.admdvs", envelope["sender"]["admdvs"]),
                                ("created_at", envelope["created_at"])]):  # fmt: skip
        meta.write_row(i, 0, [k, v])
    ws = wb.add_worksheet("消息")
    ws.write_row(0, 0, COLUMNS)
    for i, m in enumerate(envelope["messages"], start=1):
        ws.write_row(i, 0, [json.dumps(m["documents"], ensure_ascii=False) if c == "documents"
                            else ("" if m[c] is None else m[c]) for c in COLUMNS])  # fmt: skip
    wb.close()
    return path


def read_file(path: Path) -> dict[str, Any]:
    """An exchange file as the envelope dict (validated on import)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValidationFailed(
            f"无法读取交换文件 {path.name}：{e}", f"cannot read exchange file {path.name}: {e}"
        ) from None
    return parse_file(path.name, data)[0]


def import_file(session: Session, actor: Actor, filename: str, data: bytes) -> dict[str, Any]:
    """Import an uploaded exchange file (.json or .xlsx): every bad row reported by its Excel line, nothing applied
    unless every row is good."""
    actor.require(REFERRAL_VIEW)
    envelope, labels = parse_file(filename, data)
    return import_envelope(session, actor, envelope, labels)


def parse_file(filename: str, data: bytes) -> tuple[dict[str, Any], list[str] | None]:
    """The envelope dict of a .json or .xlsx exchange file and, for Excel, each message's row (第 N 行, the line
    in the sheet 消息, so a partner finds it). Cells are read as the format's types where they can be; a cell that
    cannot is left as it is, for validation to name its row."""
    name = filename.lower()
    if name.endswith(".json"):
        try:
            return json.loads(data.decode("utf-8-sig")), None
        except (UnicodeDecodeError, ValueError) as e:
            raise ValidationFailed(
                f"{filename} 不是有效的 JSON 文件：{e}", f"{filename} is not valid JSON: {e}"
            ) from None
    if not name.endswith(".xlsx"):
        raise ValidationFailed("交换文件须为 .json 或 .xlsx", "an exchange file is .json or .xlsx")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on a broken file
        raise ValidationFailed(
            f"无法读取 Excel 文件 {filename}：{e}", f"cannot read the Excel file {filename}: {e}"
        ) from None
    if not {"说明", "消息"} <= set(wb.sheetnames):
        raise ValidationFailed("Excel 交换文件须有工作表“说明”和“消息”（格式见 docs/exchange）",
                               "an Excel exchange file has the sheets 说明 and 消息 (see docs/exchange)")  # fmt: skip
    meta = {str(r[0]): _cell(r[1]) for r in wb["说明"].iter_rows(values_only=True) if r and r[0]}
    rows = list(wb["消息"].iter_rows(values_only=True))
    head = [str(h).strip() if h is not None else "" for h in rows[0]] if rows else []
    messages, labels = [], []
    for line, row in enumerate(rows[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in row):
            continue  # a blank line in the sheet
        m: dict[str, Any] = {h: _cell(v) for h, v in zip(head, row, strict=False) if h}
        docs = m.get("documents", "")
        with contextlib.suppress(ValueError):  # else validation says the column is not a list
            m["documents"] = json.loads(docs) if docs else []
        ref = m.get("referral_id", "")
        m["referral_id"] = None if ref == "" else int(ref) if ref.isdigit() else ref
        m["amount"] = m.get("amount") or "0"
        messages.append(m)
        labels.append(f"第 {line} 行")
    return {"format": meta.get("format", ""), "version": meta.get("version", ""),
            "sender": {"department": meta.get("sender.department", ""), "admdvs": meta.get("sender.admdvs", "")},
            "created_at": meta.get("created_at", ""), "messages": messages}, labels  # fmt: skip


def _cell(v: Any) -> str:
    """An Excel cell as the format's text: whole numbers without ``.0``, dates in ISO 8601."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return str(v).strip()
