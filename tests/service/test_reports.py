"""举报处理与奖励 through the real service on SQLite and PostgreSQL: a report filed with a sealed identity, handled
by facts only, turned into a clue whose verification confirms fund loss, rewarded by the province's rule
(exclusions and first-in-time checked), approved, notified, claimed with an identity check and paid; the
identity is never in the database bytes, only the designated role decrypts it (logged with the reason); roles that
must not see reports do not; unclaimed rewards are deemed waived."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from fundguard.service import clues, reports
from fundguard.service.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from fundguard.service.models import AccessLog, RecordEntry, Report, ReportReward
from fundguard.supervision.reports import compute_reward, load_reward_rules

if TYPE_CHECKING:
    from tests.service.conftest import World

NAME, PHONE, ID_NO = "欧阳举报人", "13912345678", "11010519850101123X"


def _file(world: World, *, real_name: bool = True, target: str = "某某医院", insider: bool = False) -> dict:
    for who in ("shi", "shi2", "fuzeren", "yiyuan", "xian"):
        world.actor(who)  # logged in before any test opens a session of its own (a login writes)
    admdvs = world.actor("shi").admdvs
    with world.db.session() as s:
        return reports.file_report(
            s, target_kind="institution", violation_type="fake_hospitalisation", target_name=target,
            description="该院2026年1月多次让未住院的参保人挂床住院，虚记住院费用。", happened="2026年1月",
            place="住院部三楼", admdvs=admdvs, real_name=real_name, insider=insider,
            identity={"name": NAME, "phone": PHONE, "id_no": ID_NO} if real_name else None,
            attachments=[("收据.pdf", "application/pdf", b"%PDF-1.4\n% receipt of " + PHONE.encode() + b"\n%%EOF")],
        )  # fmt: skip


def _report_id(world: World, number: str) -> int:
    with world.db.session() as s:
        return s.execute(sa.select(Report.id).where(Report.number == number)).scalar_one()


def _act(world: World, who: str, rid: int, action: str, **fields: object) -> dict:
    with world.db.session() as s:
        version = s.get(Report, rid).version
        return reports.act_on_report(s, world.actor(who), rid, action, version, **fields)


def _confirm_clue(world: World, clue_id: int, amount: str) -> None:
    """The flag flow on the report's clue: 初审, 复审 by another officer, the institution accepts, 核实 with loss."""
    for who, action, fields in (("shi", "initial_confirm", {}), ("shi2", "review_confirm", {}),
                                ("yiyuan", "accept", {}), ("shi", "verify_confirm", {"confirmed_amount": amount})):  # fmt: skip
        with world.db.session() as s:
            c = clues.get_clue(s, world.actor("shi"), clue_id)
            clues.act_on_clue(s, world.actor(who), clue_id, action, c["version"], **fields)


def _db_bytes(world: World) -> bytes:
    """Every stored byte: the SQLite file, or every row of every table dumped as text on PostgreSQL."""
    if world.db.url.startswith("sqlite"):
        return Path(world.db.url.removeprefix("sqlite:///")).read_bytes()
    out = []
    with world.db.session() as s:
        for (table,) in s.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ):
            out += [repr(tuple(r)) for r in s.execute(sa.text(f'SELECT * FROM "{table}"'))]
    return "\n".join(out).encode()


def test_report_to_clue_to_reward_claimed_and_paid(world: World) -> None:
    filed = _file(world)
    assert len(filed["code"]) == 23 and filed["number"].startswith("JB")
    rid = _report_id(world, filed["number"])
    with world.db.session() as s:
        assert reports.public_status(s, filed["code"])["status_zh"] == "待受理"
        assert (
            reports.public_status(s, filed["code"].lower())["status"] == "registered"
        )  # typed in lower case
        one_off = filed["code"][:-1] + ("Y" if filed["code"].endswith("Z") else "Z")  # never the real code
        for bad in ("", "AAAAA-AAAAA-AAAAA-AAAAA", one_off, "x" * 40, "1 OR 1=1"):
            with pytest.raises(NotFound) as e:
                reports.public_status(s, bad)
            assert e.value.zh == "查询码无效或举报不存在"  # one answer for all: no enumeration
    # the handler sees the facts and whether it is real-name, never who
    detail = _act(world, "shi", rid, "accept")
    assert detail["status"] == "accepted" and detail["real_name"] is True
    assert NAME not in repr(detail) and PHONE not in repr(detail) and ID_NO not in repr(detail)
    assert detail["notice_due"] and any("告知实名举报人" in w for w in detail["warnings"])
    detail = _act(world, "shi", rid, "notify", channel="phone")
    assert detail["notified_on"] and not detail["notice_due"]
    hosp = world.actor("yiyuan")
    detail = _act(world, "shi", rid, "to_clue", fixmedins_code=hosp.fixmedins_code, amount="50000")
    clue_id = detail["clue_id"]
    with world.db.session() as s:
        clue = clues.get_clue(s, world.actor("shi"), clue_id)
    assert clue["source"] == "complaint" and NAME not in clue["description"] and "挂床" in clue["description"]
    # a reward needs confirmed loss first
    with world.db.session() as s, pytest.raises(InvalidTransition):
        reports.compute(s, world.actor("shi"), rid, grade=1)
    _confirm_clue(world, clue_id, "120000")
    _act(world, "shi", rid, "conclude", outcome="substantiated", reply="经查属实，已依法处理。")
    with world.db.session() as s:
        with pytest.raises(PermissionDenied):
            reports.compute(s, world.actor("fuzeren"), rid, grade=1)  # the head approves, does not compute
        w = reports.compute(s, world.actor("shi"), rid, grade=1, insider=True)
    expected = compute_reward(Decimal("120000"), 1, load_reward_rules(), insider=True).amount
    assert Decimal(w["amount"]) == expected == Decimal("4320")  # 3 % × 1.2
    with world.db.session() as s:
        with pytest.raises(PermissionDenied):  # only the bureau head approves
            reports.act_on_reward(s, world.actor("shi"), w["id"], "approve", w["version"])
        w = reports.act_on_reward(s, world.actor("fuzeren"), w["id"], "approve", w["version"])
        assert reports.public_status(s, filed["code"])["reward"] is None  # not before the notice
        w = reports.act_on_reward(
            s, world.actor("shi"), w["id"], "issue_notice", w["version"], notice_no="奖通〔2026〕1号"
        )
    assert w["status"] == "notified" and w["claim_due"] == "2026-05-06"  # two months, past the May holiday
    with world.db.session() as s:
        pub = reports.public_status(s, filed["code"])
        assert pub["reward"] == {"status": "notified", "status_zh": "已通知待领取", "amount": "4320.00",
                                 "claim_due": "2026-05-06"}  # fmt: skip
        with pytest.raises(ValidationFailed):  # someone else's identity
            reports.claim(s, filed["code"], name="张三", id_no="110105198501011234")
    with world.db.session() as s:
        assert reports.claim(s, filed["code"], name=NAME, id_no=ID_NO)["status"] == "claimed"
    with world.db.session() as s:
        w = reports.get_reward(s, world.actor("shi"), w["id"])
        w = reports.act_on_reward(
            s, world.actor("shi"), w["id"], "pay", w["version"], voucher_no="PZ-2026-0001"
        )
        assert w["status"] == "paid"
        stats = reports.statistics(s, world.actor("shi"))
        ledger = reports.payment_ledger(s, world.actor("shi"))
    assert (
        stats["became_clues"] == 1
        and stats["recovered"] == "120000.00"
        and stats["rewards_paid"] == "4320.00"
    )
    assert {c["key"]: c["count"] for c in stats["by_outcome"]}["substantiated"] == 1
    # the identity is nowhere in the stored bytes (database, record, access log), the ledger, or the attachment
    stored = _db_bytes(world)
    for secret in (NAME, PHONE, ID_NO):
        assert secret.encode() not in stored and secret.encode("utf-16-le") not in stored
        assert secret.encode() not in ledger
    assert filed["code"].encode() not in stored  # the tracking code is stored only as its keyed hash


def test_only_the_designated_role_decrypts_with_a_reason(world: World) -> None:
    filed = _file(world)
    rid = _report_id(world, filed["number"])
    with world.db.session() as s:
        for who in ("shi", "xian", "jingban", "fazhi", "disanfang", "admin", "yiyuan"):
            with pytest.raises(PermissionDenied):
                reports.reveal_identity(s, world.actor(who), rid, "核实举报内容")
        with pytest.raises(ValidationFailed):
            reports.reveal_identity(s, world.actor("fuzeren"), rid, "  ")
        who = reports.reveal_identity(s, world.actor("fuzeren"), rid, "发放奖励核对身份")
    assert (who["name"], who["phone"], who["id_no"]) == (NAME, PHONE, ID_NO)
    with world.db.session() as s:
        log = s.execute(sa.select(AccessLog).where(AccessLog.action == "report.identity")).scalars().all()
        rec = s.execute(sa.select(RecordEntry).where(RecordEntry.action == "report.identity")).scalars().all()
    assert [(e.username, e.target) for e in log] == [("fuzeren", f"report:{rid} 发放奖励核对身份")]
    assert len(rec) == 1 and "发放奖励核对身份" in rec[0].payload and NAME not in rec[0].payload


def test_roles_that_must_not_see_reports(world: World) -> None:
    filed = _file(world)
    rid = _report_id(world, filed["number"])
    for who in ("yiyuan", "jingban", "fazhi", "disanfang", "admin"):
        with world.db.session() as s:
            with pytest.raises(PermissionDenied):
                reports.list_reports(s, world.actor(who))
            with pytest.raises(PermissionDenied):
                reports.get_report(s, world.actor(who), rid)
            with pytest.raises(PermissionDenied):
                reports.statistics(s, world.actor(who))
    with world.db.session() as s:  # a county officer sees only the reports of its own county
        assert reports.list_reports(s, world.actor("xian"))["total"] == 0
        with pytest.raises(NotFound):
            reports.get_report(s, world.actor("xian"), rid)
        assert reports.list_reports(s, world.actor("sheng"))["total"] == 1  # the province sees its cities


def test_transfer_reject_repeat_and_exclusions(world: World) -> None:
    first = _file(world, target="某某医院")
    again = _file(world, real_name=False, target="某 某 医院")
    a, b = _report_id(world, first["number"]), _report_id(world, again["number"])
    with world.db.session() as s:
        assert reports.get_report(s, world.actor("shi"), b)["duplicate_of"] == a  # linked as a repeat
        assert [x["id"] for x in reports.get_report(s, world.actor("shi"), a)["linked"]] == [b]
    county = world.actor("xian").admdvs
    detail = _act(world, "shi", b, "transfer", to_admdvs=county, comment="按属地分派")
    assert detail["admdvs"] == county and detail["status"] == "registered"
    with world.db.session() as s:
        assert reports.get_report(s, world.actor("xian"), b)["number"] == again["number"]
    with pytest.raises(ValidationFailed):
        _act(world, "xian", b, "transfer", to_admdvs="999999", comment="错误区划")
    detail = _act(world, "xian", b, "reject", reason="handled", reply="与已受理举报为同一事实。")
    assert detail["status"] == "rejected" and detail["notice_due"] is None  # anonymous: nobody to tell
    with world.db.session() as s:
        assert "不予受理" in reports.public_status(s, again["code"])["reply"]
    # exclusions: an excluded reporter gets nothing, whatever the case found
    with world.db.session() as s:
        r = reports.set_exclusion(s, world.actor("shi"), a, "staff", s.get(Report, a).version)
    assert r["excluded"] == "staff"
    _act(world, "shi", a, "accept")
    detail = _act(world, "shi", a, "to_clue", fixmedins_code=world.actor("yiyuan").fixmedins_code)
    _confirm_clue(world, detail["clue_id"], "800")
    with world.db.session() as s, pytest.raises(InvalidTransition) as e:
        reports.compute(s, world.actor("shi"), a, grade=3)
    assert "医疗保障部门" in e.value.zh


def test_first_in_time_and_waiver(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    early = _file(world, real_name=False)
    late = _file(world, real_name=False)
    a, b = _report_id(world, early["number"]), _report_id(world, late["number"])
    for rid in (a, b):
        _act(world, "shi", rid, "accept")
    detail = _act(world, "shi", a, "to_clue", fixmedins_code=world.actor("yiyuan").fixmedins_code)
    _confirm_clue(world, detail["clue_id"], "3000")
    with world.db.session() as s:  # the later reporter of the same facts (a repeat) is not rewarded
        s.get(Report, b).clue_id = detail["clue_id"]
    with world.db.session() as s, pytest.raises(InvalidTransition) as e:
        reports.compute(s, world.actor("shi"), b, grade=1)
    assert early["number"] in e.value.zh
    with world.db.session() as s:
        w = reports.compute(s, world.actor("shi"), a, grade=3)
        assert w["amount"] == "200.00"  # 1 % of 3,000 is under the floor
        w = reports.act_on_reward(s, world.actor("fuzeren"), w["id"], "approve", w["version"])
        w = reports.act_on_reward(
            s, world.actor("shi"), w["id"], "issue_notice", w["version"], notice_no="奖通〔2026〕2号"
        )
    monkeypatch.setenv(
        "FUNDGUARD_TODAY", (dt.date(2026, 5, 7)).isoformat()
    )  # the window closed on 2026-05-06
    with world.db.session() as s:
        assert reports.public_status(s, early["code"])["reward"]["status"] == "waived"
        with pytest.raises(InvalidTransition) as e:
            reports.claim(s, early["code"], name="李四", id_no="110105198501011234")
        assert "逾期" in e.value.zh
        assert s.execute(sa.select(ReportReward.status)).scalar_one() == "waived"


def test_filing_refuses_bad_input(world: World) -> None:
    admdvs = world.actor("shi").admdvs
    base = dict(target_kind="institution", violation_type="other", target_name="某药店",
                description="该药店用医保卡刷生活用品，收银员称可以。", admdvs=admdvs)  # fmt: skip
    cases = [
        {"admdvs": "000000"}, {"target_kind": "alien"}, {"violation_type": "x"}, {"description": "太短"},
        {"description": "长" * 5001}, {"real_name": True, "identity": {"name": NAME, "phone": "12345"}},
        {"real_name": True, "identity": {"phone": PHONE}},
        {"attachments": [("a.png", "image/png", b"not a png")]},
        {"attachments": [("a.exe", "application/x-msdownload", b"MZ")]},
        {"attachments": [("a.pdf", "application/pdf", b"%PDF<script>alert(1)</script>")]},
        {"attachments": [("a.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024))]},
    ]  # fmt: skip
    for extra in cases:
        with world.db.session() as s, pytest.raises(ValidationFailed):
            reports.file_report(s, **{**base, **extra})


def test_demo_seed_leaves_a_reward_waiting_for_its_claim(world: World) -> None:
    from fundguard.service.seed import seed_demo_reports

    with world.db.session() as s:
        seeded = seed_demo_reports(s)
    with world.db.session() as s:
        assert seed_demo_reports(s) == []  # once
        statuses = [reports.public_status(s, r["code"]) for r in seeded]
    assert [p["status"] for p in statuses] == ["registered", "accepted", "concluded"]
    assert statuses[2]["reward"]["status"] == "notified" and statuses[2]["reward"]["amount"] == "3096.00"


def test_time_limits_and_overdue_warnings(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    filed = _file(world)
    rid = _report_id(world, filed["number"])
    with world.db.session() as s:
        item = reports.get_report(s, world.actor("shi"), rid)
        assert item["due_date"] == "2026-03-23" and item["warnings"] == []  # 15 working days to decide
        assert reports.list_reports(s, world.actor("shi"), overdue=True)["total"] == 0
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-03-24")
    with world.db.session() as s:
        late = reports.list_reports(s, world.actor("shi"), overdue=True)["items"]
    assert [i["number"] for i in late] == [filed["number"]] and "待受理已逾期" in late[0]["warnings"][0]
    detail = _act(world, "shi", rid, "accept")
    assert detail["notice_due"] == "2026-03-31"  # 5 working days to tell the real-name reporter
    monkeypatch.setenv("FUNDGUARD_TODAY", "2026-04-01")
    with world.db.session() as s:
        warnings = reports.get_report(s, world.actor("shi"), rid)["warnings"]
    assert any(w.startswith("告知实名举报人") and "已逾期" in w for w in warnings)
