"""The real-time audit routes over HTTP: a real uvicorn server for the claims of a generated city, the
batch's hits back for each, 3101 requests and answers, bad claims → 422 with a bilingual message."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from audit_city import headers
from audit_city import hit_key as _key
from fastapi.testclient import TestClient

from fundguard.api.audit import create_audit_app
from fundguard.data.ingest import ingest
from fundguard.engine.payload3101 import to_3101
from fundguard.service.db import database_url


def _own_lines(hits: list[tuple], claim: dict) -> list[tuple]:
    """The batch's hits as an institution sees them: only the fee lines of its own claim."""
    mine = {r["bkkp_sn"] for r in claim["fee_list_d"]}
    return sorted((r, tuple(s for s in sns if s in mine), a) for r, sns, a in hits)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(city: tuple) -> Iterator[str]:
    """A real uvicorn server over ``create_audit_app`` in a background thread; yields its base URL."""
    ws = city[0]
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_audit_app(ws), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_claims_get_the_batch_hits(city: tuple, server: str, api_key) -> None:
    _, by_visit, claims, _ = city
    with httpx.Client(base_url=server, timeout=60) as client:
        for v, claim in claims.items():
            r = client.post("/api/audit/claim", json=claim, headers=headers(api_key, claim))
            assert r.status_code == 200, r.text
            body = r.json()
            got = sorted(_key(h["rule_id"], h["bkkp_sn"], h["amount"]) for h in body["hits"])
            assert got == _own_lines(by_visit.get(v, []), claim), v
            assert body["mdtrt_id"] == v and body["stage"] == "事中" and body["hit_count"] == len(got)
            assert body["elapsed_ms"] >= body["audit_ms"]["total"] > 0
            for h in body["hits"]:
                assert h["evidence_zh"] and h["rule_name"] and h["legal_basis"] and h["severity"]
                assert h["result_type"] in ("可疑", "明确违规")


def test_3101_request_and_answer(city: tuple, server: str, api_key) -> None:
    _, by_visit, claims, _ = city
    v = next(v for v in claims if v in by_visit)
    data = to_3101(claims[v], trig_scen="8", task_id="T-1")
    message = {"infno": "3101", "input": {"data": data}}
    with httpx.Client(base_url=server, timeout=60, headers=headers(api_key, claims[v])) as client:
        r = client.post("/api/audit/3101", json=message)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["infcode"] == "0" and out["stage"] == "事中" and out["trig_scen_name"] == "住院结算"
        result = out["output"]["result"]
        got = sorted(
            _key(e["rule_id"], [d["rx_id"] for d in e["judge_result_detail_dtos"]], e["vola_amt"])
            for e in result
        )
        assert got == _own_lines(by_visit[v], claims[v])
        assert all(e["vola_cont"] and e["rule_name"] and e["task_id"] == "T-1" for e in result)
        one = result[0]["rule_id"]
        r = client.post("/api/audit/3101", json={**data, "rule_ids": [one]})  # the data part alone
        assert r.status_code == 200 and {e["rule_id"] for e in r.json()["output"]["result"]} == {one}


def _bad(client: httpx.Client, path: str, **kw: object) -> dict:
    r = client.post(path, **kw)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert set(detail) == {"code", "zh", "en"} and detail["zh"] and detail["en"]
    return detail


def test_bad_payloads_get_422(city: tuple, server: str, api_key) -> None:
    _, _, claims, _ = city
    claim = next(iter(claims.values()))
    line = claim["fee_list_d"][0]
    with httpx.Client(base_url=server, timeout=60, headers=headers(api_key, claim)) as client:
        d = _bad(
            client, "/api/audit/claim", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert "JSON" in d["zh"] and d["code"] == "invalid_claim"
        d = _bad(client, "/api/audit/claim", json={**claim, "fee_list_d": []})
        assert "fee_list_d" in d["zh"] and "fee line" in d["en"]
        d = _bad(client, "/api/audit/claim", json={**claim, "fee_list_d": [{**line, "cnt": "两盒"}]})
        assert "cnt" in d["zh"] and "无法解析" in d["zh"] and "cannot be parsed" in d["en"]
        d = _bad(client, "/api/audit/claim", json=[claim])
        assert "字典" in d["zh"]
        d = _bad(client, "/api/audit/claim", params={"stage": "事后"}, json=claim)
        assert d["code"] == "invalid_stage"
        data = to_3101(claim)
        d = _bad(client, "/api/audit/3101", json={**data, "trig_scen": "0"})
        assert d["code"] == "invalid_3101" and "trig_scen" in d["en"]
        d = _bad(client, "/api/audit/3101", json={**data, "rule_ids": ["NO-SUCH-RULE"]})
        assert "NO-SUCH-RULE" in d["zh"]
        # still serving after the errors
        assert client.post("/api/audit/claim", json=claim).status_code == 200


def test_local_rule_files_and_missing_store(city: tuple, tmp_path: Path, api_key) -> None:
    ws, by_visit, claims, _ = city
    v = next(v for v in claims if v in by_visit)
    off = sorted({k[0] for k in by_visit[v]})[0]
    local = tmp_path / "local.yaml"
    local.write_text(f"- override: {off}\n  enabled: false\n", encoding="utf-8")
    with TestClient(create_audit_app(ws, [local]), headers=headers(api_key, claims[v])) as client:
        r = client.post("/api/audit/claim", json=claims[v])
        assert r.status_code == 200
        got = sorted(_key(h["rule_id"], h["bkkp_sn"], h["amount"]) for h in r.json()["hits"])
        assert got == sorted(k for k in by_visit[v] if k[0] != off)
    empty = create_audit_app(tmp_path / "empty", database_url=database_url(ws))
    with TestClient(empty, headers=headers(api_key, claims[v])) as client:
        r = client.post("/api/audit/claim", json=claims[v])
        assert r.status_code == 503 and r.json()["detail"]["code"] == "auditor_unavailable"


def test_running_server_applies_a_pause_within_seconds(city: tuple, server: str, api_key) -> None:
    """A maintainer's pause (``<ws>/rules/paused.yaml``) reaches the running server's auditor process at its
    next rules check (every ``RULES_CHECK_SECONDS``), without a restart; taking it back restores the rule."""
    ws, by_visit, claims, _ = city
    v = next(v for v in claims if by_visit.get(v))
    rule_id = by_visit[v][0][0]
    paused = ws / "rules" / "paused.yaml"
    paused.parent.mkdir(exist_ok=True)

    def rules_hit(client: httpx.Client) -> set[str]:
        r = client.post("/api/audit/claim", json=claims[v], headers=headers(api_key, claims[v]))
        assert r.status_code == 200, r.text
        return {h["rule_id"] for h in r.json()["hits"]}

    def wait_until(client: httpx.Client, present: bool) -> float:
        t0 = time.monotonic()
        while (rule_id in rules_hit(client)) != present:
            assert time.monotonic() - t0 < 15, f"rule {rule_id} still {'absent' if present else 'present'}"
            time.sleep(0.2)
        return time.monotonic() - t0

    with httpx.Client(base_url=server, timeout=60) as client:
        assert rule_id in rules_hit(client)
        try:
            paused.write_text(f"- override: {rule_id}\n  enabled: false\n", encoding="utf-8")
            assert wait_until(client, present=False) < 10
        finally:
            paused.unlink(missing_ok=True)
        assert wait_until(client, present=True) < 10


def test_new_imports_reload_history(
    city: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_key
) -> None:
    """After an import the next request (past the check interval) reloads the auditor's history: the store
    fingerprint the answer carries changes. Runs last: it adds a person to the city's store."""
    ws, _, claims, _ = city
    monkeypatch.setenv("FUNDGUARD_RT_STALE_SECONDS", "0")  # read by the auditor's process when it starts
    claim = next(iter(claims.values()))
    with TestClient(create_audit_app(ws), headers=headers(api_key, claim)) as client:
        r = client.post("/api/audit/claim", json=claim)
        assert r.status_code == 200
        before = r.json()["audit_ms"]["store"]
        f = tmp_path / "psn_info_b.csv"
        f.write_text("psn_no,gend,brdy,insutype,insu_admdvs\n99000000000000000001,1,1980-01-01,310,890104\n")
        ingest([f], ws, progress=False)
        r = client.post("/api/audit/claim", json=claim)
        assert r.status_code == 200 and r.json()["audit_ms"]["store"] != before


def test_two_servers_ending_at_once_close_the_auditor_once(
    city: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One app served by two servers (as the benchmark serves it) ends twice at the same moment: the auditor's
    pool is shut down once, not twice concurrently (its pipes closed twice: "Bad file descriptor")."""
    from fundguard.api import audit
    from fundguard.api.realtime_guard import RealtimeGuard

    closed: list[int] = []

    def slow_close(self: RealtimeGuard) -> None:
        closed.append(id(self))
        time.sleep(0.3)  # the other server's end comes while this one is closing

    monkeypatch.setattr(RealtimeGuard, "close", slow_close)
    app = create_audit_app(city[0])
    guard = audit.get_guard(app)
    ends = [threading.Thread(target=audit.shutdown, args=(app,)) for _ in range(2)]
    for t in ends:
        t.start()
        time.sleep(0.05)
    for t in ends:
        t.join()
    assert closed == [id(guard)] and app.state.realtime_guard is None
    monkeypatch.undo()
    guard.close()
