"""``catalogue_scope``: money the fund must not pay — 丙类 / out-of-catalogue items, herbal pieces not paid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import amount_expr, hits, money, rule_lines, source_note
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_where

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

    def sql(self, rule: Rule) -> str:
        amount = amount_expr(rule, "l")
        if rule.params["mode"] == "class_c":
            cond = "l.chrgitm_lv = '03'"
            if rule.params["out_of_catalogue"]:
                cond = f"({cond} OR NOT l.in_catalogue)"
            inner = f"""
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount} AS amount,
       '“' || l.hilist_name || '”（' || l.hilist_code || '）为'
         || CASE WHEN l.chrgitm_lv = '03' THEN '丙类（目录外）项目' ELSE '医保目录外项目' END
         || '，仍有' || {money("l.inscp_amt")} || '元纳入基金结算范围' || {source_note(rule)} AS evidence_zh,
       CAST(NULL AS VARCHAR) AS kp_id
FROM {rule_lines(rule)} l
WHERE l.inscp_amt > 0 AND {cond}
"""
            return hits(rule, inner)
        inner = f"""
WITH k AS (SELECT code, min(kp_id) AS kp_id, bool_or(not_paid_when = '单复方') AS always
           FROM kb_tcm_herbs_not_paid k WHERE {kp_where(rule)} GROUP BY code),
herbs AS (
    SELECT l.*, count(DISTINCT l.hilist_code) OVER (PARTITION BY l.mdtrt_id, l.rx_drord_no) AS n_herbs
    FROM {rule_lines(rule)} l WHERE l.list_type = '102'
)
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       {amount} AS amount,
       '中药饮片“' || l.hilist_name || '”'
         || CASE WHEN k.always THEN '单方、复方均不予支付' ELSE '单方使用不予支付，本次为单方使用' END
         || '，仍由基金支付（符合范围金额' || {money("l.inscp_amt")} || '元）' || {source_note(rule)} AS evidence_zh,
       k.kp_id
FROM herbs l JOIN k ON k.code = l.hilist_code
WHERE l.inscp_amt > 0 AND (k.always OR l.tcmdrug_used_way = '2'
      OR (COALESCE(l.tcmdrug_used_way, '') = '' AND l.n_herbs = 1))
"""
        return hits(rule, inner)
