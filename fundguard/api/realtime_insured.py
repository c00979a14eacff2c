"""The insured person's 联网结算 check of a real-time claim (issue 15, 条例 Art. 41): while the person's direct
settlement is suspended (a decided Art. 41 case's months, or the credit scheme's insured measures:
``service.credit.insured``), 事中 refuses the claim's fund share — the person pays in full and claims back by
hand — and 事前 warns the hospital. No emergency exemption: the 条例 suspends settlement, not care, and the
person is reimbursed afterwards where the rules allow.

Disclosure: the hospital learns only that its own patient's direct settlement is suspended and until when —
never the case, the grade or the listing behind it.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from fundguard.api.realtime_points import line_money, service_day
from fundguard.service import credit
from fundguard.service.credit.insured import settlement_standing
from fundguard.service.models import BlacklistEntry, Case, CreditGrade

RULE = ("CRD-001", "参保人员医疗费用联网结算暂停")
BASIS = "《医疗保障基金使用监督管理条例》第四十一条"


def _on_file(session: Session, psn_no: str) -> bool:
    """One cheap query first: most patients have no credit file, decided case or listing at all."""
    return bool(session.execute(select(or_(
        exists().where(CreditGrade.subject_type == "insured", CreditGrade.subject_id == psn_no),
        exists().where(BlacklistEntry.subject_type == "insured", BlacklistEntry.subject_id == psn_no),
        exists().where(Case.party_type == "individual", Case.party_id == psn_no)))).scalar())  # fmt: skip


def insured_items(session: Session, claim: dict, stage: str) -> list[dict]:
    """The claim's item when its patient's 联网结算 is suspended on the visit day (national form), else none."""
    psn_no = str(claim.get("psn_no") or "")
    if not psn_no or not _on_file(session, psn_no):
        return []
    standing = settlement_standing(session, credit.scheme(), psn_no, service_day(claim.get("day", "")))
    if not standing["suspended"]:
        return []
    before = stage == "事前"
    amount = Decimal("0.00") if before else sum((line_money(ln.get("det_item_fee_sumamt")) for ln in claim["lines"]),
                                                Decimal("0.00"))  # fmt: skip
    text = (f"参保人医疗费用联网结算暂停至 {standing['until']}（不含），"
            + ("请告知参保人本次就医须全额垫付" if before else "本次费用不予联网结算：请参保人全额垫付后按规定手工报销"))  # fmt: skip
    return [{
        "rule_id": RULE[0], "rule_name": RULE[1], "evidence_zh": text, "amount": format(amount, "f"),
        "result_type": "提醒" if before else "违规", "severity": "low" if before else "high", "legal_basis": BASIS,
        "suggested_handling": "提醒医疗机构告知参保人" if before else "该次费用不得联网结算",
        "mdtrt_id": claim["mdtrt_id"], "psn_no": psn_no, "fixmedins_code": claim["fixmedins_code"],
        "hilist_code": None, "bkkp_sn": [str(ln["bkkp_sn"]) for ln in claim["lines"] if ln.get("bkkp_sn")],
        "kp_id": None,
    }]  # fmt: skip
