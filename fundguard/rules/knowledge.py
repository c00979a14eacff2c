"""Knowledge tables for the rules: ``kb.limits`` / ``kb.knowledge`` frames as Arrow tables, by SQL name.

Rules name a table (``knowledge: kb_gender``); the engine calls ``register(con)`` to create every table in a
DuckDB connection, so the rule SQL can join them by name. Codes are strings; limits are doubles.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import duckdb
import polars as pl
import pyarrow as pa

from fundguard.kb import charging, clinical, indications, knowledge, limits


def _point_codes() -> pl.DataFrame:
    """Every code of every current knowledge point, with the point's item name and constraint text."""
    pts = knowledge.points().select("kp_id", "item_name", "constraint")
    return knowledge.point_codes().join(pts, on="kp_id", how="left").sort("rule_class", "code", "kp_id")


def _indication_icd10() -> pl.DataFrame:
    """药品限适应症 codes × ICD-10 prefixes at ≥ medium confidence (``icd10`` null: point not mapped), with the
    indication item each prefix belongs to (``item_no``), its ``scope`` (visit | history) and the item's clauses
    the claims cannot settle (``lab_clause``, ``history_clause``: quoted to a reviewer). The bureau's override
    files (``$FUNDGUARD_KB_OVERRIDES``) apply."""
    ok = pl.col("confidence").is_in(["high", "medium"])
    icd = (
        indications.bureau_mapping()
        .filter(ok)
        .group_by("kp_id", "item_no", "icd10")
        .agg(pl.col("scope").min())  # a prefix named by the visit and by the history is a visit prefix
    )
    clauses = indications.clauses()

    def clause(kind: str) -> pl.DataFrame:
        rows = clauses.filter(pl.col("kind") == kind).sort("clause")
        return rows.group_by("kp_id", "item_no").agg(
            pl.col("clause").unique(maintain_order=True).str.join("；")
        )

    icd = icd.join(clause("lab").rename({"clause": "lab_clause"}), on=["kp_id", "item_no"], how="left").join(
        clause("history").rename({"clause": "history_clause"}), on=["kp_id", "item_no"], how="left"
    )
    # an alternative no code can show (限抢救、重症或…) is an unmapped item: the point is then 可疑, never 明确违规
    alt = clauses.filter(pl.col("kind") == "alternative").select("kp_id").unique()
    icd = pl.concat([icd, alt.with_columns(pl.lit(None, pl.Utf8).alias(c) for c in icd.columns[1:])])
    drugs = limits.indication_drugs().select("kp_id", "code", "item_name", "indication")
    return drugs.join(icd, on="kp_id", how="left").sort("code", "kp_id", "item_no", "icd10", nulls_last=True)


INTERVAL_RE = r"间隔(?:时间)?(?:不短于|不少于|不小于|≥|>=|大于等于|至少)\s*(\d+)\s*(?:天|日)"
"""The interval clause of a course limit's constraint text (e.g. 手功能评定 "评定间隔时间不短于14天")."""


def _course_days() -> pl.DataFrame:
    """Course limits with ``interval_days``: the least days between two charge days when the constraint says
    so (then ``max_days`` is the span from the first charge day, not a count of days)."""
    return limits.course_days().with_columns(
        pl.col("constraint").str.extract(INTERVAL_RE, 1).cast(pl.Int32).alias("interval_days")
    )


KNOWLEDGE: dict[str, tuple[Callable[[], pl.DataFrame], str]] = {
    "kb_indication_icd10": (_indication_icd10, "药品限适应症 → ICD-10 前缀 / indication ICD-10 prefixes"),
    "kb_primary_secondary_ops": (limits.primary_secondary_ops, "主次手术组 / same-incision operation groups"),
    "kb_gender": (limits.gender, "性别限定 / sex-limited drugs and items"),
    "kb_age": (limits.age, "年龄限定（儿童、新生儿、就业年龄）/ age-limited drugs and items"),
    "kb_hospital_level": (limits.hospital_level, "医疗机构级别限定 / minimum hospital level"),
    "kb_visit_type": (limits.visit_type, "就医方式限定 / visit type (住院)"),
    "kb_insurance_type": (limits.insurance_type, "限工伤/生育保险 / work-injury or maternity only"),
    "kb_course_days": (_course_days, "支付疗程（含间隔要求）/ payable course days, with interval clauses"),
    "kb_duplicate_pairs": (limits.duplicate_pairs, "重复收费项目对 / duplicate-charge pairs (batch 7)"),
    "kb_frequency": (limits.frequency, "限定频次 / frequency limits (batch 8)"),
    "kb_tcm_herbs_not_paid": (limits.tcm_herbs_not_paid, "中药饮片不予支付 / herbal pieces not paid"),
    "kb_points": (knowledge.points, "两库知识点 / knowledge points in force"),
    # issue 12: clinical knowledge from public authorities (source and confidence per row; bureau overrides)
    "kb_diag_sex": (clinical.diagnosis_sex, "诊断限性别（ICD-10 前缀）/ sex-specific diagnoses"),
    "kb_diag_age": (clinical.diagnosis_age, "诊断限年龄（ICD-10 前缀）/ age-specific diagnoses"),
    "kb_oprn_sex": (clinical.operation_sex, "手术操作限性别（ICD-9-CM-3 前缀）/ sex-specific operations"),
    "kb_oprn_diag": (clinical.operation_diagnosis, "手术操作须有的诊断 / operations needing a diagnosis"),
    "kb_icd10_codes": (
        clinical.diagnosis_codes,
        "ICD-10 医保版2.0 编码（去点、大写）/ valid diagnosis codes",
    ),
    "kb_icd9_codes": (clinical.operation_codes, "ICD-9-CM-3 医保版编码（去点、大写）/ valid operation codes"),
    "kb_drug_safety": (
        clinical.drug_safety,
        "药品安全（儿童、老年、妊娠、禁忌、相互作用、十八反十九畏）/ drug safety",
    ),
    "kb_service_consumables": (
        charging.service_consumables,
        "医疗服务项目已含的耗材（价格项目规范项目内涵）/ consumables a service price includes",
    ),
    "kb_stay_units": (charging.stay_units, "按日/按小时计价的项目 / items priced per day or hour"),
    "kb_point_codes": (
        _point_codes,
        "两库知识点编码（含约束文本）/ codes of the points, with their constraint",
    ),
}
"""SQL name → (loader, description)."""


def names() -> list[str]:
    """The knowledge table names a rule may use."""
    return sorted(KNOWLEDGE)


@cache
def arrow(name: str) -> pa.Table:
    """The knowledge table ``name`` as an Arrow table (cached per process)."""
    return KNOWLEDGE[name][0]().to_arrow()


def columns(name: str) -> list[str]:
    return arrow(name).column_names


def register(con: duckdb.DuckDBPyConnection, tables: list[str] | None = None) -> None:
    """Create (or replace) the knowledge tables ``tables`` (default: all) in ``con``."""
    for name in tables if tables is not None else names():
        con.register(f"_arrow_{name}", arrow(name))
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM "_arrow_{name}"')
        con.unregister(f"_arrow_{name}")
