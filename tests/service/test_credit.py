"""Credit through the real service: a decided case and a suspended doctor change the grades (with reasons and
history), the draw weights follow, the blacklist is entered by rule, exported and disclosed masked; a hospital
never sees insured persons' grades, a masked third party sees them masked."""

from __future__ import annotations

import datetime as dt

import pytest

from fundguard.service import credit, points
from fundguard.service.errors import NotFound, PermissionDenied
from fundguard.service.models import Case
from tests.service.conftest import World
from tests.service.test_points import _act, _register

D = dt.date.fromisoformat


def _decided_case(world: World, behaviour: str, **party: str) -> None:
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        s.add(Case(number=f"信用〔2026〕{behaviour}{len(party)}", title="测试", status="serving",
                   fixmedins_code=hosp.fixmedins_code, party_name=party.get("name", "测试医院"), admdvs=hosp.admdvs,
                   party_type="individual" if party else "organisation", party_id=party.get("psn_no", ""),
                   opened_at=D("2026-01-10"), deadline=D("2026-04-10"), step_started=D("2026-02-20"),
                   behaviour_code=behaviour, decision_json='{"decided_on": "2026-02-20"}', created_by="xian"))  # fmt: skip


def _grade(world: World, who: str, kind: str, code: str) -> dict:
    with world.db.session() as s:
        return credit.history(s, world.actor(who), kind, code)[0]


def test_grades_follow_cases_and_points_and_change_draw_weights(world: World) -> None:
    hosp = world.actor("yiyuan")
    inst = hosp.fixmedins_code
    with world.db.session() as s:
        credit.recompute(s, world.actor("shi"))
        before = credit.draw_weights(s, world.actor("shi"))[inst]
    first = _grade(world, "shi", "institution", inst)
    _decided_case(world, "A38_2")
    _register(world)
    with world.db.session() as s:
        rec = points.score(s, world.actor("shi"), national_code="D123456789", fixmedins_code=inst, band=3,
                           responsibility="主要", decided_on=D("2026-02-20"), reason="协议处理")  # fmt: skip
    _act(world, "yiyuan", rec["id"], "waive")
    with world.db.session() as s:
        out = credit.recompute(s, world.actor("shi"))
        after = credit.draw_weights(s, world.actor("shi"))[inst]
    now = _grade(world, "shi", "institution", inst)
    items = {r["item"] for r in now["reasons"]}
    assert {"case_article_38", "staff_suspended", "staff_share_over_ratio"} <= items
    assert now["score"] < first["score"] and now["previous"] == first["grade"]
    assert after > before  # lower grades are drawn more often
    assert any(c["subject_id"] == inst for c in out["changed"])
    doctor = _grade(world, "yiyuan", "staff", "D123456789")
    assert doctor["grade"] == "D" and doctor["subject_name"] == "王医生"
    with world.db.session() as s:
        dist = credit.distribution(s, world.actor("shi"))
        assert dist["staff"]["D"] == 1 and sum(dist["institution"].values()) >= 1


def test_blacklist_by_rule_export_disclosure_and_repair(world: World) -> None:
    _decided_case(world, "A40_3")
    _decided_case(world, "A41_F", name="张三丰", psn_no="P00000000001")
    inst = world.actor("yiyuan").fixmedins_code
    third = world.actor("disanfang")  # logged in before the session below (SQLite: one writer)
    with world.db.session() as s:
        credit.recompute(s, world.actor("shi"))
    assert _grade(world, "shi", "institution", inst)["grade"] == "D"
    with world.db.session() as s:
        listed = credit.list_blacklist(s, world.actor("shi"))["items"]
        assert {(e["subject_type"], e["subject_id"]) for e in listed} == {
            ("institution", inst), ("insured", "P00000000001")}  # fmt: skip
        public = credit.public_blacklist(s)
        assert {e["subject_name"] for e in public if e["subject_type"] == "insured"} == {"张**"}
        doc = credit.punishment.build(s, world.actor("shi"))
        assert {(e["subject_type"], e["subject_id"], e["subject_name"]) for e in doc["entries"]} >= {
            ("insured", "P00000000001", "张三丰")}  # partners get the names unmasked  # fmt: skip
        # the hospital sees its own listing, never the insured person's, nor their grade
        hosp_view = credit.list_blacklist(s, world.actor("yiyuan"))["items"]
        assert [e["subject_type"] for e in hosp_view] == ["institution"]
        with pytest.raises(NotFound):
            credit.history(s, world.actor("yiyuan"), "insured", "P00000000001")
        with pytest.raises(PermissionDenied):
            credit.punishment.build(s, world.actor("yiyuan"))
        # a masked third party reads the grades with persons masked, and cannot export the list
        masked = credit.history(s, third, "insured", "P00000000001")[0]
        assert masked["subject_name"] == "张**" and masked["subject_id"] != "P00000000001"
        assert "P00000000001" not in str(credit.list_grades(s, third, subject_type="insured"))
        with pytest.raises(PermissionDenied):
            credit.punishment.build(s, third)
        # leaving the list has no shortcut: only 信用修复 takes a subject off (test_credit_repair)
        assert not hasattr(credit, "leave_blacklist")
