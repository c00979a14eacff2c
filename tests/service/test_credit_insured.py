"""Insured persons as credit subjects (条例 Art. 41) and the 失信联合惩戒名单 export, through the real service: a
decided fraud case suspends the person's 联网结算 for the decision's months, the recompute grades them lowest and
lists them, and the scheme's insured measures add their periods; the grade shows its payment measures; the list
exports for partners in format 1.0 (JSON and Excel, the same document), scoped by region, recorded with who
exported it; a hospital never reads an insured person's credit and a masked third party reads it masked."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from fundguard.core.errors import InputError
from fundguard.service import credit
from fundguard.service.errors import NotFound, PermissionDenied, ValidationFailed
from fundguard.service.models import Case, RecordEntry
from fundguard.supervision import credit as cr
from fundguard.supervision import points as pts

if TYPE_CHECKING:
    from tests.service.conftest import World

PSN = "P00000000777"
DECIDED = dt.date(2026, 2, 20)


def _fraud_case(world: World, months: int) -> None:
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        s.add(Case(number="医保罚〔2026〕41号", title="冒名就医", status="serving", fixmedins_code=hosp.fixmedins_code,
                   party_name="李四光", admdvs=hosp.admdvs, party_type="individual", party_id=PSN,
                   opened_at=dt.date(2026, 1, 10), deadline=dt.date(2026, 4, 10), step_started=DECIDED,
                   behaviour_code="A41_F", proposal_json=json.dumps({"suspension_months": months}),
                   decision_json=json.dumps({"decided_on": DECIDED.isoformat()}), created_by="xian"))  # fmt: skip


def test_an_insured_fraudster_loses_direct_settlement(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-02")
    shi, hosp, third = world.actor("shi"), world.actor("yiyuan"), world.actor("disanfang")
    _fraud_case(world, months=3)
    with world.db.session() as s:
        with pytest.raises(NotFound):  # the case alone, before any grade: a credit file once graded or listed
            credit.insured_standing(s, shi, PSN)
        credit.recompute(s, shi)
        file = credit.insured_standing(s, shi, PSN)
    sch = credit.scheme()
    grade = file["grade"]
    assert grade["grade"] == sch.blacklist_grade and grade["reasons"][0]["item"] == "blacklist"
    assert {r["item"] for r in grade["reasons"]} >= {"case_article_41_fraud"}
    months_grade, _ = sch.insured_suspension(grade["grade"], False)
    months_list, _ = sch.insured_suspension(grade["grade"], True)
    periods = file["settlement"]["periods"]
    case = next(p for p in periods if "行政处罚决定" in p["basis_zh"])
    assert (case["since"], case["until"]) == ("2026-02-20", pts.add_months(DECIDED, 3).isoformat())
    listed = next(p for p in periods if "严重失信名单" in p["basis_zh"])
    assert listed["months"] == months_list and listed["active"]
    assert any("信用等级" in p["basis_zh"] and p["months"] == months_grade for p in periods) == (
        months_grade > 0
    )
    longest = max(dt.date.fromisoformat(p["until"]) for p in periods if p["active"])
    assert file["settlement"]["suspended"] and file["settlement"]["until"] == longest.isoformat()
    assert grade["consequence"].startswith("暂停医疗费用联网结算")  # what the grade row shows
    assert grade["measures"] == sch.measures(grade["grade"])
    assert file["name"] == "李四光" and file["history"][0]["reasons"]
    # after every period ran out the person settles directly again
    monkeypatch.setenv("FUNDGUARD_TODAY", (longest + dt.timedelta(days=1)).isoformat())
    with world.db.session() as s:
        assert credit.insured_standing(s, shi, PSN)["settlement"]["status_zh"] == "联网结算正常"
        with pytest.raises(PermissionDenied):  # a hospital never reads an insured person's credit
            credit.insured_standing(s, hosp, PSN)
        masked = credit.insured_standing(s, third, PSN)
        assert masked["name"] == "李**" and PSN not in json.dumps(masked, ensure_ascii=False)


def test_grades_carry_their_payment_measures(world: World) -> None:
    shi = world.actor("shi")
    with world.db.session() as s:
        credit.recompute(s, shi)
        items = credit.list_grades(s, shi, size=100)["items"]
        table = {m["grade"]: m for m in credit.measures_table()}
    sch = credit.scheme()
    assert list(table) == [g for g, _, _ in sch.grades]
    for g, m in table.items():  # each as configured, review share a share, lower grades reviewed no less
        assert (m["review_share"], m["prepayment"]) == (sch.consequences[g]["review_share"],
                                                        sch.consequences[g]["prepayment"])  # fmt: skip
    shares = [table[g]["review_share"] for g, _, _ in sch.grades]
    assert shares == sorted(shares) and shares[0] >= 0 and shares[-1] <= 1
    assert items and all(i["measures"]["review_share"] == table[i["grade"]]["review_share"] for i in items)


def test_a_bad_measures_file_is_refused(tmp_path: Path) -> None:
    text = (Path(cr.__file__).parent / "data" / "credit.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("review_share: 0.30", "review_share: 3.0"), encoding="utf-8")
    with pytest.raises(InputError, match="审核比例"):
        cr.load_scheme(bad)
    bad.write_text(
        text.replace("settlement_suspend_months: 6", "settlement_suspend_months: -1"), encoding="utf-8"
    )
    with pytest.raises(InputError, match="联网结算"):
        cr.load_scheme(bad)


def test_the_joint_punishment_list_for_partners(world: World) -> None:
    shi, xian, sheng = world.actor("shi"), world.actor("xian"), world.actor("sheng")
    inst = world.actor("yiyuan").fixmedins_code
    _fraud_case(world, months=6)
    with world.db.session() as s:
        credit.recompute(s, shi)
        credit.add_to_blacklist(
            s, shi, subject_type="institution", subject_id=inst, reason="拒不配合飞行检查"
        )
        doc = credit.punishment.build(s, shi, form="json")
        xlsx = credit.punishment.to_xlsx(credit.punishment.build(s, shi, form="xlsx"))
        county = credit.punishment.build(s, shi, region=xian.admdvs)
        narrowed = credit.punishment.build(
            s, shi, region=shi.admdvs[:4] + "99"
        )  # a county with nobody listed
        with pytest.raises(PermissionDenied):  # a county officer asks for the whole city
            credit.punishment.build(s, xian, region=shi.admdvs)
        with pytest.raises(ValidationFailed):
            credit.punishment.build(s, shi, region="12")
        by_province = credit.punishment.build(s, sheng)
        exports = (
            s.execute(select(RecordEntry).where(RecordEntry.action == "credit.blacklist_export"))
            .scalars()
            .all()
        )
    assert (
        doc["format"] == "fundguard-joint-punishment" and doc["version"] == credit.punishment.SCHEMA_VERSION
    )
    assert credit.punishment.PunishmentList.model_validate(doc)  # the documented shape
    subjects = {(e["subject_type"], e["subject_id"]): e for e in doc["entries"]}
    assert subjects[("insured", PSN)]["subject_name"] == "李四光" and ("institution", inst) in subjects
    assert "联网结算" in subjects[("insured", PSN)]["measures_zh"]
    assert doc["exported_by"] and doc["region"] == shi.admdvs
    read_back = credit.punishment.read_xlsx(xlsx)  # the Excel form carries the same document
    assert read_back["entries"] == doc["entries"] and read_back["version"] == doc["version"]
    assert {e["subject_id"] for e in county["entries"]} == {e["subject_id"] for e in doc["entries"]
                                                           if e["admdvs"].startswith(xian.admdvs)}  # fmt: skip
    assert narrowed["entries"] == [] and len(by_province["entries"]) >= len(doc["entries"])
    assert [e.actor for e in exports] == ["shi", "shi", "shi", "shi", "sheng"]
    assert exports[0].payload and "entry_ids" in json.loads(exports[0].payload)


def test_documented_punishment_schema_is_the_one_the_code_writes() -> None:
    """docs/exchange/joint-punishment-schema-1.0.json is what partners read: regenerate it on change
    (``json.dumps(punishment.json_schema(), ensure_ascii=False, indent=2)``)."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "exchange" / "joint-punishment-schema-1.0.json"
    assert json.loads(doc.read_text(encoding="utf-8")) == credit.punishment.json_schema()
