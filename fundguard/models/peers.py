"""Peer groups and robust scores: compare like with like, by median and MAD.

An institution is compared with institutions of the same type, level and specialty (the specialty read from
its registered name: 儿童/妇幼, 康复, 肿瘤, 中医, 透析, 口腔, 精神); a pharmacy with pharmacies of the same
opening hours (24小时 in the name). A peer group smaller than ``MIN_PEERS`` gives no relative score at all: a
children's hospital with no other children's hospital is judged only on absolute evidence (occupancy above
its licensed beds, visits after death, rule hits), never against general hospitals.
"""

from __future__ import annotations

import re

import polars as pl

from fundguard.models.indicators import INDICATORS

MIN_PEERS = 5
MAD_TO_SD = 1.4826
Z_CAP = 10.0
"""A robust score above this says no more: one indicator cannot outweigh all the others."""

SPECIALTIES = (
    ("儿童专科", r"儿童|妇幼|妇女儿童"),
    ("康复专科", r"康复"),
    ("肿瘤专科", r"肿瘤"),
    ("中医", r"中医|中西医"),
    ("透析", r"透析|血液净化"),
    ("口腔专科", r"口腔"),
    ("精神专科", r"精神|心理"),
)
LEVEL_ZH = {3: "三级", 2: "二级", 1: "一级", 0: "未定级"}


def specialty(name: str | None) -> str:
    for label, pattern in SPECIALTIES:
        if name and re.search(pattern, name):
            return label
    return "综合"


def institution_peer(name: str | None, level: int | None) -> str:
    return f"{LEVEL_ZH.get(level or 0, '未定级')}{specialty(name)}医疗机构"


def pharmacy_peer(name: str | None) -> str:
    return "24小时药店" if name and re.search(r"24小时|24h|全天", name, re.I) else "日间药店"


def robust_scores(
    df: pl.DataFrame, peer: str, codes: list[str], weight: pl.Expr | None = None
) -> pl.DataFrame:
    """``df`` plus, for each indicator code, ``<code>__med`` (the peer median) and ``<code>__z`` (the robust
    score in the risky direction, 0 when the group is too small or the value missing, capped at ``Z_CAP``).

    ``weight`` (0..1 per row) shrinks the scores of entities with little volume, whose shares are noise.
    """
    out = []
    for c in codes:
        ind = INDICATORS[c]
        med, z = peer_z(pl.col(c), peer, ind.floor)
        z = (z * ind.direction).clip(0, Z_CAP).fill_null(0.0).fill_nan(0.0)
        out += [med.alias(f"{c}__med"), (z if weight is None else z * weight).alias(f"{c}__z")]
    return df.with_columns(out)


def peer_z(col: pl.Expr, peer: str, floor: float) -> tuple[pl.Expr, pl.Expr]:
    """(peer median, signed robust score) of ``col`` within ``peer``; both null in groups under ``MIN_PEERS``.

    The scale is 1.4826 × MAD (the standard deviation for normal data), at least ``floor`` and 10 % of the
    median's size, so a group whose members mostly agree does not make every difference infinite."""
    x = col.cast(pl.Float64)
    enough = x.count().over(peer) >= MIN_PEERS
    med = x.median().over(peer)
    mad = (x - med).abs().median().over(peer)
    scale = pl.max_horizontal(mad * MAD_TO_SD, pl.lit(floor), med.abs() * 0.1)
    return pl.when(enough).then(med), pl.when(enough).then((x - med) / scale)


def reason(ind_code: str, value: float | None, median: float | None, peer_label: str) -> str:
    """'床位使用率峰值 300%，二级综合医疗机构中位数 12%' (the value and its peer median)."""
    ind = INDICATORS[ind_code]
    if median is None:
        return f"{ind.name_zh} {ind.show(value)}（{peer_label}不足{MIN_PEERS}家，不作同类比较）"
    return f"{ind.name_zh} {ind.show(value)}，{peer_label}中位数 {ind.show(median)}"


QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def values_long(
    df: pl.DataFrame, etype: str, id_col: str, peer: str | dict[str, str], codes: list[str]
) -> pl.DataFrame:
    """Each entity's value and robust score of each indicator in ``codes``, one row per (entity, indicator),
    with the peer group it was compared within (``peer``: a column, or a column per indicator code). The
    model run keeps these for the workbench's peer charts, so the chart shows the numbers the score used."""
    cols = {c: (peer.get(c, "") if isinstance(peer, dict) else peer) for c in codes}
    return pl.concat(
        [
            df.select(
                pl.lit(etype).alias("entity_type"),
                pl.col(id_col).cast(pl.String).alias("entity_id"),
                pl.col(p).cast(pl.String).alias("peer_group"),
                pl.lit(c).alias("indicator"),
                pl.col(c).cast(pl.Float64).alias("value"),
                pl.col(f"{c}__z").cast(pl.Float64).alias("z"),
            )
            for c, p in cols.items()
            if c in df.columns and f"{c}__z" in df.columns
        ],
        how="vertical",
    )


def peer_distribution(values: pl.DataFrame, keep: pl.DataFrame) -> pl.DataFrame:
    """The peer group's distribution (count and the 10/25/50/75/90 % quantiles) beside the value of each
    entity in ``keep`` (``entity_type``, ``entity_id``): the data of a peer-comparison chart."""
    stats = (
        values.filter(pl.col("value").is_not_null())
        .group_by("entity_type", "peer_group", "indicator")
        .agg(
            pl.len().alias("n"),
            *(pl.col("value").quantile(q, "linear").alias(f"p{int(q * 100)}") for q in QUANTILES),
        )
    )
    own = values.join(keep.unique(), on=["entity_type", "entity_id"], how="semi")
    out = own.join(stats, on=["entity_type", "peer_group", "indicator"], how="left")
    return out.with_columns(
        name_zh=pl.col("indicator").replace_strict(
            {k: i.name_zh for k, i in INDICATORS.items()}, default=None
        ),
        unit=pl.col("indicator").replace_strict({k: i.unit for k, i in INDICATORS.items()}, default=""),
    ).sort("entity_type", "entity_id", pl.col("z").fill_null(0), descending=[False, False, True])
