"""The 医保支付资格记分 check of a real-time claim (issue 15, "wired into settlement"), added by the API layer to
the auditor's answer: the auditor's process has no service database, the API layer has.

The auditor's process hands back, per claim, the fee lines' doctors (``realtime_worker.staff_lines``); here
each is looked up on the line's day (``service.points``): at 事中 a line ordered (``bilg_dr_code``) or performed
(``acord_dr_code``) by someone suspended or terminated is an item whose amount is the line's — emergency and
rescue lines (``med_type`` 13/24, the province's ``exempt_medical_types``) settle, with a note of amount 0; at
事前 an ordering doctor at or above the warning level, or suspended, is a warning.

Disclosure: only the ordering doctor named on the institution's own claim and its own staff are looked up, and
the answer says only their status and its end date (事前: the year's points at the warning level) — never the
reason of a decision or another region's record.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from fundguard.service.models import ExternalQualification, PointRecord, Staff, StaffSite
from fundguard.service.points import check_lines, qualification_status
from fundguard.service.timing import today

RULE_REFUSE = ("PTS-001", "医保支付资格暂停或终止人员开具或执行的费用")
RULE_WARN = ("PTS-002", "开单医师医保支付资格记分预警")
BASIS = "《关于建立定点医药机构相关人员医保支付资格管理制度的指导意见》（医保发〔2024〕23号）"
ROLE_ZH = {"bilg_dr_code": "开单医师", "acord_dr_code": "执行医师"}
_FIELD_OF = {"开单医生": "bilg_dr_code", "受单医生": "acord_dr_code"}  # check_lines' roles


def service_day(text: str) -> dt.date:
    """The claim's service day from its date or timestamp text; today where it has none that reads."""
    try:
        return dt.date.fromisoformat(str(text or "")[:10])
    except ValueError:
        return today()


def line_money(v: Any) -> Decimal:
    """A line's amount in yuan to the fen; 0.00 where it is missing or not a number."""
    try:
        return Decimal(str(v or 0)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return Decimal("0.00")


def _who(role: str, name: str, code: str) -> str:
    return f"{role}{name[:1] + '某' if name else ''}（国家医保医师代码 {code}）"


def _standing(q: dict) -> str:
    if q["status"] == "terminated":
        return "医保支付资格已终止"
    return f"医保支付资格暂停至{q['until']}" if q["until"] else "医保支付资格暂停中"


def _item(
    claim: dict, rule: tuple[str, str], text: str, amount: Decimal, line: dict | None, kind: str
) -> dict:
    return {
        "rule_id": rule[0], "rule_name": rule[1], "evidence_zh": text, "amount": format(amount, "f"),
        "result_type": kind, "severity": "high" if amount else "low", "legal_basis": BASIS,
        "suggested_handling": "该费用不得纳入医保基金结算" if amount else "提醒医疗机构关注",
        "mdtrt_id": claim["mdtrt_id"], "psn_no": claim["psn_no"], "fixmedins_code": claim["fixmedins_code"],
        "hilist_code": line.get("hilist_code") if line else None,
        "bkkp_sn": [line["bkkp_sn"]] if line else [], "kp_id": None,
    }  # fmt: skip


def _flagged(session: Session, claim: dict) -> tuple[set[str], set[str]]:
    """(ordering, performing) doctors of the claim worth a look: with effective points or another region's
    record (the rest are in good standing: one query spares each the three of ``qualification_status``); a
    performing doctor only when the institution's own staff, main or practice site (disclosure)."""
    bilg = {ln["bilg_dr_code"] for ln in claim["lines"] if ln.get("bilg_dr_code")}
    acord = {ln["acord_dr_code"] for ln in claim["lines"] if ln.get("acord_dr_code")}
    if not bilg | acord:
        return set(), set()
    scored = select(Staff.national_code).where(
        Staff.national_code.in_(bilg | acord),
        exists().where(PointRecord.staff_id == Staff.id, PointRecord.status == "effective"),
    )
    known = select(ExternalQualification.national_code).where(
        ExternalQualification.national_code.in_(bilg | acord)
    )
    flagged = set(session.execute(scored.union(known)).scalars())
    if acord & flagged:
        here = or_(Staff.fixmedins_code == claim["fixmedins_code"], exists().where(
            StaffSite.staff_id == Staff.id, StaffSite.fixmedins_code == claim["fixmedins_code"]))  # fmt: skip
        acord = set(
            session.execute(
                select(Staff.national_code).where(Staff.national_code.in_(acord & flagged), here)
            ).scalars()
        )
    return bilg & flagged, acord & flagged


def staff_items(session: Session, claim: dict, stage: str) -> list[dict]:
    """The items of one claim (``realtime_worker.staff_lines``'s summary) at ``stage``, in the national form."""
    day, cache = service_day(claim["day"]), {}
    bilg, acord = _flagged(session, claim)
    if not bilg | acord:
        return []
    lines = [{**ln, "bilg_dr_code": ln["bilg_dr_code"] if ln["bilg_dr_code"] in bilg else "",
              "acord_dr_code": ln["acord_dr_code"] if ln["acord_dr_code"] in acord else ""}
             for ln in claim["lines"]]  # fmt: skip

    def status(code: str, on: dt.date) -> dict:
        if (code, on) not in cache:
            cache[code, on] = qualification_status(session, code, on)
        return cache[code, on]

    out = []
    if stage == "事前":
        for code in dict.fromkeys(ln["bilg_dr_code"] for ln in lines if ln.get("bilg_dr_code")):
            q = status(code, day)
            name = next(ln.get("bilg_dr_name") or "" for ln in lines if ln.get("bilg_dr_code") == code)
            who = _who("开单医师", name, code)
            if q["status"] in ("suspended", "terminated"):
                text = f"{who}{_standing(q)}，其开具的费用医保基金不予支付，请更换开单医师"
            elif q["warn"]:
                text = f"{who}本年度医保支付资格记分已达预警线（{q['points_year']} 分），请规范诊疗行为"
            else:
                continue
            out.append(_item(claim, RULE_WARN, text, Decimal("0.00"), None, "提醒"))
        return out
    for c in check_lines(session, lines, day):
        line, field = lines[c["index"]], _FIELD_OF[c["role_zh"]]
        name = line.get("bilg_dr_name") or "" if field == "bilg_dr_code" else ""
        q = status(c["national_code"], service_day(line.get("fee_ocur_time") or claim["day"]))
        who = _who(ROLE_ZH[field], name, c["national_code"])
        if c["pay"]:
            text = f"{who}{_standing(q)}；本次为急诊、抢救（医疗类别 {line.get('med_type')}），该费用照常结算"
            out.append(_item(claim, RULE_REFUSE, text, Decimal("0.00"), line, "提醒"))
        else:
            text = f"{who}{_standing(q)}，该费用医保基金不予支付"
            out.append(
                _item(claim, RULE_REFUSE, text, line_money(line.get("det_item_fee_sumamt")), line, "违规")
            )
    return out


def add_to_claim(out: dict, items: list[dict]) -> None:
    """Append ``items`` to a ``/claim`` answer (hits, count, total)."""
    out["hits"].extend(items)
    out["hit_count"] = len(out["hits"])
    out["amount_total"] = format(sum((Decimal(h["amount"]) for h in out["hits"]), Decimal("0.00")), "f")


def add_to_3101(out: dict, claim: dict, items: list[dict]) -> None:
    """Append ``items`` of one claim to a 3101 answer's ``output.result``, shaped as the auditor's entries."""
    result = out["output"]["result"]
    for n, h in enumerate(items, 1):
        jr = f"{h['mdtrt_id']}-{h['rule_id']}-{n}"
        result.append({
            "jr_id": jr, "rule_id": h["rule_id"], "rule_name": h["rule_name"], "vola_cont": h["evidence_zh"],
            "patn_id": claim["psn_no"], "mdtrt_id": h["mdtrt_id"], "vola_amt": h["amount"],
            "sev_deg": "1" if h["severity"] == "high" else "3", "sev_deg_name": "高" if h["severity"] == "high" else "低",
            "vola_bhvr_type": h["result_type"], "vola_evid": h["legal_basis"],
            "suggested_handling": h["suggested_handling"], "kp_id": None, "task_id": claim.get("task_id"),
            "judge_result_detail_dtos": [{"jr_detl_id": f"{jr}-1", "rx_id": sn, "hilist_code": h["hilist_code"]}
                                         for sn in h["bkkp_sn"]],
        })  # fmt: skip


def check(session: Session, route: str, out: dict, claims: list[dict], stage: str) -> int:
    """Add the points items of every claim to ``out`` (the route's answer), and the patient's 联网结算 item
    (``realtime_insured``); returns how many were added."""
    from fundguard.api.realtime_insured import insured_items  # the patient's 联网结算 (条例 Art. 41, credit)

    added = 0
    for claim in claims:
        items = staff_items(session, claim, stage) + insured_items(session, claim, stage)
        if route == "claim":
            add_to_claim(out, items)
        else:
            add_to_3101(out, claim, items)
        added += len(items)
    return added


__all__ = ["check", "staff_items"]
