"""The leads page's functions: the ranked leads of a model run per entity type, and one lead in detail.

A lead is visible to an actor holding ``leads.view`` when one of its institutions (where its linked visits
happened: ``models.run`` writes them) lies in the actor's scope — so a county supervisor sees the persons and
groups whose flagged visits were in the county, not the whole city's. For an actor without
``patient.unmasked`` every insured person's number (the entity id of a person lead, a group's members, the
graph's nodes) is masked; leads are addressed by an opaque key, never by a person's number.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.core.workspace import Workspace
from fundguard.service.clues.leads import (
    PEOPLE_TYPES,
    clue_key,
    lead_institution,
    run_period,
)
from fundguard.service.errors import not_found
from fundguard.service.models import Clue, Institution
from fundguard.service.scope import Actor, Scope, mask_id
from fundguard.supervision.roles import LEADS_VIEW

ENTITY_TYPES = {
    "institution": "医疗机构",
    "department": "科室",
    "doctor": "医师",
    "person": "参保人",
    "pharmacy": "药店",
    "group": "团伙",
}
PEER_LIMIT = 8
"""Indicators shown in a peer chart: the entity's strongest (by robust score) first."""


def lead_key(run_id: str, entity_type: str, entity_id: str) -> str:
    return hashlib.sha256(f"{run_id}|{entity_type}|{entity_id}".encode()).hexdigest()[:20]


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> pl.DataFrame:
    """A run's file, read once per version (the run directory is written once; the mtime guards a rerun)."""
    return pl.read_parquet(path)


def _frame(workspace: Path, run_id: str, name: str) -> pl.DataFrame | None:
    path = Path(workspace) / "leads" / f"run={run_id}" / name
    return _read(str(path), path.stat().st_mtime) if path.exists() else None


def _run(workspace: Path, run_id: str | None) -> str | None:
    if run_id:
        if _frame(workspace, run_id, "leads.parquet") is None:
            raise not_found("模型运行", "model run", run_id)
        return run_id
    try:
        return Workspace(workspace).latest_lead_run()
    except InputError:  # no model run yet: an empty page, not an error
        return None


def _entities(df: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """One row per entity: its best lead's reasons first, every model that flagged it, the largest money."""
    return (
        df.sort("score", descending=True)
        .group_by("entity_type", "entity_id", maintain_order=True)
        .agg(
            pl.col("entity_name").first(),
            pl.col("rank").first(),
            pl.col("score").max(),
            pl.col("model_name").alias("models"),
            pl.col("reasons").first(),
            pl.col("money").max(),
            pl.col("institutions").first(),
            pl.col("related").first(),
        )
        .with_columns(
            key=pl.concat_str(pl.lit(run_id), "entity_type", "entity_id", separator="|").map_elements(
                lambda s: hashlib.sha256(s.encode()).hexdigest()[:20], return_dtype=pl.String
            )
        )
        .sort("entity_type", "rank")
    )


def _visible(actor: Actor, institutions: list[str], regions: dict[str, str]) -> bool:
    scope = Scope.of(actor)
    return any(scope.covers(regions[c], c) for c in institutions if c in regions)


def _item(
    row: dict, actor: Actor, names: dict[str, str], clues: dict[str, Clue], period: str
) -> dict[str, Any]:
    people = row["entity_type"] in PEOPLE_TYPES
    eid = row["entity_id"]
    code = lead_institution(row)
    clue = clues.get(clue_key(row["entity_type"], eid, code, period))
    return {
        "key": row["key"],
        "entity_type": row["entity_type"],
        "entity_type_zh": ENTITY_TYPES.get(row["entity_type"], row["entity_type"]),
        "entity_id": mask_id(eid) if actor.masked and row["entity_type"] == "person" else eid,
        "entity_name": row["entity_name"] or "",
        "rank": int(row["rank"]),
        "score": float(row["score"]),
        "models": list(dict.fromkeys(row["models"])),
        "reasons": _mask_reasons(row["reasons"], actor, [eid] if people else []),
        "money": float(row["money"] or 0),
        "institutions": list(row["institutions"] or []),
        "institution_names": [names.get(c, c) for c in row["institutions"] or []],
        "clue_id": clue.id if clue else None,
        "clue_status": clue.status if clue else None,
    }


def _mask_reasons(reasons: list[str], actor: Actor, ids: list[str]) -> list[str]:
    if not actor.masked:
        return list(reasons)
    out = []
    for r in reasons:
        for i in ids:
            r = r.replace(i, mask_id(i))
        out.append(r)
    return out


def _context(
    session: Session, workspace: Path, run_id: str, rows: list[dict]
) -> tuple[dict, dict, dict, str]:
    insts = {i.fixmedins_code: i for i in session.execute(select(Institution)).scalars()}
    regions = {c: i.admdvs for c, i in insts.items()}
    names = {c: i.name for c, i in insts.items()}
    period = run_period(workspace, run_id)
    keys = {clue_key(r["entity_type"], r["entity_id"], lead_institution(r), period) for r in rows}
    clues = {
        c.group_key: c
        for c in session.execute(select(Clue).where(Clue.source == "model", Clue.group_key.in_(sorted(keys)))).scalars()
    } if keys else {}  # fmt: skip
    return regions, names, clues, period


def list_leads(
    session: Session, actor: Actor, workspace: Path, *, entity_type: str | None = None, run_id: str | None = None,
    q: str | None = None, page: int = 1, size: int = 20,
) -> dict[str, Any]:  # fmt: skip
    """The visible leads of a run (default: the newest), one row per entity, riskiest first within a type;
    ``counts`` gives the visible leads per type (the page's tabs)."""
    actor.require(LEADS_VIEW)
    page, size = max(int(page), 1), min(max(int(size), 1), 200)
    run = _run(workspace, run_id)
    empty = {"run_id": run, "counts": dict.fromkeys(ENTITY_TYPES, 0), "items": [], "total": 0, "page": page,
             "size": size}  # fmt: skip
    if run is None:
        return empty
    ents = _entities(_frame(workspace, run, "leads.parquet"), run)
    regions = {i.fixmedins_code: i.admdvs for i in session.execute(select(Institution)).scalars()}
    visible = [r for r in ents.iter_rows(named=True) if _visible(actor, r["institutions"] or [], regions)]
    counts = dict.fromkeys(ENTITY_TYPES, 0)
    for r in visible:
        counts[r["entity_type"]] = counts.get(r["entity_type"], 0) + 1
    rows = [r for r in visible if entity_type is None or r["entity_type"] == entity_type]
    if q:  # by name or code; a masked role cannot search by a person's number
        rows = [r for r in rows if q in (r["entity_name"] or "")
                or (q in r["entity_id"] and not (actor.masked and r["entity_type"] in PEOPLE_TYPES))]  # fmt: skip
    chunk = rows[(page - 1) * size : page * size]
    _, names, clues, period = _context(session, workspace, run, chunk)
    return {**empty, "counts": counts, "items": [_item(r, actor, names, clues, period) for r in chunk],
            "total": len(rows)}  # fmt: skip


def lead_detail(
    session: Session, actor: Actor, workspace: Path, key: str, run_id: str | None = None
) -> dict[str, Any]:
    """One lead: every model's reasons, the peer comparison and, for a group, its graph. A lead outside the
    actor's scope answers as a missing one."""
    actor.require(LEADS_VIEW)
    run = _run(workspace, run_id)
    if run is None:
        raise not_found("模型线索", "lead", key)
    df = _frame(workspace, run, "leads.parquet")
    ents = _entities(df, run).filter(pl.col("key") == key)
    if ents.is_empty():
        raise not_found("模型线索", "lead", key)
    row = ents.row(0, named=True)
    regions, names, clues, period = _context(session, workspace, run, [row])
    if not _visible(actor, row["institutions"] or [], regions):
        raise not_found("模型线索", "lead", key)
    et, eid = row["entity_type"], row["entity_id"]
    mask = actor.masked
    leads = df.filter((pl.col("entity_type") == et) & (pl.col("entity_id") == eid)).sort(
        "score", descending=True
    )
    return {
        **_item(row, actor, names, clues, period),
        "run_id": run,
        "leads": [
            {
                "model": r["model"],
                "model_name": r["model_name"],
                "score": float(r["score"]),
                "reasons": _mask_reasons(r["reasons"], actor, [eid] if et in PEOPLE_TYPES else []),
                "money": float(r["money"] or 0),
                "peer_group": r["peer_group"] or "",
                "visits": list(r["visits"] or []),
            }
            for r in leads.iter_rows(named=True)
        ],
        "peers": _peers(workspace, run, et, eid),
        **_graph(workspace, run, row, names, mask),
    }


def _peers(workspace: Path, run: str, et: str, eid: str) -> list[dict]:
    peers = _frame(workspace, run, "peers.parquet")
    if peers is None:
        return []
    own = peers.filter(
        (pl.col("entity_type") == et) & (pl.col("entity_id") == eid) & pl.col("n").is_not_null()
    )
    return [
        {"indicator": r["indicator"], "name_zh": r["name_zh"] or r["indicator"], "unit": r["unit"] or "",
         "peer_group": r["peer_group"] or "", "value": r["value"], "z": r["z"], "n": r["n"], "p10": r["p10"],
         "p25": r["p25"], "p50": r["p50"], "p75": r["p75"], "p90": r["p90"]}
        for r in own.head(PEER_LIMIT).iter_rows(named=True)
    ]  # fmt: skip


def _graph(workspace: Path, run: str, row: dict, names: dict[str, str], mask: bool) -> dict[str, list]:
    """A group's members and institutions as nodes, its co-admission and stay links as edges."""
    links = _frame(workspace, run, "group_links.parquet")
    if row["entity_type"] != "group" or links is None:
        return {"nodes": [], "links": []}
    own = links.filter(pl.col("group_id") == row["entity_id"])
    members = list(row["related"] or [])
    members += sorted({r["source"] for r in own.iter_rows(named=True)} - set(members))
    # masked: node ids are positions, not numbers (two masked numbers may look alike)
    ids = {m: (f"P{k + 1}" if mask else m) for k, m in enumerate(members)}
    nodes = [{"id": ids[m], "name": mask_id(m) if mask else m, "kind": "person"} for m in members]
    edges = []
    for r in own.iter_rows(named=True):
        if r["kind"] == "institution" and r["target"] not in ids:
            ids[r["target"]] = r["target"]
            nodes.append(
                {"id": r["target"], "name": names.get(r["target"], r["target"]), "kind": "institution"}
            )
        edges.append({"source": ids[r["source"]], "target": ids[r["target"]], "kind": r["kind"],
                      "weight": int(r["weight"]), "times": int(r["times"])})  # fmt: skip
    return {"nodes": nodes, "links": edges}
