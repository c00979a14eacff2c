"""异地就医 beyond the links (issue 16): institutions the out-of-region indicator flags become clues on the clue
workflow (once, with their out-of-region settlements as evidence) that the place of treatment handles and the place
of insurance sees on its own duty; and 异地就医 as a focus area that puts them into an annual plan's on-site targets
and a draw's weights, each with its reason; the dashboard's figures by duty. And a partner's exchange file (Excel)
going in whole or not at all, its bad rows named by line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from test_disclosure_exchange import _other_county_supervisor

from fundguard.data.store import Store
from fundguard.service import clues, crossregion, exchange
from fundguard.service.errors import NotFound, PermissionDenied, RowsRejected, ValidationFailed
from fundguard.service.models import Clue, ClueHit, CrossRegionLink, RecordEntry

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "FUNDGUARD_CROSSREGION_SHARE", "0.01"
    )  # the test city then flags its pharmacies with any


def test_flagged_institutions_become_clues_once_seen_by_both_regions(
    world: World, low_threshold: None
) -> None:
    city = world.actor("shi")
    with world.db.session() as s:
        flagged = {r["fixmedins_code"]: r for r in crossregion.indicator(s, city, world.workspace)["treatment"]
                   if r["flag_zh"]}  # fmt: skip
        assert flagged, "the test city has no flagged institution at this threshold"
        for who in ("yiyuan", "fuzeren"):  # an institution, and the head (no clue import), cannot
            with pytest.raises(PermissionDenied):
                crossregion.flag_clues(s, world.actor(who), world.workspace)
        with pytest.raises(ValidationFailed, match="线索来源"):  # only the indicator writes this source
            clues.register_clue(
                s, city, fixmedins_code=next(iter(flagged)), source="crossregion", description="x"
            )
        made = crossregion.flag_clues(s, city, world.workspace)
    assert made["flagged"] == len(flagged) and len(made["created"]) == len(flagged) and made["links"] > 0
    with world.db.session() as s:
        again = crossregion.flag_clues(s, city, world.workspace)
    assert again["created"] == [] and sorted(again["existing"]) == sorted(made["created"])  # idempotent
    con = Store(world.workspace).connect()
    with world.db.session() as s:
        for cid in made["created"]:
            c = clues.get_clue(s, city, cid)
            row = flagged[c["fixmedins_code"]]
            assert c["status"] == "pending_initial" and c["source"] == "crossregion"
            assert c["rule_name"].startswith("异地就医") and row["flag_zh"] in c["description"]
            assert str(c["amount"]) == row["out_fund"]
            n, top = con.execute(
                "SELECT count(*), max(fund_pay_sumamt) FROM setl_d_valid WHERE fixmedins_code = ? AND "
                "NOT starts_with(insu_admdvs, fix_blng_admdvs)", [c["fixmedins_code"]]).fetchone()  # fmt: skip
            hits = s.execute(sa.select(ClueHit).where(ClueHit.clue_id == cid)).scalars().all()
            assert len(hits) == min(n, 200) == c["hits"] and max(h.amount for h in hits) == top
            assert all("参保地" in h.evidence_zh for h in hits)
        assert s.execute(sa.select(sa.func.count()).select_from(RecordEntry)
                         .where(RecordEntry.action == "crossregion.flag_clue")).scalar_one() == len(flagged)  # fmt: skip
        link = s.execute(sa.select(CrossRegionLink).where(CrossRegionLink.clue_id.in_(made["created"]))
                         .order_by(CrossRegionLink.amount.desc())).scalars().first()  # fmt: skip
        clue_admdvs = clues.get_clue(s, city, link.clue_id)["admdvs"]
        link_id, clue_id, insu = link.id, link.clue_id, link.insu_admdvs
    con.close()
    insured_side, treating = (
        _other_county_supervisor(world, insu),
        _other_county_supervisor(world, clue_admdvs),
    )
    with world.db.session() as s:
        seen = next(x for x in crossregion.list_linked(s, insured_side, "insurance") if x["id"] == link_id)
        assert seen["clue_visible"] is False and seen["rule_name"].startswith("异地就医")
        with pytest.raises(NotFound):  # its persons' figures, not the institution's whole clue
            clues.get_clue(s, insured_side, clue_id)
        assert link_id in [x["id"] for x in crossregion.list_linked(s, treating, "treatment")]
        c = clues.get_clue(s, treating, clue_id)  # the place of treatment handles it on the clue workflow
        moved = clues.act_on_clue(
            s, treating, clue_id, "initial_confirm", c["version"], comment="异地占比异常属实"
        )
        assert moved["status"] != "pending_initial"


def test_crossregion_focus_puts_flagged_institutions_first_with_the_reason(
    world: World, low_threshold: None
) -> None:
    from fundguard.service import focus, inspections
    from fundguard.service.draw_weights import FOCUS_WEIGHT, pool_weights
    from fundguard.service.inspections.registries import target_pool

    city = world.actor("shi")
    with world.db.session() as s:
        areas = focus.focus_targets(s, city, world.workspace, ["crossregion"])
        flagged = {r["fixmedins_code"]: r["flag_zh"] for r in crossregion.indicator(s, city, world.workspace)["treatment"]
                   if r["flag_zh"]}  # fmt: skip
        assert flagged and set(flagged) <= set(areas["crossregion"])
        assert all(flagged[c] in areas["crossregion"][c] for c in flagged)
        with pytest.raises(ValidationFailed, match="重点领域"):
            focus.focus_targets(s, city, world.workspace, ["nonsense"])
        cfg = inspections.PlanConfig(top_n=0, sample_ratio=0)  # nothing else goes on site
        plain = inspections.create_plan(s, city, year=2026, title="无重点", seed_value="p", workspace=world.workspace,
                                        config=cfg)  # fmt: skip
        plan = inspections.create_plan(s, city, year=2026, title="异地就医重点", seed_value="p",
                                       workspace=world.workspace, config=cfg, focus=areas)  # fmt: skip
        onsite = {i["fixmedins_code"]: i["reasons_zh"]
                  for i in inspections.list_items(s, city, plan["id"], mode="onsite", size=200)["items"]}  # fmt: skip
        plain_onsite = inspections.list_items(s, city, plain["id"], mode="onsite", size=200)["items"]
        every = {i["fixmedins_code"] for i in inspections.list_items(s, city, plan["id"], size=200)["items"]}
        assert plan["config"]["focus"] == ["crossregion"]
    assert set(flagged) <= set(onsite)
    for code, why in flagged.items():
        assert any(r.startswith("异地就医重点：") and why in r for r in onsite[code])
    assert not any("异地就医" in r for i in plain_onsite for r in i["reasons_zh"])
    assert set(onsite) == {i["fixmedins_code"] for i in plain_onsite} | (set(areas["crossregion"]) & every)
    with (
        world.db.session() as s
    ):  # a draw with the focus: those targets weigh more, the reason sealed in the pool
        pool = target_pool(s, city)
        plain_w = {t["code"]: t["risk"] for t in pool_weights(world.workspace)(s, pool)}
        focus_w = pool_weights(world.workspace, focus=["crossregion"], actor=city)(s, pool)
    for t in focus_w:
        if t["code"] in areas["crossregion"]:
            assert t["focus_zh"].startswith("异地就医：") and t["risk"] > plain_w[t["code"]]
        else:
            assert "focus_zh" not in t and t["risk"] == plain_w[t["code"]]
    assert FOCUS_WEIGHT > 0 and any("focus_zh" in t for t in focus_w)
    with world.db.session() as s:
        d = inspections.make_draw(s, city, title="异地就医重点抽查", seed_value="cr-1", rules={"ratio": 1.0},
                                  weigh=pool_weights(world.workspace, focus=["crossregion"], actor=city))  # fmt: skip
        assert d["focus"] and set(d["focus"]) <= set(areas["crossregion"])
        assert inspections.verify_draw(s, city, d["id"])["ok"]


def test_dashboard_figures_by_duty(world: World) -> None:
    con = Store(world.workspace).connect()
    treat_region = con.execute(
        "SELECT fix_blng_admdvs FROM setl_d_valid WHERE NOT starts_with(insu_admdvs, fix_blng_admdvs) "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]  # fmt: skip
    insu_region = con.execute(
        "SELECT insu_admdvs FROM setl_d_valid WHERE NOT starts_with(insu_admdvs, fix_blng_admdvs) "
        "AND insu_admdvs <> ? GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", [treat_region]).fetchone()[0]  # fmt: skip

    def figures(region: str) -> tuple:
        t = con.execute(
            "SELECT count(*), coalesce(sum(fund_pay_sumamt), 0) FROM setl_d_valid WHERE fix_blng_admdvs = ? "
            "AND NOT starts_with(insu_admdvs, fix_blng_admdvs)", [region]).fetchone()  # fmt: skip
        i = con.execute(
            "SELECT count(*), count(DISTINCT psn_no), coalesce(sum(fund_pay_sumamt), 0) FROM setl_d_valid "
            "WHERE insu_admdvs = ? AND NOT starts_with(fix_blng_admdvs, ?)", [region, region]).fetchone()  # fmt: skip
        return t[0], f"{t[1]:.2f}", i[0], f"{i[2]:.2f}"

    expected = {r: figures(r) for r in (treat_region, insu_region)}
    con.close()
    assert expected[treat_region][0] > 0 and expected[insu_region][2] > 0
    with world.db.session() as s:
        for region in (treat_region, insu_region):
            got = crossregion.summary(s, _other_county_supervisor(world, region), world.workspace)
            assert (got["treatment_settlements"], got["treatment_fund"], got["insurance_settlements"],
                    got["insurance_fund"]) == expected[region]  # fmt: skip
        assert crossregion.summary(s, world.actor("yiyuan"), world.workspace)["treatment_settlements"] == 0


def test_exchange_file_goes_in_whole_or_not_at_all_with_bad_rows_named(world: World, tmp_path: Path) -> None:
    """An Excel file with bad rows: every bad row named by its line, in Chinese, and nothing applied — not even its
    good rows; an unknown institution (found only against the database) likewise; the corrected file goes in."""
    county, hosp = world.actor("xian"), world.actor("yiyuan")

    def finding(n: int, **extra: str) -> dict:
        return {"message_id": f"WJ-{n}", "kind": "finding", "partner": "卫生健康", "sent_at": "2026-03-04",
                "fixmedins_code": hosp.fixmedins_code, "summary": f"诊疗记录不符 {n}", "partner_ref": f"卫监〔2026〕{n}号",
                "amount": "100.00", **extra}  # fmt: skip

    env = {"format": "fundguard-exchange", "version": "1.0", "sender": {"department": "市卫生健康委"},
           "created_at": "2026-03-05", "messages": [finding(1), finding(2)]}  # fmt: skip
    good = exchange.write_file(env, tmp_path / "good.xlsx").read_bytes()
    wb = load_workbook(io.BytesIO(good))
    sheet = wb["消息"]
    cols = [c.value for c in sheet[1]]
    sheet.cell(row=3, column=cols.index("partner") + 1, value="法院")  # line 3: a partner not in the format
    sheet.cell(row=4, column=cols.index("message_id") + 1, value="WJ-3")
    sheet.cell(row=4, column=cols.index("amount") + 1, value="一百元")  # line 4: not a sum of money
    buf = io.BytesIO()
    wb.save(buf)

    def clue_count() -> int:
        with world.db.session() as s:
            return s.execute(sa.select(sa.func.count()).select_from(Clue)).scalar_one()

    before = clue_count()
    with pytest.raises(RowsRejected) as bad, world.db.session() as s:
        exchange.import_file(s, county, "bad.xlsx", buf.getvalue())
    assert [r["row"] for r in bad.value.rows] == ["第 3 行", "第 4 行"]
    assert (
        "列 partner：取值应为" in bad.value.rows[0]["reason_zh"]
        and "列 amount" in bad.value.rows[1]["reason_zh"]
    )
    assert "未导入任何消息" in bad.value.zh and "第 3 行（消息号 WJ-2）" in bad.value.zh
    unknown = exchange.write_file(env | {"messages": [finding(1), finding(2, fixmedins_code="H00000000000")]},
                                  tmp_path / "unknown.xlsx").read_bytes()  # fmt: skip
    with pytest.raises(RowsRejected, match=r"第 3 行.*H00000000000 不存在"), world.db.session() as s:
        exchange.import_file(s, county, "unknown.xlsx", unknown)
    late = {
        "message_id": "WJ-R",
        "kind": "receipt",
        "partner": "卫生健康",
        "sent_at": "2026-03-04",
        "referral_id": 2_000_000_000,
        "receipt_no": "R-1",
        "receipt_by": "某",
    }  # found missing only when applied
    with pytest.raises(NotFound, match="第 2 条消息"), world.db.session() as s:
        exchange.import_file(
            s, county, "late.json", json.dumps(env | {"messages": [finding(1), late]}).encode()
        )
    assert clue_count() == before  # the good first rows were not kept either
    with world.db.session() as s:
        done = exchange.import_file(s, county, "good.xlsx", good)
    assert done["imported"] == 2 and len(done["clues"]) == 2 and clue_count() == before + 2
    with world.db.session() as s:
        assert exchange.import_file(s, county, "good.xlsx", good)["skipped"] == 2  # once only
        with pytest.raises(ValidationFailed, match="工作表"):
            exchange.import_file(s, county, "x.xlsx", _xlsx_without_sheets())
        with pytest.raises(ValidationFailed, match=r"\.json 或 \.xlsx"):
            exchange.import_file(s, county, "x.csv", b"a,b")


def _xlsx_without_sheets() -> bytes:
    from openpyxl import Workbook

    buf = io.BytesIO()
    Workbook().save(buf)
    return buf.getvalue()
