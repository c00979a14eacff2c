"""举报 over HTTP: the public routes without login (proof-of-work, replay, rate limits, uniform 404, size
limits), the public pages (no inline script, CSP), and the handlers' routes per role, including what a role must
not see (the identity, other regions' reports, anything at all for hospitals and reviewers)."""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from service_ws import ServiceWorkspace, build_service_workspace

from fundguard.api.app import create_app
from fundguard.api.public_guard import solve

NAME, PHONE = "司马举报人", "13800138000"


@pytest.fixture(scope="module")
def sw(tmp_path_factory: pytest.TempPathFactory) -> ServiceWorkspace:
    return build_service_workspace(tmp_path_factory.mktemp("api-reports"))


@pytest.fixture
def client(sw: ServiceWorkspace) -> Iterator[TestClient]:
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:  # a fresh app: fresh rate-limit counts
        yield c


def _as(client: TestClient, sw: ServiceWorkspace, username: str) -> dict[str, str]:
    u = next(u for u in sw.users if u["username"] == username)
    r = client.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _proof(client: TestClient) -> dict[str, str]:
    c = client.get("/api/public/reports/challenge").json()
    return {"challenge": c["challenge"], "solution": solve(c["challenge"])}


def _body(client: TestClient, admdvs: str, **extra: Any) -> dict[str, Any]:
    return {"target_kind": "institution", "violation_type": "over_charging", "target_name": "某某诊所",
            "description": "该诊所对每位患者重复收取诊查费，收费单据可证明。", "admdvs": admdvs, "real_name": True,
            "identity": {"name": NAME, "phone": PHONE}, **_proof(client), **extra}  # fmt: skip


def test_public_filing_and_lookup_without_login(client: TestClient, sw: ServiceWorkspace) -> None:
    shi = _as(client, sw, "shi")
    admdvs = client.get("/api/me", headers=shi).json()["admdvs"]
    form = client.get("/api/public/reports/form").json()
    assert admdvs in {r["code"] for r in form["regions"]} and form["violation_types"]
    pdf = base64.b64encode(b"%PDF-1.4\n%%EOF").decode()
    body = _body(
        client,
        admdvs,
        attachments=[{"filename": "单据.pdf", "content_type": "application/pdf", "data_base64": pdf}],
    )
    r = client.post("/api/public/reports", json=body)
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    assert re.fullmatch(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){3}", code)
    again = client.post("/api/public/reports", json=body)  # the same solved challenge twice
    assert again.status_code == 422 and "防刷验证" in again.json()["detail"]["zh"]
    bad = {**_body(client, admdvs), "solution": "x"}
    assert client.post("/api/public/reports", json=bad).status_code == 422
    forged = {**_body(client, admdvs), "challenge": "9999999999.00.1.deadbeef", "solution": "0"}
    assert client.post("/api/public/reports", json=forged).status_code == 422
    status = client.get(f"/api/public/reports/{code}").json()
    assert status == {"status": "registered", "status_zh": "待受理", "received_on": status["received_on"],
                      "reply": "", "reward": None}  # fmt: skip
    misses = [
        client.get(f"/api/public/reports/{c}")
        for c in ("AAAAA-AAAAA-AAAAA-AAAAA", "x", code[:-1] + ("3" if code.endswith("2") else "2"))
    ]
    assert {m.status_code for m in misses} == {404} and len({m.text for m in misses}) == 1
    # the handler sees the facts and the attachment, not the reporter
    page = client.get("/api/reports", headers=shi).json()
    item = next(i for i in page["items"] if i["target_name"] == "某某诊所")
    detail = client.get(f"/api/reports/{item['id']}", headers=shi)
    assert detail.status_code == 200 and NAME not in detail.text and PHONE not in detail.text
    att = detail.json()["attachments"][0]
    f = client.get(f"/api/reports/{item['id']}/attachments/{att['id']}", headers=shi)
    assert f.status_code == 200 and f.content.startswith(b"%PDF")
    assert (
        client.post(f"/api/reports/{item['id']}/identity", json={"reason": "核实"}, headers=shi).status_code
        == 403
    )
    head = _as(client, sw, "fuzeren")
    who = client.post(
        f"/api/reports/{item['id']}/identity", json={"reason": "奖励发放核对身份"}, headers=head
    )
    assert who.status_code == 200 and who.json()["name"] == NAME
    ledger = client.get("/api/rewards/ledger.xlsx", headers=shi)
    assert ledger.status_code == 200 and NAME.encode() not in ledger.content


def test_roles_that_must_not_see_reports(client: TestClient, sw: ServiceWorkspace) -> None:
    shi = _as(client, sw, "shi")
    admdvs = client.get("/api/me", headers=shi).json()["admdvs"]
    # a report of its own: the test does not lean on one an earlier test filed (workers may split the module)
    body = _body(client, admdvs, target_name="角色可见性诊所")
    assert client.post("/api/public/reports", json=body).status_code == 200
    items = client.get("/api/reports", headers=shi).json()["items"]
    rid = next(i["id"] for i in items if i["target_name"] == "角色可见性诊所")
    for who in ("yiyuan", "jingban", "fazhi", "disanfang", "admin"):
        h = _as(client, sw, who)
        for path in ("/api/reports", f"/api/reports/{rid}", "/api/reports/statistics", "/api/rewards",
                     "/api/rewards/ledger.xlsx"):  # fmt: skip
            assert client.get(path, headers=h).status_code == 403, (who, path)
        assert (
            client.post(f"/api/reports/{rid}/identity", json={"reason": "查看举报人"}, headers=h).status_code
            == 403
        )
    assert client.get("/api/reports").status_code == 401  # the staff side needs a login
    xian = _as(client, sw, "xian")
    assert client.get(f"/api/reports/{rid}", headers=xian).status_code == 404  # another region: as if absent


def test_public_limits(client: TestClient, sw: ServiceWorkspace) -> None:
    huge = b'{"description": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    r = client.post("/api/public/reports", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    long = client.post("/api/public/reports", json={**_body(client, "000000"), "description": "长" * 6000})
    assert long.status_code == 422
    statuses = [client.get("/api/public/reports/AAAAA-AAAAA-AAAAA-AAAAA").status_code for _ in range(31)]
    assert statuses[:30] == [404] * 30 and statuses[30] == 429  # enumeration is throttled too
    r = client.get("/api/public/reports/AAAAA-AAAAA-AAAAA-AAAAA")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_each_public_process_has_its_own_configurable_limit(
    sw: ServiceWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tracking look-ups used up (a limit set to 3 here) leave filing, claiming and the points lookup their own
    counts; the points lookup used up in turn leaves tracking and filing as they were."""
    monkeypatch.setenv("FUNDGUARD_PUBLIC_LIMIT_TRACK", "3/600")
    monkeypatch.setenv("FUNDGUARD_PUBLIC_LIMIT_POINTS", "2/600")
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:
        admdvs = c.get("/api/public/regions").json()[0]["code"]
        track = [c.get("/api/public/reports/AAAAA-AAAAA-AAAAA-AAAAA").status_code for _ in range(4)]
        assert track == [404, 404, 404, 429]
        limited = c.get("/api/public/reports/AAAAA-AAAAA-AAAAA-AAAAA").json()["detail"]["zh"]
        assert limited.startswith("查询码查询过于频繁")
        filed = c.post("/api/public/reports", json=_body(c, admdvs))
        assert filed.status_code == 200, filed.text  # filing has its own count
        claim = c.post(f"/api/public/reports/{filed.json()['code']}/claim",
                       json={"name": NAME, "id_no": "110101199001011234", **_proof(c)})  # fmt: skip
        assert claim.status_code not in (429, 200)  # refused on its merits (no reward), not for the rate
        points = [c.get("/api/public/points/status", params={"national_code": "NOBODY1234"}).status_code
                  for _ in range(3)]  # fmt: skip
        assert points == [200, 200, 429]
        assert (
            "医保支付资格查询过于频繁"
            in c.get("/api/public/points/status", params={"national_code": "NOBODY1234"}).json()["detail"][
                "zh"
            ]
        )
        assert c.post("/api/public/reports", json=_body(c, admdvs)).status_code == 200
        assert c.get("/api/public/reports/AAAAA-AAAAA-AAAAA-AAAAA").status_code == 429  # still its own
        assert c.get("/api/public/reports/form").status_code == 200  # the form's look-ups: their own too


def test_every_public_process_counts_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every limit set to one request, each process used up still leaves every other process one request
    (for the same client), and another client its own."""
    from fundguard.api.public_guard import PROCESSES, PublicGuard
    from fundguard.service.errors import TooManyAttempts

    for process in PROCESSES:
        monkeypatch.setenv(f"FUNDGUARD_PUBLIC_LIMIT_{process.upper()}", "1/600")
    for used in PROCESSES:
        guard = PublicGuard()
        guard.limit(used, "10.0.0.1", now=0)
        with pytest.raises(TooManyAttempts) as late:
            guard.limit(used, "10.0.0.1", now=1)
        assert late.value.retry_after == 600
        for other in PROCESSES:
            if other != used:
                guard.limit(other, "10.0.0.1", now=1)  # not refused: its own count
        guard.limit(used, "10.0.0.2", now=1)  # another client
        guard.limit(used, "10.0.0.1", now=601)  # the window has passed
    with pytest.raises(KeyError):
        PublicGuard().limit("lookup", "10.0.0.1")  # no shared catch-all bucket any more


def test_public_limit_settings_are_checked() -> None:
    from fundguard.core.errors import InputError
    from fundguard.core.settings import PUBLIC_LIMITS, Settings

    assert Settings.from_env({}).public_limits == PUBLIC_LIMITS
    assert Settings.from_env({"FUNDGUARD_PUBLIC_LIMIT_FILE": "2/60"}).public_limits["file"] == (2, 60)
    for bad in ("five", "5", "0/60", "5/-1", "5/60/2"):
        with pytest.raises(InputError):
            Settings.from_env({"FUNDGUARD_PUBLIC_LIMIT_CLAIM": bad})


def test_public_pages_are_static_and_csp_clean(client: TestClient) -> None:
    for page in ("/public/", "/public/report.html", "/public/track.html"):
        r = client.get(page)
        assert r.status_code == 200 and "script-src 'self'" in r.headers["content-security-policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)  # no inline script
        assert 'name="viewport"' in r.text and 'href="report.html"' in r.text
    assert client.get("/public/public.js").status_code == 200
