"""A special campaign (专项整治) end to end on the workflow engine, per role, on SQLite and PostgreSQL: plan →
approval (动员部署) → 自查自纠 returns from the hospital → the re-check sample from a seed fixed beforehand →
re-checks confirmed by another officer (unreported problems 从严) → 清零 ledger → summary; and what each role
must NOT see (the plan before approval, other institutions' returns, the sample before the check, the figures)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from fundguard.service import campaigns, inspections
from fundguard.service.campaigns.process import sample
from fundguard.service.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from fundguard.service.models import Case, Clue, Institution, Problem, RecordEntry, User
from fundguard.service.timing import today
from fundguard.supervision.documents import pdf_available

if TYPE_CHECKING:
    from conftest import World


def _act(s, actor, cid, action, **fields):  # type: ignore[no-untyped-def]
    v = campaigns.get_campaign(s, actor, cid)["version"]
    return campaigns.act_on_campaign(s, actor, cid, action, v, **fields)


def _act_r(s, actor, rid, action, **fields):  # type: ignore[no-untyped-def]
    v = campaigns.get_return(s, actor, rid)["version"]
    return campaigns.act_on_return(s, actor, rid, action, v, **fields)


def test_sample_is_reproducible_and_depends_on_the_seed() -> None:
    pool = [f"H{i:03d}" for i in range(40)]
    a = sample("ZX1", "见证值 1", pool, 10)
    assert a == sample("ZX1", "见证值 1", list(reversed(pool)), 10)  # order of the pool does not matter
    assert len(a) == 4 and set(a) <= set(pool)
    assert a != sample("ZX1", "见证值 2", pool, 10) or a != sample("ZX2", "见证值 1", pool, 10)
    assert len(sample("ZX1", "s", pool[:3], 1)) == 1  # at least one
    assert sample("ZX1", "s", [], 50) == []


def test_campaign_end_to_end_per_role(world: World) -> None:
    names = ("sheng", "shi", "shi2", "xian", "fuzeren", "yiyuan", "jingban", "fazhi", "disanfang", "admin")
    shi, shi2, head, hosp, xian = (world.actor(n) for n in ("shi", "shi2", "fuzeren", "yiyuan", "xian"))
    for n in names:
        world.actor(n)
    with world.db.session() as s:
        code = s.execute(select(User.fixmedins_code).where(User.username == "yiyuan")).scalar_one()
        others = s.execute(select(Institution.fixmedins_code).where(
            Institution.admdvs.startswith(shi.admdvs[:4]), Institution.fixmedins_code != code)
            .order_by(Institution.fixmedins_code).limit(2)).scalars().all()  # fmt: skip
        rule_id = (
            s.execute(select(Clue.rule_id).where(Clue.fixmedins_code == code, Clue.rule_id != ""))
            .scalars()
            .first()
        )
        with pytest.raises(ValidationFailed):
            campaigns.create_campaign(s, shi, title="x", theme="不存在的主题")
        with pytest.raises(ValidationFailed):
            campaigns.create_campaign(s, shi, title="x", theme="血液透析", institutions=["NO-SUCH"])
        with pytest.raises(ValidationFailed):
            campaigns.create_campaign(s, shi, title="x", theme="血液透析", targets=["bad id; drop"])
        for who in ("fuzeren", "yiyuan", "jingban", "disanfang"):  # only supervisors plan
            with pytest.raises(PermissionDenied):
                campaigns.create_campaign(s, world.actor(who), title="x", theme="血液透析")
        c = campaigns.create_campaign(s, shi, title="血液透析专项整治", theme="血液透析",
                                      focus_areas=["重复收费", "超频次透析"], targets=[rule_id],
                                      institutions=[code, *others], rectify_days=30)  # fmt: skip
        cid = c["id"]
        assert c["status"] == "planned" and c["stats"]["institutions"] == 3
        # the plan is not the institutions' business until approved; other roles never see campaigns
        assert campaigns.list_campaigns(s, hosp)["total"] == 0
        with pytest.raises(NotFound):
            campaigns.get_campaign(s, hosp, cid)
        for who in ("jingban", "fazhi", "disanfang", "admin"):
            with pytest.raises(PermissionDenied):
                campaigns.list_campaigns(s, world.actor(who))
            with pytest.raises(PermissionDenied):
                campaigns.get_campaign(s, world.actor(who), cid)
        with pytest.raises(PermissionDenied):  # only the head approves
            _act(s, shi, cid, "approve")
        _act(s, head, cid, "approve", comment="同意")
        assert campaigns.list_campaigns(s, hosp)["total"] == 1
        seen = campaigns.get_campaign(s, hosp, cid)
        assert seen["targets"] == [] and seen["stats"] is None and seen["actions"] == []
        with pytest.raises(NotFound):
            campaigns.campaign_stats(s, hosp, cid)
        mine = campaigns.list_returns(s, hosp, cid)
        assert mine["total"] == 1 and mine["items"][0]["fixmedins_code"] == code
        rid = mine["items"][0]["id"]
        assert mine["items"][0]["target_clues"] is None  # the bureau's leads stay with the bureau
        assert campaigns.list_returns(s, shi, cid)["items"][0]["target_clues"] is not None
        other_rid = next(
            r["id"] for r in campaigns.list_returns(s, shi, cid)["items"] if r["fixmedins_code"] != code
        )
        with pytest.raises(NotFound):  # another institution's return does not exist for the hospital
            campaigns.get_return(s, hosp, other_rid)
        with pytest.raises(InvalidTransition, match="自查自纠"):  # not in the self-check phase yet
            _act_r(s, hosp, rid, "submit_self_check", problems=["a"], refunded="1")
        with pytest.raises(InvalidTransition):  # the deadline lies ahead
            _act(s, shi, cid, "open_self_check", self_check_due=dt.date(2000, 1, 1).isoformat())
        due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        _act(s, shi, cid, "open_self_check", self_check_due=due)
        with pytest.raises(PermissionDenied):  # a supervisor does not file the hospital's return
            _act_r(s, shi, rid, "submit_self_check", problems=["a"], refunded="1")
        with pytest.raises(InvalidTransition, match="超出"):  # an absurd amount is refused, not stored
            _act_r(s, hosp, rid, "submit_self_check", problems=["a"], refunded="1e15")
        _act_r(s, hosp, rid, "submit_self_check", problems="血透重复收费\n超频次透析", refunded="12000")
        r = _act_r(
            s, hosp, rid, "amend_self_check", problems=["血透重复收费", "超频次透析"], refunded="12500"
        )
        assert r["status"] == "reported" and r["refunded"] == "12500.00" and r["selected"] is None
        with pytest.raises(PermissionDenied):
            _act_r(s, hosp, rid, "check", found=["x"], found_amount="1", unreported=0)

        # self-checking ends: the non-reporters all, and 100 % of the reporters, are drawn; recomputable
        c = _act(s, shi, cid, "start_recheck", seed_value="2026-12-07 见证人录入 8391", ratio=100)
        assert c["status"] == "recheck" and c["stats"]["selected"] == 3
        assert sample(c["number"], "2026-12-07 见证人录入 8391", [code], 100) == [code]
        assert campaigns.get_return(s, hosp, rid)["selected"] is None  # unannounced until checked
        ledger = s.execute(select(Problem).where(Problem.source_ref == c["number"])).scalars().all()
        assert len(ledger) == 2 and {p.category for p in ledger} == {"自查自纠"}
        with pytest.raises(InvalidTransition):  # more unreported than found
            _act_r(s, shi, rid, "check", found=["血透重复收费"], found_amount="5000", unreported=2)
        _act_r(s, shi, rid, "check", found=["血透重复收费", "串换透析器"], found_amount="5000", unreported=1)
        with pytest.raises(PermissionDenied, match="职责分离"):  # the checker does not confirm his own check
            _act_r(s, shi, rid, "confirm")
        actions = {a["action"]: a for a in campaigns.get_return(s, shi, rid)["actions"]}
        assert "职责分离" in actions["confirm"]["blocked_zh"]
        _act_r(s, shi2, rid, "confirm", comment="复核无误")
        r = campaigns.get_return(s, hosp, rid)
        assert r["selected"] is True and r["strict"] and "从严" in r["strict_zh"]
        strict = s.execute(select(Problem).where(Problem.source_ref == c["number"],
                                                 Problem.category == "未自查问题（从严处理）")).scalars().all()  # fmt: skip
        assert [p.description for p in strict] == ["血液透析专项整治：串换透析器"]

        with pytest.raises(InvalidTransition, match="未确认"):  # the other two are not re-checked yet
            _act(s, shi, cid, "summarise", summary="x")
        for r in campaigns.list_returns(s, shi, cid, status="pending")["items"]:
            _act_r(s, shi, r["id"], "check", found=[], found_amount="0", unreported=0)
            _act_r(s, shi2, r["id"], "send_back", comment="证据不足，重新复查")
            _act_r(s, shi2, r["id"], "check", found=["未按规定开展自查"], found_amount="800", unreported=1)
            _act_r(s, shi, r["id"], "confirm")
        stats = campaigns.campaign_stats(s, shi, cid)
        assert stats["reported"] == 1 and stats["refunded"] == "12500.00" and stats["strict"] == 3
        assert stats["ledger"]["open"] == 6 and stats["ledger"]["closed"] == 0
        _act(s, shi, cid, "summarise", summary="共自查问题 2 个，主动退回 12500 元")
        with pytest.raises(PermissionDenied):
            _act(s, shi, cid, "close")
        c = _act(s, head, cid, "close", comment="同意")
        assert c["status"] == "closed" and [e["action"] for e in c["events"]][:2] == ["create", "approve"]
        # every step is in the hash-chained enforcement record
        n = s.execute(select(func.count()).select_from(RecordEntry).where(
            RecordEntry.action.in_(("campaign.action", "campaign_return.action", "campaign.create")))).scalar_one()  # fmt: skip
        assert n == 6 + 4 + 2 * 4  # the campaign's 6, the hospital's 4, the others' 4 each
        book = load_workbook(io.BytesIO(campaigns.campaign_ledger(s, shi, cid)))
        text = "\n".join(str(v) for row in book.active.iter_rows(values_only=True) for v in row if v)
        assert "串换透析器" in text and "未自查问题（从严处理）" in text and "血透重复收费" in text
        with pytest.raises(PermissionDenied):
            campaigns.campaign_ledger(s, hosp, cid)
        # a county officer sees the city campaign through the county's institutions, but cannot steer it
        county = campaigns.list_returns(s, xian, cid)
        assert all(r["admdvs"] == xian.admdvs for r in county["items"])
        if county["total"]:
            assert campaigns.get_campaign(s, xian, cid)["actions"] == []
        else:
            with pytest.raises(NotFound):
                campaigns.get_campaign(s, xian, cid)


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_summary_report_figures_cases_and_who_must_not_get_it(world: World) -> None:
    """专项整治总结报告: the figures, the 清零 status, the typical cases (a decided case on a targeted rule, the
    strictly handled re-check), read back from the .docx; refused to the hospital and to roles without campaigns."""
    shi, shi2, head, hosp, xian = (world.actor(n) for n in ("shi", "shi2", "fuzeren", "yiyuan", "xian"))
    outsiders = [world.actor(n) for n in ("jingban", "fazhi", "disanfang", "admin")]
    with world.db.session() as s:
        code = hosp.fixmedins_code
        others = s.execute(select(Institution.fixmedins_code).where(
            Institution.admdvs.startswith(shi.admdvs[:4]), Institution.fixmedins_code != code)
            .order_by(Institution.fixmedins_code).limit(2)).scalars().all()  # fmt: skip
        clue = (
            s.execute(select(Clue).where(Clue.fixmedins_code == code, Clue.rule_id != "")).scalars().first()
        )
        c = campaigns.create_campaign(s, shi, title="三假专项整治", theme="三假", focus_areas=["假病人"],
                                      targets=[clue.rule_id], institutions=[code, *others])  # fmt: skip
        cid = c["id"]
        _act(s, head, cid, "approve")
        _act(
            s,
            shi,
            cid,
            "open_self_check",
            self_check_due=(dt.date.today() + dt.timedelta(days=9)).isoformat(),
        )
        rid = campaigns.list_returns(s, hosp, cid)["items"][0]["id"]
        _act_r(s, hosp, rid, "submit_self_check", problems=["挂床住院", "虚记诊疗项目"], refunded="12500")
        _act(s, shi, cid, "start_recheck", seed_value="报告-1", ratio=100)
        _act_r(s, shi, rid, "check", found=["挂床住院", "伪造住院病历"], found_amount="36000", unreported=1)
        _act_r(s, shi2, rid, "confirm")
        first = (
            s.execute(select(Problem).where(Problem.source_ref == c["number"]).order_by(Problem.id))
            .scalars()
            .first()
        )
        inspections.close_problem(s, shi, first.id, evidence="退款凭证")
        # a decided case on the targeted rule (the case procedure itself is tested in test_service_flow)
        s.add(Case(number="医保罚〔2026〕88号", clue_id=clue.id, title="挂床住院案", status="serving",
                   fixmedins_code=code, party_name="测试医院甲", admdvs=hosp.admdvs, opened_at=today(),
                   deadline=dt.date(2026, 6, 1), step_started=dt.date(2026, 3, 1), amount_at_issue=Decimal("52000"),
                   loss_amount=Decimal("48000"), findings="2026年1月至2月挂床住院 31 人次",
                   decision_json='{"type": "处罚", "refund_amount": "48000", "fine_amount": "96000"}',
                   created_by="shi"))  # fmt: skip
        s.flush()
        name, data = campaigns.campaign_report(s, shi, cid)
        assert name == f"{c['number']}-专项整治总结报告.docx" and data[:2] == b"PK"
        text = _docx_text(data)
        assert "专项整治总结报告" in text and "三假专项整治" in text and "全部整治对象" in text
        assert "定点医药机构 3 家" in text and "已报送自查自纠报告 1 家" in text and "12,500.00元" in text
        assert "自查发现问题 2 个" in text and "复查发现问题 2 个" in text and "36,000.00元" in text
        assert "其中 1 个问题未在自查自纠中主动报告" in text and "从严从重处理" in text
        ledger = campaigns.campaign_stats(s, shi, cid)["ledger"]
        assert ledger == {"open": 3, "closed": 1, "overdue": 0, "cleared_rate": 0.25}
        assert "已整改销号 1 个，尚未清零 3 个" in text and "清零率 25.0%" in text
        assert "医保罚〔2026〕88号" in text and "挂床住院 31 人次" in text and "罚款 96,000.00 元" in text
        assert "伪造住院病历" in text and "其中 1 个未在自查中报告" in text
        assert "表1" in text and "表2" in text  # the figures as printable tables
        with pytest.raises(NotFound):  # it names the other institutions: never the hospital's
            campaigns.campaign_report(s, hosp, cid)
        for who in outsiders:
            with pytest.raises(PermissionDenied):
                campaigns.campaign_report(s, who, cid)
        with pytest.raises(ValidationFailed):
            campaigns.campaign_report(s, shi, cid, "exe")
        if pdf_available() and str(world.db.url).startswith("sqlite"):  # one conversion is enough (about 5 s)
            name, pdf = campaigns.campaign_report(s, shi, cid, "pdf")
            assert name.endswith("专项整治总结报告.pdf") and pdf.startswith(b"%PDF")
        # a county officer gets the county's part only, or nothing when no institution of the county is in it
        county = [r for r in campaigns.list_returns(s, shi, cid)["items"] if r["admdvs"] == xian.admdvs]
        if county:
            text = _docx_text(campaigns.campaign_report(s, xian, cid)[1])
            assert f"定点医药机构 {len(county)} 家" in text and "辖区内的整治对象" in text
        else:
            with pytest.raises(NotFound):
                campaigns.campaign_report(s, xian, cid)
