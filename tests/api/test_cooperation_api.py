"""Issue 16b over HTTP, per role: the public disclosure routes need no login and show only published items (JSON
and plain HTML), the workbench routes need one and refuse the roles that must not see them, bad input is a 4xx
with a Chinese message, and the static export writes the same pages (``fundguard disclosure export``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from service_ws import ServiceWorkspace, build_service_workspace, fresh_pg_schema

from fundguard.api.app import create_app
from fundguard.cli import app as cli_app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = fresh_pg_schema("fundguard_coop_api") if request.param == "postgresql" else None
    sw: ServiceWorkspace = build_service_workspace(
        tmp_path_factory.mktemp(f"coop-{request.param}"), database_url=url
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


def _act(client: Any, who: str, did: int, action: str, **fields: Any) -> dict:
    h = client.h[who]
    v = client.get(f"/api/disclosures/{did}", headers=h).json()["version"]
    r = client.post(
        f"/api/disclosures/{did}/actions", headers=h, json={"action": action, "version": v, **fields}
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_workbench_routes_per_role(client: Any) -> None:
    h = client.h
    for path in ("/api/disclosures", "/api/exchange/messages", "/api/crossregion/clues", "/api/crossregion/indicator",
                 "/api/exchange/export"):  # fmt: skip
        assert client.get(path).status_code == 401, path
    for who in ("yiyuan", "yiyuan_test", "disanfang"):
        for path in ("/api/disclosures", "/api/exchange/messages", "/api/crossregion/clues",
                     "/api/crossregion/indicator", "/api/exchange/export"):  # fmt: skip
            assert client.get(path, headers=h[who]).status_code == 403, (who, path)
        assert (
            client.post("/api/disclosures", headers=h[who], json={"kind": "joint_punishment"}).status_code
            == 403
        )
    assert (
        client.get("/api/crossregion/indicator", headers=h["jingban"]).status_code == 200
    )  # 经办 sees 异地就医
    assert client.get("/api/disclosures", headers=h["jingban"]).status_code == 403
    assert client.get("/api/disclosures", headers=h["fazhi"]).status_code == 200
    assert (
        client.post("/api/disclosures", headers=h["fazhi"], json={"kind": "joint_punishment"}).status_code
        == 403
    )
    r = client.post("/api/disclosures", headers=h["shi"], json={"kind": "typical_case"})
    assert r.status_code == 422 and "典型案例" in r.json()["detail"]["zh"]
    r = client.post(
        "/api/exchange/import", headers=h["shi"], json={"format": "fundguard-exchange", "version": "9.0"}
    )
    assert r.status_code == 422 and "版本" in r.json()["detail"]["zh"]
    env = client.get("/api/exchange/export", headers=h["shi"]).json()
    assert env["format"] == "fundguard-exchange" and env["version"] == "1.0"
    ind = client.get("/api/crossregion/indicator", headers=h["shi"]).json()
    assert ind["treatment"] and any(r["out_settlements"] for r in ind["treatment"])


def test_public_pages_show_only_published_items(client: Any, tmp_path: Path) -> None:
    h = client.h
    draw = client.get("/api/inspections/draws", headers=h["shi"]).json()["items"][0]
    d = client.post("/api/disclosures", headers=h["shi"], json={"kind": "draw", "draw_id": draw["id"]}).json()
    fu = client.post("/api/disclosures", headers=h["shi"],
                     json={"kind": "fund_use", "fixmedins_code": _hospital(client), "year": 2025}).json()  # fmt: skip
    assert client.get("/api/public/disclosure").json() == []
    assert client.get(f"/api/public/disclosure/{d['id']}").status_code == 404
    assert client.get(f"/public/disclosure/{d['id']}.html").status_code == 404
    _act(client, "shi", d["id"], "submit")
    r = client.post(f"/api/disclosures/{d['id']}/actions", headers=h["shi"],
                    json={"action": "approve", "version": d["version"] + 1})  # fmt: skip
    assert r.status_code == 403  # the head approves
    _act(client, "fuzeren", d["id"], "approve")
    _act(client, "shi", d["id"], "publish")
    listed = client.get("/api/public/disclosure").json()
    assert [i["id"] for i in listed] == [d["id"]] and fu["id"] not in [i["id"] for i in listed]
    assert client.get("/api/public/disclosure", params={"kind": "fund_use"}).json() == []
    detail = client.get(f"/api/public/disclosure/{d['id']}").json()
    assert detail["content"]["kind_zh"] == "双随机抽查结果公示" and set(detail) == {
        "id", "kind", "kind_zh", "title", "year", "published_at", "content"}  # fmt: skip
    page = client.get(f"/public/disclosure/{d['id']}.html")
    assert page.status_code == 200 and draw["number"] in page.text and "<script" not in page.text
    index = client.get("/public/disclosure/")
    assert f'href="{d["id"]}.html"' in index.text and fu["title"] not in index.text
    out = tmp_path / "site"
    result = CliRunner().invoke(cli_app, ["disclosure", "export", "-w", str(client.sw.workspace), "--out", str(out),
                                          "--database-url", client.sw.database_url])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(["index.html", "style.css", f"{d['id']}.html"])
    assert (out / f"{d['id']}.html").read_text(encoding="utf-8") == page.text
    _act(client, "fuzeren", d["id"], "withdraw", comment="更正")
    assert client.get("/api/public/disclosure").json() == []


def test_exchange_commands(client: Any, tmp_path: Path) -> None:
    """`fundguard exchange export|import`: a file out in both forms, a partner finding in, a bad file refused."""
    base = ["-w", str(client.sw.workspace), "--database-url", client.sw.database_url]
    run = CliRunner().invoke
    for suffix in ("json", "xlsx"):
        r = run(cli_app, ["exchange", "export", "--as", "shi", "--out", str(tmp_path / f"o.{suffix}"), *base])
        assert r.exit_code == 0 and (tmp_path / f"o.{suffix}").stat().st_size > 0, r.output
    finding = {"format": "fundguard-exchange", "version": "1.0", "sender": {"department": "市药监局"},
               "created_at": "2026-12-07", "messages": [
                   {"message_id": "YJ-CLI-1", "kind": "finding", "partner": "药品监管", "sent_at": "2026-12-07",
                    "fixmedins_code": _hospital(client), "summary": "药品购销记录不实", "partner_ref": "药监〔2026〕3号"}]}  # fmt: skip
    (tmp_path / "in.json").write_text(json.dumps(finding, ensure_ascii=False), encoding="utf-8")
    r = run(cli_app, ["exchange", "import", str(tmp_path / "in.json"), "--as", "shi", *base])
    assert r.exit_code == 0 and "已导入 1 条" in r.output, r.output
    (tmp_path / "bad.json").write_text(json.dumps(finding | {"version": "2.0"}), encoding="utf-8")
    r = run(cli_app, ["exchange", "import", str(tmp_path / "bad.json"), "--as", "shi", *base])
    assert r.exit_code == 2 and "不支持的交换格式版本" in r.output
    r = run(cli_app, ["exchange", "import", str(tmp_path / "in.json"), "--as", "yiyuan", *base])
    assert r.exit_code == 2 and "无权" in r.output


def test_documented_schema_is_the_one_the_code_reads() -> None:
    """docs/exchange/schema-1.0.json is what partners read: regenerate it (`fundguard exchange schema`) on change."""
    from fundguard.service.exchange import json_schema

    doc = Path(__file__).resolve().parents[2] / "docs" / "exchange" / "schema-1.0.json"
    assert json.loads(doc.read_text(encoding="utf-8")) == json_schema()


def _hospital(client: Any) -> str:
    return next(u["fixmedins_code"] for u in client.sw.users if u["role"] == "hospital")


def test_crossregion_clues_focus_and_file_import_over_http(
    client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The flagged institutions to clues (idempotent; supervisors only), 异地就医 as a plan's and a draw's focus,
    the dashboard's figures by duty, and an exchange file upload refused whole with its rows."""
    from openpyxl import load_workbook

    from fundguard.service import exchange

    monkeypatch.setenv(
        "FUNDGUARD_CROSSREGION_SHARE", "0.01"
    )  # the test city's pharmacies with any are flagged
    h = client.h
    assert client.post("/api/crossregion/flagged-clues").status_code == 401
    for who in ("yiyuan", "fuzeren", "jingban"):
        assert client.post("/api/crossregion/flagged-clues", headers=h[who]).status_code == 403, who
    made = client.post("/api/crossregion/flagged-clues", headers=h["shi"]).json()
    assert made["flagged"] > 0 and len(made["created"]) + len(made["existing"]) == made["flagged"]
    again = client.post("/api/crossregion/flagged-clues", headers=h["shi"]).json()
    assert again["created"] == [] and set(again["existing"]) == set(made["created"]) | set(made["existing"])
    clue = client.get(f"/api/clues/{again['existing'][0]}", headers=h["shi"]).json()
    assert clue["source"] == "crossregion" and clue["evidence"]
    summary = client.get("/api/crossregion/summary", headers=h["shi"]).json()
    assert summary["treatment_flagged"] == made["flagged"] and summary["treatment_settlements"] > 0
    plan = client.post("/api/inspections/plans", headers=h["shi"], json={
        "year": 2026, "title": "异地就医重点计划", "seed_value": "s", "top_n": 0, "sample_ratio": 0,
        "focus": ["crossregion"]}).json()  # fmt: skip
    items = client.get(f"/api/inspections/plans/{plan['id']}/items", headers=h["shi"],
                       params={"mode": "onsite", "size": 200}).json()["items"]  # fmt: skip
    focused = {
        i["fixmedins_code"] for i in items if any(r.startswith("异地就医重点：") for r in i["reasons_zh"])
    }
    assert {c["fixmedins_code"] for c in [clue]} <= focused
    bad = client.post("/api/inspections/plans", headers=h["shi"], json={
        "year": 2026, "title": "x", "seed_value": "s", "focus": ["bogus"]})  # fmt: skip
    assert bad.status_code == 422
    draw = client.post("/api/inspections/draws", headers=h["shi"], json={
        "title": "异地就医重点抽查", "seed_value": "cr", "rules": {"ratio": 1.0}, "focus": ["crossregion"]}).json()  # fmt: skip
    assert draw["focus"] and all(v.startswith("异地就医：") for v in draw["focus"].values())
    env = {"format": "fundguard-exchange", "version": "1.0", "sender": {"department": "市药监局"},
           "created_at": "2026-12-07", "messages": [
               {"message_id": "YJ-API-1", "kind": "finding", "partner": "药品监管", "sent_at": "2026-12-07",
                "fixmedins_code": clue["fixmedins_code"], "summary": "x", "partner_ref": "药监〔2026〕1号"}]}  # fmt: skip
    path = exchange.write_file(env, tmp_path / "yj.xlsx")
    wb = load_workbook(path)
    wb["消息"].cell(row=2, column=[c.value for c in wb["消息"][1]].index("summary") + 1).value = None
    wb.save(path)  # line 2 loses its summary
    r = client.post("/api/exchange/import-file", headers=h["shi"],
                    files={"file": ("yj.xlsx", path.read_bytes())})  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"]["rows"][0]["row"] == "第 2 行"
    assert "summary" in r.json()["detail"]["rows"][0]["reason_zh"]
    r = client.post(
        "/api/exchange/import-file", headers=h["yiyuan"], files={"file": ("yj.xlsx", path.read_bytes())}
    )
    assert r.status_code == 403
