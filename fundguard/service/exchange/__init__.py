"""部门协同 (issue 16): the exchange with 公安, 纪检监察, 卫生健康, 市场监管, 药品监管 and 财政 in one documented,
versioned format (``format``: Pydantic models whose JSON Schema is ``docs/exchange/schema-<version>.json``;
JSON or Excel files). A referral (移送, ``service.referrals``) is one kind of exchange message; receipts and
results coming back move it on its process (结果互通); a partner's finding becomes a clue with its source and
documents (标准互认); the results of those clues go back out. Every message in or out is logged once
(``exchange_messages``), so a file imported twice adds nothing; a file goes in whole or not at all, its bad rows named by their line. May import ``referrals``, ``clues`` and below.
"""

from __future__ import annotations

from fundguard.service.exchange.format import SCHEMA_VERSION, Envelope, json_schema
from fundguard.service.exchange.service import (
    export_envelope,
    import_envelope,
    import_file,
    list_messages,
    parse_file,
    read_file,
    write_file,
)

__all__ = [
    "SCHEMA_VERSION",
    "Envelope",
    "export_envelope",
    "import_envelope",
    "import_file",
    "json_schema",
    "list_messages",
    "parse_file",
    "read_file",
    "write_file",
]
