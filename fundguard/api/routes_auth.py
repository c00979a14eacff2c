"""Auth routes: login (token + HttpOnly cookie ``fg_session``), logout, the current user (``/api/me``), password
change, ending one's other sessions, an administrator's password reset, and the optional second factor (TOTP) of
administrators and legal reviewers: enrol, confirm, and an administrator's reset."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from fundguard.service import auth as auth_service
from fundguard.service.errors import ServiceError
from fundguard.service.models import User as UserRow
from fundguard.service.schemas import Login, Ok, Revoked, TemporaryPassword, TotpEnrolment, User

from .deps import COOKIE, CtxDep

router = APIRouter(prefix="/api", tags=["认证 auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    otp: str = Field(
        default="", max_length=10, description="动态验证码（已启用第二因素的用户）/ one-time code"
    )


def _public_user(user: dict[str, Any]) -> dict[str, Any]:
    keys = ("username", "display_name", "role", "role_zh", "admdvs", "fixmedins_code")
    return {k: user.get(k) for k in keys} | {k: v for k, v in user.items() if k not in keys}


@router.post("/auth/login", summary="登录 / log in", response_model=Login)
def login(body: LoginIn, request: Request, response: Response, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session(authenticated=False) as (s, _):
        try:
            token, user = auth_service.login(s, body.username, body.password, client=ctx.client, otp=body.otp)
        except ServiceError as err:
            ctx.log(
                s,
                body.username,
                "login.throttled" if err.http_status == 429 else "login.failed",
                outcome=err.code,
            )
            s.commit()  # keep the failed-login count that drives the back-off, and the log line
            raise
        ctx.log(s, body.username, "login.ok")
    secure = request.url.scheme == "https"  # served over TLS (directly or behind a proxy passing the scheme)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/", secure=secure)
    return {"token": token, "user": _public_user(user)}


@router.post("/auth/logout", summary="退出 / log out", response_model=Ok)
def logout(response: Response, ctx: CtxDep) -> dict[str, bool]:
    if ctx.token:
        with ctx.session(authenticated=False) as (s, _):
            auth_service.logout(s, ctx.token)
    response.delete_cookie(COOKIE, path="/")
    return {"ok": True}


@router.get("/me", summary="当前用户 / current user", response_model=User)
def me(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session(pending_ok=True) as (s, actor):
        row = s.get(UserRow, actor.user_id)
        return _public_user(actor.as_dict()) | {"permissions": sorted(actor.permissions),
                                                "must_change": row.must_change, "totp_on": row.totp_on}  # fmt: skip


class PasswordIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


@router.post("/auth/password", summary="修改密码（结束其他会话）/ change password (ends other sessions)",
             response_model=Revoked)  # fmt: skip
def change_password(body: PasswordIn, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session(pending_ok=True) as (s, actor):
        revoked = auth_service.change_password(s, ctx.token, body.old_password, body.new_password)
        ctx.log(s, actor.username, "password.change")
        return {"ok": True, "revoked": revoked}


@router.post(
    "/auth/sessions/revoke-others", summary="结束本人其他会话 / end my other sessions", response_model=Revoked
)
def revoke_others(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, _):
        return {"ok": True, "revoked": auth_service.revoke_other_sessions(s, ctx.token)}


@router.post("/admin/users/{username}/reset-password", summary="重置密码（管理员）/ reset a password (admin)",
             response_model=TemporaryPassword)  # fmt: skip
def reset_password(username: Annotated[str, Path(max_length=64)], ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, actor):
        temporary = auth_service.reset_password(s, actor, username)
        ctx.log(s, actor.username, "admin.password_reset", f"user:{username}")
        return {"username": username, "temporary_password": temporary}


class CodeIn(BaseModel):
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


@router.post("/auth/totp/begin", summary="开始启用动态验证码（仅显示一次）/ start second-factor enrolment",
             response_model=TotpEnrolment)  # fmt: skip
def totp_begin(ctx: CtxDep) -> dict[str, Any]:
    with ctx.session() as (s, _):
        return auth_service.totp_begin(s, ctx.token)


@router.post(
    "/auth/totp/confirm", summary="以首个验证码确认启用 / confirm with a first code", response_model=Ok
)
def totp_confirm(body: CodeIn, ctx: CtxDep) -> dict[str, bool]:
    with ctx.session() as (s, actor):
        auth_service.totp_confirm(s, ctx.token, body.code)
        ctx.log(s, actor.username, "totp.enrol")
        return {"ok": True}


@router.post("/admin/users/{username}/reset-totp", summary="重置动态验证码（管理员）/ reset a second factor (admin)",
             response_model=Ok)  # fmt: skip
def reset_totp(username: Annotated[str, Path(max_length=64)], ctx: CtxDep) -> dict[str, bool]:
    with ctx.session() as (s, actor):
        auth_service.totp_reset(s, actor, username)
        ctx.log(s, actor.username, "admin.totp_reset", f"user:{username}")
        return {"ok": True}
