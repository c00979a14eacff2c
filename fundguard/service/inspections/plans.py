"""Daily supervision (日常监督检查): the annual plan with full coverage (全覆盖) and the 问题清零 ledger.

A plan gives every institution of the region an item, checked on site or by review within the year. On site
go the top ``top_n`` by prior-year fund payment (``setl_d.fund_pay_sumamt`` in the workspace store), a random
sample of at least ``sample_ratio`` of the rest (hash-keyed from the plan's seed value, as the draws), and the
institutions with open clues from models or reports, and — when the plan names a focus area (``FOCUS_AREAS``: 异地就医)
— the institutions the caller found for it, each with its reason (``service.focus`` composes them: this concept
does not read the cross-region indicator itself). The figures are configuration (``PlanConfig``; a
province passes its own). Coverage is reported by region. Problems (from flight inspections or plans) are
kept with owner, deadline, status and closure evidence; overdue ones are flagged; the ledger exports to Excel.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.data.store import Store
from fundguard.service import record
from fundguard.service.errors import InvalidTransition, ValidationFailed, not_found
from fundguard.service.models import Clue, Institution, PlanItem, Problem, SupervisionPlan, money
from fundguard.service.scope import Actor, paged, require_sees, scope_filter
from fundguard.service.timing import today
from fundguard.supervision import draws
from fundguard.supervision.ledgers import ledger_bytes
from fundguard.supervision.roles import INSPECTION_MANAGE, INSPECTION_VIEW

FOCUS_AREAS = {"crossregion": "异地就医"}  # focus areas a plan or a draw may name (重点领域)
REASONS_ZH = {"top": "上年基金支付前列", "sample": "随机抽查", "lead": "模型疑点", "report": "举报线索",
              "assigned": "上级交办", **{area: f"{zh}重点" for area, zh in FOCUS_AREAS.items()}}  # fmt: skip
MODES_ZH = {"onsite": "现场检查", "review": "非现场审核"}


@dataclass(frozen=True)
class PlanConfig:
    """Seeds 002/003 (local, H): the top 30 by prior-year fund payment and at least 10 % sampled on site."""

    top_n: int = 30
    sample_ratio: float = 0.1

    def __post_init__(self) -> None:
        if self.top_n < 0 or not 0 <= self.sample_ratio <= 1:
            raise ValidationFailed("计划参数无效（前列数 ≥ 0，抽查比例 0–1）", "invalid plan figures")


def _fund_paid(workspace: Path | None, year: int) -> dict[str, Any]:
    """Fund payment per institution in ``year`` from the store (empty when there is no settlement table)."""
    if workspace is None:
        return {}
    store = Store(Path(workspace))
    if not store.data_files("setl_d"):
        return {}
    con = store.connect()
    try:
        rows = con.execute(
            "SELECT fixmedins_code, sum(fund_pay_sumamt) FROM setl_d_valid "
            "WHERE year(setl_time) = ? GROUP BY 1",
            [year],
        ).fetchall()
    finally:
        con.close()
    return {code: paid or 0 for code, paid in rows}


def create_plan(session: Session, actor: Actor, *, year: int, title: str, seed_value: str,
                workspace: Path | None = None, config: PlanConfig | None = None,
                assigned: list[str] | None = None,
                focus: Mapping[str, Mapping[str, str]] | None = None) -> dict:  # fmt: skip
    """The year's plan over every institution in scope (全覆盖): on site for the top payers, those with model
    leads or reports, those an upper level assigned (``assigned``, institution codes), those a focus area names
    (``focus``: area → {institution code: reason in Chinese}, shown with the reason), and a seeded random
    sample of the rest; the others by review."""
    actor.require(INSPECTION_MANAGE)
    cfg = config or PlanConfig()
    if not (title or "").strip() or not (seed_value or "").strip():
        raise ValidationFailed("计划名称和抽样种子值不能为空", "a plan needs a title and a seed value")
    focus = dict(focus or {})
    if set(focus) - set(FOCUS_AREAS):
        raise ValidationFailed(f"重点领域应为 {'、'.join(FOCUS_AREAS.values())}",
                               f"focus areas are {list(FOCUS_AREAS)}")  # fmt: skip
    insts = session.execute(
        select(Institution).where(scope_filter(actor, Institution.admdvs, Institution.fixmedins_code))
    ).scalars().all()  # fmt: skip
    if not insts:
        raise ValidationFailed("辖区内没有定点机构", "no institutions in scope")
    codes_in_scope = {i.fixmedins_code for i in insts}
    assigned = list(dict.fromkeys(c.strip() for c in assigned or [] if c and c.strip()))
    outside = [c for c in assigned if c not in codes_in_scope]
    if outside:
        raise ValidationFailed(f"上级交办的检查对象不在本辖区定点机构中：{outside[:5]}",
                               f"assigned institutions not in scope: {outside[:5]}")  # fmt: skip
    paid = _fund_paid(workspace, year - 1)
    flagged = dict(session.execute(
        select(Clue.fixmedins_code, func.min(Clue.source))
        .where(Clue.source.in_(("model", "complaint")), Clue.status.not_in(("closed", "dismissed")))
        .group_by(Clue.fixmedins_code)
    ).all())  # fmt: skip
    reasons: dict[str, list[str]] = {i.fixmedins_code: [] for i in insts}
    for code in sorted(paid, key=lambda c: (-paid[c], c))[: cfg.top_n]:
        if code in reasons:
            reasons[code].append("top")
    for code, source in flagged.items():
        if code in reasons:
            reasons[code].append("lead" if source == "model" else "report")
    for code in assigned:
        reasons[code].append("assigned")
    focus_reasons: dict[str, str] = {}
    for area, targets in sorted(focus.items()):
        for code, why in sorted(targets.items()):
            if code in reasons:
                reasons[code].append(area)
                focus_reasons[code] = "；".join(filter(None, (focus_reasons.get(code), why)))
    rest = sorted(
        (c for c in reasons if not reasons[c]), key=lambda c: draws.sha256(f"{seed_value}|plan|{c}".encode())
    )
    for code in rest[: math.ceil(len(reasons) * cfg.sample_ratio)]:
        reasons[code].append("sample")
    plan = SupervisionPlan(year=year, admdvs=actor.admdvs, title=title.strip(), created_by=actor.username,
                           config_json=json.dumps({**asdict(cfg), "seed_value": seed_value, "assigned": assigned,
                                                   "focus": sorted(focus), "focus_reasons": focus_reasons},
                                                  ensure_ascii=False))  # fmt: skip
    session.add(plan)
    session.flush()
    for i in insts:
        r = reasons[i.fixmedins_code]
        session.add(PlanItem(plan_id=plan.id, fixmedins_code=i.fixmedins_code, admdvs=i.admdvs,
                             mode="onsite" if r else "review", reasons=";".join(r),
                             fund_paid=money(paid.get(i.fixmedins_code, 0)), result=""))  # fmt: skip
    session.flush()
    record.append(session, actor.username, "plan.create", "plan", plan.id,
                  {"year": year, "institutions": len(insts), "config": json.loads(plan.config_json)})  # fmt: skip
    return coverage(session, actor, plan.id)


def _plan(session: Session, actor: Actor, plan_id: int) -> SupervisionPlan:
    actor.require(INSPECTION_VIEW)
    plan = session.get(SupervisionPlan, int(plan_id))
    if plan is None:
        raise not_found("检查计划", "plan", plan_id)
    return plan


def coverage(session: Session, actor: Actor, plan_id: int) -> dict:
    """Progress of a plan in the actor's scope, overall and by region (全覆盖)."""
    plan = _plan(session, actor, plan_id)
    rows = session.execute(
        select(PlanItem.admdvs, PlanItem.mode, func.count(), func.count(PlanItem.done_on))
        .where(PlanItem.plan_id == plan.id, scope_filter(actor, PlanItem.admdvs, PlanItem.fixmedins_code))
        .group_by(PlanItem.admdvs, PlanItem.mode)
    ).all()
    regions: dict[str, dict[str, int]] = {}
    for admdvs, mode, n, done in rows:
        r = regions.setdefault(admdvs, {"total": 0, "done": 0, "onsite": 0, "onsite_done": 0})
        r["total"] += n
        r["done"] += done
        if mode == "onsite":
            r["onsite"] += n
            r["onsite_done"] += done
    total, done = sum(r["total"] for r in regions.values()), sum(r["done"] for r in regions.values())
    return {
        "id": plan.id, "year": plan.year, "title": plan.title, "admdvs": plan.admdvs,
        "config": json.loads(plan.config_json), "total": total, "done": done,
        "onsite": sum(r["onsite"] for r in regions.values()),
        "coverage": round(done / total, 4) if total else 0.0,
        "regions": [{"admdvs": k, **v, "coverage": round(v["done"] / v["total"], 4)} for k, v in sorted(regions.items())],
    }  # fmt: skip


def _item(p: PlanItem, focus_reasons: Mapping[str, str] | None = None) -> dict:
    """A plan item; a focus area's reason carries why (``focus_reasons``: the plan's, by institution)."""
    reasons = [r for r in p.reasons.split(";") if r]
    why = (focus_reasons or {}).get(p.fixmedins_code, "")
    return {"id": p.id, "plan_id": p.plan_id, "fixmedins_code": p.fixmedins_code, "admdvs": p.admdvs,
            "mode": p.mode, "mode_zh": MODES_ZH[p.mode],
            "reasons_zh": [f"{REASONS_ZH[r]}：{why}" if r in FOCUS_AREAS and why else REASONS_ZH[r] for r in reasons],
            "fund_paid": str(p.fund_paid), "done_on": p.done_on.isoformat() if p.done_on else None,
            "result": p.result}  # fmt: skip


def list_items(session: Session, actor: Actor, plan_id: int, *, mode: str | None = None, page: int = 1,
               size: int = 50) -> dict:  # fmt: skip
    plan = _plan(session, actor, plan_id)
    conds = [PlanItem.plan_id == plan.id] + ([PlanItem.mode == mode] if mode else [])
    why = json.loads(plan.config_json).get("focus_reasons", {})
    return paged(session, actor, PlanItem, INSPECTION_VIEW, conds, (PlanItem.mode, PlanItem.fixmedins_code),
                 lambda p: _item(p, why), page, size)  # fmt: skip


def complete_item(
    session: Session, actor: Actor, item_id: int, *, result: str, day: dt.date | None = None
) -> dict:
    """Record that an institution was checked (on site or by review) with its result."""
    actor.require(INSPECTION_MANAGE)
    p = session.get(PlanItem, int(item_id))
    if p is None:
        raise not_found("计划检查对象", "plan item", item_id)
    require_sees(actor, p.admdvs, p.fixmedins_code, "该机构", "this institution")
    if p.done_on is not None:
        raise InvalidTransition("该机构本年度已检查", "this institution was already checked")
    if not (result or "").strip():
        raise ValidationFailed("请填写检查结果", "a check needs its result")
    p.done_on, p.result = day or today(), result.strip()
    session.flush()
    record.append(session, actor.username, "plan.check", "plan item", p.id,
                  {"fixmedins_code": p.fixmedins_code, "mode": p.mode, "result": p.result})  # fmt: skip
    plan = session.get(SupervisionPlan, p.plan_id)
    return _item(p, json.loads(plan.config_json).get("focus_reasons", {}))


# ---------------------------------------------------------------- 问题清零 ledger


def _problem(p: Problem, day: dt.date) -> dict:
    return {"id": p.id, "source": p.source, "source_ref": p.source_ref, "fixmedins_code": p.fixmedins_code,
            "admdvs": p.admdvs, "category": p.category, "description": p.description, "amount": str(p.amount),
            "owner": p.owner, "deadline": p.deadline.isoformat(), "status": p.status,
            "status_zh": "已清零" if p.status == "closed" else "未清零", "evidence": p.evidence,
            "closed_on": p.closed_on.isoformat() if p.closed_on else None,
            "overdue": p.status == "open" and p.deadline < day}  # fmt: skip


def add_problem(session: Session, actor: Actor, *, fixmedins_code: str, description: str, owner: str,
                deadline: dt.date, source: str = "plan", source_ref: str = "", category: str = "",
                amount: Any = 0) -> dict:  # fmt: skip
    actor.require(INSPECTION_MANAGE)
    inst = session.get(Institution, fixmedins_code)
    if inst is None:
        raise not_found("定点机构", "institution", fixmedins_code)
    require_sees(actor, inst.admdvs, inst.fixmedins_code, "该机构", "this institution")
    if not (description or "").strip() or not (owner or "").strip():
        raise ValidationFailed("问题描述和责任人不能为空", "a problem needs a description and an owner")
    p = Problem(source=source, source_ref=source_ref, fixmedins_code=inst.fixmedins_code, admdvs=inst.admdvs,
                category=category, description=description.strip(), amount=money(amount), owner=owner.strip(),
                deadline=deadline, status="open", evidence="")  # fmt: skip
    session.add(p)
    session.flush()
    record.append(session, actor.username, "problem.create", "problem", p.id,
                  {"fixmedins_code": p.fixmedins_code, "description": p.description, "deadline": str(deadline)})  # fmt: skip
    return _problem(p, today())


def close_problem(session: Session, actor: Actor, problem_id: int, evidence: str) -> dict:
    """清零: a problem closes only with its evidence."""
    actor.require(INSPECTION_MANAGE)
    p = session.get(Problem, int(problem_id))
    if p is None:
        raise not_found("问题", "problem", problem_id)
    require_sees(actor, p.admdvs, p.fixmedins_code, "该问题", "this problem")
    if p.status == "closed":
        raise InvalidTransition("该问题已清零", "this problem is already closed")
    if not (evidence or "").strip():
        raise ValidationFailed("清零须附整改佐证", "closing a problem needs its evidence")
    p.status, p.evidence, p.closed_on = "closed", evidence.strip(), today()
    session.flush()
    record.append(session, actor.username, "problem.close", "problem", p.id, {"evidence": p.evidence})
    return _problem(p, today())


def list_problems(session: Session, actor: Actor, *, status: str | None = None, page: int = 1,
                  size: int = 50) -> dict:  # fmt: skip
    day = today()
    conds = [Problem.status == status] if status else []
    return paged(session, actor, Problem, INSPECTION_VIEW, conds, (Problem.deadline, Problem.id),
                 lambda p: _problem(p, day), page, size)  # fmt: skip


LEDGER_COLUMNS = [
    ("id", "序号", "int"), ("fixmedins_code", "机构编码"), ("category", "问题类别"), ("description", "问题描述"),
    ("amount", "涉及金额（元）", "money"), ("owner", "责任人"), ("deadline", "整改时限", "date"),
    ("status_zh", "状态"), ("overdue_zh", "是否超期"), ("evidence", "清零佐证"), ("closed_on", "清零日期", "date"),
]  # fmt: skip


def problem_ledger(session: Session, actor: Actor, *, source_ref: str | None = None,
                   title_zh: str = "问题清零台账") -> bytes:  # fmt: skip
    """问题清零台账 (.xlsx), overdue items marked, in deadline order; ``source_ref``: one campaign's or
    inspection's problems only."""
    actor.require(INSPECTION_VIEW)
    day = today()
    conds = [scope_filter(actor, Problem.admdvs, Problem.fixmedins_code)]
    if source_ref is not None:
        conds.append(Problem.source_ref == source_ref)
    rows = session.execute(select(Problem).where(*conds).order_by(Problem.deadline, Problem.id)).scalars()

    def row(p: Problem) -> dict:
        d = _problem(p, day)
        return {**d, "amount": p.amount, "deadline": p.deadline, "closed_on": p.closed_on,
                "overdue_zh": "已超期" if d["overdue"] else "否"}  # fmt: skip

    return ledger_bytes(title_zh, LEDGER_COLUMNS, (row(p) for p in rows),
                        subtitle_zh=f"导出日期 {day.isoformat()}")  # fmt: skip
