"""医保支付资格记分 through the real service: registration and import, scoring a decided case, the statement
process, suspension and the settlement check with the emergency exemption, repair, the bars, the nationwide
exchange file and the snapshot, and what each role must not see."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from fundguard.service import points
from fundguard.service.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from fundguard.service.models import Case, Institution
from tests.service.conftest import TODAY, World

D = dt.date.fromisoformat


def _other_institution(world: World, hospital: str, same_region: bool) -> Institution:
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        cond = (
            Institution.admdvs == hosp.admdvs
            if same_region
            else ~Institution.admdvs.startswith(hosp.admdvs[:4])
        )
        return s.execute(sa.select(Institution).where(cond, Institution.fixmedins_code != hospital)
                         .order_by(Institution.fixmedins_code)).scalars().first()  # fmt: skip


def _register(world: World, code: str = "D123456789", who: str = "yiyuan", inst: str | None = None) -> dict:
    actor = world.actor(who)
    with world.db.session() as s:
        return points.register_staff(s, actor, national_code=code, id_no="110101199001011234", name="王医生",
                                     category="医师", fixmedins_code=inst or world.actor("yiyuan").fixmedins_code,
                                     pledge_on=D("2026-01-05"), department="心内科")  # fmt: skip


def _case(world: World, behaviour: str = "A38_2", decided: str = "2026-02-20") -> int:
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        c = Case(number=f"测试〔2026〕{behaviour}", title="过度诊疗", status="serving",
                 fixmedins_code=hosp.fixmedins_code, party_name="测试医院", admdvs=hosp.admdvs,
                 opened_at=D("2026-01-10"), deadline=D("2026-04-10"), step_started=D(decided),
                 behaviour_code=behaviour, decision_json=f'{{"decided_on": "{decided}"}}', created_by="xian")  # fmt: skip
        s.add(c)
        s.flush()
        return c.id


def _act(world: World, who: str, rid: int, action: str, **fields: object) -> dict:
    with world.db.session() as s:
        version = points.get_record(s, world.actor(who), rid)["version"]
        return points.act_on_record(s, world.actor(who), rid, action, version, **fields)


def test_case_points_statement_suspension_settlement_and_repair(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = _register(world)
    assert person["status"] == "normal" and person["sites"][0]["department"] == "心内科"
    cid = _case(world, "A38_2")
    with world.db.session() as s:  # band 2 (A38), 主要 + aggravating → band 3 主要 = 9 points
        [rec] = points.score_case(s, world.actor("xian"), cid,
                                  [{"national_code": "D123456789", "responsibility": "主要", "adjustment": "aggravate"}])  # fmt: skip
    assert (rec["points"], rec["status"], rec["decided_on"]) == (9, "notified", "2026-02-20")
    assert rec["statement_due"] == "2026-03-09"
    with world.db.session() as s:  # not in force while the person may still state their case
        assert points.qualification_status(s, "D123456789", D(TODAY))["status"] == "normal"
    with pytest.raises(InvalidTransition, match="陈述申辩期"):
        _act(world, "xian", rec["id"], "confirm")
    _act(world, "yiyuan", rec["id"], "submit_statement", statement="系科室集体决定，本人非主要责任")
    with pytest.raises(PermissionDenied):  # the hospital states; the bureau reviews
        _act(world, "yiyuan", rec["id"], "uphold", comment="x")
    done = _act(world, "xian", rec["id"], "uphold", comment="证据确凿")
    assert done["status"] == "effective" and done["effective_on"] == TODAY
    with world.db.session() as s:
        q = points.qualification_status(s, "D123456789", D(TODAY))
        assert (q["status"], q["points_year"], q["until"]) == ("suspended", 9, D("2026-06-01"))
        pay, why = points.settles(s, "D123456789", D("2026-03-10"))
        assert not pay and "暂停医保支付资格" in why and "不予支付" in why
        assert points.settles(s, "D123456789", D("2026-03-10"), "急诊")[0]  # emergency still settled
        assert points.settles(s, "D123456789", D("2026-02-01"))[0]  # the service day decides
    _act(world, "xian", rec["id"], "repair", kind="公益服务", comment="完成社区公益服务 20 小时")
    with world.db.session() as s:
        q = points.qualification_status(s, "D123456789", D(TODAY))
        assert (q["status"], q["points_year"]) == ("normal", 7)
    _act(world, "xian", rec["id"], "repair", kind="学习培训")
    with pytest.raises(InvalidTransition, match="修复已达上限"):
        _act(world, "xian", rec["id"], "repair", kind="约谈")


def test_statement_period_lapses_then_confirm(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _register(world)
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        rec = points.score(s, world.actor("xian"), national_code="D123456789", fixmedins_code=hosp.fixmedins_code,
                           band=4, responsibility="主要", decided_on=D("2026-02-01"), reason="协议处理：虚构服务")  # fmt: skip
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-10")
    assert _act(world, "xian", rec["id"], "confirm")["status"] == "effective"
    with world.db.session() as s:
        q = points.qualification_status(s, "D123456789")
        assert (q["status"], q["bar_until"]) == ("terminated", D("2029-03-10"))  # single 12: 3-year bar
    with pytest.raises(InvalidTransition, match="不得再次登记备案"):
        _register(world)
    monkeypatch.setenv("FUNDGUARD_TODAY", "2029-03-11")
    again = _register(world)
    assert again["status"] == "normal" and again["registered_on"] == "2029-03-11"


def test_import_reports_bad_rows(world: World, tmp_path: Path) -> None:
    inst = world.actor("yiyuan").fixmedins_code
    f = tmp_path / "staff.csv"
    f.write_text("国家医保编码,身份证号,姓名,人员类别,定点机构编码,科室,服务承诺日期\n"
                 f"D000000001,110101199001011234,张三,医师,{inst},内科,2026-01-02\n"
                 f"D000000002,1101,李四,医师,{inst},外科,2026-01-02\n"
                 f"D000000003,110101199001011235,赵六,厨师,{inst},外科,2026-01-02\n"
                 f"D000000004,110101199001011236,钱七,护士,{inst},外科,2026/01/02\n"
                 f"D000000001,110101199001011234,张三,医师,{inst},内科,2026-01-02\n", encoding="utf-8")  # fmt: skip
    with world.db.session() as s:
        out = points.import_staff(s, world.actor("xian"), f)
    assert out["created"] == 2
    assert [(e["line"], e["reason_zh"][:4]) for e in out["errors"]] == [
        (3, "身份证号"),
        (4, "人员类别"),
        (6, "编码 D"),
    ]
    (tmp_path / "bad.csv").write_text("姓名\n张三\n", encoding="utf-8")
    with world.db.session() as s, pytest.raises(ValidationFailed, match="缺少列"):
        points.import_staff(s, world.actor("xian"), tmp_path / "bad.csv")


def test_who_sees_which_files(world: World) -> None:
    hosp = world.actor("yiyuan")
    neighbour = _other_institution(world, hosp.fixmedins_code, same_region=True)
    far = _other_institution(world, hosp.fixmedins_code, same_region=False)
    mine = _register(world, "D111111111")
    theirs = _register(world, "D222222222", who="shi", inst=neighbour.fixmedins_code)
    with world.db.session() as s:
        assert [p["national_code"] for p in points.list_staff(s, hosp)["items"]] == ["D111111111"]
        with pytest.raises(NotFound):
            points.get_staff(s, hosp, theirs["id"])
        with pytest.raises(PermissionDenied):  # a hospital registers only its own staff
            points.register_staff(s, hosp, national_code="D333333333", id_no="110101199001011234", name="甲",
                                  category="医师", fixmedins_code=neighbour.fixmedins_code, pledge_on=D(TODAY))  # fmt: skip
        with pytest.raises(PermissionDenied):  # third-party inspectors read no staff files
            points.list_staff(s, world.actor("disanfang"))
        # nationwide lookup: the status answers anywhere, the name stays masked outside the scope
        found = points.lookup(s, hosp, id_no="110101199001011234", national_code="")
        assert found["status"] == "normal"
        out = points.lookup(s, hosp, national_code="D222222222")
        assert (out["name"], out["in_scope"], out["staff_id"]) == ("王**", False, None)
    # practising at the neighbour too makes the person visible there (and points act at every site)
    with world.db.session() as s:
        points.add_site(s, world.actor("shi"), mine["id"], neighbour.fixmedins_code, "急诊科")
    if far is not None:
        with world.db.session() as s:
            points.add_site(s, world.actor("sheng"), mine["id"], far.fixmedins_code)
            sites = points.get_staff(s, world.actor("sheng"), mine["id"])["sites"]
            assert len(sites) == 3
            with pytest.raises(PermissionDenied):  # a county supervisor cannot add a site in another region
                points.add_site(s, world.actor("xian"), theirs["id"], far.fixmedins_code)


def test_exchange_round_trip_and_snapshot(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(world)
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        rec = points.score(s, world.actor("xian"), national_code="D123456789", fixmedins_code=hosp.fixmedins_code,
                           band=3, responsibility="主要", decided_on=D("2026-02-01"), reason="协议处理")  # fmt: skip
    _act(world, "yiyuan", rec["id"], "waive")
    with world.db.session() as s:
        text = points.export_exchange(s, tmp_path / "out.csv")
    lines = text.strip().splitlines()
    assert lines[0].startswith("国家医保编码,身份证号") and len(lines) == 2
    assert ",暂停,2026-03-02,2026-06-01," in lines[1]
    # the same file, as another region would send it about a person unknown here, then read back
    other = text.replace("D123456789", "X987654321").replace(hosp.admdvs, "110105")
    (tmp_path / "in.csv").write_text(other + "X1,,,暂停,2026-01-01,,,110105,无截止\n", encoding="utf-8-sig")
    with world.db.session() as s:
        got = points.import_exchange(s, world.actor("shi"), tmp_path / "in.csv")
        assert got["imported"] == 1 and got["errors"][0]["line"] == 3
        q = points.qualification_status(s, "X987654321", D("2026-04-01"))
        assert (q["status"], q["source_admdvs"]) == ("suspended", "110105")
        assert points.qualification_status(s, "X987654321", D("2026-07-01"))["status"] == "unknown"
        again = points.export_exchange(s)
        assert again == text  # imported suspensions are not re-exported as ours
        assert points.write_snapshot(s, tmp_path / "snap.parquet") == 2
    snap = pq.read_table(tmp_path / "snap.parquet").to_pylist()
    assert {(r["national_code"], r["status"], str(r["until"])) for r in snap} == {
        ("D123456789", "suspended", "2026-06-01"), ("X987654321", "suspended", "2026-06-01")}  # fmt: skip


def test_demo_seed_and_cli(world: World, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fundguard.cli import app
    from fundguard.service.seed import seed_demo_points

    with world.db.session() as s:
        assert seed_demo_points(s) == 2
        assert seed_demo_points(s) == 0  # once
    from fundguard.service import credit

    with world.db.session() as s:
        doctor = credit.history(
            s, world.actor("xian"), "staff", "D" + world.actor("yiyuan").fixmedins_code[-6:] + "001"
        )
        assert doctor[0]["grade"] == "D"
    code = "D" + world.actor("yiyuan").fixmedins_code[-6:] + "001"
    url = world.db.url
    run = CliRunner().invoke
    r = run(app, ["points", "lookup", code, "--database-url", url])
    assert r.exit_code == 0 and "暂停医保支付资格" in r.output, r.output
    r = run(
        app,
        ["points", "lookup", "11010119800101001X", "--id-no", "--on", "2025-01-01", "--database-url", url],
    )
    assert r.exit_code == 0 and "正常" in r.output, r.output
    out = tmp_path / "x.csv"
    assert run(app, ["points", "export", str(out), "--database-url", url]).exit_code == 0
    assert code in out.read_text(encoding="utf-8-sig")
    bad = tmp_path / "bad.csv"
    bad.write_text("国家医保编码,资格状态,起始日期,通报地区\nX1,吊销,2026-01-01,110105\n", encoding="utf-8")
    r = run(app, ["points", "import", str(bad), "--as", "shi", "--database-url", url])
    assert r.exit_code == 1 and "第 2 行" in r.output and "暂停 或 终止" in r.output, r.output
    r = run(app, ["points", "lookup", code, "--on", "2026-13-01", "--database-url", url])
    assert r.exit_code == 2 and "日期无效" in r.output


def test_real_time_check_of_a_claims_lines(world: World) -> None:
    """事中: the suspended doctor's ordinary line is refused with a reason, the emergency line still paid, a
    line served before the suspension paid; the suspension follows the line's day."""
    _register(world)
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        rec = points.score(s, world.actor("xian"), national_code="D123456789", fixmedins_code=hosp.fixmedins_code,
                           band=3, responsibility="主要", decided_on=D("2026-02-01"), reason="协议处理")  # fmt: skip
    _act(world, "yiyuan", rec["id"], "waive")
    lines = [
        {"bilg_dr_code": "D123456789", "med_type": "11", "fee_ocur_time": "2026-03-05 10:00:00"},
        {"bilg_dr_code": "D123456789", "med_type": "13", "fee_ocur_time": "2026-03-05 10:05:00"},
        {"acord_dr_code": "D123456789", "med_type": "11", "fee_ocur_time": "2026-02-20 09:00:00"},
        {"bilg_dr_code": "OTHER", "med_type": "11"},
    ]
    with world.db.session() as s:
        got = points.check_lines(s, lines, D(TODAY))
    assert [(g["index"], g["pay"]) for g in got] == [(0, False), (1, True)]
    assert got[0]["reason_zh"].startswith("开单医生 D123456789 暂停医保支付资格")
    assert "急诊、抢救服务照常结算" in got[1]["reason_zh"]


def test_snapshot_joins_claim_lines_by_service_day(world: World, tmp_path: Path) -> None:
    """The batch hook: the snapshot joined to fee lines by doctor code and service day finds exactly the lines
    settled under the suspended doctor (what a batch rule would flag); emergency lines are left out."""
    import duckdb

    _register(world)
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        rec = points.score(s, world.actor("xian"), national_code="D123456789", fixmedins_code=hosp.fixmedins_code,
                           band=3, responsibility="主要", decided_on=D("2026-02-01"), reason="协议处理")  # fmt: skip
    _act(world, "yiyuan", rec["id"], "waive")
    with world.db.session() as s:
        points.write_snapshot(s, tmp_path / "q.parquet")
    con = duckdb.connect()
    con.execute("CREATE TABLE fee_list_d AS SELECT * FROM (VALUES ('L1', 'D123456789', '11', TIMESTAMP '2026-03-05 10:00'),"
                "('L2', 'D123456789', '13', TIMESTAMP '2026-03-05 11:00'), ('L3', 'D123456789', '11', TIMESTAMP '2026-06-02 09:00'),"
                "('L4', 'OTHER', '11', TIMESTAMP '2026-03-05 09:00')) t(feedetl_sn, bilg_dr_code, med_type, fee_ocur_time)")  # fmt: skip
    hits = con.execute(
        "SELECT f.feedetl_sn, q.reason_zh FROM fee_list_d f JOIN read_parquet(?) q ON q.national_code = f.bilg_dr_code"
        " AND CAST(f.fee_ocur_time AS DATE) BETWEEN q.since AND coalesce(q.until, DATE '9999-12-31')"
        " WHERE f.med_type NOT IN ('13', '24') ORDER BY 1",
        [str(tmp_path / "q.parquet")],
    ).fetchall()
    assert [h[0] for h in hits] == ["L1"] and "暂停医保支付资格" in hits[0][1]
