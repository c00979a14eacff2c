"""Reference knowledge shipped with FundGuard: code lists and the national 两库 knowledge points.

Owns the derived files in ``fundguard/kb/data`` (written by ``tools/derive_kb.py`` from ``../shared/data``;
sources and licences in ``data/SOURCES.md``) and cached loaders returning polars DataFrames:

- ``kb.codes`` — ``icd10()``, ``icd9cm3()`` (ICD-10 医保版 diagnoses, ICD-9-CM-3 procedures);
- ``kb.knowledge`` — ``points()``, ``point_codes()`` (current 两库 knowledge points, supersession applied);
- ``kb.limits`` — structured parameters per rule class (sex, age, hospital level, visit type, insurance
  type, course days, duplicate-charge pairs, frequency limits, 主次手术 groups, 限适应症, 中药饮片);
- ``kb.clinical`` — knowledge from public authorities where the NHSA detail is not in the data (diagnosis and
  operation codes vs sex and age, operations needing a diagnosis, drug and consumable safety facts), each row
  with source and confidence, and the bureau's override files (``FUNDGUARD_KB_OVERRIDES``).

Works without ``../shared``. May import: ``fundguard.core`` and ``fundguard.data.schema`` only.
"""

from fundguard.kb import clinical, codes, knowledge, limits

__all__ = ["clinical", "codes", "knowledge", "limits"]
