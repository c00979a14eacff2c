"""Configuration and summary of one synthetic city (the public dataclasses of ``fundguard.synth``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

FORMATS = ("parquet", "csv", "csv-gbk", "jsonl", "xlsx")


@dataclass
class CityConfig:
    seed: int = 20250101
    fee_lines: int = 1_000_000
    """Target number of ``fee_list_d`` lines (±5 %)."""
    fmt: str = "parquet"
    """"parquet" | "csv" (UTF-8) | "csv-gbk" (GB18030, as Chinese Windows exports) | "jsonl" | "xlsx"."""
    start: date = date(2025, 1, 1)
    end: date = date(2025, 12, 31)
    violation_scale: float = 1.0
    """Multiplies every default rate; 0 gives a clean city."""
    violation_rates: dict[str, float] = field(default_factory=dict)
    """Per-type overrides of the rate (share of eligible visits), before ``violation_scale``."""
    regions: int = 5
    """County regions of the city, besides 市本级 (xx99)."""
    block_lines: int = 200_000
    """Fee lines per independent block (bounded memory; each block has its own RNG stream)."""
    rows_per_file: int = 2_000_000
    """Rows per output file before a new ``<table>-NNNNN`` file is started (xlsx is capped at 1,000,000)."""
    schemes: bool = False
    """Add the entity-level schemes and legitimate-but-unusual controls of ``synth.schemes`` (the models'
    evaluation city; ``schemes.csv``), after the ordinary blocks, which stay the same."""
    institutions_scale: float | None = None
    """Multiplier of the number of institutions; by default grows with √(fee_lines / 1M)."""

    def to_json(self) -> dict:
        d = asdict(self)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        return d


@dataclass
class CitySummary:
    out_dir: Path
    counts: dict[str, int]
    violations: dict[str, int]
    seconds: float
    lines_per_second: float
    files: list[Path]
