"""Inspection documents per role, on SQLite and PostgreSQL: a flight inspection's 通知书, 笔录, 反馈意见书,
整改通知书 and 移交函 (each once its step is reached, with the team's 执法证号 and the findings; the 移交函 never
for the institution), a daily check's 通知书,
结果告知书 and 整改通知书; refused to masked roles (third-party inspectors) and to roles without the inspection;
one PDF through LibreOffice."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from docx import Document
from sqlalchemy import select

from fundguard.service import inspections
from fundguard.service.errors import InvalidTransition, NotFound, PermissionDenied
from fundguard.service.models import Inspector, Region, User
from fundguard.supervision.documents import pdf_available

if TYPE_CHECKING:
    from conftest import World


def _text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _act(s, actor, fid, action, **fields):  # type: ignore[no-untyped-def]
    v = inspections.get_flight(s, actor, fid)["version"]
    return inspections.act_on_flight(s, actor, fid, action, v, **fields)


def test_flight_documents_per_step_and_role(world: World) -> None:
    shi, head, hosp = world.actor("shi"), world.actor("fuzeren"), world.actor("yiyuan")
    third, agency = world.actor("disanfang"), world.actor("jingban")
    with world.db.session() as s:
        code = s.execute(select(User.fixmedins_code).where(User.username == "yiyuan")).scalar_one()
        f = inspections.create_flight(s, shi, title="骨科耗材飞行检查", trigger="model_lead", fixmedins_code=code,
                                      scope="骨科高值耗材使用与收费")  # fmt: skip
        fid = f["id"]
        with pytest.raises(InvalidTransition, match="尚未到达"):  # no notice before the plan is prepared
            inspections.flight_document(s, shi, fid, "notice")
        _act(s, head, fid, "approve")
        team = [o for o in s.execute(select(Inspector).where(Inspector.kind == "officer")).scalars()
                if o.admdvs != f["admdvs"] and o.admdvs.startswith(f["admdvs"][:4]) and code not in o.former_employers][:2]  # fmt: skip
        _act(s, shi, fid, "form_team", leader=team[0].id, members=[t.id for t in team], pledges=True)
        _act(s, shi, fid, "prepare")
        name, data = inspections.flight_document(s, shi, fid, "notice")
        text = _text(data)
        assert name.endswith("检查通知书.docx") and "飞行检查通知书" in text and "骨科高值耗材" in text
        assert team[0].cert_no in text and "第三十条" in text
        with pytest.raises(NotFound):  # unannounced: the hospital does not know of it yet
            inspections.flight_document(s, hosp, fid, "notice")
        _act(s, shi, fid, "serve_notice", notice_no="飞检〔2026〕7号", served_to="王主任")
        assert "飞检〔2026〕7号" in _text(inspections.flight_document(s, hosp, fid, "notice")[1])
        with pytest.raises(InvalidTransition):  # no record yet
            inspections.flight_document(s, shi, fid, "record")
        _act(s, shi, fid, "add_record", kind="onsite", summary="查看骨科耗材出入库台账", pages=3, signed=True)
        _act(s, shi, fid, "add_finding", description="骨科耗材串换收费", amount="8800")
        text = _text(inspections.flight_document(s, shi, fid, "record")[1])
        assert "查看骨科耗材出入库台账" in text and "共 3 页" in text and "王主任" in text
        with pytest.raises(PermissionDenied, match="第三方"):  # masked roles never get documents
            inspections.flight_document(s, third, fid, "record")
        with pytest.raises(PermissionDenied):  # no flight.view at all
            inspections.flight_document(s, agency, fid, "notice")
        with pytest.raises(InvalidTransition):
            inspections.flight_document(s, shi, fid, "feedback")
        _act(s, shi, fid, "send_feedback", feedback="耗材管理混乱，串换收费")
        text = _text(inspections.flight_document(s, hosp, fid, "feedback")[1])
        assert "飞行检查反馈意见书" in text and "8,800.00元" in text and "5个工作日" in text
        _act(s, head, fid, "decide", conclusion="问题属实")
        _act(s, shi, fid, "hand_over")
        flight = inspections.get_flight(s, shi, fid)
        assert [d["kind"] for d in flight["documents"]] == [
            "notice", "record", "feedback", "rectification", "handover"]  # fmt: skip
        assert inspections.get_flight(s, third, fid)["documents"] == []  # masked: none offered
        # the 移交函 goes to the institution's local bureau, with the clue each finding became
        clue_id = flight["findings"][0]["clue_id"]
        local = s.execute(select(Region.name).where(Region.code == f["admdvs"])).scalar_one()
        name, data = inspections.flight_document(s, shi, fid, "handover")
        text = _text(data)
        assert (
            name.endswith("移交函.docx") and "飞行检查问题移交函" in text and f"{local}医疗保障局：" in text
        )
        assert f"骨科耗材串换收费，涉及金额 8,800.00元（线索编号 {clue_id}）" in text
        assert "问题属实" in text and f["number"] in text and "回头看" in text and "飞检移〔" in text
        # between bureaus: the institution is neither offered it nor can fetch it
        assert "handover" not in [d["kind"] for d in inspections.get_flight(s, hosp, fid)["documents"]]
        with pytest.raises(PermissionDenied, match="移交函"):
            inspections.flight_document(s, hosp, fid, "handover")
        with pytest.raises(PermissionDenied):
            inspections.flight_document(s, third, fid, "handover")
        text = _text(inspections.flight_document(s, shi, fid, "rectification")[1])
        assert "整改通知书" in text and "骨科耗材串换收费" in text and "回头看" in text
        if pdf_available():
            name, pdf = inspections.flight_document(s, shi, fid, "rectification", "pdf")
            assert name.endswith(".pdf") and pdf.startswith(b"%PDF")


def test_daily_check_documents(world: World) -> None:
    import datetime as dt

    shi, hosp, third = world.actor("shi"), world.actor("yiyuan"), world.actor("disanfang")
    with world.db.session() as s:
        plan = inspections.create_plan(s, shi, year=2026, title="2026年度监督检查计划", seed_value="文书-2026",
                                       workspace=world.workspace, config=inspections.PlanConfig(top_n=3))  # fmt: skip
        item = inspections.list_items(s, shi, plan["id"], mode="onsite", size=1)["items"][0]
        text = _text(inspections.plan_item_document(s, shi, item["id"], "notice")[1])
        assert "监督检查通知书" in text and "2026年度监督检查计划（现场检查）" in text
        with pytest.raises(InvalidTransition):  # not checked yet
            inspections.plan_item_document(s, shi, item["id"], "feedback")
        with pytest.raises(InvalidTransition):  # nothing to rectify
            inspections.plan_item_document(s, shi, item["id"], "rectification")
        inspections.complete_item(s, shi, item["id"], result="发现重复收费问题")
        inspections.add_problem(s, shi, fixmedins_code=item["fixmedins_code"], description="重复收费", owner="医保办",
                                deadline=dt.date(2026, 12, 31), amount="1200")  # fmt: skip
        text = _text(inspections.plan_item_document(s, shi, item["id"], "feedback")[1])
        assert "监督检查结果告知书" in text and "重复收费" in text and "发现重复收费问题" in text
        text = _text(inspections.plan_item_document(s, shi, item["id"], "rectification")[1])
        assert "2026年12月31日" not in text and "1,200.00元" in text
        with pytest.raises(InvalidTransition):
            inspections.plan_item_document(s, shi, item["id"], "record")
        with pytest.raises(InvalidTransition, match="移交函"):
            inspections.plan_item_document(s, shi, item["id"], "handover")
        for who in (hosp, third):
            with pytest.raises(PermissionDenied):
                inspections.plan_item_document(s, who, item["id"], "notice")
