"""医保支付资格 in real time (issue 15, "wired into settlement"): the demo hospital's suspended doctor
(``seed_demo_points``) gets the fund share of their lines refused at 事中 in both answers, emergency visits settle
with a note, 事前 warns, and a doctor in good standing is not named."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fundguard.api.audit import create_audit_app
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine.payload3101 import to_3101
from fundguard.engine.realtime import claim_from_store
from fundguard.service.db import Database, migrate
from fundguard.service.models import Case, ExternalQualification, User
from fundguard.service.realtime_keys import issue_key
from fundguard.service.seed import seed_demo, seed_demo_points
from fundguard.service.timing import today
from fundguard.synth import CityConfig, generate_city

OUTSIDER = "D110105999"
"""A doctor of another region, suspended there (exchange file), not registered here."""


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict, str, dict]]:
    """The audit app, a claim of the demo hospital dated today, the hospital's code and its key's headers."""
    ws = tmp_path_factory.mktemp("rt-points") / "ws"
    generate_city(ws / "city", CityConfig(seed=7, fee_lines=8_000, fmt="parquet"), progress=False)
    ingest([d for d in sorted((ws / "city").iterdir()) if d.is_dir()], ws, progress=False)
    url = f"sqlite:///{(ws / 'service.db').resolve()}"
    migrate(url)
    db = Database(url)
    with db.session() as s:
        seed_demo(s, ws)
    with db.session() as s:
        assert seed_demo_points(s) == 2
        code = s.execute(select(User.fixmedins_code).where(User.username == "yiyuan")).scalar_one()
        key = issue_key(s, code, name="测试", workspace=ws)[1]
        s.add(ExternalQualification(national_code=OUTSIDER, status="suspended", since=dt.date(2020, 1, 1),
                                    until=dt.date(2099, 12, 31), source_admdvs="320102", reason="外地通报原因",
                                    imported_by="test"))  # fmt: skip
    db.dispose()
    store = Store(ws).connect()
    try:
        visit = store.execute(
            "SELECT min(mdtrt_id) FROM mdtrt_d WHERE fixmedins_code = ? AND med_type NOT IN ('13', '24')",
            [code],
        ).fetchone()[0]
        claim = claim_from_store(store, visit)
    finally:
        store.close()
    day = today().isoformat()  # the HIS settles today, inside the seeded suspension
    claim["mdtrt_d"][0].update(begntime=f"{day} 08:00:00", endtime=f"{day} 18:00:00")
    for line in claim["fee_list_d"]:
        line.update(fee_ocur_time=f"{day} 10:00:00", bilg_dr_code=f"D{code[-6:]}003", bilg_dr_name="赵敏")
    with TestClient(create_audit_app(ws, database_url=url)) as client:
        yield client, claim, code, {"X-API-Key": key}


def _with_doctor(claim: dict, national_code: str, name: str, med_type: str | None = None) -> dict:
    out = copy.deepcopy(claim)
    out["fee_list_d"][0].update(bilg_dr_code=national_code, bilg_dr_name=name)
    if med_type:
        out["mdtrt_d"][0]["med_type"] = med_type
    return out


def _points(hits: list[dict[str, Any]], key: str = "rule_id") -> list[dict[str, Any]]:
    return [h for h in hits if h[key].startswith("PTS-")]


def test_suspended_doctor_is_refused_in_both_answers(setting: tuple) -> None:
    client, claim, code, h = setting
    suspended = _with_doctor(claim, f"D{code[-6:]}001", "王建国")
    line = suspended["fee_list_d"][0]
    r = client.post("/api/audit/claim", json=suspended, headers=h)
    assert r.status_code == 200, r.text
    [hit] = _points(r.json()["hits"])
    assert hit["rule_id"] == "PTS-001" and hit["bkkp_sn"] == [str(line["bkkp_sn"])]
    assert Decimal(hit["amount"]) == Decimal(str(line["det_item_fee_sumamt"])) > 0
    ev = hit["evidence_zh"]
    assert (
        ev.startswith(f"开单医师王某（国家医保医师代码 D{code[-6:]}001）医保支付资格暂停至")
        and "不予支付" in ev
    )
    assert "串换" not in ev  # the reason of the decision is not the hospital's to read here
    r = client.post("/api/audit/3101", json=to_3101(suspended), headers=h)
    assert r.status_code == 200, r.text
    [entry] = _points(r.json()["output"]["result"])
    assert (entry["vola_cont"], entry["vola_amt"]) == (ev, hit["amount"])
    assert [d["rx_id"] for d in entry["judge_result_detail_dtos"]] == [str(line["bkkp_sn"])]


def test_emergency_settles_with_a_note_and_good_standing_is_silent(setting: tuple) -> None:
    client, claim, code, h = setting
    emergency = _with_doctor(claim, f"D{code[-6:]}001", "王建国", med_type="13")
    r = client.post("/api/audit/claim", json=emergency, headers=h)
    assert r.status_code == 200, r.text
    [note] = _points(r.json()["hits"])
    assert note["amount"] == "0.00" and "照常结算" in note["evidence_zh"]
    r = client.post("/api/audit/claim", json=claim, headers=h)  # 赵敏: registered, no points
    assert r.status_code == 200 and _points(r.json()["hits"]) == []
    r = client.post("/api/audit/3101", json=to_3101(claim), headers=h)
    assert r.status_code == 200 and _points(r.json()["output"]["result"]) == []


def test_before_the_visit_the_hospital_is_warned(setting: tuple) -> None:
    client, claim, code, h = setting
    suspended = _with_doctor(claim, f"D{code[-6:]}001", "王建国")
    r = client.post("/api/audit/claim", params={"stage": "事前"}, json=suspended, headers=h)
    assert r.status_code == 200, r.text
    [warn] = _points(r.json()["hits"])
    assert (
        warn["rule_id"] == "PTS-002" and warn["amount"] == "0.00" and "请更换开单医师" in warn["evidence_zh"]
    )


def test_only_the_ordering_doctor_and_own_staff_are_looked_up(setting: tuple) -> None:
    client, claim, code, h = setting
    performer = copy.deepcopy(claim)
    performer["fee_list_d"][0]["acord_dr_code"] = OUTSIDER  # not the hospital's staff: not its to learn
    performer["fee_list_d"][1]["acord_dr_code"] = f"D{code[-6:]}001"  # its own suspended doctor
    r = client.post("/api/audit/claim", json=performer, headers=h)
    [hit] = _points(r.json()["hits"])
    assert hit["evidence_zh"].startswith(f"执行医师（国家医保医师代码 D{code[-6:]}001）")
    r = client.post("/api/audit/claim", json=_with_doctor(claim, OUTSIDER, "张三"), headers=h)
    [hit] = _points(
        r.json()["hits"]
    )  # named as the claim's ordering doctor: refused, with no other region's reason
    assert (
        OUTSIDER in hit["evidence_zh"]
        and "外地通报原因" not in hit["evidence_zh"]
        and "320102" not in hit["evidence_zh"]
    )


def test_an_insured_person_with_settlement_suspended_pays_in_full(setting: tuple) -> None:
    """条例 Art. 41: a decided case suspended the patient's 联网结算 for 6 months: 事中 refuses the whole claim's
    direct settlement (the person pays and claims back), 事前 warns, and neither names the case; once the period
    has run out (the case removed here, as if decided long ago) the claim settles."""
    client, claim, code, h = setting
    psn_no = claim["mdtrt_d"][0]["psn_no"]
    decided = today() - dt.timedelta(days=10)
    db = client.app.state.db
    with db.session() as s:
        s.add(Case(number="医保罚〔2026〕冒名1号", title="冒名就医", status="serving", fixmedins_code=code,
                   party_name="参保人", admdvs="000000", party_type="individual", party_id=psn_no,
                   opened_at=decided, deadline=decided, step_started=decided, behaviour_code="A41_F",
                   proposal_json='{"suspension_months": 6}', created_by="test",
                   decision_json=f'{{"decided_on": "{decided.isoformat()}"}}'))  # fmt: skip
    try:
        r = client.post("/api/audit/claim", json=claim, headers=h)
        assert r.status_code == 200, r.text
        [hit] = [x for x in r.json()["hits"] if x["rule_id"] == "CRD-001"]
        total = sum(Decimal(str(ln["det_item_fee_sumamt"])) for ln in claim["fee_list_d"])
        assert Decimal(hit["amount"]) == total > 0 and "全额垫付" in hit["evidence_zh"]
        assert "冒名" not in hit["evidence_zh"]  # the decision is not the hospital's to read here
        r = client.post("/api/audit/3101", json=to_3101(claim), headers=h)
        [entry] = [x for x in r.json()["output"]["result"] if x["rule_id"] == "CRD-001"]
        assert entry["vola_amt"] == hit["amount"] and entry["patn_id"] == psn_no
        r = client.post("/api/audit/claim", params={"stage": "事前"}, json=claim, headers=h)
        [warn] = [x for x in r.json()["hits"] if x["rule_id"] == "CRD-001"]
        assert warn["amount"] == "0.00"
    finally:
        with db.session() as s:
            s.query(Case).filter(Case.party_id == psn_no, Case.behaviour_code == "A41_F").delete()
    r = client.post("/api/audit/claim", json=claim, headers=h)
    assert not [x for x in r.json()["hits"] if x["rule_id"] == "CRD-001"]
