"""``BoundedMemo``: a dict filled on first sight and cleared when full — the memo of values a hot path has
already checked or cast (real-time claims repeat their codes, amounts and times across lines and claims)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class BoundedMemo(dict):
    """key → ``fill(key)``, computed on first sight (``memo[key]``, one C-level lookup on a hit) or put with
    ``remember``. A fill that raises keeps nothing, so a bad key fails every time. Bounded: cleared when it
    reaches ``size`` entries (unique keys such as 记账流水号 would otherwise grow it without end)."""

    __slots__ = ("fill", "size")

    def __init__(self, fill: Callable[[Any], Any] | None = None, size: int = 200_000) -> None:
        super().__init__()
        self.fill = fill
        self.size = size

    def __missing__(self, key: Any) -> Any:
        if self.fill is None:
            raise KeyError(key)
        return self.remember(key, self.fill(key))

    def remember(self, key: Any, value: Any) -> Any:
        """Keep ``value`` for ``key`` (clearing the memo first when full); returns ``value``."""
        if len(self) >= self.size:
            self.clear()
        self[key] = value
        return value
