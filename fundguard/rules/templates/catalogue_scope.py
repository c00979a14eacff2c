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
    says 单复方 (never paid) or 单方 (not paid when used alone). Per the catalogue's 凡例 a 单方 piece is not
    paid when its prescription (``rx_drord_no``) is made up entirely of pieces the table lists — itself
    alone, or only such pieces — whatever way the line codes. Without a prescription number the visit's
    herbal lines stand for it and the coded way is the hint: ``tcmdrug_used_way = '2'`` (单方) is not paid,
    ``'1'`` (复方) is, and an uncoded line is judged by the visit's pieces.
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
    _WHY_SQL = (
        "CASE WHEN k.always THEN '单方、复方均不予支付' WHEN l.n_herbs = 1 THEN '单方使用不予支付，本次为单方使用' "
        "WHEN l.n_paid = 0 THEN '单方使用不予支付，本处方全部由单独使用不予支付的饮片组成' "
        "ELSE '单方使用不予支付，本次标注为单方使用' END"
    )

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
listed AS (SELECT DISTINCT code FROM kb_tcm_herbs_not_paid),
h AS (SELECT l.*, COALESCE(l.rx_drord_no, '') AS rx FROM {rule_lines(rule)} l WHERE l.list_type = '102'),
rx AS (
    SELECT h.mdtrt_id, h.rx, count(DISTINCT h.hilist_code) AS n_herbs,
           count(DISTINCT CASE WHEN a.code IS NULL THEN h.hilist_code END) AS n_paid
    FROM h LEFT JOIN listed a ON a.code = h.hilist_code GROUP BY h.mdtrt_id, h.rx
),
herbs AS (SELECT h.*, rx.n_herbs, rx.n_paid FROM h JOIN rx ON rx.mdtrt_id = h.mdtrt_id AND rx.rx = h.rx)
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount} AS amount, {ev} AS evidence_zh, k.kp_id
FROM herbs l JOIN k ON k.code = l.hilist_code
WHERE l.inscp_amt > 0 AND (k.always OR (l.rx <> '' AND l.n_paid = 0)
      OR (l.rx = '' AND (l.tcmdrug_used_way = '2' OR (COALESCE(l.tcmdrug_used_way, '') = '' AND l.n_paid = 0))))
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
        listed = claim.knowledge("kb_tcm_herbs_not_paid")
        herbs = [ln for ln in lines if ln["list_type"] == "102"]
        per_rx: dict = {}
        for ln in herbs:
            per_rx.setdefault((ln["mdtrt_id"], ln["rx_drord_no"] or ""), set()).add(ln["hilist_code"])
        ev = self.evidence["herbs"]
        for ln in herbs:
            ks = index.get(ln["hilist_code"])
            if not ks or not (ln["inscp_amt"] or 0) > 0:
                continue
            always = any(k["not_paid_when"] == "单复方" for k in ks)
            way, rx = ln["tcmdrug_used_way"], ln["rx_drord_no"] or ""
            codes = per_rx[(ln["mdtrt_id"], rx)] - {None}
            n_paid = sum(1 for c in codes if c not in listed)
            # a prescription judged by its contents; without one the coded way is the hint
            judged = n_paid == 0 if rx else (way == "2" or ((way or "") == "" and n_paid == 0))
            if not (always or judged):
                continue
            if always:
                why = "单方、复方均不予支付"
            elif len(codes) == 1:
                why = "单方使用不予支付，本次为单方使用"
            elif n_paid == 0:
                why = "单方使用不予支付，本处方全部由单独使用不予支付的饮片组成"
            else:
                why = "单方使用不予支付，本次标注为单方使用"
            vals = {"hilist_name": ln["hilist_name"], "why": why, "fund": ln["inscp_amt"]}
            out.append(hit(rule, ln, [ln["bkkp_sn"]], line_amount(rule, ln), ev.render(rule, vals),
                           hilist_code=ln["hilist_code"], kp_id=min(k["kp_id"] for k in ks)))  # fmt: skip
        return out
