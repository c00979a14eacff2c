"""Flagged out-of-region institutions (the indicator's 异地 patterns) as clues and as inspection focus targets.

``flag_clues`` turns each institution the indicator flags in the actor's region (a small institution with an
unusual share of out-of-region patients; a pharmacy with out-of-region card use: 疑似异地刷卡套现) into a clue on
the ordinary clue workflow (待初审), one per institution × pattern × data month (``group_key``, so a second call
adds nothing), with the out-of-region settlements as its evidence lines; the clues are then linked to their
patients' insurance regions, so the place of insurance sees its persons' part on its own duty.

``focus_targets`` is 异地就医 as a focus area of an inspection plan or a draw: the flagged institutions and those
with open clues concerning out-of-region patients, each with its reason in Chinese.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service import record
from fundguard.service.crossregion.service import indicator, link_clues
from fundguard.service.institutions import sync_institutions
from fundguard.service.models import Clue, ClueHit, CrossRegionLink, Institution, money, utcnow
from fundguard.service.scope import Actor, scope_filter
from fundguard.service.timing import due_date_for, today
from fundguard.supervision.roles import CLUE_IMPORT

SOURCE = "crossregion"
PATTERNS = {  # the indicator's flag → (rule id on the clue, its name)
    "cashing": ("CR-CASHING", "异地就医：疑似异地刷卡套现"),
    "share": ("CR-SHARE", "异地就医：小型机构异地就医患者占比异常"),
}
MAX_EVIDENCE = (
    200  # evidence lines kept on a clue (the largest fund payments); the description gives the totals
)
FINISHED = ("closed", "dismissed")  # clue states that no longer make a focus target


def _data_month(con: Any) -> str:
    latest = con.execute("SELECT max(setl_time) FROM setl_d_valid").fetchone()[0]
    return str(latest or today())[:7]


def flag_clues(session: Session, actor: Actor, workspace: Path) -> dict[str, Any]:
    """Register a clue for each flagged institution in the actor's region (idempotent); returns what was made."""
    from fundguard.data.store import Store

    actor.require(CLUE_IMPORT)
    ind = indicator(session, actor, workspace)
    flagged = [r for r in ind["treatment"] if r["flag_zh"]]
    out: dict[str, Any] = {"flagged": len(flagged), "created": [], "existing": [], "links": 0}
    if not flagged:
        return out
    sync_institutions(session, workspace)
    con = Store(Path(workspace)).connect()
    try:
        period = _data_month(con)
        keys = {f"{SOURCE}|{r['flag']}|{r['fixmedins_code']}|{period}": r for r in flagged}
        have = dict(
            session.execute(select(Clue.group_key, Clue.id).where(Clue.group_key.in_(list(keys)))).all()
        )
        day, now = today(), utcnow()
        for key, r in sorted(keys.items()):
            if key in have:
                out["existing"].append(have[key])
                continue
            inst = session.get(Institution, r["fixmedins_code"])
            if inst is None:  # not a registered institution: nothing to open a clue on
                continue
            rule_id, rule_name = PATTERNS[r["flag"]]
            lines = con.execute(
                """SELECT setl_id, mdtrt_id, psn_no, any_value(psn_name), any_value(insu_admdvs),
                          any_value(strftime(setl_time, '%Y-%m-%d %H:%M:%S')), sum(fund_pay_sumamt)
                   FROM setl_d_valid WHERE fixmedins_code = ? AND NOT starts_with(insu_admdvs, fix_blng_admdvs)
                   GROUP BY setl_id, mdtrt_id, psn_no ORDER BY 7 DESC, setl_id LIMIT ?""",
                [inst.fixmedins_code, MAX_EVIDENCE],
            ).fetchall()
            description = (
                f"{r['flag_zh']}：{inst.name}共结算 {r['settlements']} 人次，其中异地参保人员 {r['out_settlements']} "
                f"人次（占比 {r['share'] * 100:.1f}%，提示阈值 {ind['threshold'] * 100:.0f}%），"
                f"涉及异地参保人员 {r['out_persons']} 人，异地基金支付 {r['out_fund']} 元。"
                f"证据列示基金支付最多的 {len(lines)} 笔异地结算。"
            )  # fmt: skip
            clue = Clue(source=SOURCE, group_key=key, run_id=f"crossregion:{period}", rule_id=rule_id,
                        rule_name=rule_name, fixmedins_code=inst.fixmedins_code, fixmedins_name=inst.name,
                        admdvs=inst.admdvs, period=period, hits=len(lines), amount=money(r["out_fund"]),
                        status="pending_initial", step_started=day,
                        due_date=due_date_for("flag", "pending_initial", day), department="异地就医监测",
                        description=description, created_at=now, updated_at=now)  # fmt: skip
            session.add(clue)
            session.flush()
            for setl_id, mdtrt_id, psn_no, psn_name, insu, at, fund in lines:
                session.add(ClueHit(clue_id=clue.id, run_id=clue.run_id, setl_id=setl_id or "",
                                    mdtrt_id=mdtrt_id or "", psn_no=psn_no or "", psn_name=psn_name or "",
                                    amount=money(fund or 0), kp_id=rule_id, item_name=rule_name,
                                    fee_ocur_time=at or "",
                                    evidence_zh=f"参保地 {insu} 的参保人员在本机构结算，基金支付 {money(fund or 0)} 元"))  # fmt: skip
            record.append(session, actor.username, "crossregion.flag_clue", "clue", clue.id,
                          {"fixmedins_code": inst.fixmedins_code, "pattern": rule_id, "period": period,
                           "share": r["share"], "out_settlements": r["out_settlements"],
                           "out_fund": r["out_fund"]})  # fmt: skip
            out["created"].append(clue.id)
    finally:
        con.close()
    session.flush()
    if out["created"]:
        out["links"] = link_clues(session, workspace)
    return out


def focus_targets(session: Session, actor: Actor, workspace: Path | None) -> dict[str, str]:
    """异地就医 as a focus area: ``{fixmedins_code: reason in Chinese}`` for the institutions in the actor's scope
    that the indicator flags or that have open clues concerning out-of-region patients."""
    reasons: dict[str, list[str]] = {}
    if workspace is not None:
        for r in indicator(session, actor, workspace)["treatment"]:
            if r["flag_zh"]:
                reasons.setdefault(r["fixmedins_code"], []).append(
                    f"{r['flag_zh']}（异地结算占比 {r['share'] * 100:.1f}%）"
                )
    rows = session.execute(
        select(Clue.fixmedins_code, func.count(func.distinct(Clue.id)), func.sum(CrossRegionLink.amount))
        .join(CrossRegionLink, CrossRegionLink.clue_id == Clue.id)
        .where(scope_filter(actor, Clue.admdvs, Clue.fixmedins_code), Clue.status.not_in(FINISHED))
        .group_by(Clue.fixmedins_code)
    ).all()  # fmt: skip
    for code, n, amount in rows:
        reasons.setdefault(code, []).append(
            f"涉异地参保人员的未结线索 {n} 条（金额 {money(amount or Decimal(0))} 元）"
        )
    return {code: "；".join(r) for code, r in sorted(reasons.items())}
