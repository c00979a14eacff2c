"""公众查询 without login: masked name, status and a suspension's last day only (no reason, points, ID or
institution); an unknown code has the same shape; a bad code is refused in both languages; the per-address
limit answers 429 with Retry-After; each lookup is in the access log; the plain page is served."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from service_ws import ServiceWorkspace, build_service_workspace

from fundguard.api.app import create_app
from fundguard.service.db import Database
from fundguard.service.models import AccessLog


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory) -> ServiceWorkspace:
    return build_service_workspace(tmp_path_factory.mktemp("api-public-points"))


@pytest.fixture(scope="module")
def client(sw: ServiceWorkspace) -> Iterator[TestClient]:
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:
        yield c


def _as(client: TestClient, sw: ServiceWorkspace, username: str) -> dict[str, str]:
    u = next(u for u in sw.users if u["username"] == username)
    r = client.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_public_lookup(client: TestClient, sw: ServiceWorkspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-02")
    hosp, xian = _as(client, sw, "yiyuan"), _as(client, sw, "xian")
    inst = client.get("/api/me", headers=hosp).json()["fixmedins_code"]
    body = {"national_code": "D666666666", "id_no": "110101198001011239", "name": "钱医生", "category": "医师",
            "fixmedins_code": inst, "pledge_on": "2026-01-02"}  # fmt: skip
    assert client.post("/api/points/staff", json=body, headers=hosp).status_code == 200
    url = "/api/public/points/status"
    normal = client.get(url, params={"national_code": "D666666666"})
    assert normal.status_code == 200 and normal.json()["status"] == "normal"
    rec = client.post("/api/points/records", headers=xian, json={
        "national_code": "D666666666", "fixmedins_code": inst, "band": 3, "responsibility": "主要",
        "decided_on": "2026-02-25", "reason": "协议处理：串换项目"}).json()  # fmt: skip
    client.post(
        f"/api/points/records/{rec['id']}/actions",
        headers=hosp,
        json={"action": "waive", "version": rec["version"]},
    )
    r = client.get(url, params={"national_code": "D666666666"})
    assert r.json() == {"national_code": "D666666666", "name": "钱**", "status": "suspended",
                        "status_zh": "医保支付资格暂停中", "until": "2026-06-01", "on_date": "2026-03-02"}  # fmt: skip
    assert "串换" not in r.text and inst not in r.text and "110101" not in r.text
    unknown = client.get(url, params={"national_code": "NOBODY1234"}).json()
    assert set(unknown) == set(r.json()) and unknown["status"] == "unknown" and unknown["name"] == ""
    bad = client.get(url, params={"national_code": "x'; --"})
    assert bad.status_code == 422 and bad.json()["detail"]["zh"].startswith("国家医保编码")
    db = Database(sw.database_url)
    with db.session() as s:
        rows = s.execute(select(AccessLog).where(AccessLog.action == "public.points_lookup")).scalars().all()
        assert {a.target for a in rows} >= {"D666666666", "NOBODY1234"} and all(
            a.username == "-" for a in rows
        )
    db.dispose()
    statuses = [client.get(url, params={"national_code": "D666666666"}).status_code for _ in range(12)]
    assert 429 in statuses
    limited = client.get(url, params={"national_code": "D666666666"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "查询过于频繁" in limited.json()["detail"]["zh"]
    page = client.get("/public/points.html")
    assert page.status_code == 200 and "医保支付资格公众查询" in page.text and "<script>" not in page.text
