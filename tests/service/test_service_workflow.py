"""The state machines as data (``supervision.workflow``) and the roles (``supervision.roles``), without a database."""

from __future__ import annotations

import pytest

from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import ROLES, SUPERVISOR_ROLES, has_permission


@pytest.mark.parametrize("machine", list(wf.MACHINES.values()), ids=list(wf.MACHINES))
def test_machine_is_well_formed(machine: wf.Machine) -> None:
    reachable = {"pending_initial", "filed", "pending_approval"} & set(machine.states)
    for t in machine.transitions:
        assert set(t.sources) <= set(machine.states), t.action
        assert callable(t.target) or t.target in ("", *machine.states), t.action
        assert set(t.roles) <= {*ROLES, "system"}, t.action
        if isinstance(t.target, str) and t.target:
            reachable.add(t.target)
    for state in machine.states:
        exits = [t for t in machine.transitions if state in t.sources and t.target != ""]
        if state in machine.final:
            assert not [t for t in exits if set(t.roles) - {"system"}], (
                f"{state} is final but humans can leave it"
            )
        else:
            assert exits, f"{state} is a dead end"
    routed = {"legal_review", "prior_notice", "serving"}  # targets chosen by a route function
    assert set(machine.states) <= reachable | routed


def test_each_role_sees_its_own_actions() -> None:
    hospital = {a["action"] for a in wf.allowed_actions(wf.FLAG_FLOW, "pending_appeal", "hospital")}
    assert hospital == {"appeal", "accept"}
    assert wf.allowed_actions(wf.FLAG_FLOW, "pending_initial", "hospital") == []
    assert wf.allowed_actions(wf.FLAG_FLOW, "pending_initial", "third_party_inspector") == []
    legal = {a["action"] for a in wf.allowed_actions(wf.CASE_FLOW, "legal_review", "legal_reviewer")}
    assert legal == {"legal_review_pass", "return_investigation"}
    for role in SUPERVISOR_ROLES:
        assert "open_case" in {
            a["action"] for a in wf.allowed_actions(wf.FLAG_FLOW, "pending_handling", role)
        }


def test_apply_explains_refusals_in_both_languages() -> None:
    with pytest.raises(wf.InvalidTransition) as unknown:
        wf.apply(wf.FLAG_FLOW, "pending_initial", "fly", "county_supervisor")
    assert "未知操作" in unknown.value.zh and "unknown action" in unknown.value.en
    with pytest.raises(wf.RoleNotAllowed):
        wf.apply(wf.FLAG_FLOW, "pending_initial", "initial_confirm", "hospital")
    with pytest.raises(wf.InvalidTransition, match="核实违规金额"):
        wf.apply(wf.FLAG_FLOW, "verifying", "verify_confirm", "agency_reviewer", {"confirmed_amount": "-5"})
    target, values, _ = wf.apply(
        wf.FLAG_FLOW, "verifying", "verify_confirm", "agency_reviewer", {"confirmed_amount": "12.5"}
    )
    assert target == "pending_handling" and str(values["confirmed_amount"]) == "12.5"
    target, values, _ = wf.apply(wf.CASE_FLOW, "filed", "start_investigation", "city_supervisor",
                                 {"officers": "张三，李四"})  # fmt: skip
    assert target == "investigating" and values["officers"] == ["张三", "李四"]
    assert wf.apply(wf.CASE_FLOW, "case_review", "propose", "city_supervisor", {"article": "38"},
                    {"needs_legal_review": True})[0] == "legal_review"  # fmt: skip


def test_permissions() -> None:
    assert has_permission("hospital", "clue.appeal") and not has_permission("hospital", "case.view")
    assert not has_permission("third_party_inspector", "patient.unmasked")
    assert has_permission("province_supervisor", "rule.pause") and not has_permission(
        "county_supervisor", "rule.pause"
    )
    assert {r.name_zh for r in ROLES.values()} >= {"省级监管员", "市级监管员", "县级监管员", "经办审核员", "法制审核员",
                                                    "医院医保办", "第三方检查员", "管理员"}  # fmt: skip
