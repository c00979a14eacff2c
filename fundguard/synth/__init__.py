"""A deterministic synthetic city for FundGuard: the ten canonical tables with planted, labelled violations.

Public API: ``CityConfig``, ``generate_city(out_dir, cfg, progress=True) -> CitySummary``, ``VIOLATION_TYPES``.
Modules: ``world`` (institutions, staff, catalogue), ``block`` (people, visits, lines — vectorised),
``plant`` (violations), ``tables`` (Arrow tables, fund split), ``writers`` (formats), ``generate``.
May import: ``fundguard.core``, ``fundguard.data.schema``, ``fundguard.kb``.
"""

from fundguard.synth.config import CityConfig, CitySummary
from fundguard.synth.generate import generate_city
from fundguard.synth.violations import VIOLATION_TYPES, ViolationType

__all__ = ["VIOLATION_TYPES", "CityConfig", "CitySummary", "ViolationType", "generate_city"]
