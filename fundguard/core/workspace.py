"""The workspace layout, named once: a workspace folder holds the store, the audit runs, the local rule files,
the service database, the leads and the generated documents. Code asks ``Workspace`` for a path instead of
joining folder names itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fundguard.core.errors import InputError


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
    def results(self) -> Path:
        return self.root / "results"

    def run(self, run_id: str) -> Path:
        """One audit run's folder: ``hits.parquet`` and ``run.json``."""
        return self.results / f"run={run_id}"

    def runs(self) -> list[str]:
        """The ids of the runs that produced hits, oldest first."""
        return sorted(
            p.name.split("=", 1)[1] for p in self.results.glob("run=*") if (p / "hits.parquet").exists()
        )

    def latest_run(self) -> str:
        runs = self.runs()
        if not runs:
            raise InputError(f"工作区 {self.root} 还没有审核结果，请先运行 fundguard audit",
                             f"workspace {self.root} has no audit run yet; run fundguard audit first")  # fmt: skip
        return runs[-1]

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

    @property
    def documents(self) -> Path:
        return self.root / "documents"
