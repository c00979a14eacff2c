"""Authentication: scrypt password hashes, a password policy, bearer tokens with a sliding idle timeout and
an absolute lifetime, login back-off per account name and per client; user and cross-check grant creation.

Only the SHA-256 of a token is stored. A session expires when unused for ``FUNDGUARD_SESSION_MINUTES`` (30)
and in any case ``FUNDGUARD_SESSION_MAX_HOURS`` (12) after login. Every failed login answers the same 401,
whether the account exists or not; past ``FREE_ATTEMPTS`` (3) failures for an account name or a client, each
further try must wait twice as long as the last (1 s … ``MAX_WAIT_SECONDS``), answered 429 with
``Retry-After`` — a back-off, never a lock an attacker could impose. First and reset passwords must be changed
before anything else; changing one ends the user's other sessions.

Administrators and legal reviewers may add a second factor (TOTP, RFC 6238, via ``pyotp``): the secret is made
here, shown once, confirmed by a first code, then stored only sealed under the record key (outside the database)
and never returned. Their login then needs a code from the current or an adjacent 30 s step, each step accepted
once; a missing or wrong code is a failed login for the back-off. An administrator can reset it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import os
import secrets

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.settings import settings
from fundguard.service import record
from fundguard.service.errors import (
    NotAuthenticated,
    OtpRequired,
    PasswordChangeRequired,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from fundguard.service.models import AuthSession, Grant, Institution, LoginThrottle, User, utcnow
from fundguard.service.scope import ActiveGrant, Actor
from fundguard.supervision.roles import ROLES, role

FREE_ATTEMPTS = 3
MAX_WAIT_SECONDS = 15 * 60
MIN_PASSWORD = 10
# The most common passwords and keyboard runs (lower case, compared after stripping trailing digits/symbols).
COMMON = frozenset(
    [
        "password",
        "passw0rd",
        "p@ssw0rd",
        "qwerty",
        "qwertyuiop",
        "asdfghjkl",
        "zxcvbnm",
        "abc",
        "abcd",
        "abcdef",
        "abcdefg",
        "abcdefgh",
        "1q2w3e4r",
        "1qaz2wsx",
        "qazwsx",
        "qweasd",
        "qweasdzxc",
        "admin",
        "administrator",
        "root",
        "welcome",
        "letmein",
        "iloveyou",
        "monkey",
        "dragon",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "master",
        "shadow",
        "superman",
        "trustno1",
        "woaini",
        "aini",
        "huawei",
        "china",
        "beijing",
        "shanghai",
        "yibao",
        "fundguard",
        "changeme",
        "default",
        "test",
        "guest",
        "user",
        "login",
        "secret",
    ]
)
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


def password_problems(password: str, username: str = "") -> list[tuple[str, str]]:
    """What is wrong with ``password`` under the policy: length, character classes, not common, not the
    username. Empty when it passes."""
    out = []
    if len(password) < MIN_PASSWORD:
        out.append((f"密码至少 {MIN_PASSWORD} 位", f"at least {MIN_PASSWORD} characters"))
    classes = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))  # fmt: skip
    if classes < 3:
        out.append(
            ("须含大写字母、小写字母、数字、符号中的至少三类", "use 3 of: upper, lower, digit, symbol")
        )
    core = password.lower().rstrip("0123456789!@#$%^&*._-+= ")
    digits_only = password.isdigit() or len(set(password)) <= 2
    if core in COMMON or digits_only or (username and username.lower() in password.lower()):
        out.append(("密码过于常见或包含用户名", "password too common or contains the username"))
    return out


def check_policy(password: str, username: str = "") -> None:
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed(
            "密码不符合要求：" + "；".join(p[0] for p in problems),
            "weak password: " + "; ".join(p[1] for p in problems),
        )


def generate_password() -> str:
    """A random password that passes the policy (first and reset passwords, demo users)."""
    while True:
        pw = (
            secrets.token_urlsafe(12)
            + "-"
            + secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")
            + str(secrets.randbelow(10))
        )
        if not password_problems(pw):
            return pw


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
                cert_no: str = "", by: str = "system", must_change: bool = True) -> User:  # fmt: skip
    role(role_code)
    if not username:
        raise ValidationFailed("用户名不能为空", "username required")
    check_policy(password, username)
    if len(admdvs or "") != 6 or not admdvs.isdigit():
        raise ValidationFailed(f"医保区划 {admdvs} 应为 6 位数字", f"admdvs {admdvs} must be 6 digits")
    if role_code == "hospital" and (not fixmedins_code or session.get(Institution, fixmedins_code) is None):
        raise ValidationFailed("医院用户须关联已登记的定点机构", "a hospital user needs a known institution")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise ValidationFailed(f"用户名 {username} 已存在", f"username {username} exists")
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=role_code, admdvs=admdvs, fixmedins_code=fixmedins_code, department=department,
                cert_no=cert_no.strip(), must_change=must_change)  # fmt: skip
    session.add(user)
    session.flush()
    record.append(session, by, "user.create", "user", user.id,
                  {"username": username, "role": role_code, "admdvs": admdvs, "fixmedins_code": fixmedins_code})  # fmt: skip
    return user


def _throttle_wait(session: Session, keys: list[str], now: dt.datetime) -> int:
    waits = [(t.next_allowed - now).total_seconds() for t in session.execute(
        select(LoginThrottle).where(LoginThrottle.key.in_(keys))).scalars() if t.next_allowed]  # fmt: skip
    return max([0, *(math.ceil(w) for w in waits if w > 0)])


def _fail(session: Session, keys: list[str], now: dt.datetime) -> None:
    for key in keys:
        t = session.get(LoginThrottle, key) or LoginThrottle(key=key, failures=0)
        session.add(t)
        t.failures = (t.failures or 0) + 1
        if t.failures > FREE_ATTEMPTS:
            t.next_allowed = now + dt.timedelta(
                seconds=min(2 ** (t.failures - FREE_ATTEMPTS - 1), MAX_WAIT_SECONDS)
            )
    session.flush()


def login(session: Session, username: str, password: str, now: dt.datetime | None = None,
          client: str = "", otp: str = "") -> tuple[str, dict]:  # fmt: skip
    """Check the password (and the one-time code of a user with a second factor); return a new bearer token
    and the user. A wrong password → the same ``NotAuthenticated``; a missing or wrong code → ``OtpRequired``;
    too many recent failures for this name or client → ``TooManyAttempts``."""
    now = now or utcnow()
    keys = [f"user:{username.strip().lower()[:100]}"] + ([f"client:{client[:100]}"] if client else [])
    wait = _throttle_wait(session, keys, now)
    if wait:
        raise TooManyAttempts(
            f"登录尝试过于频繁，请 {wait} 秒后再试", f"too many attempts; retry in {wait} s", wait
        )
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        check_password(password, _DUMMY_HASH)  # same work as for a real user: no timing hint that it exists
        ok = False
    else:
        ok = check_password(password, user.password_hash)
    if not ok:
        _fail(session, keys, now)
        session.commit()  # the back-off must survive the error the caller turns into a 401
        raise NotAuthenticated("用户名或密码错误", "wrong username or password")
    if user.totp_on and not _accept_code(user, otp, now):
        _fail(session, keys, now)
        session.commit()
        if otp:
            raise OtpRequired("动态验证码错误或已使用", "wrong or already used one-time code")
        raise OtpRequired(
            "请输入动态验证码（身份验证器）", "a one-time code from the authenticator is required"
        )
    for key in keys:
        t = session.get(LoginThrottle, key)
        if t is not None:
            session.delete(t)
    token = secrets.token_urlsafe(32)
    session.add(AuthSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen=now))
    session.flush()
    return token, user_dict(user) | {"must_change": user.must_change}


def change_password(session: Session, token: str, old: str, new: str) -> int:
    """The user of ``token`` changes their password; their other sessions end. Returns how many ended."""
    s = _live_session(session, token, utcnow())
    user = session.get(User, s.user_id)
    if not check_password(old, user.password_hash):
        raise ValidationFailed("原密码错误", "old password wrong")
    if old == new:
        raise ValidationFailed("新密码不能与原密码相同", "the new password must differ")
    check_policy(new, user.username)
    user.password_hash, user.must_change = hash_password(new), False
    return revoke_other_sessions(session, token)


def reset_password(session: Session, actor: Actor, username: str) -> str:
    """An administrator sets a temporary password (to be changed at the next login) and ends the user's
    sessions; returns the temporary password."""
    if actor.role != "admin":
        raise PermissionDenied("只有系统管理员可重置密码", "only an administrator resets passwords")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise ValidationFailed(f"用户 {username} 不存在", f"user {username} not found")
    temporary = generate_password()
    user.password_hash, user.must_change = hash_password(temporary), True
    for s in session.execute(select(AuthSession).where(AuthSession.user_id == user.id)).scalars():
        s.revoked = True
    session.flush()
    return temporary


def revoke_other_sessions(session: Session, token: str) -> int:
    """End every session of the token's user except this one."""
    s = _live_session(session, token, utcnow())
    others = session.execute(
        select(AuthSession).where(AuthSession.user_id == s.user_id, AuthSession.token_hash != s.token_hash,
                                  AuthSession.revoked.is_(False))).scalars().all()  # fmt: skip
    for o in others:
        o.revoked = True
    session.flush()
    return len(others)


def logout(session: Session, token: str) -> None:
    s = session.get(AuthSession, _token_hash(token or ""))
    if s is not None:
        s.revoked = True
        session.flush()


SLIDE_GRANULARITY = dt.timedelta(seconds=60)
"""How stale ``last_seen`` may get before a request slides the session (the timeout is in minutes)."""


def _live_session(session: Session, token: str | None, now: dt.datetime) -> AuthSession:
    if not token:
        raise NotAuthenticated("请先登录", "not logged in")
    s = session.get(AuthSession, _token_hash(token))
    if s is None or s.revoked:
        raise NotAuthenticated("登录已失效，请重新登录", "invalid session; log in again")
    if now - s.created_at > dt.timedelta(hours=settings().session_max_hours):
        s.revoked = True
        session.flush()
        raise NotAuthenticated("登录已达最长时限，请重新登录", "session lifetime reached; log in again")
    if now - s.last_seen > dt.timedelta(minutes=session_minutes()):
        s.revoked = True
        session.flush()
        raise NotAuthenticated("长时间未操作，登录已超时，请重新登录", "session timed out; log in again")
    return s


def actor_for_token(session: Session, token: str | None, now: dt.datetime | None = None, *,
                    pending_ok: bool = False) -> Actor:  # fmt: skip
    """The actor of a live token (sliding its timeout), with the cross-check grants active at ``now``. A user
    who must change their password gets ``PasswordChangeRequired`` unless ``pending_ok``."""
    now = now or utcnow()
    s = _live_session(session, token, now)
    user = session.get(User, s.user_id)
    if user is None or not user.active:
        raise NotAuthenticated("用户已停用", "user disabled")
    if user.must_change and not pending_ok:
        raise PasswordChangeRequired("请先修改初始或重置的密码", "change your first or reset password first")
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
    Only a common superior grants: the granting actor must see both the user's own region and what is
    granted (an institution's region is read from the institution, never taken from the caller), and no one
    grants to themselves."""
    from fundguard.service.scope import region_prefix
    from fundguard.supervision.roles import GRANT_MANAGE

    actor.require(GRANT_MANAGE)
    now = now or utcnow()
    if not 1 <= int(days) <= 365:
        raise ValidationFailed("授权天数应在 1–365 之间", "days must be 1–365")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise ValidationFailed(f"用户 {username} 不存在", f"user {username} not found")
    if fixmedins_code:
        inst = session.get(Institution, fixmedins_code)
        if inst is None:
            raise ValidationFailed(
                f"定点机构 {fixmedins_code} 不存在", f"institution {fixmedins_code} not found"
            )
        admdvs = inst.admdvs
    if user.username == actor.username:
        raise PermissionDenied("不能给自己授权", "no one grants access to themselves")
    home = region_prefix(actor.admdvs)  # the actor's own region: a grant it holds does not let it grant on
    if actor.role != "admin" and not (admdvs.startswith(home) and user.admdvs.startswith(home)):
        raise PermissionDenied("只有同时管辖被授权人和授权范围的上级可以授权",
                               "only a common superior of the user and the granted scope may grant")  # fmt: skip
    g = Grant(user_id=user.id, admdvs=admdvs, fixmedins_code=fixmedins_code, valid_from=now,
              valid_to=now + dt.timedelta(days=int(days)), reason=reason, granted_by=actor.username)  # fmt: skip
    session.add(g)
    session.flush()
    record.append(session, actor.username, "grant.create", "grant", g.id,
                  {"username": username, "admdvs": admdvs, "fixmedins_code": fixmedins_code, "days": int(days)}, now=now)  # fmt: skip
    return {"id": g.id, "username": username, "admdvs": admdvs, "fixmedins_code": fixmedins_code,
            "valid_to": g.valid_to.isoformat()}  # fmt: skip


def list_users(session: Session, actor: Actor) -> list[dict]:
    """Users an administrator manages (all) or a grant manager may grant to (its own region)."""
    from fundguard.service.scope import region_prefix
    from fundguard.supervision.roles import GRANT_MANAGE

    if actor.role != "admin":
        actor.require(GRANT_MANAGE)
    stmt = select(User).order_by(User.admdvs, User.username)
    if actor.role != "admin":
        stmt = stmt.where(User.admdvs.startswith(region_prefix(actor.admdvs)))
    return [
        user_dict(u) | {"active": u.active, "must_change": u.must_change, "totp_on": u.totp_on}
        for u in session.execute(stmt).scalars()
    ]


def list_grants(session: Session, actor: Actor, now: dt.datetime | None = None) -> list[dict]:
    """Active grants given by the actor (all active ones for an administrator)."""
    now = now or utcnow()
    stmt = select(Grant, User.username).join(User, User.id == Grant.user_id).where(Grant.valid_to > now)
    if actor.role != "admin":
        stmt = stmt.where(Grant.granted_by == actor.username)
    return [{"id": g.id, "username": name, "admdvs": g.admdvs, "fixmedins_code": g.fixmedins_code,
             "valid_to": g.valid_to.isoformat(), "reason": g.reason, "granted_by": g.granted_by}
            for g, name in session.execute(stmt.order_by(Grant.id.desc())).all()]  # fmt: skip


TOTP_ROLES = frozenset({"admin", "legal_reviewer"})
TOTP_ISSUER = "FundGuard 医保基金监管"


def _pad(nonce: bytes, n: int) -> bytes:
    # One HMAC block under the record key (kept outside the database) as a keystream: a fresh random nonce per
    # secret, so a database dump alone does not reveal the secrets.
    return hmac.new(record.record_key(), b"totp-seal:" + nonce, hashlib.sha256).digest()[:n]


def _seal(secret: str) -> str:
    raw, nonce = secret.encode("ascii"), os.urandom(16)
    return nonce.hex() + ":" + bytes(a ^ b for a, b in zip(raw, _pad(nonce, len(raw)), strict=True)).hex()


def _unseal(sealed: str) -> str:
    nonce, body = (bytes.fromhex(x) for x in sealed.split(":"))
    return bytes(a ^ b for a, b in zip(body, _pad(nonce, len(body)), strict=True)).decode("ascii")


def _accept_code(user: User, code: str, now: dt.datetime) -> bool:
    """A code of the current or an adjacent step (clock drift) not older than the last accepted one."""
    code = (code or "").strip()
    if not (code.isdigit() and len(code) == 6 and user.totp_secret):
        return False
    try:
        totp = pyotp.TOTP(_unseal(user.totp_secret))
        here = totp.timecode(now)
        steps = [s for s in (here - 1, here, here + 1) if hmac.compare_digest(totp.generate_otp(s), code)]
    except ValueError:  # sealed under another record key: no code fits until an administrator resets it
        return False
    if not steps or steps[0] <= (user.totp_last_step or -1):
        return False
    user.totp_last_step = steps[0]
    return True


def totp_begin(session: Session, token: str) -> dict:
    """Start enrolment for the token's user: a new secret, returned this once (otpauth:// URI and base32)."""
    s = _live_session(session, token, utcnow())
    user = session.get(User, s.user_id)
    if user.role not in TOTP_ROLES:
        raise PermissionDenied("只有系统管理员和法制审核人员可启用动态验证码",
                               "only administrators and legal reviewers use a second factor")  # fmt: skip
    if user.totp_on:
        raise ValidationFailed(
            "动态验证码已启用；如需更换请由管理员重置", "second factor already on; ask an admin to reset"
        )
    secret = pyotp.random_base32()
    user.totp_secret, user.totp_last_step = _seal(secret), None
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)
    return {"otpauth_uri": uri, "secret": secret}


def totp_confirm(session: Session, token: str, code: str, now: dt.datetime | None = None) -> None:
    """Turn the second factor on once the first code from the new secret is right."""
    s = _live_session(session, token, now or utcnow())
    user = session.get(User, s.user_id)
    if user.totp_on or not user.totp_secret:
        raise ValidationFailed("没有待确认的动态验证码", "no second factor awaiting confirmation")
    if not _accept_code(user, code, now or utcnow()):
        raise ValidationFailed("动态验证码错误", "wrong one-time code")
    user.totp_on = True
    session.flush()


def totp_reset(session: Session, actor: Actor, username: str) -> None:
    """An administrator removes a user's second factor (lost phone); the user may enrol again."""
    if actor.role != "admin":
        raise PermissionDenied(
            "只有系统管理员可重置动态验证码", "only an administrator resets a second factor"
        )
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise ValidationFailed(f"用户 {username} 不存在", f"user {username} not found")
    user.totp_secret, user.totp_on, user.totp_last_step = None, False, None
    session.flush()
