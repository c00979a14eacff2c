"""Structured parameters of the 两库 rule classes, one loader per class (codes as strings).

Parameters the knowledge-point JSON lacks (allowed sex, age target, 频度, numeric limits) come from the
structured tables of batches 1–8 (see data/SOURCES.md).
"""

from __future__ import annotations

import polars as pl

from fundguard.kb._files import read
from fundguard.kb.knowledge import points


def gender() -> pl.DataFrame:
    """Sex-limited drugs and items: kp_id, rule_class, code, item_name, allowed_gend ('1' 男 / '2' 女)."""
    return read("gender_limits")


def age() -> pl.DataFrame:
    """Age-limited drugs/items: kp_id, rule_class, code, item_name, target, min_age, max_age (years, exclusive)."""
    return read("age_limits", ("min_age", "max_age"))


def hospital_level() -> pl.DataFrame:
    """Drugs limited to hospitals of at least ``min_level`` (1–3): kp_id, code, item_name, min_level, constraint."""
    return read("hospital_level_limits", ("min_level",))


def visit_type() -> pl.DataFrame:
    """Drugs paid only for the given visit type (住院): kp_id, code, item_name, allowed_visit."""
    return read("visit_type_limits")


def insurance_type() -> pl.DataFrame:
    """Drugs paid only by 工伤 / 生育 insurance: kp_id, code, item_name, insurance."""
    return read("insurance_type_limits")


def course_days() -> pl.DataFrame:
    """Payment course limits: kp_id, rule_class, code, item_name, max_days, constraint."""
    return read("course_days_limits", ("max_days",))


def duplicate_pairs() -> pl.DataFrame:
    """Batch 7 duplicate-charge pairs: kp_id, main_code, main_name, sub_code, sub_name, frequency (频度), note."""
    return read("duplicate_charge_pairs")


def frequency() -> pl.DataFrame:
    """Frequency / period limits: kp_id, rule_class, code, item_name, limit_qty, limit_unit, period_days, …"""
    return read("frequency_limits", ("limit_qty", "period_days", "period_max_count"))


def primary_secondary_ops() -> pl.DataFrame:
    """Batch 2 主次手术 groups (second operation through one incision is discounted): kp_id, code, item_name, group."""
    return read("primary_secondary_ops")


def indication_drugs() -> pl.DataFrame:
    """药品限适应症 drugs: kp_id, code, item_name, indication (the knowledge point's constraint text)."""
    kp = points().select("kp_id", "item_name", pl.col("constraint").alias("indication"))
    return read("indication_drugs").join(kp, on="kp_id", how="left")


def tcm_herbs_not_paid() -> pl.DataFrame:
    """中药饮片 not paid by the fund: kp_id, code, item_name, not_paid_when ('单方' or '单复方')."""
    return read("tcm_herbs_not_paid")
