"""``service_consumable``: a consumable billed beside a service item whose price already includes it
(class 30 医疗服务项目与医用耗材重复收费)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, lit, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, line_amount

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

RANK = {"high": 0, "medium": 1, "low": 2}
CONSUMABLE = "(COALESCE(l.list_type, '') = '301' OR COALESCE(l.med_chrgitm_type, '') = '08')"
"""A consumable line: 目录类别 医用耗材 or 收费类别 卫生材料费."""


def _is_consumable(ln: Row) -> bool:
    return ln["list_type"] == "301" or ln["med_chrgitm_type"] == "08"


def _is_service(ln: Row, k: Row) -> bool:
    """The line is the fact's service item (and not a consumable itself)."""
    if _is_consumable(ln):
        return False
    name, code = ln["hilist_name"] or "", ln["hilist_code"] or ""
    pre = k["service_code_prefix"]
    return k["service_name"] in name or (pre != "" and code.startswith(pre))


class ServiceConsumable(Template):
    """A consumable line (``list_type`` 301 or ``med_chrgitm_type`` 08) whose name contains a fact's
    ``consumable_name``, billed in the same visit — on the same day when the fact's ``window`` is 单日 — as a
    service line of that fact (name contains ``service_name`` or code starts with ``service_code_prefix``),
    whose price already includes it (``kb_service_consumables``: 《全国医疗服务价格项目规范》项目内涵, facts at or
    above ``min_confidence``). Provinces may list the consumable as 除外内容, so the national rule says 可疑 and a
    bureau corrects the table with its override file.

    One hit per consumable line, with the service line(s) and the consumable in ``bkkp_sn``; the money at
    issue is the consumable line (``line_amount``) or its fund share (``fund_amount``).
    """

    name = "service_consumable"
    title_zh = "医疗服务项目与医用耗材重复收费"
    knowledge = ("kb_service_consumables",)
    knowledge_required = True
    knowledge_by_code = False  # matched by names and code prefixes, not by billed codes
    knowledge_keys: ClassVar[dict[str, tuple[str, ...]]] = {"kb_service_consumables": ("fact_id",)}
    params = (
        Param(
            "min_confidence",
            "str",
            "Least confidence of the facts used / 采用知识的最低置信度",
            default="medium",
            choices=tuple(RANK),
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "pair": Evidence(
            "“{service}”{day:date}计费，其项目内涵已含“{consumable}”（{note}），同次就诊另收耗材“{hilist_name}”"
            "{amount:money}元"
        )
    }

    def _facts(self, rule: Rule) -> str:
        ok = [c for c, r in RANK.items() if r <= RANK[rule.params["min_confidence"]]]
        return f"(SELECT * FROM kb_service_consumables WHERE confidence IN ({', '.join(lit(c) for c in ok)}))"

    def sql(self, rule: Rule) -> str:
        lines = rule_lines(rule)
        ev = self.evidence["pair"].sql(rule, {
            "service": "arg_min(m.hilist_name, m.fact_id || m.bkkp_sn)", "day": "s.fee_date",
            "consumable": "arg_min(m.consumable_name, m.fact_id)", "note": "arg_min(m.note, m.fact_id)",
            "hilist_name": "s.hilist_name", "amount": f"any_value({amount_expr(rule, 's')})",
        })  # fmt: skip
        inner = f"""
WITH k AS {self._facts(rule)},
s AS (SELECT l.* FROM {lines} l WHERE {CONSUMABLE}),
m AS (
    SELECT l.bkkp_sn, l.mdtrt_id, l.fee_date, l.hilist_name, k.fact_id, k.consumable_name, k.note, k.window
    FROM {lines} l JOIN k ON contains(COALESCE(l.hilist_name, ''), k.service_name)
         OR (k.service_code_prefix <> '' AND starts_with(COALESCE(l.hilist_code, ''), k.service_code_prefix))
    WHERE NOT {CONSUMABLE}
      AND l.mdtrt_id IN (SELECT mdtrt_id FROM s)
)
SELECT any_value(s.mdtrt_id) AS mdtrt_id, any_value(s.setl_id) AS setl_id, any_value(s.psn_no) AS psn_no,
       any_value(s.fixmedins_code) AS fixmedins_code,
       list_append(list(DISTINCT m.bkkp_sn ORDER BY m.bkkp_sn), s.bkkp_sn) AS bkkp_sn,
       any_value(s.hilist_code) AS hilist_code, any_value({amount_expr(rule, "s")}) AS amount,
       {ev} AS evidence_zh, min(m.fact_id) AS kp_id
FROM s JOIN m ON m.mdtrt_id = s.mdtrt_id AND m.bkkp_sn <> s.bkkp_sn
     AND contains(COALESCE(s.hilist_name, ''), m.consumable_name)
     AND (m.window <> '单日' OR m.fee_date = s.fee_date)
GROUP BY s.bkkp_sn, s.fee_date, s.hilist_name
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        limit = RANK[rule.params["min_confidence"]]
        facts = [
            k for rows in claim.knowledge("kb_service_consumables").values() for k in rows
            if RANK.get(k["confidence"], 9) <= limit
        ]  # fmt: skip
        lines = claim.lines_of(rule)
        supplies = [ln for ln in lines if _is_consumable(ln)]
        if not facts or not supplies:
            return []
        services = [(ln, k) for ln in lines for k in facts if _is_service(ln, k)]
        out = []
        for s in supplies:
            name = s["hilist_name"] or ""
            ms = [
                (m, k) for m, k in services
                if m["mdtrt_id"] == s["mdtrt_id"] and m["bkkp_sn"] != s["bkkp_sn"]
                and k["consumable_name"] in name
                and (k["window"] != "单日" or (s["fee_date"] is not None and m["fee_date"] == s["fee_date"]))
            ]  # fmt: skip
            if not ms:
                continue
            first = min(ms, key=lambda mk: mk[1]["fact_id"])[1]
            service = min(ms, key=lambda mk: mk[1]["fact_id"] + mk[0]["bkkp_sn"])[0]
            amount = line_amount(rule, s)
            vals = {
                "service": service["hilist_name"], "day": s["fee_date"], "consumable": first["consumable_name"],
                "note": first["note"], "hilist_name": s["hilist_name"], "amount": amount,
            }  # fmt: skip
            sns = sorted({m["bkkp_sn"] for m, _ in ms})
            out.append(hit(rule, s, [*sns, s["bkkp_sn"]], amount, self.evidence["pair"].render(rule, vals),
                           hilist_code=s["hilist_code"], kp_id=min(k["fact_id"] for _, k in ms)))  # fmt: skip
        return out
