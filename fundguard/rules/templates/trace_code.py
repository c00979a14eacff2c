"""药品追溯码 (drug traceability codes): one code per dispensed box, scanned at settlement since 2025-07.

``trace_code_count`` — a drug line settling more boxes than it carries codes (real time and batch);
``trace_code_reuse`` — a code settled twice (重复结算, at one or two institutions), sold again after its
refund, or sold without a purchase carrying it in the institution's 进销存 (batch: the whole population).

A line's codes are ``fee_list_d.drug_trac_codg`` split on commas, semicolons or blanks (ASCII or full
width), blanks dropped and repeats counted once (a box scanned twice is still one box). Source: NHSA 2025
药品追溯码 campaign (regulation.md §11 "药品追溯码重复结算": one box = one code = one sale).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import amount_expr, hits, in_list, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, SharedCtes, Template, line_amount

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

SPLIT_RE = r"[,，;；\s]+"
"""What separates the codes of one line (the same pattern in DuckDB's RE2 and Python's ``re``)."""

_SPLIT = re.compile(SPLIT_RE)


def codes_of(value: str | None) -> list[str]:
    """A line's distinct codes, sorted (the Python form of ``codes_sql``)."""
    return sorted({c for c in _SPLIT.split(value or "") if c})


def codes_sql(column: str) -> str:
    """A line's distinct codes as a sorted DuckDB list (separators trimmed first, so no empty element; plain
    functions that sqlglot carries to Spark)."""
    trimmed = f"regexp_replace(COALESCE({column}, ''), '^{SPLIT_RE}|{SPLIT_RE}$', '', 'g')"
    return (
        f"CASE WHEN {trimmed} = '' THEN CAST([] AS VARCHAR[]) "
        f"ELSE list_sort(list_distinct(string_split_regex({trimmed}, '{SPLIT_RE}'))) END"
    )


LIST_TYPES = Param(
    "list_types",
    "str_list",
    "Catalogue types whose lines carry trace codes / 须扫追溯码的目录类别（101 西药中成药 等）",
    default=["101"],
)


def _share_sql(amount: str, part: str, whole: str) -> str:
    """``amount`` × part / whole in doubles (the same arithmetic as ``_share``)."""
    return f"CAST({amount} AS DOUBLE) * CAST({part} AS DOUBLE) / CAST({whole} AS DOUBLE)"


def _share(amount, part, whole) -> float:
    return float(amount) * float(part) / float(whole)


class TraceCodeCount(Template):
    """A drug line of ``list_types`` whose settled quantity (``cnt``, boxes) exceeds the number of distinct
    traceability codes it carries: the boxes without a code were not scanned, so they may never have been
    dispensed (虚开) or were swapped (串换). Only whole quantities are judged (a split pack has no box
    count). Lines carrying no code at all are judged only with ``require_codes`` (a region where scanning
    is compulsory); otherwise a line without codes is left to the data-readiness warning. The money at
    issue is the line's amount (``line_amount``) or fund share (``fund_amount``) × uncoded boxes / boxes.
    """

    name = "trace_code_count"
    title_zh = "药品追溯码数量少于结算盒数"
    params = (
        LIST_TYPES,
        Param(
            "require_codes",
            "bool",
            "Judge lines that carry no code at all / 无追溯码的明细也判定（强制扫码地区）",
            default=False,
        ),
    )
    evidence: ClassVar[dict[str, Evidence]] = {
        "count": Evidence(
            "“{hilist_name}”结算{boxes}盒，仅上传药品追溯码{n}个{codes}，{missing}盒无追溯码，"
            "涉及金额{amount:money}元"
        )
    }

    def sql(self, rule: Rule) -> str:
        p = rule.params
        n = f"array_length({codes_sql('l.drug_trac_codg')})"
        ev = self.evidence["count"].sql(rule, {
            "hilist_name": "COALESCE(l.hilist_name, l.hilist_code)", "boxes": "CAST(l.cnt AS BIGINT)",
            "n": "l.n", "codes": "CASE WHEN l.n > 0 THEN '（' || array_to_string(l.codes, '、') || '）' ELSE '' END",
            "missing": "CAST(l.cnt AS BIGINT) - l.n", "amount": "l.amount",
        })  # fmt: skip
        inner = f"""
WITH c AS (
    SELECT l.*, {codes_sql("l.drug_trac_codg")} AS codes, {n} AS n FROM {rule_lines(rule)} l
    WHERE l.list_type IN {in_list(p["list_types"])} AND l.cnt = floor(l.cnt)
),
l AS (
    SELECT c.*, {_share_sql(amount_expr(rule, "c"), "c.cnt - c.n", "c.cnt")} AS amount FROM c
    WHERE c.n < c.cnt {"" if p["require_codes"] else "AND c.n > 0"}
)
SELECT l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, [l.bkkp_sn] AS bkkp_sn, l.hilist_code,
       l.amount, {ev} AS evidence_zh, CAST(NULL AS VARCHAR) AS kp_id
FROM l
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        types = set(p["list_types"])
        out = []
        for ln in claim.lines_of(rule):
            cnt = ln["cnt"]
            if ln["list_type"] not in types or cnt is None or cnt != int(cnt):
                continue
            codes = codes_of(ln["drug_trac_codg"])
            n = len(codes)
            if n >= cnt or (n == 0 and not p["require_codes"]):
                continue
            amount = _share(line_amount(rule, ln), cnt - n, cnt)
            vals = {"hilist_name": ln["hilist_name"] or ln["hilist_code"], "boxes": int(cnt), "n": n,
                    "codes": f"（{'、'.join(codes)}）" if n else "", "missing": int(cnt) - n,
                    "amount": amount}  # fmt: skip
            ev = self.evidence["count"].render(rule, vals)
            out.append(hit(rule, ln, [ln["bkkp_sn"]], amount, ev, hilist_code=ln["hilist_code"]))
        return out


_SALE_COLUMNS = (
    "bkkp_sn", "mdtrt_id", "setl_id", "psn_no", "fixmedins_code", "fee_ocur_time", "hilist_code", "hilist_name",
)  # fmt: skip
"""The ``claim_lines`` columns a reuse hit reads of its sold line (the shared sold lines keep only these)."""


class TraceCodeReuse(Template):
    """One box sold more than once, judged over the whole population (batch only):

    ``check: duplicate`` — a code settled on two or more lines (any person, any institution): each line
    after the code's first sale is a hit (重复结算 → 回流药 / 串换); the evidence names where the first sale
    was (本机构 or another institution) and when.
    ``check: after_refund`` — a code on a refunded line (its refund a line whose ``init_feedetl_sn`` names it)
    sold again after the refund: a dispensed drug may not go back to stock, so the refund was likely false.
    ``check: no_purchase`` — at an institution whose 进销存 (``invt_chg_d``) purchases (3503 采购, 3501 盘存)
    carry trace codes, a sold code with no such row at or before the sale (进销存不符: the box never came in).

    One hit per sale line; the money at issue is the line's amount (or fund share) × offending codes / codes.
    """

    name = "trace_code_reuse"
    shares_work = True
    title_zh = "药品追溯码重复结算 / 退费后再售 / 无进货记录"
    population = True
    params = (
        LIST_TYPES,
        Param(
            "check",
            "str",
            "duplicate | after_refund | no_purchase / 重复结算、退费后再售或无进货记录",
            default="duplicate",
            choices=("duplicate", "after_refund", "no_purchase"),
        ),
    )
    evidence: ClassVar[dict[str, Evidence]] = {
        "duplicate": Evidence(
            "“{hilist_name}”药品追溯码{codes}已于{first_time:minute}在{where}（{first_ins}，就诊{first_mdtrt}）"
            "结算，本次重复结算{k}个追溯码，涉及金额{amount:money}元"
        ),
        "after_refund": Evidence(
            "“{hilist_name}”药品追溯码{codes}已于{refund_time:minute}退费（原明细{orig}），其后再次销售结算，"
            "涉及金额{amount:money}元"
        ),
        "no_purchase": Evidence(
            "“{hilist_name}”药品追溯码{codes}在本机构进销存采购记录中不存在（销售前无进货），涉及金额{amount:money}元"
        ),
    }

    def sql(self, rule: Rule) -> str:
        return self.sql_group([rule])

    def batch_population_keys(self, rule: Rule) -> str:
        # a line's hit reads the other sales of its codes (and the refunds and purchases, read whole)
        return codes_sql("l.drug_trac_codg")

    def sql_group(self, rules: list[Rule]) -> str:
        """The rules share the sold lines and their codes (one read of ``claim_lines`` per set of scenes,
        list types and amount rule)."""
        shared = SharedCtes("tc")
        return shared.sql([self._sql(rule, shared) for rule in rules])

    def _sql(self, rule: Rule, shared: SharedCtes) -> str:
        check = rule.params["check"]
        ev = self.evidence[check]
        amount = _share_sql("s.amount", "s.k", "s.n")
        common = {
            "hilist_name": "COALESCE(s.hilist_name, s.hilist_code)",
            "codes": "array_to_string(s.bad, '、')",
            "amount": amount,
        }
        cols = ", ".join(f"l.{c}" for c in _SALE_COLUMNS)
        # a line without codes sells no code, so it can never be a hit: the sold lines are those with codes
        # (a sixth of the drug lines at 1M), and the codes are split only for them
        sale = shared.name(
            "sale",
            f"""
    SELECT {cols}, {amount_expr(rule, "l")} AS amount, {codes_sql("l.drug_trac_codg")} AS codes
    FROM {rule_lines(rule)} l WHERE l.list_type IN {in_list(rule.params["list_types"])}
      AND l.drug_trac_codg IS NOT NULL""",
        )
        sale_code = shared.name(
            "sale_code",
            f"""SELECT s.bkkp_sn, s.fee_ocur_time AS t, s.fixmedins_code, s.mdtrt_id, unnest(s.codes) AS code
              FROM {sale} s""",
        )
        if check == "duplicate":
            # only codes sold more than once can repeat: the window sorts those, not every sold code
            body = f"""
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY code ORDER BY t, bkkp_sn) AS k,
           first_value(t) OVER (PARTITION BY code ORDER BY t, bkkp_sn) AS first_t,
           first_value(fixmedins_code) OVER (PARTITION BY code ORDER BY t, bkkp_sn) AS first_ins,
           first_value(mdtrt_id) OVER (PARTITION BY code ORDER BY t, bkkp_sn) AS first_mdtrt,
           first_value(bkkp_sn) OVER (PARTITION BY code ORDER BY t, bkkp_sn) AS first_sn
    FROM {sale_code}
    WHERE code IN (SELECT code FROM {sale_code} GROUP BY code HAVING count(*) > 1)
),
rep AS (
    SELECT bkkp_sn, list_sort(list(code)) AS bad, min(first_t) AS first_t,
           arg_min(first_ins, first_t) AS first_ins, arg_min(first_mdtrt, first_t) AS first_mdtrt
    FROM ranked WHERE k > 1 AND first_sn <> bkkp_sn GROUP BY bkkp_sn
),
s AS (SELECT sale.*, rep.bad, rep.first_t, rep.first_ins, rep.first_mdtrt, array_length(rep.bad) AS k,
             array_length(sale.codes) AS n FROM {sale} sale JOIN rep USING (bkkp_sn))"""
            vals = {**common, "first_time": "s.first_t", "first_ins": "s.first_ins", "first_mdtrt": "s.first_mdtrt",
                    "where": "CASE WHEN s.first_ins = s.fixmedins_code THEN '本机构' ELSE '另一定点医药机构' END",
                    "k": "s.k"}  # fmt: skip
        elif check == "after_refund":
            body = f"""
WITH refund AS (
    SELECT o.bkkp_sn AS orig, r.fee_ocur_time AS refund_t,
           unnest({codes_sql("COALESCE(NULLIF(o.drug_trac_codg, ''), r.drug_trac_codg)")}) AS code
    FROM fee_list_d_valid r JOIN fee_list_d_valid o ON o.bkkp_sn = r.init_feedetl_sn
    WHERE r.init_feedetl_sn IS NOT NULL AND r.init_feedetl_sn <> ''
),
rep AS (
    SELECT c.bkkp_sn, list_sort(list(DISTINCT c.code)) AS bad, max(f.refund_t) AS refund_t,
           arg_max(f.orig, f.refund_t) AS orig
    FROM {sale_code} c JOIN refund f ON f.code = c.code AND c.t > f.refund_t AND f.orig <> c.bkkp_sn
    GROUP BY c.bkkp_sn
),
s AS (SELECT sale.*, rep.bad, rep.refund_t, rep.orig, array_length(rep.bad) AS k, array_length(sale.codes) AS n
      FROM {sale} sale JOIN rep USING (bkkp_sn))"""
            vals = {**common, "refund_time": "s.refund_t", "orig": "s.orig"}
        else:
            body = f"""
WITH bought AS (
    SELECT fixmedins_code, chg_time AS t, unnest({codes_sql("drug_trac_codg")}) AS code
    FROM invt_chg_d_valid WHERE inv_chg_type IN ('3503', '3501')
),
reporting AS (SELECT DISTINCT fixmedins_code FROM bought),
rep AS (
    SELECT c.bkkp_sn, list_sort(list(DISTINCT c.code)) AS bad
    FROM {sale_code} c SEMI JOIN reporting USING (fixmedins_code)
    WHERE NOT EXISTS (SELECT 1 FROM bought b WHERE b.fixmedins_code = c.fixmedins_code AND b.code = c.code
                      AND b.t <= c.t)
    GROUP BY c.bkkp_sn
),
s AS (SELECT sale.*, rep.bad, array_length(rep.bad) AS k, array_length(sale.codes) AS n FROM {sale} sale JOIN rep USING (bkkp_sn))"""
            vals = common
        inner = f"""{body}
SELECT s.mdtrt_id, s.setl_id, s.psn_no, s.fixmedins_code, [s.bkkp_sn] AS bkkp_sn, s.hilist_code,
       {amount} AS amount, {ev.sql(rule, vals)} AS evidence_zh, CAST(NULL AS VARCHAR) AS kp_id
FROM s
"""
        return hits(rule, inner)
