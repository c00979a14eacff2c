"""The demo users (one per role, and a second city officer so an investigation has its two 执法人员; generated
passwords), with the institutions and regions from the workspace store (``institutions``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service import auth, record
from fundguard.service.institutions import sync_institutions
from fundguard.service.models import Clue, Institution, Region, User
from fundguard.supervision.roles import ROLES, SUPERVISOR_ROLES


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
        ("shi2", "市医保局执法员", "city_supervisor", city, None),
        ("fuzeren", "市医保局负责人", "bureau_head", city, None),
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
        password = auth.generate_password()
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            user = auth.create_user(session, username, password, role_code, admdvs, display_name=display,
                                    fixmedins_code=inst, by="seed", must_change=False)  # fmt: skip
        else:
            user.password_hash = auth.hash_password(password)
            user.failed_logins, user.locked_until = 0, None
        if role_code in (*SUPERVISOR_ROLES, "bureau_head", "legal_reviewer") and not user.cert_no:
            user.cert_no = f"{admdvs}{user.id:06d}"  # demo 执法证号: region + number
        scope = regions[admdvs].name if admdvs in regions else admdvs
        if inst:
            scope = f"{scope} · {hospital.name if hospital else inst}"
        out.append({"username": username, "password": password, "role": role_code,
                    "role_zh": ROLES[role_code].name_zh, "admdvs": admdvs, "scope": scope})  # fmt: skip
    record.append(session, "seed", "seed", "users", "demo", {"users": [u["username"] for u in out]})
    session.flush()
    _seed_inspections(session)
    return out


def _seed_inspections(session: Session) -> None:
    """The inspection registries (officers, experts, an agency), entered by the province supervisor."""
    from fundguard.service.inspections.demo import seed_inspections

    sheng = session.execute(select(User).where(User.username == "sheng")).scalar_one_or_none()
    if sheng is not None:
        seed_inspections(session, auth.actor_for_user(session, sheng))


def notify_demo_hospital(session: Session, count: int = 3) -> int:
    """Take up to ``count`` of the demo hospital's clues through 初审 (the county) and 复审 (the agency), so the
    hospital's view has flags to appeal. Does nothing when the hospital already has notified flags; returns how
    many were notified."""
    from fundguard.service import clues

    users = {
        u.username: u
        for u in session.execute(
            select(User).where(User.username.in_(("yiyuan", "xian", "jingban")))
        ).scalars()
    }
    hospital, first, second = users.get("yiyuan"), users.get("xian"), users.get("jingban")
    if hospital is None or first is None or second is None or not hospital.fixmedins_code:
        return 0
    own = select(Clue).where(Clue.fixmedins_code == hospital.fixmedins_code)
    if session.execute(own.where(Clue.status != "pending_initial").limit(1)).first():
        return 0
    reviewers = {"initial_confirm": auth.actor_for_user(session, first),  # 复审 by another person than 初审
                 "review_confirm": auth.actor_for_user(session, second)}  # fmt: skip
    picked = session.execute(
        own.where(Clue.status == "pending_initial").order_by(Clue.id).limit(count)
    ).scalars()
    n = 0
    for clue in list(picked):
        for action, comment in (
            ("initial_confirm", "演示：初审确认"),
            ("review_confirm", "演示：复审确认并告知机构"),
        ):
            clues.act_on_clue(session, reviewers[action], clue.id, action, clue.version, comment=comment)
            session.refresh(clue)
        n += 1
    return n


def seed_inspection_year(session: Session) -> dict:
    """The demo's published 双随机 draw and one flight inspection mid-way at the demo hospital."""
    from fundguard.service.draw_weights import pool_weights
    from fundguard.service.inspections.demo import seed_year

    users = {u.username: u for u in session.execute(select(User)).scalars()}
    if not {"shi", "fuzeren"} <= set(users):
        return {}
    hospital = users.get("yiyuan")
    out = seed_year(session, auth.actor_for_user(session, users["shi"]), auth.actor_for_user(session, users["fuzeren"]),
                    hospital.fixmedins_code if hospital else None, weigh=pool_weights(None))  # fmt: skip
    from fundguard.service.campaigns.demo import (
        seed_campaign,
    )  # 专项整治 (issue 14): one campaign in 自查自纠

    number = seed_campaign(session, auth.actor_for_user(session, users["shi"]),
                           auth.actor_for_user(session, users["fuzeren"]),
                           auth.actor_for_user(session, hospital) if hospital else None)  # fmt: skip
    return {**out, "campaign": number} if number else out


def seed_demo_points(session: Session) -> int:
    """医保支付资格记分 demo (issue 15): three staff of the demo hospital registered, one scored 9 points that took
    effect (suspended, so the real-time audit refuses their lines), one with a pending notice to state on;
    then the county's credit grades are computed (医保信用).
    Does nothing when the hospital already has staff; returns how many records were scored."""
    import datetime as dt

    from fundguard.service import points
    from fundguard.service.models import Staff

    users = {u.username: u for u in session.execute(
        select(User).where(User.username.in_(("yiyuan", "xian")))).scalars()}  # fmt: skip
    hospital, county = users.get("yiyuan"), users.get("xian")
    if hospital is None or county is None or not hospital.fixmedins_code:
        return 0
    code = hospital.fixmedins_code
    if session.execute(select(Staff).where(Staff.fixmedins_code == code).limit(1)).first():
        return 0
    hosp, officer = auth.actor_for_user(session, hospital), auth.actor_for_user(session, county)
    day = points.rules().statement_days
    people = [("王建国", "医师", "心内科"), ("李秀英", "医师", "骨科"), ("赵敏", "药师", "药剂科")]
    for i, (name, category, dept) in enumerate(people, start=1):
        points.register_staff(session, hosp, national_code=f"D{code[-6:]}{i:03d}", id_no=f"11010119800101{i:03d}X",
                              name=name, category=category, fixmedins_code=code,
                              pledge_on=dt.date(2026, 1, 2), department=dept)  # fmt: skip
    from fundguard.service.timing import today

    decided = today() - dt.timedelta(days=day + 1)
    rec = points.score(session, officer, national_code=f"D{code[-6:]}001", fixmedins_code=code, band=3,
                       responsibility="主要", decided_on=decided, reason="演示：协议处理，串换诊疗项目")  # fmt: skip
    points.act_on_record(session, hosp, rec["id"], "waive", rec["version"], comment="演示：放弃陈述申辩")
    points.score(session, officer, national_code=f"D{code[-6:]}002", fixmedins_code=code, band=2,
                 responsibility="一般", decided_on=today(), reason="演示：协议处理，超标准收费")  # fmt: skip
    from fundguard.service import credit

    credit.recompute(session, officer)  # grades with reasons; the suspended doctor lowers the hospital's
    return 2


def seed_demo_reports(session: Session) -> list[dict]:
    """举报 demo (issue 16a): three public reports to the city, one rewarded and waiting for its claim; returns their
    numbers and tracking codes (printed once by the demo). Does nothing without the demo users or when seeded."""
    from fundguard.service.reports.demo import seed_reports

    users = {u.username: u for u in session.execute(
        select(User).where(User.username.in_(("shi", "shi2", "fuzeren", "yiyuan")))).scalars()}  # fmt: skip
    if len(users) < 4:
        return []
    a = {k: auth.actor_for_user(session, u) for k, u in users.items()}
    return seed_reports(session, a["shi"], a["shi2"], a["fuzeren"], a["yiyuan"])


def seed_cooperation(session: Session, workspace: Path) -> dict:
    """信息公开 and 异地就医 demo (issue 16b): clues linked to their patients' insurance regions, and two published
    items (the demo's 双随机 draw, the demo hospital's fund use for the store's latest year) drafted by the city
    supervisor and approved by the head. Does nothing when disclosures exist; returns what was done."""
    from fundguard.service import crossregion, disclosure
    from fundguard.service.models import Disclosure, Draw

    links = crossregion.link_clues(session, workspace)
    users = {u.username: u for u in session.execute(select(User).where(User.username.in_(("shi", "fuzeren", "yiyuan")))).scalars()}  # fmt: skip
    if {"shi", "fuzeren"} - set(users) or session.execute(select(Disclosure.id).limit(1)).first():
        return {"links": links, "published": 0}
    shi, head = auth.actor_for_user(session, users["shi"]), auth.actor_for_user(session, users["fuzeren"])
    drafts = []
    draw = session.execute(select(Draw.id).where(Draw.status == "published").order_by(Draw.id)).scalar()
    if draw is not None:
        drafts.append(disclosure.create_disclosure(session, shi, kind="draw", draw_id=draw))
    hospital = users.get("yiyuan")
    if hospital is not None and hospital.fixmedins_code:
        drafts.append(disclosure.create_disclosure(session, shi, kind="fund_use", fixmedins_code=hospital.fixmedins_code,
                                                   workspace=workspace))  # fmt: skip
    for d in drafts:
        for actor, action in ((shi, "submit"), (head, "approve"), (shi, "publish")):
            v = disclosure.get_disclosure(session, actor, d["id"])["version"]
            disclosure.act_on_disclosure(session, actor, d["id"], action, v)
    return {"links": links, "published": len(drafts)}


def seed_demo_points_batch(session: Session, workspace: Path) -> dict:
    """Issue 15 demo, after ``seed_demo_points``: another region's suspension (外地通报) of the demo hospital's
    busiest ordering doctor in the store, from the middle of their lines for 30 days; the 事后 batch check
    PTS-001 over the store then flags the lines settled under it and they become clues. And the hospital
    applies for 信用修复 when its grade is not the best, so the bureau has an application to review."""
    import contextlib
    import datetime as dt

    from fundguard.core.errors import FundGuardError
    from fundguard.data.store import Store
    from fundguard.service import credit
    from fundguard.service.clues import import_run
    from fundguard.service.models import ExternalQualification
    from fundguard.service.points.batch import run_batch

    users = {u.username: u for u in session.execute(
        select(User).where(User.username.in_(("yiyuan", "shi")))).scalars()}  # fmt: skip
    hospital, city = users.get("yiyuan"), users.get("shi")
    if hospital is None or city is None or not hospital.fixmedins_code:
        return {}
    officer, hosp = auth.actor_for_user(session, city), auth.actor_for_user(session, hospital)
    out: dict = {}
    store = Store(workspace)
    if store.root.exists() and store.data_files("fee_list_d"):
        con = store.connect()
        try:
            row = con.execute(
                "SELECT bilg_dr_code, CAST(quantile_disc(CAST(fee_ocur_time AS DATE), 0.5) AS DATE) FROM fee_list_d_valid "
                "WHERE fixmedins_code = ? AND bilg_dr_code IS NOT NULL AND bilg_dr_code <> '' "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
                [hospital.fixmedins_code],
            ).fetchone()
        finally:
            con.close()
        known = row and session.execute(
            select(ExternalQualification).where(ExternalQualification.national_code == row[0])).first()  # fmt: skip
        if row and not known:
            since: dt.date = row[1]
            session.add(ExternalQualification(national_code=row[0], source_admdvs="440100", status="suspended",
                                              since=since, until=since + dt.timedelta(days=29),
                                              reason="演示：外地协议处理，累计记9分", imported_by="seed"))  # fmt: skip
            session.flush()
            out = run_batch(session, officer, workspace)
            out["clues"] = import_run(session, workspace, out["run_id"])["clues_created"]
    with contextlib.suppress(FundGuardError):  # the best grade or an open application: nothing to apply for
        out["repair"] = credit.apply_repair(
            session, hosp, subject_type="institution", subject_id=hospital.fixmedins_code,
            rectification="演示：已退回违规费用，完成科室自查和全员医保政策培训", evidence=["退款凭证", "培训签到表"],
            pledge="严格遵守医保服务协议，自愿接受监督")["id"]  # fmt: skip
    return out
