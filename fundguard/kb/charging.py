"""Charging knowledge from the national price-item specification where the NHSA published no knowledge points
(issue 12): which consumables a service item's price already includes (class 30 医疗服务项目与医用耗材重复收费)
and the unit (日 / 小时) an item is priced by, for quantities billed beyond the length of a stay.

Curated in ``data/charging_facts.yaml`` with each row's ``source`` and ``confidence`` (the file's header cites
the 《全国医疗服务价格项目规范（2012年版）》 and the NHSA inspection notices). Provinces price by their own
catalogues, so rows match by names (and the national 15-digit code prefix where known), and a bureau corrects
a table with ``$FUNDGUARD_KB_OVERRIDES/service_consumables.csv`` or ``stay_units.csv`` (the ``kb.clinical``
override format: the table's columns plus ``action`` add|remove and ``reviewer``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl
import yaml

from fundguard.core.settings import settings
from fundguard.kb._files import DATA_DIR
from fundguard.kb.clinical import apply_overrides

CONFIDENCE = ("high", "medium", "low")
UNITS = ("日", "小时")


@cache
def _facts() -> dict[str, pl.DataFrame]:
    raw = yaml.safe_load((DATA_DIR / "charging_facts.yaml").read_text(encoding="utf-8"))
    out = {}
    for name in ("service_consumables", "stay_units"):
        rows = [{k: ("" if v is None else str(v)) for k, v in r.items()} for r in raw[name]]
        df = pl.DataFrame(rows, schema={c: pl.Utf8 for c in rows[0]})
        bad = df.filter(~pl.col("confidence").is_in(CONFIDENCE))
        if bad.height:
            raise ValueError(f"charging_facts.yaml {name}: bad confidence {bad['fact_id'].to_list()}")
        out[name] = df
    if not out["stay_units"]["unit"].is_in(UNITS).all():
        raise ValueError("charging_facts.yaml stay_units: unit must be 日 or 小时")
    return out


def _table(name: str, overrides: Path | None) -> pl.DataFrame:
    df = _facts()[name]
    folder = overrides or (Path(settings().kb_overrides) if settings().kb_overrides else None)
    if folder is not None and (Path(folder) / f"{name}.csv").is_file():
        df = apply_overrides(df, Path(folder) / f"{name}.csv", ()).fill_null("")
    return df


def service_consumables(overrides: Path | None = None) -> pl.DataFrame:
    """``fact_id, service_name, service_code_prefix, consumable_name, window, confidence, source, note``: a
    service line (name contains ``service_name`` or code starts with ``service_code_prefix``) whose price
    includes consumables named ``consumable_name``."""
    return _table("service_consumables", overrides)


def stay_units(overrides: Path | None = None) -> pl.DataFrame:
    """``fact_id, name_contains, code_prefix, unit (日|小时), cap_group, confidence, source``."""
    return _table("stay_units", overrides)
