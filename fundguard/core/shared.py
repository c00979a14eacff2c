"""Where the real reference data (``../shared/data`` in a development checkout) lives, if anywhere.

The package never needs it at run time (it ships derived files); tools that derive those files and tests
that check against the originals look here and skip with a clear message where it is absent.
"""

from __future__ import annotations

from pathlib import Path

from fundguard.core.settings import settings


def shared_data_dir() -> Path | None:
    """``$FUNDGUARD_SHARED_DATA`` or ``<repo>/../shared/data``; ``None`` when neither exists."""
    env = settings().shared_data
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data")
    return next((p for p in candidates if p.is_dir()), None)
