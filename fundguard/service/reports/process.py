"""The report process (``REPORT_FLOW``, 令第5号) bound to the ``reports`` table and the reward process
(``REWARD_FLOW``, 医保办发〔2022〕22号) bound to ``report_rewards``: their history and event rows, their time
limits (受理 in the configured working days, 核查, the 5-working-day notice to real-name reporters after 受理/立案
and after the result, the 2-month claim window) and the effects of each action — a transfer moves the report to
the receiving bureau's region, 转为线索 registers a clue on the existing clue procedure (facts only: identity
numbers and phones typed in the text are masked before the institution could ever read them)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service import clues, workflow
from fundguard.service.errors import ValidationFailed
from fundguard.service.models import Region, Report, ReportEvent, ReportReward, RewardEvent
from fundguard.service.scope import mask_text
from fundguard.service.timing import due_date_for, step_due
from fundguard.supervision import reports as rules
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import REPORT_VIEW


def _history(session: Session, r: Report) -> list[tuple[str, str]]:
    rows = session.execute(select(ReportEvent.action, ReportEvent.actor).where(ReportEvent.report_id == r.id)
                           .order_by(ReportEvent.id)).all()  # fmt: skip
    return [(a, who) for a, who in rows]


def _log(session: Session, r: Report, m: workflow.Move) -> None:
    session.add(ReportEvent(report_id=r.id, action=m.action, from_status=m.before, to_status=m.after,
                            actor=m.actor.username, comment=m.comment,
                            fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False, default=str)))  # fmt: skip


def _enter(r: Report, m: workflow.Move) -> None:
    if m.after != m.before or m.action == "transfer":
        r.due_date = due_date_for("report", m.after, m.day)


def _notice_due(r: Report, m: workflow.Move) -> None:
    """Real-name reporters are told within 5 working days of the decision (令第5号); anonymous ones look it up."""
    if r.real_name:
        r.notice_due = step_due(m.day, "reporter_notice")
        r.notified_on = None


def _accept(session: Session, r: Report, m: workflow.Move) -> None:
    r.reply = "您的举报已受理，正在核查办理。"
    _notice_due(r, m)


def _reject(session: Session, r: Report, m: workflow.Move) -> None:
    r.reply = f"不予受理：{rules.REJECT_REASONS[m.values['reason']]}。{m.values['reply']}"
    r.outcome = "rejected"
    _notice_due(r, m)


def _transfer(session: Session, r: Report, m: workflow.Move) -> None:
    to = str(m.values["to_admdvs"]).strip()
    if session.get(Region, to) is None:
        raise ValidationFailed(f"医保区划 {to} 不存在", f"no region {to}")
    if to == r.admdvs:
        raise ValidationFailed("接收区划与当前区划相同", "the report is already at that region")
    m.extra["from_admdvs"], r.admdvs = r.admdvs, to
    r.reply = "您的举报已移交有管辖权的医疗保障部门办理。"


def _merge(session: Session, r: Report, m: workflow.Move) -> None:
    other = session.get(Report, int(m.values["duplicate_of"]))
    if other is None or other.id == r.id:
        raise ValidationFailed("请填写另一件举报的编号", "name another report's id")
    r.duplicate_of = other.id
    r.reply = "您反映的问题已有他人举报，合并办理。"


def _to_clue(session: Session, r: Report, m: workflow.Move) -> None:
    facts = mask_text(f"举报 {r.number}（{rules.VIOLATION_TYPES.get(r.violation_type, r.violation_type)}）："
                      f"{r.target_name}。{r.description}")  # fmt: skip
    c = clues.register_clue(session, m.actor, fixmedins_code=str(m.values["fixmedins_code"]).strip(),
                            source="complaint", description=facts, amount=m.values.get("amount") or 0)  # fmt: skip
    r.clue_id, r.fixmedins_code = c["id"], c["fixmedins_code"]
    m.extra["clue_id"] = c["id"]


def _to_inspection(session: Session, r: Report, m: workflow.Move) -> None:
    r.inspection = str(m.values["inspection"])[:200]


def _conclude(session: Session, r: Report, m: workflow.Move) -> None:
    r.outcome, r.reply = m.values["outcome"], f"{rules.OUTCOMES[m.values['outcome']]}。{m.values['reply']}"
    _notice_due(r, m)


def _notify(session: Session, r: Report, m: workflow.Move) -> None:
    if not r.real_name:
        raise ValidationFailed(
            "匿名举报无需告知（举报人凭查询码查询）", "anonymous reporters look their report up"
        )
    r.notified_on, r.notice_due = m.day, None


REPORT = workflow.Process(
    machine=wf.REPORT_FLOW,
    model=Report,
    view=REPORT_VIEW,
    what=("举报", "report"),
    record_action="report.action",
    effects={
        "accept": _accept,
        "reject": _reject,
        "transfer": _transfer,
        "merge": _merge,
        "to_clue": _to_clue,
        "to_inspection": _to_inspection,
        "conclude": _conclude,
        "notify": _notify,
    },
    history=_history,
    log=_log,
    enter=_enter,
)


# ---------------------------------------------------------------- rewards


def _reward_history(session: Session, r: ReportReward) -> list[tuple[str, str]]:
    rows = session.execute(select(RewardEvent.action, RewardEvent.actor).where(RewardEvent.reward_id == r.id)
                           .order_by(RewardEvent.id)).all()  # fmt: skip
    return [(a, who) for a, who in rows]


def _reward_log(session: Session, r: ReportReward, m: workflow.Move) -> None:
    session.add(RewardEvent(reward_id=r.id, action=m.action, from_status=m.before, to_status=m.after,
                            actor=m.actor.username, comment=m.comment,
                            fields_json=json.dumps({**m.stored, **m.extra}, ensure_ascii=False, default=str)))  # fmt: skip


def _reward_enter(r: ReportReward, m: workflow.Move) -> None:
    if m.after != m.before:
        r.due_date = due_date_for("reward", m.after, m.day)


def _set(**columns: Any) -> workflow.Effect:
    def effect(session: Session, r: ReportReward, m: workflow.Move) -> None:
        for column, source in columns.items():
            setattr(r, column, m.day if source == "day" else m.values[source])

    return effect


REWARD = workflow.Process(
    machine=wf.REWARD_FLOW,
    model=ReportReward,
    view=REPORT_VIEW,
    what=("举报奖励", "reward"),
    record_action="reward.action",
    effects={
        "issue_notice": _set(notice_no="notice_no", notified_on="day"),
        "claim": _set(claimed_on="day"),
        "pay": _set(voucher_no="voucher_no", paid_on="day"),
    },
    history=_reward_history,
    log=_reward_log,
    enter=_reward_enter,
)
