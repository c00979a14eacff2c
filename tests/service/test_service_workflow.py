"""The state machines as data (``supervision.workflow``) and the roles (``supervision.roles``), without a database."""

from __future__ import annotations

import pytest

from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import ROLES, SUPERVISOR_ROLES, has_permission


@pytest.mark.parametrize("machine", list(wf.MACHINES.values()), ids=list(wf.MACHINES))
def test_machine_is_well_formed(machine: wf.Machine) -> None:
    reachable = {
        "pending_initial",
        "filed",
        "pending_approval",
        "planned",
        "notified",
        "registered",
        "computed",
        "pending",
    } & set(machine.states)  # initial states
    for t in machine.transitions:
        assert set(t.sources) <= set(machine.states), t.action
        assert callable(t.target) or t.target in ("", *machine.states), t.action
        assert set(t.roles) <= {*ROLES, "system"}, t.action
        if isinstance(t.target, str) and t.target:
            reachable.add(t.target)
    for state in machine.states:
        exits = [t for t in machine.transitions if state in t.sources and t.target != ""]
        if state in machine.final:
            # only an explicit reopening that facts offer (a case closed on court enforcement resumes)
            assert not [t for t in exits if set(t.roles) - {"system"} and t.offered is None], (
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
    assert {a["action"] for a in wf.allowed_actions(wf.CASE_FLOW, "deciding", "bureau_head")} >= {"decide"}
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
    assert wf.apply(wf.CASE_FLOW, "case_review", "propose", "city_supervisor", {"article": "第三十八条（定点医药机构违法使用基金）"},
                    {"needs_legal_review": True})[0] == "legal_review"  # fmt: skip


def test_separation_of_duties_is_data_and_says_why() -> None:
    """复审 by someone other than 初审; reviews and the decision not by an investigator; the host neither."""
    history = {"history": [("initial_confirm", "zhang")]}
    with pytest.raises(wf.RoleNotAllowed, match="复审须由初审以外的人员"):
        wf.apply(
            wf.FLAG_FLOW,
            "pending_review",
            "review_confirm",
            "city_supervisor",
            {},
            {**history, "actor": "zhang"},
        )
    assert wf.apply(wf.FLAG_FLOW, "pending_review", "review_confirm", "city_supervisor", {},
                    {**history, "actor": "li"})[0] == "pending_appeal"  # fmt: skip
    listed = wf.allowed_actions(
        wf.FLAG_FLOW, "pending_review", "city_supervisor", {**history, "actor": "zhang"}
    )
    reviews = [a for a in listed if a["action"].startswith("review_")]
    assert len(reviews) == 3 and all(
        "职责分离" in a["blocked_zh"] for a in reviews
    )  # the workbench shows why, before submitting
    case = {"officers": ["zhang", "wang"], "officer_names": ["张三", "王五"], "actor": "wang"}
    for action, role in (("propose", "city_supervisor"), ("legal_review_pass", "legal_reviewer")):
        state = "case_review" if action == "propose" else "legal_review"
        with pytest.raises(wf.RoleNotAllowed, match="调查人员"):
            wf.apply(wf.CASE_FLOW, state, action, role, {"article": "38"}, case)
    with pytest.raises(wf.RoleNotAllowed, match="听证主持人"):
        wf.apply(wf.CASE_FLOW, "statement", "request_hearing", "city_supervisor",
                 {"hearing_date": "2026-04-01", "host": "王五"}, {**case, "actor": "li"})  # fmt: skip
    with pytest.raises(wf.RoleNotAllowed):  # the head decides
        wf.apply(wf.CASE_FLOW, "deciding", "decide", "city_supervisor", {"decision_type": "处罚"}, {})


def test_codes_are_choices_shown_in_chinese() -> None:
    t = wf.CASE_FLOW.by_action("finish_investigation")[0]
    intent = t.field("intent").as_dict()
    assert {"value": "none", "label_zh": "无骗取故意"} in intent["choices"]
    assert all(c["label_zh"] not in ("none", "undetermined") for c in intent["choices"])
    fields = {"findings": "x", "loss_amount": "1", "evidence": "询问笔录、处方", "intent": "尚未认定"}
    values = wf.check_fields(t, {**fields, "behaviour_code": "A38_6"})
    assert values["intent"] == "undetermined" and values["evidence"] == ["询问笔录", "处方"]
    with pytest.raises(wf.InvalidTransition, match=r"违法行为类别.*可选"):
        wf.check_fields(t, {**fields, "behaviour_code": "第三十八条第六项"})


def test_no_case_closes_without_execution() -> None:
    unpaid = {
        "decision_type": "处罚",
        "execution": {"complete": False, "refund_due": "10", "refund_paid": "0"},
    }
    with pytest.raises(wf.InvalidTransition, match="尚未执行完毕"):
        wf.apply(wf.CASE_FLOW, "executing", "close", "city_supervisor", {"grounds": "executed"}, unpaid)
    with pytest.raises(wf.InvalidTransition, match="缴款期限尚未届满"):
        wf.apply(wf.CASE_FLOW, "executing", "close", "city_supervisor", {"grounds": "court"}, unpaid)
    overdue = {**unpaid, "execution": {**unpaid["execution"], "payment_overdue": True}}
    assert wf.apply(wf.CASE_FLOW, "executing", "close", "city_supervisor",
                    {"grounds": "court", "court_applied_on": "2026-05-01"}, overdue)[0] == "closed"  # fmt: skip
    paid = {"decision_type": "处罚", "execution": {"complete": True}}
    assert (
        wf.apply(
            wf.CASE_FLOW,
            "executing",
            "close",
            "city_supervisor",
            {"grounds": "执行完毕（退回基金已缴入基金账户，罚款已缴入国库）"},
            paid,
        )[0]
        == "closed"
    )


def test_permissions() -> None:
    assert has_permission("hospital", "clue.view") and not has_permission("hospital", "case.view")
    assert not has_permission("third_party_inspector", "patient.unmasked")
    assert has_permission("province_supervisor", "rule.pause") and not has_permission(
        "county_supervisor", "rule.pause"
    )
    assert {r.name_zh for r in ROLES.values()} >= {"省级监管员", "市级监管员", "县级监管员", "经办审核员", "法制审核员",
                                                    "医院医保办", "第三方检查员", "管理员"}  # fmt: skip
