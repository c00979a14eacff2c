"""Errors that users see: every message is Chinese first, then English."""

from __future__ import annotations


class FundGuardError(Exception):
    """A user-facing error with a Chinese and an English message."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


class InputError(FundGuardError):
    """A whole input (file, header, option) cannot be used."""
