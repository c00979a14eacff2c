"""``item_pair``: two items that must not both be charged (重复收费: item A includes item B)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, lit, money, rule_lines, source_note
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_where

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

WINDOWS = {
    "单次就诊": "TRUE",
    "单日": "s.fee_date = m.fee_date",
    "同一小时": "abs(epoch(s.fee_ocur_time) - epoch(m.fee_ocur_time)) < 3600",
    "6小时": "abs(epoch(s.fee_ocur_time) - epoch(m.fee_ocur_time)) < 21600",
}
"""频度 (the pair's time window) → SQL condition between main line ``m`` and sub line ``s``."""


class ItemPair(Template):
    """Item B (``sub_code``) billed in the same visit as item A (``main_code``) that already includes it,
    within the pair's 频度 window (单次就诊 / 单日 / 同一小时 / 6小时; unknown → ``default_window``).

    One hit per sub line, with the main line(s) and the sub line in ``bkkp_sn``; the money at issue is the
    sub line (``duplicate_line``) or its fund share (``fund_amount``).
    """

    name = "item_pair"
    title_zh = "项目重复收费（A含B仍同时收费）"
    knowledge_keys: ClassVar[dict[str, tuple[str, ...]]] = {"kb_duplicate_pairs": ("main_code", "sub_code")}
    knowledge = ("kb_duplicate_pairs",)
    knowledge_required = True
    amount_rules = ("duplicate_line", "fund_amount")
    params = (
        KP_FILTER,
        Param(
            "default_window",
            "str",
            "Window when the pair's 频度 is empty or unknown / 频度缺失或未识别时的时间窗",
            default="单日",
            choices=tuple(WINDOWS),
        ),
    )

    def sql(self, rule: Rule) -> str:
        cases = " ".join(f"WHEN {lit(f)} THEN {w}" for f, w in WINDOWS.items())
        window = f"CASE m.frequency {cases} ELSE {WINDOWS[rule.params['default_window']]} END"
        amount = amount_expr(rule, "s") if rule.amount_rule == "fund_amount" else "s.det_item_fee_sumamt"
        ev = (
            "'同次就诊中“' || any_value(m.hilist_name) || '”（' || any_value(m.main_code) || '）已包含“'"
            " || any_value(s.hilist_name) || '”（' || any_value(s.hilist_code) || '），'"
            " || COALESCE(any_value(m.frequency), '') || '内仍分别收费，重复收费' "
            f" || {money('any_value(' + amount + ')')} || '元'"
        )
        lines = rule_lines(rule)
        inner = f"""
WITH k AS (SELECT * FROM kb_duplicate_pairs k WHERE {kp_where(rule)}),
m AS (SELECT l.*, k.kp_id, k.main_code, k.sub_code, k.frequency FROM {lines} l JOIN k ON k.main_code = l.hilist_code),
s AS (SELECT * FROM {lines} l WHERE l.hilist_code IN (SELECT sub_code FROM k))
SELECT any_value(s.mdtrt_id) AS mdtrt_id, any_value(s.setl_id) AS setl_id, any_value(s.psn_no) AS psn_no,
       any_value(s.fixmedins_code) AS fixmedins_code,
       list_append(list(DISTINCT m.bkkp_sn ORDER BY m.bkkp_sn), s.bkkp_sn) AS bkkp_sn,
       s.hilist_code AS hilist_code, any_value({amount}) AS amount,
       {ev} || {source_note(rule)} AS evidence_zh, min(m.kp_id) AS kp_id
FROM m JOIN s ON s.mdtrt_id = m.mdtrt_id AND s.hilist_code = m.sub_code AND s.bkkp_sn <> m.bkkp_sn AND ({window})
GROUP BY s.bkkp_sn, s.hilist_code
"""
        return hits(rule, inner)
