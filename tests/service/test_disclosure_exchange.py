"""Issue 16b: 信息公开 (a typical case through draft → the head's approval → published → withdrawn, masked per PIPL,
the other kinds from their sources, the static export), 部门协同 (a referral to 公安 out in the exchange format,
its receipt and result back, a partner finding in as a clue, JSON and Excel) and 异地就医 (links seen by the place
of treatment and the place of insurance, joint handling) — per role, including what each role must NOT see."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from test_service_flow import _act, _case_ready

from fundguard.data.store import Store
from fundguard.service import auth, clues, crossregion, disclosure, exchange, referrals, seed
from fundguard.service.errors import NotFound, PermissionDenied, ValidationFailed
from fundguard.service.models import ClueHit, CrossRegionLink, Draw

if TYPE_CHECKING:
    from conftest import World


def _closed_case(world: World, findings: str, case: dict | None = None) -> dict:
    cid = (case or _case_ready(world))["id"]
    _act(world, "xian", cid, "start_investigation", officers=["xian", "shi2"])
    _act(world, "xian", cid, "finish_investigation", findings=findings, behaviour_code="A38_2",
         loss_amount="2000", intent="无骗取故意", evidence=["处方 5 张"])  # fmt: skip
    _act(world, "shi", cid, "propose", article="38", circumstance="一般", fine_amount="3000")
    _act(world, "fazhi", cid, "legal_review_pass")
    _act(world, "xian", cid, "issue_notice", notice_date="2026-03-02")
    _act(world, "xian", cid, "statement_done", waived=True, comment="当事人书面放弃")
    _act(world, "fuzeren", cid, "decide", decision_type="处罚")
    served = _act(world, "xian", cid, "serve", served_on="2026-03-02", method="直接送达")
    due = served["execution"]["payment_due"]
    _act(world, "xian", cid, "record_fine", amount="3000", paid_on=due, voucher_no="GK-1")
    _act(world, "xian", cid, "record_refund", amount="2000", paid_on=due, voucher_no="JJ-1")
    closed = _act(world, "xian", cid, "close", grounds="executed", comment="执行完毕")
    assert closed["status"] == "closed"
    return closed


def _disc(world: World, username: str, did: int, action: str, **fields: Any) -> dict:
    actor = world.actor(username)
    with world.db.session() as s:
        v = disclosure.get_disclosure(s, actor, did)["version"]
        return disclosure.act_on_disclosure(s, actor, did, action, v, **fields)


def _patient(world: World, case: dict) -> tuple[str, str]:
    with world.db.session() as s:
        return s.execute(sa.select(ClueHit.psn_name, ClueHit.psn_no)
                         .where(ClueHit.clue_id == case["clue_id"], ClueHit.psn_name != "")).first()  # fmt: skip


def test_typical_case_is_approved_published_masked_and_withdrawn(world: World, tmp_path: Path) -> None:
    open_case = _case_ready(world)
    with world.db.session() as s, pytest.raises(ValidationFailed, match="已结案"):
        disclosure.create_disclosure(s, world.actor("xian"), kind="typical_case", case_id=open_case["id"])
    case = _closed_case(world, "经查", open_case)
    name, psn_no = _patient(world, case)
    summary = f"患者{name}（身份证号 110101198001011234，电话 13812345678，人员编号 {psn_no}）被超量开药。"
    county = world.actor("xian")
    with world.db.session() as s:
        d = disclosure.create_disclosure(s, county, kind="typical_case", case_id=case["id"], text=summary)
    text = json.dumps(d["content"], ensure_ascii=False)
    for secret in (name, "110101198001011234", "13812345678", psn_no):
        assert secret not in text, secret  # masked in the officer's free text too
    assert name[0] + "*" in text and "1101************34" in text
    assert d["status_zh"] == "草稿" and [a["action"] for a in d["actions"]] == ["submit"]
    with world.db.session() as s:
        assert disclosure.public_items(s) == []
    d = _disc(world, "xian", d["id"], "submit")
    with pytest.raises(PermissionDenied):  # the drafter cannot approve their own item
        _disc(world, "xian", d["id"], "approve")
    d = _disc(world, "fuzeren", d["id"], "approve", comment="同意公开")
    with world.db.session() as s:  # approved is not yet published
        assert disclosure.public_items(s) == []
        with pytest.raises(NotFound):
            disclosure.public_item(s, d["id"])
    d = _disc(world, "xian", d["id"], "publish")
    assert d["status"] == "published" and d["published_at"]
    with world.db.session() as s:
        items = disclosure.public_items(s)
        assert [i["id"] for i in items] == [d["id"]] and items[0]["kind_zh"] == "典型案例曝光"
        page = disclosure.render_item_html(disclosure.public_item(s, d["id"]))
        files = disclosure.export_site(s, tmp_path / "site")
    assert name not in page and "13812345678" not in page and "罚款（元）" in page
    assert (tmp_path / "site" / f"{d['id']}.html").read_text(encoding="utf-8") == page
    assert d["content"]["title"] in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert len(files) == 3
    _disc(world, "fuzeren", d["id"], "withdraw", comment="公示期满")
    with world.db.session() as s:
        assert disclosure.public_items(s) == []
        with pytest.raises(NotFound):
            disclosure.public_item(s, d["id"])


def test_who_may_draft_and_read_disclosures(world: World) -> None:
    with world.db.session() as s:
        for who in ("yiyuan", "disanfang", "jingban", "admin"):  # none of them reads or drafts
            with pytest.raises(PermissionDenied):
                disclosure.list_disclosures(s, world.actor(who))
            with pytest.raises(PermissionDenied):
                disclosure.create_disclosure(s, world.actor(who), kind="joint_punishment")
        with pytest.raises(PermissionDenied):  # the legal reviewer and the head read, they do not draft
            disclosure.create_disclosure(s, world.actor("fazhi"), kind="joint_punishment")
        d = disclosure.create_disclosure(s, world.actor("shi"), kind="joint_punishment")
        assert disclosure.list_disclosures(s, world.actor("fazhi"))["total"] == 1
        with pytest.raises(ValidationFailed):
            disclosure.create_disclosure(s, world.actor("shi"), kind="gossip")
        with pytest.raises(ValidationFailed, match="公告正文"):
            disclosure.create_disclosure(s, world.actor("shi"), kind="flight_notice", year=2026)
    other = _other_county_supervisor(world, "890105")
    with world.db.session() as s, pytest.raises(NotFound):  # a city item is outside a county's scope
        disclosure.get_disclosure(s, other, d["id"])


def test_fund_use_draw_and_flight_notice_from_their_sources(world: World) -> None:
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        year = seed.seed_inspection_year(s)
    con = Store(world.workspace).connect()
    paid, n = con.execute("SELECT sum(fund_pay_sumamt), count(*) FROM setl_d WHERE vali_flag = '1' AND "
                          "fixmedins_code = ? AND extract(year FROM setl_time) = 2025", [hosp.fixmedins_code]).fetchone()  # fmt: skip
    con.close()
    shi = world.actor("shi")
    with world.db.session() as s:
        fu = disclosure.create_disclosure(s, shi, kind="fund_use", fixmedins_code=hosp.fixmedins_code, year=2025,
                                          workspace=world.workspace)  # fmt: skip
        facts = dict(fu["content"]["facts"])
        assert Decimal(facts["医保基金支付（元）"]) == Decimal(paid).quantize(Decimal("0.01")) and n > 0
        assert facts["结算人次"] == str(n) and len(fu["content"]["tables"][0]["rows"]) == 5
        draw_id = s.execute(sa.select(Draw.id).where(Draw.number == year["draw"])).scalar_one()
        dr = disclosure.create_disclosure(s, shi, kind="draw", draw_id=draw_id)
        assert dict(dr["content"]["facts"])["抽取编号"] == year["draw"] and dr["content"]["tables"][0]["rows"]
        fl = disclosure.create_disclosure(
            s, shi, kind="flight_notice", year=2026, text="本年度开展飞行检查，联系电话 13900001111"
        )
        assert "13900001111" not in json.dumps(fl["content"], ensure_ascii=False)
        with pytest.raises(NotFound):
            disclosure.create_disclosure(s, shi, kind="fund_use", fixmedins_code="NOPE", year=2025)


def _other_county_supervisor(world: World, admdvs: str) -> Any:
    username = f"xian_{admdvs}"
    if username not in world.actors:  # world.passwords is shared by the tests: log in here, not there
        with world.db.session() as s:
            password = auth.generate_password()
            auth.create_user(s, username, password, "county_supervisor", admdvs, display_name=f"{admdvs}监管员",
                             must_change=False)  # fmt: skip
        with world.db.session() as s:
            world.actors[username] = auth.actor_for_token(s, auth.login(s, username, password)[0])
    return world.actors[username]


def _sent_police_referral(world: World) -> dict:
    case = _case_ready(world)
    county = world.actor("xian")
    with world.db.session() as s:
        r = referrals.create_referral(s, county, case_id=case["id"], target="公安", reason="涉嫌诈骗罪")
    with world.db.session() as s:
        r = referrals.act_on_referral(s, world.actor("fuzeren"), r["id"], "approve", r["version"])
    with world.db.session() as s:
        return referrals.act_on_referral(
            s, county, r["id"], "send", r["version"], receiver="市公安局经侦支队"
        )


def test_referral_to_police_out_and_its_receipt_and_result_back(world: World, tmp_path: Path) -> None:
    r = _sent_police_referral(world)
    county = world.actor("xian")
    with world.db.session() as s:
        env = exchange.export_envelope(s, county)
    assert env["format"] == "fundguard-exchange" and env["version"] == "1.0"
    [m] = [m for m in env["messages"] if m["referral_id"] == r["id"]]
    assert m["kind"] == "referral" and m["partner"] == "公安" and m["summary"] == "涉嫌诈骗罪"
    for suffix in ("json", "xlsx"):  # both forms read back to the same envelope
        assert exchange.read_file(exchange.write_file(env, tmp_path / f"out.{suffix}")) == json.loads(
            json.dumps(env)
        )
    hosp = world.actor("yiyuan")
    reply = {"format": "fundguard-exchange", "version": "1.0", "sender": {"department": "市公安局"},
             "created_at": "2026-03-05T10:00:00", "messages": [
                 {"message_id": "GA-2026-0001", "kind": "receipt", "partner": "公安", "sent_at": "2026-03-03",
                  "referral_id": r["id"], "receipt_no": "GA-HZ-01", "receipt_by": "刘警官"},
                 {"message_id": "GA-2026-0002", "kind": "result", "partner": "公安", "sent_at": "2026-03-05",
                  "referral_id": r["id"], "result": "accepted", "outcome": "已立案侦查"}]}  # fmt: skip
    with world.db.session() as s, pytest.raises(PermissionDenied):
        exchange.import_envelope(s, hosp, reply)
    wrong = json.loads(json.dumps(reply))
    wrong["messages"][0]["partner"] = "财政"
    with world.db.session() as s, pytest.raises(ValidationFailed, match="公安"):
        exchange.import_envelope(s, county, wrong)
    path = exchange.write_file(reply, tmp_path / "reply.xlsx")
    with world.db.session() as s:
        done = exchange.import_envelope(s, county, exchange.read_file(path))
    assert done["imported"] == 2 and done["referrals"] == [r["id"], r["id"]]
    with world.db.session() as s:
        back = referrals.get_referral(s, county, r["id"])
        again = exchange.import_envelope(s, county, reply)
        log = exchange.list_messages(s, county)
    assert (
        back["status"] == "accepted" and back["receipt_no"] == "GA-HZ-01" and back["outcome"] == "已立案侦查"
    )
    assert again == {"imported": 0, "skipped": 2, "clues": [], "referrals": []}
    assert {x["message_id"] for x in log} >= {"GA-2026-0001", "GA-2026-0002", m["message_id"]}
    other = _other_county_supervisor(world, "890105")
    with world.db.session() as s:
        assert all(x["referral_id"] != r["id"] for x in exchange.list_messages(s, other))
        with pytest.raises(NotFound):  # another county's officer cannot answer for this referral
            exchange.import_envelope(
                s, other, reply | {"messages": [reply["messages"][0] | {"message_id": "GA-X-1"}]}
            )


def test_partner_finding_becomes_a_clue_and_bad_files_are_refused(world: World) -> None:
    county, hosp = world.actor("xian"), world.actor("yiyuan")
    finding = {"format": "fundguard-exchange", "version": "1.0", "sender": {"department": "市市场监管局"},
               "created_at": "2026-03-05", "messages": [
                   {"message_id": "SC-2026-7", "kind": "finding", "partner": "市场监管", "sent_at": "2026-03-04",
                    "fixmedins_code": hosp.fixmedins_code, "summary": "药品进销存不符", "partner_ref": "市监罚〔2026〕7号",
                    "amount": "1234.50", "documents": [{"name": "行政处罚决定书", "number": "市监罚〔2026〕7号"}]}]}  # fmt: skip
    with world.db.session() as s:
        done = exchange.import_envelope(s, county, finding)
        clue = clues.get_clue(s, county, done["clues"][0])
    assert clue["source"] == "partner" and clue["amount"] == "1234.50" and clue["status"] == "pending_initial"
    assert "市监罚〔2026〕7号" in clue["description"] and "行政处罚决定书" in clue["description"]
    with world.db.session() as s:  # 结果互通: our result on their finding goes back in the next export
        clues.act_on_clue(s, county, clue["id"], "initial_dismiss", clue["version"], comment="经核查不属实")
    with world.db.session() as s:
        env = exchange.export_envelope(s, county, "市场监管")
    [back] = [m for m in env["messages"] if m["kind"] == "result"]
    assert back["partner_ref"] == "市监罚〔2026〕7号" and back["result"] == "dismissed"
    assert all(m["partner"] == "市场监管" for m in env["messages"])
    for bad, match in ((finding | {"version": "2.0"}, "版本"),
                       (finding | {"messages": [finding["messages"][0] | {"summary": ""}]}, "summary"),
                       (finding | {"messages": [finding["messages"][0] | {"partner": "法院"}]}, "partner")):  # fmt: skip
        with world.db.session() as s, pytest.raises(ValidationFailed, match=match):
            exchange.import_envelope(s, county, bad)
    with world.db.session() as s, pytest.raises(PermissionDenied):
        exchange.import_envelope(s, world.actor("disanfang"), finding | {"messages": []})
    other = _other_county_supervisor(world, "890105")
    with world.db.session() as s, pytest.raises(PermissionDenied):  # an institution outside the region
        exchange.import_envelope(
            s, other, finding | {"messages": [finding["messages"][0] | {"message_id": "SC-8"}]}
        )


def test_cross_region_clue_seen_by_both_regions(world: World) -> None:
    city = world.actor("shi")
    for who in ("yiyuan", "disanfang", "fazhi"):
        world.actor(who)
    with world.db.session() as s:
        added = crossregion.link_clues(s, world.workspace)
        assert added > 0 and crossregion.link_clues(s, world.workspace) == 0  # idempotent
        link = s.execute(sa.select(CrossRegionLink).order_by(CrossRegionLink.amount.desc())).scalars().first()
        clue_admdvs = clues.get_clue(s, city, link.clue_id)["admdvs"]
        link_id, insu = link.id, link.insu_admdvs
    assert not insu.startswith(clue_admdvs[:6]) and insu != clue_admdvs
    insured_side = _other_county_supervisor(world, insu)
    treating = _other_county_supervisor(world, clue_admdvs)
    bystander = _other_county_supervisor(world, next(c for c in ("890102", "890103", "890104") if c != insu))
    with world.db.session() as s:
        mine = crossregion.list_linked(s, insured_side, "insurance")
        row = next(x for x in mine if x["id"] == link_id)
        assert row["clue_visible"] is False and row["side_zh"] == "参保地"
        with pytest.raises(NotFound):  # the place of insurance sees its persons' figures, not the whole clue
            clues.get_clue(s, insured_side, link.clue_id)
        assert link_id in [x["id"] for x in crossregion.list_linked(s, treating, "treatment")]
        assert link_id not in [x["id"] for x in crossregion.list_linked(s, bystander, "insurance")]
        with pytest.raises(NotFound):
            crossregion.request_joint(s, bystander, link_id, "联合")
        for who in ("yiyuan", "disanfang", "fazhi"):
            with pytest.raises(PermissionDenied):
                crossregion.list_linked(s, world.actor(who), "insurance")
        asked = crossregion.request_joint(s, insured_side, link_id, "请求联合调查本地参保人员就医情况")
        assert asked["joint_status_zh"] == "已请求联合办案"
        assert crossregion.summary(s, treating)["joint_requested"] >= 1
        with pytest.raises(NotFound):  # the place of insurance cannot answer its own request
            crossregion.answer_joint(s, insured_side, link_id, True)
        answered = crossregion.answer_joint(s, treating, link_id, True, "同意")
        assert answered["joint_status"] == "accepted"
        ind_t = crossregion.indicator(s, treating, world.workspace)
        ind_i = crossregion.indicator(s, insured_side, world.workspace)
    con = Store(world.workspace).connect()
    out = dict(con.execute("SELECT fixmedins_code, count(*) FROM setl_d WHERE vali_flag = '1' AND "
                           "fix_blng_admdvs = ? AND insu_admdvs <> fix_blng_admdvs GROUP BY 1", [clue_admdvs]).fetchall())  # fmt: skip
    mine = dict(con.execute("SELECT fixmedins_code, count(*) FROM setl_d WHERE vali_flag = '1' AND insu_admdvs = ? "
                            "AND fix_blng_admdvs <> ? GROUP BY 1", [insu, insu]).fetchall())  # fmt: skip
    con.close()
    assert {
        r["fixmedins_code"]: r["out_settlements"] for r in ind_t["treatment"] if r["out_settlements"]
    } == out
    assert {r["fixmedins_code"]: r["settlements"] for r in ind_i["insurance"]} == mine


def test_demo_seed_publishes_and_links_once(world: World) -> None:
    world.actor("shi")
    with world.db.session() as s:
        seed.seed_inspection_year(s)
    with world.db.session() as s:
        done = seed.seed_cooperation(s, world.workspace)
        again = seed.seed_cooperation(s, world.workspace)
        items = disclosure.public_items(s)
    assert done["published"] == 2 and done["links"] > 0 and again == {"links": 0, "published": 0}
    assert sorted(i["kind"] for i in items) == ["draw", "fund_use"]
