"""Schemathesis against the app's own OpenAPI spec: generated requests (valid and invalid) to every operation,
logged in as a province supervisor and anonymous, must never produce a 5xx. A bounded number of examples per operation
keeps the run short; the app is the real one over a seeded, audited workspace.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from service_ws import ServiceWorkspace, build_service_workspace

from fundguard.api.app import create_app

# examples per operation and generation mode: a quick pass in the default suite (the API has ~150 operations),
# the thorough one under ``pytest -m slow``
QUICK, THOROUGH = 3, 12


@pytest.fixture(scope="module")
def app_and_token(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str, ServiceWorkspace]:
    sw = build_service_workspace(tmp_path_factory.mktemp("schema"))
    app = create_app(sw.workspace, sw.database_url)
    user = sw.user("province_supervisor")
    with TestClient(app) as c:
        r = c.post("/api/auth/login", json={"username": user["username"], "password": user["password"]})
        r.raise_for_status()
    return app, r.json()["token"], sw


@pytest.mark.parametrize("examples", [pytest.param(QUICK, id="quick"),
                                      pytest.param(THOROUGH, id="thorough", marks=pytest.mark.slow)])  # fmt: skip
@pytest.mark.parametrize("logged_in", [True, False], ids=["logged-in", "anonymous"])
def test_no_server_errors(
    app_and_token: tuple[Any, str, ServiceWorkspace], logged_in: bool, examples: int
) -> None:
    # schemathesis' own pytest integration (``from_fixture``) does not run under pytest 9, so each operation's
    # hypothesis strategy is driven here directly, valid and invalid requests alike
    app, token, _ = app_and_token
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app).exclude(path="/api/auth/logout")
    auth = {"Authorization": f"Bearer {token}"} if logged_in else {}
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
            )
            def check(case: Any) -> None:
                response = case.call(headers=auth)
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} → {response.status_code}"
                    )
                elif response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
                    detail = response.json().get("detail")
                    if not (isinstance(detail, dict) and {"code", "zh", "en"} <= detail.keys()):
                        failures.append(f"{case.method} {case.formatted_path}: error body {detail!r}")

            try:
                check()
            except Unsatisfiable:
                continue  # no invalid request exists for an operation without inputs
    assert operations >= 20
    # both kinds of answers were exercised: accepted requests and refused ones
    if logged_in:
        assert sum(200 <= c < 300 for c in statuses) > 50, statuses
    assert sum(400 <= c < 500 for c in statuses) > 50, statuses
    assert not failures, "\n".join(failures[:20])


def test_spec_lists_the_contract(app_and_token: tuple[Any, str, ServiceWorkspace]) -> None:
    with TestClient(app_and_token[0]) as c:
        spec = c.get("/api/openapi.json").json()
        docs = c.get("/api/docs")
    paths = set(spec["paths"])
    for p in (
        "/api/auth/login", "/api/me", "/api/dashboard", "/api/clues", "/api/clues/{clue_id}",
        "/api/clues/{clue_id}/actions", "/api/clues/{clue_id}/appeal", "/api/appeal-files/{file_id}",
        "/api/cases", "/api/cases/{case_id}", "/api/cases/{case_id}/actions",
        "/api/cases/{case_id}/documents/{kind}", "/api/rules/scorecard", "/api/rules/{rule_id}/pause",
        "/api/rules/{rule_id}/resume", "/api/ledgers/{name}", "/api/record", "/api/record/verify",
    ):  # fmt: skip
        assert p in paths, p
    # the docs page works offline: Swagger UI from our own copy, no CDN
    assert docs.status_code == 200
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text


def test_every_supervision_route_declares_its_response(
    app_and_token: tuple[Any, str, ServiceWorkspace],
) -> None:
    """Typed API: every JSON route of the supervision side names a response model in the OpenAPI spec (file
    downloads answer their media type); the front end reads documented shapes, never guesses."""
    with TestClient(app_and_token[0]) as c:
        spec = c.get("/api/openapi.json").json()
    files = (
        "/api/appeal-files/{file_id}",
        "/api/cases/{case_id}/documents/{kind}",
        "/api/ledgers/{name}",
        "/api/inspections/problems.xlsx",
        "/api/inspections/flights/{flight_id}/documents/{kind}",
        "/api/inspections/plan-items/{item_id}/documents/{kind}",
        "/api/campaigns/{campaign_id}/problems.xlsx",
        "/api/campaigns/{campaign_id}/report",
        "/api/inspections/flights/{flight_id}/leads.xlsx",
        "/api/points/exchange",
        "/api/credit/blacklist/export",
        "/api/reports/{report_id}/attachments/{attachment_id}",
        "/api/rewards/ledger.xlsx",
        "/api/points/records/{record_id}/documents/{kind}",
    )
    untyped = []
    for path, ops in spec["paths"].items():
        if path.startswith("/api/audit"):
            continue  # the real-time audit routes are typed by their own module
        for method, op in ops.items():
            if path in files and method == "get":
                continue
            body = op["responses"]["200"]["content"]["application/json"]["schema"]
            if "#/components/schemas/" not in json.dumps(body):  # a bare object or "any"
                untyped.append(f"{method.upper()} {path}")
    assert not untyped, untyped
    assert spec["components"]["schemas"]["CaseDetail"]["properties"]["execution"]
