"""``drug_safety``: a drug given against a settled safety fact — the patient's age, a diagnosis of the visit, or
another drug the same day (classes 66, 71–75)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from fundguard.rules.base import amount_expr, hits, lit, rule_lines
from fundguard.rules.claim import Claim, Row
from fundguard.rules.evidence import SEX_SQL, Evidence, sex_zh
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import (
    KP_FILTER,
    Param,
    SharedCtes,
    Template,
    kp_index,
    kp_where,
    line_amount,
    rule_memo,
    sql_min,
    sql_round,
)
from fundguard.rules.templates.code_consistency import norm

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

KINDS = ("age", "sex", "diagnosis", "pair")


def _sel_sql(line: str, prefix: str, contains: str, excludes: str | None) -> str:
    """The line picks the drug: code prefix, name containing, no excluded form in the name."""
    out = f"starts_with({line}.hilist_code, {prefix}) AND ({contains} IS NULL OR contains({line}.hilist_name, {contains}))"
    if excludes:
        out += f" AND ({excludes} IS NULL OR NOT regexp_matches({line}.hilist_name, {excludes}))"
    return out


def _sel(ln: Row, prefix: str | None, contains: str | None, excludes: str | None = None) -> bool:
    """``_sel_sql`` in Python (a NULL name or code picks nothing, as the SQL's NULL does)."""
    code, name = ln["hilist_code"], ln["hilist_name"]
    if code is None or prefix is None or not code.startswith(prefix):
        return False
    if contains is not None and (name is None or contains not in name):
        return False
    return excludes is None or (name is not None and re.search(excludes, name) is None)


_LINE_COLUMNS = (
    "bkkp_sn", "mdtrt_id", "setl_id", "psn_no", "fixmedins_code", "fee_date", "hilist_code", "hilist_name",
    "det_item_fee_sumamt", "inscp_amt", "gend", "age_years",
)  # fmt: skip
"""The ``claim_lines`` columns the rules read (their shared line set keeps only these)."""


class DrugSafety(Template):
    """A drug line (picked in ``kb_drug_safety`` by the national code prefix — ``X`` + ATC level 4 — and/or a
    name fragment, with local forms such as eye drops left out by ``name_excludes``) given against a settled
    fact of its ``kind``:

    - ``age`` (66 儿童禁用, 72 老年人): the patient's age at admission is in the fact's forbidden range
      [``min_age``, ``max_age``);
    - ``sex`` (87 医用耗材与性别不符): the patient's sex (known) is not the fact's ``allowed_gend`` — the same
      table picks consumables (national code prefix ``C``) by a name fragment naming a one-sex organ;
    - ``diagnosis`` (71 禁忌症, 73 妊娠期): the visit has a diagnosis starting with the fact's ``diag_prefix``
      (``mdtrt_d.dscg_maindiag_code`` and every ``setl_list_diag_d.diag_code``);
    - ``pair`` (74 相互作用, 75 十八反/十九畏): the same visit has, on the same day, a line of the fact's drug and
      a line of its partner (``partner_code_prefix``, ``partner_name_contains``).

    One hit per offending line (for a pair: the partner line, with the drug's lines in ``bkkp_sn`` before
    it); ``kp_id`` the smallest point. Only lines with a fund share (``inscp_amt > 0``) are judged unless
    ``require_fund`` is false; for a pair both lines must qualify.
    """

    name = "drug_safety"
    shares_work = True
    title_zh = "药品与耗材安全（儿童禁用、老年人、妊娠期、禁忌症、相互作用、十八反十九畏、耗材限性别）"
    knowledge = ("kb_drug_safety",)
    knowledge_required = True
    knowledge_by_code = False  # prefixes of diagnosis/operation codes, name fragments, absence from a list
    knowledge_keys: ClassVar[dict[str, tuple[str, ...]]] = {"kb_drug_safety": ("kp_id",)}
    params = (
        Param("kind", "str", "Which facts: age, diagnosis or pair / 事实类型", required=True, choices=KINDS),
        KP_FILTER,
        Param(
            "require_fund",
            "bool",
            "Judge only lines with a fund share (inscp_amt > 0) / 仅审核有基金支付的明细",
            default=True,
        ),
    )

    evidence: ClassVar[dict[str, Evidence]] = {
        "age": Evidence(
            "参保人就诊时年龄{age:num}岁，“{hilist_name}”属{group}：{fact}，涉及费用{amount:money}元"
        ),
        "sex": Evidence("参保人性别为{sex}，“{hilist_name}”属{group}：{fact}，涉及费用{amount:money}元"),
        "diagnosis": Evidence(
            "本次就诊诊断{diagnoses}，“{hilist_name}”属{group}：{fact}，涉及费用{amount:money}元"
        ),
        "pair": Evidence(
            "{date:date}同次就诊同日使用“{main_name}”与“{hilist_name}”（{group}）：{fact}，涉及费用{amount:money}元"
        ),
    }

    # --- batch ---------------------------------------------------------------------------------------
    def sql(self, rule: Rule) -> str:
        return self.sql_group([rule])

    def sql_group(self, rules: list[Rule]) -> str:
        """The rules share their lines (one narrow read of ``claim_lines`` per set of scenes), the distinct
        billed (code, name) and the diagnoses of the lines' visits."""
        shared = SharedCtes("ds")
        return shared.sql([self._sql(rule, shared) for rule in rules])

    def _sql(self, rule: Rule, shared: SharedCtes) -> str:
        p = rule.params
        kind = p["kind"]
        fund = "l.inscp_amt > 0" if p["require_fund"] else "TRUE"
        k = f"(SELECT * FROM kb_drug_safety k WHERE {kp_where(rule)} AND k.kind = {lit(kind)})"
        # the codes any fact of the table picks (as the drug or as a partner), worked out once over the
        # distinct billed (code, name): the rules read only lines of these codes (a few per cent), so
        # their line sets, visits and diagnoses stay small; each rule's own match is made below
        pick = shared.name(
            "pick",
            f"""SELECT DISTINCT c.hilist_code FROM (SELECT DISTINCT hilist_code, hilist_name FROM claim_lines) c
      JOIN kb_drug_safety k ON ({_sel_sql("c", "k.code_prefix", "k.name_contains", "k.name_excludes")})
        OR ({_sel_sql("c", "k.partner_code_prefix", "k.partner_name_contains", None)})""",
        )
        lines = shared.name(
            "l",
            f"SELECT {', '.join(f'l.{c}' for c in _LINE_COLUMNS)} FROM {rule_lines(rule)} l WHERE {fund}"
            f" AND l.hilist_code IN (SELECT hilist_code FROM {pick})",
        )
        # the drug is picked by code prefix and name, so the match is worked out once per distinct
        # (code, name) billed (thousands), then equi-joined to the lines (millions): a join of every line
        # with every fact under starts_with / regexp took 100 s at 1M lines
        codes = shared.name("c", f"SELECT DISTINCT hilist_code, hilist_name FROM {lines}")
        head = f"""WITH k AS {k},
km AS (SELECT c.hilist_code AS sel_code, c.hilist_name AS sel_name, k.* FROM {codes} c JOIN k
       ON {_sel_sql("c", "k.code_prefix", "k.name_contains", "k.name_excludes")})"""
        picked = "k.sel_code = l.hilist_code AND k.sel_name IS NOT DISTINCT FROM l.hilist_name"
        one = "any_value(l.mdtrt_id) AS mdtrt_id, any_value(l.setl_id) AS setl_id, any_value(l.psn_no) AS psn_no, any_value(l.fixmedins_code) AS fixmedins_code"
        amount = f"any_value({amount_expr(rule, 'l')})"
        if kind == "age":
            ev = self.evidence["age"].sql(rule, {
                "age": "any_value(round(l.age_years, 1))", "hilist_name": "any_value(l.hilist_name)",
                "group": "arg_min(k.group_zh, k.kp_id)", "fact": "arg_min(k.fact_zh, k.kp_id)", "amount": amount,
            })  # fmt: skip
            inner = f"""{head}
SELECT {one}, [l.bkkp_sn] AS bkkp_sn, any_value(l.hilist_code) AS hilist_code, {amount} AS amount,
       {ev} AS evidence_zh, min(k.kp_id) AS kp_id
FROM {lines} l JOIN km k ON {picked}
WHERE l.age_years IS NOT NULL AND (k.min_age IS NULL OR l.age_years >= k.min_age)
  AND (k.max_age IS NULL OR l.age_years < k.max_age)
GROUP BY l.bkkp_sn"""
        elif kind == "sex":
            ev = self.evidence["sex"].sql(rule, {
                "sex": SEX_SQL.format("any_value(l.gend)"), "hilist_name": "any_value(l.hilist_name)",
                "group": "arg_min(k.group_zh, k.kp_id)", "fact": "arg_min(k.fact_zh, k.kp_id)", "amount": amount,
            })  # fmt: skip
            inner = f"""{head}
SELECT {one}, [l.bkkp_sn] AS bkkp_sn, any_value(l.hilist_code) AS hilist_code, {amount} AS amount,
       {ev} AS evidence_zh, min(k.kp_id) AS kp_id
FROM {lines} l JOIN km k ON {picked}
WHERE l.gend IN ('1', '2') AND l.gend <> k.allowed_gend
GROUP BY l.bkkp_sn"""
        elif kind == "diagnosis":
            ev = self.evidence["diagnosis"].sql(rule, {
                "diagnoses": "string_agg(DISTINCT d.code, '、' ORDER BY d.code)", "hilist_name": "any_value(l.hilist_name)",
                "group": "arg_min(k.group_zh, k.kp_id)", "fact": "arg_min(k.fact_zh, k.kp_id)", "amount": amount,
            })  # fmt: skip
            d = shared.name(
                "d",
                f"""SELECT DISTINCT x.mdtrt_id, trim(x.code) AS code, upper(replace(trim(x.code), '.', '')) AS norm
      FROM (SELECT mdtrt_id, dscg_maindiag_code AS code FROM mdtrt_d_valid
            UNION ALL SELECT mdtrt_id, diag_code FROM setl_list_diag_d_valid) x
      WHERE x.code IS NOT NULL AND trim(x.code) <> '' AND x.mdtrt_id IN (SELECT mdtrt_id FROM {lines})""",
            )
            inner = f"""{head}
SELECT {one}, [l.bkkp_sn] AS bkkp_sn, any_value(l.hilist_code) AS hilist_code, {amount} AS amount,
       {ev} AS evidence_zh, min(k.kp_id) AS kp_id
FROM {lines} l JOIN km k ON {picked}
JOIN {d} d ON d.mdtrt_id = l.mdtrt_id AND starts_with(d.norm, k.diag_prefix)
GROUP BY l.bkkp_sn"""
        else:
            # s (partner lines) and m (drug lines) are a few picked lines each; DISTINCT (a no-op on their
            # rows, and the aggregates below ignore duplicates) keeps DuckDB from joining the visit's lines
            # to each other before picking them (3.7M pairs at 1M lines: half the template's time)
            ev = self.evidence["pair"].sql(rule, {
                "date": "any_value(l.fee_date)", "main_name": "min(m.hilist_name)", "hilist_name": "any_value(l.hilist_name)",
                "group": "arg_min(l.group_zh, l.kp_id)", "fact": "arg_min(l.fact_zh, l.kp_id)", "amount": amount,
            })  # fmt: skip
            inner = f"""{head},
kp AS (SELECT c.hilist_code AS sel_code, c.hilist_name AS sel_name, k.* FROM {codes} c JOIN k
       ON {_sel_sql("c", "k.partner_code_prefix", "k.partner_name_contains", None)}),
s AS (SELECT DISTINCT l.*, k.kp_id, k.group_zh, k.fact_zh, k.code_prefix AS m_prefix,
             k.name_contains AS m_name, k.name_excludes AS m_excl
      FROM {lines} l JOIN kp k ON {picked}),
mk AS (SELECT DISTINCT sel_code, sel_name, code_prefix, name_contains, name_excludes FROM km),
m AS (SELECT DISTINCT l.bkkp_sn, l.mdtrt_id, l.fee_date, l.hilist_name, k.code_prefix AS m_prefix,
             k.name_contains AS m_name, k.name_excludes AS m_excl
      FROM {lines} l JOIN mk k ON {picked})
SELECT {one}, list_append(list(DISTINCT m.bkkp_sn ORDER BY m.bkkp_sn), l.bkkp_sn) AS bkkp_sn,
       any_value(l.hilist_code) AS hilist_code, {amount} AS amount, {ev} AS evidence_zh, min(l.kp_id) AS kp_id
FROM s l JOIN m ON m.mdtrt_id = l.mdtrt_id AND m.bkkp_sn <> l.bkkp_sn AND m.fee_date = l.fee_date
     AND m.m_prefix = l.m_prefix AND m.m_name IS NOT DISTINCT FROM l.m_name
     AND m.m_excl IS NOT DISTINCT FROM l.m_excl
GROUP BY l.bkkp_sn"""
        return hits(rule, inner)

    # --- real time -----------------------------------------------------------------------------------
    def _rows(self, rule: Rule, claim: Claim) -> list[Row]:
        index = kp_index(rule, claim, "kb_drug_safety")
        memo = rule_memo(rule, index, "rows")
        rows = memo.get("rows")
        if rows is None:
            rows = memo["rows"] = [k for ks in index.values() for k in ks if k["kind"] == rule.params["kind"]]
        return rows

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        kind = p["kind"]
        rows = self._rows(rule, claim)
        if not rows:
            return []
        picks = _picker(rule, rows, "code_prefix", "name_contains", "name_excludes")
        if kind == "pair":
            partners = _picker(rule, rows, "partner_code_prefix", "partner_name_contains", None)
        # most claims bill no drug a fact names: the claim's distinct (code, name) pairs, looked up once each,
        # say so without a pass over its lines
        items = claim._cache.get("code_names")
        if items is None:
            items = claim._cache["code_names"] = {
                (ln["hilist_code"], ln["hilist_name"]) for ln in claim.lines
            }
        if not any(map((partners if kind == "pair" else picks).of, items)):
            return []
        lines = [
            ln for ln in claim.lines_of(rule) if not p["require_fund"] or (ln["inscp_amt"] or 0) > 0
        ]  # fmt: skip
        out = []
        if kind == "diagnosis":
            dx = sorted({(c.strip(" "), norm(c)) for c in claim.diagnoses if c.strip(" ")})
        for ln in lines:
            extra: dict[str, Any] = {}
            sns = [ln["bkkp_sn"]]
            if kind == "pair":
                cand = partners(ln)
                if not cand:
                    continue
                same_day = [
                    m for m in lines
                    if m["fee_date"] == ln["fee_date"] and m["bkkp_sn"] != ln["bkkp_sn"]
                    and m["mdtrt_id"] == ln["mdtrt_id"]
                ]  # fmt: skip
                pairs = [(k, m) for k in cand for m in same_day if id(k) in picks.ids(m)]
                ks = [k for k, _ in pairs]
                if ks:
                    sns = [*sorted({m["bkkp_sn"] for _, m in pairs}), ln["bkkp_sn"]]
                    extra["date"] = ln["fee_date"]
                    extra["main_name"] = sql_min(m["hilist_name"] for _, m in pairs)
            else:
                cand = picks(ln)
                if not cand:
                    continue
                if kind == "age":
                    age = ln["age_years"]
                    ks = [] if age is None else [
                        k for k in cand
                        if (k["min_age"] is None or age >= k["min_age"]) and (k["max_age"] is None or age < k["max_age"])
                    ]  # fmt: skip
                    if ks:
                        extra["age"] = sql_round(age, 1)
                elif kind == "sex":
                    g = ln["gend"]
                    ks = [] if g not in ("1", "2") else [k for k in cand if k["allowed_gend"] != g]
                    extra["sex"] = sex_zh(g)
                else:
                    matched = [(k, c) for k in cand for c, n in dx if n.startswith(k["diag_prefix"])]
                    ks = [k for k, _ in matched]
                    extra["diagnoses"] = "、".join(sorted({c for _, c in matched}))
            if not ks:
                continue
            first = min(ks, key=lambda k: k["kp_id"])
            amount = line_amount(rule, ln)
            vals = {"hilist_name": ln["hilist_name"], "group": first["group_zh"], "fact": first["fact_zh"],
                    "amount": amount, **extra}  # fmt: skip
            out.append(hit(rule, ln, sns, amount, self.evidence[kind].render(rule, vals),
                           hilist_code=ln["hilist_code"], kp_id=first["kp_id"]))  # fmt: skip
        return out


class _Picks(dict):
    """(hilist_code, hilist_name) → the knowledge rows whose selector picks such a line (``_sel``), in row
    order: worked out once per code and name, not per line and row. Rows are grouped by prefix length so a
    miss costs one dict lookup per length, not a scan of the table."""

    def __init__(self, rows: list[Row], prefix: str, contains: str, excludes: str | None) -> None:
        super().__init__()
        self.cols = (prefix, contains, excludes)
        self.by_prefix: dict[int, dict[str, list[Row]]] = {}
        for k in rows:
            if k[prefix] is not None:
                self.by_prefix.setdefault(len(k[prefix]), {}).setdefault(k[prefix], []).append(k)
        self.order = {id(k): i for i, k in enumerate(rows)}
        self.id_sets: dict[tuple, frozenset[int]] = {}

    def __call__(self, ln: Row) -> tuple[Row, ...]:
        return self.of((ln["hilist_code"], ln["hilist_name"]))

    def of(self, item: tuple[str | None, str | None]) -> tuple[Row, ...]:
        """The rows picking a line of this (hilist_code, hilist_name)."""
        got = self.get(item)
        if got is None:
            got = self[item] = self._pick({"hilist_code": item[0], "hilist_name": item[1]})
        return got

    def ids(self, ln: Row) -> frozenset[int]:
        """The ``id``s of ``self(ln)`` (membership without comparing rows)."""
        key = (ln["hilist_code"], ln["hilist_name"])
        got = self.id_sets.get(key)
        if got is None:
            got = self.id_sets[key] = frozenset(map(id, self(ln)))
        return got

    def _pick(self, ln: Row) -> tuple[Row, ...]:
        code = ln["hilist_code"]
        if code is None:
            return ()
        prefix, contains, excludes = self.cols
        cand = [k for n, by in self.by_prefix.items() for k in by.get(code[:n], ()) if len(code) >= n]
        cand.sort(key=lambda k: self.order[id(k)])
        return tuple(k for k in cand if _sel(ln, k[prefix], k[contains], k[excludes] if excludes else None))


def _picker(rule: Rule, rows: list[Row], prefix: str, contains: str, excludes: str | None) -> _Picks:
    """The rule's ``_Picks`` over ``rows`` for one selector, kept across claims (``rule_memo``)."""
    memo = rule_memo(rule, rows, "picks")
    got = memo.get(prefix)
    if got is None or len(got) > 100_000:
        got = memo[prefix] = _Picks(rows, prefix, contains, excludes)
    return got
