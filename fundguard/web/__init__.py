"""The Chinese web workbench (监管工作台): an offline static single-page app served by the API at `/`.

Owns `static/` (HTML, CSS, vendored ECharts and Swagger UI) and `static/js/`: buildless ES modules, one per
concept (`clues.js`, `cases.js`, `dashboard.js`, `rules.js`, `ledgers.js`, `record.js`) over a shared REST client
(`client.js`), DOM helpers (`dom.js`) and the form renderer (`forms.js`) that builds every action form from the
workflow engine's definitions; `main.js` is the router. No build step, no CDN, script-src 'self'. The pages
talk only to the REST API in `fundguard.api`.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR: Path = Path(__file__).parent / "static"
