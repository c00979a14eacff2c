"""医保信用 in the browser: a case decided against an institution, then the city recomputes the grades from the
page — the institution's grade history shows the new, lower grade with the case as its reason, and its 双随机
draw weight rises (the weight the draw itself uses); the dashboard charts the grade distribution by region; the
joint-punishment list downloads as Excel in the documented format. The case is driven through the HTTP API (the
other parties' steps; the case pages have their own journey in test_workbench), so the journey stays fast."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
from service_ws import LiveServer, ServiceWorkspace
from test_workbench import api_headers, goto, login, render_count, shot, wait_render, wait_until


def _act(
    server: LiveServer, headers: dict[str, str], kind: str, id_: int, action: str, **fields: Any
) -> dict:
    current = httpx.get(f"{server.url}/api/{kind}/{id_}", headers=headers).json()
    r = httpx.post(f"{server.url}/api/{kind}/{id_}/actions", headers=headers,
                   json={"action": action, "version": current["version"], **fields})  # fmt: skip
    assert r.status_code == 200, f"{action}: {r.text}"
    return r.json()


def _decide_a_case(server: LiveServer, service_ws: ServiceWorkspace, graded: dict[str, str]) -> str:
    """A pending clue of the test hospital (which answers the flag itself: the appeal period cannot be waited out),
    taken to a decided 行政处罚 under Art. 38. The hospital must not already be at the lowest grade."""
    role = {r: api_headers(server, service_ws.user(r)) for r in
            ("city_supervisor", "agency_reviewer", "legal_reviewer", "bureau_head", "hospital")}  # fmt: skip
    sup, inst = role["city_supervisor"], service_ws.user("hospital")["fixmedins_code"]
    assert graded.get(inst, "A") != "D", "the test hospital is already at the lowest grade"
    clues = httpx.get(f"{server.url}/api/clues", headers=sup,
                      params={"fixmedins_code": inst, "status": "pending_initial", "size": 200}).json()["items"]  # fmt: skip
    clue = clues[-1]  # the smallest amount: the case journey in test_workbench takes the largest
    _act(server, sup, "clues", clue["id"], "initial_confirm", comment="初审：疑点成立")
    _act(server, role["agency_reviewer"], "clues", clue["id"], "review_confirm", comment="复审：告知机构")
    _act(server, role["hospital"], "clues", clue["id"], "accept", comment="无异议")
    _act(
        server,
        sup,
        "clues",
        clue["id"],
        "verify_confirm",
        confirmed_amount=clue["amount"],
        comment="核实确认",
    )
    current = httpx.get(f"{server.url}/api/clues/{clue['id']}", headers=sup).json()
    r = httpx.post(
        f"{server.url}/api/cases",
        headers=sup,
        json={"clue_id": clue["id"], "clue_version": current["version"]},
    )
    assert r.status_code == 200, r.text
    cid = r.json()["id"]
    _act(server, sup, "cases", cid, "start_investigation", officers=["sheng", "shi2"], comment="指派")
    _act(server, sup, "cases", cid, "finish_investigation", findings="超标准收费", behaviour_code="A38_3",
         loss_amount=clue["amount"], intent="none", evidence=["询问笔录", "收费清单"])  # fmt: skip
    state = _act(server, sup, "cases", cid, "propose", article="38", circumstance="一般", comment="拟处罚",
                 fine_amount=str(round(float(clue["amount"]) * 1.5, 2)), refund_amount=clue["amount"])  # fmt: skip
    if state["status"] == "legal_review":
        _act(server, role["legal_reviewer"], "cases", cid, "legal_review_pass", comment="法制审核通过")
    case = httpx.get(f"{server.url}/api/cases/{cid}", headers=sup).json()
    notice = next(
        a["action"]
        for a in case["actions"]
        if a["action"] not in ("extend", "return_investigation", "terminate")
    )
    _act(server, sup, "cases", cid, notice, notice_date=(dt.date.today() - dt.timedelta(days=15)).isoformat())
    _act(server, sup, "cases", cid, "statement_done", comment="陈述申辩期满")
    case = httpx.get(f"{server.url}/api/cases/{cid}", headers=sup).json()
    if "collective_discussion" in {a["action"] for a in case["actions"]}:
        _act(
            server,
            sup,
            "cases",
            cid,
            "collective_discussion",
            participants=["局长", "副局长", "监管处处长"],
            comment="同意",
        )
    decided = _act(
        server, role["bureau_head"], "cases", cid, "decide", decision_type="处罚", comment="决定处罚"
    )
    assert decided["decision"].get("decided_on"), decided["status"]
    return inst


def _history(page: Any) -> tuple[str, int]:
    box = page.locator("#credit-history")
    return str(box.get_attribute("data-grade")), int(box.get_attribute("data-weight") or 0)


def test_a_decided_case_lowers_the_grade_and_raises_the_draw_weight(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace
) -> None:
    city = service_ws.user("city_supervisor")
    sup = api_headers(server, city)
    login(page, city)
    goto(page, "#/credit")
    before = render_count(page)
    page.click("#credit-recompute")  # grades as of now: the baseline
    wait_render(page, before)
    graded = {g["subject_id"]: g["grade"] for g in httpx.get(
        f"{server.url}/api/credit/grades", headers=sup, params={"size": 100}).json()["items"]}  # fmt: skip
    inst = _decide_a_case(server, service_ws, graded)
    goto(page, f"#/credit?subject=institution&id={inst}")
    grade_before, weight_before = _history(page)
    before = render_count(page)
    page.click("#credit-recompute")  # the officer recomputes after the decision
    wait_render(page, before)
    wait_until(lambda: page.locator("#credit-history").count() == 1, "the grade history")
    grade_after, weight_after = _history(page)
    latest = page.locator("#credit-history tr.history-row").first.inner_text()
    assert "违法使用医保基金被处理" in latest  # the case is the reason given
    assert grade_after > grade_before and weight_after > weight_before  # lower grade, drawn more often
    drawn = httpx.get(f"{server.url}/api/credit/draw-weights", headers=sup).json()["weights"]
    assert drawn[inst] == weight_after  # the weight the 双随机 draw applies is the one shown
    assert f"×{weight_after}" in latest and "审核" in page.inner_text("#main")
    shot(page, "34-credit-history-after-case")


def test_grade_distribution_on_the_dashboard_and_the_punishment_list(
    page: Any, server: LiveServer, service_ws: ServiceWorkspace, tmp_path: Path
) -> None:
    from fundguard.service.credit import punishment

    city = service_ws.user("city_supervisor")
    httpx.post(
        f"{server.url}/api/credit/recompute", headers=api_headers(server, city), json={}
    ).raise_for_status()
    login(page, city)
    page.wait_for_selector("#chart-credit-grades canvas")
    wait_until(
        lambda: int(page.get_attribute("#chart-credit-grades", "data-total") or 0) > 0, "graded subjects"
    )
    whole = int(page.get_attribute("#chart-credit-grades", "data-total") or 0)
    region = page.locator("#credit-region option").nth(1).get_attribute("value")
    page.select_option("#credit-region", region)
    wait_until(
        lambda: page.get_attribute("#chart-credit-grades", "data-region") == region, "the region's chart"
    )
    assert int(page.get_attribute("#chart-credit-grades", "data-total") or 0) <= whole
    shot(page, "35-dashboard-credit")
    goto(page, "#/credit")
    with page.expect_download() as info:
        page.click("#blacklist-export a[data-format='xlsx']")
    target = tmp_path / "list.xlsx"
    info.value.save_as(target)
    doc = punishment.read_xlsx(target.read_bytes())
    assert doc["format"] == "fundguard-joint-punishment" and doc["exported_by"]
