"""Points documents over HTTP: 记分告知书 from notification, 陈述申辩复核结果告知书 after the review, 暂停/终止
决定书 once the record started a suspension or the termination; .docx and PDF; refused to masked roles and out
of scope; a step not reached is refused with its reason."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from service_ws import ServiceWorkspace, build_service_workspace

from fundguard.api.app import create_app
from fundguard.supervision.documents import pdf_available


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory) -> ServiceWorkspace:
    return build_service_workspace(tmp_path_factory.mktemp("api-points-docs"))


@pytest.fixture(scope="module")
def client(sw: ServiceWorkspace) -> Iterator[TestClient]:
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:
        yield c


def _as(client: TestClient, sw: ServiceWorkspace, username: str) -> dict[str, str]:
    u = next(u for u in sw.users if u["username"] == username)
    r = client.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def _register(client: TestClient, hosp: dict[str, str], code: str, id_no: str, inst: str) -> None:
    body = {"national_code": code, "id_no": id_no, "name": "王医生", "category": "医师", "fixmedins_code": inst,
            "pledge_on": "2026-01-02"}  # fmt: skip
    assert client.post("/api/points/staff", json=body, headers=hosp).status_code == 200


def test_points_documents(client: TestClient, sw: ServiceWorkspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-02")
    hosp, xian, shi = _as(client, sw, "yiyuan"), _as(client, sw, "xian"), _as(client, sw, "shi")
    masked = _as(client, sw, "disanfang")
    inst = client.get("/api/me", headers=hosp).json()["fixmedins_code"]
    _register(client, hosp, "D777777777", "110101198001011239", inst)
    rec: dict[str, Any] = client.post("/api/points/records", headers=xian, json={
        "national_code": "D777777777", "fixmedins_code": inst, "band": 4, "responsibility": "主要",
        "decided_on": "2026-02-25", "reason": "协议处理：虚构医药服务项目"}).json()  # fmt: skip
    assert [d["kind"] for d in rec["documents"]] == ["points_notice"]
    url = f"/api/points/records/{rec['id']}/documents"
    notice = client.get(f"{url}/points_notice", headers=hosp)  # the hospital hands the notice to its staff
    assert notice.status_code == 200 and notice.headers["content-type"].startswith("application/vnd.openxml")
    text = _text(notice.content)
    assert (
        "医保支付资格记分告知书" in text
        and "王医生" in text
        and "记12分" in text
        and "2026年3月9日前" in text
    )
    assert client.get(f"{url}/points_notice", headers=masked).status_code == 403
    early = client.get(f"{url}/qualification_decision", headers=xian)
    assert early.status_code == 409 and "尚未到达" in early.json()["detail"]["zh"]
    assert client.get(f"{url}/nonsense", headers=xian).status_code == 404

    r = client.post(f"{url.rsplit('/', 1)[0]}/actions", headers=hosp, json={
        "action": "submit_statement", "version": rec["version"], "statement": "非本人操作，系系统误录"})  # fmt: skip
    rec = r.json()
    r = client.post(f"/api/points/records/{rec['id']}/actions", headers=xian, json={
        "action": "uphold", "version": rec["version"], "comment": "经核查系本人开具"})  # fmt: skip
    assert r.status_code == 200, r.text
    kinds = [d["kind"] for d in r.json()["documents"]]
    assert kinds == ["points_notice", "statement_outcome", "qualification_decision"]
    outcome = _text(client.get(f"{url}/statement_outcome", headers=xian).content)
    assert "申辩不成立" in outcome and "经核查系本人开具" in outcome and "非本人操作" in outcome
    decision = _text(client.get(f"{url}/qualification_decision", headers=shi).content)
    assert "终止医保支付资格决定书" in decision and "2029年3月2日前不得再次登记备案" in decision
    assert "陈述申辩情况" in decision and "申辩不成立" in decision and "急诊、抢救除外" in decision
    assert client.get(f"{url}/qualification_decision", headers=masked).status_code == 403
    if pdf_available():
        pdf = client.get(f"{url}/qualification_decision", params={"format": "pdf"}, headers=xian)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_suspension_decision_and_masked_links(
    client: TestClient, sw: ServiceWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-02")
    hosp, xian, masked = _as(client, sw, "yiyuan"), _as(client, sw, "xian"), _as(client, sw, "disanfang")
    inst = client.get("/api/me", headers=hosp).json()["fixmedins_code"]
    _register(client, hosp, "D888888888", "110101198001011220", inst)
    rec = client.post("/api/points/records", headers=xian, json={
        "national_code": "D888888888", "fixmedins_code": inst, "band": 3, "responsibility": "主要",
        "decided_on": "2026-02-25", "reason": "协议处理：串换项目"}).json()  # fmt: skip
    r = client.post(f"/api/points/records/{rec['id']}/actions", headers=hosp,
                    json={"action": "waive", "version": rec["version"]})  # fmt: skip
    assert [d["kind"] for d in r.json()["documents"]] == ["points_notice", "qualification_decision"]
    text = _text(
        client.get(f"/api/points/records/{rec['id']}/documents/qualification_decision", headers=xian).content
    )
    assert "暂停医保支付资格决定书" in text and "至2026年6月1日止暂停" in text and "未提出陈述、申辩" in text
    seen = client.get(f"/api/points/records/{rec['id']}", headers=xian).json()
    assert seen["documents"]  # links for the bureau …
    staff = client.get("/api/points/staff", params={"q": "D888888888"}, headers=xian).json()["items"][0]
    assert (
        client.get(f"/api/points/staff/{staff['id']}", headers=masked).status_code == 403
    )  # … none for masked
