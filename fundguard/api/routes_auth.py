"""Auth routes: login (token + HttpOnly cookie ``fg_session``), logout, and the current user (``/api/me``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from fundguard.service import auth as auth_service
from fundguard.service.errors import ServiceError
from fundguard.service.schemas import Login, Ok, User

from .deps import COOKIE, CtxDep

router = APIRouter(prefix="/api", tags=["认证 auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def _public_user(user: dict[str, Any]) -> dict[str, Any]:
    keys = ("username", "display_name", "role", "role_zh", "admdvs", "fixmedins_code")
    return {k: user.get(k) for k in keys} | {k: v for k, v in user.items() if k not in keys}


@router.post("/auth/login", summary="登录 / log in", response_model=Login)
def login(body: LoginIn, response: Response, ctx: CtxDep) -> dict[str, Any]:
    with ctx.session(authenticated=False) as (s, _):
        try:
            token, user = auth_service.login(s, body.username, body.password)
        except ServiceError:
            s.commit()  # keep the failed-login count that drives the lockout
            raise
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
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
    with ctx.session() as (_, actor):
        return _public_user(actor.as_dict()) | {"permissions": sorted(actor.permissions)}
