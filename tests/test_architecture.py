"""The architecture contracts of ARCHITECTURE.md hold: dependencies point one way between the packages, and
inside the supervision service the concepts sit above the shared machinery with no import circles (the
contracts are in pyproject.toml, ``[tool.importlinter]``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    code = lint_imports(no_cache=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "0 broken" in report and "Supervision concepts above the shared machinery" in report
