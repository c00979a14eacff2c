"""The demo's reports (``make demo``): three public reports to the city bureau — one anonymous and waiting for
受理, one real-name and accepted (its 5-working-day notice pending), one that became a clue, was confirmed with a
loss, concluded and rewarded (approved, 奖励通知 sent, waiting for the reporter's claim). Their tracking codes are
returned so the demo can print them for the public page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service import clues
from fundguard.service.models import Clue, Report
from fundguard.service.reports.rewards import act_on_reward, compute
from fundguard.service.reports.service import act_on_report, file_report
from fundguard.service.scope import Actor

_FACTS = "该院安排未实际住院的参保人挂床住院，按日记账床位费、护理费，并让参保人签字领取生活补贴。"


def seed_reports(
    session: Session, city: Actor, second: Actor, head: Actor, hospital: Actor
) -> list[dict[str, Any]]:
    """Does nothing when the city already has reports; returns [{number, code, status_zh}]."""
    if session.execute(select(Report.id).where(Report.admdvs == city.admdvs).limit(1)).first():
        return []
    inst = hospital.fixmedins_code or ""
    base = {"target_kind": "institution", "admdvs": city.admdvs, "happened": "2026年1月", "place": "住院部"}
    out = [
        file_report(
            session,
            **base,
            violation_type="over_charging",
            target_name="某社区卫生服务站",
            description="对每位就诊老人重复收取一般诊疗费，收据上有两笔相同项目。",
        ),
        file_report(
            session,
            **base,
            violation_type="card_misuse",
            target_name="某大药房",
            description="药店收银员用顾客医保卡刷取日用品和保健品，按药品结算。",
            real_name=True,
            identity={"name": "演示实名举报人", "phone": "13900000001"},
        ),
        file_report(
            session,
            **base,
            violation_type="fake_hospitalisation",
            target_name=inst,
            description=_FACTS,
            real_name=True,
            insider=True,
            identity={"name": "演示内部举报人", "phone": "13900000002", "id_no": "110101198001010011"},
        ),
    ]
    ids = {
        r.number: r.id for r in session.execute(select(Report).where(Report.admdvs == city.admdvs)).scalars()
    }

    def step(number: str, action: str, **fields: Any) -> dict:
        rid = ids[number]
        return act_on_report(session, city, rid, action, session.get(Report, rid).version, **fields)

    step(out[1]["number"], "accept")
    if inst:
        step(out[2]["number"], "accept")
        clue_id = step(out[2]["number"], "to_clue", fixmedins_code=inst, amount="86000")["clue_id"]
        for who, action, fields in ((city, "initial_confirm", {}), (second, "review_confirm", {}),
                                    (hospital, "accept", {}), (city, "verify_confirm", {"confirmed_amount": "86000"})):  # fmt: skip
            clues.act_on_clue(session, who, clue_id, action, session.get(Clue, clue_id).version, **fields)
        step(
            out[2]["number"],
            "conclude",
            outcome="substantiated",
            reply="经查属实，已责令退回基金并依法处理。",
        )
        w = compute(session, city, ids[out[2]["number"]], grade=1)
        w = act_on_reward(session, head, w["id"], "approve", w["version"], comment="演示：同意奖励")
        act_on_reward(session, city, w["id"], "issue_notice", w["version"], notice_no="演示奖通〔2026〕1号")
    return out
