"""The Chinese web workbench (监管工作台): an offline static single-page app served by the API at `/`.

Owns `static/` (HTML, CSS, vanilla JS, vendored ECharts and Swagger UI); no build step, no CDN. The pages
talk only to the REST API in `fundguard.api`.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR: Path = Path(__file__).parent / "static"
