"""执法全过程记录: the append-only, hash-chained enforcement record.

Every state change appends one entry in the same transaction as the change. An entry's hash is
``sha256(prev_hash + canonical JSON of {seq, at, actor, action, entity, entity_id, payload})``; the
first entry's ``prev_hash`` is 64 zeros. There is no update or delete path here; ``verify`` recomputes the
chain and reports the first entry that was altered, removed or inserted out of order, and whether the head
row (last seq and hash) still matches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, or_, select, true
from sqlalchemy.orm import Session

from fundguard.service.models import RecordEntry, RecordHead, utcnow

GENESIS = "0" * 64
ACTION_ZH = {
    "clue.import": "导入线索",
    "clue.register": "登记线索",
    "clue.action": "疑点处理",
    "clue.appeal": "提交申诉",
    "clue.transfer": "线索移交",
    "clue.transfer_answer": "移交答复",
    "case.open": "立案",
    "case.action": "案件办理",
    "referral.create": "移送",
    "referral.update": "移送进展",
    "rule.pause": "暂停规则",
    "rule.resume": "恢复规则",
    "user.create": "创建用户",
    "user.locked": "账号锁定",
    "grant.create": "交叉检查授权",
    "seed": "初始化演示数据",
}


ENTITY_ZH = {"clue": "线索", "case": "案件", "referral": "移送", "transfer": "移交", "run": "审核批次",
             "rule": "规则", "user": "用户", "users": "用户", "grant": "授权"}  # fmt: skip


def canonical(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text, decimals and dates as strings."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, entity: str, entity_id: str,
               payload: str) -> str:  # fmt: skip
    body = canonical(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "payload": json.loads(payload),
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _head(session: Session) -> RecordHead:
    head = session.execute(
        select(RecordHead).where(RecordHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = RecordHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def append(session: Session, actor: str, action: str, entity: str, entity_id: Any,
           payload: dict | None = None, *, now: dt.datetime | None = None) -> RecordEntry:  # fmt: skip
    """Append one entry (flushed, committed with the caller's transaction)."""
    head = _head(session)
    seq = head.seq + 1
    at = (now or utcnow()).astimezone(dt.UTC).isoformat(timespec="microseconds")
    body = canonical(payload or {})
    h = entry_hash(head.hash, seq, at, actor, action, entity, str(entity_id), body)
    entry = RecordEntry(seq=seq, at=at, actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                        payload=body, prev_hash=head.hash, hash=h)  # fmt: skip
    session.add(entry)
    head.seq, head.hash = seq, h
    session.flush()
    return entry


def verify(session: Session) -> dict:
    """Recompute the chain: ``{ok, entries, first_bad, reason_zh, reason_en}`` (``first_bad`` is a seq)."""
    prev = GENESIS
    expected = 1
    count = 0
    rows = session.execute(select(RecordEntry).order_by(RecordEntry.seq)).scalars()
    for e in rows:
        count += 1
        bad: tuple[str, str] | None = None
        if e.seq != expected:
            bad = (f"第 {expected} 条记录缺失或序号被改动", f"entry {expected} is missing or renumbered")
        elif e.prev_hash != prev:
            bad = (f"第 {e.seq} 条记录的前序哈希与上一条不符", f"entry {e.seq}: prev_hash does not match")
        elif entry_hash(prev, e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.payload) != e.hash:
            bad = (
                f"第 {e.seq} 条记录内容被篡改（哈希不符）",
                f"entry {e.seq}: content altered (hash mismatch)",
            )
        if bad:
            return {"ok": False, "entries": count, "first_bad": expected if e.seq != expected else e.seq,
                    "reason_zh": bad[0], "reason_en": bad[1]}  # fmt: skip
        prev = e.hash
        expected += 1
    head = session.get(RecordHead, 1)
    total = count
    if head is not None and (head.seq != total or head.hash != prev):
        return {"ok": False, "entries": total, "first_bad": total + 1 if head.seq > total else head.seq,
                "reason_zh": "记录末尾被删除或链头被改动", "reason_en": "entries removed at the end or head altered"}  # fmt: skip
    return {
        "ok": True,
        "entries": total,
        "first_bad": None,
        "reason_zh": "哈希链完整",
        "reason_en": "chain intact",
    }


def list_record(session: Session, actor: Any, page: int = 1, size: int = 50) -> dict:
    """The record, newest first, for actors with ``record.view``."""
    from fundguard.service.scope import paged
    from fundguard.supervision.roles import RECORD_VIEW

    return paged(session, actor, RecordEntry, RECORD_VIEW, [], RecordEntry.seq.desc(), _entry, page, size,
                 visible=_visible_entries(actor))  # fmt: skip


def _entry(e: RecordEntry) -> dict:
    return {
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "action_zh": ACTION_ZH.get(e.action, e.action),
        "entity": e.entity,
        "entity_zh": ENTITY_ZH.get(e.entity, e.entity),
        "entity_id": e.entity_id,
        "payload": json.loads(e.payload),
        "hash": e.hash,
    }


def _visible_entries(actor: Any) -> ColumnElement[bool]:
    """Administrators and province-level users read the whole record; others the entries about the clues,
    cases and referrals in their scope."""
    from fundguard.service.models import Case, Clue, Referral
    from fundguard.service.scope import region_level, scope_filter

    if actor.role == "admin" or region_level(actor.admdvs) == "province":
        return true()
    parts = []
    for entity, model in (("clue", Clue), ("case", Case), ("referral", Referral)):
        ids = select(cast(model.id, String)).where(scope_filter(actor, model.admdvs, model.fixmedins_code))
        parts.append(and_(RecordEntry.entity == entity, RecordEntry.entity_id.in_(ids)))
    return or_(*parts)


def verify_database(url: str) -> dict:
    """``fundguard verify-log``: verify the record of the database at ``url`` (no migration, read only)."""
    from sqlalchemy import inspect

    from fundguard.service.db import Database

    db = Database(url)
    try:
        if not inspect(db.engine).has_table(RecordEntry.__tablename__):
            return {"ok": False, "entries": 0, "first_bad": None, "reason_zh": "数据库尚未初始化（无执法记录表）",
                    "reason_en": "database not initialised (no record table)"}  # fmt: skip
        with db.session() as s:
            return verify(s)
    finally:
        db.dispose()
