"""Inspections in the service, per role, on SQLite and PostgreSQL: the registries (scope, history, import
with bad rows), draws (reproducible from the stored record, redraw citing the old one, publication), and
what a role must NOT see."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from fundguard.service import inspections
from fundguard.service.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from fundguard.service.models import Draw, Institution
from fundguard.supervision import draws

if TYPE_CHECKING:
    from conftest import World


def test_registries_seeded_and_scoped(world: World) -> None:
    for who in ("sheng", "xian", "yiyuan", "disanfang", "jingban", "fazhi", "fuzeren"):
        world.actor(who)  # log in first: a login writes, outside the test's session
    with world.db.session() as s:
        province = inspections.list_inspectors(s, world.actor("sheng"), size=500)
        county = inspections.list_inspectors(s, world.actor("xian"), size=500)
        assert province["total"] > county["total"] > 0
        xian = world.actor("xian").admdvs  # the county sees its own people and the pools above it
        assert {p["admdvs"] for p in county["items"]} <= {xian, xian[:4] + "00", xian[:2] + "0000"}
        kinds = {p["kind"] for p in province["items"]}
        assert kinds == {"officer", "expert", "agency_staff"}
        assert inspections.list_agencies(s, world.actor("sheng"))[0]["staff"] == 1
        targets = inspections.list_targets(s, world.actor("xian"), size=500)
        assert targets["total"] == s.query(Institution).filter_by(admdvs=world.actor("xian").admdvs).count()
        assert any(t["open_clues"] for t in targets["items"])
        for who in ("yiyuan", "disanfang", "jingban", "fazhi"):  # none of them sees the registries
            with pytest.raises(PermissionDenied):
                inspections.list_inspectors(s, world.actor(who))
            with pytest.raises(PermissionDenied):
                inspections.list_targets(s, world.actor(who))
        with pytest.raises(PermissionDenied):  # the head reads, does not edit
            inspections.save_inspector(s, world.actor("fuzeren"), {"name": "甲", "cert_no": "1"})


def test_edits_keep_history(world: World) -> None:
    shi, xian = world.actor("shi"), world.actor("xian")
    with world.db.session() as s:
        p = inspections.save_inspector(s, shi, {"name": "钱一", "cert_no": "C-1", "admdvs": shi.admdvs})
        inspections.save_inspector(s, shi, {**p, "name": "钱一", "former_employers": "H001;H002"}, p["id"])
        hist = inspections.history(s, shi, "inspector", str(p["id"]))
        assert [h["action"] for h in hist] == ["create", "update"]
        assert hist[1]["before"]["former_employers"] == [] and hist[1]["after"]["former_employers"] == [
            "H001",
            "H002",
        ]
        code = inspections.list_targets(s, shi, size=1)["items"][0]["fixmedins_code"]
        t = inspections.update_target(s, shi, code, risk_weight=7, note="举报较多")
        assert t["risk_weight"] == 7
        assert inspections.history(s, shi, "target", code)[0]["after"]["risk_weight"] == 7
        with pytest.raises(ValidationFailed):
            inspections.update_target(s, shi, code, risk_weight=11)
        with pytest.raises(ValidationFailed):  # an officer needs a certificate
            inspections.save_inspector(s, shi, {"name": "无证"})
        with pytest.raises(PermissionDenied):  # a county officer cannot add people in another region
            inspections.save_inspector(s, xian, {"name": "乙", "cert_no": "2", "admdvs": "890000"})


def _xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_reports_bad_rows(world: World) -> None:
    shi = world.actor("shi")
    rows = [
        ["类别", "姓名", "执法证号", "区划", "曾任职机构"],
        ["执法人员", "孙三", "X-100", shi.admdvs, "H1;H2"],
        ["执法人员", "孙四", "", shi.admdvs, ""],  # no certificate
        ["专家", "", "", shi.admdvs, ""],  # no name
        ["执法人员", "孙五", "X-101", "12", ""],  # bad region
        ["执法人员", "孙三", "X-100", shi.admdvs, "H3"],  # same certificate: an update
    ]
    with world.db.session() as s:
        out = inspections.import_inspectors(s, shi, "人员.xlsx", _xlsx(rows))
        assert (out["created"], out["updated"]) == (1, 1)
        assert [b["line"] for b in out["bad"]] == [3, 4, 5]
        assert "执法证号" in out["bad"][0]["zh"]
        csv = f"姓名,执法证号,区划\n周六,X-200,{shi.admdvs}\n".encode("gb18030")
        assert inspections.import_inspectors(s, shi, "people.csv", csv)["created"] == 1
        with pytest.raises(ValidationFailed):
            inspections.import_inspectors(s, shi, "people.txt", b"x")


def test_draw_reproducible_redraw_and_publication(world: World) -> None:
    shi, hosp, third = world.actor("shi"), world.actor("yiyuan"), world.actor("disanfang")
    with world.db.session() as s:
        d = inspections.make_draw(s, shi, title="2026年第一批双随机", seed_value="20261207-体彩-31415",
                                  rules={"ratio": 0.2, "team_size": 2})  # fmt: skip
        assert d["targets"] and not d["unstaffed"]
        rec = inspections.draw_record(s, shi, d["id"])
        assert draws.verify(rec) == [] and rec["hash"] == d["hash"]
        assert inspections.verify_draw(s, shi, d["id"])["ok"]
        # recomputed from the stored pools and seed value: the same result
        again = draws.draw(
            rec["pools"], draws.Rules.from_dict(rec["rules"]), rec["seed_value"], meta=rec["meta"]
        )
        assert again["result"] == rec["result"]
        officers = {p["id"]: p for p in rec["pools"]["inspectors"]}
        for t in rec["result"]["targets"]:
            assert all(t["code"] not in officers[i]["former_employers"] for i in t["team"])
        # not yet published: the hospital and the third party see nothing
        for who in (hosp, third):
            assert inspections.list_draws(s, who)["total"] == 0
            with pytest.raises(NotFound):
                inspections.get_draw(s, who, d["id"])
        with pytest.raises(PermissionDenied):
            inspections.make_draw(s, hosp, title="x", seed_value="1")
        with pytest.raises(ValidationFailed):  # a redraw must say why
            inspections.make_draw(s, shi, title="重抽", seed_value="2", previous_id=d["id"])
        r = inspections.make_draw(
            s, shi, title="重抽", seed_value="2", previous_id=d["id"], reason="名录库有误"
        )
        assert r["previous"] == {"number": d["number"], "hash": d["hash"], "reason": "名录库有误"}
        assert s.get(Draw, d["id"]).status == "superseded"
        with pytest.raises(InvalidTransition):
            inspections.publish_draw(s, shi, d["id"])
        p = inspections.publish_draw(s, shi, r["id"])
        assert p["status"] == "published"
        public = inspections.get_draw(s, hosp, r["id"])
        assert public["targets"] == p["targets"] and "recused" not in public
        assert "former_employers" not in json.dumps(public, ensure_ascii=False)
        with pytest.raises(PermissionDenied):  # the full record (recusal facts) stays with supervisors
            inspections.draw_record(s, hosp, r["id"])
        code = p["targets"][0]["code"]
        assert inspections.list_targets(s, shi, q=code)["items"][0]["last_inspected"]


def test_tampered_stored_draw_is_caught(world: World) -> None:
    shi = world.actor("shi")
    with world.db.session() as s:
        d = inspections.make_draw(s, shi, title="抽查", seed_value="abc")
        row = s.get(Draw, d["id"])
        rec = json.loads(row.record_json)
        rec["result"]["targets"] = rec["result"]["targets"][1:]
        row.record_json = json.dumps(rec, ensure_ascii=False)
        s.flush()
        assert not inspections.verify_draw(s, shi, d["id"])["ok"]
        with pytest.raises(InvalidTransition):
            inspections.publish_draw(s, shi, d["id"])
        assert s.execute(select(Draw.status).where(Draw.id == d["id"])).scalar_one() == "drawn"


def test_annual_plan_full_coverage_and_problem_ledger(world: World) -> None:
    import datetime as dt

    from openpyxl import load_workbook

    shi, xian, hosp = world.actor("shi"), world.actor("xian"), world.actor("yiyuan")
    with world.db.session() as s:
        plan = inspections.create_plan(s, shi, year=2026, title="2026年度监督检查计划", seed_value="计划-2026",
                                       workspace=world.workspace, config=inspections.PlanConfig(top_n=5))  # fmt: skip
        n = s.query(Institution).filter(Institution.admdvs.startswith(shi.admdvs[:4])).count()
        assert plan["total"] == n and plan["done"] == 0  # every institution is in the plan (全覆盖)
        onsite = inspections.list_items(s, shi, plan["id"], mode="onsite", size=500)["items"]
        tops = [i for i in onsite if "上年基金支付前列" in i["reasons_zh"]]
        assert len(tops) == 5 and all(float(i["fund_paid"]) > 0 for i in tops)
        assert len([i for i in onsite if "随机抽查" in i["reasons_zh"]]) >= 0.1 * n - 5
        again = inspections.create_plan(s, shi, year=2026, title="复算", seed_value="计划-2026",
                                        workspace=world.workspace, config=inspections.PlanConfig(top_n=5))  # fmt: skip
        again_onsite = inspections.list_items(s, shi, again["id"], mode="onsite", size=500)["items"]
        assert [i["fixmedins_code"] for i in again_onsite] == [
            i["fixmedins_code"] for i in onsite
        ]  # reproducible
        # an upper level's assignment (上级交办) puts an institution on site; one outside the region is refused
        review = inspections.list_items(s, shi, plan["id"], mode="review", size=1)["items"][0][
            "fixmedins_code"
        ]
        told = inspections.create_plan(s, shi, year=2026, title="交办", seed_value="计划-2026", workspace=world.workspace,
                                       config=inspections.PlanConfig(top_n=5), assigned=[review])  # fmt: skip
        told_onsite = {i["fixmedins_code"]: i for i in inspections.list_items(s, shi, told["id"], mode="onsite",
                                                                               size=500)["items"]}  # fmt: skip
        assert told_onsite[review]["reasons_zh"] == ["上级交办"] and len(told_onsite) == len(onsite) + 1
        with pytest.raises(ValidationFailed, match="上级交办"):
            inspections.create_plan(s, shi, year=2026, title="x", seed_value="s", assigned=["NO-SUCH"])
        item = onsite[0]
        inspections.complete_item(s, shi, item["id"], result="未发现问题")
        with pytest.raises(InvalidTransition):
            inspections.complete_item(s, shi, item["id"], result="再次")
        cov = inspections.coverage(s, shi, plan["id"])
        assert cov["done"] == 1 and sum(r["total"] for r in cov["regions"]) == n
        county = inspections.coverage(s, xian, plan["id"])  # the county sees its own progress
        assert {r["admdvs"] for r in county["regions"]} == {xian.admdvs}
        with pytest.raises(PermissionDenied):
            inspections.coverage(s, hosp, plan["id"])
        # 清零: a problem closes only with evidence; an overdue one is flagged in the Excel ledger
        code = item["fixmedins_code"]
        late = inspections.add_problem(s, shi, fixmedins_code=code, description="重复收费", owner="医保办",
                                       deadline=dt.date(2026, 1, 31), amount="500")  # fmt: skip
        ok = inspections.add_problem(s, shi, fixmedins_code=code, description="超量开药", owner="药剂科",
                                     deadline=dt.date(2026, 12, 31))  # fmt: skip
        assert late["overdue"] and not ok["overdue"]
        with pytest.raises(ValidationFailed):
            inspections.close_problem(s, shi, ok["id"], "")
        assert inspections.close_problem(s, shi, ok["id"], "退款凭证 2026-003")["status_zh"] == "已清零"
        sheet = load_workbook(io.BytesIO(inspections.problem_ledger(s, shi))).active
        text = [[str(c) if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
        assert text[0][0] == "问题清零台账"
        assert any("重复收费" in r and "已超期" in r for r in text) and any("已清零" in r for r in text)
        with pytest.raises(PermissionDenied):
            inspections.problem_ledger(s, hosp)


def test_problem_list_across_inspections_for_lessons(world: World) -> None:
    """问题清单 (举一反三): problems of daily checks and campaigns grouped by category and institution type, and
    the same problem at several institutions listed as a 共性问题 (a campaign's title prefix ignored); scoped."""
    import datetime as dt

    from fundguard.service import oversight
    from fundguard.service.models import Problem

    shi, xian, hosp, agency = (world.actor(n) for n in ("shi", "xian", "yiyuan", "jingban"))
    with world.db.session() as s:
        codes = list(s.execute(select(Institution.fixmedins_code).where(Institution.admdvs.startswith(shi.admdvs[:4]))
                               .order_by(Institution.fixmedins_code).limit(3)).scalars())  # fmt: skip
        due = dt.date(2026, 12, 31)
        for code in codes:
            inspections.add_problem(s, shi, fixmedins_code=code, description="重复收取检查费", owner="医保办",
                                    deadline=due, category="重复收费", amount="100")  # fmt: skip
        inst = s.get(Institution, codes[0])
        s.add(Problem(source="campaign", source_ref="ZX-T", fixmedins_code=inst.fixmedins_code, admdvs=inst.admdvs,
                      category="自查自纠", description="三假专项整治：重复收取检查费", amount=50, owner="医保办",
                      deadline=due, status="open"))  # fmt: skip
        inspections.add_problem(
            s, shi, fixmedins_code=codes[1], description="仅此一家的问题", owner="医保办", deadline=due
        )
        s.flush()
        out = oversight.problem_summary(s, shi)
        assert out["total"] == 5
        top = out["common"][0]
        assert top["description"] == "重复收取检查费" and top["institutions"] == 3 and top["problems"] == 4
        assert top["amount"] == "350.00" and top["sources_zh"] == ["专项整治", "日常监督检查"]
        assert "仅此一家的问题" not in [c["description"] for c in out["common"]]
        cats = {(c["source"], c["category"]): c for c in out["by_category"]}
        assert (
            cats[("plan", "重复收费")]["institutions"] == 3
            and cats[("campaign", "自查自纠")]["problems"] == 1
        )
        assert sum(t["problems"] for t in out["by_institution_type"]) == 5
        assert oversight.problem_summary(s, shi, source="campaign")["total"] == 1
        with pytest.raises(ValidationFailed):
            oversight.problem_summary(s, shi, source="nope")
        county = oversight.problem_summary(s, xian)  # the county sees its own institutions' problems only
        n = s.execute(
            select(func.count()).select_from(Problem).where(Problem.admdvs == xian.admdvs)
        ).scalar_one()
        assert county["total"] == n
        for who in (hosp, agency):
            with pytest.raises(PermissionDenied):
                oversight.problem_summary(s, who)
