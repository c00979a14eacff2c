"""Ledger (台账) exports: every ledger as .xlsx through ``supervision.ledgers.write_ledger``, scoped to what
the actor may see. Refunds to the fund and fines to the treasury are separate ledgers (条例 Art. 45)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.service.clues.process import OUTCOME_ZH
from fundguard.service.errors import PermissionDenied, not_found
from fundguard.service.models import (
    Case,
    Clue,
    ClueTransfer,
    FundRefund,
    Measure,
    Penalty,
    Referral,
    TreasuryFine,
    User,
)
from fundguard.service.scope import Actor, scope_filter
from fundguard.service.timing import today
from fundguard.supervision import workflow as wf
from fundguard.supervision.penalties import BEHAVIOURS
from fundguard.supervision.roles import LEDGER_EXPORT

Columns = list[tuple[str, str]]


def _clues(s: Session, a: Actor) -> tuple[str, Columns, Iterable[Mapping]]:
    cols = [("id", "线索编号"), ("source", "来源"), ("rule_id", "规则编号"), ("rule_name", "规则名称"),
            ("rule_version", "规则版本"), ("fixmedins_code", "机构编码"), ("fixmedins_name", "机构名称"),
            ("admdvs", "医保区划"), ("period", "期间"), ("hits", "疑点数"), ("amount", "涉及金额"),
            ("confirmed_amount", "核实金额"), ("status_zh", "状态"), ("outcome_zh", "办理结果"),
            ("due_date", "办理时限"), ("overturned", "申诉成立")]  # fmt: skip
    rows = s.execute(
        select(Clue).where(scope_filter(a, Clue.admdvs, Clue.fixmedins_code)).order_by(Clue.id)
    ).scalars()
    return "线索台账", cols, (
        {**{k: getattr(c, k) for k in ("id", "source", "rule_id", "rule_name", "rule_version", "fixmedins_code",
                                       "fixmedins_name", "admdvs", "period", "hits", "amount", "confirmed_amount",
                                       "due_date")},
         "status_zh": wf.FLAG_STATES.get(c.status, c.status), "outcome_zh": OUTCOME_ZH.get(c.outcome, ""),
         "overturned": "是" if c.overturned else "否"}
        for c in rows
    )  # fmt: skip


def _cases(s: Session, a: Actor) -> tuple[str, Columns, Iterable[Mapping]]:
    cols = [("number", "案号"), ("title", "案由"), ("party_name", "当事人"), ("fixmedins_code", "机构编码"),
            ("admdvs", "医保区划"), ("opened_at", "立案日期"), ("deadline", "办案期限"), ("status_zh", "环节"),
            ("amount_at_issue", "涉案金额"), ("loss_amount", "基金损失"), ("behaviour_code", "违法行为"),
            ("intent", "主观故意认定"), ("officers", "执法人员"), ("closed_at", "结案日期")]  # fmt: skip
    rows = s.execute(
        select(Case).where(scope_filter(a, Case.admdvs, Case.fixmedins_code)).order_by(Case.id)
    ).scalars()
    officers = {
        u: f"{name}（{cert}）"
        for u, name, cert in s.execute(select(User.username, User.display_name, User.cert_no))
    }
    return "案件台账", cols, (
        {**{k: getattr(c, k) for k in ("number", "title", "party_name", "fixmedins_code", "admdvs", "opened_at",
                                       "deadline", "amount_at_issue", "loss_amount", "behaviour_code", "intent",
                                       "closed_at")},
         "status_zh": wf.CASE_STATES.get(c.status, c.status),
         "behaviour_code": f"{c.behaviour_code} {BEHAVIOURS[c.behaviour_code]}" if c.behaviour_code in BEHAVIOURS else c.behaviour_code,
         "intent": wf.INTENT_ZH.get(c.intent, c.intent),
         "officers": "、".join(officers.get(o, o) for o in json.loads(c.officers_json or "[]"))}
        for c in rows
    )  # fmt: skip


def _measures(s: Session, a: Actor) -> tuple[str, Columns, Iterable[Mapping]]:
    cols = [("id", "序号"), ("case_number", "案号"), ("clue_id", "线索编号"), ("fixmedins_code", "机构编码"),
            ("admdvs", "医保区划"), ("name_zh", "协议处理措施"), ("amount", "金额"), ("detail", "说明"),
            ("at", "时间"), ("by", "经办人")]  # fmt: skip
    rows = s.execute(
        select(Measure, Case.number).join(Case, Case.id == Measure.case_id, isouter=True)
        .where(scope_filter(a, Measure.admdvs, Measure.fixmedins_code)).order_by(Measure.id)
    ).all()  # fmt: skip
    return "协议处理台账", cols, (
        {"id": m.id, "case_number": n or "", "clue_id": m.clue_id, "fixmedins_code": m.fixmedins_code,
         "admdvs": m.admdvs, "name_zh": m.name_zh, "amount": m.amount, "detail": m.detail,
         "at": m.at.replace(tzinfo=None), "by": m.by}
        for m, n in rows
    )  # fmt: skip


def _penalties(s: Session, a: Actor) -> tuple[str, Columns, Iterable[Mapping]]:
    cols = [("case_number", "案号"), ("fixmedins_code", "机构编码"), ("admdvs", "医保区划"), ("article", "条例条款"),
            ("circumstance", "裁量情节"), ("loss_amount", "损失金额"), ("refund_amount", "责令退回"),
            ("fine_amount", "罚款"), ("suspension_months", "暂停月数"), ("intent", "主观故意认定"),
            ("decided_at", "决定日期"), ("basis_zh", "依据")]  # fmt: skip
    rows = s.execute(
        select(Penalty, Case.number).join(Case, Case.id == Penalty.case_id)
        .where(scope_filter(a, Penalty.admdvs, Penalty.fixmedins_code)).order_by(Penalty.id)
    ).all()  # fmt: skip
    keys = [k for k, _ in cols if k != "case_number"]
    return (
        "行政处罚台账",
        cols,
        (
            {
                "case_number": n,
                **{k: getattr(p, k) for k in keys},
                "intent": wf.INTENT_ZH.get(p.intent, p.intent),
            }
            for p, n in rows
        ),
    )


def _refunds(s: Session, a: Actor) -> tuple[str, Columns, Iterable[Mapping]]:
    cols = [("id", "序号"), ("case_number", "案号"), ("clue_id", "线索编号"), ("fixmedins_code", "机构编码"),
            ("admdvs", "医保区划"), ("amount", "退回金额"), ("account", "收款账户"), ("voucher_no", "凭证号"),
            ("paid_on", "到账日期"), ("recorded_by", "登记人")]  # fmt: skip
    rows = s.execute(
        select(FundRefund, Case.number).join(Case, Case.id == FundRefund.case_id, isouter=True)
        .where(scope_filter(a, FundRefund.admdvs, FundRefund.fixmedins_code)).order_by(FundRefund.id)
    ).all()  # fmt: skip
    keys = [k for k, _ in cols if k != "case_number"]
    return (
        "医保基金退回台账（基金财政专户）",
        cols,
        ({"case_number": n or "", **{k: getattr(r, k) for k in keys}} for r, n in rows),
    )


def _fines(s: Session, a: Actor) -> tuple[str, Columns, Iterable[Mapping]]:
    cols = [("id", "序号"), ("case_number", "案号"), ("fixmedins_code", "机构编码"), ("admdvs", "医保区划"),
            ("amount", "罚款金额"), ("late_fee", "加处罚款"), ("voucher_no", "缴款书号"), ("paid_on", "缴款日期"),
            ("recorded_by", "登记人")]  # fmt: skip
    rows = s.execute(
        select(TreasuryFine, Case.number).join(Case, Case.id == TreasuryFine.case_id)
        .where(scope_filter(a, TreasuryFine.admdvs, TreasuryFine.fixmedins_code)).order_by(TreasuryFine.id)
    ).all()  # fmt: skip
    keys = [k for k, _ in cols if k != "case_number"]
    return (
        "罚没款缴库台账（国库）",
        cols,
        ({"case_number": n, **{k: getattr(f, k) for k in keys}} for f, n in rows),
    )


def _referrals(s: Session, a: Actor) -> tuple[str, Columns, Iterable[Mapping]]:
    cols = [("id", "序号"), ("case_number", "案号"), ("clue_id", "线索编号"), ("fixmedins_code", "机构编码"),
            ("target", "移送机关"), ("status_zh", "状态"), ("reason", "移送理由"), ("sent_at", "移送时间"),
            ("receipt_no", "回执编号"), ("receipt_at", "签收时间"), ("outcome", "结果")]  # fmt: skip
    rows = s.execute(
        select(Referral, Case.number).join(Case, Case.id == Referral.case_id, isouter=True)
        .where(scope_filter(a, Referral.admdvs, Referral.fixmedins_code)).order_by(Referral.id)
    ).all()  # fmt: skip
    naive = lambda v: v.replace(tzinfo=None) if v else None  # noqa: E731 — Excel has no time zones
    return "移送台账", cols, (
        {"id": r.id, "case_number": n or "", "clue_id": r.clue_id, "fixmedins_code": r.fixmedins_code,
         "target": r.target, "status_zh": wf.REFERRAL_STATES.get(r.status, r.status), "reason": r.reason,
         "sent_at": naive(r.sent_at), "receipt_no": r.receipt_no, "receipt_at": naive(r.receipt_at),
         "outcome": r.outcome}
        for r, n in rows
    )  # fmt: skip


def _transfers(s: Session, a: Actor) -> tuple[str, Columns, Iterable[Mapping]]:
    cols = [("id", "序号"), ("clue_id", "线索编号"), ("from_admdvs", "移出区划"), ("from_department", "移出部门"),
            ("to_admdvs", "接收区划"), ("to_department", "接收部门"), ("reason", "理由"), ("status", "状态"),
            ("sent_at", "移交时间"), ("sent_by", "移交人")]  # fmt: skip
    rows = s.execute(
        select(ClueTransfer).join(Clue, Clue.id == ClueTransfer.clue_id)
        .where(scope_filter(a, ClueTransfer.from_admdvs, Clue.fixmedins_code)
               | scope_filter(a, ClueTransfer.to_admdvs, Clue.fixmedins_code)).order_by(ClueTransfer.id)
    ).scalars()  # fmt: skip
    zh = {"sent": "已移交待答复", "accepted": "已接收", "returned": "已退回"}
    return "线索移交台账", cols, (
        {**{k: getattr(t, k) for k, _ in cols if k not in ("status", "sent_at")}, "status": zh.get(t.status, t.status),
         "sent_at": t.sent_at.replace(tzinfo=None)}
        for t in rows
    )  # fmt: skip


LEDGERS: dict[str, Callable[[Session, Actor], tuple[str, Columns, Iterable[Mapping]]]] = {
    "clues": _clues,
    "cases": _cases,
    "measures": _measures,
    "penalties": _penalties,
    "refunds": _refunds,
    "fines": _fines,
    "referrals": _referrals,
    "transfers": _transfers,
}


def export_ledger(session: Session, actor: Actor, name: str) -> tuple[str, bytes]:
    """``(filename, xlsx bytes)`` of ledger ``name`` (one of ``LEDGERS``)."""
    from fundguard.supervision.ledgers import write_ledger

    actor.require(LEDGER_EXPORT)
    if actor.role == "hospital":
        raise PermissionDenied("医院用户不能导出台账", "hospital users cannot export ledgers")
    if name not in LEDGERS:
        raise not_found("台账", "ledger", name)
    title, columns, rows = LEDGERS[name](session, actor)
    buf = io.BytesIO()
    write_ledger(buf, title, columns, rows)
    return f"{title}-{today().isoformat()}.xlsx", buf.getvalue()
