"""Diagnosis and procedure code lists (ICD-10 医保版 2.0, ICD-9-CM-3 医保版, CHS-DRG 1.1 CC/MCC; OpenDRG/DRG_Python,
Apache-2.0)."""

from __future__ import annotations

import polars as pl

from fundguard.kb._files import read


def icd10() -> pl.DataFrame:
    """ICD-10 医保版 diagnoses: [code, name] (33,303 rows)."""
    return read("icd10")


def icd9cm3() -> pl.DataFrame:
    """ICD-9-CM-3 医保版 procedures: [code, name] (13,685 rows)."""
    return read("icd9cm3")


def cc_mcc() -> pl.DataFrame:
    """CHS-DRG 1.1 complication / comorbidity diagnoses: [code, level, excl] with level ``CC`` or ``MCC`` and
    ``excl`` the code's exclusion table (see ``cc_exclusions``)."""
    return read("cc_mcc")


def cc_exclusions() -> pl.DataFrame:
    """CHS-DRG 1.1 CC exclusions (CCE): [code, excl] — a CC/MCC of table ``excl`` does not count as a
    complication when the principal diagnosis is ``code`` (it is part of the principal condition)."""
    return read("cc_exclusions")
