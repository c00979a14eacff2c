"""举报 in the browser: an anonymous report filed on /public/ (the offline proof-of-work runs in the page), tracked
by its code, accepted by the city, turned into a clue whose verification confirms the loss, rewarded, approved,
notified and claimed on the public page within the window, then paid; a real-name reporter's identity is never
on the handler's page nor in the database, and only the bureau head decrypts it, with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from service_ws import LiveServer, ServiceWorkspace
from test_workbench import api_act, api_headers, do_action, goto, login, shot, wait_until

NAME, PHONE = "诸葛实名", "13700137000"


def _file_on_public_page(page: Any, target: str, admdvs: str, *, real_name: bool = False) -> str:
    page.goto("/public/report.html")
    wait_until(lambda: page.locator("#violation_type option").count() > 3, "the form's choices")
    page.select_option("#admdvs", admdvs)
    page.select_option("#target_kind", "institution")
    page.fill("#target_name", target)
    page.select_option("#violation_type", "fake_hospitalisation")
    page.fill("#description", "该院安排未住院的参保人挂床住院，每人每天记账床位费和护理费。")
    page.fill("#happened", "2026年2月")
    if real_name:
        page.check("input[name=real_name][value='1']")
        page.fill("#name", NAME)
        page.fill("#phone", PHONE)
    page.click("#submit")
    page.wait_for_selector("#done:not(.hidden)", timeout=60_000)
    return page.inner_text("#done-code").strip()


def _city(server: LiveServer, service_ws: ServiceWorkspace) -> str:
    """The city supervisor's region: the bureau the public reports go to."""
    me = httpx.get(f"{server.url}/api/me", headers=api_headers(server, service_ws.user("city_supervisor")))
    return me.json()["admdvs"]


def _track(page: Any, code: str) -> str:
    page.goto("/public/track.html")
    page.fill("#code", code)
    page.click("#track-form button[type=submit]")
    page.wait_for_selector("#result:not(.hidden)")
    return page.inner_text("#result")


def _open_report(page: Any, target: str) -> None:
    goto(page, "#/reports")
    page.locator("tr.clickable", has_text=target).first.click()
    wait_until(
        lambda: (page.get_attribute("#main", "data-ready") or "").startswith("/reports/"), "the report page"
    )


def test_anonymous_report_to_claimed_reward(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    target = "浏览器举报医院"
    code = _file_on_public_page(page, target, _city(server, service_ws))
    shot(page, "60-public-report-filed")
    assert "待受理" in _track(page, code)

    city, head = service_ws.user("city_supervisor"), service_ws.user("bureau_head")
    hospital = next(u for u in service_ws.users if u["username"] == "yiyuan")
    inst = httpx.get(f"{server.url}/api/me", headers=api_headers(server, hospital)).json()["fixmedins_code"]
    login(page, city)
    _open_report(page, target)
    assert "匿名举报" in page.inner_text("#main")
    do_action(page, "accept")
    do_action(page, "to_clue", {"fixmedins_code": inst, "amount": "80000"})
    shot(page, "61-report-became-clue")
    clue_id = int(page.inner_text("#report-facts").split("线索编号")[1].split()[0])
    second = next(u for u in service_ws.users if u["username"] == "shi2")
    api_act(server, city, clue_id, "initial_confirm")
    api_act(server, second, clue_id, "review_confirm")
    api_act(server, hospital, clue_id, "accept")
    api_act(server, city, clue_id, "verify_confirm", confirmed_amount="80000")
    goto(page, page.get_attribute("#main", "data-ready") and "#" + page.get_attribute("#main", "data-ready"))
    do_action(page, "conclude", {"outcome": "substantiated", "reply": "经查属实，已追回基金。"})
    page.select_option("#reward-form select[name=grade]", "2")
    page.click("#reward-form button[type=submit]")
    page.wait_for_selector("#reward-status[data-status=computed]")
    assert "1,600" in page.inner_text("#reward-status") or "1600" in page.inner_text(
        "#reward-status"
    )  # 2 % of 80,000
    route = "#" + page.get_attribute("#main", "data-ready")

    login(page, head)
    goto(page, route)
    page.wait_for_selector("#reward-actions details.action[data-action=approve]")
    do_action(page, "approve")
    login(page, city)
    goto(page, route)
    page.wait_for_selector("#reward-actions details.action[data-action=issue_notice]")
    do_action(page, "issue_notice", {"notice_no": "奖通〔2026〕9号"})
    page.wait_for_selector("#reward-status[data-status=notified]")

    text = _track(page, code)
    assert "已办结" in text and "经查属实" in text
    page.wait_for_selector("#claim-form:not(.hidden)")
    assert "1600.00" in page.inner_text("#claim-info")
    page.fill("#c-name", "匿名领奖人")
    page.fill("#c-id", "110101199003071234")
    page.click("#claim-form button[type=submit]")
    wait_until(lambda: "身份核验通过" in page.inner_text("#claim-status"), "the claim")
    shot(page, "62-public-reward-claimed")

    login(page, city)
    goto(page, route)
    page.wait_for_selector("#reward-actions details.action[data-action=pay]")
    do_action(page, "pay", {"voucher_no": "PZ-WEB-1"})
    page.wait_for_selector("#reward-status[data-status=paid]")
    goto(page, "#/reports")
    assert page.inner_text("#report-recovered").replace(",", "").startswith("80000")


def test_identity_never_readable_by_the_handler_or_in_the_database(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    target = "实名举报药店"
    code = _file_on_public_page(page, target, _city(server, service_ws), real_name=True)
    assert code
    login(page, service_ws.user("city_supervisor"))
    _open_report(page, target)
    text = page.inner_text("#main")
    assert "实名举报" in text and NAME not in text and PHONE not in text
    assert page.locator("#identity-form").count() == 0  # the handler has no way to decrypt
    route = "#" + page.get_attribute("#main", "data-ready")
    login(page, service_ws.user("bureau_head"))
    goto(page, route)
    page.fill("#identity-form input[name=reason]", "核对实名举报人身份以便告知")
    page.click("#identity-form button[type=submit]")
    wait_until(lambda: NAME in page.inner_text("#identity-result"), "the decrypted identity")
    shot(page, "63-identity-decrypted-by-head")
    url = service_ws.database_url
    if url.startswith("sqlite"):
        stored = Path(url.removeprefix("sqlite:///")).read_bytes()
    else:
        engine = sa.create_engine(url)
        with engine.connect() as con:
            tables = [
                t
                for (t,) in con.execute(
                    sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            ]
            stored = "\n".join(
                repr(tuple(r)) for t in tables for r in con.execute(sa.text(f'SELECT * FROM "{t}"'))
            ).encode()
        engine.dispose()
    assert NAME.encode() not in stored and PHONE.encode() not in stored and code.encode() not in stored
