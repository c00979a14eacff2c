"""A flight inspection (令第6号) end to end on the workflow engine, per role, on SQLite and PostgreSQL: plan →
approval → team (≥ 2 certified officers, 回避, pledges) → 疑点清单 → notice → signed records, findings,
refusal → feedback and 陈述申辩 → collective decision → handover as clues → 整改 → 回头看 problem by problem in the 清零
ledger (reopen, close)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from fundguard.service import inspections
from fundguard.service.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from fundguard.service.models import Clue, Inspector, Problem, User

if TYPE_CHECKING:
    from conftest import World


def _act(s, actor, fid, action, **fields):  # type: ignore[no-untyped-def]
    v = inspections.get_flight(s, actor, fid)["version"]
    return inspections.act_on_flight(s, actor, fid, action, v, **fields)


def test_flight_inspection_end_to_end(world: World) -> None:
    shi, head, hosp = world.actor("shi"), world.actor("fuzeren"), world.actor("yiyuan")
    legal, agency = world.actor("fazhi"), world.actor("jingban")
    with world.db.session() as s:
        code = s.execute(select(User.fixmedins_code).where(User.username == "yiyuan")).scalar_one()
        f = inspections.create_flight(s, shi, title="血透专项飞行检查", trigger="major_report", fixmedins_code=code,
                                      scope="血液透析收费")  # fmt: skip
        fid = f["id"]
        assert f["status"] == "planned"
        with pytest.raises(ValidationFailed):  # a plan check needs its draw
            inspections.create_flight(s, shi, title="x", trigger="annual_plan", fixmedins_code=code)
        with pytest.raises(PermissionDenied):  # only the head approves
            _act(s, shi, fid, "approve")
        _act(s, head, fid, "approve", comment="同意")
        # the team: the county's own officers must stand aside; two from elsewhere, pledges signed
        officers = s.execute(select(Inspector).where(Inspector.kind == "officer")).scalars().all()
        local = [o for o in officers if o.admdvs == f["admdvs"]]
        away = [o for o in officers if o.admdvs != f["admdvs"] and o.admdvs.startswith(f["admdvs"][:4])
                and code not in o.former_employers]  # fmt: skip
        expert = s.execute(select(Inspector).where(Inspector.kind == "expert")).scalars().first()
        if local:
            with pytest.raises(ValidationFailed, match="回避"):
                _act(
                    s,
                    shi,
                    fid,
                    "form_team",
                    leader=local[0].id,
                    members=[local[0].id, away[0].id],
                    pledges=True,
                )
        with pytest.raises(ValidationFailed):  # one officer is not a team
            _act(s, shi, fid, "form_team", leader=away[0].id, members=[away[0].id, expert.id], pledges=True)
        with pytest.raises(InvalidTransition):  # pledges
            _act(s, shi, fid, "form_team", leader=away[0].id, members=[away[0].id, away[1].id], pledges=False)
        _act(s, shi, fid, "form_team", leader=away[0].id, members=[away[0].id, away[1].id], experts=[expert.id],
             pledges=True)  # fmt: skip
        f = _act(s, shi, fid, "prepare")
        assert f["leads"] and f["team"]["leader"] == away[0].id
        # unannounced: the institution does not know of it yet; the agency and legal review never see it
        assert inspections.list_flights(s, hosp)["total"] == 0
        with pytest.raises(NotFound):
            inspections.get_flight(s, hosp, fid)
        for who in (legal, agency):
            with pytest.raises(PermissionDenied):
                inspections.get_flight(s, who, fid)
        _act(s, shi, fid, "serve_notice", notice_no="飞检〔2026〕1号", served_to="医保办主任")
        seen = inspections.get_flight(s, hosp, fid)
        assert seen["leads"] == [] and seen["actions"] == []  # the 疑点清单 stays with the team
        with pytest.raises(InvalidTransition):  # a record must be signed page by page
            _act(s, shi, fid, "add_record", kind="onsite", summary="现场查看透析室", signed=False)
        _act(s, shi, fid, "add_record", kind="inquiry", summary="询问科室主任", pages=3, signed=True)
        _act(s, shi, fid, "add_finding", description="透析串换收费", amount="12000.50")
        _act(s, shi, fid, "add_finding", description="超标准收费", amount="800")
        f = _act(s, shi, fid, "record_refusal", comment="拒绝提供HIS数据")
        assert f["refused"] and len(f["findings"]) == 2 and f["records"][0]["signed"]
        f = _act(s, shi, fid, "send_feedback", feedback="发现两项问题")
        assert f["due_date"]  # the 陈述申辩 window
        _act(s, hosp, fid, "submit_statement", statement="超标准收费系系统错误")
        with pytest.raises(InvalidTransition, match="集体研究"):
            _act(s, head, fid, "decide", conclusion="维持")
        _act(s, head, fid, "decide", conclusion="维持两项问题", collective=True)
        f = _act(s, shi, fid, "hand_over")
        ids = [x["clue_id"] for x in f["findings"]]
        found = s.execute(select(Clue).where(Clue.id.in_(ids))).scalars().all()
        assert {c.source for c in found} == {"inspection"} and all(
            c.status == "pending_initial" for c in found
        )
        assert sum(c.amount for c in found) == pytest.approx(12800.50)
        assert f["due_date"]  # 30 working days for the 整改 report
        _act(s, hosp, fid, "submit_rectification", report="已退回并整改")
        # 回头看 works problem by problem in the 清零 ledger: the inspection closes only when each is cleared
        ledger = {
            p.description: p
            for p in s.execute(select(Problem).where(Problem.source_ref == f["number"])).scalars()
        }
        assert set(ledger) == {"透析串换收费", "超标准收费"} and all(
            p.status == "open" for p in ledger.values()
        )
        with pytest.raises(InvalidTransition, match="2 个问题未清零"):
            _act(s, shi, fid, "close", comment="回头看通过")
        inspections.close_problem(s, shi, ledger["透析串换收费"].id, evidence="退款凭证")
        with pytest.raises(InvalidTransition, match="1 个问题未清零"):
            _act(s, shi, fid, "close", comment="回头看通过")
        with pytest.raises(ValidationFailed, match="不是本次飞行检查"):
            _act(s, shi, fid, "reopen", problems=[999999], comment="未全部退回")
        before = ledger["超标准收费"].deadline
        _act(s, shi, fid, "reopen", problems=[ledger["透析串换收费"].id], comment="未全部退回")
        assert ledger["透析串换收费"].status == "open" and ledger["透析串换收费"].closed_on is None
        assert ledger["超标准收费"].deadline >= before  # a new 整改 deadline from today
        _act(s, hosp, fid, "submit_rectification", report="已全部退回")
        for p in ledger.values():
            inspections.close_problem(s, shi, p.id, evidence="回头看核实已退回")
        f = _act(s, shi, fid, "close", comment="回头看通过")
        assert f["status"] == "closed" and [e["action"] for e in f["events"]][-1] == "close"
