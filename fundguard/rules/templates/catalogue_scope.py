"""``catalogue_scope``: money the fund must not pay — 丙类 / out-of-catalogue items, herbal pieces not paid."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_index, kp_where, line_amount

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class CatalogueScope(Template):
    """A line with a fund share (``inscp_amt > 0``) that the fund must not pay.

    ``mode: class_c`` — a 丙类 item (``chrgitm_lv = '03'``) or, with ``out_of_catalogue``, a code absent from
    ``hilist_b``. ``mode: herbs`` (knowledge ``kb_tcm_herbs_not_paid``) — a herbal piece whose knowledge row
    says 单复方 (never paid) or 单方 (not paid when used alone: ``tcmdrug_used_way = '2'``, or, when the way
    is missing, the only herbal piece of its prescription).
    """

    name = "catalogue_scope"
    title_zh = "目录外/丙类费用或不予支付的中药饮片纳入基金结算"
    knowledge = ("kb_tcm_herbs_not_paid",)
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)

    def gated(self, rule: Rule) -> bool:
        return rule.params["mode"] == "herbs" and bool(rule.knowledge)

    params = (
        Param("mode", "str", "What to check / 检查内容", required=True, choices=("class_c", "herbs")),
        Param(
            "out_of_catalogue",
            "bool",
            "class_c: also flag codes absent from hilist_b (needs a loaded catalogue) / 同时检查目录外编码",
            default=False,
        ),
        KP_FILTER,
    )

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        if rule.params["mode"] == "herbs" and rule.knowledge != "kb_tcm_herbs_not_paid":
            return [
                ("knowledge", "mode herbs needs kb_tcm_herbs_not_paid / 须使用知识表 kb_tcm_herbs_not_paid")
            ]
        if rule.params["mode"] == "class_c" and rule.knowledge:
            return [("knowledge", "mode class_c takes no knowledge table / class_c 模式不使用知识表")]
        return []

    evidence: ClassVar[dict[str, Evidence]] = {
        "class_c": Evidence("“{hilist_name}”（{hilist_code}）为{kind}，仍有{fund:money}元纳入基金结算范围"),
        "herbs": Evidence("中药饮片“{hilist_name}”{why}，仍由基金支付（符合范围金额{fund:money}元）"),
    }
    _KIND_SQL = "CASE WHEN l.chrgitm_lv = '03' THEN '丙类（目录外）项目' ELSE '医保目录外项目' END"
    _WHY_SQL = "CASE WHEN k.always THEN '单方、复方均不予支付' ELSE '单方使用不予支付，本次为单方使用' END"

    def sql(self, rule: Rule) -> str:
        amount = amount_expr(rule, "l")
        if rule.params["mode"] == "class_c":
            cond = "l.chrgitm_lv = '03'"
            if rule.params["out_of_catalogue"]:
                cond = f"({cond} OR NOT l.in_catalogue)"
            ev = self.evidence["class_c"].sql(
                rule, {"hilist_name": "l.hilist_name", "hilist_code": "l.hilist_code", "kind": self._KIND_SQL,
                       "fund": "l.inscp_amt"}
            )  # fmt: skip
            inner = f"""
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount} AS amount, {ev} AS evidence_zh, CAST(NULL AS VARCHAR) AS kp_id
FROM {rule_lines(rule)} l
WHERE l.inscp_amt > 0 AND {cond}
"""
            return hits(rule, inner)
        ev = self.evidence["herbs"].sql(
            rule, {"hilist_name": "l.hilist_name", "why": self._WHY_SQL, "fund": "l.inscp_amt"}
        )
        inner = f"""
WITH k AS (SELECT code, min(kp_id) AS kp_id, bool_or(not_paid_when = '单复方') AS always
           FROM kb_tcm_herbs_not_paid k WHERE {kp_where(rule)} GROUP BY code),
herbs AS (
    SELECT l.*, count(DISTINCT l.hilist_code) OVER (PARTITION BY l.mdtrt_id, l.rx_drord_no) AS n_herbs
    FROM {rule_lines(rule)} l WHERE l.list_type = '102'
)
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount} AS amount, {ev} AS evidence_zh, k.kp_id
FROM herbs l JOIN k ON k.code = l.hilist_code
WHERE l.inscp_amt > 0 AND (k.always OR l.tcmdrug_used_way = '2'
      OR (COALESCE(l.tcmdrug_used_way, '') = '' AND l.n_herbs = 1))
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        lines = claim.lines_of(rule)
        out = []
        if rule.params["mode"] == "class_c":
            ev = self.evidence["class_c"]
            for ln in lines:
                if not (ln["inscp_amt"] or 0) > 0:
                    continue
                c3 = ln["chrgitm_lv"] == "03"
                if not (c3 or (rule.params["out_of_catalogue"] and not ln["in_catalogue"])):
                    continue
                kind = "丙类（目录外）项目" if c3 else "医保目录外项目"
                vals = {"hilist_name": ln["hilist_name"], "hilist_code": ln["hilist_code"], "kind": kind,
                        "fund": ln["inscp_amt"]}  # fmt: skip
                out.append(hit(rule, ln, [ln["bkkp_sn"]], line_amount(rule, ln), ev.render(rule, vals),
                               hilist_code=ln["hilist_code"]))  # fmt: skip
            return out
        index = kp_index(rule, claim, "kb_tcm_herbs_not_paid")
        herbs = [ln for ln in lines if ln["list_type"] == "102"]
        per_rx: dict = {}
        for ln in herbs:
            per_rx.setdefault((ln["mdtrt_id"], ln["rx_drord_no"]), set()).add(ln["hilist_code"])
        ev = self.evidence["herbs"]
        for ln in herbs:
            ks = index.get(ln["hilist_code"])
            if not ks or not (ln["inscp_amt"] or 0) > 0:
                continue
            always = any(k["not_paid_when"] == "单复方" for k in ks)
            way = ln["tcmdrug_used_way"]
            alone = (way or "") == "" and len(per_rx[(ln["mdtrt_id"], ln["rx_drord_no"])] - {None}) == 1
            if not (always or way == "2" or alone):
                continue
            why = "单方、复方均不予支付" if always else "单方使用不予支付，本次为单方使用"
            vals = {"hilist_name": ln["hilist_name"], "why": why, "fund": ln["inscp_amt"]}
            out.append(hit(rule, ln, [ln["bkkp_sn"]], line_amount(rule, ln), ev.render(rule, vals),
                           hilist_code=ln["hilist_code"], kp_id=min(k["kp_id"] for k in ks)))  # fmt: skip
        return out
