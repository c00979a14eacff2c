"""Demo inspections: registry rows: the officers among the demo users, one more officer per county (enough for teams
with 回避), two experts and a third-party agency with its staff, written through ``save_inspector`` and
``save_agency`` so they have their history; and the year's published draw with one flight inspection
mid-way. Each runs once."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service.inspections.draws import make_draw, publish_draw
from fundguard.service.inspections.flight import act_on_flight, create_flight, get_flight
from fundguard.service.inspections.registries import save_agency, save_inspector
from fundguard.service.models import Draw, Inspector, Institution, Region, User
from fundguard.service.scope import Actor
from fundguard.service.timing import today
from fundguard.supervision.roles import SUPERVISOR_ROLES

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


def seed_inspections(session: Session, actor: Actor) -> int:
    """Registry people for the demo, as ``actor`` (a province supervisor); returns how many were added."""
    if session.execute(select(func.count()).select_from(Inspector)).scalar_one():
        return 0
    n = 0
    first_inst = dict(
        session.execute(
            select(Institution.admdvs, func.min(Institution.fixmedins_code)).group_by(Institution.admdvs)
        ).all()
    )
    officers = select(User).where(User.cert_no != "", User.role.in_(SUPERVISOR_ROLES)).order_by(User.id)
    for u in session.execute(officers).scalars():  # the supervisors; the head and legal review stay apart
        save_inspector(session, actor, {"name": u.display_name, "cert_no": u.cert_no, "admdvs": u.admdvs,
                                        "department": u.department, "speciality": "医保基金监管"})  # fmt: skip
        n += 1
    counties = session.execute(select(Region.code).where(Region.level == "county").order_by(Region.code))
    for k, code in enumerate(counties.scalars()):
        for j in range(2):
            save_inspector(session, actor, {
                "name": f"{SURNAMES[(2 * k + j) % len(SURNAMES)]}执法{k + 1}{j + 1}", "cert_no": f"{code}{9000 + 2 * k + j}",
                "admdvs": code, "department": "医保局基金监管科", "speciality": "现场检查",
                # the first officer once worked at the county's first institution: they stand aside from it
                "former_employers": first_inst.get(code, "") if j == 0 else "",
            })  # fmt: skip
            n += 1
    agency = save_agency(session, actor, {"name": "示例会计师事务所", "credit_code": "91890000MA0000000X",
                                          "admdvs": actor.admdvs, "speciality": "财务审计"})  # fmt: skip
    for name, kind, spec in (("周专家", "expert", "临床医学（骨科）"), ("吴专家", "expert", "医疗收费与价格"),
                             ("郑审计", "agency_staff", "财务审计")):  # fmt: skip
        save_inspector(session, actor, {"name": name, "kind": kind, "admdvs": actor.admdvs, "speciality": spec,
                                        "agency_id": agency["id"] if kind == "agency_staff" else None})  # fmt: skip
        n += 1
    return n


def seed_year(session: Session, supervisor: Actor, head: Actor, hospital_code: str | None,
              weigh: Callable[[Session, list[dict]], list[dict]] | None = None) -> dict:  # fmt: skip
    """The year's 双随机 plan draw (published) and one flight inspection mid-way (on site, with a signed
    record and a finding) at ``hospital_code``; does nothing when a draw exists. Returns what it made."""
    if session.execute(select(func.count()).select_from(Draw)).scalar_one():
        return {}
    d = make_draw(
        session,
        supervisor,
        title=f"{today().year}年度双随机抽查",
        seed_value=f"{today().isoformat()} 演示见证值",
        weigh=weigh,
    )
    publish_draw(session, supervisor, d["id"])
    if not hospital_code:
        return {"draw": d["number"]}
    f = create_flight(session, supervisor, title="血液透析专项飞行检查", trigger="model_lead",
                      fixmedins_code=hospital_code, scope="血液透析收费、串换项目")  # fmt: skip
    inst = session.get(Institution, hospital_code)
    team = [i for i in session.execute(select(Inspector).where(Inspector.kind == "officer")).scalars()
            if i.admdvs != inst.admdvs and i.admdvs.startswith(inst.admdvs[:4])
            and hospital_code not in i.former_employers][:2]  # fmt: skip

    def act(who: Actor, action: str, **fields: object) -> None:
        act_on_flight(session, who, f["id"], action, get_flight(session, who, f["id"])["version"], **fields)

    act(head, "approve", comment="同意检查方案")
    act(supervisor, "form_team", leader=team[0].id, members=[t.id for t in team], pledges=True)
    act(supervisor, "prepare")
    act(supervisor, "serve_notice", notice_no=f"飞检〔{today().year}〕1号", served_to="医保办负责人")
    act(supervisor, "add_record", kind="inquiry", summary="询问血透室负责人收费情况", pages=2, signed=True)
    act(supervisor, "add_finding", description="血液透析串换收费项目", amount="3600")
    return {"draw": d["number"], "flight": f["number"]}
