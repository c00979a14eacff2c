"""公众查询: anyone (a staff member, a patient, a partner) asks whether a person's 医保支付资格 is in force today,
by the national code on their certificate. Minimal disclosure: the masked name, the status and — while
suspended — its last day; never the reason, the points, the institutions, the ID number or another region's
decision text. The answer for an unknown code has the same shape (nothing to tell apart beyond "未查询到")."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service.errors import ValidationFailed
from fundguard.service.models import Staff
from fundguard.service.points.service import qualification_status
from fundguard.service.scope import mask_name
from fundguard.service.timing import today

CODE = re.compile(r"[A-Za-z0-9]{6,30}")
PUBLIC_ZH = {
    "normal": "医保支付资格正常",
    "suspended": "医保支付资格暂停中",
    "terminated": "医保支付资格已终止",
    "unknown": "未查询到该编码的登记备案信息",
}


def public_status(session: Session, national_code: str) -> dict:
    code = (national_code or "").strip()
    if not CODE.fullmatch(code):
        raise ValidationFailed(
            "国家医保编码应为 6–30 位字母或数字", "the national code has 6-30 letters or digits"
        )
    day = today()
    q = qualification_status(session, code, day)
    name = session.execute(select(Staff.name).where(Staff.national_code == code)).scalar() or ""
    status = q["status"] if q["status"] in PUBLIC_ZH else "unknown"
    return {
        "national_code": code,
        "name": mask_name(name),
        "status": status,
        "status_zh": PUBLIC_ZH[status],
        "until": q["until"].isoformat() if status == "suspended" and q["until"] else None,
        "on_date": day.isoformat(),
    }
