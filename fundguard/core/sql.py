"""Writing SQL text safely: quoted identifiers and literals, one implementation for every layer."""

from __future__ import annotations

import datetime as dt


def ident(name: str) -> str:
    """A quoted SQL identifier: ``ident('a"b')`` → ``"a""b"``."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """A SQL literal for a str / number / bool / date / None / list (lists become DuckDB list literals).

    >>> literal("O'Brien"), literal(["01", 2]), literal(None)
    ("'O''Brien'", "['01', 2]", 'NULL')
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"
