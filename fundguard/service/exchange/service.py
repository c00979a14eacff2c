"""Export and import of exchange files: referrals out (with their receipts and results coming back) and partner
findings in (registered as clues), each message logged once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service import clues, record, workflow
from fundguard.service.errors import InvalidTransition, ValidationFailed
from fundguard.service.exchange.format import COLUMNS, FORMAT, KIND_ZH, SCHEMA_VERSION, Envelope, Message
from fundguard.service.models import Case, Clue, ExchangeMessage, Referral, utcnow
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


def _validated(data: Any) -> Envelope:
    if isinstance(data, dict) and data.get("format") == FORMAT:
        major = str(data.get("version", "")).split(".")[0]
        if major != SCHEMA_VERSION.split(".")[0]:
            raise ValidationFailed(f"不支持的交换格式版本 {data.get('version')}（支持 {SCHEMA_VERSION}）",
                                   f"unsupported exchange format version {data.get('version')}")  # fmt: skip
    try:
        return Envelope.model_validate(data)
    except ValidationError as e:
        first = e.errors()[:3]
        where = "; ".join(f"{'.'.join(str(p) for p in x['loc'])}: {x['msg']}" for x in first)
        raise ValidationFailed(f"交换文件不符合格式 {SCHEMA_VERSION}：{where}",
                               f"exchange file does not match format {SCHEMA_VERSION}: {where}") from None  # fmt: skip


def import_envelope(session: Session, actor: Actor, data: Any) -> dict[str, Any]:
    """Apply a partner's file: receipts and results move our referrals on their process, findings become clues
    (source 部门互认, with the partner's document numbers). A message already seen is skipped."""
    actor.require(REFERRAL_VIEW)
    env = _validated(data)
    seen = set(session.execute(select(ExchangeMessage.message_id)
                               .where(ExchangeMessage.message_id.in_([m.message_id for m in env.messages]))).scalars())  # fmt: skip
    done: dict[str, Any] = {"imported": 0, "skipped": 0, "clues": [], "referrals": []}
    for m in env.messages:
        if m.message_id in seen:
            done["skipped"] += 1
            continue
        seen.add(m.message_id)
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
            text = f"【{m.partner}认定，文号 {m.partner_ref}】{m.summary}" + (
                f"\n附件：{docs}" if docs else ""
            )
            clue = clues.register_clue(session, actor, fixmedins_code=m.fixmedins_code, source="partner",
                                       description=text, amount=m.amount, department="医保局")  # fmt: skip
            _log(session, actor, m, "in", admdvs=clue["admdvs"], inst=m.fixmedins_code, clue_id=clue["id"])
            done["clues"].append(clue["id"])
        else:
            raise ValidationFailed(f"无法处理的{KIND_ZH[m.kind]}消息 {m.message_id}（来自对方的移送请走线索登记）",
                                   f"cannot apply a {m.kind} message {m.message_id}")  # fmt: skip
        done["imported"] += 1
    session.flush()
    record.append(session, actor.username, "exchange.import", "exchange", env.sender.department,
                  {k: v for k, v in done.items()})  # fmt: skip
    return done


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
        if path.suffix.lower() == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        if path.suffix.lower() != ".xlsx":
            raise ValidationFailed("交换文件须为 .json 或 .xlsx", "an exchange file is .json or .xlsx")
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        meta = {
            str(r[0]): "" if r[1] is None else str(r[1])
            for r in wb["说明"].iter_rows(values_only=True)
            if r[0]
        }
        rows = list(wb["消息"].iter_rows(values_only=True))
    except (OSError, ValueError, KeyError) as e:
        raise ValidationFailed(
            f"无法读取交换文件 {path.name}：{e}", f"cannot read exchange file {path.name}: {e}"
        ) from None
    head = [str(h) for h in rows[0]] if rows else []
    messages = []
    for row in rows[1:]:
        m = {h: ("" if v is None else v) for h, v in zip(head, row, strict=False)}
        m["documents"] = json.loads(m.get("documents") or "[]")
        m["referral_id"] = int(m["referral_id"]) if m.get("referral_id") not in ("", None) else None
        m["amount"] = str(m.get("amount") or "0")
        messages.append(m)
    return {"format": meta.get("format", ""), "version": meta.get("version", ""),
            "sender": {"department": meta.get("sender.department", ""), "admdvs": meta.get("sender.admdvs", "")},
            "created_at": meta.get("created_at", ""), "messages": messages}  # fmt: skip
