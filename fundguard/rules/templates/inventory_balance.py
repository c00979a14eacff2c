"""``inventory_balance``: sales of an item beyond what the institution ever had (进销存不符), or settled
quantities that differ from the 进销存 sales ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fundguard.rules.base import hits, in_list, lit, money, source_note
from fundguard.rules.templates.base import Param, Template

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

SOURCES = {"fee": "医保结算", "invt": "进销存销售", "max": "两者较大者"}


def _q(expr: str) -> str:
    """A quantity as short text (``12``, ``2.5``) for evidence: four decimals, trailing zeros dropped
    (plain SQL that DuckDB and Spark evaluate alike)."""
    return rf"regexp_replace(CAST(CAST({expr} AS DECIMAL(18,4)) AS VARCHAR), '\.?0+$', '')"


class InventoryBalance(Template):
    """Per institution × item over the period, for institutions that report 进销存 (``invt_chg_d``).

    ``check: stock_balance`` — opening stock (the last 3501 盘存 not after the pair's first movement or
    sale, else 0) + 3503 采购 − 3504 采购退货 ± 3502 其他变更 − sales (+ 3506 销售退货 when sales come from
    the ledger) < −``tolerance``: more was sold than was ever available, a 串换 / 虚售 sign. Sales come from
    settled fee lines (``sales_source: fee``, refunded lines left out), from 3505 销售 (``invt``) or the
    larger of the two (``max``). The hit lists the latest sale lines that make up the excess (at most
    ``max_lines``); the money at issue is the excess quantity × the average sale price.

    ``check: sales_match`` — the settled sale lines (every positive fee line, refunded later or not) and the
    3505 销售 rows of the pair differ by more than ``tolerance`` and ``tolerance_ratio`` × the larger; the
    hit lists the lines that do not match one to one by 记账流水号 (else all the pair's fee lines); the
    money at issue is the difference × the average sale price.
    """

    name = "inventory_balance"
    title_zh = "进销存不符（销售量超过可售量 / 结算量与进销存不一致）"
    population = True
    amount_rules = ("excess_over_limit",)
    params = (
        Param(
            "check",
            "str",
            "stock_balance: sold more than available; sales_match: settled ≠ ledger sales / 库存平衡或结算与销售台账核对",
            default="stock_balance",
            choices=("stock_balance", "sales_match"),
        ),
        Param(
            "sales_source",
            "str",
            "Sales counted in stock_balance: fee lines, 3505 rows or the larger / 库存平衡所计销售来源",
            default="fee",
            choices=tuple(SOURCES),
        ),
        Param("tolerance", "float", "Quantity tolerated / 允许的数量差", default=0),
        Param(
            "tolerance_ratio",
            "float",
            "sales_match: difference tolerated as a share of the larger quantity / 允许的相对差（比例）",
            default=0.0,
        ),
        Param(
            "institution_types",
            "str_list",
            "Only institutions of these fixmedins_type (empty: all reporting 进销存) / 仅限这些机构类型",
            default=[],
        ),
        Param(
            "list_types",
            "str_list",
            "Only fee lines of these list_type codes (empty: all) / 仅限这些目录类别",
            default=[],
        ),
        Param(
            "max_lines",
            "int",
            "At most this many lines listed per hit / 每条结果最多列出的明细数",
            default=200,
        ),
    )

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        p = rule.params
        out = []
        if p["tolerance"] < 0 or p["tolerance_ratio"] < 0:
            out.append(("params.tolerance", "must be ≥ 0 / 不得为负"))
        if p["max_lines"] < 1:
            out.append(("params.max_lines", "must be ≥ 1 / 须≥1"))
        return out

    def sql(self, rule: Rule) -> str:
        p = rule.params
        inv_cond, fee_cond = ["TRUE"], ["l.det_item_fee_sumamt > 0", "l.cnt > 0"]
        if rule.effective_from:
            inv_cond.append(f"chg_time >= {lit(rule.effective_from)}")
            fee_cond.append(f"l.fee_ocur_time >= {lit(rule.effective_from)}")
        if rule.effective_to:
            inv_cond.append(f"chg_time < {lit(rule.effective_to)} + INTERVAL 1 DAY")
            fee_cond.append(f"l.fee_ocur_time < {lit(rule.effective_to)} + INTERVAL 1 DAY")
        if p["list_types"]:
            fee_cond.append(f"l.list_type IN {in_list(p['list_types'])}")
        ins = "TRUE"
        if p["institution_types"]:
            ins = f"""fixmedins_code IN (SELECT fixmedins_code FROM medins_info_b_valid
                   WHERE fixmedins_type IN {in_list(p["institution_types"])})"""
        # claim_lines (refunds out) for the balance; every positive line for the one-to-one ledger match
        fee_src = "claim_lines" if p["check"] == "stock_balance" else "fee_list_d_valid"
        fee_where = f"{' AND '.join(fee_cond)} AND l.fixmedins_code IN (SELECT fixmedins_code FROM reporting)"
        # the ledger rows as a subquery read where needed: a CTE read four times is materialised whole
        # (10M rows at 10^8 lines); the lines of a pair are read only for the pairs at issue (``lines_of``)
        inv = f"""(SELECT fixmedins_code, hilist_code, inv_chg_type AS typ, chg_time AS t, CAST(cnt AS DOUBLE) AS cnt,
           CAST(pric AS DOUBLE) AS pric, psn_no, NULLIF(bkkp_sn, '') AS bkkp_sn
    FROM invt_chg_d_valid WHERE {" AND ".join(inv_cond)} AND {ins})"""
        common = f"""
reporting AS (SELECT DISTINCT fixmedins_code FROM {inv} i),
fee_pair AS (
    SELECT l.fixmedins_code, l.hilist_code, sum(CAST(l.cnt AS DOUBLE)) AS fee_sold,
           sum(CAST(l.det_item_fee_sumamt AS DOUBLE)) AS fee_amt, min(l.fee_ocur_time) AS first_sale,
           any_value(l.hilist_name) AS hilist_name
    FROM {fee_src} l WHERE {fee_where} GROUP BY ALL
),
inv_pair AS (
    SELECT fixmedins_code, hilist_code,
           min(t) FILTER (WHERE typ <> '3501') AS first_move,
           sum(abs(cnt)) FILTER (WHERE typ = '3503') AS bought,
           sum(abs(cnt)) FILTER (WHERE typ = '3504') AS returned,
           sum(cnt) FILTER (WHERE typ = '3502') AS other,
           sum(abs(cnt)) FILTER (WHERE typ = '3505') AS inv_sold,
           sum(abs(cnt)) FILTER (WHERE typ = '3506') AS inv_back,
           sum(abs(cnt) * pric) FILTER (WHERE typ = '3505') AS inv_amt
    FROM {inv} i GROUP BY ALL
),
pair AS (
    SELECT COALESCE(f.fixmedins_code, i.fixmedins_code) AS fixmedins_code,
           COALESCE(f.hilist_code, i.hilist_code) AS hilist_code, f.hilist_name,
           COALESCE(f.fee_sold, 0) AS fee_sold, COALESCE(i.inv_sold, 0) AS inv_sold,
           COALESCE(i.inv_back, 0) AS inv_back, COALESCE(i.bought, 0) AS bought,
           COALESCE(i.returned, 0) AS returned, COALESCE(i.other, 0) AS other,
           least(f.first_sale, i.first_move) AS first_t,
           COALESCE(f.fee_amt / NULLIF(f.fee_sold, 0), i.inv_amt / NULLIF(i.inv_sold, 0), 0) AS unit
    FROM fee_pair f FULL JOIN inv_pair i ON i.fixmedins_code = f.fixmedins_code AND i.hilist_code = f.hilist_code
)"""

        def lines_of(pairs: str) -> tuple[str, str]:
            """The settled sales (one row per 记账流水号) and the 3505 销售 rows of the pairs in ``pairs``."""
            on = f"SEMI JOIN {pairs} q ON q.fixmedins_code = x.fixmedins_code AND q.hilist_code = x.hilist_code"
            fee = f"""(SELECT l.fixmedins_code, l.hilist_code, l.bkkp_sn, any_value(l.mdtrt_id) AS mdtrt_id,
                   any_value(l.psn_no) AS psn_no, min(l.fee_ocur_time) AS t, sum(CAST(l.cnt AS DOUBLE)) AS cnt
            FROM (SELECT * FROM {fee_src} x {on}) l WHERE {fee_where}
            GROUP BY l.fixmedins_code, l.hilist_code, l.bkkp_sn)"""
            sale = f"(SELECT * FROM {inv} x {on} WHERE x.typ = '3505')"
            isale = f"""(SELECT i.fixmedins_code, i.hilist_code,
                   COALESCE(i.bkkp_sn, 'INVT:' || i.t::VARCHAR) AS bkkp_sn, f.mdtrt_id,
                   COALESCE(f.psn_no, i.psn_no) AS psn_no, i.t, abs(i.cnt) AS cnt
            FROM {sale} i LEFT JOIN (
                SELECT bkkp_sn, any_value(mdtrt_id) AS mdtrt_id, any_value(psn_no) AS psn_no
                FROM fee_list_d_valid WHERE bkkp_sn IN (SELECT bkkp_sn FROM {sale} s) GROUP BY bkkp_sn
            ) f ON f.bkkp_sn = i.bkkp_sn)"""
            return fee, isale

        if p["check"] == "stock_balance":
            inner = self._balance(rule, common, inv, lines_of)
        else:
            inner = self._match(rule, common, lines_of)
        return hits(rule, inner)

    def _balance(self, rule: Rule, common: str, inv: str, lines_of: Callable[[str], tuple[str, str]]) -> str:
        p = rule.params
        src = p["sales_source"]
        sold = {
            "fee": "fee_sold",
            "invt": "inv_sold - inv_back",
            "max": "greatest(fee_sold, inv_sold - inv_back)",
        }[src]
        back = {
            "fee": "0",
            "invt": "inv_back",
            "max": "CASE WHEN fee_sold >= inv_sold - inv_back THEN 0 ELSE inv_back END",
        }[src]
        use_fee = {"fee": "TRUE", "invt": "FALSE", "max": "b.fee_sold >= b.inv_sold - b.inv_back"}[src]
        fee, isale = lines_of("bad")
        figures = [
            ("期初库存", "opening"),
            ("购进", "bought"),
            ("购进退货", "returned"),
            ("其他变更", "other"),
            (f"销售（{SOURCES[src]}）", "sold"),
            ("其中医保结算", "fee_sold"),
            ("进销存销售", "inv_sold"),
        ]
        ev = (
            "'“' || COALESCE(any_value(b.hilist_name), any_value(b.hilist_code)) || '”（' || any_value(b.hilist_code) || '）'"
            + " || '，'".join(f" || '{zh}' || {_q('any_value(b.' + c + ')')}" for zh, c in figures)
            + f" || '，销售量超出可售量' || {_q('any_value(b.excess)')} || '（进销存不符，串换迹象），涉及金额'"
            + f" || {money('any_value(b.excess * b.unit)')} || '元'"
        )
        return f"""
WITH {common},
opening AS (
    SELECT i.fixmedins_code, i.hilist_code, arg_max(i.cnt, i.t) AS opening
    FROM {inv} i JOIN pair p ON p.fixmedins_code = i.fixmedins_code AND p.hilist_code = i.hilist_code
    WHERE i.typ = '3501' AND i.t <= p.first_t GROUP BY ALL
),
bal AS (
    SELECT p.*, COALESCE(o.opening, 0) AS opening, {sold} AS sold,
           {sold} - (COALESCE(o.opening, 0) + bought - returned + other + {back}) AS excess
    FROM pair p LEFT JOIN opening o USING (fixmedins_code, hilist_code)
    WHERE p.fixmedins_code IN (SELECT fixmedins_code FROM reporting)
),
bad AS (SELECT * FROM bal WHERE excess > {float(p["tolerance"])}),
sales AS (
    SELECT s.*, row_number() OVER w AS rn, sum(s.cnt) OVER w AS suffix
    FROM (SELECT f.fixmedins_code, f.hilist_code, f.bkkp_sn, f.mdtrt_id, f.psn_no, f.t, f.cnt FROM {fee} f
          JOIN bad b USING (fixmedins_code, hilist_code) WHERE {use_fee}
          UNION ALL
          SELECT s.fixmedins_code, s.hilist_code, s.bkkp_sn, s.mdtrt_id, s.psn_no, s.t, s.cnt FROM {isale} s
          JOIN bad b USING (fixmedins_code, hilist_code) WHERE NOT ({use_fee})) s
    WINDOW w AS (PARTITION BY s.fixmedins_code, s.hilist_code ORDER BY s.t DESC, s.bkkp_sn DESC
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT arg_max(s.mdtrt_id, s.t) AS mdtrt_id, CAST(NULL AS VARCHAR) AS setl_id, arg_max(s.psn_no, s.t) AS psn_no,
       b.fixmedins_code, list(s.bkkp_sn ORDER BY s.t, s.bkkp_sn) AS bkkp_sn, b.hilist_code,
       any_value(b.excess * b.unit) AS amount, {ev} || {source_note(rule)} AS evidence_zh,
       CAST(NULL AS VARCHAR) AS kp_id
FROM bad b JOIN sales s USING (fixmedins_code, hilist_code)
WHERE s.suffix - s.cnt < b.excess AND s.rn <= {int(p["max_lines"])}
GROUP BY b.fixmedins_code, b.hilist_code
"""

    def _match(self, rule: Rule, common: str, lines_of: Callable[[str], tuple[str, str]]) -> str:
        p = rule.params
        diff = "abs(m.fee_sold - m.inv_sold)"
        fee, isale = lines_of("mism")
        ev = (
            "'“' || COALESCE(any_value(m.hilist_name), any_value(m.hilist_code)) || '”（' || any_value(m.hilist_code)"
            f" || '）医保结算销售数量' || {_q('any_value(m.fee_sold)')} || '，进销存销售记录数量'"
            f" || {_q('any_value(m.inv_sold)')} || '，相差' || {_q(f'any_value({diff})')}"
            " || '（' || CAST(count(*) FILTER (WHERE x.odd) AS VARCHAR) || '条明细无法一一对应），结算与进销存不符，"
            f"疑似串换或虚假销售，涉及金额' || {money(f'any_value({diff} * m.unit)')} || '元'"
        )
        return f"""
WITH {common},
mism AS (
    SELECT * FROM pair m
    WHERE m.fixmedins_code IN (SELECT fixmedins_code FROM reporting)
      AND {diff} > {float(p["tolerance"])} AND {diff} > {float(p["tolerance_ratio"])} * greatest(m.fee_sold, m.inv_sold)
),
lines AS (
    SELECT COALESCE(f.fixmedins_code, s.fixmedins_code) AS fixmedins_code,
           COALESCE(f.hilist_code, s.hilist_code) AS hilist_code, COALESCE(f.bkkp_sn, s.bkkp_sn) AS bkkp_sn,
           COALESCE(f.mdtrt_id, s.mdtrt_id) AS mdtrt_id, COALESCE(f.psn_no, s.psn_no) AS psn_no,
           COALESCE(f.t, s.t) AS t,
           f.bkkp_sn IS NULL OR s.bkkp_sn IS NULL OR f.cnt <> s.cnt AS odd
    FROM {fee} f
    FULL JOIN {isale} s
      ON s.fixmedins_code = f.fixmedins_code AND s.hilist_code = f.hilist_code AND s.bkkp_sn = f.bkkp_sn
),
shown AS (
    SELECT x.*, bool_or(x.odd) OVER (PARTITION BY x.fixmedins_code, x.hilist_code) AS any_odd,
           row_number() OVER (PARTITION BY x.fixmedins_code, x.hilist_code ORDER BY NOT x.odd, x.t, x.bkkp_sn) AS rn
    FROM lines x
)
SELECT arg_min(x.mdtrt_id, x.t) FILTER (WHERE x.mdtrt_id IS NOT NULL) AS mdtrt_id, CAST(NULL AS VARCHAR) AS setl_id,
       arg_min(x.psn_no, x.t) FILTER (WHERE x.psn_no IS NOT NULL) AS psn_no, m.fixmedins_code,
       list(x.bkkp_sn ORDER BY x.t, x.bkkp_sn) FILTER (WHERE (x.odd OR NOT x.any_odd) AND x.rn <= {int(p["max_lines"])}) AS bkkp_sn,
       m.hilist_code, any_value({diff} * m.unit) AS amount, {ev} || {source_note(rule)} AS evidence_zh,
       CAST(NULL AS VARCHAR) AS kp_id
FROM mism m JOIN shown x USING (fixmedins_code, hilist_code)
GROUP BY m.fixmedins_code, m.hilist_code
"""
