"""The real-time routes at 等保 level 3 (issue 10, findings 1 and 2): institution keys, answers cut to what the
institution may know, every call logged, rate limits and a bounded pool, and no 5xx for hostile bodies."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from audit_city import DISCLOSURE_RULES, headers, institution
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fundguard.api import audit, realtime_guard
from fundguard.api.app import create_app
from fundguard.api.audit import create_audit_app
from fundguard.cli import app as cli
from fundguard.engine.payload3101 import to_3101
from fundguard.service.db import database_url

ROUTES = ("/api/audit/claim", "/api/audit/3101")


def _visit(city: tuple, rule: str) -> str:
    return min(v for v, r in city[3] if r == rule and v in city[2])


def _other(city: tuple, code: str) -> dict:
    return next(c for c in city[2].values() if institution(c) != code)


def _calls(ws: Path, where: str = "true") -> list[dict]:
    engine = sa.create_engine(database_url(ws))
    with engine.connect() as con:
        rows = (
            con.execute(sa.text(f"SELECT * FROM realtime_calls WHERE {where} ORDER BY id")).mappings().all()
        )
    engine.dispose()
    return [dict(r) for r in rows]


@pytest.fixture(scope="module")
def client(city: tuple) -> TestClient:
    with TestClient(create_audit_app(city[0])) as c:
        yield c


def test_anonymous_and_wrong_keys_are_refused(city: tuple, client: TestClient, api_key: Callable) -> None:
    claim = next(iter(city[2].values()))
    for path in ROUTES:
        body = claim if path.endswith("claim") else to_3101(claim)
        for h in ({}, {"X-API-Key": "fgk_000000000000_guess"}, {"Authorization": "Bearer nonsense"}):
            r = client.post(path, json=body, headers=h)
            assert r.status_code == 401, r.text
            assert r.json()["detail"]["code"] == "invalid_api_key" and "X-API-Key" in r.json()["detail"]["zh"]
    r = client.post(ROUTES[0], json=claim, headers={"Authorization": f"Bearer {api_key(institution(claim))}"})
    assert r.status_code == 200, r.text


def test_a_key_audits_only_its_own_institution(city: tuple, client: TestClient, api_key: Callable) -> None:
    mine = next(iter(city[2].values()))
    other = _other(city, institution(mine))
    h = headers(api_key, mine)
    r = client.post(ROUTES[0], json=other, headers=h)
    assert r.status_code == 403 and r.json()["detail"]["code"] == "other_institution"
    r = client.post(ROUTES[1], json={"infno": "3101", "input": {"data": to_3101(other)}}, headers=h)
    assert r.status_code == 403
    bare = copy.deepcopy(mine)  # a HIS need not repeat its own code: it is the key's
    for t in ("mdtrt_d", "fee_list_d", "setl_d"):
        for row in bare.get(t, []):
            row.pop("fixmedins_code", None)
    assert client.post(ROUTES[0], json=bare, headers=h).status_code == 200


@pytest.mark.parametrize("rule", DISCLOSURE_RULES)
def test_answers_disclose_nothing_of_other_institutions(
    city: tuple, client: TestClient, api_key: Callable, rule: str
) -> None:
    v = _visit(city, rule)
    claim = city[2][v]
    batch = city[3][(v, rule)]  # what the supervisors' workbench shows
    assert "示例市" in batch and ("就诊ID" in batch or "死亡" in batch)
    for path, body in ((ROUTES[0], claim), (ROUTES[1], {"infno": "3101", "input": {"data": to_3101(claim)}})):
        r = client.post(path, json=body, headers=headers(api_key, claim))
        assert r.status_code == 200, r.text
        text = json.dumps(r.json(), ensure_ascii=False)
        hits = r.json()["hits"] if path == ROUTES[0] else r.json()["output"]["result"]
        ev = [h.get("evidence_zh", h.get("vola_cont")) for h in hits if h["rule_id"] == rule]
        if rule == "L-CONCURRENT-VISIT":
            assert ev == ["该参保人同一时间在其他定点医疗机构住院"]
        else:
            assert ev and "死亡" not in ev[0] and "身份" in ev[0]
        assert "就诊ID" not in text and "入院" not in text
        assert not any(d in text for d in re.findall(r"已于(\d{4}-\d{2}-\d{2})死亡", batch))  # no death date
        others = {m for m in batch.replace("（", " ").split() if "示例市第" in m}
        assert not any(name in text for name in others)
        mine = {r["bkkp_sn"] for r in claim["fee_list_d"]}
        assert all(set(h.get("bkkp_sn", [])) <= mine for h in hits)


def test_every_call_is_logged(city: tuple, api_key: Callable) -> None:
    claim = city[2][_visit(city, "L-CONCURRENT-VISIT")]
    other = _other(city, institution(claim))
    key = api_key(institution(claim))
    key_id = key.split("_")[1]
    with TestClient(create_audit_app(city[0])) as c:
        assert c.post(ROUTES[0], json=claim, headers={"X-API-Key": key}).status_code == 200
        assert c.post(ROUTES[0], json=other, headers={"X-API-Key": key}).status_code == 403
        assert c.post(ROUTES[0], json={"mdtrt_d": []}, headers={"X-API-Key": key}).status_code == 422
        for _ in range(3):
            assert c.post(ROUTES[0], json=claim).status_code == 401
        audit.get_guard(c.app).log.flush()
    rows = _calls(city[0], f"key_id = '{key_id}' OR outcome = 'unauthenticated'")
    ok = next(r for r in rows if r["outcome"] == "ok" and r["psn_no"] == claim["mdtrt_d"][0]["psn_no"])
    assert ok["fixmedins_code"] == institution(claim) and ok["mdtrt_id"] == claim["mdtrt_d"][0]["mdtrt_id"]
    assert ok["status"] == 200 and ok["hit_count"] >= 1 and ok["client"] and ok["at"] is not None
    assert {r["outcome"] for r in rows if r["key_id"] == key_id} >= {"ok", "forbidden", "invalid"}
    forbidden = next(r for r in rows if r["outcome"] == "forbidden")
    assert forbidden["psn_no"] == other["mdtrt_d"][0]["psn_no"]  # who tried to read whom
    assert sum(r["count"] for r in rows if r["outcome"] == "unauthenticated") >= 3


def test_rate_limits_answer_429_with_retry_after(
    city: tuple, api_key: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # slow enough that no token comes back meanwhile, even when the first call waits ~20 s for the auditor
    # process to start on a loaded machine
    monkeypatch.setenv("FUNDGUARD_RT_KEY_RATE", "0.01")
    monkeypatch.setenv("FUNDGUARD_RT_KEY_BURST", "2")
    claim = next(iter(city[2].values()))
    with TestClient(create_audit_app(city[0]), headers=headers(api_key, claim)) as c:
        codes = [c.post(ROUTES[0], json={"mdtrt_d": []}).status_code for _ in range(4)]
        assert codes == [422, 422, 429, 429]
        r = c.post(ROUTES[0], json=claim)
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 100
        assert r.json()["detail"]["code"] == "rate_limited" and r.json()["detail"]["zh"]
    monkeypatch.setenv("FUNDGUARD_RT_CLIENT_RATE", "0.01")
    monkeypatch.setenv("FUNDGUARD_RT_CLIENT_BURST", "3")
    with TestClient(create_audit_app(city[0])) as c:  # per client, keys or not
        assert [c.post(ROUTES[0], json={}).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_a_full_pool_answers_busy_not_5xx(
    city: tuple, api_key: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNDGUARD_RT_QUEUE", "1")
    claim = next(iter(city[2].values()))
    codes: list[int] = []
    with TestClient(create_audit_app(city[0]), headers=headers(api_key, claim)) as c:
        assert c.post(ROUTES[0], json=claim).status_code == 200  # the auditor is built

        def post() -> None:
            codes.append(c.post(ROUTES[0], json=claim).status_code)

        threads = [threading.Thread(target=post) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert 200 in codes and 429 in codes and set(codes) <= {200, 429}


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000,
        b'{"a":' * 50 + b"1" + b"}" * 50,
        b'{"mdtrt_d": [{"mdtrt_id": "\\ud800", "psn_no": "1"}], "fee_list_d": [{}]}',
        b'{"infno": "3101", "input": {"data": {"trig_scen": "\\udfff"}}}',
        b"\xff\xfe{",
    ],
    ids=["deep-brackets", "deep-objects", "surrogate-claim", "surrogate-3101", "not-utf8"],
)
def test_hostile_bodies_get_422_never_5xx(
    city: tuple, client: TestClient, api_key: Callable, body: bytes
) -> None:
    claim = next(iter(city[2].values()))
    for path in ROUTES:
        r = client.post(
            path, content=body, headers={**headers(api_key, claim), "content-type": "application/json"}
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"]["zh"] and r.json()["detail"]["en"]


def test_the_full_app_guards_the_real_time_routes(city: tuple, api_key: Callable) -> None:
    claim = next(iter(city[2].values()))
    with TestClient(create_app(city[0])) as c:
        assert c.post(ROUTES[0], json=claim).status_code == 401
        r = c.post(ROUTES[0], json=claim, headers=headers(api_key, claim))
        assert r.status_code == 200, r.text
        spec = c.get("/api/openapi.json").json()
        assert "429" in spec["paths"][ROUTES[0]]["post"]["responses"]
        assert spec["paths"][ROUTES[0]]["post"]["security"]


def test_apikeys_cli_issue_list_rotate_revoke(city: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(realtime_guard, "KEY_CACHE_SECONDS", 0.0)
    ws = city[0]
    claim = next(iter(city[2].values()))
    code = institution(claim)
    runner = CliRunner(env={"COLUMNS": "200"})
    out = runner.invoke(cli, ["apikeys", "issue", code, "--name", "HIS 住院", "-w", str(ws)])
    assert out.exit_code == 0, out.output
    key = next(line for line in out.output.splitlines() if line.startswith("fgk_"))
    key_id = key.split("_")[1]
    assert runner.invoke(cli, ["apikeys", "issue", "H00000000000", "-w", str(ws)]).exit_code == 2
    with TestClient(create_audit_app(ws)) as c:
        assert c.post(ROUTES[0], json=claim, headers={"X-API-Key": key}).status_code == 200
        audit.get_guard(c.app).log.flush()
        listing = runner.invoke(cli, ["apikeys", "list", "--institution", code, "-w", str(ws)]).output
        assert key_id in listing and "有效" in listing and key.split("_", 2)[2] not in listing
        out = runner.invoke(cli, ["apikeys", "rotate", key_id, "--grace-minutes", "0", "-w", str(ws)])
        assert out.exit_code == 0, out.output
        new = next(line for line in out.output.splitlines() if line.startswith("fgk_"))
        assert c.post(ROUTES[0], json=claim, headers={"X-API-Key": key}).status_code == 401
        assert c.post(ROUTES[0], json=claim, headers={"X-API-Key": new}).status_code == 200
        assert runner.invoke(cli, ["apikeys", "revoke", new.split("_")[1], "-w", str(ws)]).exit_code == 0
        assert c.post(ROUTES[0], json=claim, headers={"X-API-Key": new}).status_code == 401
    engine = sa.create_engine(database_url(ws))
    with engine.connect() as con:
        stored = con.execute(
            sa.text("SELECT secret_hash FROM api_keys WHERE key_id = :k"), {"k": key_id}
        ).scalar()
    engine.dispose()
    assert stored and key.split("_", 2)[2] not in stored and len(stored) == 64  # hashed, never the key
