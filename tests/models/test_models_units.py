"""The indicator library, peer scores, gang detection and entity-grouped validation, on small inputs."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from fundguard.models import gangs
from fundguard.models.cards import CARDS, ENTITY_ZH
from fundguard.models.indicators import INDICATORS
from fundguard.models.peers import MIN_PEERS, Z_CAP, institution_peer, pharmacy_peer, reason, robust_scores
from fundguard.models.supervised import cross_validate


def test_every_indicator_is_described() -> None:
    for ind in INDICATORS.values():
        assert ind.name_zh and ind.formula_zh and ind.direction in (-1, 0, 1) and ind.floor > 0
        assert ind.entity in ENTITY_ZH
    for card in CARDS.values():
        assert all((card.purpose, card.inputs, card.method, card.validation, card.blind_spots))


def test_peer_groups_from_names() -> None:
    assert institution_peer("示例市儿童医院", 3) == "三级儿童专科医疗机构"
    assert institution_peer("示例市第5人民医院", 2) == "二级综合医疗机构"
    assert institution_peer("某市肿瘤医院", 3) != institution_peer("某市第1人民医院", 3)
    assert pharmacy_peer("示例市第9大药房（24小时）") == "24小时药店"
    assert pharmacy_peer("示例市第9大药房") == "日间药店"


def test_robust_scores_against_peers() -> None:
    general = [0.10, 0.11, 0.12, 0.10, 0.09, 0.11, 0.60]  # the last one is the outlier
    df = pl.DataFrame(
        {
            "drug_share": [*general, 0.90],  # a lone specialty institution: no peers, no relative score
            "peer": ["综合"] * len(general) + ["专科"],
        }
    )
    out = robust_scores(df, "peer", ["drug_share"])
    z = out["drug_share__z"].to_list()
    assert z[6] == Z_CAP and max(z[:6]) < 1.5 and z[7] == 0.0
    assert out["drug_share__med"][0] == 0.11 and out["drug_share__med"][7] is None
    assert "不足" in reason("drug_share", 0.9, None, "二级专科医疗机构") and str(MIN_PEERS) in reason(
        "drug_share", 0.9, None, "x"
    )
    assert reason("drug_share", 0.6, 0.11, "二级综合医疗机构") == "药占比 60%，二级综合医疗机构中位数 11%"


def test_gang_is_the_repeated_co_admission() -> None:
    con = duckdb.connect()
    rows = []
    for t, day in enumerate(
        ("2025-02-01", "2025-05-01", "2025-08-01")
    ):  # 6 persons, admitted together thrice
        rows += [(f"G{t}{k}", f"P{k}", "H1", day, "J18.900", "某小区", 5, 1, 500.0) for k in range(6)]
    rows += [
        (f"X{k}", f"Q{k}", "H1", "2025-03-01", f"K{k}", None, 5, 5, 500.0) for k in range(6)
    ]  # chance, once
    con.execute("""CREATE TABLE stays (mdtrt_id VARCHAR, psn VARCHAR, inst VARCHAR, day DATE, diag VARCHAR,
        addr VARCHAR, bed_days INT, care_days INT, fee DOUBLE, begntime TIMESTAMP)""")
    con.executemany(
        "INSERT INTO stays VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMP))",
        [(*r, r[3]) for r in rows],
    )
    groups = gangs.find_groups(con)
    assert len(groups) == 1
    g = groups[0]
    assert g["members"] == [f"P{k}" for k in range(6)] and len(g["visits"]) == 18
    assert "最多共同入院 3 次" in g["reasons"][0] and g["institutions"] == ["H1"]


def test_grouped_cross_validation_does_not_leak() -> None:
    """Each entity has five identical rows and a random label: row-wise folds would memorise them (AUC ≈ 1);
    folds split by entity cannot do better than chance."""
    rng = np.random.default_rng(0)
    n = 300
    x = np.repeat(rng.normal(size=(n, 4)), 5, axis=0)
    y = np.repeat(rng.integers(0, 2, n), 5)
    groups = np.repeat(np.arange(n), 5)
    res = cross_validate(x, y, groups)
    assert res.roc_auc < 0.65
    assert set(res.precision_at) == {50, 100, 200}


def test_cc_exclusion_of_the_principal_diagnosis() -> None:
    """CHS-DRG 1.1 CCE: a CC/MCC whose exclusion table lists the principal diagnosis is not counted."""
    import duckdb
    import polars as pl

    from fundguard.kb import codes
    from fundguard.models.indicators import CC_FLAGS_SQL

    cc, excl = codes.cc_mcc(), codes.cc_exclusions()
    mcc = cc.filter(pl.col("level") == "MCC").row(0, named=True)
    own = excl.filter(pl.col("excl") == mcc["excl"])["code"]
    other = excl.filter(~pl.col("code").is_in(own.implode()))["code"][0]
    diag = pl.DataFrame(
        {
            "mdtrt_id": ["v1", "v1", "v2", "v2"],
            "diag_code": [own[0], mcc["code"], other, mcc["code"]],
            "maindiag_flag": ["1", "0", "1", "0"],
        }
    )
    with duckdb.connect() as con:
        for name, df in (("setl_list_diag_d_valid", diag), ("kb_cc_mcc", cc), ("kb_cc_excl", excl)):
            con.register(name, df.to_arrow())
        flags = dict(con.execute(f"SELECT mdtrt_id, has_mcc FROM ({CC_FLAGS_SQL})").fetchall())
    assert flags == {"v2": True}  # v1's MCC belongs to its own principal diagnosis
