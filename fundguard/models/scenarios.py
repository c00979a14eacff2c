"""The scenario models: each combines indicators (as robust scores against peers), absolute evidence and rule
hits into one score per entity, with its reasons, linked visits and money at risk.

A score is a sum of capped robust scores (``peers.Z_CAP``) and fixed points for evidence that needs no peer
(a day with more patients than licensed beds, a visit after death); so scores of different models are on
one scale and an entity's rank within its type is the order of its best model score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import polars as pl

from fundguard.models import gangs
from fundguard.models.indicators import (
    DEPARTMENT_SQL,
    DOCTOR_SQL,
    INDICATORS,
    INVENTORY_SQL,
    PERSON_SQL,
    frame,
    institution_month,
    pharmacy_month,
)
from fundguard.models.peers import (
    LEVEL_ZH,
    institution_peer,
    pharmacy_peer,
    reason,
    robust_scores,
    values_long,
)

MAX_LINKED = 50
"""Linked visits kept per lead (the money counts them all)."""
KEEP_PER_MODEL = 200
"""Leads kept per model (the riskiest); the model run is a ranking, not a census."""


@dataclass(frozen=True)
class Term:
    """One scored indicator of a model: its weight and the peer column it is compared within."""

    code: str
    weight: float = 1.0


def _weighted(df: pl.DataFrame, terms: list[Term]) -> pl.Expr:
    return pl.sum_horizontal([pl.col(f"{t.code}__z") * t.weight for t in terms])


REASON_MIN = 0.5
"""A term is named as a reason when it adds at least this much to the score (the strongest always is)."""


def _reasons(row: dict, terms: list[Term], peer_label: str | dict[str, str], top: int = 3) -> list[str]:
    """The strongest terms of ``row`` as Chinese reasons with the value and the peer median; ``peer_label``
    may name the peer group per indicator code."""
    part = {t.code: (row.get(f"{t.code}__z") or 0) * t.weight for t in terms}
    ranked = sorted((t for t in terms if part[t.code] > 0), key=lambda t: -part[t.code])[:top]
    label = peer_label if isinstance(peer_label, dict) else {}
    return [
        reason(t.code, row.get(t.code), row.get(f"{t.code}__med"), label.get(t.code, peer_label))
        for k, t in enumerate(ranked)
        if k == 0 or part[t.code] >= REASON_MIN
    ]


def _lead(etype, eid, name, peer, model, score, reasons, visits=(), money=0.0, related=()) -> dict:
    return {
        "entity_type": etype,
        "entity_id": eid,
        "entity_name": name or "",
        "peer_group": peer or "",
        "model": model,
        "score": round(float(score), 3),
        "reasons": list(reasons),
        "visits": list(visits or [])[:MAX_LINKED],
        "related": list(related),
        "money": round(float(money or 0), 2),
    }


MIN_SCORE = 1.0
"""A lead needs at least one robust standard deviation of evidence: below that is the peers' own spread."""


def _top(leads: list[dict]) -> list[dict]:
    leads = [x for x in leads if x["score"] >= MIN_SCORE and x["reasons"]]
    return sorted(leads, key=lambda x: (-x["score"], x["entity_id"]))[:KEEP_PER_MODEL]


# --- institutions (hospitals) ----------------------------------------------------------------------------
STAY_EVIDENCE_SQL = f"""
SELECT inst,
    list_slice(list(mdtrt_id ORDER BY fee DESC) FILTER (WHERE bed_days > care_days), 1, {MAX_LINKED}) AS ghost_ids,
    coalesce(sum(fee) FILTER (WHERE bed_days > care_days), 0) AS ghost_money,
    list_slice(list(mdtrt_id ORDER BY fee DESC) FILTER (WHERE readmit), 1, {MAX_LINKED}) AS readmit_ids,
    coalesce(sum(fee) FILTER (WHERE readmit), 0) AS readmit_money,
    list_slice(list(mdtrt_id ORDER BY fee DESC) FILTER (WHERE retests > 0), 1, {MAX_LINKED}) AS retest_ids,
    coalesce(sum(fee) FILTER (WHERE retests > 0), 0) AS retest_money,
    list_slice(list(mdtrt_id ORDER BY fee DESC) FILTER (WHERE has_mcc), 1, {MAX_LINKED}) AS mcc_ids,
    coalesce(sum(fee) FILTER (WHERE has_mcc), 0) AS mcc_money
FROM stays GROUP BY inst
"""

INSTITUTION_MODELS: dict[str, list[Term]] = {
    "ghost_bed": [
        Term("no_care_share"),
        Term("peak_occupancy"),
        Term("occupancy", 0.5),
        Term("cluster_adm_share", 0.5),
    ],
    "split_admission": [Term("readmit_rate")],
    "upcoding": [Term("mcc_share"), Term("cc_share", 0.5)],
    "repeated_test": [Term("retest_rate")],
    "cost_structure": [
        Term(c, 0.3)
        for c in (
            "avg_fee",
            "bed_day_fee",
            "drug_share",
            "material_share",
            "exam_share",
            "avg_los",
            "visits_per_person",
            "ipt_rate",
            "revisit_rate",
        )
    ],
    "rule_hits": [Term("rule_hit_share")],
}
STAY_CODES = [
    "no_care_share",
    "readmit_rate",
    "retest_rate",
    "mcc_share",
    "cc_share",
    "avg_los",
    "bed_day_fee",
]


def institution_leads(
    con: duckdb.DuckDBPyConnection, hits: pl.DataFrame | None, sink: list[pl.DataFrame] | None = None
) -> list[dict]:
    """Hospital leads; ``sink`` collects every institution's indicator values and scores (``values_long``)."""
    df = frame(con, institution_month(period=True))
    info = frame(con, "SELECT inst, name, level FROM institutions")
    df = df.join(info, on="inst", how="left")
    df = df.with_columns(
        peer=pl.struct("name", "level").map_elements(
            lambda r: institution_peer(r["name"], r["level"]), return_dtype=pl.String
        )
    )
    df = _with_hits(df, hits)
    visit_codes = sorted({t.code for ts in INSTITUTION_MODELS.values() for t in ts} - set(STAY_CODES))
    df = robust_scores(df, "peer", STAY_CODES, (pl.col("stays") / 20).clip(0, 1))
    df = robust_scores(df, "peer", visit_codes, (pl.col("visits") / 100).clip(0, 1))
    if sink is not None:
        sink.append(values_long(df, "institution", "inst", "peer", STAY_CODES + visit_codes))
    ev = {r["inst"]: r for r in frame(con, STAY_EVIDENCE_SQL).iter_rows(named=True)}
    leads: dict[str, list[dict]] = {m: [] for m in INSTITUTION_MODELS}
    for model, terms in INSTITUTION_MODELS.items():
        scores = df.select(_weighted(df, terms)).to_series()
        for row, score in zip(df.iter_rows(named=True), scores, strict=True):
            e = ev.get(row["inst"], {})
            reasons = _reasons(row, terms, row["peer"])
            visits, money = [], 0.0
            if model == "ghost_bed":
                peak = row.get("peak_occupancy")
                if (
                    peak is not None and peak > 1
                ):  # more patients in one day than licensed beds: no peer needed
                    score += 3.0
                    reasons.insert(
                        0,
                        f"单日在院 {row['peak_patients']} 人，超过核定床位 {row['beds']} 张"
                        f"（床位使用率峰值 {peak * 100:.0f}%）",
                    )
                visits, money = e.get("ghost_ids"), e.get("ghost_money")
            elif model == "split_admission":
                visits, money = e.get("readmit_ids"), e.get("readmit_money")
            elif model == "repeated_test":
                visits, money = e.get("retest_ids"), e.get("retest_money")
            elif model == "upcoding":
                own, med = row.get("mcc_share") or 0, row.get("mcc_share__med") or 0
                visits = e.get("mcc_ids")
                money = (e.get("mcc_money") or 0) * max(0.0, 1 - med / own) if own else 0.0
            elif model == "rule_hits":
                money = row.get("hit_money") or 0
            leads[model].append(
                _lead(
                    "institution", row["inst"], row["name"], row["peer"], model, score, reasons, visits, money
                )
            )
    return [x for m in leads.values() for x in _top(m)]


def _with_hits(df: pl.DataFrame, hits: pl.DataFrame | None) -> pl.DataFrame:
    if hits is None or hits.is_empty():
        return df.with_columns(hit_money=pl.lit(0.0), rule_hit_share=pl.lit(None, pl.Float64))
    df = df.join(hits.rename({"fixmedins_code": "inst"}), on="inst", how="left")
    return df.with_columns(
        hit_money=pl.col("hit_money").fill_null(0.0),
        rule_hit_share=pl.col("hit_money").fill_null(0.0) / pl.col("fee"),
    )


# --- pharmacies ------------------------------------------------------------------------------------------
PHARMACY_EVIDENCE_SQL = f"""
SELECT inst,
    list_slice(list(mdtrt_id ORDER BY begntime) FILTER (WHERE repeat_card), 1, {MAX_LINKED}) AS card_ids,
    coalesce(sum(fee) FILTER (WHERE repeat_card), 0) AS card_money
FROM pharmacy_visits GROUP BY inst
"""


def pharmacy_leads(
    con: duckdb.DuckDBPyConnection, hits: pl.DataFrame | None, sink: list[pl.DataFrame] | None = None
) -> list[dict]:
    df = frame(con, pharmacy_month(period=True))
    info = frame(con, "SELECT inst, name FROM institutions")
    inv = frame(
        con,
        f"""
        SELECT inst, avg((sold > bought)::INT) AS short_item_share,
            sum((sold - bought) * price) FILTER (WHERE sold > bought) AS short_money,
            list(hilist_code ORDER BY (sold - bought) * price DESC) FILTER (WHERE sold > bought) AS short_items
        FROM ({INVENTORY_SQL}) GROUP BY inst""",
    )
    df = df.join(info, on="inst", how="left").join(inv, on="inst", how="left")
    df = df.with_columns(
        hours=pl.col("name").map_elements(pharmacy_peer, return_dtype=pl.String), all=pl.lit("药店")
    )
    df = _with_hits(df, hits)
    w = (pl.col("visits") / 50).clip(0, 1)
    df = robust_scores(df, "hours", ["night_share"], w)
    df = robust_scores(
        df, "all", ["round_share", "repeat_card_share", "short_item_share", "rule_hit_share"], w
    )
    if sink is not None:
        codes = ["night_share", "round_share", "repeat_card_share", "short_item_share", "rule_hit_share"]
        sink.append(
            values_long(df, "pharmacy", "inst", {c: "all" for c in codes} | {"night_share": "hours"}, codes)
        )
    ev = {r["inst"]: r for r in frame(con, PHARMACY_EVIDENCE_SQL).iter_rows(named=True)}
    models = {
        "pharmacy_cashing": [Term("repeat_card_share"), Term("round_share", 0.5), Term("night_share", 0.5)],
        "inventory_mismatch": [Term("short_item_share")],
        "rule_hits": [Term("rule_hit_share")],
    }
    out = []
    for model, terms in models.items():
        scores = df.select(_weighted(df, terms)).to_series()
        leads = []
        for row, score in zip(df.iter_rows(named=True), scores, strict=True):
            peer = row["hours"] if model == "pharmacy_cashing" else "药店"
            labels = {t.code: "药店" for t in terms} | {"night_share": row["hours"]}
            reasons = _reasons(row, terms, labels)
            e = ev.get(row["inst"], {})
            visits, money = [], 0.0
            if model == "pharmacy_cashing":
                visits, money = e.get("card_ids"), e.get("card_money")
            elif model == "inventory_mismatch":
                visits, money = (row.get("short_items") or []), row.get("short_money")
            else:
                money = row.get("hit_money")
            leads.append(
                _lead("pharmacy", row["inst"], row["name"], peer, model, score, reasons, visits, money)
            )
        out += _top(leads)
    return out


# --- persons ---------------------------------------------------------------------------------------------
def person_leads(con: duckdb.DuckDBPyConnection, sink: list[pl.DataFrame] | None = None) -> list[dict]:
    df = frame(con, PERSON_SQL).with_columns(peer=pl.lit("全体参保人"))
    codes = ["max_drug_days", "supply_days", "drug_institutions", "max_monthly_institutions"]
    df = robust_scores(df, "peer", codes)
    if sink is not None:
        sink.append(values_long(df, "person", "psn", "peer", codes))
    terms = [
        Term("max_drug_days"),
        Term("supply_days", 0.3),
        Term("drug_institutions"),
        Term("max_monthly_institutions", 0.5),
    ]
    year = frame(con, "SELECT greatest(date_diff('day', min(day), max(day)) + 1, 1) AS d FROM visits")["d"][0]
    # more days of one drug than the period has days: no patient takes that much (absolute evidence)
    df = df.with_columns(resale=_weighted(df, terms) + (pl.col("max_drug_days") > year).cast(pl.Float64) * 5)
    cand = df.filter(
        (pl.col("resale") > 0) | (pl.col("after_death_visits") > 0) | (pl.col("overlap_visits") > 0)
    )
    psns = cand["psn"].to_list()
    ev = {
        r["psn"]: r
        for r in frame(
            con,
            f"""SELECT psn,
                list_slice(list(mdtrt_id ORDER BY begntime) FILTER (WHERE supply_days > 0), 1, {MAX_LINKED}) AS drug_ids,
                coalesce(sum(fee) FILTER (WHERE supply_days > 0), 0) AS drug_money,
                list(mdtrt_id ORDER BY begntime) FILTER (WHERE die_date IS NOT NULL AND day > die_date) AS dead_ids,
                coalesce(sum(fee) FILTER (WHERE die_date IS NOT NULL AND day > die_date), 0) AS dead_money,
                any_value(die_date) AS die_date
            FROM visits WHERE psn IN (SELECT unnest(?)) GROUP BY psn""",
            [psns],
        ).iter_rows(named=True)
    }
    med_dead, med_overlap = df["after_death_visits"].median(), df["overlap_visits"].median()
    resale, imp = [], []
    for row in cand.iter_rows(named=True):
        e = ev.get(row["psn"], {})
        if row["resale"] > 0:
            reasons = _reasons(row, terms, "全体参保人")
            if row["max_drug_days"] > year:
                reasons.insert(
                    0, f"药品{row['top_drug']}期内供应{row['max_drug_days']:.0f}天，超过期间天数{year}天"
                )
            resale.append(
                _lead(
                    "person",
                    row["psn"],
                    "",
                    "全体参保人",
                    "drug_resale",
                    row["resale"],
                    reasons,
                    e.get("drug_ids"),
                    e.get("drug_money"),
                )
            )
        dead, overlap = row["after_death_visits"], row["overlap_visits"]
        if dead or overlap:
            reasons = []
            if dead:
                reasons.append(
                    f"死亡日期 {e.get('die_date')} 之后仍结算 {dead} 次，全体参保人中位数 {med_dead:.0f}次"
                )
            if overlap:
                reasons.append(f"住院期间在其他机构就诊 {overlap} 次，全体参保人中位数 {med_overlap:.0f}次")
            imp.append(
                _lead(
                    "person",
                    row["psn"],
                    "",
                    "全体参保人",
                    "impersonation",
                    min(4.0 + 2.0 * (dead + overlap), 30.0),
                    reasons,
                    e.get("dead_ids") or [],
                    e.get("dead_money"),
                )
            )
    return _top(resale) + _top(imp)


# --- doctors and departments -----------------------------------------------------------------------------
def _one_indicator(
    con, sql: str, etype: str, model: str, code: str, key: str, name: str, peer: pl.Expr, volume: str, full: float,
    label: str, money: bool = False, sink: list[pl.DataFrame] | None = None,
) -> list[dict]:  # fmt: skip
    """Leads of a one-indicator model: ``code`` from ``sql`` against ``peer``, shrunk below ``full`` of
    ``volume``; ``money``: the cost above the peer median (indicator − median) × visits."""
    df = robust_scores(
        frame(con, sql).with_columns(peer=peer), "peer", [code], (pl.col(volume) / full).clip(0, 1)
    )
    if sink is not None:
        sink.append(values_long(df, etype, key, "peer", [code]))
    terms = [Term(code)]
    return _top(
        [
            _lead(
                etype,
                r[key],
                r[name],
                r["peer"],
                model,
                r[f"{code}__z"],
                _reasons(r, terms, label),
                money=max(0.0, (r[code] - (r[f"{code}__med"] or r[code])) * r["visits"]) if money else 0.0,
            )
            for r in df.iter_rows(named=True)
        ]
    )


def _level_zh() -> pl.Expr:
    return pl.col("level").replace_strict(LEVEL_ZH, default="未定级", return_dtype=pl.String)


def doctor_leads(con: duckdb.DuckDBPyConnection, sink: list[pl.DataFrame] | None = None) -> list[dict]:
    peer = pl.concat_str(_level_zh(), pl.lit("医疗机构 "), pl.col("dept_name"), pl.lit("医师"))
    return _one_indicator(
        con, DOCTOR_SQL, "doctor", "doctor_load", "daily_load", "doctor", "name", peer, "days", 20,
        "同级机构同科室医师", sink=sink,
    )  # fmt: skip


def department_leads(con: duckdb.DuckDBPyConnection, sink: list[pl.DataFrame] | None = None) -> list[dict]:
    peer = pl.concat_str(_level_zh(), pl.lit("医疗机构 "), pl.col("dept_name"))
    return _one_indicator(
        con, DEPARTMENT_SQL, "department", "department_cost", "dept_avg_fee", "department", "name", peer,
        "visits", 50, "同级机构同名科室", money=True, sink=sink,
    )  # fmt: skip


# --- groups ----------------------------------------------------------------------------------------------
def group_leads(con: duckdb.DuckDBPyConnection, links: list[dict] | None = None) -> list[dict]:
    """Gang leads; ``links`` collects each group's member–member links (``group_id``, ``source``,
    ``target``, ``weight``, ``times``) for the workbench's group graph."""
    out = []
    for g in gangs.find_groups(con):
        gid = "G" + hashlib.sha1(";".join(g["members"]).encode()).hexdigest()[:10].upper()
        if links is not None:
            links += [{"group_id": gid, **link} for link in g["links"]]
        name = f"{len(g['members'])}人团伙（{'、'.join(g['institutions'][:3])}）"
        out.append(
            _lead(
                "group",
                gid,
                name,
                "",
                "gang",
                g["score"],
                g["reasons"],
                g["visits"],
                g["money"],
                g["members"],
            )
        )
    return _top(out)


# --- supervised, where outcomes exist --------------------------------------------------------------------
def supervised_leads(
    con: duckdb.DuckDBPyConnection, labels: dict[str, int]
) -> tuple[list[dict], dict | None]:
    """Gradient boosting over institution × month indicators, trained on the labelled institutions and
    validated with folds split by institution (months of one institution never on both sides); an
    institution's score is its mean monthly probability × 10. Returns the leads and the CV figures (None when
    the labels cannot support a 2-fold split: fewer than two institutions of either class)."""
    import numpy as np

    from fundguard.models import supervised

    df = frame(con, institution_month())
    codes = [c for c in df.columns if c in INDICATORS and INDICATORS[c].direction != 0]
    df = df.with_columns(label=pl.col("inst").replace_strict(labels, default=None, return_dtype=pl.Int8))
    train = df.filter(pl.col("label").is_not_null())
    pos = train.filter(pl.col("label") == 1)["inst"].n_unique()
    neg = train.filter(pl.col("label") == 0)["inst"].n_unique()
    if min(pos, neg) < 2:
        return [], None
    x = train.select(codes).cast(pl.Float64).to_numpy()
    y, groups = train["label"].to_numpy(), train["inst"].to_numpy()
    cv = supervised.cross_validate(x, y, groups, folds=min(5, pos, neg))
    prob = supervised.fit_and_score(x, y, df.select(codes).cast(pl.Float64).to_numpy())
    per = df.with_columns(p=pl.Series(prob)).group_by("inst").agg(pl.col("p").mean())
    names = dict(frame(con, "SELECT inst, name FROM institutions").iter_rows())
    figures = {"roc_auc": round(cv.roc_auc, 4), "pr_auc": round(cv.pr_auc, 4), "entities": pos + neg}
    leads = [
        _lead(
            "institution",
            inst,
            names.get(inst),
            "有标签机构",
            "supervised",
            float(np.round(p * 10, 3)),
            [
                f"有标签梯度提升模型预测概率 {p:.2f}（{pos + neg}家有标签机构，按机构分组{cv.folds}折交叉验证"
                f" ROC-AUC {cv.roc_auc:.2f}）"
            ],
        )
        for inst, p in per.iter_rows()
    ]
    return _top(leads), figures
