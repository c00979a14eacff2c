"""The demo's special campaign: 骨科高值医用耗材专项整治 over the demo hospital and its city neighbours, targeting
the rules that flag them most, approved and in 自查自纠, with the demo hospital's return filed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service.campaigns.service import (
    act_on_campaign,
    act_on_return,
    create_campaign,
    get_campaign,
    list_returns,
)
from fundguard.service.models import Campaign, Clue, Institution
from fundguard.service.scope import Actor
from fundguard.service.timing import today


def seed_campaign(session: Session, supervisor: Actor, head: Actor, hospital: Actor | None) -> str:
    """Returns the campaign's number; does nothing (returns "") when a campaign exists or the store is empty."""
    if session.execute(select(func.count()).select_from(Campaign)).scalar_one():
        return ""
    prefix = supervisor.admdvs[:4]
    codes = list(session.execute(select(Institution.fixmedins_code).where(Institution.admdvs.startswith(prefix))
                                 .order_by(Institution.fixmedins_code).limit(6)).scalars())  # fmt: skip
    if hospital and hospital.fixmedins_code and hospital.fixmedins_code not in codes:
        codes = [hospital.fixmedins_code, *codes[:5]]
    if not codes:
        return ""
    rules = list(session.execute(select(Clue.rule_id).where(Clue.rule_id != "").group_by(Clue.rule_id)
                                 .order_by(func.count().desc(), Clue.rule_id).limit(2)).scalars())  # fmt: skip
    c = create_campaign(session, supervisor, title=f"{today().year}年骨科高值医用耗材专项整治", theme="骨科耗材",
                        focus_areas=["串换耗材", "虚计耗材数量", "超适应症使用"], targets=rules,
                        institutions=codes, rectify_days=30)  # fmt: skip

    def act(who: Actor, action: str, **fields: object) -> None:
        act_on_campaign(
            session, who, c["id"], action, get_campaign(session, who, c["id"])["version"], **fields
        )

    act(head, "approve", comment="同意整治方案")
    act(supervisor, "open_self_check", self_check_due=(today() + dt.timedelta(days=30)).isoformat())
    if hospital:
        mine = list_returns(session, hospital, c["id"])["items"]
        if mine:
            act_on_return(session, hospital, mine[0]["id"], "submit_self_check", mine[0]["version"],
                          problems=["骨科耗材串换收费", "手术记录与耗材出库数量不符"], refunded="18600")  # fmt: skip
    return c["number"]
