"""``overlapping_supply``: a drug prescribed again in another visit while the supply of an earlier
prescription of the same drug is far from used up (重复开药)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import hits, in_list, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class OverlappingSupply(Template):
    """A drug line (``prd_days`` > 0) of a person, when a line of the same drug in another, earlier visit
    (by time, then 记账流水号) within ``max_days`` days still has more than ``min_remaining_days`` days of
    supply left on its day (earlier date + its ``prd_days`` − this date). "The same drug" is the same first
    ``group_chars`` characters of the national code (10: 类别 + 分类 + 通用名, any form or maker; 0: the whole
    code). Which lines: ``med_chrgitm_types`` and/or ``list_types``.

    One hit per such line, with the overlapping earlier lines before it in ``bkkp_sn``; the evidence names
    the earlier line with the most supply left; money at issue: the line's amount × the overlapping days
    (at most its own supply) / its supply days.
    """

    name = "overlapping_supply"
    title_zh = "重复开药（前次开药用药周期未满再次开具同一药品）"
    amount_rules = ("excess_over_limit",)
    params = (
        Param("min_remaining_days", "float", "Supply left that is tolerated (early refills) / 允许的剩余用药天数", default=7.0),
        Param("max_days", "int", "How far back earlier prescriptions count / 回溯天数", default=90),
        Param("group_chars", "int", "Leading code characters naming one drug (0: whole code) / 视为同一药品的编码前几位", default=10),
        Param("med_chrgitm_types", "str_list", "Only these 医疗收费项目类别 codes / 仅限这些收费项目类别", default=[]),
        Param("list_types", "str_list", "Only these list_type codes / 仅限这些目录类别", default=[]),
    )  # fmt: skip

    evidence: ClassVar[dict[str, Evidence]] = {
        "overlap": Evidence(
            "“{hilist_name}”于{date:date}开具{prd:num}天用量，而{prev_date:date}另一次就诊（{prev_id}）开具的"
            "“{prev_name}”{prev_prd:num}天用量尚余{remain:num}天，重叠部分{excess:money}元"
        )
    }

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p = rule.params
        out = []
        if p["max_days"] < 1:
            out.append(("params.max_days", "must be ≥ 1 / 须不小于1"))
        if p["group_chars"] < 0:
            out.append(("params.group_chars", "must be ≥ 0 / 须不小于0"))
        return out

    def _grp_sql(self, rule: Rule, col: str) -> str:
        n = int(rule.params["group_chars"])
        return f"left({col}, {n})" if n else col

    def _grp(self, rule: Rule) -> Callable[[str | None], str | None]:
        n = int(rule.params["group_chars"])
        return (lambda c: c[:n] if c is not None else None) if n else (lambda c: c)

    def _passes(self, rule: Rule) -> Callable[[Row], bool]:
        p = rule.params
        items, types = set(p["med_chrgitm_types"]), set(p["list_types"])
        return lambda ln: (
            (ln["prd_days"] or 0) > 0
            and (not items or ln["med_chrgitm_type"] in items)
            and (not types or ln["list_type"] in types)
        )

    def sql(self, rule: Rule) -> str:
        p = rule.params
        cond = [self.batch_history_where(rule)]
        tol, back = float(p["min_remaining_days"]), int(p["max_days"])
        excess = "x.det_item_fee_sumamt * least(c.remain, x.prd_days) / x.prd_days"
        ev = self.evidence["overlap"].sql(rule, {
            "hilist_name": "x.hilist_name", "date": "x.fee_date", "prd": "x.prd_days", "prev_date": "c.ydate",
            "prev_id": "c.yid", "prev_name": "c.yname", "prev_prd": "c.yprd", "remain": "c.remain", "excess": excess,
        })  # fmt: skip
        inner = f"""
WITH x AS (SELECT l.*, {self._grp_sql(rule, "l.hilist_code")} AS grp FROM {rule_lines(rule)} l WHERE {" AND ".join(cond)}),
p AS (
    SELECT x.bkkp_sn AS sn, y.bkkp_sn AS ysn, y.fee_ocur_time AS yt, y.fee_date AS ydate, y.mdtrt_id AS yid,
           y.hilist_name AS yname, y.prd_days AS yprd, date_diff('day', x.fee_date, y.fee_date) + y.prd_days AS remain
    FROM x JOIN x AS y ON y.psn_no = x.psn_no AND y.grp = x.grp AND y.mdtrt_id <> x.mdtrt_id
        AND y.fee_date BETWEEN x.fee_date - {back} AND x.fee_date
        AND (y.fee_ocur_time < x.fee_ocur_time OR (y.fee_ocur_time = x.fee_ocur_time AND y.bkkp_sn < x.bkkp_sn))
    WHERE date_diff('day', x.fee_date, y.fee_date) + y.prd_days > {tol}
),
ys AS (SELECT sn, list(ysn ORDER BY yt, ysn) AS ysns FROM p GROUP BY sn),
best AS (SELECT * FROM (SELECT p.*, row_number() OVER (PARTITION BY sn ORDER BY remain DESC, yt, ysn) AS k FROM p) q
      WHERE q.k = 1)
SELECT x.mdtrt_id, x.setl_id, x.psn_no, x.fixmedins_code, list_append(l.ysns, x.bkkp_sn) AS bkkp_sn,
       x.hilist_code, {excess} AS amount, {ev} AS evidence_zh, NULL AS kp_id
FROM best c JOIN x ON x.bkkp_sn = c.sn JOIN ys l ON l.sn = c.sn
"""
        return hits(rule, inner)

    # --- real time -----------------------------------------------------------------------------------------
    history_columns = (
        "bkkp_sn", "mdtrt_id", "psn_no", "hilist_code", "hilist_name", "fee_ocur_time", "fee_date", "prd_days",
        "list_type", "med_chrgitm_type", "scene",
    )  # fmt: skip

    def batch_history_where(self, rule: Rule) -> str:
        """The supplies it compares (``_passes`` in SQL): the only lines the rule reads."""
        p = rule.params
        cond = ["l.prd_days > 0"]
        if p["med_chrgitm_types"]:
            cond.append(f"l.med_chrgitm_type IN {in_list(p['med_chrgitm_types'])}")
        if p["list_types"]:
            cond.append(f"l.list_type IN {in_list(p['list_types'])}")
        return " AND ".join(cond)

    def keeps_history(self, rule: Rule) -> Callable[[Row, Callable], bool] | None:
        passes = self._passes(rule)
        return lambda ln, institution: passes(ln)

    def history_days(self, rule: Rule) -> int | None:
        return int(rule.params["max_days"])

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        passes, grp = self._passes(rule), self._grp(rule)
        tol, back = float(p["min_remaining_days"]), int(p["max_days"])
        lines = [ln for ln in claim.lines_of(rule) if passes(ln)]
        if not lines:
            return []
        pool = [ln for ln in claim.lines_of(rule, claim.history) if passes(ln)] + lines
        out = []
        for x in lines:
            g, lo = grp(x["hilist_code"]), x["fee_date"] - dt.timedelta(days=back)
            xk = (x["fee_ocur_time"], x["bkkp_sn"])
            ys = []
            for y in pool:
                if (y["psn_no"] != x["psn_no"] or y["mdtrt_id"] == x["mdtrt_id"] or g is None
                        or grp(y["hilist_code"]) != g or not lo <= y["fee_date"] <= x["fee_date"]
                        or not (y["fee_ocur_time"], y["bkkp_sn"]) < xk):  # fmt: skip
                    continue
                remain = (y["fee_date"] - x["fee_date"]).days + y["prd_days"]
                if remain > tol:
                    ys.append((y, remain))
            if not ys:
                continue
            y, remain = min(ys, key=lambda t: (-t[1], t[0]["fee_ocur_time"], t[0]["bkkp_sn"]))
            prd: Decimal = x["prd_days"]
            excess = float(x["det_item_fee_sumamt"] * min(remain, prd)) / float(prd)
            vals = {"hilist_name": x["hilist_name"], "date": x["fee_date"], "prd": prd, "prev_date": y["fee_date"],
                    "prev_id": y["mdtrt_id"], "prev_name": y["hilist_name"], "prev_prd": y["prd_days"],
                    "remain": remain, "excess": excess}  # fmt: skip
            sns = [
                t[0]["bkkp_sn"] for t in sorted(ys, key=lambda t: (t[0]["fee_ocur_time"], t[0]["bkkp_sn"]))
            ]
            out.append(hit(rule, x, [*sns, x["bkkp_sn"]], excess, self.evidence["overlap"].render(rule, vals),
                           hilist_code=x["hilist_code"]))  # fmt: skip
        return out
