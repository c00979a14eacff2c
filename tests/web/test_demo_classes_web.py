"""The demo's rule-class page (``rule_classes.html``) in Debian's Chromium: the audited city's hits grouped by
2025 rule class, the newly covered classes (药品追溯码, 药品合理使用, 中药饮片 …) listed first, each with its
count and an example evidence; the counts are the run's own (read back from hits.parquet)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from fundguard.core.workspace import Workspace
from fundguard.demo import write_rule_classes_page
from fundguard.rules import load_rules

# planted in every synthetic city (synth/plant.py) and found by these classes' rules
EXPECTED_NEW = {
    "药品追溯码": ("L-TRAC-DUPLICATE", "L-TRAC-AFTER-REFUND", "L-TRAC-NO-PURCHASE", "L-TRAC-COUNT"),
    "药品相互作用": ("GZ10000301011000",),
    "中药饮片配伍禁忌": ("GZ10000301012000",),
    "老年人用药安全": ("GZ10000301009000",),
    "妊娠期及哺乳期用药安全": ("GZ10000301010000",),
    "诊断与患者年龄不符": ("GZ10000204007000",),
    "药品种类超标": ("GZ10000202004000",),
    "重复开药": ("GZ10000301006000",),
    "医疗服务项目与医用耗材重复收费": ("L-2025-30",),
    "按日/按小时计价": ("L-STAY-DAYS-CAP", "L-STAY-HOURS-CAP"),
    "须核实检验值或既往治疗": ("L-DRUG-INDICATION-CLAUSE",),
    "中药饮片超大处方": ("L-2025-76",),
    "频繁门诊": ("GZ10000204002000",),
    "频繁住院": ("GZ10000204004000",),
    "手术操作编码与性别不符": ("GZ10000201005000",),
    "诊断编码与手术操作编码不符": ("GZ10000201006000",),
    "药品禁忌症": ("GZ10000301008000",),
    "医用耗材与性别不符": ("L-2025-87",),
}


def test_rule_class_page_shows_new_classes_found(service_ws, browser, tmp_path: Path) -> None:
    hits = Workspace(service_ws.workspace).latest_hits()
    assert hits is not None
    page_path = write_rule_classes_page(tmp_path, hits, load_rules())
    with duckdb.connect() as con:
        per_rule = dict(
            con.execute(
                "SELECT rule_id, count(*) FROM read_parquet(?, hive_partitioning = false) GROUP BY 1",
                [str(hits)],
            ).fetchall()
        )
    context = browser.new_context(locale="zh-CN")
    blocked: list[str] = []

    def guard(route) -> None:  # an offline page: nothing but the file itself may load
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    try:
        page = context.new_page()
        page.goto(page_path.as_uri())
        assert page.locator("h2#new-classes").inner_text() == "新覆盖的规则类"
        rows = page.locator("#new-class-table tr[data-class]")
        shown = {}
        for i in range(rows.count()):
            cells = rows.nth(i).locator("td")
            shown[cells.nth(0).inner_text()] = (
                cells.nth(1).inner_text(),
                int(cells.nth(2).inner_text().replace(",", "")),
                cells.nth(4).inner_text(),
            )
        for label, rule_ids in EXPECTED_NEW.items():
            row = [v for k, v in shown.items() if label in k]
            assert row, f"{label} missing from the new classes: {sorted(shown)}"
            rules_cell, count, example = row[0]
            found = [r for r in rule_ids if per_rule.get(r)]
            assert found, f"the city's audit found no {label}"
            assert count == sum(per_rule.get(r, 0) for r in rule_ids), (label, count)
            assert all(r in rules_cell for r in found)
            assert "：" in example and len(example.split("：", 1)[1]) > 10, example  # 规则：证据
        # a class implemented before issue 12 stays out of the new table, in the other one
        others = page.locator("#old-class-table").inner_text()
        assert "药品进销存异常" in others and "药品进销存异常" not in "".join(
            k for k in shown if "追溯码" not in k
        )
        # issue 12's rules in an older class stand apart; the class's older rules stay in the other table
        assert "L-DRUG-INDICATION-CLAUSE" not in others and "GZ10000101008000" in others
    finally:
        context.close()
    assert not blocked, blocked
