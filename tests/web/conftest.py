"""Fixtures for the workbench tests: the real app under uvicorn over a seeded workspace, and Debian's Chromium
driven by Playwright, with every request that would leave localhost blocked and recorded (the workbench must
work on an isolated bureau network).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from service_ws import LiveServer, ServiceWorkspace, build_service_workspace, fresh_pg_schema

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's Chromium (/usr/bin/chromium) is not installed: `apt-get install chromium fonts-noto-cjk`",
        allow_module_level=True,
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def service_ws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ServiceWorkspace:
    """Every journey runs on SQLite (the default) and on the machine's PostgreSQL."""
    url = fresh_pg_schema("fundguard_web_test") if request.param == "postgresql" else None
    return build_service_workspace(tmp_path_factory.mktemp(f"web-{request.param}"), database_url=url)


@pytest.fixture(scope="session")
def server(service_ws: ServiceWorkspace) -> Iterator[LiveServer]:
    from fundguard.api.app import create_app

    live = LiveServer(create_app(service_ws.workspace, service_ws.database_url)).start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Offsite:
    """Requests the page tried to send anywhere but the test server (each one is aborted)."""

    def __init__(self) -> None:
        self.urls: list[str] = []


@pytest.fixture
def offsite() -> Offsite:
    return Offsite()


@pytest.fixture
def page(browser: object, server: LiveServer, offsite: Offsite) -> Iterator[object]:
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=server.url, locale="zh-CN", viewport={"width": 1400, "height": 900}, accept_downloads=True
    )

    def guard(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or (parts.hostname, parts.port) == (server.host, server.port):
            route.continue_()  # type: ignore[attr-defined]
        else:
            offsite.urls.append(url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", guard)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not offsite.urls, f"the workbench tried to reach outside the server: {offsite.urls}"
