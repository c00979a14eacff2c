"""Data-quality profile of the workspace store (数据质量报告): what an official checks before trusting an audit.

Three tiers, after tuva's data_quality layout: structural (rows, keys, time ranges per table), logical
(cross-table integrity: orphans, totals that do not add up, codes unknown to the reference tables or to the
ICD-10 医保版 table) and analytical (money by month and visit type). Reads the store through DuckDB views.

May import: ``fundguard.core``, ``fundguard.data``, ``fundguard.kb``.
"""

from fundguard.quality.profile import QualityReport, profile_store

__all__ = ["QualityReport", "profile_store"]
