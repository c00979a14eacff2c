"""``group_admission``: many persons admitted together to one institution with the same diagnosis and
the same charges (集中住院 / 团伙虚假住院 sign)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fundguard.rules.base import hits, money, source_note
from fundguard.rules.templates.base import Param, Template
from fundguard.rules.templates.stay_common import INPATIENT, fmt_date, scene_cond, visit_fund, visits

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule


class GroupAdmission(Template):
    """An inpatient stay with at least ``min_persons`` distinct persons (itself included) admitted to the
    same institution within ``window_days`` of its admission date, with the same 3-character main
    diagnosis category and a similar charge profile: the item sets billed overlap by at least
    ``min_item_similarity`` (Jaccard) and the charges per inpatient day differ by a factor of at most
    ``max_cost_ratio``.

    One hit per stay of the group (``bkkp_sn`` empty: the whole stay is at issue), the group size in the
    evidence; money at issue: the stay's fund payment (``fund_amount``) or total fee (``line_amount``).
    """

    name = "group_admission"
    title_zh = "同一机构集中收治同病种、同收费组合的住院（集中住院）"
    population = True
    reads = "visits"
    params = (
        Param("min_persons", "int", "Persons needed in the group / 群体人数下限", default=5),
        Param("window_days", "int", "Days either side of the admission date / 入院日期前后天数", default=3),
        Param(
            "min_item_similarity",
            "float",
            "Least Jaccard overlap of the billed item sets / 收费项目集合最小相似度（Jaccard）",
            default=0.8,
        ),
        Param(
            "max_cost_ratio",
            "float",
            "Largest ratio of charges per inpatient day / 日均费用最大倍数",
            default=1.5,
        ),
    )

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p = rule.params
        out = []
        if p["min_persons"] < 2:
            out.append(("params.min_persons", "must be ≥ 2 / 须不小于2"))
        if not 0 < p["min_item_similarity"] <= 1:
            out.append(("params.min_item_similarity", "must be in (0, 1] / 须在(0,1]内"))
        if p["max_cost_ratio"] < 1:
            out.append(("params.max_cost_ratio", "must be ≥ 1 / 须不小于1"))
        return out

    def batch_institution_days(self, rule: Rule) -> int | None:
        # a stay's group: stays of its institution (and category) admitted within window_days of it
        return int(rule.params["window_days"])

    def sql(self, rule: Rule) -> str:
        p = rule.params
        total = "f.fund" if rule.amount_rule == "fund_amount" else "f.medfee"
        line = "COALESCE(l.inscp_amt, 0)" if rule.amount_rule == "fund_amount" else "l.det_item_fee_sumamt"
        window = max(int(p["window_days"]), 1)
        inner = f"""
WITH v AS (
    SELECT v.* FROM {visits(rule, f"med_type IN {INPATIENT}")} v
    WHERE v.med_type IN {INPATIENT} AND v.dx3 IS NOT NULL AND v.dx3 <> ''
),
ln AS (
    SELECT l.mdtrt_id, any_value(l.setl_id) AS setl_id, list_sort(list(DISTINCT l.hilist_code)) AS items,
           sum(l.det_item_fee_sumamt) AS fee, sum({line}) AS amt
    FROM claim_lines l WHERE l.mdtrt_id IN (SELECT mdtrt_id FROM v) GROUP BY l.mdtrt_id
),
s AS (
    SELECT v.*, ln.setl_id, ln.items, array_length(list_distinct(ln.items)) AS n_items, ln.amt,
           ln.fee / greatest(date_diff('day', v.begin_date, COALESCE(v.end_date, v.begin_date)), 1) AS per_day,
           -- admission-date bucket as wide as the window: a partner lies in the same or a neighbouring
           -- bucket, so the self-join is an equi-join instead of all pairs of an institution and category
           CAST(floor(date_diff('day', DATE '1970-01-01', v.begin_date) / {window}) AS BIGINT) AS bucket
    FROM v JOIN ln ON ln.mdtrt_id = v.mdtrt_id
),
g AS (
    SELECT a.mdtrt_id, count(DISTINCT b.psn_no) AS n_persons, min(b.begin_date) AS first_day,
           max(b.begin_date) AS last_day
    FROM (SELECT *, unnest([bucket - 1, bucket, bucket + 1]) AS near FROM s) a
    JOIN s b ON b.fixmedins_code = a.fixmedins_code AND b.dx3 = a.dx3 AND b.bucket = a.near
        AND abs(date_diff('day', a.begin_date, b.begin_date)) <= {int(p["window_days"])}
        AND greatest(a.per_day, b.per_day) <= {float(p["max_cost_ratio"])} * least(a.per_day, b.per_day)
        -- Jaccard with |A ∪ B| = |A| + |B| - |A ∩ B| (list_intersect and list_distinct skip NULLs)
        AND array_length(list_intersect(a.items, b.items)) >= {float(p["min_item_similarity"])}
            * (a.n_items + b.n_items - array_length(list_intersect(a.items, b.items)))
    WHERE {scene_cond(rule, "a")}
    GROUP BY a.mdtrt_id HAVING count(DISTINCT b.psn_no) >= {int(p["min_persons"])}
)
SELECT s.mdtrt_id, COALESCE(f.setl_id, s.setl_id) AS setl_id, s.psn_no, s.fixmedins_code,
       CAST([] AS VARCHAR[]) AS bkkp_sn, NULL AS hilist_code, COALESCE({total}, s.amt, 0) AS amount,
       {fmt_date("g.first_day")} || '至' || {fmt_date("g.last_day")} || '共' || CAST(g.n_persons AS VARCHAR)
         || '名参保人以同类主诊断（' || s.dx3 || '）集中入住' || COALESCE(s.fixmedins_name, s.fixmedins_code)
         || '，收费项目与日均费用高度一致；本人' || {fmt_date("s.begin_date")} || '入院（主诊断' || s.maindiag
         || '，日均费用' || {money("s.per_day")} || '元），疑似集中住院或团伙虚假住院，本次住院'
         || {"'基金支付'" if rule.amount_rule == "fund_amount" else "'医疗费用'"}
         || {money(f"COALESCE({total}, s.amt, 0)")} || '元' || {source_note(rule)} AS evidence_zh,
       NULL AS kp_id
FROM g JOIN s ON s.mdtrt_id = g.mdtrt_id LEFT JOIN {visit_fund("SELECT mdtrt_id FROM g")} f
    ON f.mdtrt_id = s.mdtrt_id
"""
        return hits(rule, inner)
