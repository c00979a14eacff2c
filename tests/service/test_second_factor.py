"""Issue 10 finding 7 (last part): the optional second factor (TOTP) of administrators and legal reviewers —
enrolment shown once and confirmed by a code, login then needing a fresh code (counted by the back-off), an
administrator's reset — and finding 8's retention purge run by the server's periodic task."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa

from fundguard.api.app import _housekeeping
from fundguard.service import access, auth
from fundguard.service.db import Database
from fundguard.service.errors import (
    NotAuthenticated,
    OtpRequired,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from fundguard.service.models import AccessLog, User
from fundguard.service.scope import Actor

T0 = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)  # a step boundary; sessions live 12 h
PW = "Legal-review-42"


def _enrolled(db: Database, username: str = "fazhi", role: str = "legal_reviewer") -> pyotp.TOTP:
    with db.session() as s:
        auth.create_user(s, username, PW, role, "890100", must_change=False)
    with db.session() as s:
        token, user = auth.login(s, username, PW, now=T0)
        assert not user["must_change"]
        out = auth.totp_begin(s, token)
        assert out["otpauth_uri"].startswith("otpauth://totp/") and out["secret"] in out["otpauth_uri"]
        totp = pyotp.TOTP(out["secret"])
        with pytest.raises(ValidationFailed):
            auth.totp_confirm(s, token, "000000" if totp.at(T0) != "000000" else "111111", now=T0)
        auth.totp_confirm(s, token, totp.at(T0), now=T0)
        with pytest.raises(ValidationFailed):  # shown once: no second enrolment while on
            auth.totp_begin(s, token)
        stored = s.execute(sa.select(User.totp_secret).where(User.username == username)).scalar_one()
        assert out["secret"] not in stored  # sealed under the record key, not kept in the clear
    return totp


def _login(db: Database, now: dt.datetime, otp: str = "", password: str = PW) -> str:
    with db.session() as s:
        return auth.login(s, "fazhi", password, now=now, otp=otp)[0]


def test_second_factor_is_required_after_enrolment(db: Database) -> None:
    totp = _enrolled(db)
    later = T0 + dt.timedelta(seconds=60)
    with pytest.raises(OtpRequired, match="请输入动态验证码"):
        _login(db, later)
    with pytest.raises(OtpRequired, match="错误或已使用"):
        _login(db, later, totp.at(T0))  # the enrolment code, replayed
    with pytest.raises(NotAuthenticated):  # a right code does not rescue a wrong password
        _login(db, later, totp.at(later), "Wrong-pass-99")
    with pytest.raises(OtpRequired, match="错误或已使用"):
        _login(db, later, "12345a")
    with pytest.raises(
        TooManyAttempts
    ):  # four failures (3 free): missing and wrong codes count in the back-off
        _login(db, later, totp.at(later))
    after = later + dt.timedelta(seconds=2)
    token = _login(db, after, totp.at(after))
    with db.session() as s:
        assert auth.actor_for_token(s, token, now=after).username == "fazhi"
    with pytest.raises(OtpRequired):  # the same code twice: refused
        _login(db, after, totp.at(after))


def test_other_roles_cannot_enrol_and_log_in_as_before(db: Database) -> None:
    with db.session() as s:
        auth.create_user(s, "wang", "Correct-horse-1", "county_supervisor", "890103", must_change=False)
    with db.session() as s:
        token, _ = auth.login(s, "wang", "Correct-horse-1", now=T0, otp="123456")  # a code is ignored
        with pytest.raises(PermissionDenied):
            auth.totp_begin(s, token)


def test_admin_resets_a_second_factor(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    totp = _enrolled(db, "boss", "admin")
    admin = Actor(0, "root", "管理员", "admin", "890000")
    later = T0 + dt.timedelta(seconds=60)
    monkeypatch.setenv("FUNDGUARD_RECORD_KEY", str(tmp_path / "new.key"))  # a replaced record key
    with (
        db.session() as s,
        pytest.raises(OtpRequired),
    ):  # the sealed secret no longer opens: refused, not a crash
        auth.login(s, "boss", PW, now=later, otp=totp.at(later))
    with db.session() as s:
        with pytest.raises(PermissionDenied):
            auth.totp_reset(s, Actor(1, "wang", "王", "county_supervisor", "890103"), "boss")
        auth.totp_reset(s, admin, "boss")
    with db.session() as s:
        assert auth.login(s, "boss", PW, now=later)[0]  # no code needed any more
        assert totp.at(later)  # (the old authenticator is simply no longer asked for)


def test_server_tick_purges_the_access_log_past_retention(db: Database, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FUNDGUARD_RECORD_ANCHOR", str(tmp_path / "anchors.log"))
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        access.log(s, "old", "clue.read", "clue:1", now=now - dt.timedelta(days=access.keep_days() + 1))
        access.log(s, "recent", "clue.read", "clue:2", now=now - dt.timedelta(days=access.MIN_KEEP_DAYS - 1))
    assert _housekeeping(db, db.url, anchor=True) == 1
    with db.session() as s:
        assert s.execute(sa.select(AccessLog.username)).scalars().all() == ["recent"]
    assert (tmp_path / "anchors.log").read_text()  # and the record's head was exported as before
