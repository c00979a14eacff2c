"""The flagged-item flow with the institution's appeal, a case from 立案 to 结案, ledgers, referrals, transfers,
the rule scorecard, optimistic locking, clue import and the tamper-evident record."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import openpyxl
import pytest
import sqlalchemy as sa
import yaml
from docx import Document

from fundguard.rules import load_rules
from fundguard.rules.spec import national_rule_files
from fundguard.service import auth, cases, clues, ledgers, record, referrals, scorecard, seed
from fundguard.service.errors import (
    BadUpload,
    InvalidTransition,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationFailed,
)
from fundguard.service.models import Clue, RecordEntry, User
from fundguard.service.scope import Actor

if TYPE_CHECKING:
    from conftest import World

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82"  # a real 1×1 PNG


def _hospital_clue(world: World) -> int:
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        return (
            s.execute(sa.select(Clue.id).where(Clue.fixmedins_code == hosp.fixmedins_code).order_by(Clue.id))
            .scalars()
            .first()
        )


def _step(world: World, username: str, clue_id: int, action: str, **fields: object) -> dict:
    actor = world.actor(username)
    with world.db.session() as s:
        version = clues.get_clue(s, actor, clue_id)["version"]
        return clues.act_on_clue(s, actor, clue_id, action, version, **fields)


def test_flag_flow_with_appeal_and_uploads(world: World) -> None:
    cid = _hospital_clue(world)
    assert _step(world, "xian", cid, "initial_confirm", comment="疑点成立")["status_zh"] == "待复审"
    notified = _step(world, "jingban", cid, "review_confirm", comment="告知机构")
    assert notified["status"] == "pending_appeal" and notified["due_date"] == "2026-03-16"  # 10 working days
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        v = clues.get_clue(s, hosp, cid)["version"]
        with pytest.raises(BadUpload) as bad:
            clues.submit_appeal(
                s, hosp, cid, v, "理由", [("virus.exe", "application/octet-stream", b"MZ...")]
            )
        assert bad.value.http_status == 415 and "PDF" in bad.value.zh
        with pytest.raises(BadUpload) as spoof:  # a PDF renamed to .png
            clues.submit_appeal(s, hosp, cid, v, "理由", [("scan.png", "image/png", PDF)])
        assert spoof.value.http_status == 415
        with pytest.raises(BadUpload) as big:
            clues.submit_appeal(
                s, hosp, cid, v, "理由", [("big.pdf", "application/pdf", PDF + b"0" * (10 << 20))]
            )
        assert big.value.http_status == 413
        with pytest.raises(ValidationFailed):
            clues.submit_appeal(s, hosp, cid, v, "  ", [("a.pdf", "application/pdf", PDF)])
    with world.db.session() as s:  # nothing was stored by the refused attempts
        assert clues.get_clue(s, hosp, cid)["appeals"] == []
        out = clues.submit_appeal(
            s,
            hosp,
            cid,
            v,
            "该患者确有用药指征，附病历",
            [("病历.pdf", "application/pdf", PDF), ("处方.png", "", PNG)],
        )
    assert out["status_zh"] == "申诉中"
    # the institution sees what it was told, by office: not the bureau's internal 初审 or its usernames
    assert [e["action"] for e in out["events"]] == ["review_confirm", "appeal"]
    assert out["events"][0]["actor_name"] == "医保部门" and out["events"][0]["actor"] == ""
    (appeal,) = out["appeals"]
    assert [f["filename"] for f in appeal["files"]] == ["病历.pdf", "处方.png"]
    with world.db.session() as s:
        name, ctype, data = clues.appeal_file(s, world.actor("xian"), appeal["files"][0]["id"])
        assert (name, ctype, data) == ("病历.pdf", "application/pdf", PDF)
        with pytest.raises(PermissionDenied):  # medical records identify patients
            clues.appeal_file(s, world.actor("disanfang"), appeal["files"][0]["id"])
        with pytest.raises(NotFound):  # another county cannot read it
            other = auth.create_user(s, "qita", "Other-county-22x", "county_supervisor", "890105")
            clues.appeal_file(s, auth.actor_for_user(s, other), appeal["files"][0]["id"])
    rejected = _step(world, "xian", cid, "appeal_reject", comment="病历不支持")
    assert rejected["status"] == "verifying"
    confirmed = _step(world, "xian", cid, "verify_confirm", confirmed_amount="123.45")
    assert confirmed["confirmed_amount"] == "123.45" and confirmed["status_zh"] == "待处理"
    done = _step(world, "jingban", cid, "agreement", measures=["约谈", "recover"], recovered_amount="123.45")
    assert done["status_zh"] == "办结" and [m["code"] for m in done["measures"]] == ["interview", "recover"]
    assert [e["action"] for e in done["events"]] == [
        "initial_confirm", "review_confirm", "appeal", "appeal_reject", "verify_confirm", "agreement",
    ]  # fmt: skip
    with world.db.session() as s:
        city = world.actor("shi")
        totals = clues.dashboard(s, city)["totals"]
        assert totals["recovered"] == "123.45" and totals["confirmed_amount"] == "123.45"
        assert record.verify(s)["ok"]
        for name in ledgers.LEDGERS:  # every ledger exports, with its Chinese title
            filename, data = ledgers.export_ledger(s, city, name)
            sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
            assert filename.startswith(next(sheet.iter_rows(values_only=True))[0]), name
        measures = _ledger_rows(*ledgers.export_ledger(s, city, "measures"))
        assert {m["协议处理措施"] for m in measures} == {"约谈", "追回"}
        (mine,) = [c for c in _ledger_rows(*ledgers.export_ledger(s, city, "clues")) if c["线索编号"] == cid]
        assert mine["状态"] == "办结" and mine["核实金额"] == 123.45 and mine["办理结果"] == "协议处理"


def test_invalid_transitions_and_stale_versions(world: World) -> None:
    cid = _hospital_clue(world)
    county = world.actor("xian")
    with world.db.session() as s:
        v = clues.get_clue(s, county, cid)["version"]
        with pytest.raises(InvalidTransition) as exc:
            clues.act_on_clue(s, county, cid, "verify_confirm", v, confirmed_amount="1")
        assert "待初审" in exc.value.zh and "pending_initial" in exc.value.en
        with pytest.raises(InvalidTransition, match="理由"):  # a dismissal needs its reason
            clues.act_on_clue(s, county, cid, "initial_dismiss", v)
        clues.act_on_clue(s, county, cid, "initial_confirm", v)
    with world.db.session() as s:  # a second officer still holding the old version
        with pytest.raises(StaleVersion) as stale:
            clues.act_on_clue(s, world.actor("shi"), cid, "review_dismiss", v, comment="重复")
        assert stale.value.http_status == 409 and "刷新" in stale.value.zh


def test_overdue_appeal_period(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = _hospital_clue(world)
    _step(world, "xian", cid, "initial_confirm")
    _step(world, "shi", cid, "review_confirm")
    with pytest.raises(InvalidTransition, match="申诉期尚未届满"):
        _step(world, "xian", cid, "appeal_expired")
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-20")
    with world.db.session() as s:
        items = clues.list_clues(s, world.actor("xian"), overdue=True)["items"]
        mine = next(i for i in items if i["id"] == cid)
        assert mine["warning"] == "已逾期" and mine["overdue"]
        assert all(i["overdue"] for i in items)
    assert _step(world, "xian", cid, "appeal_expired")["status"] == "verifying"


def _case_ready(world: World) -> dict:
    cid = _hospital_clue(world)
    _step(world, "xian", cid, "initial_confirm")
    _step(world, "shi", cid, "review_confirm")
    _step(world, "yiyuan", cid, "accept", comment="无异议")
    _step(world, "xian", cid, "verify_confirm", confirmed_amount="60000")
    county = world.actor("xian")
    with world.db.session() as s:
        v = clues.get_clue(s, county, cid)["version"]
        return cases.open_case(s, county, cid, v)


def _act(world: World, username: str, case_id: int, action: str, **fields: object) -> dict:
    actor = world.actor(username)
    with world.db.session() as s:
        version = cases.get_case(s, actor, case_id)["version"]
        return cases.act_on_case(s, actor, case_id, action, version, **fields)


def _docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _doc(world: World, case_id: int, kind: str) -> str:
    with world.db.session() as s:
        name, data = cases.case_document(s, world.actor("xian"), case_id, kind)
    assert name.endswith(".docx") and data[:2] == b"PK"
    return _docx_text(data)


def test_case_from_filing_to_closing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case_ready(world)
    cid, number = case["id"], case["number"]
    assert case["status_zh"] == "立案" and case["deadline"] >= "2026-05-31" and case["days_left"] >= 90
    assert case["documents"] == []  # the 立案审批表 names the (≥ 2) officers
    with world.db.session() as s:
        with pytest.raises(InvalidTransition):
            cases.case_document(s, world.actor("xian"), cid, "penalty_decision")  # not yet
        with pytest.raises(PermissionDenied):  # the legal reviewer reviews, it does not investigate
            cases.act_on_case(
                s, world.actor("fazhi"), cid, "start_investigation", case["version"], officers=["a", "b"]
            )
    with pytest.raises(InvalidTransition, match="2 名"):
        _act(world, "xian", cid, "start_investigation", officers=["xian"])
    with pytest.raises(ValidationFailed, match="执法证"):  # officers are certified users, not typed names
        _act(world, "xian", cid, "start_investigation", officers=["张三", "李四"])
    started = _act(world, "xian", cid, "start_investigation", officers=["xian", "shi2"])
    assert [d["kind"] for d in started["documents"]] == ["case_filing"]
    filing = _doc(world, cid, "case_filing")
    assert number in filing and "市医保局执法员（执法证号 8901" in filing
    with pytest.raises(PermissionDenied):  # the head approves an extension
        _act(world, "xian", cid, "extend", days=30, comment="案情复杂")
    ext = _act(world, "fuzeren", cid, "extend", days=30, comment="案情复杂")
    assert ext["deadline"] > case["deadline"] and ext["extensions"][0]["approved_by"] == "市医保局负责人"
    with pytest.raises(
        InvalidTransition, match="集体讨论"
    ):  # a second extension needs the heads collectively
        _act(world, "fuzeren", cid, "extend", days=10, comment="再延")
    with pytest.raises(
        InvalidTransition, match=r"违法行为类别.*取值无效"
    ):  # a code from the list, not free text
        _act(world, "xian", cid, "finish_investigation", findings="x", behaviour_code="第三十八条第六项",
             loss_amount="1", intent="none", evidence=["询问笔录"])  # fmt: skip
    _act(world, "xian", cid, "finish_investigation", findings="串换药品，造成基金损失", behaviour_code="A38_4",
         loss_amount="60000", intent="以骗取为目的", intent_evidence="伪造处方",
         evidence=["询问笔录 2 份", "处方原件复印件 12 张"])  # fmt: skip
    with pytest.raises(PermissionDenied, match="职责分离"):  # an investigator does not review their own case
        _act(world, "xian", cid, "propose", article="40", fine_amount="210000")
    with pytest.raises(InvalidTransition, match="第四十条"):  # intent to defraud → Art. 40, not 38
        _act(world, "shi", cid, "propose", article="38", fine_amount="90000")
    with pytest.raises(ValidationFailed, match=r"裁量基准|法定幅度"):  # 2–5× for fraud: 60k is below the band
        _act(world, "shi", cid, "propose", article="40", fine_amount="60000")
    proposed = _act(world, "shi", cid, "propose", article="40", circumstance="一般", fine_amount="210000",
                    refund_amount="60000", measures=["约谈", "terminate_agreement"])  # fmt: skip
    assert proposed["status"] == "legal_review" and proposed["hearing_eligible"] and proposed["major"]
    with pytest.raises(PermissionDenied):
        _act(world, "xian", cid, "legal_review_pass")
    assert _act(world, "fazhi", cid, "legal_review_pass", comment="同意")["status_zh"] == "事先告知"
    noticed = _act(world, "xian", cid, "issue_notice", notice_date="2026-03-02")
    assert noticed["status_zh"] == "陈述申辩"
    assert "听证" in _doc(world, cid, "prior_notice")
    with pytest.raises(InvalidTransition, match="7"):
        _act(world, "xian", cid, "request_hearing", hearing_date="2026-03-05", host="王五")
    with pytest.raises(PermissionDenied, match="调查人员"):
        _act(world, "xian", cid, "request_hearing", hearing_date="2026-03-20", host="shi2")
    with pytest.raises(InvalidTransition, match="陈述申辩期"):
        _act(world, "xian", cid, "statement_done")
    _act(world, "xian", cid, "request_hearing", hearing_date="2026-03-20", host="王五")
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-20")
    _act(world, "xian", cid, "hearing_held", comment="当事人对事实无异议，请求从轻")
    with pytest.raises(InvalidTransition, match="集体讨论"):
        _act(world, "fuzeren", cid, "decide", decision_type="处罚")
    with pytest.raises(InvalidTransition, match="3 名"):
        _act(world, "xian", cid, "collective_discussion", participants=["甲", "乙"], comment="同意")
    _act(world, "xian", cid, "collective_discussion", participants=["甲", "乙", "丙"], comment="同意处罚")
    with pytest.raises(PermissionDenied):  # the head decides
        _act(world, "xian", cid, "decide", decision_type="处罚")
    decided = _act(world, "fuzeren", cid, "decide", decision_type="处罚")
    assert decided["status_zh"] == "送达" and decided["penalty"]["fine_amount"] == "210000.00"
    assert decided["penalty"]["intent"] == "以骗取为目的" and decided["penalty"]["article"] == "40"
    assert {d["kind"] for d in decided["documents"]} == set(cases.DOCUMENT_KINDS)
    decision_text = _doc(world, cid, "penalty_decision")
    assert "210,000.00" in decision_text and "第四十条" in decision_text
    assert (
        "示例市第1区医疗保障局" in decision_text and "执法证号" in decision_text
    )  # the handling bureau signs
    assert (
        "处方原件复印件 12 张" in decision_text and "现场检查笔录" not in decision_text
    )  # only what was recorded
    assert "解除" in _doc(world, cid, "agreement_notice")
    _act(world, "xian", cid, "serve", served_on="2026-03-21", method="直接送达")
    with pytest.raises(InvalidTransition, match="尚未执行完毕"):  # no case closes unexecuted
        _act(world, "xian", cid, "close", grounds="executed", comment="执行完毕")
    with pytest.raises(InvalidTransition, match="缴款书号"):  # payments carry their voucher
        _act(world, "xian", cid, "record_fine", amount="210000", paid_on="2026-03-25")
    _act(world, "jingban", cid, "record_refund", amount="60000", paid_on="2026-03-25", voucher_no="TK001")
    with pytest.raises(InvalidTransition, match="超过"):
        _act(world, "xian", cid, "record_fine", amount="210000.01", paid_on="2026-03-25", voucher_no="GK0")
    _act(world, "xian", cid, "record_fine", amount="210000", paid_on="2026-03-26", voucher_no="GK001")
    closed = _act(world, "xian", cid, "close", grounds="executed", comment="执行完毕")
    assert closed["execution"]["complete"] and closed["closing_grounds_zh"].startswith("执行完毕")
    assert closed["status_zh"] == "结案" and closed["closed_at"] == "2026-03-20" and closed["actions"] == []
    steps = [t["step"] for t in closed["timeline"]]
    for step in (
        "立案",
        "调查取证",
        "案件审核",
        "法制审核",
        "事先告知",
        "听证",
        "集体讨论",
        "决定",
        "送达",
        "执行",
        "结案",
    ):
        assert step in steps, step
    county, city, hosp = world.actor("xian"), world.actor("shi"), world.actor("yiyuan")
    with world.db.session() as s:  # actors first: a login writes, and SQLite has one writer at a time
        clue = clues.get_clue(s, county, closed["clue_id"])
        assert clue["status_zh"] == "办结" and clue["case_id"] == cid
        # refunds to the fund and fines to the treasury are separate ledgers
        refunds = _ledger_rows(*ledgers.export_ledger(s, city, "refunds"))
        fines = _ledger_rows(*ledgers.export_ledger(s, city, "fines"))
        assert [r["退回金额"] for r in refunds] == [60000] and [r["罚款金额"] for r in fines] == [210000]
        assert (
            _ledger_rows(*ledgers.export_ledger(s, county, "penalties"))[0]["主观故意认定"] == "以骗取为目的"
        )
        (row,) = _ledger_rows(*ledgers.export_ledger(s, county, "cases"))
        assert row["违法行为"].startswith("A38_4 串换") and "市医保局执法员（8901" in row["执法人员"]
        with pytest.raises(PermissionDenied):
            ledgers.export_ledger(s, hosp, "fines")
        with pytest.raises(NotFound):  # another county's supervisor does not see the case
            other = auth.create_user(s, "qita2", "Other-county-22x", "county_supervisor", "890105")
            cases.get_case(s, auth.actor_for_user(s, other), cid)
        dash = clues.dashboard(s, city)["totals"]
        assert dash["recovered"] == "60000.00" and dash["fines"] == "210000.00" and dash["cases_open"] == 0
        assert clue["confirmed_amount"] == "60000.00" and clue["outcome"] == "penalised"
        assert record.verify(s)["ok"]


def _ledger_rows(filename: str, data: bytes) -> list[dict]:
    assert filename.endswith(".xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if len(r) > 1 and all(isinstance(v, str) for v in r))
    header = rows[header_at]
    body = [r for r in rows[header_at + 1 :] if r and r[0] not in (None, "合计")]
    return [dict(zip(header, r, strict=False)) for r in body if any(v is not None for v in r[1:])]


def test_small_case_without_hearing_paid_late(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case_ready(world)
    cid = case["id"]
    _act(world, "xian", cid, "start_investigation", officers=["xian", "shi2"])
    _act(world, "xian", cid, "finish_investigation", findings="超量开药", behaviour_code="A38_2",
         loss_amount="2000", intent="无骗取故意", evidence=["处方 5 张"])  # fmt: skip
    proposed = _act(world, "shi", cid, "propose", article="38", circumstance="一般", fine_amount="3000")
    # 法制审核 for every penalty decision by default (a province may set legal_review_all_penalties: false)
    assert proposed["status"] == "legal_review" and not proposed["hearing_eligible"]
    assert proposed["intent_zh"] == "无骗取故意" and proposed["behaviour_zh"].startswith("过度诊疗")
    _act(world, "fazhi", cid, "legal_review_pass")
    _act(world, "xian", cid, "issue_notice", notice_date="2026-03-02")
    with pytest.raises(InvalidTransition, match="听证标准"):
        _act(world, "xian", cid, "request_hearing", hearing_date="2026-03-30", host="王五")
    _act(world, "xian", cid, "statement_done", waived=True, comment="当事人书面放弃")
    assert _act(world, "fuzeren", cid, "decide", decision_type="处罚")["status"] == "serving"
    served = _act(world, "xian", cid, "serve", served_on="2026-03-02", method="直接送达")
    due = served["execution"]["payment_due"]
    assert due > "2026-03-02" and served["execution"]["surcharge"] == "0.00"
    later = lambda days: (dt.date.fromisoformat(due) + dt.timedelta(days=days)).isoformat()  # noqa: E731
    _act(world, "xian", cid, "record_fine", amount="1000", paid_on=due, voucher_no="GK-A")  # 1000 on time
    with pytest.raises(InvalidTransition, match="缴款期限尚未届满"):  # not yet a matter for the court
        _act(world, "xian", cid, "close", grounds="court", court_applied_on=due)
    monkeypatch.setenv("FUNDGUARD_TODAY", later(200))  # 2000 unpaid for 200 days: 3 %/day, capped at the fine
    with world.db.session() as s:
        assert cases.get_case(s, world.actor("xian"), cid)["execution"]["surcharge"] == "3000.00"
    ex = _act(world, "xian", cid, "record_fine", amount="2000", paid_on=later(10), voucher_no="GK-B")[
        "execution"
    ]
    assert (
        ex["surcharge"] == "600.00" and ex["fine_total_due"] == "3600.00"
    )  # paid 10 days late: 3 % × 2000 × 10
    assert not ex["complete"] and ex["payment_overdue"]  # the surcharge is still owed
    with pytest.raises(InvalidTransition, match="不是不予处罚"):
        _act(world, "xian", cid, "close", grounds="no_penalty")
    closed = _act(world, "xian", cid, "close", grounds="court", court_applied_on="2026-06-01")
    assert closed["status"] == "closed" and closed["closing_grounds"] == "court"
    # the court's ruling comes back: execution resumes, what the court collected is registered, the case closes
    # again as executed; only a case closed on court enforcement resumes
    resumed = _act(world, "xian", cid, "resume_execution", ruling="enforced", ruling_on=later(220),
                   ruling_no="（2026）示执 12 号", comment="法院划扣加处罚款")  # fmt: skip
    assert resumed["status"] == "executing" and resumed["closing_grounds"] == ""
    assert resumed["timeline"][-1]["action_zh"] == "法院裁定后恢复执行（登记裁定）"
    assert resumed["execution"]["fine_total_due"] == "3600.00"
    _act(world, "xian", cid, "record_fine", amount="600",
         paid_on=later(230), voucher_no="GK-C")  # fmt: skip
    _act(world, "xian", cid, "record_refund", amount="2000", paid_on=later(230), voucher_no="JJ-C")
    done = _act(world, "xian", cid, "close", grounds="executed")
    assert done["status"] == "closed" and done["closing_grounds"] == "executed"
    with pytest.raises(InvalidTransition, match="只有以申请人民法院强制执行结案"):
        _act(world, "xian", cid, "resume_execution", ruling="enforced", ruling_on=later(240), ruling_no="x")


def test_a_case_against_an_insured_person(world: World) -> None:
    """条例 Art. 41: the party is one of the clue's patients; only A41 behaviour and Art. 41 apply."""
    cid = _hospital_clue(world)
    _step(world, "xian", cid, "initial_confirm")
    _step(world, "shi", cid, "review_confirm")
    _step(world, "yiyuan", cid, "accept")
    county = world.actor("xian")
    with world.db.session() as s:
        clue = clues.get_clue(s, county, cid)
        person = next(e for e in clue["evidence"] if e["psn_no"])
        with pytest.raises(ValidationFailed, match="不在本线索"):
            cases.open_case(s, county, cid, clue["version"], "NOBODY")
    with world.db.session() as s:
        case = cases.open_case(s, county, cid, clue["version"], person["psn_no"])
    assert case["party"]["type"] == "individual" and case["party"]["id"] == person["psn_no"]
    assert case["party"]["name"] == person["psn_name"] and case["party"]["type_zh"] == "参保个人"
    _act(world, "xian", case["id"], "start_investigation", officers=["xian", "shi2"])
    with pytest.raises(InvalidTransition, match="第四十一条"):
        _act(world, "xian", case["id"], "finish_investigation", findings="x", behaviour_code="A38_1",
             loss_amount="100", intent="none", evidence=["询问笔录"])  # fmt: skip
    _act(world, "xian", case["id"], "finish_investigation", findings="重复享受待遇", behaviour_code="A41_2",
         loss_amount="100", intent="none", evidence=["结算记录"])  # fmt: skip
    with pytest.raises(InvalidTransition, match="第四十一条"):
        _act(world, "shi", case["id"], "propose", article="38", fine_amount="100")
    proposed = _act(world, "shi", case["id"], "propose", article="41", refund_amount="100")
    assert proposed["status"] == "legal_review"


def test_referral_to_police_with_receipt(world: World) -> None:
    case = _case_ready(world)
    county, hosp = world.actor("xian"), world.actor("yiyuan")
    with world.db.session() as s:
        r = referrals.create_referral(s, county, case_id=case["id"], target="公安", reason="涉嫌诈骗罪")
        assert r["status_zh"] == "待负责人审批"
        created, due = dt.datetime.fromisoformat(r["created_at"]), dt.datetime.fromisoformat(r["due_at"])
        assert due.date() == created.date() + dt.timedelta(days=3)  # the head decides within 3 days
        with pytest.raises(ValidationFailed):
            referrals.create_referral(s, county, case_id=case["id"], target="法院", reason="x")
        with pytest.raises(PermissionDenied):
            referrals.list_referrals(s, hosp)
    with world.db.session() as s, pytest.raises(PermissionDenied):  # the head approves a referral
        referrals.act_on_referral(s, county, r["id"], "approve", r["version"])
    head = world.actor("fuzeren")
    with world.db.session() as s:
        r = referrals.act_on_referral(s, head, r["id"], "approve", r["version"])
    steps = [("send", {"receiver": "示例市公安局经侦支队"}),
             ("receipt", {"receipt_no": "HZ-2026-001", "receipt_by": "刘警官"}), ("accept", {"outcome": "已立案侦查"})]  # fmt: skip
    for action, fields in steps:
        with world.db.session() as s:
            r = referrals.act_on_referral(s, county, r["id"], action, r["version"], **fields)
    assert r["status"] == "accepted" and r["receipt_no"] == "HZ-2026-001" and r["due_at"] is None
    with world.db.session() as s:
        with pytest.raises(InvalidTransition):
            referrals.act_on_referral(s, county, r["id"], "send", r["version"], receiver="x")
        assert cases.get_case(s, county, case["id"])["referrals"][0]["target"] == "公安"
        assert _ledger_rows(*ledgers.export_ledger(s, county, "referrals"))[0]["回执编号"] == "HZ-2026-001"


def test_clue_transfer_between_regions(world: World) -> None:
    cid = _hospital_clue(world)
    with world.db.session() as s:
        auth.create_user(s, "linqu", "Next-county-33x", "county_supervisor", "890103", must_change=False)
    world.passwords["linqu"] = "Next-county-33x"
    with pytest.raises(ValidationFailed):  # not to itself
        _step(world, "xian", cid, "transfer", to_admdvs="890102", to_department="医保局", comment="x")
    sent = _step(
        world, "xian", cid, "transfer", to_admdvs="890103", to_department="医保局", comment="属地管辖"
    )
    assert sent["status_zh"] == "已移交"
    receiver = world.actor("linqu")
    with world.db.session() as s:
        incoming = referrals.list_transfers(s, receiver, "in")
        assert [t["clue_id"] for t in incoming] == [cid]
        with pytest.raises(NotFound):  # outside the scope answers like a missing row
            clues.get_clue(s, receiver, cid)
        with pytest.raises(InvalidTransition):  # the sender cannot accept its own transfer
            referrals.answer_transfer(s, world.actor("xian"), incoming[0]["id"], True)
        out = referrals.answer_transfer(s, receiver, incoming[0]["id"], True, "接收")
        assert out["clue_visible"] and out["status"] == "accepted"
    with world.db.session() as s:
        assert clues.get_clue(s, receiver, cid)["status_zh"] == "待初审"
        with pytest.raises(NotFound):
            clues.get_clue(s, world.actor("xian"), cid)


def test_scorecard_and_rule_pause(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDGUARD_RULE_MIN_DECIDED", "1")
    province = world.actor("sheng")
    with world.db.session() as s:
        rule_id = clues.list_clues(s, province, size=1)["items"][0]["rule_id"]
        target = s.execute(sa.select(Clue.id).where(Clue.rule_id == rule_id)).scalars().first()
        with pytest.raises(ValidationFailed):  # a pause says why
            scorecard.pause_rule(s, province, rule_id, " ", world.workspace)
    _step(world, "sheng", target, "initial_dismiss", comment="误报")
    with world.db.session() as s:
        row = next(r for r in scorecard.scorecard(s, province) if r["rule_id"] == rule_id)
        assert row["dismissed"] == 1 and row["confirmation_rate"] == "0.000" and row["below_floor"]
        paused = scorecard.pause_rule(s, province, rule_id, "误报多", world.workspace)
    path = world.workspace / "rules" / "paused.yaml"
    assert paused["paused"] and yaml.safe_load(path.read_text("utf-8")) == [
        {"override": rule_id, "enabled": False}
    ]
    assert not load_rules([*national_rule_files(), path])[rule_id].enabled  # the audit engine honours it
    with world.db.session() as s:
        scorecard.resume_rule(s, world.actor("admin"), rule_id, world.workspace, "已修正参数")
    assert load_rules([*national_rule_files(), path])[rule_id].enabled


def test_import_is_idempotent_and_grouped(world: World) -> None:
    hits_path = next((world.workspace / "results").glob("run=*/hits.parquet"))
    with duckdb.connect() as con:
        n_hits, total = con.execute(
            f"SELECT count(*), sum(amount) FROM read_parquet('{hits_path}')"
        ).fetchone()
    with world.db.session() as s:
        n_clues, n_sum, n_hit = s.execute(
            sa.select(sa.func.count(), sa.func.sum(Clue.amount), sa.func.sum(Clue.hits))
        ).one()
        entries = s.execute(sa.select(sa.func.count()).select_from(RecordEntry)).scalar_one()
        again = clues.import_run(s, world.workspace)
        assert again["already_imported"] and again["clues_created"] == 0
        assert s.execute(sa.select(sa.func.count()).select_from(Clue)).scalar_one() == n_clues
        assert s.execute(sa.select(sa.func.count()).select_from(RecordEntry)).scalar_one() == entries
    assert n_hit == n_hits and Decimal(n_sum) == Decimal(total)
    assert 0 < n_clues <= n_hits
    with world.db.session() as s:  # one clue per institution × rule × month
        keys = s.execute(sa.select(Clue.rule_id, Clue.fixmedins_code, Clue.period)).all()
        assert len(keys) == len(set(keys))
        detail = clues.get_clue(s, world.actor("shi"), s.execute(sa.select(Clue.id)).scalars().first())
        assert detail["legal_basis"] and detail["evidence"] and detail["evidence"][0]["evidence_zh"]
        assert detail["evidence"][0]["item_name"] and detail["evidence"][0]["fee_ocur_time"]
        assert detail["evidence"][0]["psn_name"]
    with world.db.engine.begin() as con:  # hits imported before revision 0003 kept no details
        con.execute(sa.text("UPDATE clue_hits SET item_name = '', fee_ocur_time = '', psn_name = ''"))
    with world.db.session() as s:  # … they are read from the store instead
        again = clues.get_clue(s, world.actor("shi"), detail["id"])
        assert again["evidence"] == detail["evidence"]


def test_record_detects_tampering(world: World, as_dba: Callable) -> None:
    cid = _hospital_clue(world)
    _step(world, "xian", cid, "initial_confirm", comment="疑点成立")
    _step(world, "shi", cid, "review_dismiss", comment="已核实无误")
    with world.db.session() as s:
        ok = record.verify(s)
        assert ok["ok"] and ok["entries"] >= 4 and ok["first_bad"] is None
        page = record.list_record(s, world.actor("admin"), 1, 2)
        assert page["total"] == ok["entries"] and page["items"][0]["payload"]["to"] == "dismissed"
        with pytest.raises(PermissionDenied):
            record.list_record(s, world.actor("yiyuan"))
        mine = record.list_record(
            s, world.actor("xian"), 1, 500
        )  # a county reads the entries of its own clues
        assert 0 < mine["total"] < ok["entries"]
        assert {i["entity"] for i in mine["items"]} == {"clue"} and str(cid) in {
            i["entity_id"] for i in mine["items"]
        }
        seq = (
            s.execute(
                sa.select(RecordEntry.seq)
                .where(RecordEntry.action == "clue.action")
                .order_by(RecordEntry.seq)
            )
            .scalars()
            .first()
        )
    assert record.verify_database(world.db.url)["ok"]
    with world.db.engine.begin() as con:  # someone edits the comment in the database directly
        as_dba(con).execute(
            sa.text(
                "UPDATE record_entries SET payload = replace(payload, '疑点成立', '无问题') WHERE seq = :s"
            ),
            {"s": seq},
        )
    bad = record.verify_database(world.db.url)
    assert not bad["ok"] and bad["first_bad"] == seq and "篡改" in bad["reason_zh"]
    with world.db.engine.begin() as con:  # deleting the entry instead is caught too
        as_dba(con).execute(sa.text("DELETE FROM record_entries WHERE seq = :s"), {"s": seq})
    gone = record.verify_database(world.db.url)
    assert not gone["ok"] and gone["first_bad"] == seq


def test_record_chain_survives_many_writers(world: World) -> None:
    """Entries appended in separate transactions form one unbroken chain with consecutive numbers."""
    with world.db.session() as s:
        start = record.verify(s)["entries"]
    for i in range(5):
        with world.db.session() as s:
            record.append(
                s, "tester", "clue.action", "clue", i, {"n": i}, now=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
            )
    with world.db.session() as s:
        out = record.verify(s)
        seqs = s.execute(sa.select(RecordEntry.seq).order_by(RecordEntry.seq)).scalars().all()
    assert out["ok"] and out["entries"] == start + 5 and seqs == list(range(1, start + 6))


def test_verify_log_on_an_empty_database(tmp_path: Path) -> None:
    out = record.verify_database(f"sqlite:///{tmp_path / 'none.db'}")
    assert not out["ok"] and "未初始化" in out["reason_zh"]


def test_concurrent_edits_one_wins(world: World) -> None:
    """Two officers submit different actions on the same clue version at the same time: one succeeds, the
    other gets StaleVersion (row lock + version check on PostgreSQL; one writer at a time on SQLite)."""
    cid = _hospital_clue(world)
    a, b = world.actor("xian"), world.actor("shi")
    with world.db.session() as s:
        version = clues.get_clue(s, a, cid)["version"]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def act(actor: Actor, action: str, comment: str) -> None:
        barrier.wait()
        try:
            with world.db.session() as s:
                clues.act_on_clue(s, actor, cid, action, version, comment=comment)
            results.append("ok")
        except StaleVersion:
            results.append("stale")

    threads = [
        threading.Thread(target=act, args=(a, "initial_confirm", "确认")),
        threading.Thread(target=act, args=(b, "initial_dismiss", "排除")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["ok", "stale"]
    with world.db.session() as s:
        events = clues.get_clue(s, a, cid)["events"]
        assert len(events) == 1 and record.verify(s)["ok"]


def test_clue_from_another_department(world: World) -> None:
    county, hosp = world.actor("xian"), world.actor("yiyuan")
    with world.db.session() as s:
        with pytest.raises(ValidationFailed):
            clues.register_clue(
                s, county, fixmedins_code=hosp.fixmedins_code, source="rumour", description="x"
            )
        with pytest.raises(PermissionDenied):
            clues.register_clue(
                s, hosp, fixmedins_code=hosp.fixmedins_code, source="complaint", description="x"
            )
        first = clues.register_clue(s, county, fixmedins_code=hosp.fixmedins_code, source="transfer",
                                    description="卫健委移送：该院涉嫌虚记诊疗项目", amount="5000", period="2025-06")  # fmt: skip
        second = clues.register_clue(s, county, fixmedins_code=hosp.fixmedins_code, source="complaint",
                                     description="患者举报：未做检查却收费", period="2025-06")  # fmt: skip
    assert (
        first["status_zh"] == "待初审" and first["rule_name"] == "部门移送" and first["amount"] == "5000.00"
    )
    assert second["id"] != first["id"] and second["evidence"] == []
    with world.db.session() as s:
        assert {c["source"] for c in clues.list_clues(s, county, q="部门移送")["items"]} == {"transfer"}
        assert record.verify(s)["ok"]


def test_transfer_to_another_department_is_answered_there(world: World) -> None:
    cid = _hospital_clue(world)
    with world.db.session() as s:
        auth.create_user(
            s,
            "weijian",
            "Health-dept-44x",
            "county_supervisor",
            "890102",
            department="卫生健康委",
            must_change=False,
        )
    world.passwords["weijian"] = "Health-dept-44x"
    _step(
        world, "xian", cid, "transfer", to_admdvs="890102", to_department="卫生健康委", comment="涉及执业资格"
    )
    county, health = world.actor("xian"), world.actor("weijian")
    with world.db.session() as s:
        (t,) = referrals.list_transfers(s, health, "in")
        with pytest.raises(
            InvalidTransition, match="接收部门"
        ):  # same region, but the bureau is not the receiver
            referrals.answer_transfer(s, county, t["id"], True)
        back = referrals.answer_transfer(s, health, t["id"], False, "不属本部门职责")
    assert back["status"] == "returned"
    with world.db.session() as s:
        clue = clues.get_clue(s, county, cid)
        assert clue["status_zh"] == "待初审" and clue["department"] == "医保局"


def test_a_later_run_adds_only_new_hits(world: World, tmp_path: Path) -> None:
    """A second audit run over the same store brings the same hits: no new clues, nothing counted twice; a
    clue already in work is left as the officers see it."""
    ws = tmp_path / "ws"
    (ws / "results").mkdir(parents=True)
    (ws / "store").symlink_to(world.workspace / "store")
    first = next((world.workspace / "results").glob("run=*"))
    shutil.copytree(first, ws / "results" / "run=29991231T000000-later")
    cid = _hospital_clue(world)
    _step(world, "xian", cid, "initial_confirm")
    with world.db.session() as s:
        before = {c.id: (c.hits, c.amount) for c in s.execute(sa.select(Clue)).scalars()}
        out = clues.import_run(s, ws)
        assert out["run_id"] == "29991231T000000-later" and out["clues_created"] == 0 and out["hits"] == 0
        assert out["clues_updated"] == len(before) - 1  # every clue still waiting for 初审 was looked at
        after = {c.id: (c.hits, c.amount) for c in s.execute(sa.select(Clue)).scalars()}
    assert after == before


def test_seeding_again_resets_passwords_not_users(world: World) -> None:
    with world.db.session() as s:
        users = seed.seed_demo(s, world.workspace)
        assert s.execute(sa.select(sa.func.count()).select_from(User)).scalar_one() == len(users)
    fresh = {u["username"]: u["password"] for u in users}
    with world.db.session() as s:
        with pytest.raises(NotAuthenticated):
            auth.login(s, "shi", world.passwords["shi"])
        assert auth.login(s, "shi", fresh["shi"])[1]["role"] == "city_supervisor"
