"""The model-leads routes over HTTP, per role: who may read leads and who must not (hospital, reviewers,
administrator, anonymous), region scope through the leads' institutions, masking of insured persons for the
third-party inspector (ids, search, group graph), the peer comparison and group graph data of planted schemes,
the clue each lead became, and bad input → 4xx. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from leads_ws import build_leads_workspace
from service_ws import ServiceWorkspace, fresh_pg_schema

from fundguard.api.app import create_app
from fundguard.service.db import Database
from fundguard.service.models import Institution


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = fresh_pg_schema("fundguard_leads_api") if request.param == "postgresql" else None
    sw: ServiceWorkspace = build_leads_workspace(
        tmp_path_factory.mktemp(f"leads-{request.param}"), database_url=url
    )
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:
        tokens: dict[str, dict[str, str]] = {}
        for u in sw.users:
            r = c.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
            tokens[u["username"]] = {"Authorization": f"Bearer {r.json()['token']}"}
            c.cookies.clear()  # by header only: a leftover cookie without Origin is refused (CSRF)
        c.h = tokens  # type: ignore[attr-defined]
        c.sw = sw  # type: ignore[attr-defined]
        yield c


def _schemes(sw: ServiceWorkspace) -> dict[str, dict]:
    rows = csv.DictReader((sw.workspace / "city" / "schemes.csv").read_text(encoding="utf-8").splitlines())
    return {r["scheme"]: r for r in rows}


def _all(client: Any, who: str, etype: str, **params: Any) -> list[dict]:
    items: list[dict] = []
    page = 1
    while True:
        r = client.get("/api/leads", headers=client.h[who],
                       params={"entity_type": etype, "size": 200, "page": page, **params})  # fmt: skip
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if page * 200 >= r.json()["total"]:
            assert len(items) == r.json()["total"]
            return items
        page += 1


def test_who_may_read_leads(client: Any) -> None:
    for who in ("sheng", "shi", "xian", "fuzeren", "disanfang"):
        r = client.get("/api/leads", headers=client.h[who])
        assert r.status_code == 200 and r.json()["run_id"], who
    key = _all(client, "shi", "institution")[0]["key"]
    for who in ("yiyuan", "jingban", "fazhi", "admin"):  # never the models' view of anyone
        assert client.get("/api/leads", headers=client.h[who]).status_code == 403, who
        assert client.get(f"/api/leads/{key}", headers=client.h[who]).status_code == 403, who
    assert client.get("/api/leads").status_code == 401
    assert client.get(f"/api/leads/{key}").status_code == 401


def test_ranked_by_type_with_reasons(client: Any) -> None:
    body = client.get("/api/leads", headers=client.h["shi"], params={"entity_type": "institution"}).json()
    assert set(body["counts"]) == {"institution", "department", "doctor", "person", "pharmacy", "group"}
    assert body["counts"]["person"] > 0 and body["counts"]["group"] > 0
    items = body["items"]
    assert [i["rank"] for i in items] == sorted(i["rank"] for i in items)
    assert all(i["entity_type"] == "institution" and i["reasons"] and i["models"] for i in items)
    ghost = _schemes(client.sw)["ghost_bed"]["entity_id"]
    top = next(i for i in items if i["entity_id"] == ghost)
    assert top["rank"] <= 10 and any("超过核定床位" in x for x in top["reasons"])
    assert top["clue_id"] and top["clue_status"] == "pending_initial"  # the lead became a model clue


def test_region_scope_through_the_leads_institutions(client: Any) -> None:
    db = Database(client.sw.database_url)
    try:
        with db.session() as s:
            regions = {i.fixmedins_code: i.admdvs for i in s.query(Institution)}
    finally:
        db.dispose()
    county = next(u for u in client.sw.users if u["username"] == "xian")["admdvs"]
    for etype in ("institution", "pharmacy", "person", "group"):
        city = _all(client, "shi", etype)
        mine = _all(client, "xian", etype)
        inside = [i for i in city if any(regions.get(c) == county for c in i["institutions"])]
        assert {i["key"] for i in mine} == {i["key"] for i in inside}, etype
    outside = next(i for i in _all(client, "shi", "institution") if regions[i["entity_id"]] != county)
    assert (
        client.get(f"/api/leads/{outside['key']}", headers=client.h["xian"]).status_code == 404
    )  # as missing
    assert client.get(f"/api/leads/{outside['key']}", headers=client.h["shi"]).status_code == 200


def test_masked_for_the_third_party_inspector(client: Any) -> None:
    resale = _schemes(client.sw)["drug_resale"]["entity_id"]
    seen = next(i for i in _all(client, "shi", "person") if i["entity_id"] == resale)
    assert any("供应" in x for x in seen["reasons"])
    masked = _all(client, "disanfang", "person")
    assert resale not in json.dumps(masked) and all("*" in i["entity_id"] for i in masked)
    assert len(_all(client, "shi", "person", q=resale)) == 1
    assert _all(client, "disanfang", "person", q=resale) == []  # no search by a person's number either
    detail = client.get(f"/api/leads/{seen['key']}", headers=client.h["disanfang"]).json()
    assert resale not in json.dumps(detail) and detail["leads"][0]["model"] == "drug_resale"
    gang = next(i for i in _all(client, "disanfang", "group") if i["rank"] == 1)
    g = client.get(f"/api/leads/{gang['key']}", headers=client.h["disanfang"]).json()
    members = _schemes(client.sw)["phantom_inpatient_gang"]["entity_id"].split(";")
    assert not any(m in json.dumps(g) for m in members)
    people = [n for n in g["nodes"] if n["kind"] == "person"]
    assert len({n["id"] for n in people}) == len(people) and all("*" in n["name"] for n in people)


def test_peer_chart_and_group_graph(client: Any) -> None:
    s = _schemes(client.sw)
    ghost = next(
        i for i in _all(client, "shi", "institution") if i["entity_id"] == s["ghost_bed"]["entity_id"]
    )
    d = client.get(f"/api/leads/{ghost['key']}", headers=client.h["shi"]).json()
    peers = {p["indicator"]: p for p in d["peers"]}
    no_care = peers["no_care_share"]
    assert (
        no_care["name_zh"] == "无诊疗护理床日占比" and no_care["n"] >= 5 and no_care["value"] > no_care["p90"]
    )
    assert no_care["p10"] <= no_care["p25"] <= no_care["p50"] <= no_care["p75"] <= no_care["p90"]
    assert no_care["peer_group"] == d["leads"][0]["peer_group"]  # the group the score compared it with
    assert d["nodes"] == [] and d["links"] == []
    members = set(s["phantom_inpatient_gang"]["entity_id"].split(";"))
    gang = next(i for i in _all(client, "shi", "group") if i["rank"] == 1)
    g = client.get(f"/api/leads/{gang['key']}", headers=client.h["shi"]).json()
    people = {n["id"] for n in g["nodes"] if n["kind"] == "person"}
    assert members <= people
    shared = [link for link in g["links"] if link["kind"] == "person"]
    assert shared and max(link["times"] for link in shared) >= 2  # repeatedly admitted together
    assert {link["target"] for link in g["links"] if link["kind"] == "institution"} == set(
        gang["institutions"]
    )
    clue = client.get(f"/api/clues/{g['clue_id']}", headers=client.h["shi"]).json()  # the group became a clue
    assert clue["source"] == "model" and clue["fixmedins_code"] == gang["institutions"][0]


def test_bad_input(client: Any) -> None:
    h = client.h["shi"]
    assert client.get("/api/leads", headers=h, params={"entity_type": "hospital"}).status_code == 422
    assert client.get("/api/leads/not-a-key", headers=h).status_code == 422
    assert client.get("/api/leads/" + "0" * 20, headers=h).status_code == 404
    r = client.get("/api/leads", headers=h, params={"run_id": "20990101T000000-abcdef"})
    assert r.status_code == 404 and r.json()["detail"]["zh"]
    assert client.get("/api/leads", headers=h, params={"run_id": "../../etc"}).status_code == 422
