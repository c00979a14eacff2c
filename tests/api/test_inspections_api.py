"""The inspection routes over HTTP, per role: registries (and who must not see them), import with bad rows,
a draw → verify → publish journey, the public view without the recusal facts, bad input → 4xx."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from fastapi.testclient import TestClient
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from service_ws import ServiceWorkspace, build_service_workspace, fresh_pg_schema

from fundguard.api.app import create_app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = fresh_pg_schema("fundguard_inspections_api") if request.param == "postgresql" else None
    sw: ServiceWorkspace = build_service_workspace(
        tmp_path_factory.mktemp(f"insp-{request.param}"), database_url=url
    )
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:
        tokens: dict[str, dict[str, str]] = {}
        for u in sw.users:
            r = c.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
            tokens[u["username"]] = {"Authorization": f"Bearer {r.json()['token']}"}
            c.cookies.clear()  # by header only: a leftover cookie without Origin is refused (CSRF)
        c.h = tokens  # type: ignore[attr-defined]
        yield c


def test_registries_per_role(client: Any) -> None:
    h = client.h
    r = client.get("/api/inspections/people", headers=h["shi"])
    assert r.status_code == 200 and r.json()["total"] > 0
    assert client.get("/api/inspections/targets", headers=h["xian"]).json()["total"] > 0
    for who in ("yiyuan", "disanfang", "jingban", "fazhi"):
        for path in ("/api/inspections/people", "/api/inspections/targets", "/api/inspections/agencies"):
            assert client.get(path, headers=h[who]).status_code == 403, (who, path)
    r = client.post("/api/inspections/people", headers=h["fuzeren"], json={"name": "甲", "cert_no": "1"})
    assert r.status_code == 403
    r = client.post("/api/inspections/people", headers=h["shi"], json={"name": "甲"})
    assert r.status_code == 422 and "执法证号" in r.json()["detail"]["zh"]
    r = client.post("/api/inspections/people", headers=h["shi"], json={"name": "甲", "cert_no": "Z-1"})
    pid = r.json()["id"]
    r = client.put(f"/api/inspections/people/{pid}", headers=h["shi"],
                   json={"name": "甲", "cert_no": "Z-1", "relatives_at": "H1"})  # fmt: skip
    assert r.json()["relatives_at"] == ["H1"]
    hist = client.get(f"/api/inspections/history/inspector/{pid}", headers=h["shi"]).json()
    assert [x["action"] for x in hist] == ["create", "update"]
    csv = "姓名,执法证号\n乙,Z-2\n丙,\n".encode()
    r = client.post(
        "/api/inspections/people/import", headers=h["shi"], files={"file": ("p.csv", csv, "text/csv")}
    )
    assert r.status_code == 200 and r.json()["created"] == 1 and r.json()["bad"][0]["line"] == 3
    r = client.patch("/api/inspections/targets/NOPE", headers=h["shi"], json={"risk_weight": 3})
    assert r.status_code == 404
    r = client.patch("/api/inspections/targets/X", headers=h["shi"], json={"risk_weight": 30})
    assert r.status_code == 422


def test_draw_verify_publish(client: Any) -> None:
    h = client.h
    public_before = client.get("/api/inspections/draws", headers=h["yiyuan"]).json()["total"]
    assert public_before == 1  # the demo's published plan draw
    r = client.post("/api/inspections/draws", headers=h["shi"],
                    json={"title": "第一批", "seed_value": "2026-12-07 开奖 0815", "rules": {"ratio": 0.2}})  # fmt: skip
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["targets"] and all(len(t["team"]) == 2 for t in d["targets"])
    assert client.get(f"/api/inspections/draws/{d['id']}", headers=h["yiyuan"]).status_code == 404
    assert client.get("/api/inspections/draws", headers=h["yiyuan"]).json()["total"] == public_before
    assert (
        client.post(
            "/api/inspections/draws", headers=h["yiyuan"], json={"title": "x", "seed_value": "1"}
        ).status_code
        == 403
    )
    assert client.get(f"/api/inspections/draws/{d['id']}/verify", headers=h["shi"]).json()["ok"] is True
    rec = client.get(f"/api/inspections/draws/{d['id']}/record", headers=h["shi"]).json()
    assert rec["hash"] == d["hash"] and rec["pools"]["inspectors"]
    r = client.post(f"/api/inspections/draws/{d['id']}/publish", headers=h["fuzeren"])
    assert r.status_code == 403  # the head reads; the supervisors publish
    assert (
        client.post(f"/api/inspections/draws/{d['id']}/publish", headers=h["shi"]).json()["status"]
        == "published"
    )
    pub = client.get(f"/api/inspections/draws/{d['id']}", headers=h["yiyuan"])
    assert pub.status_code == 200 and pub.json()["targets"] == d["targets"]
    assert pub.json()["recused"] is None and "former_employers" not in pub.text
    assert client.get(f"/api/inspections/draws/{d['id']}/record", headers=h["yiyuan"]).status_code == 403
    r = client.post("/api/inspections/draws", headers=h["shi"],
                    json={"title": "重抽", "seed_value": "x", "previous_id": d["id"]})  # fmt: skip
    assert r.status_code == 422 and "理由" in r.json()["detail"]["zh"]
    r = client.post("/api/inspections/draws", headers=h["shi"], json={"title": "x", "seed_value": ""})
    assert r.status_code == 422


def test_flight_routes_per_role(client: Any) -> None:
    h = client.h
    flights = client.get("/api/inspections/flights", headers=h["shi"]).json()
    assert flights["total"] == 1 and flights["items"][0]["status"] == "on_site"  # the demo's, mid-way
    fid = flights["items"][0]["id"]
    mine = client.get(f"/api/inspections/flights/{fid}", headers=h["yiyuan"])
    assert mine.status_code == 200 and mine.json()["leads"] == [] and mine.json()["actions"] == []
    assert client.get(f"/api/inspections/flights/{fid}", headers=h["yiyuan_test"]).status_code in (403, 404)
    for who in ("jingban", "fazhi"):
        assert client.get("/api/inspections/flights", headers=h[who]).status_code == 403
    f = client.get(f"/api/inspections/flights/{fid}", headers=h["shi"]).json()
    # the 疑点清单 exported for the team; the institution must not learn what the team looks for
    r = client.get(f"/api/inspections/flights/{fid}/leads.xlsx", headers=h["shi"])
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert f["leads"] and any("线索编号" in [str(v) for v in row] for row in rows)
    assert sum(1 for row in rows if row and row[0] in [x["clue_id"] for x in f["leads"]]) == len(f["leads"])
    assert client.get(f"/api/inspections/flights/{fid}/leads.xlsx", headers=h["yiyuan"]).status_code == 403
    assert client.get(f"/api/inspections/flights/{fid}/leads.xlsx", headers=h["jingban"]).status_code == 403
    assert f["leads"] is not None and {a["action"] for a in f["actions"]} >= {"add_record", "send_feedback"}
    r = client.post(f"/api/inspections/flights/{fid}/actions", headers=h["shi"],
                    json={"action": "send_feedback", "version": f["version"], "feedback": "发现一项问题"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "feedback"
    r = client.post(f"/api/inspections/flights/{fid}/actions", headers=h["yiyuan"],
                    json={"action": "submit_statement", "version": r.json()["version"], "statement": "无异议补充"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "disputed"
    r = client.post(f"/api/inspections/flights/{fid}/actions", headers=h["fuzeren"],
                    json={"action": "decide", "version": r.json()["version"], "conclusion": "经集体研究，问题属实",
                          "collective": True})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "decided"
    r = client.post(f"/api/inspections/flights/{fid}/actions", headers=h["shi"],
                    json={"action": "hand_over", "version": r.json()["version"]})  # fmt: skip
    assert r.status_code == 200 and "handover" in [d["kind"] for d in r.json()["documents"]]
    letter = client.get(f"/api/inspections/flights/{fid}/documents/handover", headers=h["shi"])
    assert letter.status_code == 200 and letter.content[:2] == b"PK"
    text = "\n".join(p.text for p in Document(io.BytesIO(letter.content)).paragraphs)
    assert "飞行检查问题移交函" in text and "经集体研究，问题属实" in text
    assert (
        client.get(f"/api/inspections/flights/{fid}/documents/handover", headers=h["yiyuan"]).status_code
        == 403
    )
    assert "handover" not in [d["kind"] for d in client.get(f"/api/inspections/flights/{fid}",
                                                             headers=h["yiyuan"]).json()["documents"]]  # fmt: skip
    r = client.post("/api/inspections/flights", headers=h["shi"],
                    json={"title": "x", "trigger": "annual_plan", "fixmedins_code": f["fixmedins_code"]})  # fmt: skip
    assert r.status_code == 422
    r = client.post("/api/inspections/flights", headers=h["yiyuan"],
                    json={"title": "x", "trigger": "media", "fixmedins_code": f["fixmedins_code"]})  # fmt: skip
    assert r.status_code == 403
