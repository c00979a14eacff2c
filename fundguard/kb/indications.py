"""药品限适应症 → ICD-10 医保版 mapping, with maintainer review overrides.

The derived mapping ``data/indication_icd10.csv`` (written by ``tools/derive_indications.py`` from the
shipped kb files and the curated ``data/indication_synonyms.yaml``) has one row per knowledge point ×
indication phrase × ICD-10 code or prefix: ``kp_id, item_name, phrase, term, icd10, icd10_name,
match_kind (exact|synonym|prefix|fuzzy|name|override), confidence (high|medium|low), conditions, item_no,
scope``. ``name`` rows are every ICD-10 医保版 code (all of ZD_INFO) whose name contains the matched disease
(菌血症 → A49.901 as well as the curated A40/A41); ``item_no`` numbers the indication's alternatives;
``scope`` is ``visit`` (the diagnosis must be in the visit) or ``history`` (前次化疗曾发生重度中性粒细胞减少: the
person's earlier visits count too, and its absence is only 可疑). Points the text matching could not map are
listed in ``data/indication_unmapped.csv`` (``kp_id, item_name, indication, reason``). The clauses the claims
cannot settle are in ``data/indication_clauses.csv`` (``kp_id, item_name, item_no, kind, clause``; ``kind``
``lab`` — a lab value or test result such as 白蛋白低于30g/L, HER2阳性 — or ``history`` — 既往…治疗失败):
the engine quotes them to a reviewer (可疑), since no extract here carries lab results or treatment history.

The rules read ``mapping()`` with the bureau's override file ``$FUNDGUARD_KB_OVERRIDES/indication_icd10.csv``
when it exists (the format below; ``clauses()`` likewise ``indication_clauses.csv`` in the clinical tables'
add/remove format).

Override file (CSV, UTF-8, header required), applied on top of the derived mapping by ``mapping()``::

    kp_id,icd10,action,reviewer,note
    KP-06071278a2483517,C61,add,张三,前列腺癌 confirmed
    KP-120f8dd116fbf986,C,remove,李四,"癌症 too broad for 人血白蛋白"

- ``icd10``: an ICD-10 医保版 code or prefix (``C61``, ``I63``, ``E11.9``); a claim diagnosis matches when
  its code starts with it;
- ``action``: ``add`` adds a row (``match_kind`` ``override``, confidence ``high``); ``remove`` drops every
  derived row of that point with exactly that ``icd10``; rows are applied in file order;
- ``reviewer`` (required) and ``note`` are kept on added rows (``reviewer``, ``note`` columns).

``matches(kp_id, diagnosis_codes)``: ``True`` when any diagnosis code starts with one of the point's
mapped prefixes (the indication items are alternatives, so any one suffices), ``False`` when none does,
``None`` when the point has no mapping at or above ``min_confidence`` (default ``medium``) — the engine
then flags the claim 可疑 and shows the indication text. Conjunctions inside one item ("2型糖尿病相关的
慢性肾脏病") and payment conditions (``conditions`` column: 支付不超过14天, 二线 …) are not checked here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from fundguard.kb._files import read

CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}
OVERRIDE_COLUMNS = ["kp_id", "icd10", "action", "reviewer", "note"]


def derived() -> pl.DataFrame:
    """The derived mapping as shipped (no overrides)."""
    return read("indication_icd10")


def unmapped() -> pl.DataFrame:
    """Points without any derived mapping: kp_id, item_name, indication, reason."""
    return read("indication_unmapped")


def clauses(overrides: Path | None = None) -> pl.DataFrame:
    """Lab / history clauses by point and item (``kp_id, item_name, item_no, kind, clause``), with the bureau's
    ``indication_clauses.csv`` applied (``action`` add|remove, ``reviewer``; as ``kb.clinical`` overrides)."""
    from fundguard.kb.clinical import apply_overrides

    df = read("indication_clauses")
    path = _override_path("indication_clauses.csv", overrides)
    return apply_overrides(df, path, ()) if path is not None else df


def _override_path(name: str, folder: Path | None) -> Path | None:
    """``<folder or $FUNDGUARD_KB_OVERRIDES>/<name>`` when that file exists."""
    from fundguard.core.settings import settings

    base = folder or (Path(settings().kb_overrides) if settings().kb_overrides else None)
    path = Path(base) / name if base is not None else None
    return path if path is not None and path.is_file() else None


def bureau_mapping() -> pl.DataFrame:
    """``mapping()`` with ``$FUNDGUARD_KB_OVERRIDES/indication_icd10.csv`` applied when it exists (the rules)."""
    return mapping(_override_path("indication_icd10.csv", None))


def _read_overrides(path: Path) -> pl.DataFrame:
    ov = pl.read_csv(path, infer_schema=False).fill_null("")
    missing = [c for c in OVERRIDE_COLUMNS if c not in ov.columns]
    if missing:
        raise ValueError(f"override file {path} lacks columns {missing}")
    ov = ov.select(pl.col(c).str.strip_chars() for c in OVERRIDE_COLUMNS)
    bad = ov.filter(~pl.col("action").is_in(["add", "remove"]) | (pl.col("reviewer") == ""))
    if bad.height:
        raise ValueError(f"override rows need action add|remove and a reviewer: {bad.to_dicts()}")
    if ov.filter((pl.col("kp_id") == "") | (pl.col("icd10") == "")).height:
        raise ValueError("override rows need kp_id and icd10")
    return ov


def mapping(overrides: Path | None = None) -> pl.DataFrame:
    """Derived mapping with the maintainer override CSV applied (format in the module docstring).

    Adds ``reviewer`` and ``note`` columns (empty on derived rows).
    """
    df = derived().with_columns(reviewer=pl.lit(""), note=pl.lit(""))
    if overrides is None:
        return df
    names = dict(zip(df["kp_id"], df["item_name"], strict=False))
    for r in _read_overrides(Path(overrides)).iter_rows(named=True):
        if r["action"] == "remove":
            df = df.filter(~((pl.col("kp_id") == r["kp_id"]) & (pl.col("icd10") == r["icd10"])))
            continue
        row = {c: "" for c in df.columns} | {
            "kp_id": r["kp_id"],
            "item_name": names.get(r["kp_id"], ""),
            "icd10": r["icd10"],
            "match_kind": "override",
            "confidence": "high",
            "item_no": "override",
            "scope": "visit",
            "reviewer": r["reviewer"],
            "note": r["note"],
        }
        df = pl.concat([df, pl.DataFrame([row], schema=df.schema)])
    return df


def prefixes(
    kp_id: str,
    *,
    overrides: Path | None = None,
    min_confidence: str = "medium",
    table: pl.DataFrame | None = None,
) -> list[str]:
    """Sorted distinct ICD-10 prefixes of a point at or above ``min_confidence``."""
    limit = CONFIDENCE_RANK[min_confidence]
    df = table if table is not None else mapping(overrides)
    rows = df.filter(
        (pl.col("kp_id") == kp_id) & pl.col("confidence").replace_strict(CONFIDENCE_RANK, default=9).le(limit)
    )
    return sorted(set(rows["icd10"]))


def matches(
    kp_id: str,
    diagnosis_codes: Iterable[str],
    *,
    overrides: Path | None = None,
    min_confidence: str = "medium",
    table: pl.DataFrame | None = None,
) -> bool | None:
    """Whether a claim's diagnoses satisfy the point's indication; ``None`` = unmapped → 可疑.

    ``table`` lets callers pass a precomputed ``mapping(overrides)`` when checking many claims.
    """
    pref = prefixes(kp_id, overrides=overrides, min_confidence=min_confidence, table=table)
    if not pref:
        return None
    codes = [c.strip().upper() for c in diagnosis_codes if c and c.strip()]
    return any(code.startswith(p.upper()) for code in codes for p in pref)
