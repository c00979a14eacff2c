"""A workspace with model leads for the leads-page tests (API and workbench): the synthetic city with planted
schemes and legitimate-but-unusual controls, ingested, audited, the models run, the service database migrated
and seeded, the audit hits and the model leads imported as clues. Real components, nothing mocked."""

from __future__ import annotations

from pathlib import Path

from service_ws import ServiceWorkspace, built_once, workspace_copy

from fundguard.data.ingest import ingest
from fundguard.engine import run_batch
from fundguard.models import run_models
from fundguard.rules import load_rules
from fundguard.service import clues as clue_service
from fundguard.service import seed as seed_service
from fundguard.service.db import Database, migrate
from fundguard.synth import CityConfig, generate_city


def _city_with_leads(ws: Path) -> None:
    generate_city(
        ws / "city", CityConfig(seed=11, fee_lines=60_000, schemes=True, fmt="parquet"), progress=False
    )
    ingest([d for d in sorted((ws / "city").iterdir()) if d.is_dir()], ws, progress=False)
    audit = run_batch(ws, load_rules(), progress=False)
    run_models(ws, hits_path=audit.hits_path)


def build_leads_workspace(root: Path, *, database_url: str | None = None) -> ServiceWorkspace:
    ws = workspace_copy(built_once("leads-city", _city_with_leads), root / "ws")
    url = database_url or f"sqlite:///{(ws / 'service.db').resolve()}"
    migrate(url)
    db = Database(url)
    try:
        with db.session() as s:
            imported = clue_service.import_run(s, ws)
            imported["leads"] = clue_service.import_leads(s, ws)
            users = seed_service.seed_demo(s, ws)
    finally:
        db.dispose()
    return ServiceWorkspace(ws, url, users, imported)
