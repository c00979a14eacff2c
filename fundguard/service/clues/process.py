"""The flag process bound to the ``clues`` table: facts, history (separation of duties), the event row, time
limits and the effects of each action, including outcomes written back to the clue and its hits."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fundguard.service import workflow
from fundguard.service.errors import (
    ValidationFailed,
)
from fundguard.service.models import (
    Clue,
    ClueEvent,
    ClueHit,
    ClueTransfer,
    FundRefund,
    Measure,
    money,
)
from fundguard.service.timing import due_date_for, today
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CLUE_VIEW

OUTCOME_ZH = {
    "confirmed": "核实确认",
    "dismissed": "排除",
    "overturned": "申诉成立",
    "penalised": "已处罚",
    "no_penalty": "不予处罚",
    "agreement": "协议处理",
}


CONFIRMED_OUTCOMES = ("confirmed", "penalised", "agreement")  # the flag was right (rule precision)


REFUTED_OUTCOMES = ("dismissed", "overturned", "no_penalty")  # the flag was wrong or not upheld


def set_outcome(session: Session, clue: Clue, outcome: str, confirmed_amount: Any = None) -> None:
    """Write what became of a flag back to the clue and every hit it came from (scorecard, dashboard)."""
    clue.outcome = outcome
    if confirmed_amount is not None:
        clue.confirmed_amount = money(confirmed_amount)
    session.execute(update(ClueHit).where(ClueHit.clue_id == clue.id).values(outcome=outcome))


def _history(session: Session, clue: Clue) -> list[tuple[str, str]]:
    rows = session.execute(
        select(ClueEvent.action, ClueEvent.actor).where(ClueEvent.clue_id == clue.id).order_by(ClueEvent.id)
    )
    return [(a, u) for a, u in rows.all()]


def _log(session: Session, clue: Clue, m: workflow.Move) -> None:
    session.add(ClueEvent(clue_id=clue.id, actor=m.actor.username, action=m.action, from_status=m.before,
                          to_status=m.after, comment=m.comment,
                          fields_json=json.dumps(m.stored, ensure_ascii=False, default=str)))  # fmt: skip


def _enter(clue: Clue, m: workflow.Move) -> None:
    if m.after != m.before:
        clue.due_date = due_date_for("flag", m.after, m.day)


def _on(outcome: str) -> workflow.Effect:
    return lambda session, clue, m: set_outcome(session, clue, outcome)


def _verified(session: Session, clue: Clue, m: workflow.Move) -> None:
    set_outcome(session, clue, "confirmed", m.values["confirmed_amount"])


def _notified(session: Session, clue: Clue, m: workflow.Move) -> None:
    clue.notified = True


def _overturned(session: Session, clue: Clue, m: workflow.Move) -> None:
    clue.overturned = True
    set_outcome(session, clue, "overturned")


def _agreement(session: Session, clue: Clue, m: workflow.Move) -> None:
    """协议处理 on a confirmed clue: the measures, and money recovered into the fund's account."""
    from fundguard.supervision.penalties import MEASURES

    values, actor = m.values, m.actor
    codes = [penalty_measure(x) for x in values.get("measures") or []]
    recovered = values.get("recovered_amount")
    for code in codes:
        session.add(Measure(clue_id=clue.id, fixmedins_code=clue.fixmedins_code, admdvs=clue.admdvs, code=code,
                            name_zh=MEASURES[code], amount=recovered if recovered and code == "recover" else None,
                            detail=m.comment, by=actor.username))  # fmt: skip
    if recovered:
        session.add(FundRefund(clue_id=clue.id, fixmedins_code=clue.fixmedins_code, admdvs=clue.admdvs,
                               amount=money(recovered), paid_on=today(), recorded_by=actor.username))  # fmt: skip
    set_outcome(session, clue, "agreement")


def penalty_measure(name: str) -> str:
    """A 协议处理 measure given as its code or Chinese name → the code (``ValidationFailed`` otherwise)."""
    from fundguard.supervision.penalties import MEASURES

    code = name if name in MEASURES else {v: k for k, v in MEASURES.items()}.get(name)
    if code is None:
        raise ValidationFailed(f"未知的协议处理措施：{name}（可用：{'、'.join(MEASURES.values())}）",
                               f"unknown agreement measure {name} (known: {', '.join(MEASURES)})")  # fmt: skip
    return code


def _transfer(session: Session, clue: Clue, m: workflow.Move) -> None:
    values = m.values
    to_admdvs = str(values["to_admdvs"]).strip()
    if len(to_admdvs) != 6 or not to_admdvs.isdigit():
        raise ValidationFailed(
            f"接收区划 {to_admdvs} 应为 6 位数字", f"to_admdvs {to_admdvs} must be 6 digits"
        )
    to_department = str(values["to_department"]).strip()
    if (to_admdvs, to_department) == (clue.admdvs, clue.department):
        raise ValidationFailed(
            "不能移交给本地区本部门", "a clue cannot be transferred to its own region and department"
        )
    session.add(ClueTransfer(clue_id=clue.id, from_admdvs=clue.admdvs, to_admdvs=to_admdvs,
                             from_department=clue.department, to_department=to_department,
                             reason=m.comment, status="sent", sent_by=m.actor.username))  # fmt: skip


FLAG = workflow.Process(
    machine=wf.FLAG_FLOW,
    model=Clue,
    view=CLUE_VIEW,
    what=("线索", "clue"),
    record_action="clue.action",
    context=lambda session, clue: {"appeal_overdue": bool(clue.due_date and clue.due_date < today())},
    history=_history,
    log=_log,
    enter=_enter,
    hidden=lambda actor, clue: actor.role == "hospital" and not clue.notified,
    effects={
        "verify_confirm": _verified,
        "review_confirm": _notified,
        "appeal_uphold": _overturned,
        "initial_dismiss": _on("dismissed"),
        "review_dismiss": _on("dismissed"),
        "verify_dismiss": _on("dismissed"),
        "agreement": _agreement,
        "transfer": _transfer,
    },
)
