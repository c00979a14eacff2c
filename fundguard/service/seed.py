"""Regions and institutions from the workspace store, and the demo users (one per role, generated passwords).

Regions are the admdvs codes the store's institutions use, plus their city and province; the synthetic
city (province ``89``) has no official names, so counties are named from their codes.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.data.store import Store
from fundguard.service import auth, record
from fundguard.service.models import Clue, Institution, Region, User
from fundguard.service.scope import parents, region_level
from fundguard.supervision.roles import ROLES

SYNTH_PROVINCE = "89"


def _region_name(code: str) -> str:
    if code.startswith(SYNTH_PROVINCE):
        if code.endswith("0000"):
            return "示例省"
        if code.endswith("00"):
            return "示例市"
        if code.endswith("99"):
            return "示例市市本级"
        return f"示例市第{int(code[4:]) - 1}区"
    level = region_level(code)
    return {"province": f"省级区划 {code}", "city": f"市级区划 {code}"}.get(level, f"县级区划 {code}")


def sync_institutions(session: Session, workspace: Path) -> dict:
    """Upsert institutions (medins_info_b) and their regions from the store; returns counts."""
    store = Store(Path(workspace))
    if not store.data_files("medins_info_b"):
        return {"institutions": 0, "regions": 0}
    con = store.connect()
    try:
        rows = con.execute(
            "SELECT fixmedins_code, any_value(fixmedins_name), any_value(admdvs), any_value(fixmedins_type), "
            "any_value(hosp_lv), any_value(agrm_stas) FROM medins_info_b_valid GROUP BY 1"
        ).fetchall()
    finally:
        con.close()
    codes: set[str] = set()
    existing = {i.fixmedins_code: i for i in session.execute(select(Institution)).scalars()}
    for code, name, admdvs, ftype, lv, agrm in rows:
        admdvs = str(admdvs or "")
        inst = existing.get(code) or Institution(fixmedins_code=code)
        inst.name, inst.admdvs = name or code, admdvs
        inst.fixmedins_type, inst.hosp_lv, inst.agrm_stas = ftype or "", lv or "", agrm or ""
        session.add(inst)
        if len(admdvs) == 6:
            codes.update([admdvs, *parents(admdvs)])
    have = {r.code for r in session.execute(select(Region)).scalars()}
    for code in sorted(codes - have):
        parent = (parents(code) or [None])[-1]
        session.add(Region(code=code, name=_region_name(code), level=region_level(code), parent_code=parent))
    session.flush()
    return {"institutions": len(rows), "regions": len(codes)}


def seed_demo(session: Session, workspace: Path) -> list[dict]:
    """Regions, institutions and one user per role; existing demo users get a new password.

    Returns ``[{username, password, role, role_zh, scope}]`` for printing."""
    sync_institutions(session, workspace)
    regions = {r.code: r for r in session.execute(select(Region)).scalars()}
    province = next((c for c in sorted(regions) if regions[c].level == "province"), "890000")
    city = next((c for c in sorted(regions) if regions[c].level == "city"), province[:2] + "0100")
    county = next(
        (c for c in sorted(regions) if regions[c].level == "county" and c.startswith(city[:4])), city
    )
    # the county's hospital with the most clues (when clues were imported first), so its user has flags to see
    clue_count = (
        select(func.count()).where(Clue.fixmedins_code == Institution.fixmedins_code).scalar_subquery()
    )
    hospital = (
        session.execute(
            select(Institution)
            .where(Institution.admdvs == county, Institution.fixmedins_code.startswith("H"))
            .order_by(clue_count.desc(), Institution.fixmedins_code)
        )
        .scalars()
        .first()
        or session.execute(select(Institution).order_by(Institution.fixmedins_code)).scalars().first()
    )
    plan = [
        ("sheng", "省医保局监管员", "province_supervisor", province, None),
        ("shi", "市医保局监管员", "city_supervisor", city, None),
        ("xian", "区医保局监管员", "county_supervisor", county, None),
        ("jingban", "医保经办审核员", "agency_reviewer", city, None),
        ("fazhi", "法制审核员", "legal_reviewer", city, None),
        ("yiyuan", "医院医保办", "hospital", hospital.admdvs if hospital else county,
         hospital.fixmedins_code if hospital else None),
        ("disanfang", "第三方检查员", "third_party_inspector", city, None),
        ("admin", "系统管理员", "admin", province, None),
    ]  # fmt: skip
    out = []
    for username, display, role_code, admdvs, inst in plan:
        if role_code == "hospital" and inst is None:
            continue  # no institution in the store
        password = secrets.token_urlsafe(9)
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            auth.create_user(session, username, password, role_code, admdvs, display_name=display,
                             fixmedins_code=inst, by="seed")  # fmt: skip
        else:
            user.password_hash = auth.hash_password(password)
            user.failed_logins, user.locked_until = 0, None
        scope = regions[admdvs].name if admdvs in regions else admdvs
        if inst:
            scope = f"{scope} · {hospital.name if hospital else inst}"
        out.append({"username": username, "password": password, "role": role_code,
                    "role_zh": ROLES[role_code].name_zh, "admdvs": admdvs, "scope": scope})  # fmt: skip
    record.append(session, "seed", "seed", "users", "demo", {"users": [u["username"] for u in out]})
    session.flush()
    return out


def notify_demo_hospital(session: Session, count: int = 3) -> int:
    """Take up to ``count`` of the demo hospital's clues through 初审 and 复审 as the demo reviewer, so the
    hospital's view has flags to appeal. Does nothing when the hospital already has notified flags; returns how
    many were notified."""
    from fundguard.service import clues

    hospital = session.execute(select(User).where(User.username == "yiyuan")).scalar_one_or_none()
    reviewer = session.execute(select(User).where(User.username == "jingban")).scalar_one_or_none()
    if hospital is None or reviewer is None or not hospital.fixmedins_code:
        return 0
    own = select(Clue).where(Clue.fixmedins_code == hospital.fixmedins_code)
    if session.execute(own.where(Clue.status != "pending_initial").limit(1)).first():
        return 0
    actor = auth.actor_for_user(session, reviewer)
    picked = session.execute(
        own.where(Clue.status == "pending_initial").order_by(Clue.id).limit(count)
    ).scalars()
    n = 0
    for clue in list(picked):
        for action, comment in (
            ("initial_confirm", "演示：初审确认"),
            ("review_confirm", "演示：复审确认并告知机构"),
        ):
            clues.act_on_clue(session, actor, clue.id, action, clue.version, comment=comment)
            session.refresh(clue)
        n += 1
    return n
