"""执法全过程记录: the append-only, keyed, hash-chained enforcement record.

Every state change appends one entry in the same transaction as the change. An entry's hash is
``HMAC-SHA256(key, prev_hash + canonical JSON of {seq, at, actor, action, entity, entity_id, payload})``
under a key kept outside the database (``FUNDGUARD_RECORD_KEY``), so whoever can write the database but not
read the key cannot recompute the chain; the first entry's ``prev_hash`` is 64 zeros. Each entry also
carries, under ``payload["state"]``, the watched fields (status, amounts, role) of every clue, case and user
written since the previous entry, so the record says what each row should look like now.

There is no update or delete path here (on PostgreSQL a trigger and the grants forbid it too). ``anchor``
exports the head (count and hash) to an append-only file outside the database (and syslog); ``verify``
recomputes the chain, checks it against the latest export, and replays the states against the rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, event, or_, select, true
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.core.settings import settings
from fundguard.service.models import Case, Clue, RecordEntry, RecordHead, User, utcnow

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


def record_key(path: str | None = None) -> bytes:
    """The HMAC key from its file (created with 32 random bytes, mode 0600, on first use)."""
    p = Path(path or settings().record_key).expanduser()
    try:
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        key = p.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"无法读取执法记录密钥 {p}：{exc}", f"cannot read the record key {p}: {exc}"
        ) from None
    if len(key) < 32:
        raise InputError(f"执法记录密钥 {p} 太短（至少 32 个字符）", f"record key {p} too short (32+ chars)")
    return key.encode("ascii")


def entry_hash(key: bytes, prev_hash: str, seq: int, at: str, actor: str, action: str, entity: str,
               entity_id: str, payload: str) -> str:  # fmt: skip
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
    return hmac.new(key, (prev_hash + body).encode("utf-8"), hashlib.sha256).hexdigest()


# The fields whose current value the record vouches for, per table.
WATCHED: dict[type, tuple[str, tuple[str, ...]]] = {
    Clue: ("clue", ("status", "amount", "confirmed_amount")),
    Case: ("case", ("status", "amount_at_issue", "loss_amount")),
    User: ("user", ("role", "admdvs", "fixmedins_code", "active")),
}
_TOUCHED = "fundguard_record_touched"


@event.listens_for(Session, "before_flush")
def _collect_touched(session: Session, _ctx: Any, _instances: Any) -> None:
    """Remember every watched row written in this session, for the next entry's state snapshot."""
    bag = session.info.setdefault(_TOUCHED, [])
    bag.extend(o for o in (*session.new, *session.dirty) if type(o) in WATCHED)


def _value(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, Decimal):
        return str(v.quantize(Decimal("0.01")))
    return str(v)


def _state(row: Any) -> tuple[str, dict]:
    entity, fields = WATCHED[type(row)]
    return f"{entity}:{row.id}", {f: _value(getattr(row, f)) for f in fields}


def _snapshot(session: Session) -> dict:
    session.flush()
    rows = session.info.pop(_TOUCHED, [])
    return dict(_state(r) for r in rows if r.id is not None and r in session)


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
    state = _snapshot(session)
    body = canonical({**(payload or {}), **({"state": state} if state else {})})
    h = entry_hash(record_key(), head.hash, seq, at, actor, action, entity, str(entity_id), body)
    entry = RecordEntry(seq=seq, at=at, actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                        payload=body, prev_hash=head.hash, hash=h)  # fmt: skip
    session.add(entry)
    head.seq, head.hash = seq, h
    session.flush()
    return entry


def verify(session: Session, anchor: dict | None = None) -> dict:
    """Recompute the chain, check it against ``anchor`` (the latest export, if any) and replay the recorded
    states against the rows: ``{ok, entries, first_bad, reason_zh, reason_en, mismatches, anchor}``
    (``first_bad`` is a seq; ``mismatches`` lists rows whose watched fields differ from the record)."""
    out = _verify_chain(session, anchor)
    out["anchor"] = anchor
    out["mismatches"] = _replay(session) if out["ok"] else []
    if out["mismatches"]:
        n = len(out["mismatches"])
        out.update(ok=False, reason_zh=f"{n} 行数据与执法记录不符（状态、金额或角色被直接改动）",
                   reason_en=f"{n} rows differ from the record (state, amount or role changed directly)")  # fmt: skip
    return out


def _verify_chain(session: Session, anchor: dict | None) -> dict:
    key = record_key()
    prev = GENESIS
    expected = 1
    count = 0
    anchored: str | None = None
    rows = session.execute(select(RecordEntry).order_by(RecordEntry.seq)).scalars()
    for e in rows:
        count += 1
        bad: tuple[str, str] | None = None
        if e.seq != expected:
            bad = (f"第 {expected} 条记录缺失或序号被改动", f"entry {expected} is missing or renumbered")
        elif e.prev_hash != prev:
            bad = (f"第 {e.seq} 条记录的前序哈希与上一条不符", f"entry {e.seq}: prev_hash does not match")
        elif (
            entry_hash(key, prev, e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.payload) != e.hash
        ):
            bad = (
                f"第 {e.seq} 条记录内容被篡改（哈希不符）",
                f"entry {e.seq}: content altered (hash mismatch)",
            )
        if bad:
            return {"ok": False, "entries": count, "first_bad": expected if e.seq != expected else e.seq,
                    "reason_zh": bad[0], "reason_en": bad[1]}  # fmt: skip
        prev = e.hash
        expected += 1
        if anchor and e.seq == anchor["seq"]:
            anchored = e.hash
    if anchor and anchored != anchor["hash"]:
        return {"ok": False, "entries": count, "first_bad": min(count + 1, anchor["seq"]),
                "reason_zh": f"记录与 {anchor['at']} 导出的链头（第 {anchor['seq']} 条）不符：导出后有记录被删除或改写",
                "reason_en": f"record differs from the head exported at {anchor['at']} (entry {anchor['seq']}): "
                             "entries removed or rewritten since"}  # fmt: skip
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


def _replay(session: Session) -> list[dict]:
    """Every clue, case or user whose watched fields differ from the last state the record gives it (or that
    the record never mentions: a row inserted behind the service's back)."""
    recorded: dict[str, dict] = {}
    for (payload,) in session.execute(select(RecordEntry.payload).order_by(RecordEntry.seq)):
        recorded.update(json.loads(payload).get("state") or {})
    out = []
    for model, (entity, _fields) in WATCHED.items():
        for row in session.execute(select(model).order_by(model.id)).scalars():
            key, now = _state(row)
            was = recorded.get(key)
            if was is None:
                out.append({"entity": entity, "id": row.id, "field": "*", "recorded": None, "current": now})
                continue
            out.extend({"entity": entity, "id": row.id, "field": f, "recorded": was.get(f), "current": v}
                       for f, v in now.items() if was.get(f) != v)  # fmt: skip
    return out


def database_id(url: str) -> str:
    """The database an anchor line belongs to: its URL without the password."""
    return make_url(url).render_as_string(hide_password=True)


def anchor(session: Session, url: str, now: dt.datetime | None = None) -> dict:
    """Export the head (count and hash) as one line appended to the anchor file (and to syslog when set),
    MACed so that a forged line is noticed too. The file is opened for appending only."""
    head = session.get(RecordHead, 1)
    line = {"db": database_id(url), "at": (now or utcnow()).astimezone(dt.UTC).isoformat(timespec="seconds"),
            "seq": head.seq if head else 0, "hash": head.hash if head else GENESIS}  # fmt: skip
    line["mac"] = hmac.new(record_key(), canonical(line).encode(), hashlib.sha256).hexdigest()
    path = Path(settings().record_anchor).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(canonical(line) + "\n")
    except OSError as exc:
        raise InputError(
            f"无法写入链头导出文件 {path}：{exc}", f"cannot append to the anchor file {path}: {exc}"
        ) from None
    if settings().record_syslog:
        import logging.handlers

        log = logging.getLogger("fundguard.record")
        log.addHandler(logging.handlers.SysLogHandler(address="/dev/log"))
        log.warning("fundguard record anchor %s", canonical(line))
    return {**line, "file": str(path)}


def latest_anchor(url: str) -> dict | None:
    """The last valid anchor line for this database; a line whose MAC fails is refused loudly."""
    path = Path(settings().record_anchor).expanduser()
    if not path.exists():
        return None
    db_id, key, last = database_id(url), record_key(), None
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict) or line.get("db") != db_id:
            continue
        mac = line.pop("mac", "")
        if not hmac.compare_digest(mac, hmac.new(key, canonical(line).encode(), hashlib.sha256).hexdigest()):
            raise InputError(f"链头导出文件 {path} 中有伪造的行", f"forged line in the anchor file {path}")
        last = line
    return last


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
    from fundguard.service.models import Referral
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
            return verify(s, latest_anchor(url))
    finally:
        db.dispose()
