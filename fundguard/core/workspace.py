"""The workspace layout, named once: a workspace folder holds the store, the audit runs, the local rule files,
the service database, the leads and the generated documents. Code asks ``Workspace`` for a path instead of
joining folder names itself."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fundguard.core.errors import InputError

INCREMENTAL_SUFFIX = "-inc"
"""The end of an incremental audit's run id (``engine.incremental``)."""


@dataclass(frozen=True)
class Workspace:
    root: Path

    def __init__(self, root: Path | str) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def store(self) -> Path:
        """Partitioned Parquet of the canonical tables (``data.store.Store``)."""
        return self.root / "store"

    @property
    def staging(self) -> Path:
        """Where an ingest stages files before publishing them, and DuckDB spills."""
        return self.store / ".staging"

    @property
    def cache(self) -> Path:
        """Derived tables kept in step with the store (``claim_lines/``: the model built per import, ``engine.lines``)."""
        return self.root / "cache"

    @property
    def reports(self) -> Path:
        """Ingest and data-quality reports (HTML, xlsx, JSON)."""
        return self.root / "reports"

    def quarantine(self, ingest_id: str) -> Path:
        """One ingest's rejected rows, one ``<file>.bad.csv`` per input file."""
        return self.root / "quarantine" / ingest_id

    @property
    def results(self) -> Path:
        return self.root / "results"

    def run(self, run_id: str) -> Path:
        """One audit run's folder: ``hits.parquet`` and ``run.json``."""
        return self.results / f"run={run_id}"

    def runs(self) -> list[str]:
        """The ids of the runs that produced hits, oldest first (run ids begin with their start time)."""
        return sorted(p.parent.name.split("=", 1)[1] for p in self.results.glob("run=*/hits.parquet"))

    def latest_run(self) -> str:
        runs = self.runs()
        if not runs:
            raise InputError(f"工作区 {self.root} 还没有审核结果，请先运行 fundguard audit",
                             f"workspace {self.root} has no audit run yet; run fundguard audit first")  # fmt: skip
        return runs[-1]

    def latest_hits(self) -> Path | None:
        """The newest whole-store run's ``hits.parquet``, if any: an incremental run (id ending in
        ``INCREMENTAL_SUFFIX``) holds one month's or import's hits only, so readers wanting every hit skip it."""
        runs = [r for r in self.runs() if not r.endswith(INCREMENTAL_SUFFIX)]
        return self.run(runs[-1]) / "hits.parquet" if runs else None

    def run_meta(self, run_id: str) -> dict[str, Any]:
        meta = self.run(run_id) / "run.json"
        return json.loads(meta.read_text("utf-8")) if meta.exists() else {}

    @property
    def rules(self) -> Path:
        """Local rule files (YAML overrides) of this workspace."""
        return self.root / "rules"

    @property
    def paused_rules(self) -> Path:
        """Rules paused from the scorecard, as overrides the next audit loads."""
        return self.rules / "paused.yaml"

    @property
    def service_db(self) -> Path:
        """The default (SQLite) service database."""
        return self.root / "service.db"

    @property
    def leads(self) -> Path:
        return self.root / "leads"

    def lead_run(self, run_id: str) -> Path:
        """One model run's folder: ``leads.parquet`` and ``leads.xlsx``."""
        return self.leads / f"run={run_id}"

    def latest_lead_run(self) -> str:
        runs = _run_ids(self.leads.glob("run=*/leads.parquet"))
        if not runs:
            raise InputError(f"工作区 {self.root} 还没有模型线索，请先运行 fundguard models run",
                             f"workspace {self.root} has no model leads yet; run fundguard models run first")  # fmt: skip
        return runs[-1]

    @property
    def documents(self) -> Path:
        return self.root / "documents"


def _run_ids(outputs: Iterable[Path]) -> list[str]:
    """Run ids from their output files (``…/run=<id>/<file>``), oldest first."""
    ordered = sorted(outputs, key=lambda p: (p.stat().st_mtime, p.parent.name))
    return [p.parent.name.split("=", 1)[1] for p in ordered]
