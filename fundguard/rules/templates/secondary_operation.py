"""``secondary_operation``: the second and later operations of one group not discounted (手术未按规定折价)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from fundguard.rules.base import hits, rule_lines
from fundguard.rules.claim import Claim
from fundguard.rules.evidence import Evidence
from fundguard.rules.plan import hit
from fundguard.rules.templates.base import Param, Template, sql_int

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

WINDOWS = {"same_day": "l.fee_date", "same_visit": "NULL"}


class SecondaryOperation(Template):
    """Two or more operations of one ``kb_primary_secondary_ops`` group (same incision) in one visit and
    window: the one with the highest full price is the primary; each other one may be charged at most
    ``rate`` × its full price (``pric_uplmt_amt`` of the line or the catalogue) × max(cnt, 1). One hit per
    secondary line above that, with the primary line; the money at issue is the amount above it.

    Without a full price (no ``pric_uplmt_amt``, as many extracts and catalogues lack it) an operation
    billed two or more times in the group and window (a bilateral or repeated operation) takes the highest
    unit price charged for it there as its full price: a second one charged as much was not discounted.
    An operation billed once without a full price is not judged (its discount cannot be told from its own
    price). ``rate`` is 50 % nationally; provinces that pay 75 % set it in a local override.
    The incision itself is not in the data: the group and window stand for it, so rules are 可疑 by default.
    """

    name = "secondary_operation"
    title_zh = "手术项目未按规定折价收费"
    knowledge = ("kb_primary_secondary_ops",)
    knowledge_gate = True  # a hit needs a billed code with a knowledge row (real time skips other claims)
    knowledge_required = True
    amount_rules = ("excess_over_limit",)
    params = (
        Param("rate", "float", "Share of the full price payable for a secondary operation / 次要手术收费比例", default=0.5),
        Param("window", "str", "Operations in one visit on one day or in the whole visit / 同日或同次就诊", default="same_day", choices=tuple(WINDOWS)),
        Param("tolerance", "float", "Amount (yuan) ignored as rounding / 容差（元）", default=0.01),
    )  # fmt: skip

    def check(self, rule: Rule) -> list[tuple[str, str]]:
        if not 0 <= rule.params["rate"] < 1:
            return [("params.rate", "must be in [0, 1) / 须在 0 与 1 之间")]
        return []

    evidence: ClassVar[dict[str, Evidence]] = {
        "discount": Evidence(
            "同次就诊经同一切口组（{group}）的“{primary_name}”与“{hilist_name}”，后者为第{rank}项手术，"
            "应按{percent}%收费（限{allowed:money}元），实收{fee:money}元，未折价部分{excess:money}元"
        )
    }

    def sql(self, rule: Rule) -> str:
        p = rule.params
        rate, tol = float(p["rate"]), float(p["tolerance"])
        allowed = f"{rate} * o.full_price * greatest(o.cnt, 1)"
        excess = f"o.det_item_fee_sumamt - {allowed}"
        ev = self.evidence["discount"].sql(rule, {
            "group": "o.grp", "primary_name": "o.primary_name", "hilist_name": "o.hilist_name", "rank": "o.rk",
            "percent": f"CAST(round({rate} * 100) AS INTEGER)", "allowed": allowed,
            "fee": "o.det_item_fee_sumamt", "excess": excess,
        })  # fmt: skip
        part = f"l.mdtrt_id, k.grp, {WINDOWS[p['window']]}"
        order = "ORDER BY c.full_price DESC, c.fee_ocur_time, c.bkkp_sn"
        inner = f"""
WITH k AS (SELECT code, min(kp_id) AS kp_id, "group" AS grp FROM kb_primary_secondary_ops GROUP BY code, "group"),
c AS (
    SELECT l.*, k.kp_id, k.grp, {WINDOWS[p["window"]]} AS win,
           CASE WHEN l.pric_uplmt_amt > 0 THEN CAST(l.pric_uplmt_amt AS DOUBLE)
                WHEN count(*) OVER (PARTITION BY {part}, l.hilist_code) > 1
                THEN max(CAST(l.pric AS DOUBLE)) OVER (PARTITION BY {part}, l.hilist_code) END AS full_price
    FROM {rule_lines(rule)} l JOIN k ON k.code = l.hilist_code
),
o AS (
    SELECT c.*,
           row_number() OVER (PARTITION BY c.mdtrt_id, c.grp, c.win {order}) AS rk,
           first_value(c.bkkp_sn) OVER (PARTITION BY c.mdtrt_id, c.grp, c.win {order}) AS primary_sn,
           first_value(c.hilist_name) OVER (PARTITION BY c.mdtrt_id, c.grp, c.win {order}) AS primary_name
    FROM c WHERE c.full_price > 0
)
SELECT o.mdtrt_id, o.setl_id, o.psn_no, o.fixmedins_code, [o.primary_sn, o.bkkp_sn] AS bkkp_sn, o.hilist_code,
       {excess} AS amount,
       {ev} AS evidence_zh,
       o.kp_id
FROM o
WHERE o.rk > 1 AND {excess} > {tol}
-- an operation in several groups (肠粘连松解术: 胃肠 / 经腹直肠 / 肝胆 …) is judged in each: report it once
QUALIFY row_number() OVER (PARTITION BY o.bkkp_sn ORDER BY o.grp) = 1
"""
        return hits(rule, inner)

    def evaluate(self, rule: Rule, claim: Claim) -> list[dict]:
        p = rule.params
        rate, tol = float(p["rate"]), float(p["tolerance"])
        index = claim.knowledge("kb_primary_secondary_ops")
        parts: dict[tuple, list] = {}
        for ln in claim.lines_of(rule):
            groups: dict[str, str] = {}
            for k in index.get(ln["hilist_code"], ()):
                g = k["group"]
                groups[g] = min(groups.get(g, k["kp_id"]), k["kp_id"])
            for g, kp_id in groups.items():
                day = ln["fee_date"] if p["window"] == "same_day" else None
                parts.setdefault((ln["mdtrt_id"], g, day), []).append((ln, kp_id))
        for key, rows in list(parts.items()):
            same: dict[str, list[float]] = {}
            for ln, _ in rows:
                if ln["pric"] is not None:
                    same.setdefault(ln["hilist_code"], []).append(float(ln["pric"]))
            kept = []
            for ln, kp_id in rows:
                cap = ln["pric_uplmt_amt"]
                if cap is not None and cap > 0:
                    full = float(cap)
                elif sum(1 for o, _ in rows if o["hilist_code"] == ln["hilist_code"]) > 1:
                    prices = same.get(ln["hilist_code"])
                    full = max(prices) if prices else None
                else:
                    full = None
                if full is not None and full > 0:
                    kept.append((ln, kp_id, full))
            parts[key] = kept
        best: dict[str, tuple] = {}
        for (_, g, _), rows in parts.items():
            rows.sort(key=lambda r: (-r[2], r[0]["fee_ocur_time"], r[0]["bkkp_sn"]))
            if not rows:
                continue
            primary = rows[0][0]
            for rk, (o, kp_id, full) in enumerate(rows, start=1):
                allowed = rate * full * float(max(o["cnt"], 1))
                excess = float(o["det_item_fee_sumamt"]) - allowed
                if rk > 1 and excess > tol and (o["bkkp_sn"] not in best or g < best[o["bkkp_sn"]][1]):
                    best[o["bkkp_sn"]] = (o, g, kp_id, rk, primary, allowed, excess)
        out = []
        for o, g, kp_id, rk, primary, allowed, excess in best.values():
            vals = {"group": g, "primary_name": primary["hilist_name"], "hilist_name": o["hilist_name"], "rank": rk,
                    "percent": sql_int(rate * 100), "allowed": allowed, "fee": o["det_item_fee_sumamt"],
                    "excess": excess}  # fmt: skip
            out.append(hit(rule, o, [primary["bkkp_sn"], o["bkkp_sn"]], excess,
                           self.evidence["discount"].render(rule, vals), hilist_code=o["hilist_code"], kp_id=kp_id))  # fmt: skip
        return out
