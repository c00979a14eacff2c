"""The campaign routes (专项整治) over HTTP, per role, on SQLite and PostgreSQL: the demo's campaign in 自查自纠,
a new campaign's journey (plan → approval → self-check → sample → re-check confirmed by another officer), the
figures, the Excel ledger and the summary report, and what each role must NOT see or do; bad input → 4xx with Chinese reasons."""

from __future__ import annotations

import datetime as dt
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
    url = fresh_pg_schema("fundguard_campaigns_api") if request.param == "postgresql" else None
    sw: ServiceWorkspace = build_service_workspace(
        tmp_path_factory.mktemp(f"camp-{request.param}"), database_url=url
    )
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:
        tokens: dict[str, dict[str, str]] = {}
        for u in sw.users:
            r = c.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
            tokens[u["username"]] = {"Authorization": f"Bearer {r.json()['token']}"}
            c.cookies.clear()  # by header only: a leftover cookie without Origin is refused (CSRF)
        c.h = tokens  # type: ignore[attr-defined]
        yield c


def _act(client: Any, who: str, path: str, action: str, **fields: Any) -> Any:
    v = client.get(path, headers=client.h[who]).json()["version"]
    return client.post(
        f"{path}/actions", headers=client.h[who], json={"action": action, "version": v, **fields}
    )


def test_demo_campaign_per_role(client: Any) -> None:
    h = client.h
    camps = client.get("/api/campaigns", headers=h["shi"]).json()
    assert camps["total"] == 1 and camps["items"][0]["status"] == "self_check"
    cid = camps["items"][0]["id"]
    stats = client.get(f"/api/campaigns/{cid}/stats", headers=h["shi"]).json()
    assert stats["reported"] == 1 and stats["refunded"] == "18600.00"
    mine = client.get("/api/campaigns", headers=h["yiyuan"]).json()
    assert mine["total"] == 1 and mine["items"][0]["targets"] == [] and mine["items"][0]["stats"] is None
    returns = client.get(f"/api/campaigns/{cid}/returns", headers=h["yiyuan"]).json()
    assert returns["total"] == 1 and returns["items"][0]["status"] == "reported"
    assert client.get(f"/api/campaigns/{cid}/stats", headers=h["yiyuan"]).status_code == 404
    assert client.get(f"/api/campaigns/{cid}/problems.xlsx", headers=h["yiyuan"]).status_code == 403
    # the summary report of the demo campaign (in 自查自纠): the bureau's, never the hospital's
    r = client.get(f"/api/campaigns/{cid}/report", headers=h["shi"])
    assert (
        r.status_code == 200 and r.content[:2] == b"PK" and "attachment" in r.headers["content-disposition"]
    )
    doc = Document(io.BytesIO(r.content))
    text = "\n".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    )
    assert "专项整治总结报告" in text and "骨科高值医用耗材专项整治" in text and "18,600.00元" in text
    assert "自查发现问题 2 个" in text and "主动退回 18,600.00元" in text  # the demo hospital's return
    assert "抽查复查尚未开展" in text and "台账暂无问题" in text  # in 自查自纠 still
    assert client.get(f"/api/campaigns/{cid}/report", headers=h["yiyuan"]).status_code == 404
    for who in ("jingban", "disanfang"):
        assert client.get(f"/api/campaigns/{cid}/report", headers=h[who]).status_code == 403, who
    assert client.get(f"/api/campaigns/{cid}/report").status_code == 401
    assert client.get(f"/api/campaigns/{cid}/report?format=exe", headers=h["shi"]).status_code == 422
    others = client.get(f"/api/campaigns/{cid}/returns", headers=h["shi"]).json()["items"]
    other = next(r for r in others if r["fixmedins_code"] != returns["items"][0]["fixmedins_code"])
    assert client.get(f"/api/campaigns/returns/{other['id']}", headers=h["yiyuan"]).status_code == 404
    for who in ("jingban", "fazhi", "disanfang", "admin"):
        assert client.get("/api/campaigns", headers=h[who]).status_code == 403, who
        assert client.get(f"/api/campaigns/{cid}", headers=h[who]).status_code == 403, who
    assert client.get("/api/campaigns").status_code == 401
    r = client.post("/api/campaigns", headers=h["fuzeren"], json={"title": "x", "theme": "三假"})
    assert r.status_code == 403
    r = client.post("/api/campaigns", headers=h["shi"], json={"title": "x", "theme": "不存在"})
    assert r.status_code == 422
    r = client.post(
        "/api/campaigns", headers=h["shi"], json={"title": "x", "theme": "三假", "institutions": ["NOPE"]}
    )
    assert r.status_code == 422 and "不存在" in r.json()["detail"]["zh"]
    r = _act(client, "shi", f"/api/campaigns/{cid}", "start_recheck", seed_value="s", ratio=500)
    assert r.status_code == 409 and "抽查比例" in r.json()["detail"]["zh"]


def test_campaign_journey(client: Any) -> None:
    h = client.h
    hosp_code = client.get("/api/me", headers=h["yiyuan"]).json()["fixmedins_code"]
    r = client.post("/api/campaigns", headers=h["shi"], json={"title": "三假专项整治", "theme": "三假",
                    "focus_areas": ["假病人", "假病情", "假票据"], "institutions": [hosp_code]})  # fmt: skip
    assert r.status_code == 200, r.text
    c = r.json()
    path = f"/api/campaigns/{c['id']}"
    assert client.get(path, headers=h["yiyuan"]).status_code == 404  # not approved yet
    assert _act(client, "shi", path, "approve").status_code == 403
    assert _act(client, "fuzeren", path, "approve", comment="同意").status_code == 200
    due = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    assert _act(client, "shi", path, "open_self_check", self_check_due=due).status_code == 200
    rid = client.get(f"{path}/returns", headers=h["yiyuan"]).json()["items"][0]["id"]
    rpath = f"/api/campaigns/returns/{rid}"
    r = _act(client, "yiyuan", rpath, "submit_self_check", problems="挂床住院\n虚记诊疗项目", refunded="-5")
    assert r.status_code == 409  # a negative refund
    r = _act(client, "yiyuan", rpath, "submit_self_check", problems="挂床住院\n虚记诊疗项目", refunded="3000")
    assert r.status_code == 200 and r.json()["problems"] == ["挂床住院", "虚记诊疗项目"]
    r = _act(client, "shi", path, "start_recheck", seed_value="公证员录入 5521", ratio=100)
    assert r.status_code == 200 and r.json()["stats"]["selected"] == 1
    assert client.get(rpath, headers=h["yiyuan"]).json()["selected"] is None
    r = _act(client, "shi", rpath, "check", found=["挂床住院", "伪造票据"], found_amount="9000", unreported=1)
    assert r.status_code == 200
    r = _act(client, "shi", rpath, "confirm")
    assert r.status_code == 403 and "职责分离" in r.json()["detail"]["zh"]
    assert _act(client, "shi2", rpath, "confirm").status_code == 200
    mine = client.get(rpath, headers=h["yiyuan"]).json()
    assert mine["selected"] is True and mine["strict"] is True
    r = client.get(f"{path}/problems.xlsx", headers=h["shi"])
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    text = "\n".join(str(v) for row in rows for v in row if v)
    assert "伪造票据" in text and "从严" in text and "挂床住院" in text
    stats = client.get(f"{path}/stats", headers=h["shi"]).json()
    assert stats["strict"] == 1 and stats["ledger"]["open"] == 4
    assert _act(client, "shi", path, "summarise", summary="自查问题 2 个，退回 3000 元").status_code == 200
    assert _act(client, "fuzeren", path, "close").status_code == 200
    assert client.get(path, headers=h["shi"]).json()["status_zh"] == "已结束"


def test_dashboard_overview_per_role(client: Any) -> None:
    """Runs after the journey: its campaign's problems are in the 清零 figures."""
    h = client.h
    r = client.post("/api/inspections/plans", headers=h["shi"], json={"year": dt.date.today().year,
                    "title": "年度监督检查计划", "seed_value": "概览-1", "top_n": 3, "sample_ratio": 0.1})  # fmt: skip
    assert r.status_code == 200, r.text
    o = client.get("/api/inspections/overview", headers=h["shi"]).json()
    plan = o["plan"]
    assert plan["total"] > 0 and plan["done"] == 0
    assert sum(x["total"] for x in plan["regions"]) == sum(x["total"] for x in plan["types"]) == plan["total"]
    assert {c["title"] for c in o["campaigns"]} >= {"三假专项整治"}
    camp = next(p for p in o["problems"] if p["source"] == "campaign")
    assert camp["total"] >= 4 and camp["closed"] == 0 and camp["cleared_rate"] == 0.0
    county = client.get("/api/inspections/overview", headers=h["xian"]).json()
    assert {x["key"] for x in county["plan"]["regions"]} <= {
        client.get("/api/me", headers=h["xian"]).json()["admdvs"]
    }
    assert client.get("/api/inspections/overview", headers=h["fuzeren"]).status_code == 200
    for who in ("yiyuan", "disanfang", "jingban", "fazhi", "admin"):
        assert client.get("/api/inspections/overview", headers=h[who]).status_code == 403, who
        assert client.get("/api/inspections/problems/summary", headers=h[who]).status_code == 403, who
    # 问题清单 (举一反三): the journey's campaign problems grouped, the title prefix gone
    summary = client.get("/api/inspections/problems/summary?source=campaign", headers=h["shi"]).json()
    cats = {c["category"]: c for c in summary["by_category"]}
    assert summary["total"] >= 4 and cats["未自查问题（从严处理）"]["problems"] >= 1
    assert client.get("/api/inspections/problems/summary?source=x", headers=h["shi"]).status_code == 422
