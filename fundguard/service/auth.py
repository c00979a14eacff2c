"""Authentication: scrypt password hashes, bearer tokens with a sliding session timeout, and lockout after
repeated failed logins; user and cross-check grant creation.

Only the SHA-256 of a token is stored. A session expires when unused for ``SESSION_MINUTES`` (default 30,
env ``FUNDGUARD_SESSION_MINUTES``); each use slides it. ``MAX_FAILURES`` (5) wrong passwords in a row lock
the account for ``LOCK_MINUTES`` (15).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service import record
from fundguard.service.errors import AccountLocked, NotAuthenticated, ValidationFailed
from fundguard.service.models import AuthSession, Grant, Institution, User, utcnow
from fundguard.service.scope import ActiveGrant, Actor
from fundguard.service.settings import settings
from fundguard.supervision.roles import ROLES, role

MAX_FAILURES = 5
LOCK_MINUTES = 15
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def session_minutes() -> int:
    try:
        return settings().session_minutes
    except ValueError:
        return 30


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_dict(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_zh": ROLES[user.role].name_zh,
        "admdvs": user.admdvs,
        "fixmedins_code": user.fixmedins_code,
        "department": user.department,
        "cert_no": user.cert_no,
    }


def create_user(session: Session, username: str, password: str, role_code: str, admdvs: str, *,
                display_name: str = "", fixmedins_code: str | None = None, department: str = "医保局",
                cert_no: str = "", by: str = "system") -> User:  # fmt: skip
    role(role_code)
    if not username or len(password) < 8:
        raise ValidationFailed(
            "用户名不能为空，密码至少 8 位", "username required; password needs 8+ characters"
        )
    if len(admdvs or "") != 6 or not admdvs.isdigit():
        raise ValidationFailed(f"医保区划 {admdvs} 应为 6 位数字", f"admdvs {admdvs} must be 6 digits")
    if role_code == "hospital" and (not fixmedins_code or session.get(Institution, fixmedins_code) is None):
        raise ValidationFailed("医院用户须关联已登记的定点机构", "a hospital user needs a known institution")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise ValidationFailed(f"用户名 {username} 已存在", f"username {username} exists")
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=role_code, admdvs=admdvs, fixmedins_code=fixmedins_code, department=department,
                cert_no=cert_no.strip())  # fmt: skip
    session.add(user)
    session.flush()
    record.append(session, by, "user.create", "user", user.id,
                  {"username": username, "role": role_code, "admdvs": admdvs, "fixmedins_code": fixmedins_code})  # fmt: skip
    return user


def login(session: Session, username: str, password: str, now: dt.datetime | None = None) -> tuple[str, dict]:
    """Check the password; return a new bearer token and the user. Wrong credentials → ``NotAuthenticated``;
    a locked account → ``AccountLocked`` (even with the right password)."""
    now = now or utcnow()
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    bad = NotAuthenticated("用户名或密码错误", "wrong username or password")
    if user is None or not user.active:
        check_password(password, _DUMMY_HASH)  # same work as for a real user: no timing hint that it exists
        raise bad
    if user.locked_until and user.locked_until > now:
        mins = int((user.locked_until - now).total_seconds() // 60) + 1
        raise AccountLocked(f"账号已锁定，请 {mins} 分钟后再试", f"account locked; try again in {mins} min")
    if not check_password(password, user.password_hash):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            record.append(session, username, "user.locked", "user", user.id,
                          {"minutes": LOCK_MINUTES, "failures": MAX_FAILURES}, now=now)  # fmt: skip
            session.commit()  # the lock must survive the error the caller turns into a 4xx
            raise AccountLocked(
                f"连续 {MAX_FAILURES} 次密码错误，账号锁定 {LOCK_MINUTES} 分钟",
                f"{MAX_FAILURES} failed logins: account locked for {LOCK_MINUTES} min",
            )
        session.commit()
        raise bad
    user.failed_logins = 0
    user.locked_until = None
    token = secrets.token_urlsafe(32)
    session.add(AuthSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen=now))
    session.flush()
    return token, user_dict(user)


def logout(session: Session, token: str) -> None:
    s = session.get(AuthSession, _token_hash(token or ""))
    if s is not None:
        s.revoked = True
        session.flush()


SLIDE_GRANULARITY = dt.timedelta(seconds=60)
"""How stale ``last_seen`` may get before a request slides the session (the timeout is in minutes)."""


def actor_for_token(session: Session, token: str | None, now: dt.datetime | None = None) -> Actor:
    """The actor of a live token (sliding its timeout), with the cross-check grants active at ``now``."""
    now = now or utcnow()
    if not token:
        raise NotAuthenticated("请先登录", "not logged in")
    s = session.get(AuthSession, _token_hash(token))
    if s is None or s.revoked:
        raise NotAuthenticated("登录已失效，请重新登录", "invalid session; log in again")
    if now - s.last_seen > dt.timedelta(minutes=session_minutes()):
        s.revoked = True
        session.flush()
        raise NotAuthenticated("长时间未操作，登录已超时，请重新登录", "session timed out; log in again")
    user = session.get(User, s.user_id)
    if user is None or not user.active:
        raise NotAuthenticated("用户已停用", "user disabled")
    if now - s.last_seen > SLIDE_GRANULARITY:  # a write per minute, not per request: SQLite has one writer
        s.last_seen = now
        session.flush()
    return actor_for_user(session, user, now)


def actor_for_user(session: Session, user: User, now: dt.datetime | None = None) -> Actor:
    now = now or utcnow()
    grants = session.execute(
        select(Grant).where(Grant.user_id == user.id, Grant.valid_from <= now, Grant.valid_to > now)
    ).scalars()
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        admdvs=user.admdvs,
        fixmedins_code=user.fixmedins_code,
        department=user.department,
        grants=tuple(ActiveGrant(g.admdvs, g.fixmedins_code, g.valid_to) for g in grants),
    )


def grant_access(session: Session, actor: Actor, username: str, *, admdvs: str, fixmedins_code: str | None = None,
                 days: int = 30, reason: str = "交叉检查", now: dt.datetime | None = None) -> dict:  # fmt: skip
    """A cross-check assignment: ``username`` may see ``admdvs`` (or one institution) for ``days`` days.
    The granting actor must itself see what it grants."""
    from fundguard.service.scope import require_sees
    from fundguard.supervision.roles import GRANT_MANAGE

    actor.require(GRANT_MANAGE)
    now = now or utcnow()
    if not 1 <= int(days) <= 365:
        raise ValidationFailed("授权天数应在 1–365 之间", "days must be 1–365")
    if actor.role != "admin":
        require_sees(actor, admdvs, fixmedins_code, "授权范围", "the granted scope")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise ValidationFailed(f"用户 {username} 不存在", f"user {username} not found")
    g = Grant(user_id=user.id, admdvs=admdvs, fixmedins_code=fixmedins_code, valid_from=now,
              valid_to=now + dt.timedelta(days=int(days)), reason=reason, granted_by=actor.username)  # fmt: skip
    session.add(g)
    session.flush()
    record.append(session, actor.username, "grant.create", "grant", g.id,
                  {"username": username, "admdvs": admdvs, "fixmedins_code": fixmedins_code, "days": int(days)}, now=now)  # fmt: skip
    return {"id": g.id, "username": username, "admdvs": admdvs, "fixmedins_code": fixmedins_code,
            "valid_to": g.valid_to.isoformat()}  # fmt: skip
