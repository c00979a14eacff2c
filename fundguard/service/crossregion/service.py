"""Cross-region (异地就医) links, the out-of-region indicator, and joint handling between regions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from fundguard.core.settings import settings
from fundguard.service import record
from fundguard.service.errors import InvalidTransition, ValidationFailed, not_found
from fundguard.service.models import Clue, ClueHit, CrossRegionLink, money
from fundguard.service.scope import Actor, Scope, region_prefix, scope_filter, sees
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CROSSREGION_VIEW

JOINT_ZH = {
    "": "未发起",
    "requested": "已请求联合办案",
    "accepted": "联合办案中",
    "declined": "未接受联合办案",
}


FLAGS_ZH = {  # the indicator's out-of-region patterns
    "": "",
    "cashing": "定点药店异地参保人员购药占比异常（疑似异地刷卡套现）",
    "share": "小型机构异地就医患者占比异常",
}


def _threshold() -> float:
    """Share of out-of-region settlements above which a small institution is flagged (configurable: local)."""
    return settings().crossregion_share


def link_clues(session: Session, workspace: Path) -> int:
    """Link every clue with hits to the insurance regions of its patients outside the clue's region (from the
    store's visits); idempotent. Returns the number of links added."""
    from fundguard.data.store import Store

    hits = session.execute(select(ClueHit.clue_id, ClueHit.mdtrt_id, ClueHit.psn_no, ClueHit.amount, Clue.admdvs)
                           .join(Clue, Clue.id == ClueHit.clue_id).where(ClueHit.mdtrt_id != "")).all()  # fmt: skip
    if not hits:
        return 0
    con = Store(Path(workspace)).connect()
    try:
        region = dict(con.execute("SELECT DISTINCT mdtrt_id, insu_admdvs FROM mdtrt_d_valid WHERE insu_admdvs IS NOT NULL")
                      .fetchall())  # fmt: skip
    finally:
        con.close()
    agg: dict[tuple[int, str], dict[str, Any]] = {}
    for clue_id, mdtrt_id, psn_no, amount, admdvs in hits:
        insu = region.get(mdtrt_id)
        if not insu or insu.startswith(region_prefix(admdvs)):
            continue
        a = agg.setdefault((clue_id, insu), {"visits": set(), "persons": set(), "amount": Decimal(0)})
        a["visits"].add(mdtrt_id)
        a["persons"].add(psn_no)
        a["amount"] += money(amount)
    have = {
        tuple(r) for r in session.execute(select(CrossRegionLink.clue_id, CrossRegionLink.insu_admdvs)).all()
    }
    added = 0
    for (clue_id, insu), a in sorted(agg.items()):
        if (clue_id, insu) in have:
            continue
        session.add(CrossRegionLink(clue_id=clue_id, insu_admdvs=insu, visits=len(a["visits"]),
                                    persons=len(a["persons"]), amount=a["amount"], joint_status="", joint_by="",
                                    joint_note=""))  # fmt: skip
        added += 1
    session.flush()
    if added:
        record.append(session, "system", "crossregion.link", "clue", "*", {"links": added})
    return added


def indicator(session: Session, actor: Actor, workspace: Path | None) -> dict[str, Any]:
    """Both duties at once: ``treatment`` — institutions in the actor's region with their out-of-region share
    (flagged: small institutions and pharmacies above the threshold); ``insurance`` — the actor's insured
    persons settled at institutions outside the actor's region."""
    actor.require(CROSSREGION_VIEW)
    empty = {"threshold": _threshold(), "treatment": [], "insurance": []}
    if workspace is None or actor.role == "hospital":
        return empty
    from fundguard.data.store import Store

    prefix = region_prefix(actor.admdvs)
    con = Store(Path(workspace)).connect()
    try:
        treat = con.execute(
            """SELECT fixmedins_code, any_value(fixmedins_name), any_value(fix_blng_admdvs), count(*),
                      count(*) FILTER (WHERE NOT starts_with(insu_admdvs, fix_blng_admdvs)),
                      count(DISTINCT psn_no) FILTER (WHERE NOT starts_with(insu_admdvs, fix_blng_admdvs)),
                      coalesce(sum(fund_pay_sumamt) FILTER (WHERE NOT starts_with(insu_admdvs, fix_blng_admdvs)), 0)
               FROM setl_d_valid WHERE starts_with(fix_blng_admdvs, ?) GROUP BY fixmedins_code
               ORDER BY fixmedins_code""", [prefix]).fetchall()  # fmt: skip
        insured = con.execute(
            """SELECT fixmedins_code, any_value(fixmedins_name), any_value(fix_blng_admdvs), count(*),
                      count(DISTINCT psn_no), coalesce(sum(fund_pay_sumamt), 0)
               FROM setl_d_valid WHERE starts_with(insu_admdvs, ?) AND NOT starts_with(fix_blng_admdvs, ?)
               GROUP BY fixmedins_code ORDER BY 4 DESC, fixmedins_code""", [prefix, prefix]).fetchall()  # fmt: skip
    finally:
        con.close()
    sizes = sorted(r[3] for r in treat)
    median = sizes[len(sizes) // 2] if sizes else 0
    threshold = _threshold()
    rows = []
    for code, name, admdvs, n, out, persons, fund in treat:
        share = out / n if n else 0.0
        pharmacy = code.startswith("P")
        small = n <= median
        flag = ""
        if share >= threshold and pharmacy:
            flag = "cashing"
        elif share >= threshold and small:
            flag = "share"
        rows.append({"fixmedins_code": code, "fixmedins_name": name or "", "admdvs": admdvs or "", "settlements": n,
                     "out_settlements": out, "out_persons": persons, "out_fund": str(money(fund)),
                     "share": round(share, 4), "small": small, "flag": flag, "flag_zh": FLAGS_ZH[flag]})  # fmt: skip
    rows.sort(key=lambda r: (-bool(r["flag_zh"]), -r["share"], r["fixmedins_code"]))
    return {"threshold": threshold, "treatment": rows,
            "insurance": [{"fixmedins_code": c, "fixmedins_name": nm or "", "admdvs": a or "", "settlements": n,
                           "persons": p, "fund": str(money(f))} for c, nm, a, n, p, f in insured]}  # fmt: skip


def _insured_scope(actor: Actor) -> Any:
    """Links whose insurance region is the actor's (home region and region grants)."""
    return or_(
        *(CrossRegionLink.insu_admdvs.startswith(p, autoescape=True) for p in Scope.of(actor).prefixes)
    )


def _link_item(link: CrossRegionLink, clue: Clue, actor: Actor, side: str) -> dict[str, Any]:
    return {"id": link.id, "side": side, "side_zh": "就医地" if side == "treatment" else "参保地",
            "clue_id": clue.id, "rule_name": clue.rule_name, "fixmedins_code": clue.fixmedins_code,
            "fixmedins_name": clue.fixmedins_name, "admdvs": clue.admdvs, "period": clue.period,
            "status_zh": wf.FLAG_STATES.get(clue.status, clue.status), "insu_admdvs": link.insu_admdvs,
            "visits": link.visits, "persons": link.persons, "amount": str(money(link.amount)),
            "joint_status": link.joint_status, "joint_status_zh": JOINT_ZH.get(link.joint_status, link.joint_status),
            "joint_note": link.joint_note, "clue_visible": sees(actor, clue.admdvs, clue.fixmedins_code)}  # fmt: skip


def list_linked(session: Session, actor: Actor, side: str = "insurance", *, limit: int = 500) -> list[dict]:
    """``treatment``: clues in the actor's region concerning persons insured elsewhere; ``insurance``: clues in
    other regions concerning the actor's insured persons (only the link's own figures: visits, persons,
    amount of those persons — never the rest of the clue)."""
    actor.require(CROSSREGION_VIEW)
    if actor.role == "hospital" or side not in ("treatment", "insurance"):
        return []
    own = scope_filter(actor, Clue.admdvs, Clue.fixmedins_code)
    where = own if side == "treatment" else and_(_insured_scope(actor), not_(own))
    rows = session.execute(select(CrossRegionLink, Clue).join(Clue, Clue.id == CrossRegionLink.clue_id)
                           .where(where).order_by(CrossRegionLink.amount.desc(), CrossRegionLink.id)
                           .limit(limit)).all()  # fmt: skip
    return [_link_item(link, clue, actor, side) for link, clue in rows]


def summary(session: Session, actor: Actor, workspace: Path | None = None) -> dict[str, Any]:
    """异地就医 on the dashboard: linked clues on each duty and open joint requests; with the workspace, the
    settlements on each duty too — as the place of treatment, out-of-region settlements at the actor's
    institutions and the institutions flagged; as the place of insurance, the actor's insured persons' settlements
    elsewhere (each region its own duty, from the same figures as ``indicator``)."""
    figures = {"treatment_settlements": 0, "treatment_fund": "0.00", "treatment_flagged": 0,
               "insurance_settlements": 0, "insurance_persons": 0, "insurance_fund": "0.00"}  # fmt: skip
    if not actor.can(CROSSREGION_VIEW) or actor.role == "hospital":
        return {"treatment": 0, "insurance": 0, "joint_requested": 0, "amount": "0.00", **figures}
    if workspace is not None:
        ind = indicator(session, actor, workspace)
        figures = {
            "treatment_settlements": sum(r["out_settlements"] for r in ind["treatment"]),
            "treatment_fund": str(money(sum(Decimal(r["out_fund"]) for r in ind["treatment"]))),
            "treatment_flagged": sum(1 for r in ind["treatment"] if r["flag"]),
            "insurance_settlements": sum(r["settlements"] for r in ind["insurance"]),
            "insurance_persons": sum(r["persons"] for r in ind["insurance"]),
            "insurance_fund": str(money(sum(Decimal(r["fund"]) for r in ind["insurance"]))),
        }
    own = scope_filter(actor, Clue.admdvs, Clue.fixmedins_code)
    base = select(func.count(), func.coalesce(func.sum(CrossRegionLink.amount), 0)).join(
        Clue, Clue.id == CrossRegionLink.clue_id
    )
    t, amount = session.execute(base.where(own)).one()
    i = session.execute(base.where(_insured_scope(actor), not_(own))).one()[0]
    j = session.execute(base.where(own, CrossRegionLink.joint_status == "requested")).one()[0]
    return {
        "treatment": t,
        "insurance": i,
        "joint_requested": j,
        "amount": str(money(amount or 0)),
        **figures,
    }


def _load_link(session: Session, link_id: int) -> tuple[CrossRegionLink, Clue]:
    link = session.get(CrossRegionLink, int(link_id))
    if link is None:
        raise not_found("异地就医关联", "cross-region link", link_id)
    return link, session.get(Clue, link.clue_id)


def request_joint(session: Session, actor: Actor, link_id: int, note: str) -> dict:
    """The place of insurance asks the place of treatment for joint handling (联合办案) of a clue."""
    actor.require(CROSSREGION_VIEW)
    link, clue = _load_link(session, link_id)
    if actor.role not in wf.SUPERVISORS or not link.insu_admdvs.startswith(region_prefix(actor.admdvs)):
        raise not_found("异地就医关联", "cross-region link", link_id)  # not this region's insured: as missing
    if not (note or "").strip():
        raise ValidationFailed("请说明联合办案的请求事项", "say what the joint handling is for")
    if link.joint_status in ("requested", "accepted"):
        raise InvalidTransition("已发起联合办案", "joint handling was already requested")
    link.joint_status, link.joint_by, link.joint_note = "requested", actor.username, note.strip()
    record.append(session, actor.username, "crossregion.joint_request", "clue", clue.id,
                  {"link": link.id, "insu_admdvs": link.insu_admdvs, "note": link.joint_note})  # fmt: skip
    return _link_item(link, clue, actor, "insurance")


def answer_joint(session: Session, actor: Actor, link_id: int, accept: bool, note: str = "") -> dict:
    """The place of treatment (the clue's region) accepts or declines the joint handling."""
    actor.require(CROSSREGION_VIEW)
    link, clue = _load_link(session, link_id)
    if actor.role not in wf.SUPERVISORS or not sees(actor, clue.admdvs, clue.fixmedins_code):
        raise not_found("异地就医关联", "cross-region link", link_id)
    if link.joint_status != "requested":
        raise InvalidTransition("没有待答复的联合办案请求", "no joint request to answer")
    link.joint_status = "accepted" if accept else "declined"
    if note.strip():
        link.joint_note = f"{link.joint_note}\n答复：{note.strip()}"
    record.append(session, actor.username, "crossregion.joint_answer", "clue", clue.id,
                  {"link": link.id, "accepted": accept, "note": note.strip()})  # fmt: skip
    return _link_item(link, clue, actor, "treatment")
