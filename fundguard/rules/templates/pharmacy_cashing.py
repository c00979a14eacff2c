"""``pharmacy_cashing``: one person's repeated purchases at retail pharmacies within a short window
(反复整额购药 → 刷卡套现; 频繁购药)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, in_list, lit, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, line_amount

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class PharmacyCashing(Template):
    """One person's purchases at retail pharmacies (med_type 41, or an institution of
    ``institution_types``): at least ``min_count`` purchases starting within ``window_days`` days.

    A purchase is one settlement visit (``mdtrt_id``); with ``same_item`` only its lines of one item count
    and the purchases are grouped per item, with ``same_institution`` per pharmacy. With ``round_unit`` > 0
    only purchases whose total is a whole multiple of it (and ≥ ``min_amount``) count: repeated round
    totals of the same drug are the 刷卡套现 / 串换日用品 pattern. With ``round_unit: 0`` and neither grouping
    it is 频繁购药. One hit per person (× pharmacy × item), listing every purchase line in a qualifying
    window; the money at issue is those lines' amount (``line_amount``) or fund share (``fund_amount``).
    """

    name = "pharmacy_cashing"
    title_zh = "药店反复整额购药（刷卡套现）/ 频繁购药"
    params = (
        Param("min_count", "int", "Purchases needed within the window / 时间窗内购药次数阈值", default=3),
        Param("window_days", "int", "Window length in days / 时间窗（天）", default=30),
        Param("same_item", "bool", "Count purchases of one item only / 仅计同一药品", default=True),
        Param(
            "same_institution", "bool", "Count purchases at one pharmacy only / 仅计同一药店", default=True
        ),
        Param(
            "round_unit",
            "float",
            "Only purchases whose total is a multiple of this (0: any) / 仅计金额为其整数倍的购药（0为不限）",
            default=100,
        ),
        Param("min_amount", "float", "Only purchases of at least this total / 单次金额下限", default=100),
        Param(
            "institution_types",
            "str_list",
            "fixmedins_type codes counted as retail pharmacies / 视为零售药店的机构类型",
            default=["2"],
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "cashing": Evidence(
            "同一参保人{days}日内{where}{purchases}次购买{item}（阈值{min_count}次，{first:date}至{last:date}，"
            "合计{total:money}元）{pattern}，涉及金额{amount:money}元"
        )
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p = rule.params
        out = []
        if p["min_count"] < 2:
            out.append(("params.min_count", "must be ≥ 2 / 须≥2"))
        if p["window_days"] < 1:
            out.append(("params.window_days", "must be ≥ 1 / 须≥1"))
        if p["round_unit"] < 0 or p["min_amount"] < 0:
            out.append(("params.round_unit", "must be ≥ 0 / 不得为负"))
        return out

    def sql(self, rule: Rule) -> str:
        p = rule.params
        key = (
            ["psn_no"]
            + (["fixmedins_code"] if p["same_institution"] else [])
            + (["hilist_code"] if p["same_item"] else [])
        )
        kcols = ", ".join(key)
        join = " AND ".join(f"b.{k} = a.{k}" for k in key)
        unit = float(p["round_unit"])
        cond = [f"total >= {float(p['min_amount'])}"]
        if unit > 0:
            cond.append(f"CAST(round(total * 100) AS BIGINT) % {round(unit * 100)} = 0")
        pharm = self.batch_history_where(rule)
        days = int(p["window_days"])
        item = "'“' || min(f.hilist_name) || '”'" if p["same_item"] else "'药品'"
        where = "在同一药店" if p["same_institution"] else "在定点零售药店"
        round_zh = _round_zh(unit)
        ev = self.evidence["cashing"].sql(rule, {
            "days": str(days), "where": lit(where), "purchases": "count(DISTINCT f.mdtrt_id)", "item": item,
            "min_count": str(int(p["min_count"])), "first": "min(f.t)", "last": "max(f.t)",
            "total": "sum(f.line_total)", "pattern": lit(round_zh), "amount": "sum(f.amount)",
        })  # fmt: skip
        inner = f"""
WITH l AS (
    SELECT l.*, {amount_expr(rule, "l")} AS amount FROM {rule_lines(rule)} l WHERE {pharm}
),
buy AS (
    SELECT {kcols}, mdtrt_id, min(fee_ocur_time) AS t, sum(det_item_fee_sumamt) AS total
    FROM l GROUP BY {kcols}, mdtrt_id
),
buy_ok AS (SELECT * FROM buy WHERE {" AND ".join(cond)}),
start AS (
    SELECT a.{", a.".join(key)}, a.mdtrt_id, a.t
    FROM buy_ok a JOIN buy_ok b ON {join}
      AND b.t >= a.t AND b.t < a.t + INTERVAL ({days}) DAY
    GROUP BY ALL HAVING count(DISTINCT b.mdtrt_id) >= {int(p["min_count"])}
),
flagged AS (
    SELECT DISTINCT b.{", b.".join(key)}, b.mdtrt_id
    FROM start a JOIN buy_ok b ON {join}
      AND b.t >= a.t AND b.t < a.t + INTERVAL ({days}) DAY
),
f AS (
    SELECT l.*, l.fee_ocur_time AS t, l.det_item_fee_sumamt AS line_total
    FROM l SEMI JOIN flagged x USING ({kcols}, mdtrt_id)
)
SELECT arg_min(f.mdtrt_id, f.t) AS mdtrt_id, arg_min(f.setl_id, f.t) AS setl_id, f.psn_no,
       {"f.fixmedins_code" if p["same_institution"] else "arg_min(f.fixmedins_code, f.t)"} AS fixmedins_code,
       list(f.bkkp_sn ORDER BY f.t, f.bkkp_sn) AS bkkp_sn,
       {"f.hilist_code" if p["same_item"] else "CAST(NULL AS VARCHAR)"} AS hilist_code,
       sum(f.amount) AS amount, {ev} AS evidence_zh, CAST(NULL AS VARCHAR) AS kp_id
FROM f GROUP BY {", ".join("f." + k for k in key)}
"""
        return hits(rule, inner)

    # --- real time ----------------------------------------------------------------------------------------
    history_columns = (
        "bkkp_sn", "mdtrt_id", "setl_id", "psn_no", "fixmedins_code", "hilist_code", "hilist_name",
        "fee_ocur_time", "fee_date", "det_item_fee_sumamt", "inscp_amt", "med_type", "scene",
    )  # fmt: skip

    def _pharmacy(self, rule: Rule) -> Callable[[Row, Callable], bool]:
        types = set(rule.params["institution_types"])

        def is_pharmacy(ln: Row, institution: Callable) -> bool:
            if ln["med_type"] == "41":
                return True
            ins = institution(ln["fixmedins_code"]) if types else None
            return bool(ins and ins["fixmedins_types"] & types)

        return is_pharmacy

    def keeps_history(self, rule: Rule) -> Callable[[Row, Callable], bool] | None:
        return self._pharmacy(rule)

    def history_days(self, rule: Rule) -> int | None:
        # A claim sent in real time is the person's newest purchase: it is a series' first flagged purchase
        # only when the purchases that flag it share its time, and any earlier qualifying purchase within the
        # window is flagged too (and comes first). So the window alone decides a new claim's hit; the one
        # thing beyond it, a series flagged long before with a gap of a whole window since, is not kept
        # (replays of old visits keep the whole history: ``RealtimeAuditor(history_since=date.min)``).
        return int(rule.params["window_days"])

    def batch_history_where(self, rule: Rule) -> str:
        """The purchases at pharmacies (``_pharmacy`` in SQL): the only lines the rule reads."""
        pharm = "l.med_type = '41'"
        if rule.params["institution_types"]:
            pharm += f""" OR l.fixmedins_code IN (SELECT fixmedins_code FROM medins_info_b_valid
                            WHERE fixmedins_type IN {in_list(rule.params["institution_types"])})"""
        return pharm

    def batch_history_days(self, rule: Rule) -> int | None:
        # the batch hit gathers every flagged purchase of the person (and key) of all time into one row, so
        # a new month's purchase changes a hit whose lines reach back without limit
        return None

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        is_pharmacy = self._pharmacy(rule)
        lines = [ln for ln in claim.lines_of(rule) if is_pharmacy(ln, claim.institution)]
        if not lines:
            return []
        lines += [ln for ln in claim.lines_of(rule, claim.history) if is_pharmacy(ln, claim.institution)]
        key = (
            ["psn_no"]
            + (["fixmedins_code"] if p["same_institution"] else [])
            + (["hilist_code"] if p["same_item"] else [])
        )
        unit = float(p["round_unit"])
        cents = round(unit * 100)
        min_amount = Decimal(repr(float(p["min_amount"])))
        span = dt.timedelta(days=int(p["window_days"]))
        groups: dict[tuple, dict[str, list[Row]]] = {}
        for ln in lines:
            groups.setdefault(tuple(ln[k] for k in key), {}).setdefault(ln["mdtrt_id"], []).append(ln)
        out = []
        for buys in groups.values():
            ok = []
            for mdtrt_id, rows in buys.items():
                total = sum((ln["det_item_fee_sumamt"] for ln in rows), Decimal(0))
                whole = unit <= 0 or int((total * 100).to_integral_value(ROUND_HALF_UP)) % cents == 0
                if total >= min_amount and whole:
                    ok.append((min(ln["fee_ocur_time"] for ln in rows), mdtrt_id))
            flagged: set[str] = set()
            for t, _ in ok:
                inside = {m for b, m in ok if t <= b < t + span}
                if len(inside) >= p["min_count"]:
                    flagged |= inside
            if not flagged:
                continue
            f = sorted(
                (ln for m in flagged for ln in buys[m]), key=lambda ln: (ln["fee_ocur_time"], ln["bkkp_sn"])
            )
            if f[0]["mdtrt_id"] != claim.mdtrt_id:
                continue  # the batch reports the series at its first purchase
            amount = sum((line_amount(rule, ln) for ln in f), Decimal(0))
            names = [ln["hilist_name"] for ln in f if ln["hilist_name"] is not None]
            item = (f"“{min(names)}”" if names else None) if p["same_item"] else "药品"
            vals = {"days": int(p["window_days"]), "where": "在同一药店" if p["same_institution"] else "在定点零售药店",
                    "purchases": len(flagged), "item": item, "min_count": int(p["min_count"]),
                    "first": f[0]["fee_ocur_time"], "last": max(ln["fee_ocur_time"] for ln in f),
                    "total": sum((ln["det_item_fee_sumamt"] for ln in f), Decimal(0)), "pattern": _round_zh(unit),
                    "amount": amount}  # fmt: skip
            out.append(hit(rule, f[0], [ln["bkkp_sn"] for ln in f], amount, self.evidence["cashing"].render(rule, vals),
                           hilist_code=f[0]["hilist_code"] if p["same_item"] else None,
                           fixmedins_code=f[0]["fixmedins_code"]))  # fmt: skip
        return out


def _round_zh(unit: float) -> str:
    return (
        f"，每次金额均为{unit:g}元整数倍（疑似刷卡套现或以药品名义串换日用品）"
        if unit > 0
        else "（频繁购药）"
    )
