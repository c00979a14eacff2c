"""The Chinese workbench in real headless Chromium: login, dashboard charts, clue list → detail (why it was
flagged), a supervisor taking a clue through the case procedure to a served decision with documents, the
hospital's appeal with a file, the scorecard pause, ledgers, the record and the offline API docs.

Every page is screenshotted to ``test-artifacts/screenshots/``; the ``page`` fixture fails a test when the
page tried to reach anything but the test server or threw a JavaScript error.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pyotp
from service_ws import LiveServer, ServiceWorkspace

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def shot(page: Any, name: str) -> None:
    """A full-page screenshot kept as a test artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def render_count(page: Any) -> int:
    return int(page.get_attribute("#main", "data-render") or 0)


def wait_until(check: Any, what: str, timeout: float = 30.0) -> None:
    """Poll ``check()`` from Python: the workbench's CSP forbids the string evaluation ``wait_for_function`` uses."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def wait_render(page: Any, before: int) -> None:
    wait_until(lambda: render_count(page) > before, "the page to render again")


def goto(page: Any, hash_: str) -> None:
    """Show a workbench route (``#/clues/3``) in the loaded app and wait until it has rendered."""
    before = render_count(page)
    if page.evaluate("() => location.hash") == hash_:
        page.evaluate("() => window.dispatchEvent(new Event('hashchange'))")  # same route: render it again
    else:
        page.evaluate("h => { location.hash = h; }", hash_)
    wait_render(page, before)


def current_route(page: Any) -> str:
    return "#" + page.url.split("#", 1)[1]


def login(page: Any, user: dict[str, Any]) -> None:
    page.goto("/#/login")
    page.wait_for_selector("#login-form")
    page.fill("#username", user["username"])
    page.fill("#password", user["password"])
    page.click("#login-submit")
    page.wait_for_selector("#user-role")
    wait_until(
        lambda: page.get_attribute("#main", "data-ready") not in (None, "/login"),
        "the first page after login",
    )


def api_headers(server: LiveServer, user: dict[str, Any]) -> dict[str, str]:
    r = httpx.post(
        f"{server.url}/api/auth/login", json={"username": user["username"], "password": user["password"]}
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def do_action(page: Any, action: str, values: dict[str, Any] | None = None, *, refused: bool = False) -> str:
    """Open the action's form (rendered from ``actions[].fields``), fill it like a user, submit, and wait for
    the page to show the new state — or, with ``refused``, for the error message, which is returned."""
    box = page.locator(f"details.action[data-action='{action}']")
    if not box.evaluate("el => el.open"):
        box.locator("summary").click()
    form = box.locator("form")
    for name, value in (values or {}).items():
        field = form.locator(f"[name='{name}']")
        tag = field.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
        if tag.startswith("select"):
            field.select_option([str(v) for v in value] if isinstance(value, list | tuple) else str(value))
        elif tag.endswith(":checkbox"):
            field.set_checked(bool(value))
        else:
            field.fill(str(value))
    page.evaluate("() => { document.getElementById('toast').style.display = 'none'; }")  # an earlier message
    before = render_count(page)
    form.locator("button[type=submit]").click()
    if refused:
        page.wait_for_selector("#toast:not(.ok):visible")
        return page.inner_text("#toast")
    wait_render(page, before)
    error = page.locator("#page-error")
    assert not error.count(), error.inner_text()
    return ""


def api_act(server: LiveServer, user: dict[str, Any], clue_id: int, action: str, **fields: Any) -> None:
    """Act on a clue through the API as ``user`` (the other party of a browser journey)."""
    h = api_headers(server, user)
    version = httpx.get(f"{server.url}/api/clues/{clue_id}", headers=h).json()["version"]
    r = httpx.post(f"{server.url}/api/clues/{clue_id}/actions", headers=h,
                   json={"action": action, "version": version, **fields})  # fmt: skip
    assert r.status_code == 200, r.text


def status_text(page: Any, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


# ---------------------------------------------------------------- tests


def test_login_wrong_password_is_told_in_chinese(page: Any, service_ws: ServiceWorkspace) -> None:
    page.goto("/")
    page.wait_for_selector("#login-form")
    shot(page, "01-login")
    page.fill("#username", service_ws.user("city_supervisor")["username"])
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error:visible")
    assert "用户名或密码错误" in page.inner_text("#login-error")
    shot(page, "02-login-wrong-password")


def test_dashboard_renders_the_charts(page: Any, service_ws: ServiceWorkspace) -> None:
    login(page, service_ws.user("city_supervisor"))
    page.wait_for_selector("#chart-month canvas")
    for chart in ("#chart-rule", "#chart-region", "#chart-month"):
        assert page.locator(f"{chart} canvas").count() >= 1, chart
    assert int(page.inner_text("#total-clues .value").replace(",", "")) > 0
    page.wait_for_selector("#chart-campaigns canvas")  # 监督检查: the demo campaign's progress (issue 14)
    assert "年度监督检查计划" in page.inner_text("#main")
    assert "市级监管员" in page.inner_text("#user-role")
    assert [a.inner_text() for a in page.locator("#nav a").all()] == [
        "仪表盘", "线索", "案件", "模型线索", "规则成效", "台账", "执法记录", "监督检查", "飞行检查", "专项整治", "抽查公开",
        "支付资格记分", "信用评价", "举报处理", "信息公开", "部门协同", "异地就医", "用户与授权",
    ]  # fmt: skip
    shot(page, "03-dashboard")


def test_clue_list_to_detail_shows_why_it_was_flagged(page: Any, service_ws: ServiceWorkspace) -> None:
    login(page, service_ws.user("city_supervisor"))
    before = render_count(page)
    page.click("#nav a[href='#/clues']")
    wait_render(page, before)
    rows = page.locator("tr.clue-row")
    assert rows.count() == 20
    assert "共" in page.inner_text("#page-info")
    shot(page, "04-clue-list")
    # filter by a month in the data, then page
    before = render_count(page)
    page.click("#next-page")
    wait_render(page, before)
    assert "第 2 /" in page.inner_text("#page-info")
    before = render_count(page)
    page.fill("#clue-filters [name='q']", "挂床")
    page.click("#clue-filters button[type=submit]")
    wait_render(page, before)
    assert page.locator("tr.clue-row").count() >= 1
    assert all("挂床" in r.inner_text() for r in page.locator("tr.clue-row").all())
    before = render_count(page)
    page.select_option("#clue-filters [name='status']", "pending_initial")
    page.click("#clue-filters button[type=submit]")
    wait_render(page, before)
    assert "status=pending_initial" in page.url and "q=" in page.url
    assert all("待初审" in r.inner_text() for r in page.locator("tr.clue-row").all())
    before = render_count(
        page
    )  # by source: 规则 keeps these, 大数据模型 (none imported here) empties the list
    page.select_option("#clue-filters [name='source']", "model")
    page.click("#clue-filters button[type=submit]")
    wait_render(page, before)
    assert "source=model" in page.url and page.locator("tr.clue-row").count() == 0
    before = render_count(page)
    page.select_option("#clue-filters [name='source']", "rule")
    page.click("#clue-filters button[type=submit]")
    wait_render(page, before)
    assert "source=rule" in page.url and page.locator("tr.clue-row").count() >= 1
    before = render_count(page)
    page.locator("tr.clue-row a.clue-link").first.click()
    wait_render(page, before)
    assert "条例" in page.inner_text("#legal-basis")
    assert page.inner_text("#knowledge-source").strip() not in ("", "—")
    assert page.locator("tr.evidence-row").count() >= 1
    assert "涉及金额" in page.inner_text("#evidence") or "元" in page.inner_text("#evidence")
    assert page.locator("details.action[data-action='initial_confirm']").count() == 1
    shot(page, "05-clue-detail")


def _hospital_clues(server: LiveServer, service_ws: ServiceWorkspace) -> list[dict[str, Any]]:
    sup = api_headers(server, service_ws.user("city_supervisor"))
    code = service_ws.user("hospital")["fixmedins_code"]
    r = httpx.get(f"{server.url}/api/clues", headers=sup,
                  params={"fixmedins_code": code, "status": "pending_initial", "size": 200})  # fmt: skip
    r.raise_for_status()
    items = r.json()["items"]
    assert len(items) >= 2, "the test hospital needs two clues at 待初审"
    return items


def test_supervisor_takes_a_clue_through_the_case_procedure(
    page: Any, browser: Any, server: LiveServer, service_ws: ServiceWorkspace, tmp_path: Path
) -> None:
    clue = _hospital_clues(server, service_ws)[0]  # the largest amount
    login(page, service_ws.user("city_supervisor"))
    goto(page, f"#/clues/{clue['id']}")
    assert "调查核实" not in status_text(page, "#clue-status")
    do_action(page, "initial_confirm", {"comment": "初审：疑点成立"})
    assert "待复审" in status_text(page, "#clue-status")
    # separation of duties: the officer who did 初审 cannot do 复审, and the page says why before submitting
    blocked = page.locator("details.action[data-action='review_confirm']")
    blocked.locator("summary").click()
    assert "复审须由初审以外的人员办理" in blocked.inner_text()
    assert blocked.locator("button[type=submit]").is_disabled()
    shot(page, "05b-separation-of-duties")
    reviewer = browser.new_context(base_url=server.url, locale="zh-CN")
    rp = reviewer.new_page()
    login(rp, service_ws.user("agency_reviewer"))
    goto(rp, f"#/clues/{clue['id']}")
    do_action(rp, "review_confirm", {"comment": "复审：告知机构"})
    assert "待申诉" in status_text(rp, "#clue-status")
    reviewer.close()
    goto(page, f"#/clues/{clue['id']}")
    assert "待申诉" in status_text(page, "#clue-status")

    # the hospital, in its own browser session, does not contest the flag
    hospital = browser.new_context(base_url=server.url, locale="zh-CN")
    hp = hospital.new_page()
    login(hp, service_ws.user("hospital"))
    assert [a.inner_text() for a in hp.locator("#nav a").all()] == [
        "本院疑点", "飞行检查", "专项整治", "抽查公开", "本院人员记分", "本院信用",
    ]  # fmt: skip
    goto(hp, f"#/clues/{clue['id']}")
    assert hp.locator("#appeal-form").count() == 1
    shot(hp, "06-hospital-clue")
    hospital.close()
    api_act(server, service_ws.user("hospital"), clue["id"], "accept", comment="无异议")

    goto(page, f"#/clues/{clue['id']}")
    assert "调查核实" in status_text(page, "#clue-status")
    do_action(page, "verify_confirm", {"confirmed_amount": clue["amount"], "comment": "核实确认"})
    assert "待处理" in status_text(page, "#clue-status")
    page.locator("details.action[data-action='open_case'] summary").click()
    page.locator("details.action[data-action='open_case'] button[type=submit]").click()
    page.wait_for_selector("#case-summary")
    assert "立案" in status_text(page, "#case-status")

    # one officer is refused with the reason, in Chinese
    refused = do_action(page, "start_investigation", {"officers": ["sheng"], "comment": "指派"}, refused=True)
    assert "2 名以上执法人员" in refused
    assert "立案" in status_text(page, "#case-status")
    do_action(page, "start_investigation", {"officers": ["sheng", "shi2"], "comment": "指派"})
    assert "调查取证" in status_text(page, "#case-status")
    amount = clue["amount"]
    do_action(page, "finish_investigation", {"findings": "挂床住院，虚计床位费", "behaviour_code": "A38_1",
                                             "loss_amount": amount, "intent": "none",
                                             "evidence": "询问笔录 2 份，住院病历 3 份"})  # fmt: skip
    do_action(page, "propose", {"article": "38", "circumstance": "一般",
                                "fine_amount": f"{float(amount) * 1.5:.2f}", "refund_amount": amount})  # fmt: skip
    if "法制审核" in status_text(page, "#case-status"):
        legal = browser.new_context(base_url=server.url, locale="zh-CN")
        lp = legal.new_page()
        login(lp, service_ws.user("legal_reviewer"))
        goto(lp, current_route(page))
        do_action(lp, "legal_review_pass", {"comment": "法制审核通过"})
        legal.close()
        goto(page, current_route(page))
    assert "事先告知" in status_text(page, "#case-status")
    notice = page.locator("details.action").first.get_attribute("data-action")
    do_action(page, notice or "", {"notice_date": (dt.date.today() - dt.timedelta(days=15)).isoformat()})
    do_action(page, "statement_done", {"comment": "陈述申辩期满"})
    if page.locator("details.action[data-action='collective_discussion']").count():
        do_action(
            page, "collective_discussion", {"participants": "局长、副局长、监管处处长", "comment": "同意处罚"}
        )
    assert page.locator("details.action[data-action='decide']").count() == 0  # the head decides
    head = browser.new_context(base_url=server.url, locale="zh-CN")
    hp2 = head.new_page()
    login(hp2, service_ws.user("bureau_head"))
    goto(hp2, current_route(page))
    do_action(hp2, "decide", {"decision_type": "处罚", "comment": "决定处罚"})
    head.close()
    goto(page, current_route(page))
    do_action(page, "serve", {"served_on": dt.date.today().isoformat(), "method": "直接送达"})
    assert "执行" in status_text(page, "#case-status")
    assert page.locator("#case-timeline li").count() >= 8
    assert "剩余" in page.inner_text("#case-deadline")
    shot(page, "07-case-detail")

    kinds = [a.get_attribute("data-kind") for a in page.locator("#case-documents a.doc-link").all()]
    assert {"case_filing", "prior_notice", "penalty_decision"} <= set(kinds)
    with page.expect_download() as info:
        page.click("#case-documents a.doc-link[data-kind='penalty_decision']")
    target = tmp_path / "decision.docx"
    info.value.save_as(target)
    assert zipfile.ZipFile(io.BytesIO(target.read_bytes())).testzip() is None
    with page.expect_download() as info:  # the same decision as PDF (LibreOffice headless)
        page.click("#case-documents a.pdf-link[data-kind='penalty_decision']")
    pdf = tmp_path / "decision.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    # refer the case to the police (移送公安): pending the head's approval
    page.locator("#referral-form").evaluate("f => f.closest('details').open = true")
    page.select_option("#referral-form [name='target']", "公安")
    page.fill("#referral-form [name='reason']", "涉嫌以虚假住院骗取医保基金")
    before = render_count(page)
    page.click("#referral-form button[type=submit]")
    wait_render(page, before)
    assert "待负责人审批" in page.inner_text("#case-referrals")

    before = render_count(page)
    page.click("#nav a[href='#/cases']")
    wait_render(page, before)
    assert page.locator("a.case-link").count() >= 1
    shot(page, "08-case-list")


def test_a_case_closes_only_when_executed_and_the_amount_flows_back(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    """The case of the journey above: 结案 is refused until the refund and the fine are registered with their
    vouchers; then the confirmed amount shows on the clue, the rule scorecard and the dashboard."""
    sup = api_headers(server, service_ws.user("city_supervisor"))
    case = next(
        c
        for c in httpx.get(f"{server.url}/api/cases", headers=sup).json()["items"]
        if c["status"] == "executing"
    )
    login(page, service_ws.user("city_supervisor"))
    goto(page, f"#/cases/{case['id']}")
    assert "尚未执行完毕" in page.inner_text("#case-execution")
    refused = do_action(page, "close", {"grounds": "executed", "comment": "结案"}, refused=True)
    assert "尚未执行完毕，不能结案" in refused
    detail = httpx.get(f"{server.url}/api/cases/{case['id']}", headers=sup).json()
    ex, today = detail["execution"], dt.date.today().isoformat()
    do_action(
        page, "record_refund", {"amount": ex["refund_due"], "paid_on": today, "voucher_no": "TK-2026-01"}
    )
    do_action(
        page, "record_fine", {"amount": ex["fine_total_due"], "paid_on": today, "voucher_no": "GK-2026-01"}
    )
    do_action(page, "close", {"grounds": "executed", "comment": "执行完毕，归档"})
    assert "结案" in status_text(page, "#case-status") and "执行完毕" in page.inner_text("#case-closing")
    shot(page, "08b-case-closed")
    goto(page, f"#/clues/{detail['clue_id']}")
    assert "已处罚" in page.inner_text("#clue-outcome")
    confirmed = page.inner_text("#clue-confirmed")
    assert confirmed != "—"
    clue = httpx.get(f"{server.url}/api/clues/{detail['clue_id']}", headers=sup).json()
    goto(page, "#/rules")
    row = page.locator(f"tr[data-rule-row='{clue['rule_id']}']").inner_text()
    assert f"{float(clue['confirmed_amount']):,.2f}" in row  # 确认金额 from the real outcome
    goto(page, "#/dashboard")
    assert float(page.inner_text("#total-confirmed .value").replace(",", "")) >= float(
        clue["confirmed_amount"]
    )
    goto(page, "#/cases")
    assert "剩 null" not in page.inner_text("#main") and "已结案" in page.inner_text("#main")


def test_hospital_appeals_with_a_file(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace, tmp_path: Path
) -> None:
    clue = _hospital_clues(server, service_ws)[-1]
    api_act(server, service_ws.user("city_supervisor"), clue["id"], "initial_confirm", comment="初审")
    api_act(server, service_ws.user("agency_reviewer"), clue["id"], "review_confirm", comment="告知机构")
    login(page, service_ws.user("hospital"))
    page.wait_for_selector("tr.clue-row")
    assert "本院疑点" in page.inner_text("h1")
    shot(page, "09-hospital-list")
    before = render_count(page)
    page.click(f"a.clue-link[href='#/clues/{clue['id']}']")
    wait_render(page, before)
    proof = tmp_path / "病历摘要.pdf"
    proof.write_bytes(PDF)
    page.fill("#appeal-form [name='reason']", "患者确有住院治疗记录，附病历摘要")
    page.set_input_files("#appeal-form [name='files']", str(proof))
    before = render_count(page)
    page.click("#appeal-submit")
    wait_render(page, before)
    assert "申诉中" in status_text(page, "#clue-status")
    assert "病历摘要.pdf" in page.inner_text("#appeals")
    shot(page, "10-hospital-appealed")
    sup = api_headers(server, service_ws.user("city_supervisor"))
    stored = httpx.get(f"{server.url}/api/clues/{clue['id']}", headers=sup).json()["appeals"][-1]["files"][0]
    assert stored["filename"] == "病历摘要.pdf"
    assert httpx.get(f"{server.url}/api/appeal-files/{stored['id']}", headers=sup).content == PDF


def test_admin_pauses_and_resumes_a_rule(page: Any, server: LiveServer, service_ws: ServiceWorkspace) -> None:
    # reviewers dismiss five flags of one rule: its confirmation rate (0 %) falls below the floor
    sup = service_ws.user("city_supervisor")
    pending = httpx.get(f"{server.url}/api/clues", headers=api_headers(server, sup),
                        params={"status": "pending_initial", "size": 200}).json()["items"]  # fmt: skip
    by_rule: dict[str, list[int]] = {}
    for c in pending:
        by_rule.setdefault(c["rule_id"], []).append(c["id"])
    rule_id, ids = max(by_rule.items(), key=lambda kv: len(kv[1]))
    assert len(ids) >= 5, "a rule with five clues at 待初审 is needed"
    for clue_id in ids[:5]:
        api_act(server, sup, clue_id, "initial_dismiss", comment="经核查为正常诊疗")

    login(page, service_ws.user("admin"))
    goto(page, "#/rules")
    row = page.locator(f"tr[data-rule-row='{rule_id}']")
    assert "0.0%" in row.inner_text()
    page.once("dialog", lambda d: d.accept("确认率过低，暂停复核"))
    before = render_count(page)
    row.locator("button").click()
    wait_render(page, before)
    assert "已暂停" in page.locator(f"tr[data-rule-row='{rule_id}']").inner_text()
    paused = (service_ws.workspace / "rules" / "paused.yaml").read_text("utf-8")
    assert rule_id in paused
    shot(page, "11-scorecard-paused")
    before = render_count(page)
    page.locator(f"tr[data-rule-row='{rule_id}'] button").click()
    wait_render(page, before)
    assert "启用" in page.locator(f"tr[data-rule-row='{rule_id}']").inner_text()


def test_ledgers_record_and_offline_api_docs(page: Any, service_ws: ServiceWorkspace, tmp_path: Path) -> None:
    login(page, service_ws.user("city_supervisor"))
    goto(page, "#/ledgers")
    shot(page, "12-ledgers")
    with page.expect_download() as info:
        page.click("a[data-ledger='clues']")
    target = tmp_path / "clues.xlsx"
    info.value.save_as(target)
    assert zipfile.ZipFile(target).testzip() is None
    goto(page, "#/record")
    page.click("#verify")
    page.wait_for_selector("#verify-result .alert")
    assert "校验通过" in page.inner_text("#verify-result")
    shot(page, "13-record")
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    shot(page, "14-api-docs")


def test_third_party_inspector_sees_patients_masked_and_cannot_act(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    sup = api_headers(server, service_ws.user("city_supervisor"))
    clue = httpx.get(f"{server.url}/api/clues", headers=sup, params={"size": 1, "source": "rule"}).json()[
        "items"
    ][0]
    plain = httpx.get(f"{server.url}/api/clues/{clue['id']}", headers=sup).json()["evidence"][0]
    login(page, service_ws.user("third_party_inspector"))
    goto(page, f"#/clues/{clue['id']}")
    evidence = page.inner_text("#evidence")
    assert plain["psn_no"] not in evidence and "*" in evidence
    if plain.get("psn_name"):
        assert plain["psn_name"] not in evidence
    assert page.locator("details.action").count() == 0
    assert "没有可执行的操作" in page.inner_text("#clue-actions")
    # the menu offers only what the role may open: no ledgers, no enforcement record
    assert [a.inner_text() for a in page.locator("#nav a").all()] == [
        "仪表盘",
        "线索",
        "案件",
        "模型线索",
        "规则成效",
        "飞行检查",
        "抽查公开",
        "信用评价",
    ]
    shot(page, "15-third-party-masked")
    goto(page, "#/credit")  # credit grades read-only: no recompute, no export, no repair application
    assert page.locator("#credit-recompute, #blacklist-export, #repair-apply").count() == 0
    assert "信用等级" in page.inner_text("#main")


def test_overdue_steps_and_cases_are_flagged(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace, monkeypatch: Any
) -> None:
    # the service reads "today" from FUNDGUARD_TODAY (the server runs in this process): half a year later
    sup = api_headers(server, service_ws.user("city_supervisor"))
    cases = [
        c
        for c in httpx.get(f"{server.url}/api/cases", headers=sup).json()["items"]
        if c["status"] != "closed"
    ]
    if not cases:  # the journeys closed theirs: open one through the API
        clue = _hospital_clues(server, service_ws)[0]
        api_act(server, service_ws.user("city_supervisor"), clue["id"], "initial_confirm")
        api_act(server, service_ws.user("agency_reviewer"), clue["id"], "review_confirm")
        api_act(server, service_ws.user("hospital"), clue["id"], "accept")
        api_act(
            server, service_ws.user("city_supervisor"), clue["id"], "verify_confirm", confirmed_amount="100"
        )
        version = httpx.get(f"{server.url}/api/clues/{clue['id']}", headers=sup).json()["version"]
        r = httpx.post(
            f"{server.url}/api/cases", headers=sup, json={"clue_id": clue["id"], "clue_version": version}
        )
        assert r.status_code == 200, r.text
        cases = [r.json()]
    later = dt.date.fromisoformat(cases[0]["deadline"]) + dt.timedelta(days=30)
    monkeypatch.setenv("FUNDGUARD_TODAY", later.isoformat())
    login(page, service_ws.user("city_supervisor"))
    assert int(page.inner_text("#total-overdue .value").replace(",", "")) > 0
    goto(page, "#/clues?status=pending_initial")
    assert "已超期" in page.locator("tr.clue-row").first.inner_text()
    goto(page, f"#/cases/{cases[0]['id']}")
    assert "已超期 30 天" in page.inner_text("#case-overdue")
    assert "已超期 30 天" in page.inner_text("#case-deadline")
    shot(page, "16-case-overdue")


def test_points_notice_statement_suspension_in_the_browser(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    """A person scored 9 points: the hospital states its case in the browser, the city upholds it there, and
    the file shows the suspension; the lookup answers for any institution."""
    hosp_user, county = service_ws.user("hospital"), service_ws.user("city_supervisor")
    hosp = api_headers(server, hosp_user)
    inst = httpx.get(f"{server.url}/api/me", headers=hosp).json()["fixmedins_code"]
    r = httpx.post(f"{server.url}/api/points/staff", headers=hosp, json={
        "national_code": "D777777777", "id_no": "110101199001011234", "name": "周医生", "category": "医师",
        "fixmedins_code": inst, "pledge_on": "2026-01-02"})  # fmt: skip
    assert r.status_code == 200, r.text
    staff_id = r.json()["id"]
    sup = api_headers(server, county)
    r = httpx.post(f"{server.url}/api/points/records", headers=sup, json={
        "national_code": "D777777777", "fixmedins_code": inst, "band": 3, "responsibility": "主要",
        "decided_on": dt.date.today().isoformat(), "reason": "协议处理：串换诊疗项目"})  # fmt: skip
    assert r.status_code == 200, r.text
    login(page, hosp_user)
    goto(page, "#/points")
    assert "本院人员记分" in page.inner_text("#nav") and "D777777777" in page.inner_text("#main")
    goto(page, f"#/points/{staff_id}")
    do_action(page, "submit_statement", {"statement": "本人仅执行医嘱，非主要责任人"})
    assert "陈述申辩复核中" in page.inner_text("#main")
    shot(page, "30-points-statement")
    login(page, county)
    goto(page, f"#/points/{staff_id}")
    do_action(page, "uphold", {"comment": "证据确凿，申辩不成立"})
    assert "暂停医保支付资格" in page.inner_text("#qualification")
    goto(page, "#/points")
    page.fill("#points-lookup [name='national_code']", "D777777777")
    page.click("#points-lookup button")
    page.wait_for_selector("#points-lookup-result .alert")
    assert "暂停医保支付资格" in page.inner_text("#points-lookup-result")
    shot(page, "31-points-suspended")
    goto(page, f"#/points/{staff_id}")  # the documents of the record, issued from its panel
    kinds = page.locator(".points-documents .doc-link").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == ["points_notice", "statement_outcome", "qualification_decision"]
    page.goto("/public/points.html")  # the public lookup, no login
    page.fill("#public-points [name='national_code']", "D777777777")
    page.click("#public-points button")
    page.wait_for_selector("#public-points-result .alert")
    assert "医保支付资格暂停中" in page.inner_text("#public-points-result")
    assert "串换" not in page.inner_text("body")


def test_credit_repair_in_the_browser(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace, monkeypatch: Any
) -> None:
    """The hospital applies for 信用修复 of its listed institution; after the clean period the city accepts and
    recommends, the 负责人 approves, and the application shows approved with the restored grade."""
    hosp_user, city = service_ws.user("hospital"), service_ws.user("city_supervisor")
    sup = api_headers(server, city)
    inst = httpx.get(f"{server.url}/api/me", headers=api_headers(server, hosp_user)).json()["fixmedins_code"]
    assert httpx.post(f"{server.url}/api/credit/recompute", headers=sup, json={}).status_code == 200
    r = httpx.post(f"{server.url}/api/credit/blacklist", headers=sup, json={
        "subject_type": "institution", "subject_id": inst, "reason": "拒不配合检查"})  # fmt: skip
    assert r.status_code == 200, r.text
    login(page, hosp_user)
    goto(page, "#/credit")
    page.fill("#repair-apply [name='subject_id']", inst)
    page.fill("#repair-apply [name='rectification']", "已完成整改")
    page.fill("#repair-apply [name='evidence']", "整改报告，退款凭证")
    page.fill("#repair-apply [name='pledge']", "守信承诺")
    before = render_count(page)
    page.click("#repair-apply button")
    wait_render(page, before)
    assert "已申请待受理" in page.inner_text("#credit-repairs")
    later = dt.date.today() + dt.timedelta(days=200)
    monkeypatch.setenv("FUNDGUARD_TODAY", later.isoformat())
    login(page, city)
    goto(page, "#/credit")
    do_action(page, "accept", {"comment": "材料齐全"})
    do_action(page, "recommend", {"comment": "整改到位"})
    assert "待负责人审批" in page.inner_text("#credit-repairs")
    login(page, service_ws.user("bureau_head"))
    goto(page, "#/credit")
    do_action(page, "approve", {"comment": "同意"})
    text = page.inner_text("#credit-repairs")
    assert "已同意修复" in text and "修复后等级" in text
    shot(page, "33-credit-repair")


def test_credit_grades_recompute_in_the_browser(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    """The city recomputes the grades from the page: the distribution chart and the graded institutions show,
    each grade with its reasons and its payment measure."""
    login(page, service_ws.user("city_supervisor"))
    goto(page, "#/credit")
    before = render_count(page)
    page.click("#credit-recompute")
    wait_render(page, before)
    page.wait_for_selector("#chart-credit canvas")
    text = page.inner_text("#main")
    assert "信用等级（含扣分理由）" in text and ("优秀" in text or "良好" in text or "较差" in text)
    assert "审核" in text  # the grade's payment measure
    shot(page, "32-credit")


def test_legal_reviewer_enrols_a_second_factor_in_the_browser(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    legal = service_ws.user("legal_reviewer")
    login(page, legal)
    goto(page, "#/password")
    page.click("#totp-begin")
    page.wait_for_selector("#totp-secret")
    assert page.inner_text("#totp-uri").startswith("otpauth://totp/")
    totp = pyotp.TOTP(page.inner_text("#totp-secret").strip())
    shot(page, "30-second-factor-enrolment")
    page.fill("#f-code", totp.now())
    page.click("#totp-confirm button[type=submit]")
    page.wait_for_selector("#totp:has-text('已启用动态验证码')")
    try:
        page.context.clear_cookies()
        page.goto("/#/login")
        page.wait_for_selector("#login-form")
        page.fill("#username", legal["username"])
        page.fill("#password", legal["password"])
        page.click("#login-submit")
        page.wait_for_selector("#otp-row:visible")
        assert "动态验证码" in page.inner_text("#login-error")
        page.fill(
            "#otp", totp.at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
        )  # not the enrolment step
        page.click("#login-submit")
        page.wait_for_selector("#user-role")
    finally:  # the other tests log in as this user without a code
        admin = api_headers(server, service_ws.user("admin"))
        r = httpx.post(f"{server.url}/api/admin/users/{legal['username']}/reset-totp", headers=admin)
        assert r.status_code == 200, r.text
