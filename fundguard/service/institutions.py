"""Regions and institutions (定点医药机构) of the service database, read from the workspace store's
``medins_info_b``. Regions are the admdvs codes the store's institutions use, plus their city and province; the
synthetic city (province ``89``) has no official names, so counties are named from their codes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.data.store import Store
from fundguard.service.models import Institution, Region
from fundguard.service.scope import parents, region_level

SYNTH_PROVINCE = "89"


def _region_name(code: str) -> str:
    if code.startswith(SYNTH_PROVINCE):
        if code.endswith("0000"):
            return "示例省"
        if code.endswith("00"):
            return "示例市"
        if code.endswith("99"):
            return "示例市市本级"
        return f"示例市第{int(code[4:]) - 1}区"
    level = region_level(code)
    return {"province": f"省级区划 {code}", "city": f"市级区划 {code}"}.get(level, f"县级区划 {code}")


def sync_institutions(session: Session, workspace: Path) -> dict:
    """Upsert institutions (medins_info_b) and their regions from the store; returns counts."""
    store = Store(Path(workspace))
    if not store.data_files("medins_info_b"):
        return {"institutions": 0, "regions": 0}
    con = store.connect()
    try:
        rows = con.execute(
            "SELECT fixmedins_code, any_value(fixmedins_name), any_value(admdvs), any_value(fixmedins_type), "
            "any_value(hosp_lv), any_value(agrm_stas) FROM medins_info_b_valid GROUP BY 1"
        ).fetchall()
    finally:
        con.close()
    codes: set[str] = set()
    existing = {i.fixmedins_code: i for i in session.execute(select(Institution)).scalars()}
    for code, name, admdvs, ftype, lv, agrm in rows:
        admdvs = str(admdvs or "")
        inst = existing.get(code) or Institution(fixmedins_code=code)
        inst.name, inst.admdvs = name or code, admdvs
        inst.fixmedins_type, inst.hosp_lv, inst.agrm_stas = ftype or "", lv or "", agrm or ""
        session.add(inst)
        if len(admdvs) == 6:
            codes.update([admdvs, *parents(admdvs)])
    have = {r.code for r in session.execute(select(Region)).scalars()}
    for code in sorted(codes - have):
        parent = (parents(code) or [None])[-1]
        session.add(Region(code=code, name=_region_name(code), level=region_level(code), parent_code=parent))
    session.flush()
    return {"institutions": len(rows), "regions": len(codes)}
