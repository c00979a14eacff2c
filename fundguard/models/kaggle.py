"""The indicator, peer and supervised machinery over the Kaggle "Healthcare Provider Fraud Detection" tables.

The US claims map onto our concepts: a provider is the institution (机构), a beneficiary the insured person
(参保人), the attending physician the doctor (医师), an inpatient claim a stay (住院) and an outpatient claim a
visit (门诊). Provider indicators are the ones of ``indicators`` that the tables allow (次均费用, 住院率,
平均住院日, 床日费用, 人次人头比, 复诊率, 3日内再入院, 集中入院, 医师接诊量, 死亡后就诊, coding intensity …)
plus the sharing of physicians and beneficiaries between providers (the person–institution graph), each
also as a robust score against the providers of the same main state (the peer group). Labels are used only
by ``supervised`` (entity-grouped folds); every feature is computed without them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from fundguard.core.errors import InputError
from fundguard.models import supervised
from fundguard.models.peers import Z_CAP, peer_z

FILES = {
    "ipt": ("Train_Inpatientdata", "Test_Inpatientdata"),
    "otp": ("Train_Outpatientdata", "Test_Outpatientdata"),
    "bene": ("Train_Beneficiarydata", "Test_Beneficiarydata"),
}
DIAG = [f"ClmDiagnosisCode_{i}" for i in range(1, 11)]
PROC = [f"ClmProcedureCode_{i}" for i in range(1, 7)]
CHRONIC = [
    "ChronicCond_Alzheimer",
    "ChronicCond_Heartfailure",
    "ChronicCond_KidneyDisease",
    "ChronicCond_Cancer",
    "ChronicCond_ObstrPulmonary",
    "ChronicCond_Depression",
    "ChronicCond_Diabetes",
    "ChronicCond_IschemicHeart",
    "ChronicCond_Osteoporasis",
    "ChronicCond_rheumatoidarthritis",
    "ChronicCond_stroke",
]
PEER_FEATURES = {  # feature → floor of the peer spread
    "avg_fee": 50.0,
    "avg_fee_ipt": 500.0,
    "ipt_rate": 0.02,
    "avg_los": 0.5,
    "visits_per_person": 0.05,
    "avg_n_diag": 0.2,
    "claims_per_physician": 1.0,
    "fee_sum": 1000.0,
    "n_claims": 5.0,
}


def _read(data: Path, stem: str) -> pl.DataFrame | None:
    """One Kaggle table from ``<stem>*.csv`` or ``<stem>*.csv.zip`` in ``data`` (all columns as text)."""
    for f in sorted(data.glob(f"{stem}*")):
        if f.suffix == ".zip":
            with zipfile.ZipFile(f) as z:
                raw = z.read(z.namelist()[0])
        elif f.suffix == ".csv":
            raw = f.read_bytes()
        else:
            continue
        return pl.read_csv(io.BytesIO(raw), infer_schema=False, null_values=["NA", ""])
    return None


def load(data: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB with tables ``claims`` (inpatient and outpatient, one row per claim) and ``bene``."""
    data = Path(data)
    parts = {k: [t for s in stems if (t := _read(data, s)) is not None] for k, stems in FILES.items()}
    if not parts["ipt"] and not parts["otp"]:
        raise InputError(
            f"{data} 中没有 Kaggle 住院/门诊单据文件（*Inpatientdata*.csv[.zip]）",
            f"no Kaggle inpatient/outpatient claim files (*Inpatientdata*.csv[.zip]) in {data}",
        )
    con = duckdb.connect()
    n_diag = " + ".join(f"({c} IS NOT NULL)::INT" for c in DIAG)
    n_proc = " + ".join(f"({c} IS NOT NULL)::INT" for c in PROC)
    selects = []
    for kind in ("ipt", "otp"):
        for i, t in enumerate(parts[kind]):
            name = f"{kind}{i}"
            con.register(name, t.to_arrow())
            ipt = kind == "ipt"
            selects.append(f"""
            SELECT '{kind}' AS kind, BeneID AS bene, ClaimID AS claim, Provider AS provider,
                CAST(ClaimStartDt AS DATE) AS start, CAST(ClaimEndDt AS DATE) AS finish,
                CAST(InscClaimAmtReimbursed AS DOUBLE) AS fee,
                coalesce(TRY_CAST(DeductibleAmtPaid AS DOUBLE), 0) AS deductible,
                AttendingPhysician AS att, OperatingPhysician AS op, OtherPhysician AS oth,
                {"CAST(AdmissionDt AS DATE)" if ipt else "NULL::DATE"} AS adm,
                {"CAST(DischargeDt AS DATE)" if ipt else "NULL::DATE"} AS dis,
                {"DiagnosisGroupCode" if ipt else "NULL"} AS drg,
                ClmDiagnosisCode_1 AS diag1, ClmAdmitDiagnosisCode AS admit_diag, {n_diag} AS n_diag, {n_proc} AS n_proc
            FROM {name}""")
    con.execute("CREATE TABLE claims AS " + " UNION ALL ".join(selects))
    for i, t in enumerate(parts["bene"]):
        con.register(f"bene{i}", t.to_arrow())
    if parts["bene"]:
        chronic = " + ".join(f"(any_value({c}) = '1')::INT" for c in CHRONIC)
        union = " UNION ALL ".join(f"SELECT * FROM bene{i}" for i in range(len(parts["bene"])))
        con.execute(f"""CREATE TABLE bene AS SELECT BeneID AS bene, CAST(any_value(DOB) AS DATE) AS dob,
            CAST(any_value(DOD) AS DATE) AS dod, any_value(State) AS state, any_value(Gender) AS gender,
            (any_value(RenalDiseaseIndicator) = 'Y')::INT AS renal, {chronic} AS n_chronic,
            TRY_CAST(any_value(IPAnnualReimbursementAmt) AS DOUBLE) AS ip_annual,
            TRY_CAST(any_value(OPAnnualReimbursementAmt) AS DOUBLE) AS op_annual
            FROM ({union}) GROUP BY BeneID""")
    else:
        con.execute("""CREATE TABLE bene (bene VARCHAR, dob DATE, dod DATE, state VARCHAR, gender VARCHAR,
            renal INT, n_chronic INT, ip_annual DOUBLE, op_annual DOUBLE)""")
    return con


FEATURES_SQL = """
WITH c AS (
    SELECT c.*, b.dob, b.dod, b.state, b.renal, b.n_chronic, b.ip_annual, b.op_annual,
        date_diff('day', c.adm, c.dis) AS los,
        coalesce(date_diff('day', lag(c.finish) OVER (PARTITION BY c.provider, c.bene ORDER BY c.start), c.start)
            <= 30, false) AS revisit,
        count(c.adm) OVER (PARTITION BY c.provider, c.adm) AS same_day_adm,
        count(*) OVER (PARTITION BY c.provider, c.bene, c.start) AS same_start
    FROM claims c LEFT JOIN bene b USING (bene)
),
phys AS (
    SELECT att, count(DISTINCT provider) AS n_prov, count(*) AS att_claims, count(DISTINCT bene) AS att_benes
    FROM claims WHERE att IS NOT NULL GROUP BY att
),
benes AS (
    SELECT bene, count(DISTINCT provider) AS n_prov, count(*) AS bene_claims,
        count(*) FILTER (WHERE kind = 'ipt') AS bene_ipt
    FROM claims GROUP BY bene
),
states AS (SELECT provider, mode(state) AS state FROM c GROUP BY provider)
SELECT c.provider AS "Provider", any_value(states.state) AS state,
    count(*) AS n_claims, count(*) FILTER (WHERE kind = 'ipt') AS n_ipt, count(*) FILTER (WHERE kind = 'otp') AS n_otp,
    avg((kind = 'ipt')::INT) AS ipt_rate, sum(fee) AS fee_sum, avg(fee) AS avg_fee, max(fee) AS max_fee,
    avg(fee) FILTER (WHERE kind = 'ipt') AS avg_fee_ipt, avg(fee) FILTER (WHERE kind = 'otp') AS avg_fee_otp,
    sum(fee) FILTER (WHERE kind = 'ipt') AS fee_ipt, avg(deductible) AS avg_deductible,
    avg(los) AS avg_los, sum(fee) FILTER (WHERE kind = 'ipt') / nullif(sum(greatest(los, 1)), 0) AS bed_day_fee,
    count(DISTINCT bene) AS n_benes, count(*) / count(DISTINCT bene) AS visits_per_person,
    avg(revisit::INT) AS revisit_rate, avg(revisit::INT) FILTER (WHERE kind = 'ipt') AS readmit_rate,
    avg((same_day_adm >= 2)::INT) FILTER (WHERE kind = 'ipt') AS cluster_adm_share,
    avg((same_start >= 2)::INT) AS duplicate_share,
    count(DISTINCT att) AS n_att, count(DISTINCT op) AS n_op, count(DISTINCT oth) AS n_oth,
    count(*) / greatest(count(DISTINCT att), 1) AS claims_per_physician,
    avg((op IS NOT NULL)::INT) AS op_share, avg((oth IS NOT NULL)::INT) AS oth_share,
    avg(n_diag) AS avg_n_diag, avg(n_proc) AS avg_n_proc, avg((n_proc > 0)::INT) AS proc_share,
    count(DISTINCT drg) AS n_drg, count(DISTINCT diag1) AS n_diag1,
    avg(date_diff('year', dob, start)) AS avg_age, avg((dod IS NOT NULL)::INT) AS dead_share,
    count(*) FILTER (WHERE dod IS NOT NULL AND start > dod) AS after_death,
    avg(n_chronic) AS avg_chronic, avg(renal) AS renal_share, avg(ip_annual) AS avg_ip_annual,
    avg(op_annual) AS avg_op_annual, count(DISTINCT c.state) AS n_states,
    avg(phys.n_prov) AS att_sharing, max(phys.n_prov) AS att_sharing_max,
    avg(benes.n_prov) AS bene_sharing, avg(phys.att_claims) AS att_claims_mean, max(phys.att_claims) AS att_claims_max,
    avg(phys.att_benes) AS att_benes_mean, avg(benes.bene_claims) AS bene_claims_mean,
    avg(benes.bene_ipt) AS bene_ipt_mean, sum(fee) / count(DISTINCT bene) AS fee_per_bene,
    count(*) / (date_diff('day', min(start), max(start)) / 30.0 + 1) AS claims_per_month,
    count(DISTINCT admit_diag) / count(*) AS admit_diag_diversity,
    date_diff('day', min(start), max(start)) AS active_days
FROM c LEFT JOIN phys USING (att) LEFT JOIN benes USING (bene) LEFT JOIN states USING (provider)
GROUP BY c.provider
"""


def features(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per provider: the indicators, plus ``<f>__z`` robust scores against the same state."""
    df = pl.from_arrow(con.sql(FEATURES_SQL).to_arrow_table())
    df = df.with_columns(pl.col("state").fill_null("未知"))
    zs = []
    for f, floor in PEER_FEATURES.items():
        _, z = peer_z(pl.col(f), "state", floor)
        zs.append(z.clip(-Z_CAP, Z_CAP).alias(f"{f}__z"))
    return df.with_columns(zs)


def read_labels(path: Path) -> pl.DataFrame:
    """``Provider,PotentialFraud`` (Yes/No, or 1/0) as ``Provider, label``."""
    try:
        df = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.ComputeError) as err:
        raise InputError(f"无法读取标签文件 {path}：{err}", f"cannot read labels file {path}: {err}") from err
    if not {"Provider", "PotentialFraud"} <= set(df.columns):
        raise InputError(
            f"标签文件 {path} 应有列 Provider,PotentialFraud",
            f"labels file {path} needs Provider,PotentialFraud",
        )
    label = pl.col("PotentialFraud").str.strip_chars().str.to_lowercase()
    return df.select("Provider", label.is_in(["yes", "1", "true", "y"]).cast(pl.Int8).alias("label"))


def run(data: Path, labels: Path, out: Path, *, folds: int = 5, seed: int = 0) -> supervised.CVResult:
    """Cross-validate on the labelled providers, then train on all of them and write ``Provider,score`` for
    every provider in the claims and in the labels."""
    lab = read_labels(labels)
    feats = features(load(data))
    every = feats.join(lab.select("Provider"), on="Provider", how="full", coalesce=True)
    every = every.with_columns(pl.col("n_claims").fill_null(0))
    labelled = every.join(lab, on="Provider", how="inner")
    # a column with fewer than two values among the labelled providers carries nothing to learn
    cols = [
        c for c in every.columns if c not in ("Provider", "state") and labelled[c].drop_nulls().n_unique() > 1
    ]
    x_all = every.select(cols).cast(pl.Float64).to_numpy()
    x = labelled.select(cols).cast(pl.Float64).to_numpy()
    y = labelled["label"].to_numpy()
    groups = labelled["Provider"].to_numpy()
    if y.sum() == 0 or y.sum() == len(y):
        raise InputError("标签只有一类，无法训练", "labels have a single class; cannot train")
    result = supervised.cross_validate(x, y, groups, folds=folds, seed=seed)
    score = supervised.fit_and_score(x, y, x_all, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"Provider": every["Provider"], "score": np.round(score, 6)}).sort("Provider").write_csv(out)
    return result
