"""举报奖励 (医保办发〔2022〕22号): computed when the case from a report confirmed fund loss — the province's rule
(``FUNDGUARD_REPORT_RULES`` or the bundled file), the exclusions and first-in-time among several reporters
checked —; approved by the bureau head; the 奖励通知 opens the 2-month claim window; the reporter claims with the
tracking code and an identity check (a real-name reporter's must match the sealed identity; an anonymous
reporter gives theirs now, sealed too); unclaimed rewards are deemed waived when the window closes; payment is
registered with its voucher; the payment ledger is an Excel file without identities."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fundguard.core.settings import settings
from fundguard.service import record, workflow
from fundguard.service.clues import CONFIRMED_OUTCOMES
from fundguard.service.errors import InvalidTransition, ValidationFailed, forbidden
from fundguard.service.models import Clue, Report, ReportReward
from fundguard.service.reports import sealing
from fundguard.service.reports.process import REPORT, REWARD
from fundguard.service.reports.service import _ID_NO, _text, by_code, expire, public_reward, reward_item
from fundguard.service.scope import Actor, paged, scope_filter
from fundguard.service.timing import today
from fundguard.supervision import reports as rules
from fundguard.supervision import workflow as wf
from fundguard.supervision.ledgers import ledger_bytes
from fundguard.supervision.roles import REPORT_VIEW

CLAIMANT = Actor(user_id=0, username="举报人", display_name="举报人", role="system", admdvs="")


def reward_rules() -> rules.RewardRules:
    """The province's reward rules (``FUNDGUARD_REPORT_RULES``: a YAML file like the bundled one) or the defaults."""
    return _rules(settings().report_rules)


@functools.cache
def _rules(path: str) -> rules.RewardRules:
    return rules.load_reward_rules(path or None)


def _first_in_time(session: Session, r: Report) -> Report | None:
    """An earlier report of the same facts (same clue, merged into it, or linked as a repeat), or None."""
    related = [Report.duplicate_of == r.id, Report.id == (r.duplicate_of or 0)]
    if r.clue_id:
        related.append(Report.clue_id == r.clue_id)
    rows = session.execute(select(Report).where(Report.id != r.id, or_(*related))).scalars()
    earlier = [o for o in rows if (o.received_at, o.id) < (r.received_at, r.id)]
    return min(earlier, key=lambda o: (o.received_at, o.id), default=None)


def compute(
    session: Session, actor: Actor, report_id: int, *, grade: int, insider: bool | None = None
) -> dict:
    """Compute the reward of a report whose clue was confirmed with fund loss (案值 = the confirmed amount)."""
    if not actor.role.endswith("_supervisor"):
        raise forbidden("只有监管人员可核定举报奖励", "only supervisors compute rewards")
    r = workflow.load(session, actor, REPORT, report_id, for_update=True)
    cfg = reward_rules()
    if session.execute(select(ReportReward.id).where(ReportReward.report_id == r.id)).first():
        raise InvalidTransition("该举报已核定奖励", "this report already has a reward")
    clue = session.get(Clue, r.clue_id) if r.clue_id else None
    if (
        clue is None
        or clue.outcome not in CONFIRMED_OUTCOMES
        or not clue.confirmed_amount
        or clue.confirmed_amount <= 0
    ):
        raise InvalidTransition("举报转为线索并经查实造成医保基金损失（有核实金额）后方可核定奖励",
                                "a reward needs the report's clue confirmed with a fund loss")  # fmt: skip
    if r.excluded:
        raise InvalidTransition(
            f"不予奖励：{cfg.exclusions.get(r.excluded, r.excluded)}", f"excluded: {r.excluded}"
        )
    if cfg.multiple_reporters == "first_in_time":
        first = _first_in_time(session, r)
        if first is not None:
            raise InvalidTransition(f"同一事实已有更早的举报（{first.number}），按最先举报者奖励",
                                    f"an earlier report ({first.number}) of the same facts is rewarded")  # fmt: skip
    insider = r.insider if insider is None else bool(insider)
    try:
        result = rules.compute_reward(clue.confirmed_amount, int(grade), cfg, insider=insider)
    except Exception as exc:  # the rule's own bilingual InputError
        raise ValidationFailed(*getattr(exc, "args", ("奖励无法计算", "cannot compute"))[:2]) from None
    day = today()
    w = ReportReward(report_id=r.id, case_value=clue.confirmed_amount, grade=int(grade), insider=insider,
                     amount=result.amount, basis=f"{result.basis_zh}（{cfg.region_zh}）", admdvs=r.admdvs,
                     fixmedins_code=r.fixmedins_code, status="computed", step_started=day, created_by=actor.username)  # fmt: skip
    session.add(w)
    session.flush()
    record.append(session, actor.username, "reward.compute", "reward", w.id,
                  {"report": r.number, "case_value": str(w.case_value), "grade": w.grade, "amount": str(w.amount)})  # fmt: skip
    return reward_item(w)


def list_rewards(session: Session, actor: Actor, *, page: int = 1, size: int = 20) -> dict:
    expire(session)
    return paged(
        session, actor, ReportReward, REPORT_VIEW, [], ReportReward.id.desc(), reward_item, page, size
    )


def act_on_reward(
    session: Session, actor: Actor, reward_id: int, action: str, version: int, **fields: Any
) -> dict:
    expire(session)
    w = workflow.act(session, actor, REWARD, reward_id, action, version, fields)
    return {**reward_item(w), "actions": REWARD.actions(session, w, actor)}


def get_reward(session: Session, actor: Actor, reward_id: int) -> dict:
    expire(session)
    w = workflow.load(session, actor, REWARD, reward_id)
    return {**reward_item(w), "actions": REWARD.actions(session, w, actor)}


def claim(session: Session, code: str, *, name: str, id_no: str, phone: str = "") -> dict:
    """The reporter claims with the tracking code and their identity, within the window (then it is paid)."""
    r = by_code(session, code)
    expire(session)
    w = session.execute(
        select(ReportReward).where(ReportReward.report_id == r.id).with_for_update()
    ).scalar_one_or_none()
    if w is None or w.status != "notified":
        status = (
            wf.REWARD_STATES[w.status] if w is not None and w.status in ("claimed", "paid", "waived") else ""
        )
        raise InvalidTransition(
            f"当前无可领取的奖励{('（' + status + '）') if status else ''}", "no reward to claim"
        )
    who = {"name": _text(name, "姓名", "name", 50), "id_no": _text(id_no, "身份证号", "ID number", 18).upper(),
           "phone": _text(phone, "联系电话", "phone", 20, required=False)}  # fmt: skip
    if not _ID_NO.match(who["id_no"]):
        raise ValidationFailed("身份证号应为 18 位", "an ID number has 18 characters")
    if r.real_name:
        known = sealing.unseal(r.identity_sealed, r.number)
        if known.get("name") != who["name"] or (known.get("id_no") and known["id_no"] != who["id_no"]):
            raise ValidationFailed(
                "身份信息与实名举报人不一致", "identity does not match the real-name reporter"
            )
    w.claimant_sealed = sealing.seal(who, f"reward:{w.id}")
    workflow.move(session, CLAIMANT, REWARD, w, "claim", {}, role="system")
    return public_reward(w) or {}


def payment_ledger(session: Session, actor: Actor) -> bytes:
    """奖励发放台账 (.xlsx): per reward its report, 案值, grade, amount, notice, claim and payment — no identities."""
    actor.require(REPORT_VIEW)
    expire(session)
    rows = session.execute(select(ReportReward, Report.number).join(Report, Report.id == ReportReward.report_id)
                           .where(scope_filter(actor, ReportReward.admdvs, ReportReward.fixmedins_code))
                           .order_by(ReportReward.id)).all()  # fmt: skip
    cols = [("number", "举报编号"), ("admdvs", "医保区划"), ("case_value", "案值（元）"), ("grade", "奖励等级"),
            ("insider", "内部人员"), ("amount", "奖励金额（元）"), ("status_zh", "状态"), ("notice_no", "奖励通知文号"),
            ("notified_on", "通知日期"), ("due_date", "领取期限"), ("claimed_on", "领取日期"), ("voucher_no", "支付凭证号"),
            ("paid_on", "发放日期")]  # fmt: skip
    data = ({"number": n, "admdvs": w.admdvs, "case_value": Decimal(w.case_value), "grade": w.grade,
             "insider": "是" if w.insider else "否", "amount": Decimal(w.amount), "status_zh": wf.REWARD_STATES[w.status],
             "notice_no": w.notice_no, "notified_on": w.notified_on, "due_date": w.due_date, "claimed_on": w.claimed_on,
             "voucher_no": w.voucher_no, "paid_on": w.paid_on} for w, n in rows)  # fmt: skip
    return ledger_bytes("举报奖励发放台账", cols, data)
