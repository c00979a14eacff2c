"""``item_pair``: two items that must not both be charged (重复收费: item A includes item B)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, lit, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import KP_FILTER, Param, Template, kp_index, kp_where, sql_min

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

WINDOWS = {
    "单次就诊": "TRUE",
    "单日": "s.fee_date = m.fee_date",
    "同一小时": "abs(epoch(s.fee_ocur_time) - epoch(m.fee_ocur_time)) < 3600",
    "6小时": "abs(epoch(s.fee_ocur_time) - epoch(m.fee_ocur_time)) < 21600",
}
"""频度 (the pair's time window) → SQL condition between main line ``m`` and sub line ``s``."""
_WINDOWS_PY = {
    "单次就诊": lambda m, s: True,
    "单日": lambda m, s: s["fee_date"] == m["fee_date"],
    "同一小时": lambda m, s: abs((s["fee_ocur_time"] - m["fee_ocur_time"]).total_seconds()) < 3600,
    "6小时": lambda m, s: abs((s["fee_ocur_time"] - m["fee_ocur_time"]).total_seconds()) < 21600,
}


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
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)
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

    evidence: ClassVar[dict[str, Evidence]] = {
        "pair": Evidence(
            "同次就诊中“{main_name}”（{main_code}）已包含“{sub_name}”（{sub_code}），{frequency}内仍分别收费，"
            "重复收费{amount:money}元"
        )
    }

    def sql(self, rule: Rule) -> str:
        cases = " ".join(f"WHEN {lit(f)} THEN {w}" for f, w in WINDOWS.items())
        window = f"CASE m.frequency {cases} ELSE {WINDOWS[rule.params['default_window']]} END"
        amount = amount_expr(rule, "s") if rule.amount_rule == "fund_amount" else "s.det_item_fee_sumamt"
        ev = self.evidence["pair"].sql(rule, {
            "main_name": "min(m.hilist_name)", "main_code": "min(m.main_code)", "sub_name": "min(s.hilist_name)",
            "sub_code": "s.hilist_code", "frequency": "COALESCE(min(m.frequency), '')",
            "amount": f"any_value({amount})",
        })  # fmt: skip
        lines = rule_lines(rule)
        inner = f"""
WITH k AS (SELECT * FROM kb_duplicate_pairs k WHERE {kp_where(rule)}),
m AS (SELECT l.*, k.kp_id, k.main_code, k.sub_code, k.frequency FROM {lines} l JOIN k ON k.main_code = l.hilist_code),
s AS (SELECT * FROM {lines} l WHERE l.hilist_code IN (SELECT sub_code FROM k))
SELECT any_value(s.mdtrt_id) AS mdtrt_id, any_value(s.setl_id) AS setl_id, any_value(s.psn_no) AS psn_no,
       any_value(s.fixmedins_code) AS fixmedins_code,
       list_append(list(DISTINCT m.bkkp_sn ORDER BY m.bkkp_sn), s.bkkp_sn) AS bkkp_sn,
       s.hilist_code AS hilist_code, any_value({amount}) AS amount,
       {ev} AS evidence_zh, min(m.kp_id) AS kp_id
FROM m JOIN s ON s.mdtrt_id = m.mdtrt_id AND s.hilist_code = m.sub_code AND s.bkkp_sn <> m.bkkp_sn AND ({window})
GROUP BY s.bkkp_sn, s.hilist_code
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        index = kp_index(rule, claim, "kb_duplicate_pairs")
        lines = claim.lines_of(rule)
        codes = {ln["hilist_code"] for ln in lines}
        pairs = [k for a in codes for b in codes for k in index.get((a, b), ())]
        if not pairs:
            return []
        default = _WINDOWS_PY[rule.params["default_window"]]
        by_code: dict[str, list] = {}
        for ln in lines:
            by_code.setdefault(ln["hilist_code"], []).append(ln)
        matches: dict[str, list[tuple]] = {}
        for k in pairs:
            within = _WINDOWS_PY.get(k["frequency"], default)
            for m in by_code[k["main_code"]]:
                for s in by_code[k["sub_code"]]:
                    if s["mdtrt_id"] == m["mdtrt_id"] and s["bkkp_sn"] != m["bkkp_sn"] and within(m, s):
                        matches.setdefault(s["bkkp_sn"], []).append((m, k, s))
        out = []
        for ms in matches.values():
            s = ms[0][2]
            amount = (s["inscp_amt"] or 0) if rule.amount_rule == "fund_amount" else s["det_item_fee_sumamt"]
            freqs = [k["frequency"] for _, k, _ in ms if k["frequency"] is not None]
            vals = {"main_name": sql_min(m["hilist_name"] for m, _, _ in ms), "main_code": min(k["main_code"] for _, k, _ in ms),
                    "sub_name": s["hilist_name"], "sub_code": s["hilist_code"],
                    "frequency": min(freqs) if freqs else "", "amount": amount}  # fmt: skip
            sns = sorted({m["bkkp_sn"] for m, _, _ in ms})
            out.append(hit(rule, s, [*sns, s["bkkp_sn"]], amount, self.evidence["pair"].render(rule, vals),
                           hilist_code=s["hilist_code"], kp_id=min(k["kp_id"] for _, k, _ in ms)))  # fmt: skip
        return out
