"""The points routes over HTTP: register, score, state, decide, look up, exchange file, and refusals."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from service_ws import ServiceWorkspace, build_service_workspace

from fundguard.api.app import create_app


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory) -> ServiceWorkspace:
    return build_service_workspace(tmp_path_factory.mktemp("api-points"))


@pytest.fixture(scope="module")
def client(sw: ServiceWorkspace) -> Iterator[TestClient]:
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:
        yield c


def _as(client: TestClient, sw: ServiceWorkspace, username: str) -> dict[str, str]:
    u = next(u for u in sw.users if u["username"] == username)
    r = client.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_points_journey_over_http(
    client: TestClient, sw: ServiceWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-02")
    hosp, xian = _as(client, sw, "yiyuan"), _as(client, sw, "xian")
    me = client.get("/api/me", headers=hosp).json()
    body: dict[str, Any] = {"national_code": "D555555555", "id_no": "110101199001011234", "name": "李医生",
                            "category": "医师", "fixmedins_code": me["fixmedins_code"], "pledge_on": "2026-01-02"}  # fmt: skip
    r = client.post("/api/points/staff", json=body, headers=hosp)
    assert r.status_code == 200, r.text
    staff_id = r.json()["id"]
    r = client.post("/api/points/records", headers=xian, json={
        "national_code": "D555555555", "fixmedins_code": me["fixmedins_code"], "band": 3, "responsibility": "主要",
        "decided_on": "2026-02-25", "reason": "协议处理：串换项目"})  # fmt: skip
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["points"] == 9 and [a["action"] for a in rec["actions"]] == [
        "submit_statement",
        "waive",
        "confirm",
    ]
    pending = client.get("/api/points/records", params={"status": "notified"}, headers=hosp).json()
    assert [p["id"] for p in pending["items"]] == [rec["id"]]  # the hospital sees its pending notice
    r = client.post(f"/api/points/records/{rec['id']}/actions", headers=hosp,
                    json={"action": "waive", "version": rec["version"]})  # fmt: skip
    assert r.json()["status_zh"] == "记分已生效"
    look = client.get("/api/points/lookup", params={"national_code": "D555555555"}, headers=xian).json()
    assert (look["status"], look["until"]) == ("suspended", "2026-06-01")
    file = client.get(f"/api/points/staff/{staff_id}", headers=hosp).json()
    assert file["status_zh"] == "暂停医保支付资格" and file["records"][0]["actions"] == []
    assert (
        client.get(f"/api/points/staff/{staff_id}", headers=_as(client, sw, "disanfang")).status_code == 403
    )
    assert client.get("/api/points/exchange", headers=hosp).status_code == 403
    csv = client.get("/api/points/exchange", headers=xian)
    assert csv.status_code == 200 and "D555555555" in csv.content.decode("utf-8-sig")
    bad = client.post("/api/points/exchange", headers=xian, files={"file": ("x.txt", b"abc", "text/plain")})
    assert bad.status_code == 415 and "CSV" in bad.json()["detail"]["zh"]


def test_credit_over_http(client: TestClient, sw: ServiceWorkspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-02")
    shi, hosp = _as(client, sw, "shi"), _as(client, sw, "yiyuan")
    assert client.post("/api/credit/recompute", json={}, headers=hosp).status_code == 403
    r = client.post("/api/credit/recompute", json={"year": 2026}, headers=shi)
    assert r.status_code == 200 and r.json()["subjects"]["institution"] > 0, r.text
    grades = client.get("/api/credit/grades", headers=shi).json()
    assert grades["total"] > 0 and grades["items"][0]["grade_zh"]
    me = client.get("/api/me", headers=hosp).json()
    own = client.get("/api/credit/grades", headers=hosp).json()["items"]
    assert {g["subject_id"] for g in own} == {me["fixmedins_code"]}  # a hospital sees its own grade only
    weights = client.get("/api/credit/draw-weights", headers=shi).json()["weights"]
    assert weights and all(w >= 1 for w in weights.values())
    r = client.post("/api/credit/blacklist", headers=shi, json={
        "subject_type": "institution", "subject_id": me["fixmedins_code"], "reason": "拒不配合检查", "public": True})  # fmt: skip
    assert r.status_code == 200, r.text
    public = client.get("/api/credit/blacklist/public")  # no login: public disclosure
    assert public.status_code == 200 and public.json()[0]["reason"] == "拒不配合检查"
    assert client.get("/api/credit/blacklist/export", headers=hosp).status_code == 403
    assert "拒不配合检查" in client.get("/api/credit/blacklist/export", headers=shi).content.decode(
        "utf-8-sig"
    )
    dist = client.get("/api/credit/distribution", headers=shi).json()
    assert set(dist) == {"institution", "staff", "insured"}
