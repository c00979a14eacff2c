"""访问日志 (等保 security audit): logins (ok and failed), reads of patient-level data (clue detail with its
evidence, case detail, appeal files, documents, ledger exports) and administrators' actions, in a table of their
own — apart from the enforcement record, which records what was done to clues and cases, not who looked.

Entries are kept at least ``MIN_KEEP_DAYS`` (183, six months); ``purge`` deletes only what is older than
``FUNDGUARD_ACCESS_LOG_DAYS`` (default 190, never under 183). ``search`` is for administrators.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fundguard.core.settings import settings
from fundguard.service.errors import PermissionDenied
from fundguard.service.models import AccessLog, utcnow
from fundguard.service.scope import Actor

MIN_KEEP_DAYS = 183
ACTION_ZH = {
    "login.ok": "登录成功",
    "login.failed": "登录失败",
    "login.throttled": "登录过频被拒",
    "password.change": "修改密码",
    "clue.read": "查看线索详情",
    "case.read": "查看案件详情",
    "appeal_file.read": "下载申诉材料",
    "document.read": "下载案件文书",
    "ledger.export": "导出台账",
    "admin.user_create": "创建用户",
    "admin.password_reset": "重置密码",
    "admin.totp_reset": "重置动态验证码",
    "totp.enrol": "启用动态验证码",
    "admin.grant": "交叉检查授权",
    "admin.access_log": "查询访问日志",
    "report.identity": "解密举报人信息",
    "report.attachment": "下载举报附件",
}


def log(session: Session, username: str, action: str, target: str = "", client: str = "", outcome: str = "ok",
        now: dt.datetime | None = None) -> None:  # fmt: skip
    session.add(AccessLog(at=now or utcnow(), username=username[:64], action=action, target=target[:120],
                          client=client[:64], outcome=outcome[:20]))  # fmt: skip
    session.flush()


def keep_days() -> int:
    return max(settings().access_log_days, MIN_KEEP_DAYS)


def purge(session: Session, now: dt.datetime | None = None) -> int:
    """Delete entries older than the retention (never younger than six months); returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=keep_days())
    return session.execute(delete(AccessLog).where(AccessLog.at < cutoff)).rowcount or 0


def search(session: Session, actor: Actor, *, username: str = "", action: str = "", since: dt.date | None = None,
           until: dt.date | None = None, page: int = 1, size: int = 50) -> dict:  # fmt: skip
    """Newest first; only administrators (the search itself is logged by the route)."""
    if actor.role != "admin":
        raise PermissionDenied(
            "只有系统管理员可查询访问日志", "only an administrator searches the access log"
        )
    stmt = select(AccessLog)
    if username:
        stmt = stmt.where(AccessLog.username == username)
    if action:
        stmt = stmt.where(AccessLog.action.startswith(action))
    if since:
        stmt = stmt.where(AccessLog.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        stmt = stmt.where(AccessLog.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
    from sqlalchemy import func

    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(AccessLog.id.desc()).offset((page - 1) * size).limit(size)).scalars()
    items = [{"id": r.id, "at": r.at.isoformat(), "username": r.username, "action": r.action,
              "action_zh": ACTION_ZH.get(r.action, r.action), "target": r.target, "client": r.client,
              "outcome": r.outcome} for r in rows]  # fmt: skip
    return {"items": items, "total": total, "page": page, "size": size}
