"""The base view ``claim_lines`` every template reads, the fixed hit schema, and SQL helpers.

``claim_lines`` is one fee line (``fee_list_d_valid``, refunds and fully refunded lines left out) with its
visit (``mdtrt_d_valid``), the person (``psn_info_b_valid``: sex / birth date when the visit lacks them),
the institution level (``medins_info_b_valid`` when the visit lacks it) and the catalogue
(``hilist_b_valid``: level and price cap when the line lacks them). The view reads only those canonical
table names, so it runs over the store and over a one-claim in-memory DuckDB alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from fundguard.core.sql import literal as lit

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

SCENE_MED_TYPES: dict[str, tuple[str, ...]] = {
    "住院": ("21", "22", "23", "24", "25", "26", "28", "52"),
    "门急诊": ("11", "12", "13", "14", "19", "51", "53"),
    "购药": ("41",),
}
"""Scene (应用场景) → 医疗类别 (med_type) codes."""

SCENES = (*SCENE_MED_TYPES, "互联网诊疗", "异地就医", "其他")

HOSP_LEVEL: dict[str, int] = {
    **dict.fromkeys(("01", "02", "03", "04", "12"), 3),
    **dict.fromkeys(("05", "06", "07", "13"), 2),
    **dict.fromkeys(("08", "09", "10", "14"), 1),
    "11": 0,
}
"""HOSP_LV code → level (3 三级, 2 二级, 1 一级, 0 无等级)."""

HIT_COLUMNS: dict[str, str] = {
    "rule_id": "VARCHAR",
    "mdtrt_id": "VARCHAR",
    "setl_id": "VARCHAR",
    "psn_no": "VARCHAR",
    "fixmedins_code": "VARCHAR",
    "bkkp_sn": "VARCHAR[]",
    "hilist_code": "VARCHAR",
    "amount": "DECIMAL(16,2)",
    "evidence_zh": "VARCHAR",
    "kp_id": "VARCHAR",
}
"""The fixed hit schema: column → DuckDB type."""


def in_list(values: list[str] | tuple[str, ...]) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")" if values else "(NULL)"


def _case(column: str, mapping: dict[str, object], default: object) -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in mapping.items())
    return f"CASE {column} {whens} ELSE {lit(default)} END"


def _scene_expr(column: str) -> str:
    whens = " ".join(f"WHEN {column} IN {in_list(c)} THEN {lit(s)}" for s, c in SCENE_MED_TYPES.items())
    return f"CASE {whens} ELSE '其他' END"


def claim_lines_query(lines: str = "fee_list_d_valid") -> str:
    """The body of ``CREATE VIEW claim_lines``, over the fee lines ``lines`` (a table name or a parenthesised
    query with ``fee_list_d``'s columns, valid rows only): the refunds, visits, persons, institutions and
    catalogue are always read whole, so the lines of one import (``engine.lines``) come out exactly as
    they do in the view over every import."""
    return f"""
WITH refunded AS (
    SELECT DISTINCT init_feedetl_sn AS bkkp_sn FROM fee_list_d_valid
    WHERE init_feedetl_sn IS NOT NULL AND init_feedetl_sn <> ''
),
psn AS (
    SELECT psn_no, any_value(gend) AS gend, any_value(brdy) AS brdy, any_value(die_date) AS die_date
    FROM psn_info_b_valid GROUP BY psn_no
),
ins AS (SELECT fixmedins_code, any_value(hosp_lv) AS hosp_lv FROM medins_info_b_valid GROUP BY fixmedins_code),
cat AS (
    SELECT hilist_code, any_value(chrgitm_lv) AS chrgitm_lv, max(pric_uplmt_amt) AS pric_uplmt_amt
    FROM hilist_b_valid GROUP BY hilist_code
),
lines AS (
    SELECT
        l.bkkp_sn, l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, l.rx_drord_no,
        l.fee_ocur_time, CAST(l.fee_ocur_time AS DATE) AS fee_date,
        l.hilist_code, l.hilist_name, l.list_type, l.med_chrgitm_type,
        COALESCE(NULLIF(l.chrgitm_lv, ''), cat.chrgitm_lv) AS chrgitm_lv,
        cat.hilist_code IS NOT NULL AS in_catalogue,
        l.cnt, l.pric, l.prd_days, COALESCE(l.pric_uplmt_amt, cat.pric_uplmt_amt) AS pric_uplmt_amt,
        cat.pric_uplmt_amt AS catalogue_pric_uplmt_amt,
        l.det_item_fee_sumamt, l.inscp_amt, l.fulamt_ownpay_amt, l.tcmdrug_used_way,
        l.bilg_dept_codg, l.bilg_dept_name, NULLIF(l.drug_trac_codg, '') AS drug_trac_codg,
        COALESCE(v.med_type, l.med_type) AS med_type, NULLIF(v.inet_mdtrt_flag, '') AS inet_mdtrt_flag,
        v.begntime, v.endtime, v.adm_dept_codg, v.adm_dept_name, v.insutype, v.dscg_maindiag_code,
        COALESCE(NULLIF(v.hosp_lv, ''), ins.hosp_lv) AS hosp_lv,
        COALESCE(NULLIF(v.gend, ''), psn.gend) AS gend,
        CASE WHEN COALESCE(v.brdy, psn.brdy) IS NOT NULL
             THEN date_diff('day', COALESCE(v.brdy, psn.brdy),
                            CAST(COALESCE(v.begntime, l.fee_ocur_time) AS DATE)) / 365.25
             ELSE CAST(v.age AS DOUBLE) END AS age_years,
        psn.die_date
    FROM {lines} l
    LEFT JOIN mdtrt_d_valid v ON v.mdtrt_id = l.mdtrt_id
    LEFT JOIN psn ON psn.psn_no = l.psn_no
    LEFT JOIN ins ON ins.fixmedins_code = l.fixmedins_code
    LEFT JOIN cat ON cat.hilist_code = l.hilist_code
    WHERE l.det_item_fee_sumamt > 0 AND l.cnt > 0
      AND NOT EXISTS (SELECT 1 FROM refunded r WHERE r.bkkp_sn = l.bkkp_sn)
)
SELECT *,
    {_case("hosp_lv", HOSP_LEVEL, None)} AS hosp_level,
    {_scene_expr("med_type")} AS scene
FROM lines
"""


CLAIM_LINES_SQL = claim_lines_query()
"""The body of ``CREATE VIEW claim_lines`` (one place for every engine)."""


def create_claim_lines(con, *, materialize: bool = False, columns: Iterable[str] | None = None) -> None:
    """Create ``claim_lines`` in ``con`` (which has the canonical ``*_valid`` views).

    ``materialize`` builds it once as a temp table (DuckDB spills it to disk past its memory limit): a batch
    run over many rules then joins the store once instead of once per rule family — 5× faster at 1M lines.
    ``columns``: see ``claim_lines_sql``.
    """
    kind = "TABLE" if materialize else "VIEW"
    con.execute(f"CREATE OR REPLACE TEMP {kind} claim_lines AS {claim_lines_sql(con, columns)}")


def claim_lines_sql(con, columns: Iterable[str] | None = None) -> str:
    """``CLAIM_LINES_SQL``, or with ``columns`` only those of its columns (in its order; unknown names
    ignored): a run whose rules read few of them builds a narrower table, and DuckDB drops the joins no
    kept column needs. ``con`` has the canonical views (to name the columns)."""
    if columns is None:
        return CLAIM_LINES_SQL
    keep = set(columns)
    names = [d[0] for d in con.execute(f"SELECT * FROM ({CLAIM_LINES_SQL}) WHERE false").description]
    cols = [c for c in names if c in keep] or ["bkkp_sn"]
    return f"SELECT {', '.join(cols)} FROM ({CLAIM_LINES_SQL})"


def rule_lines(rule: Rule) -> str:
    """``claim_lines`` restricted to the rule's scenes and effective dates, as a parenthesised subquery."""
    cond = []
    main = set(SCENE_MED_TYPES)
    scenes = set(rule.scenes)
    if scenes and not main <= scenes:
        cond.append(f"scene IN {in_list(sorted(scenes))}")
    if rule.effective_from:
        cond.append(f"fee_ocur_time >= {lit(rule.effective_from)}")
    if rule.effective_to:
        cond.append(f"fee_ocur_time < {lit(rule.effective_to)} + INTERVAL 1 DAY")
    where = f" WHERE {' AND '.join(cond)}" if cond else ""
    return f"(SELECT * FROM claim_lines{where})"


PRECOUNT_PASSES = 8
"""Passes of ``over_limit_buckets`` for a rule grouping every fee line (most groups one line): at 10^8 lines
such a hash aggregate did not fit the batch's 2.5 GB memory limit in one pass (its table alone asked for
1 GiB; two passes failed too); eight passes of an eighth each did (19 s). Each pass reads the lines again."""


def over_limit_buckets(lines: str, group: str, having: str, passes: int = 1) -> str:
    """The hashes ``h`` of the groups ``group`` of ``lines`` (alias ``l``) whose aggregate meets ``having``,
    counted by the hash alone (one integer, not the group's strings). A hash holds whole groups, so a count or
    sum over it is at least each of its groups' own: the hashes meeting the limit hold every group meeting it,
    and the exact count then reads those groups alone. ``passes`` > 1 splits the count by the hash into that
    many passes (a UNION ALL that DuckDB and Spark run alike; the hash is unsigned in DuckDB and signed in
    Spark, hence the modulo), each holding a part of the groups in memory."""
    h = f"hash({group})"
    if passes == 1:
        return f"SELECT {h} AS h FROM {lines} l GROUP BY {h} HAVING {having}"
    n = passes
    return "\nUNION ALL\n".join(
        f"SELECT {h} AS h FROM {lines} l WHERE ({h} % {n} + {n}) % {n} = {i} GROUP BY {h} HAVING {having}"
        for i in range(n)
    )


def over_limit_groups(
    lines: str, keys: tuple[str, ...], precount: str, having: str, passes: int = 1
) -> tuple[str, str]:
    """The groups by ``keys`` of ``lines`` (alias ``l``) meeting ``having``, found by counts alone before any
    ordered line list is built (those cost most): the CTEs ``cand`` (``over_limit_buckets`` with
    ``precount``, an aggregate over a hash that is at least each of its groups' ``having`` aggregate) and
    ``over`` (the exact keys ``k1``, ``k2`` … of the groups meeting ``having``), and the condition joining
    ``over`` to ``l`` (``FROM lines l SEMI JOIN over ON …``): the lines of those groups alone."""
    group = ", ".join(keys)
    ctes = f"""cand AS ({over_limit_buckets(lines, group, precount, passes)}),
over AS (
    SELECT {", ".join(f"{k} AS k{i}" for i, k in enumerate(keys, 1))} FROM {lines} l
    WHERE hash({group}) IN (SELECT h FROM cand)
    GROUP BY {group}
    HAVING {having}
)"""
    on = "\n    AND ".join(f"over.k{i} IS NOT DISTINCT FROM {k}" for i, k in enumerate(keys, 1))
    return ctes, on


def amount_expr(rule: Rule, alias: str = "") -> str:
    """The per-line money at issue for ``line_amount`` / ``fund_amount``."""
    p = f"{alias}." if alias else ""
    if rule.amount_rule == "fund_amount":
        return f"COALESCE({p}inscp_amt, 0)"
    return f"{p}det_item_fee_sumamt"


def money(expr: str) -> str:
    """``expr`` as a string with two decimals (for evidence)."""
    return f"CAST(CAST({expr} AS DECIMAL(16,2)) AS VARCHAR)"


def source_note(rule: Rule) -> str:
    """'（<knowledge_source>）' as a SQL literal ('' when the rule has none)."""
    return lit(f"（{rule.knowledge_source}）" if rule.knowledge_source else "")


def hits(rule: Rule, inner: str) -> str:
    """Wrap a template's SELECT so its columns have the fixed hit names, order and types."""
    cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in HIT_COLUMNS.items() if c != "rule_id")
    return f"SELECT CAST({lit(rule.id)} AS VARCHAR) AS rule_id, {cols} FROM (\n{inner}\n) AS _h"
