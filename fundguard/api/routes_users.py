"""User management, cross-check grants and the access log (issue 10 findings 8 and 9): thin routes over
``service.auth`` and ``service.access``; every administrator's action here is written to the access log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fundguard.service import access
from fundguard.service import auth as auth_service
from fundguard.service.errors import PermissionDenied
from fundguard.service.schemas import AccessLogPage, GrantRow, UserRow

from .deps import CtxDep, PageQ, SizeQ

router = APIRouter(prefix="/api", tags=["用户与授权 users and grants"])


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=1, max_length=256)
    role: str = Field(min_length=1, max_length=40)
    admdvs: str = Field(pattern=r"^\d{6}$")
    display_name: str = Field(default="", max_length=100)
    fixmedins_code: str | None = Field(default=None, max_length=30)
    department: str = Field(default="医保局", max_length=40)
    cert_no: str = Field(default="", max_length=40)


class GrantIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    admdvs: str = Field(default="", pattern=r"^(\d{6})?$")
    fixmedins_code: str | None = Field(default=None, max_length=30)
    days: int = Field(default=30, ge=1, le=365)
    reason: str = Field(default="交叉检查", max_length=200)


@router.get("/admin/users", summary="用户列表 / users", response_model=list[UserRow])
def users(ctx: CtxDep) -> Any:
    with ctx.session() as (s, actor):
        return auth_service.list_users(s, actor)


@router.post(
    "/admin/users",
    summary="创建用户（管理员，首次登录须改密）/ create a user (admin)",
    response_model=UserRow,
)
def create_user(body: UserIn, ctx: CtxDep) -> Any:
    with ctx.session() as (s, actor):
        if actor.role != "admin":
            raise PermissionDenied("只有系统管理员可创建用户", "only an administrator creates users")
        user = auth_service.create_user(s, body.username, body.password, body.role, body.admdvs,
                                        display_name=body.display_name, fixmedins_code=body.fixmedins_code,
                                        department=body.department, cert_no=body.cert_no, by=actor.username)  # fmt: skip
        ctx.log(s, actor.username, "admin.user_create", f"user:{body.username}")
        return auth_service.user_dict(user) | {"active": user.active, "must_change": user.must_change}


@router.get(
    "/grants", summary="有效的交叉检查授权 / active cross-check grants", response_model=list[GrantRow]
)
def grants(ctx: CtxDep) -> Any:
    with ctx.session() as (s, actor):
        return auth_service.list_grants(s, actor)


@router.post("/grants", summary="交叉检查授权（共同上级）/ grant cross-check access", response_model=GrantRow)
def grant(body: GrantIn, ctx: CtxDep) -> Any:
    with ctx.session() as (s, actor):
        out = auth_service.grant_access(s, actor, body.username, admdvs=body.admdvs,
                                        fixmedins_code=body.fixmedins_code, days=body.days, reason=body.reason)  # fmt: skip
        ctx.log(s, actor.username, "admin.grant", f"user:{body.username}")
        return next(g for g in auth_service.list_grants(s, actor) if g["id"] == out["id"])


@router.get(
    "/admin/access-log", summary="访问日志查询（管理员）/ search the access log", response_model=AccessLogPage
)
def access_log(
    ctx: CtxDep,
    username: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=40)] = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    page: PageQ = 1,
    size: SizeQ = 50,
) -> Any:
    with ctx.session() as (s, actor):
        out = access.search(s, actor, username=username, action=action, since=since, until=until, page=page,
                            size=size)  # fmt: skip
        ctx.log(s, actor.username, "admin.access_log", f"username={username}&action={action}")
        return out
