"""Issue 16b in the browser: a typical case approved by the head and shown on the public page with masking; a
referral to 公安 approved, sent, and its receipt and result coming back in an exchange file; a cross-region clue
seen by the place of insurance (which asks for joint handling) and by the place of treatment (which accepts); a
partner's Excel exchange file uploaded (bad rows listed, nothing half-imported; then its findings as clues)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from service_ws import LiveServer, ServiceWorkspace
from test_workbench import do_action, goto, login, shot, wait_until

from fundguard.service import auth, cases, clues, crossregion, referrals
from fundguard.service.db import Database
from fundguard.service.models import Clue, ClueHit, CrossRegionLink, User


def _as(s: Any, username: str) -> Any:
    return auth.actor_for_user(s, s.execute(sa.select(User).where(User.username == username)).scalar_one())


def _user(db: Database, username: str, role: str, admdvs: str, inst: str | None = None) -> dict[str, Any]:
    """A user of this journey (created once per workspace; the password is reset each time)."""
    password = auth.generate_password()
    with db.session() as s:
        u = s.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
        if u is None:
            auth.create_user(s, username, password, role, admdvs, display_name=username, fixmedins_code=inst,
                             must_change=False)  # fmt: skip
        else:
            u.password_hash = auth.hash_password(password)
    return {"username": username, "password": password, "role": role}


def _closed_case(db: Database) -> tuple[int, str]:
    """A case taken from its clue to 结案 through the service (the browser journeys of cases are elsewhere); its
    findings name one of the clue's patients. Returns the case id and that name."""
    with db.session() as s:
        used = {u.fixmedins_code for u in s.execute(sa.select(User).where(User.role == "hospital")).scalars()}
        county = _as(s, "xian")
        clue = s.execute(sa.select(Clue).where(Clue.admdvs == county.admdvs, Clue.status == "pending_initial",
                                               Clue.fixmedins_code.not_in(used), Clue.hits > 0)
                         .order_by(Clue.amount.desc())).scalars().first()  # fmt: skip
        cid, inst = clue.id, clue.fixmedins_code
        name = s.execute(
            sa.select(ClueHit.psn_name).where(ClueHit.clue_id == cid, ClueHit.psn_name != "")
        ).scalar()
    _user(db, f"yy_{inst}", "hospital", clue.admdvs, inst)
    today = dt.date.today().isoformat()

    def clue_step(who: str, action: str, **f: Any) -> None:
        with db.session() as s:
            a = _as(s, who)
            clues.act_on_clue(s, a, cid, action, clues.get_clue(s, a, cid)["version"], **f)

    def case_step(who: str, action: str, **f: Any) -> dict:
        with db.session() as s:
            a = _as(s, who)
            return cases.act_on_case(s, a, case_id, action, cases.get_case(s, a, case_id)["version"], **f)

    clue_step("xian", "initial_confirm")
    clue_step("shi", "review_confirm")
    clue_step(f"yy_{inst}", "accept", comment="无异议")
    clue_step("xian", "verify_confirm", confirmed_amount="5000")
    with db.session() as s:
        a = _as(s, "xian")
        case_id = cases.open_case(s, a, cid, clues.get_clue(s, a, cid)["version"])["id"]
    case_step("xian", "start_investigation", officers=["xian", "shi2"])
    case_step("xian", "finish_investigation", findings=f"参保人{name}（电话 13800001234）被重复收费",
              behaviour_code="A38_3", loss_amount="2000", intent="无骗取故意", evidence=["收费清单"])  # fmt: skip
    case_step("shi", "propose", article="38", circumstance="一般", fine_amount="3000")
    case_step("fazhi", "legal_review_pass")
    case_step("xian", "issue_notice", notice_date=today)
    case_step("xian", "statement_done", waived=True, comment="放弃")
    case_step("fuzeren", "decide", decision_type="处罚")
    case_step("xian", "serve", served_on=today, method="直接送达")
    case_step("xian", "record_fine", amount="3000", paid_on=today, voucher_no="GK-W1")
    case_step("xian", "record_refund", amount="2000", paid_on=today, voucher_no="JJ-W1")
    assert case_step("xian", "close", grounds="executed", comment="执行完毕")["status"] == "closed"
    return case_id, name


def test_typical_case_approved_and_shown_masked_on_the_public_page(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    db = Database(service_ws.database_url)
    try:
        case_id, name = _closed_case(db)
    finally:
        db.dispose()
    county, head = service_ws.user("county_supervisor"), service_ws.user("bureau_head")
    login(page, county)
    goto(page, "#/disclosures")
    page.select_option("#disclosure-form select[name=kind]", "typical_case")
    page.fill("#disclosure-form input[name=case_id]", str(case_id))
    page.fill("#disclosure-form textarea[name=text]", f"{name}就医时被重复收费，举报电话 13912345678。")
    page.click("#disclosure-form button[type=submit]")
    wait_until(
        lambda: (page.get_attribute("#main", "data-ready") or "").startswith("/disclosures/"), "the draft"
    )
    content = page.inner_text("#disclosure-content")
    assert name not in content and "13912345678" not in content and "13800001234" not in content
    assert name[0] + "*" in content and "草稿" in page.inner_text("#disclosure-status")
    route = page.get_attribute("#main", "data-ready")
    item_id = int(route.rsplit("/", 1)[1])
    assert (
        httpx.get(f"{server.url}/api/public/disclosure/{item_id}").status_code == 404
    )  # a draft is not public
    do_action(page, "submit")
    assert "待负责人审批" in page.inner_text("#disclosure-status")
    assert page.locator("details.action[data-action='approve']").count() == 0  # the drafter cannot approve
    login(page, head)
    goto(page, "#" + route)
    do_action(page, "approve", {"comment": "同意公开"})
    assert "已批准待发布" in page.inner_text("#disclosure-status")
    shot(page, "60-disclosure-approved")
    login(page, county)
    goto(page, "#" + route)
    do_action(page, "publish")
    assert "已发布" in page.inner_text("#disclosure-status")
    page.context.clear_cookies()  # the public page needs no login
    page.goto("/public/disclosure/")
    assert page.locator(f"a[href='{item_id}.html']").count() == 1
    page.click(f"a[href='{item_id}.html']")
    page.wait_for_selector("article h1")
    text = page.inner_text("main")
    assert "典型案例曝光" in text and name[0] + "*" in text
    assert name not in text and "13912345678" not in text and "13800001234" not in text
    shot(page, "61-public-typical-case")
    hospital = service_ws.user("hospital")
    login(page, hospital)
    assert "信息公开" not in page.inner_text("#nav")  # an institution reads the public page like anyone


def test_referral_to_police_and_its_result(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    db = Database(service_ws.database_url)
    try:
        with db.session() as s:
            county = _as(s, "xian")
            cid = s.execute(sa.select(Clue.id).where(Clue.admdvs == county.admdvs, Clue.status == "pending_initial")
                            .order_by(Clue.id.desc())).scalars().first()  # fmt: skip
            r = referrals.create_referral(s, county, clue_id=cid, target="公安", reason="涉嫌诈骗医保基金")
    finally:
        db.dispose()
    sup, head = service_ws.user("county_supervisor"), service_ws.user("bureau_head")
    login(page, head)
    goto(page, "#/exchange")
    box = f"[data-referral='{r['id']}']"
    assert "待负责人审批" in page.inner_text(box)
    page.locator(box).locator("details.action[data-action='approve'] summary").click()
    do_action(page, "approve", {"comment": "同意移送"})
    login(page, sup)
    goto(page, "#/exchange")
    do_action(page, "send", {"receiver": "市公安局经侦支队"})
    assert "已移送" in page.inner_text(box)
    page.click("#exchange-export-btn")
    wait_until(lambda: "fundguard-exchange" in page.inner_text("#exchange-export"), "the export")
    exported = json.loads(page.inner_text("#exchange-export"))
    assert any(m["referral_id"] == r["id"] and m["partner"] == "公安" for m in exported["messages"])
    reply = {"format": "fundguard-exchange", "version": "1.0", "sender": {"department": "市公安局"},
             "created_at": "2026-12-07T10:00:00", "messages": [
                 {"message_id": f"GA-W-{r['id']}-1", "kind": "receipt", "partner": "公安", "sent_at": "2026-12-07",
                  "referral_id": r["id"], "receipt_no": "GA-HZ-9", "receipt_by": "刘警官"},
                 {"message_id": f"GA-W-{r['id']}-2", "kind": "result", "partner": "公安", "sent_at": "2026-12-07",
                  "referral_id": r["id"], "result": "accepted", "outcome": "已立案侦查"}]}  # fmt: skip
    page.fill("#exchange-import-text", json.dumps(reply, ensure_ascii=False))
    page.click("#exchange-import-btn")
    wait_until(lambda: "已立案/已受理" in page.inner_text(box), "the result fed back")
    assert "GA-HZ-9" in page.inner_text(box) and "已立案侦查" in page.inner_text(box)
    assert f"GA-W-{r['id']}-2" in page.inner_text("#exchange-log")
    shot(page, "62-referral-result")
    login(page, service_ws.user("hospital"))
    assert "部门协同" not in page.inner_text("#nav")
    assert httpx.get(f"{server.url}/api/exchange/messages").status_code == 401


def test_cross_region_clue_seen_by_both_regions(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    db = Database(service_ws.database_url)
    try:
        with db.session() as s:
            crossregion.link_clues(s, service_ws.workspace)
            link, clue = s.execute(sa.select(CrossRegionLink, Clue).join(Clue, Clue.id == CrossRegionLink.clue_id)
                                   .where(CrossRegionLink.joint_status == "")
                                   .order_by(CrossRegionLink.amount.desc())).first()  # fmt: skip
            link_id, insu, treat = link.id, link.insu_admdvs, clue.admdvs
        insured_side = _user(db, f"cb_{insu}", "county_supervisor", insu)
        treating = _user(db, f"jy_{treat}", "county_supervisor", treat)
    finally:
        db.dispose()
    login(page, insured_side)
    assert "异地就医" in page.inner_text("#nav")
    assert page.locator("#dashboard-crossregion").count() == 1  # a focus of the dashboard
    goto(page, "#/crossregion")
    row = page.locator("#cr-insurance-list tr", has_text=clue.rule_name).first
    assert insu in row.inner_text()
    page.once("dialog", lambda d: d.accept("请求联合调查本地参保人员异地就医情况"))
    row.locator("button.joint-request").click()
    wait_until(lambda: "已请求联合办案" in page.inner_text("#cr-insurance-list"), "the joint request")
    shot(page, "63-crossregion-insurance")
    login(page, treating)
    goto(page, "#/crossregion")
    assert "请求联合调查" in page.inner_text("#cr-treatment-list")
    page.locator("#cr-treatment-list button.joint-accept").first.click()
    wait_until(lambda: "联合办案中" in page.inner_text("#cr-treatment-list"), "the acceptance")
    shot(page, "64-crossregion-treatment")
    h = {"Authorization": "Bearer " + httpx.post(f"{server.url}/api/auth/login", json={
        "username": service_ws.user("hospital")["username"], "password": service_ws.user("hospital")["password"]}).json()["token"]}  # fmt: skip
    assert httpx.get(f"{server.url}/api/crossregion/clues", headers=h).status_code == 403
    assert link_id


def test_partner_excel_file_uploaded_registers_clues_and_bad_rows_are_listed(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace, tmp_path: Path
) -> None:
    """标准互认 by file: a partner's Excel exchange file with a bad row is refused whole, the row named in
    Chinese; corrected, it goes in and each finding is a clue of source 部门互认."""
    from fundguard.service import exchange
    from fundguard.service.models import ExchangeMessage, Institution

    sup = service_ws.user("county_supervisor")
    db = Database(service_ws.database_url)
    try:
        with db.session() as s:
            county = _as(s, sup["username"])
            inst = s.execute(sa.select(Institution.fixmedins_code).where(Institution.admdvs == county.admdvs)
                             .order_by(Institution.fixmedins_code)).scalars().first()  # fmt: skip
    finally:
        db.dispose()
    ids = [f"WJ-WEB-{n}" for n in (1, 2)]
    env = {"format": "fundguard-exchange", "version": "1.0", "sender": {"department": "市卫生健康委"},
           "created_at": "2026-12-07T09:00:00", "messages": [
               {"message_id": mid, "kind": "finding", "partner": "卫生健康", "sent_at": "2026-12-06",
                "fixmedins_code": inst, "summary": f"病历与结算不符（{mid}）", "partner_ref": f"卫监〔2026〕{n}号",
                "amount": "880.00", "documents": [{"name": "监督意见书", "number": f"卫监〔2026〕{n}号"}]}
               for n, mid in enumerate(ids, start=1)]}  # fmt: skip
    good = exchange.write_file(env, tmp_path / "卫健认定.xlsx")
    bad_xlsx = _xlsx_with_bad_partner(
        good, tmp_path / "卫健认定-错误.xlsx"
    )  # line 3: a partner not in the format
    login(page, sup)
    goto(page, "#/exchange")
    page.set_input_files("#exchange-file-form input[type=file]", str(bad_xlsx))
    page.click("#exchange-file-btn")
    page.wait_for_selector("#exchange-file-error")
    text = page.inner_text("#exchange-file-result")
    assert "未导入任何消息" in text and "第 3 行" in text and "partner" in text and "取值应为" in text
    assert ids[1] in text and "第 2 行" not in text
    shot(page, "65-exchange-file-bad-rows")

    def logged() -> set[str]:
        d = Database(service_ws.database_url)
        try:
            with d.session() as s:
                return set(s.execute(sa.select(ExchangeMessage.message_id)
                                     .where(ExchangeMessage.message_id.in_(ids))).scalars())  # fmt: skip
        finally:
            d.dispose()

    assert logged() == set()  # the good line 2 did not go in either
    page.set_input_files("#exchange-file-form input[type=file]", str(good))
    page.click("#exchange-file-btn")
    wait_until(lambda: all(i in page.inner_text("#exchange-log") for i in ids), "the imported messages")
    assert logged() == set(ids)
    page.locator("#exchange-log tr", has_text=ids[0]).locator("a").click()
    page.wait_for_selector("#main[data-ready^='/clues/']")
    assert "卫监〔2026〕1号" in page.inner_text("#main") and "部门互认" in page.inner_text("#main")
    shot(page, "66-exchange-file-clue")
    r = httpx.post(f"{server.url}/api/exchange/import-file", files={"file": ("x.json", b"{}")})
    assert r.status_code == 401  # no login, no import


def _xlsx_with_bad_partner(good: Path, out: Path) -> Path:
    from openpyxl import load_workbook

    wb = load_workbook(good)
    sheet = wb["消息"]
    cols = [c.value for c in sheet[1]]
    sheet.cell(row=3, column=cols.index("partner") + 1, value="法院")
    wb.save(out)
    return out


def test_flagged_institutions_become_clues_and_an_annual_plan_focus(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace, monkeypatch: Any
) -> None:
    """A county whose small institutions or pharmacies the out-of-region indicator flags: the dashboard counts
    them, one click makes them clues on the place of treatment's list, and an annual plan with 异地就医 as its focus
    puts them on site with the reason shown."""
    monkeypatch.setenv(
        "FUNDGUARD_CROSSREGION_SHARE", "0.001"
    )  # the server runs in this process: it reads it too
    db = Database(service_ws.database_url)
    try:
        with db.session() as s:
            rows = crossregion.indicator(s, _as(s, "shi"), service_ws.workspace)["treatment"]
            used = _as(s, service_ws.user("county_supervisor")["username"]).admdvs
        flagged = [r for r in rows if r["flag"] and r["admdvs"] != used]  # a county no other journey works in
        assert flagged, "the test city has no flagged institution outside the county of the other journeys"
        county = flagged[0]["admdvs"]
        mine = {r["fixmedins_code"]: r["flag_zh"] for r in flagged if r["admdvs"] == county}
        names = [r["fixmedins_name"] for r in flagged if r["admdvs"] == county]
        treating = _user(db, f"jy_flag_{county}", "county_supervisor", county)
    finally:
        db.dispose()
    login(page, treating)
    assert page.inner_text("#dashboard-cr-flagged .value").strip() == str(len(mine))
    goto(page, "#/crossregion")
    page.click("#cr-flag-clues")
    wait_until(
        lambda: "异地就医：" in page.inner_text("#cr-treatment-list"), "the flagged institutions' clues"
    )
    listed = page.inner_text("#cr-treatment-list")
    assert all(name in listed for name in names)  # the place of treatment's list names each institution
    shot(page, "67-crossregion-flagged-clues")
    goto(page, "#/inspections?tab=plan")
    page.fill("#plan-form input[name=seed_value]", "异地就医-2026")
    page.fill("#plan-form input[name=top_n]", "0")
    page.fill("#plan-form input[name=sample_ratio]", "0")
    page.check("#plan-form input[name=focus_crossregion]")
    page.click("#plan-form button[type=submit]")
    wait_until(lambda: "plan=" in (page.get_attribute("#main", "data-ready") or ""), "the plan")
    page.wait_for_selector(".plan-reasons")
    for code, why in mine.items():
        row = page.locator("tr", has_text=code).first.inner_text()
        assert "异地就医重点：" in row and why in row
    shot(page, "68-plan-crossregion-focus")
