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
SELECT psn, list(mdtrt_id ORDER BY begntime) AS stays, sum(fee) AS fee,
    sum(greatest(bed_days - care_days, 0)) / greatest(sum(bed_days), 1) AS no_care_share,
    list(DISTINCT inst) AS insts
FROM stays WHERE psn IN (SELECT unnest(?)) GROUP BY psn
"""


def find_groups(con: duckdb.DuckDBPyConnection, *, min_size: int = 3, seed: int = 0) -> list[dict]:
    """Candidate groups, riskiest first: members, co-admission counts, stays, money, score and reasons."""
    edges = con.execute(PAIRS_SQL).fetchall()
    g = nx.Graph()
    g.add_weighted_edges_from((a, b, w) for a, b, w, _ in edges)
    times = {(a, b): t for a, b, _, t in edges}
    typical = con.execute(
        "SELECT median(greatest(bed_days - care_days, 0) / greatest(bed_days, 1)) FROM stays"
    ).fetchone()[0]
    groups = []
    for community in nx.community.louvain_communities(g, weight="weight", seed=seed):
        if len(community) < min_size:
            continue
        members = sorted(community)
        sub = g.subgraph(members)
        n_pairs = len(members) * (len(members) - 1) / 2
        co = [times.get((a, b), times.get((b, a), 0)) for a, b in sub.edges()]
        repeat = max(co) if co else 0
        rows = con.execute(MEMBER_SQL, [members]).fetchall()
        stays = [s for r in rows for s in r[1]]
        money = sum(float(r[2] or 0) for r in rows)
        no_care = sum(float(r[3] or 0) for r in rows) / max(len(rows), 1)
        insts = sorted({i for r in rows for i in r[4]})
        density = sub.number_of_edges() / n_pairs
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
                "money": money,
                "institutions": insts,
            }
        )
    return sorted(groups, key=lambda x: -x["score"])
