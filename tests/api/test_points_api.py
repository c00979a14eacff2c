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
    assert "拒不配合检查" in client.get(
        "/api/credit/blacklist/export?format=csv", headers=shi
    ).content.decode("utf-8-sig")
    dist = client.get("/api/credit/distribution", headers=shi).json()
    assert set(dist) == {"institution", "staff", "insured"}


def test_leaving_the_list_only_through_repair(client: TestClient, sw: ServiceWorkspace) -> None:
    """The old direct ``POST /api/credit/blacklist/{id}/leave`` bypassed 信用修复: it is gone, and the entry stays
    listed whoever asks (the repair process is the one way off, tests/service/test_credit_repair.py)."""
    shi, head = _as(client, sw, "shi"), _as(client, sw, "fuzeren")
    inst = client.get("/api/me", headers=_as(client, sw, "yiyuan")).json()["fixmedins_code"]
    r = client.post("/api/credit/blacklist", headers=shi, json={
        "subject_type": "institution", "subject_id": inst, "reason": "虚构医药服务项目"})  # fmt: skip
    entry = r.json()["id"]
    for who in (shi, head):
        r = client.post(f"/api/credit/blacklist/{entry}/leave", headers=who, json={"reason": "已整改"})
        assert r.status_code in (404, 405), r.text
    current = client.get("/api/credit/blacklist", headers=shi).json()["items"]
    assert any(e["id"] == entry and e["left_on"] is None for e in current)
    spec = client.get("/api/openapi.json").json()["paths"]
    assert not [p for p in spec if p.endswith("/leave")] and "/api/credit/repairs" in spec


def test_joint_punishment_export_and_measures_over_http(client: TestClient, sw: ServiceWorkspace) -> None:
    from fundguard.service.credit import punishment

    shi, xian, hosp = _as(client, sw, "shi"), _as(client, sw, "xian"), _as(client, sw, "yiyuan")
    me = client.get("/api/me", headers=shi).json()
    client.post("/api/credit/blacklist", headers=shi, json={
        "subject_type": "institution", "subject_id": client.get("/api/me", headers=hosp).json()["fixmedins_code"],
        "reason": "伪造医疗文书"})  # fmt: skip
    j = client.get("/api/credit/blacklist/export?format=json", headers=shi)
    assert j.status_code == 200 and j.headers["content-type"].startswith("application/json")
    doc = punishment.PunishmentList.model_validate(j.json())
    assert doc.version == "1.0" and doc.entries and doc.exported_by
    x = client.get("/api/credit/blacklist/export", headers=shi)  # Excel by default
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert punishment.read_xlsx(x.content)["entries"] == j.json()["entries"]
    assert client.get(f"/api/credit/blacklist/export?region={me['admdvs']}", headers=xian).status_code == 403
    assert client.get("/api/credit/blacklist/export?region=12", headers=shi).status_code == 422
    assert client.get(f"/api/credit/distribution?region={me['admdvs']}", headers=xian).status_code == 403
    assert client.get(f"/api/credit/distribution?region={me['admdvs']}", headers=shi).status_code == 200
    table = client.get("/api/credit/measures", headers=hosp).json()
    assert [m["grade"] for m in table] == ["A", "B", "C", "D"] and table[-1]["prepayment"] is False
    grades = client.get("/api/credit/grades", headers=shi).json()["items"]
    assert all("review_share" in g["measures"] for g in grades)
    assert client.get("/api/credit/insured/P404", headers=hosp).status_code == 403
    assert client.get("/api/credit/insured/P404", headers=shi).status_code == 404
