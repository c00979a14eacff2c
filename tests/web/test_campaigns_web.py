"""Special campaigns in the browser: the city supervisor opens the demo campaign (figures, the status and 清零
charts, the returns with the clues of the targeted rules) and downloads its summary report; the hospital finds
it under 专项整治, sees only its own return and no report, and amends its 自查自纠 through the engine's form; the
third-party inspector has no 专项整治 menu."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from service_ws import ServiceWorkspace
from test_workbench import do_action, goto, login, shot, wait_until


def test_campaign_pages(page: Any, service_ws: ServiceWorkspace, tmp_path: Path) -> None:
    login(page, service_ws.user("city_supervisor"))
    goto(page, "#/campaigns")
    page.click("a.campaign-link")
    page.wait_for_selector("#campaign-status")
    wait_until(lambda: "自查自纠" in page.inner_text("#campaign-status"), "the campaign page")
    assert "18,600" in page.inner_text("#fig-refunded") or "18600" in page.inner_text("#fig-refunded")
    assert page.locator("#chart-campaign-status canvas").count() == 1
    assert "针对规则线索" in page.inner_text("#main")
    assert page.locator("#chart-campaign-ledger canvas").count() == 1
    with page.expect_download() as info:  # the summary report, as the office prints it
        page.click("#campaign-report-docx")
    target = tmp_path / "report.docx"
    info.value.save_as(target)
    text = "\n".join(p.text for p in Document(str(target)).paragraphs)
    assert "专项整治总结报告" in text and "主动退回医保基金 18,600.00元" in text
    shot(page, "40-campaign")

    hospital = next(u for u in service_ws.users if u["username"] == "yiyuan")
    login(page, hospital)
    assert "专项整治" in page.inner_text("#nav")
    goto(page, "#/campaigns")
    page.click("a.campaign-link")
    page.wait_for_selector("#campaign-status")
    assert page.locator("a.return-link").count() == 1 and "针对规则线索" not in page.inner_text("#main")
    assert page.locator("#campaign-figures").count() == 0 and page.locator("#campaign-report").count() == 0
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
