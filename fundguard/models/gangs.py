"""诱导住院 / 团伙: insured persons who are admitted together, again and again.

Two persons are linked when they were admitted to the same institution on the same day; the link's weight
counts such co-admissions (one more when the main diagnosis is the same too, and one more when both share a
contact address). Chance co-admissions are common in a busy hospital but rarely repeat, so only links of
weight ≥ 2 are kept; networkx's Louvain communities over what remains are the candidate groups.
"""

from __future__ import annotations

import math

import duckdb
import networkx as nx
import pyarrow as pa

PAIRS_SQL = """
WITH s AS (SELECT mdtrt_id, psn, inst, day, diag, addr, bed_days, care_days, fee FROM stays),
pairs AS (
    SELECT a.psn AS p1, b.psn AS p2, a.inst, a.day,
        (a.diag = b.diag)::INT AS same_diag, (a.addr IS NOT NULL AND a.addr = b.addr)::INT AS same_addr
    FROM s a JOIN s b ON a.inst = b.inst AND a.day = b.day AND a.psn < b.psn
)
SELECT p1, p2, count(*) + max(same_diag) + max(same_addr) AS weight, count(*) AS times
FROM pairs GROUP BY p1, p2 HAVING count(*) + max(same_diag) + max(same_addr) >= 2
"""

MEMBER_SQL = """
SELECT m.community, list(s.mdtrt_id ORDER BY s.begntime) AS stays, sum(s.fee) AS fee,
    sum(greatest(s.bed_days - s.care_days, 0)) / greatest(sum(s.bed_days), 1) AS no_care_share,
    list(DISTINCT s.inst ORDER BY s.inst) AS insts
FROM stays s JOIN _members m ON m.psn = s.psn GROUP BY m.community
"""
"""Per candidate group (``_members``: psn → community): the members' stays, money, and bed-only share."""


def find_groups(con: duckdb.DuckDBPyConnection, *, min_size: int = 3, seed: int = 0) -> list[dict]:
    """Candidate groups, riskiest first: members, co-admission counts, stays, money, score and reasons."""
    edges = con.execute(PAIRS_SQL).fetchall()
    g = nx.Graph()
    g.add_weighted_edges_from((a, b, w) for a, b, w, _ in edges)
    times = {(a, b): t for a, b, _, t in edges}
    typical = con.execute(
        "SELECT median(greatest(bed_days - care_days, 0) / greatest(bed_days, 1)) FROM stays"
    ).fetchall()[0][0]
    candidates = [
        sorted(c)
        for c in nx.community.louvain_communities(g, weight="weight", seed=seed)
        if len(c) >= min_size
    ]
    if not candidates:
        return []
    con.register(
        "_members",
        pa.table(
            {
                "psn": [p for c in candidates for p in c],
                "community": [k for k, c in enumerate(candidates) for _ in c],
            }
        ),
    )
    facts = {r[0]: r[1:] for r in con.execute(MEMBER_SQL).fetchall()}
    con.unregister("_members")
    groups = []
    for k, members in enumerate(candidates):
        sub = g.subgraph(members)
        co = [times.get((a, b), times.get((b, a), 0)) for a, b in sub.edges()]
        repeat = max(co) if co else 0
        stays, money, no_care, insts = facts[k]
        no_care = float(no_care or 0)
        density = sub.number_of_edges() / (len(members) * (len(members) - 1) / 2)
        score = 2.0 * repeat + math.log2(len(members)) * density + 4.0 * no_care
        groups.append(
            {
                "members": members,
                "score": round(score, 3),
                "reasons": [
                    f"{len(members)}名参保人{'多次' if repeat > 1 else ''}同日集中入住同一机构，"
                    f"两人之间最多共同入院 {repeat} 次",
                    f"成员间关联密度 {density * 100:.0f}%（同日同院入院、相同主诊断或相同联系地址）",
                    f"成员住院中无诊疗护理床日占比 {no_care * 100:.0f}%，全体住院中位数 {(typical or 0) * 100:.0f}%",
                ],
                "visits": stays,
                "money": float(money or 0),
                "institutions": insts,
                "links": [
                    {
                        "source": a,
                        "target": b,
                        "weight": int(d["weight"]),
                        "times": int(times.get((a, b), times.get((b, a), 0))),
                    }
                    for a, b, d in sub.edges(data=True)
                ],
            }
        )
    return sorted(groups, key=lambda x: -x["score"])
