"""Demo registry rows: the officers among the demo users, one more officer per county (enough for teams
with 回避), two experts and a third-party agency with its staff, written through ``save_inspector`` and
``save_agency`` so they have their history. Runs once (does nothing when the registry has people)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service.inspections.registries import save_agency, save_inspector
from fundguard.service.models import Inspector, Institution, Region, User
from fundguard.service.scope import Actor
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
