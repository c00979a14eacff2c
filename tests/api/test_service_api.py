"""The supervision API through HTTP, per role: what each can and cannot see or do; the full journey from a
clue to a served decision with its documents; the institution's appeal with an upload; bad input → 4xx.

Real app (``create_app``) over a real audited workspace and a migrated, seeded SQLite database.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from service_ws import ServiceWorkspace, build_service_workspace, fresh_pg_schema

from fundguard.api.app import create_app
from fundguard.service import auth as auth_service
from fundguard.service.db import Database
from fundguard.service.models import LoginThrottle

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82"  # a real 1×1 PNG


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sw(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ServiceWorkspace:
    """The whole module runs once on SQLite (the default) and once on the machine's PostgreSQL."""
    url = fresh_pg_schema("fundguard_api_test") if request.param == "postgresql" else None
    return build_service_workspace(tmp_path_factory.mktemp(f"api-{request.param}"), database_url=url)


@pytest.fixture(scope="module")
def client(sw: ServiceWorkspace) -> Iterator[TestClient]:
    with TestClient(create_app(sw.workspace, sw.database_url)) as c:
        yield c


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # the shared client authenticates by header only, never by a leftover cookie
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def as_role(client: TestClient, sw: ServiceWorkspace) -> Any:
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        """Log in as the first user with ``role`` (or as the user of that name: ``shi2``)."""
        if role not in cache:
            u = next((u for u in sw.users if u["username"] == role), None) or sw.user(role)
            cache[role] = login(client, u["username"], u["password"])
        return cache[role]

    return headers


def all_items(
    client: TestClient, headers: dict[str, str], path: str = "/api/clues", **params: Any
) -> list[dict]:
    items: list[dict] = []
    page = 1
    while True:
        r = client.get(path, headers=headers, params={**params, "page": page, "size": 200})
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        if page * body["size"] >= body["total"]:
            return items
        page += 1


def assert_error(r: Any, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert detail["zh"] and detail["en"], detail
    assert any("\u4e00" <= ch <= "\u9fff" for ch in detail["zh"]), detail  # Chinese first
    if code:
        assert detail["code"] == code, detail
    return detail


# ---------------------------------------------------------------- authentication


def test_login_sets_cookie_and_me_works_with_cookie_or_bearer(
    client: TestClient, sw: ServiceWorkspace
) -> None:
    u = sw.user("city_supervisor")
    with TestClient(client.app) as browser:
        r = browser.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
        assert r.status_code == 200
        body = r.json()
        assert body["user"]["role"] == "city_supervisor" and body["user"]["role_zh"] == "市级监管员"
        assert "httponly" in r.headers["set-cookie"].lower()
        me = browser.get("/api/me")  # the cookie alone
        assert me.status_code == 200 and me.json()["username"] == u["username"]
        assert_error(browser.post("/api/auth/logout"), 403)  # a cookie-borne change must name its origin
        assert browser.post("/api/auth/logout", headers={"Origin": "http://testserver"}).status_code == 200
        assert_error(browser.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"}), 401)


def test_security_headers(client: TestClient, as_role: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "监管" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    data = client.get("/api/clues", headers=as_role("city_supervisor"))
    assert data.headers["cache-control"] == "no-store"


def test_wrong_password_and_no_token_are_401_in_chinese(client: TestClient, sw: ServiceWorkspace) -> None:
    u = sw.user("county_supervisor")
    d = assert_error(
        client.post("/api/auth/login", json={"username": u["username"], "password": "wrong"}), 401
    )
    assert "密码" in d["zh"]
    assert_error(client.get("/api/clues"), 401, "not_authenticated")
    assert_error(client.get("/api/clues", headers={"Authorization": "Bearer nonsense"}), 401)


def test_failed_logins_answer_alike_then_429_with_retry_after(
    client: TestClient, sw: ServiceWorkspace
) -> None:
    db = Database(sw.database_url)
    with db.session() as s:
        auth_service.create_user(s, "backoff", "Right-password-1", "city_supervisor",
                                 sw.user("city_supervisor")["admdvs"], must_change=False)  # fmt: skip
        s.execute(sa.delete(LoginThrottle))  # earlier tests' failures from this same test client
    db.dispose()
    known = [
        client.post("/api/auth/login", json={"username": "backoff", "password": "bad"}) for _ in range(3)
    ]
    unknown = client.post("/api/auth/login", json={"username": "no-such-user-x", "password": "bad"})
    assert [r.status_code for r in known] == [401] * 3 and unknown.status_code == 401
    assert known[0].json() == unknown.json()  # nothing tells the names apart
    waited = client.post("/api/auth/login", json={"username": "backoff", "password": "Right-password-1"})
    assert_error(waited, 429, "too_many_attempts")
    assert int(waited.headers["Retry-After"]) >= 1
    db = Database(sw.database_url)
    with db.session() as s:  # the other tests log in from the same test client
        s.execute(sa.delete(LoginThrottle))
    db.dispose()


# ---------------------------------------------------------------- region scope and masking


def test_each_level_sees_its_region_only(client: TestClient, as_role: Any, sw: ServiceWorkspace) -> None:
    province = all_items(client, as_role("province_supervisor"))
    city = all_items(client, as_role("city_supervisor"))
    county = all_items(client, as_role("county_supervisor"))
    assert sw.imported["clues_created"] > 0
    assert len(province) == sw.imported["clues_created"]
    county_code = sw.user("county_supervisor")["admdvs"]
    city_code = sw.user("city_supervisor")["admdvs"]
    assert county and all(c["admdvs"] == county_code for c in county)
    assert all(c["admdvs"].startswith(city_code[:4]) for c in city)
    assert {c["id"] for c in county} <= {c["id"] for c in city} <= {c["id"] for c in province}
    outside = [c for c in province if c["admdvs"] != county_code]
    assert outside, "the seeded city needs clues outside the county for this test"
    assert_error(
        client.get(f"/api/clues/{outside[0]['id']}", headers=as_role("county_supervisor")), 404, "not_found"
    )


def test_third_party_inspector_sees_patients_masked(client: TestClient, as_role: Any) -> None:
    clue = all_items(client, as_role("city_supervisor"))[0]
    plain = client.get(f"/api/clues/{clue['id']}", headers=as_role("city_supervisor")).json()
    masked = client.get(f"/api/clues/{clue['id']}", headers=as_role("third_party_inspector")).json()
    assert plain["evidence"] and len(plain["evidence"]) == len(masked["evidence"])
    for p, m in zip(plain["evidence"], masked["evidence"], strict=True):
        assert m["psn_no"] != p["psn_no"] and "*" in m["psn_no"]
        if p.get("psn_name"):
            assert m["psn_name"] != p["psn_name"]
        assert m["amount"] == p["amount"] and m["hilist_code"] == p["hilist_code"]
    assert masked["actions"] == []  # looks, never acts


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("third_party_inspector", "get", "/api/ledgers/clues", None),
        ("third_party_inspector", "get", "/api/record", None),
        ("hospital", "get", "/api/record", None),
        ("hospital", "get", "/api/ledgers/cases", None),
        ("city_supervisor", "post", "/api/rules/GZ10000101009000/pause", {"reason": "测试"}),
        ("agency_reviewer", "get", "/api/record/verify", None),
    ],
)
def test_forbidden_per_role(
    client: TestClient, as_role: Any, role: str, method: str, path: str, body: Any
) -> None:
    r = getattr(client, method)(path, headers=as_role(role), **({"json": body} if body else {}))
    assert_error(r, 403, "forbidden")


def test_hospital_sees_only_its_notified_clues(client: TestClient, as_role: Any) -> None:
    sup, hosp = as_role("city_supervisor"), as_role("hospital")
    me = client.get("/api/me", headers=hosp).json()
    own = all_items(client, sup, fixmedins_code=me["fixmedins_code"], status="pending_initial")
    assert len(own) >= 3, "the test hospital needs clues"
    told, untold = own[1], own[2]
    act(client, sup, "clues", told["id"], "initial_confirm", comment="初审")
    act(client, as_role("agency_reviewer"), "clues", told["id"], "review_confirm", comment="复审告知")
    items = all_items(client, hosp)
    assert told["id"] in {c["id"] for c in items}
    assert all(c["fixmedins_code"] == me["fixmedins_code"] for c in items)
    # clues still in 初审/复审 are internal: the institution has not been told of them
    assert all(c["status"] not in ("pending_initial", "pending_review") for c in items)
    assert_error(client.get(f"/api/clues/{untold['id']}", headers=hosp), 404)
    other = next(
        c
        for c in all_items(client, as_role("province_supervisor"))
        if c["fixmedins_code"] != me["fixmedins_code"]
    )
    assert_error(client.get(f"/api/clues/{other['id']}", headers=hosp), 404, "not_found")  # answered alike
    assert_error(client.get("/api/cases", headers=hosp), 403)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/clues", {"page": 0}),
        ("/api/clues", {"size": 201}),
        ("/api/clues", {"size": 0}),
        ("/api/clues", {"month": "2024-13"}),
        ("/api/clues", {"page": "abc"}),
        ("/api/cases", {"size": 1000}),
        ("/api/clues/0", {}),
        ("/api/clues/abc", {}),
    ],
)
def test_bad_query_is_422_bilingual(client: TestClient, as_role: Any, path: str, params: dict) -> None:
    d = assert_error(client.get(path, headers=as_role("city_supervisor"), params=params), 422, "validation")
    assert "无效" in d["zh"]


def test_bad_bodies_are_4xx_not_500(client: TestClient, as_role: Any) -> None:
    h = as_role("city_supervisor")
    clue = all_items(client, h, status="pending_initial")[0]
    url = f"/api/clues/{clue['id']}/actions"
    assert_error(client.post(url, headers=h, content=b"not json", params={}), 422)
    assert_error(client.post(url, headers=h, json={"action": "initial_confirm"}), 422)  # no version
    assert_error(client.post(url, headers=h, json={"action": "fly", "version": clue["version"]}), 409)
    assert_error(
        client.post(url, headers=h, json={"action": "verify_confirm", "version": clue["version"]}), 409
    )
    assert_error(client.post("/api/cases", headers=h, json={"clue_id": "x"}), 422)
    assert_error(client.get("/api/ledgers/nonsense", headers=h), 404)
    assert_error(client.get("/api/nothing-here", headers=h), 404)


def test_oversized_bodies_are_refused_before_parsing(client: TestClient, as_role: Any) -> None:
    h = as_role("city_supervisor")
    big = b'{"action": "initial_confirm", "version": 1, "comment": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    declared = client.post(
        "/api/clues/1/actions", headers={**h, "Content-Type": "application/json"}, content=big
    )
    assert_error(declared, 413, "upload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    chunked = client.post(
        "/api/clues/1/actions", headers={**h, "Content-Type": "application/json"}, content=chunks()
    )
    assert_error(chunked, 413, "upload_too_large")


def test_real_time_audit_routes_are_served_with_their_own_body_limit(
    client: TestClient, as_role: Any
) -> None:
    if not any(p.startswith("/api/audit/") for p in client.get("/api/openapi.json").json()["paths"]):
        pytest.skip("the real-time audit routes (fundguard.api.audit) are not installed")
    # a 2 MB claim is over the 1 MB of the workflow routes but within the audit's own limit: judged, not refused
    big = {"mdtrt_d": [{"mdtrt_id": "X", "note": "x" * (2 * 1024 * 1024)}], "fee_list_d": []}
    r = client.post("/api/audit/claim", json=big)
    assert r.status_code != 413 and r.status_code < 500, r.text[:300]


def test_stale_version_is_409(client: TestClient, as_role: Any) -> None:
    h = as_role("city_supervisor")
    clue = all_items(client, h, status="pending_initial")[-1]
    ok = client.post(f"/api/clues/{clue['id']}/actions", headers=h,
                     json={"action": "initial_confirm", "version": clue["version"], "comment": "疑点成立"})  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] > clue["version"]
    stale = client.post(f"/api/clues/{clue['id']}/actions", headers=h,
                        json={"action": "review_return", "version": clue["version"], "comment": "退回"})  # fmt: skip
    assert_error(stale, 409, "stale_version")


# ---------------------------------------------------------------- the journeys


def act(client: TestClient, headers: dict, kind: str, id_: int, action: str, **fields: Any) -> dict:
    current = client.get(f"/api/{kind}/{id_}", headers=headers).json()
    offered = {a["action"] for a in current["actions"]}
    assert action in offered, f"{action} not offered in {current['status']}: {sorted(offered)}"
    r = client.post(f"/api/{kind}/{id_}/actions", headers=headers,
                    json={"action": action, "version": current["version"], **fields})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


def hospital_clue(client: TestClient, as_role: Any, *, largest: bool = False) -> dict:
    """A clue of the test hospital still at 待初审 (the first, or the one with the most money)."""
    me = client.get("/api/me", headers=as_role("hospital")).json()
    candidates = all_items(client, as_role("city_supervisor"), fixmedins_code=me["fixmedins_code"],
                           status="pending_initial")  # fmt: skip
    assert candidates, "the test hospital needs clues at 待初审"
    return max(candidates, key=lambda c: float(c["amount"])) if largest else candidates[-1]


def test_hospital_appeals_with_upload_and_bad_uploads_are_rejected(client: TestClient, as_role: Any) -> None:
    sup, hosp = as_role("city_supervisor"), as_role("hospital")
    clue = hospital_clue(client, as_role)
    act(client, sup, "clues", clue["id"], "initial_confirm", comment="初审：疑点成立")
    # the same person cannot do 复审 after 初审: refused, saying why
    refused = client.post(f"/api/clues/{clue['id']}/actions", headers=sup,
                          json={"action": "review_confirm", "version": clue["version"] + 1})  # fmt: skip
    assert "复审须由初审以外的人员" in assert_error(refused, 403, "forbidden")["zh"]
    notified = act(
        client, as_role("agency_reviewer"), "clues", clue["id"], "review_confirm", comment="复审：告知机构"
    )
    assert notified["status"] == "pending_appeal"

    seen = client.get(f"/api/clues/{clue['id']}", headers=hosp).json()
    assert "appeal" in {a["action"] for a in seen["actions"]}
    url = f"/api/clues/{clue['id']}/appeal"
    v = {"version": str(seen["version"]), "reason": "该项目有医嘱及检查报告支持"}
    assert_error(
        client.post(
            url, headers=hosp, data=v, files={"files": ("a.exe", b"MZ...", "application/x-msdownload")}
        ),
        415,
    )
    assert_error(
        client.post(
            url, headers=hosp, data=v, files={"files": ("fake.pdf", b"not a pdf", "application/pdf")}
        ),
        415,
    )
    big = b"%PDF-" + b"0" * (10 * 1024 * 1024)
    assert_error(
        client.post(url, headers=hosp, data=v, files={"files": ("big.pdf", big, "application/pdf")}), 413
    )
    assert_error(
        client.post(url, headers=sup, data=v, files={"files": ("a.pdf", PDF, "application/pdf")}), 403
    )
    assert_error(client.post(url, headers=hosp, data={"version": v["version"]}), 422)  # no reason

    r = client.post(url, headers=hosp, data=v,
                    files=[("files", ("医嘱单.pdf", PDF, "application/pdf")), ("files", ("报告.png", PNG, "image/png"))])  # fmt: skip
    assert r.status_code == 200, r.text
    appealed = r.json()
    assert appealed["status"] == "appealing"
    files = appealed["appeals"][-1]["files"]
    assert sorted(f["filename"] for f in files) == ["医嘱单.pdf", "报告.png"]
    pdf = next(f for f in files if f["filename"].endswith(".pdf"))
    got = client.get(f"/api/appeal-files/{pdf['id']}", headers=sup)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"].startswith("application/pdf")
    assert_error(client.get("/api/appeal-files/999999", headers=sup), 404)
    assert_error(client.get(f"/api/appeal-files/{pdf['id']}", headers=as_role("county_supervisor")), 404)


def test_supervisor_takes_a_clue_to_a_served_decision_with_documents(
    client: TestClient, as_role: Any
) -> None:
    sup = as_role("city_supervisor")
    clue = hospital_clue(client, as_role, largest=True)
    detail = client.get(f"/api/clues/{clue['id']}", headers=sup).json()
    assert detail["legal_basis"] and detail["evidence"], "why it was flagged"
    assert all(e["evidence_zh"] for e in detail["evidence"])

    act(client, sup, "clues", clue["id"], "initial_confirm", comment="初审确认")
    act(client, as_role("agency_reviewer"), "clues", clue["id"], "review_confirm", comment="复审确认")
    # the institution is told and does not contest (the appeal period cannot be waited out in a test)
    assert_error(client.post(f"/api/clues/{clue['id']}/actions", headers=sup,
                             json={"action": "appeal_expired", "version": clue["version"] + 2}), 409)  # fmt: skip
    act(client, as_role("hospital"), "clues", clue["id"], "accept", comment="无异议")
    act(
        client,
        sup,
        "clues",
        clue["id"],
        "verify_confirm",
        confirmed_amount=clue["amount"],
        comment="核实确认",
    )
    current = client.get(f"/api/clues/{clue['id']}", headers=sup).json()
    r = client.post(
        "/api/cases", headers=sup, json={"clue_id": clue["id"], "clue_version": current["version"]}
    )
    assert r.status_code == 200, r.text
    case = r.json()
    cid = case["id"]
    assert case["status"] == "filed"
    assert client.get(f"/api/clues/{clue['id']}", headers=sup).json()["case_id"] == cid

    assert_error(client.post(f"/api/cases/{cid}/actions", headers=sup,
                             json={"action": "start_investigation", "version": case["version"], "officers": ["张三"]}), 409)  # fmt: skip
    offered = next(a for a in case["actions"] if a["action"] == "start_investigation")["fields"][0]["choices"]
    assert {"sheng", "shi2"} <= {o["value"] for o in offered} and "执法证号" in offered[0]["label_zh"]
    act(client, sup, "cases", cid, "start_investigation", officers=["sheng", "shi2"], comment="指派")
    act(
        client,
        sup,
        "cases",
        cid,
        "finish_investigation",
        findings="超标准收费",
        behaviour_code="A38_1",
        loss_amount=clue["amount"],
        intent="none",
        evidence=["询问笔录", "住院病历"],
    )
    state = act(
        client,
        sup,
        "cases",
        cid,
        "propose",
        article="38",
        circumstance="一般",
        fine_amount=str(round(float(clue["amount"]) * 1.5, 2)),
        refund_amount=clue["amount"],
        comment="拟处罚",
    )
    if state["status"] == "legal_review":
        state = act(
            client, as_role("legal_reviewer"), "cases", cid, "legal_review_pass", comment="法制审核通过"
        )
    assert state["status"] == "prior_notice", state["status"]
    notice = next(a["action"] for a in client.get(f"/api/cases/{cid}", headers=sup).json()["actions"]
                  if a["action"] not in ("extend", "return_investigation", "terminate"))  # fmt: skip
    act(client, sup, "cases", cid, notice, notice_date=(dt.date.today() - dt.timedelta(days=15)).isoformat())
    act(client, sup, "cases", cid, "statement_done", comment="陈述申辩期满，当事人未提出")
    state = client.get(f"/api/cases/{cid}", headers=sup).json()
    if state.get("major") or "collective_discussion" in {a["action"] for a in state["actions"]}:
        act(
            client,
            sup,
            "cases",
            cid,
            "collective_discussion",
            participants=["局长", "副局长", "监管处处长"],
            comment="同意",
        )
    act(client, as_role("bureau_head"), "cases", cid, "decide", decision_type="处罚", comment="决定处罚")
    served = act(client, sup, "cases", cid, "serve", served_on=dt.date.today().isoformat(), method="直接送达")
    assert served["status"] == "executing"
    assert [s["step_zh"] for s in served["timeline"]][:2] == ["立案", "调查取证"] or len(
        served["timeline"]
    ) >= 6
    kinds = {d["kind"] for d in served["documents"]}
    assert {"case_filing", "prior_notice", "penalty_decision"} <= kinds
    for d in served["documents"]:
        r = client.get(d["url"], headers=sup)
        assert r.status_code == 200, (d, r.text)
        assert zipfile.ZipFile(io.BytesIO(r.content)).testzip() is None  # a real .docx
        assert "filename*=UTF-8''" in r.headers["content-disposition"]
    pdf = client.get(
        next(d["pdf_url"] for d in served["documents"] if d["kind"] == "penalty_decision"), headers=sup
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-"), pdf.text[:300]
    assert pdf.headers["content-type"] == "application/pdf"
    # no case closes before the refund and the fine are registered with their vouchers
    closing = client.post(f"/api/cases/{cid}/actions", headers=sup,
                          json={"action": "close", "version": served["version"], "grounds": "executed"})  # fmt: skip
    assert "尚未执行完毕" in assert_error(closing, 409, "invalid_transition")["zh"]
    ex = served["execution"]
    act(client, sup, "cases", cid, "record_refund", amount=ex["refund_due"], paid_on=dt.date.today().isoformat(),
        voucher_no="TK-1")  # fmt: skip
    act(client, sup, "cases", cid, "record_fine", amount=ex["fine_total_due"], paid_on=dt.date.today().isoformat(),
        voucher_no="GK-1")  # fmt: skip
    closed = act(client, sup, "cases", cid, "close", grounds="executed", comment="执行完毕")
    assert closed["status"] == "closed" and closed["days_left"] is None
    # the confirmed amount reaches the clue, the rule scorecard and the dashboard
    decided = client.get(f"/api/clues/{clue['id']}", headers=sup).json()
    assert decided["outcome"] == "penalised" and decided["confirmed_amount"] == closed["loss_amount"]
    row = next(
        r for r in client.get("/api/rules/scorecard", headers=sup).json() if r["rule_id"] == clue["rule_id"]
    )
    assert row["confirmed"] >= 1 and float(row["money_confirmed"]) >= float(closed["loss_amount"])
    assert float(client.get("/api/dashboard", headers=sup).json()["totals"]["confirmed_amount"]) >= float(
        closed["loss_amount"]
    )
    # the chain is intact and holds every step
    v = client.get("/api/record/verify", headers=sup).json()
    assert v["ok"] is True and v["entries"] > 10


def test_referral_to_police_with_receipt_and_a_clue_transfer_between_regions(
    client: TestClient, as_role: Any
) -> None:
    sup, county = as_role("city_supervisor"), as_role("county_supervisor")
    county_code = client.get("/api/me", headers=county).json()["admdvs"]
    clues = all_items(client, sup, status="pending_initial")
    clue = next(c for c in clues if c["admdvs"] != county_code)

    assert_error(
        client.post(
            "/api/referrals", headers=sup, json={"target": "外星", "reason": "x", "clue_id": clue["id"]}
        ),
        422,
    )
    assert_error(client.post("/api/referrals", headers=as_role("hospital"),
                             json={"target": "公安", "reason": "涉嫌诈骗", "clue_id": clue["id"]}), 403)  # fmt: skip
    r = client.post(
        "/api/referrals",
        headers=sup,
        json={"target": "公安", "reason": "涉嫌诈骗医保基金", "clue_id": clue["id"]},
    )
    assert r.status_code == 200, r.text
    ref = r.json()
    assert ref["status"] == "pending_approval"
    assert ref["id"] in {x["id"] for x in client.get("/api/referrals", headers=sup).json()["items"]}
    steps = {"approve": {}, "send": {"receiver": "市公安局经侦支队"},
             "receipt": {"receipt_no": "HZ-2026-001", "receipt_by": "王警官"}}  # fmt: skip
    for action, fields in steps.items():
        who = as_role("bureau_head") if action == "approve" else sup  # the head approves a referral
        current = client.get(f"/api/referrals/{ref['id']}", headers=who).json()
        assert action in {a["action"] for a in current["actions"]}, current["actions"]
        r = client.post(f"/api/referrals/{ref['id']}/actions", headers=who,
                        json={"action": action, "version": current["version"], **fields})  # fmt: skip
        assert r.status_code == 200, r.text
    assert client.get(f"/api/referrals/{ref['id']}", headers=sup).json()["receipt_no"] == "HZ-2026-001"

    # transfer the clue to the county; the county supervisor accepts it and then sees the clue
    assert_error(client.get(f"/api/clues/{clue['id']}", headers=county), 404)
    act(
        client,
        sup,
        "clues",
        clue["id"],
        "transfer",
        to_admdvs=county_code,
        to_department="医保局",
        comment="属地管辖",
    )
    incoming = client.get("/api/transfers", headers=county, params={"direction": "in"}).json()
    transfer = next(t for t in incoming if t["clue_id"] == clue["id"])
    assert_error(client.get("/api/transfers", headers=county, params={"direction": "sideways"}), 422)
    r = client.post(
        f"/api/transfers/{transfer['id']}/answer", headers=county, json={"accept": True, "comment": "接收"}
    )
    assert r.status_code == 200, r.text
    moved = client.get(f"/api/clues/{clue['id']}", headers=county)
    assert moved.status_code == 200 and moved.json()["admdvs"] == county_code


# ---------------------------------------------------------------- issue 10: CSRF, TLS cookie, users, access log


def test_cross_site_state_changes_are_refused(client: TestClient, as_role: Any) -> None:
    sup = as_role("city_supervisor")
    evil = client.post("/api/auth/sessions/revoke-others", headers={**sup, "Origin": "http://127.0.0.1:9999"})
    assert_error(evil, 403, "forbidden")
    referer = client.post(
        "/api/auth/sessions/revoke-others", headers={**sup, "Referer": "http://evil.example/x"}
    )
    assert_error(referer, 403, "forbidden")
    same = client.post("/api/auth/sessions/revoke-others", headers={**sup, "Origin": "http://testserver"})
    assert same.status_code == 200, same.text
    # a browser carrying the session cookie must say where it comes from
    cookie = client.post("/api/auth/logout", headers={"Cookie": "fg_session=x"})
    assert_error(cookie, 403, "forbidden")


def test_session_cookie_is_secure_over_tls(sw: ServiceWorkspace) -> None:
    u = sw.user("city_supervisor")
    with TestClient(create_app(sw.workspace, sw.database_url), base_url="https://testserver") as tls:
        r = tls.post("/api/auth/login", json={"username": u["username"], "password": u["password"]})
    assert r.status_code == 200 and "secure" in r.headers["set-cookie"].lower()


def test_admin_creates_a_user_who_must_change_the_password_and_the_access_log_shows_it(
    client: TestClient, as_role: Any, sw: ServiceWorkspace
) -> None:
    admin = as_role("admin")
    weak = client.post("/api/admin/users", headers=admin, json={"username": "newbie", "password": "12345678",
                                                                "role": "county_supervisor", "admdvs": "890102"})  # fmt: skip
    assert_error(weak, 422, "validation")
    assert_error(client.get("/api/admin/users", headers=as_role("hospital")), 403)
    made = client.post("/api/admin/users", headers=admin, json={"username": "newbie", "password": "First-pass-123",
                                                                "role": "county_supervisor", "admdvs": "890102"})  # fmt: skip
    assert made.status_code == 200 and made.json()["must_change"], made.text
    bad = client.post("/api/auth/login", json={"username": "newbie", "password": "wrong"})
    assert bad.status_code == 401
    newbie = login(client, "newbie", "First-pass-123")
    assert_error(client.get("/api/clues", headers=newbie), 403, "password_change_required")
    assert client.get("/api/me", headers=newbie).json()["must_change"]
    changed = client.post("/api/auth/password", headers=newbie,
                          json={"old_password": "First-pass-123", "new_password": "Second-pass-456"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    clue = client.get("/api/clues", headers=newbie, params={"size": 1}).json()["items"][0]
    assert client.get(f"/api/clues/{clue['id']}", headers=newbie).status_code == 200
    log = client.get("/api/admin/access-log", headers=admin, params={"username": "newbie"}).json()["items"]
    assert {"login.failed", "login.ok", "password.change", "clue.read"} <= {i["action"] for i in log}
    assert any(i["target"] == f"clue:{clue['id']}" for i in log)
    assert_error(client.get("/api/admin/access-log", headers=as_role("province_supervisor")), 403)
    db = Database(sw.database_url)
    with db.session() as s:
        s.execute(sa.delete(LoginThrottle))
    db.dispose()


def test_legal_reviewer_enrols_a_second_factor_and_the_admin_resets_it(
    client: TestClient, as_role: Any, sw: ServiceWorkspace
) -> None:
    admin = as_role("admin")
    made = client.post("/api/admin/users", headers=admin, json={"username": "fazhi2", "password": "First-pass-123",
                                                                "role": "legal_reviewer", "admdvs": "890100"})  # fmt: skip
    assert made.status_code == 200, made.text
    first = login(client, "fazhi2", "First-pass-123")
    assert_error(client.post("/api/auth/totp/begin", headers=first), 403, "password_change_required")
    client.post("/api/auth/password", headers=first,
                json={"old_password": "First-pass-123", "new_password": "Second-pass-456"})  # fmt: skip
    enrol = client.post("/api/auth/totp/begin", headers=first)
    assert enrol.status_code == 200 and enrol.json()["otpauth_uri"].startswith("otpauth://totp/"), enrol.text
    totp = pyotp.TOTP(enrol.json()["secret"])
    assert client.post("/api/auth/totp/confirm", headers=first, json={"code": totp.now()}).status_code == 200
    assert client.get("/api/me", headers=first).json()["totp_on"]
    assert "secret" not in str(client.get("/api/admin/users", headers=admin).json())
    missing = client.post("/api/auth/login", json={"username": "fazhi2", "password": "Second-pass-456"})
    assert "动态验证码" in assert_error(missing, 401, "otp_required")["zh"]
    code = totp.at(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    )  # the next step: the enrolment one is used
    ok = client.post(
        "/api/auth/login", json={"username": "fazhi2", "password": "Second-pass-456", "otp": code}
    )
    assert ok.status_code == 200, ok.text
    client.cookies.clear()
    assert_error(client.post("/api/admin/users/fazhi2/reset-totp", headers=as_role("legal_reviewer")), 403)
    assert client.post("/api/admin/users/fazhi2/reset-totp", headers=admin).status_code == 200
    assert login(client, "fazhi2", "Second-pass-456")  # no code asked any more
    log = client.get("/api/admin/access-log", headers=admin, params={"action": "admin.totp"}).json()["items"]
    assert log[0]["target"] == "user:fazhi2" and log[0]["action_zh"] == "重置动态验证码"
    db = Database(sw.database_url)
    with db.session() as s:
        s.execute(sa.delete(LoginThrottle))
    db.dispose()
