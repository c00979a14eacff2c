"""Special campaigns in the browser: the city supervisor opens the demo campaign (figures, the status chart, the
returns with the clues of the targeted rules); the hospital finds it under 专项整治, sees only its own return,
and amends its 自查自纠 through the engine's form; the third-party inspector has no 专项整治 menu."""

from __future__ import annotations

from typing import Any

from service_ws import ServiceWorkspace
from test_workbench import do_action, goto, login, shot, wait_until


def test_campaign_pages(page: Any, service_ws: ServiceWorkspace) -> None:
    login(page, service_ws.user("city_supervisor"))
    goto(page, "#/campaigns")
    page.click("a.campaign-link")
    page.wait_for_selector("#campaign-status")
    wait_until(lambda: "自查自纠" in page.inner_text("#campaign-status"), "the campaign page")
    assert "18,600" in page.inner_text("#fig-refunded") or "18600" in page.inner_text("#fig-refunded")
    assert page.locator("#chart-campaign-status canvas").count() == 1
    assert "针对规则线索" in page.inner_text("#main")
    shot(page, "40-campaign")

    hospital = next(u for u in service_ws.users if u["username"] == "yiyuan")
    login(page, hospital)
    assert "专项整治" in page.inner_text("#nav")
    goto(page, "#/campaigns")
    page.click("a.campaign-link")
    page.wait_for_selector("#campaign-status")
    assert page.locator("a.return-link").count() == 1 and "针对规则线索" not in page.inner_text("#main")
    assert page.locator("#campaign-figures").count() == 0
    page.click("a.return-link")
    page.wait_for_selector("#return-status")
    do_action(page, "amend_self_check", {"problems": "骨科耗材串换收费", "refunded": "19000"})
    wait_until(
        lambda: "19,000" in page.inner_text("#main") or "19000" in page.inner_text("#main"),
        "the amended return",
    )
    shot(page, "41-campaign-return")

    login(page, service_ws.user("third_party_inspector"))
    assert "专项整治" not in page.inner_text("#nav")
