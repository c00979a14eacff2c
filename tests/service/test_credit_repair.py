"""信用修复 through the real service and workflow engine, per role: the hospital applies for its own institution
(never another's, never for an insured person), the clean period since the last adverse fact gates acceptance,
the applicant never reviews and the reviewer never approves, the 负责人 decides; approval takes the subject off
the blacklist, restores its grade, lowers its 双随机 weight, survives a recompute, and leaves record entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from fundguard.service import credit
from fundguard.service.errors import InvalidTransition, NotFound, PermissionDenied
from fundguard.service.models import BlacklistEntry, RecordEntry

if TYPE_CHECKING:
    from tests.service.conftest import World

APPLICATION = {"rectification": "已退回违规费用并完成全院自查整改", "evidence": ["退款凭证", "整改报告"],
               "pledge": "严格遵守服务协议，如有违反自愿接受处理"}  # fmt: skip


def _act(world: World, who: str, rid: int, action: str, **fields: object) -> dict:
    with world.db.session() as s:
        version = credit.get_repair(s, world.actor(who), rid)["version"]
        return credit.act_on_repair(s, world.actor(who), rid, action, version, **fields)


def _listed(world: World) -> str:
    inst = world.actor("yiyuan").fixmedins_code
    with world.db.session() as s:
        credit.recompute(s, world.actor("shi"))
        credit.add_to_blacklist(s, world.actor("shi"), subject_type="institution", subject_id=inst,
                                reason="拒不配合飞行检查")  # fmt: skip
        credit.recompute(s, world.actor("shi"))
        assert credit.history(s, world.actor("shi"), "institution", inst)[0]["grade"] == "D"
    return inst


def test_repair_process_per_role(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    inst = _listed(world)
    with world.db.session() as s:
        weight_listed = credit.draw_weights(s, world.actor("shi"))[inst]
        with pytest.raises(PermissionDenied):  # a masked third party reads grades, never applies
            credit.apply_repair(s, world.actor("disanfang"), subject_type="institution", subject_id=inst,
                                **APPLICATION)  # fmt: skip
        with pytest.raises(PermissionDenied):
            credit.apply_repair(
                s, world.actor("yiyuan"), subject_type="insured", subject_id="P1", **APPLICATION
            )
        with pytest.raises(InvalidTransition, match="无需修复"):  # a top-graded subject has nothing to repair
            other = next(g["subject_id"] for g in credit.list_grades(s, world.actor("shi"), size=100)["items"]
                         if g["grade"] == "A" and g["subject_id"] != inst)  # fmt: skip
            credit.apply_repair(
                s, world.actor("shi"), subject_type="institution", subject_id=other, **APPLICATION
            )
        app = credit.apply_repair(s, world.actor("yiyuan"), subject_type="institution", subject_id=inst,
                                  **APPLICATION)  # fmt: skip
        with pytest.raises(PermissionDenied, match="管辖范围"):  # another institution's subject
            credit.apply_repair(s, world.actor("yiyuan"), subject_type="institution", subject_id=other,
                                **APPLICATION)  # fmt: skip
    assert app["status"] == "applied" and app["blacklist_id"] and app["eligible_on"] == "2026-09-02"
    assert [a["action"] for a in app["actions"]] == ["withdraw"]  # the hospital may only withdraw
    with world.db.session() as s, pytest.raises(InvalidTransition, match="办理中"):
        credit.apply_repair(s, world.actor("shi"), subject_type="institution", subject_id=inst, **APPLICATION)
    with pytest.raises(InvalidTransition, match="2026-09-02 起方可修复"):  # the clean period has not run
        _act(world, "shi", app["id"], "accept")
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-09-10")
    with pytest.raises(PermissionDenied):  # the hospital cannot accept its own application
        _act(world, "yiyuan", app["id"], "accept")
    _act(world, "shi", app["id"], "accept", comment="材料齐全")
    _act(world, "shi", app["id"], "recommend", comment="整改到位，建议同意")
    with pytest.raises(PermissionDenied):  # only the 负责人 approves
        _act(world, "shi2", app["id"], "approve")
    done = _act(world, "fuzeren", app["id"], "approve", comment="同意")
    assert done["status"] == "approved" and done["grade_before"] == "D" and done["grade_after"] != "D"
    assert [t["action"] for t in done["timeline"]] == ["apply", "accept", "recommend", "approve"]
    with world.db.session() as s:
        entry = s.get(BlacklistEntry, app["blacklist_id"])
        assert entry.left_on is not None and "信用修复" in entry.left_reason
        assert credit.history(s, world.actor("shi"), "institution", inst)[0]["reasons"][0]["item"] == "repair"
        assert credit.draw_weights(s, world.actor("shi"))[inst] < weight_listed
        credit.recompute(s, world.actor("shi"))  # the repaired listing does not come back on recompute
        assert credit.history(s, world.actor("shi"), "institution", inst)[0]["grade"] != "D"
        actions = set(s.execute(select(RecordEntry.action)).scalars())
        assert {"credit.repair_apply", "credit.repair", "credit.blacklist_leave"} <= actions
        listing = credit.list_repairs(s, world.actor("yiyuan"))
        assert [r["id"] for r in listing["items"]] == [app["id"]]  # the hospital sees its own application


def test_separation_of_duties_when_the_bureau_applies(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    inst = _listed(world)
    with world.db.session() as s:
        app = credit.apply_repair(s, world.actor("shi"), subject_type="institution", subject_id=inst,
                                  **APPLICATION)  # fmt: skip
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-09-10")
    with pytest.raises(PermissionDenied, match="申请人不能审核"):
        _act(world, "shi", app["id"], "accept")
    _act(world, "shi2", app["id"], "accept")
    _act(world, "shi2", app["id"], "recommend", comment="同意")
    rejected = _act(world, "fuzeren", app["id"], "reject", comment="整改佐证不足")
    assert rejected["status"] == "rejected" and rejected["decided_on"] == "2026-09-10"
    with world.db.session() as s:
        assert s.get(BlacklistEntry, app["blacklist_id"]).left_on is None  # still listed
        with pytest.raises(NotFound):  # outside the scope reads as absent
            other = world.actor("yiyuan")
            credit.get_repair(s, other, app["id"] + 1000)
