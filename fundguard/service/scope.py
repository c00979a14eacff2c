"""Who is acting and what they may see: ``Actor``, region scoping applied in every query, cross-check grants,
and masking of patient identities for actors without ``patient.unmasked`` (third-party inspectors).

医保区划 admdvs codes have 6 digits: province ``PP0000``, city ``PPCC00``, county ``PPCCXX``. A user's home
scope is the prefix of their own code at its level, so upper levels see every lower level beneath them; a
hospital user sees only their institution; active grants (交叉检查) add a region or one institution until
they expire.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from fundguard.service.errors import PermissionDenied, not_found
from fundguard.supervision.roles import ROLES, UNMASKED


def region_prefix(admdvs: str) -> str:
    """The code prefix covering a region and everything under it."""
    code = (admdvs or "").strip()
    if len(code) != 6:
        return code
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_level(admdvs: str) -> str:
    code = (admdvs or "").strip()
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def parents(admdvs: str) -> list[str]:
    """Province and city codes above a county code (self excluded)."""
    out = []
    if not admdvs.endswith("0000"):
        out.append(admdvs[:2] + "0000")
    if region_level(admdvs) == "county":
        out.append(admdvs[:4] + "00")
    return out


@dataclass(frozen=True)
class ActiveGrant:
    admdvs: str
    fixmedins_code: str | None
    valid_to: dt.datetime


@dataclass(frozen=True)
class Actor:
    """The logged-in user as the services see them."""

    user_id: int
    username: str
    display_name: str
    role: str
    admdvs: str
    fixmedins_code: str | None = None
    department: str = "医保局"
    grants: tuple[ActiveGrant, ...] = field(default_factory=tuple)

    @property
    def role_zh(self) -> str:
        return ROLES[self.role].name_zh

    @property
    def permissions(self) -> frozenset[str]:
        return ROLES[self.role].permissions

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                f"角色「{self.role_zh}」无权执行此操作（需要 {permission}）",
                f"role {self.role} lacks permission {permission}",
            )

    @property
    def masked(self) -> bool:
        return UNMASKED not in self.permissions

    def as_dict(self) -> dict:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "role_zh": self.role_zh,
            "admdvs": self.admdvs,
            "fixmedins_code": self.fixmedins_code,
            "department": self.department,
            "grants": [
                {"admdvs": g.admdvs, "fixmedins_code": g.fixmedins_code, "valid_to": g.valid_to.isoformat()}
                for g in self.grants
            ],
        }


@dataclass(frozen=True)
class Scope:
    """What an actor may see, stated once: a hospital its own institution only; everyone else the region
    prefixes (home region and region grants) and single institutions (institution grants)."""

    institution_only: str | None
    prefixes: tuple[str, ...]
    institutions: tuple[str, ...]

    @classmethod
    def of(cls, actor: Actor) -> Scope:
        if actor.role == "hospital":
            return cls(actor.fixmedins_code or "", (), ())
        prefixes = (
            region_prefix(actor.admdvs),
            *(region_prefix(g.admdvs) for g in actor.grants if g.fixmedins_code is None),
        )
        return cls(None, prefixes, tuple(g.fixmedins_code for g in actor.grants if g.fixmedins_code is not None))  # fmt: skip

    def covers(self, admdvs: str, fixmedins_code: str | None) -> bool:
        if self.institution_only is not None:
            return bool(self.institution_only) and fixmedins_code == self.institution_only
        return any((admdvs or "").startswith(p) for p in self.prefixes) or fixmedins_code in self.institutions

    def where(self, admdvs_col: ColumnElement, inst_col: ColumnElement) -> ColumnElement[bool]:
        if self.institution_only is not None:
            return inst_col == self.institution_only if self.institution_only else false()
        conds = [admdvs_col.startswith(p, autoescape=True) for p in self.prefixes]
        conds += [inst_col == code for code in self.institutions]
        return or_(*conds)


def sees(actor: Actor, admdvs: str, fixmedins_code: str | None) -> bool:
    """Whether ``actor`` may see an object of region ``admdvs`` and institution ``fixmedins_code``."""
    return Scope.of(actor).covers(admdvs, fixmedins_code)


def scope_filter(actor: Actor, admdvs_col: ColumnElement, inst_col: ColumnElement) -> ColumnElement[bool]:
    """The WHERE condition restricting a query to what ``actor`` may see (``Scope``, as ``sees``)."""
    return Scope.of(actor).where(admdvs_col, inst_col)


def paged(session: Session, actor: Actor, model: type, permission: str, conds: list, order: Any,
          item: Callable[[Any], dict], page: int = 1, size: int = 20, *,
          visible: ColumnElement[bool] | None = None) -> dict:  # fmt: skip
    """The one list query: permission, region scope (or ``visible``), filters, a stable order and paging
    (``page`` from 1, ``size`` 1–500); returns ``{items, total, page, size}``."""
    actor.require(permission)
    page, size = max(int(page), 1), min(max(int(size), 1), 500)
    scope = visible if visible is not None else scope_filter(actor, model.admdvs, model.fixmedins_code)
    where = and_(scope, *conds)
    total = session.execute(select(func.count()).select_from(model).where(where)).scalar_one()
    rows = session.execute(select(model).where(where).order_by(*(order if isinstance(order, tuple) else (order,)))
                           .offset((page - 1) * size).limit(size)).scalars()  # fmt: skip
    return {"items": [item(r) for r in rows], "total": total, "page": page, "size": size}


def require_sees(actor: Actor, admdvs: str, fixmedins_code: str | None, what_zh: str, what_en: str) -> None:
    if not sees(actor, admdvs, fixmedins_code):
        raise PermissionDenied(
            f"{what_zh}不在您的管辖范围内", f"{what_en} is outside your region or institution scope"
        )


def mask_name(name: str | None) -> str:
    """张三丰 → 张**: the family name only."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_id(value: str | None) -> str:
    """Keep the first 4 and last 2 characters of an identifier."""
    if not value:
        return ""
    if len(value) <= 6:
        return value[0] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


# 18-digit resident ID (or 15-digit old form), mobile and landline numbers, as typed in free text.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<!\d)(?:(?:\+?86[- ]?)?1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")


def mask_text(text: str | None, names: Iterable[str] = (), ids: Iterable[str] = ()) -> str:
    """Free text for a masked role: ID numbers, phone numbers, the known patients' ``names`` and
    insured-person ``ids`` masked wherever they were typed (appeal reasons, comments, findings)."""
    if not text:
        return text or ""
    for value in sorted({i for i in ids if i and len(i) > 3}, key=len, reverse=True):
        text = text.replace(value, mask_id(value))
    text = _ID_RE.sub(lambda m: mask_id(m.group()), text)
    text = _PHONE_RE.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:], text)
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return text


OTHER_INSTITUTION = "其他定点医疗机构"


def mask_institutions(text: str | None, others: Mapping[str, str]) -> str:
    """Evidence for a hospital user: every other institution (code → name) becomes 其他定点医疗机构, and the
    bracketed details of its visit that follow (admission times, diagnosis, visit id) are dropped."""
    if not text or not others:
        return text or ""
    words = sorted({w for pair in others.items() for w in pair if w}, key=len, reverse=True)
    text = re.sub("|".join(map(re.escape, words)), OTHER_INSTITUTION, text)
    return re.sub(f"({OTHER_INSTITUTION}[^（，。]{{0,4}})（[^）]*）", r"\1", text)


def load_in_scope(session: Session, actor: Actor, model: type, key: int, permission: str, what_zh: str,
                  what_en: str, *, for_update: bool = False) -> Any:  # fmt: skip
    """The ``model`` row with id ``key`` when ``actor`` holds ``permission`` and its region/institution scope
    covers the row (``admdvs``, ``fixmedins_code``); PermissionDenied without the permission, NotFound for
    a row that is missing or outside the scope (alike)."""
    actor.require(permission)
    stmt = select(model).where(model.id == int(key))
    if for_update:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None or not sees(actor, row.admdvs, row.fixmedins_code):
        # Outside the actor's scope answers exactly like a missing row: a 403 would confirm that it exists.
        raise not_found(what_zh, what_en, key)
    return row
