"""Clinical knowledge derived from public authorities where the NHSA detail is not in the data: diagnosis and
operation codes against sex and age (classes 39, 54, 55), operations needing a diagnosis (40), and the drug
safety facts (66 儿童禁用, 71 禁忌症, 72 老年人, 73 妊娠期, 74 相互作用, 75 十八反/十九畏).

The shipped tables (``data/diagnosis_sex.csv`` …, written by ``tools/derive_clinical_kb.py`` from the curated
``data/clinical_facts.yaml`` and the ICD 医保版 tables) carry each row's ``source`` and ``confidence``.

**Bureau overrides.** A bureau corrects a table without editing the shipped files: a folder named by
``FUNDGUARD_KB_OVERRIDES`` (or passed as ``overrides``) may hold ``<table>.csv`` (e.g. ``drug_safety.csv``)
with the table's columns plus ``action`` (``add`` | ``remove``) and ``reviewer``; ``add`` appends the row
(``source`` defaults to 统筹地区复核 and ``confidence`` to high), ``remove`` drops every shipped row whose
values equal the row's non-empty columns (e.g. ``kp_id`` alone drops a whole point). An unknown column or
action is refused with a bilingual error.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from fundguard.core.errors import InputError
from fundguard.core.settings import settings
from fundguard.kb._files import read

TABLES: dict[str, tuple[str, ...]] = {
    "diagnosis_sex": (),
    "diagnosis_age": ("min_age", "max_age"),
    "operation_sex": (),
    "operation_diagnosis": (),
    "drug_safety": ("min_age", "max_age"),
}
"""Shipped table → its numeric columns."""

_META = ("action", "reviewer", "note")


def apply_overrides(df: pl.DataFrame, path: Path, numeric: tuple[str, ...]) -> pl.DataFrame:
    """``df`` with the bureau's override file ``path`` applied (format in the module docstring)."""
    ov = pl.read_csv(path, infer_schema=False)
    unknown = sorted(set(ov.columns) - set(df.columns) - set(_META))
    if unknown or "action" not in ov.columns:
        raise InputError(
            f"知识覆盖文件 {path} 列不符：未知列 {unknown}，须含 action 列",
            f"override file {path}: unknown columns {unknown}; an action column is required",
        )
    for r in ov.iter_rows(named=True):
        action, reviewer = (r.get("action") or "").strip(), (r.get("reviewer") or "").strip()
        if action not in ("add", "remove") or not reviewer:
            raise InputError(
                f"知识覆盖文件 {path}：每行须有 action（add 或 remove）和复核人 reviewer",
                f"override file {path}: each row needs action add|remove and a reviewer",
            )
        vals = {c: v for c, v in r.items() if c not in _META and v not in (None, "")}
        if action == "remove":
            if not vals:
                raise InputError(
                    f"知识覆盖文件 {path}：remove 行须给出至少一列的值",
                    f"override file {path}: an empty remove row",
                )
            hit = pl.all_horizontal(pl.col(c).cast(pl.Utf8) == v for c, v in vals.items())
            df = df.filter(~hit.fill_null(False))
        else:
            row = {c: None for c in df.columns} | {"source": "统筹地区复核", "confidence": "high"} | vals
            add = pl.DataFrame([row], schema={c: pl.Utf8 for c in df.columns})
            add = add.with_columns(pl.col(c).cast(pl.Float64, strict=False) for c in numeric)
            df = pl.concat([df, add.select(df.columns).cast(df.schema)])
    return df


def table(name: str, overrides: Path | None = None) -> pl.DataFrame:
    """The shipped table ``name`` with the bureau's override file applied (``overrides`` folder, else
    ``$FUNDGUARD_KB_OVERRIDES``; none: as shipped)."""
    numeric = TABLES[name]
    df = read(name, numeric)
    folder = overrides or (Path(settings().kb_overrides) if settings().kb_overrides else None)
    if folder is not None and (Path(folder) / f"{name}.csv").is_file():
        df = apply_overrides(df, Path(folder) / f"{name}.csv", numeric)
    return df


def _valid(frame: pl.DataFrame) -> pl.DataFrame:
    norm = pl.col("code").str.strip_chars(" ").str.replace_all(".", "", literal=True).str.to_uppercase()
    return frame.select(norm.alias("norm"), "code", "name").unique("norm", keep="first").sort("norm")


def diagnosis_codes() -> pl.DataFrame:
    """The ICD-10 医保版 2.0 codes as the rules compare them (``norm``: no dots, upper case), for 编码异常."""
    from fundguard.kb import codes

    return _valid(codes.icd10())


def operation_codes() -> pl.DataFrame:
    """The ICD-9-CM-3 医保版 codes by ``norm``."""
    from fundguard.kb import codes

    return _valid(codes.icd9cm3())


def diagnosis_sex() -> pl.DataFrame:
    """ICD-10 医保版 prefixes (dots dropped) limited to one sex: ``kp_id, prefix, allowed_gend`` …"""
    return table("diagnosis_sex")


def diagnosis_age() -> pl.DataFrame:
    """ICD-10 prefixes allowed only at ages in [min_age, max_age)."""
    return table("diagnosis_age")


def operation_sex() -> pl.DataFrame:
    """ICD-9-CM-3 prefixes limited to one sex."""
    return table("operation_sex")


def operation_diagnosis() -> pl.DataFrame:
    """ICD-9-CM-3 prefixes that need a diagnosis with one of the ``diag_prefix`` rows of their point."""
    return table("operation_diagnosis")


def drug_safety() -> pl.DataFrame:
    """Drug safety facts: ``kind`` age | diagnosis | pair, the drug picked by ``code_prefix`` and
    ``name_contains`` (``name_excludes``: ``|``-separated local forms left out)."""
    return table("drug_safety")
