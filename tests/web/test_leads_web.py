"""The model-leads page in the browser: a city supervisor opens 模型线索, finds the planted ghost-bed hospital
among the ranked institutions with its reason, opens it and sees the peer chart (ECharts) and its clue; opens
the top group and sees the group graph; the third-party inspector sees persons masked; the hospital has no menu
entry and the API refuses it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from leads_ws import build_leads_workspace
from service_ws import LiveServer, ServiceWorkspace, fresh_pg_schema
from test_workbench import api_headers, goto, login, shot, wait_until


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service_ws(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ServiceWorkspace:
    url = fresh_pg_schema("fundguard_leads_web") if request.param == "postgresql" else None
    return build_leads_workspace(tmp_path_factory.mktemp(f"leads-web-{request.param}"), database_url=url)


@pytest.fixture(scope="module")
def server(service_ws: ServiceWorkspace) -> Iterator[LiveServer]:
    from fundguard.api.app import create_app

    live = LiveServer(create_app(service_ws.workspace, service_ws.database_url)).start()
    yield live
    live.stop()


def _scheme(sw: ServiceWorkspace, name: str) -> dict[str, str]:
    rows = csv.DictReader((sw.workspace / "city" / "schemes.csv").read_text(encoding="utf-8").splitlines())
    return next(r for r in rows if r["scheme"] == name)


def _canvas_drawn(page: Any, box: str) -> bool:
    return page.locator(f"{box} canvas").count() > 0


def test_leads_page_peer_chart_and_group_graph(page: Any, service_ws: ServiceWorkspace) -> None:
    login(page, service_ws.user("city_supervisor"))
    page.click("#nav a[href='#/leads']")
    wait_until(
        lambda: (page.get_attribute("#main", "data-ready") or "").startswith("/leads"), "the leads page"
    )
    assert "医疗机构（" in page.inner_text("#leads-tabs") and page.locator("tr.lead-row").count() > 0
    ghost = _scheme(service_ws, "ghost_bed")["entity_id"]
    row = page.locator("tr.lead-row", has_text=ghost)
    assert "超过核定床位" in row.inner_text() and "待初审" in row.inner_text()
    shot(page, "40-leads-institutions")
    row.locator("a.lead-link").click()
    page.wait_for_selector("#peer-chart")
    wait_until(lambda: _canvas_drawn(page, "#peer-chart"), "the peer chart")
    assert int(page.get_attribute("#peer-chart", "data-indicators") or 0) >= 3
    assert "无诊疗护理床日占比" in page.inner_text("#main") and "同类比较" in page.inner_text("#main")
    assert page.locator("#group-graph").count() == 0
    shot(page, "41-lead-peer-chart")
    page.locator("dd[data-key=clue_id] a.clue-link").click()  # on to the clue it became
    wait_until(lambda: (page.get_attribute("#main", "data-ready") or "").startswith("/clues/"), "the clue")
    assert "大数据模型" in page.inner_text("#main")

    goto(page, "#/leads?type=group")
    page.locator("a.lead-link").first.click()
    page.wait_for_selector("#group-graph")
    wait_until(lambda: _canvas_drawn(page, "#group-graph"), "the group graph")
    members = _scheme(service_ws, "phantom_inpatient_gang")["entity_id"].split(";")
    assert int(page.get_attribute("#group-graph", "data-nodes") or 0) >= len(members)
    assert int(page.get_attribute("#group-graph", "data-links") or 0) > len(members)
    shot(page, "42-lead-group-graph")


def test_leads_masked_and_refused(page: Any, server: LiveServer, service_ws: ServiceWorkspace) -> None:
    resale = _scheme(service_ws, "drug_resale")["entity_id"]
    login(page, service_ws.user("city_supervisor"))
    goto(page, "#/leads?type=person")
    wait_until(lambda: resale in page.inner_text("#main"), "the person leads")
    login(page, service_ws.user("third_party_inspector"))
    goto(page, "#/leads?type=person")
    assert page.locator("tr.lead-row").count() > 0 and resale not in page.inner_text("#main")
    assert resale[:4] + "*" in page.inner_text("#main")
    hospital = service_ws.user("hospital")
    login(page, hospital)
    assert "模型线索" not in page.inner_text("#nav")
    r = httpx.get(f"{server.url}/api/leads", headers=api_headers(server, hospital))
    assert r.status_code == 403
