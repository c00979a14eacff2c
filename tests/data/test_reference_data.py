"""Reference data as bureaus deliver it: only key columns required, common header variants, a user's
column map, and a loud word when a rule's column is absent (``rules coverage -w``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from fundguard.cli import app
from fundguard.core.errors import InputError
from fundguard.core.sql import literal
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine.batch import run_batch
from fundguard.engine.examples import build_store
from fundguard.rules import load_rules
from fundguard.rules.readiness import readiness

runner = CliRunner(env={"COLUMNS": "250"})

VISITS = [
    {
        "mdtrt_id": "V1",
        "psn_no": "P1",
        "med_type": "41",
        "fixmedins_code": "D1",
        "fixmedins_name": "示例药店",
        "begntime": "2025-03-08 15:00:00",
    }
]
LINES = [{"bkkp_sn": "B1", "mdtrt_id": "V1", "hilist_code": "XA01", "det_item_fee_sumamt": "47.10"}]


def _hits(ws: Path, rule_id: str) -> list[tuple]:
    res = run_batch(ws, load_rules().select([rule_id]), progress=False)
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT bkkp_sn, evidence_zh FROM read_parquet({literal(str(res.hits_path))})"
        ).fetchall()


def test_death_date_header_feeds_the_dead_card_rule(tmp_path: Path) -> None:
    # a bureau person file: key, name and a death date called death_date; no sex, birth date or insurance
    ws = build_store(tmp_path, VISITS, LINES, {"psn_info_b": [{"psn_no": "P1", "death_date": "2025-03-05"}]})
    ((sns, ev),) = _hits(ws, "L-DECEASED-CARD-USE")
    assert sns == ["B1"] and "已于2025-03-05死亡" in ev
    ready = {r.rule_id: r for r in readiness(load_rules(), ws)}
    assert ready["L-DECEASED-CARD-USE"].status == "ready"


def test_without_a_death_date_the_rule_is_said_unfed(tmp_path: Path) -> None:
    ws = build_store(tmp_path, VISITS, LINES, {"psn_info_b": [{"psn_no": "P1", "psn_name": "张三"}]})
    assert _hits(ws, "L-DECEASED-CARD-USE") == []
    ready = {r.rule_id: r for r in readiness(load_rules(), ws)}
    assert ready["L-DECEASED-CARD-USE"].status == "missing"
    assert ready["L-DECEASED-CARD-USE"].missing == ("psn_info_b.die_date（死亡日期）",)
    assert "fee_list_d.drug_trac_codg（药品追溯码）" in ready["L-TRAC-COUNT"].missing
    out = runner.invoke(app, ["rules", "coverage", "-w", str(ws)])
    assert out.exit_code == 0, out.output
    assert "L-DECEASED-CARD-USE" in out.output and "缺少数据列" in out.output and "可支撑" in out.output


def test_institutions_without_agreement_status_are_accepted(tmp_path: Path) -> None:
    f = tmp_path / "medins_info_b.csv"
    f.write_text("机构编码,机构名称,医院等级\nH1,示例医院,01\n", encoding="utf-8")
    report = ingest([f], tmp_path / "ws", progress=False)
    assert report.published and report.files[0].rows_loaded == 1
    con = Store(tmp_path / "ws").connect()
    try:
        assert con.execute("SELECT fixmedins_code, hosp_lv, agrm_stas FROM medins_info_b").fetchall() == [
            ("H1", "01", None)
        ]
    finally:
        con.close()


def test_a_reference_file_without_its_key_is_still_rejected(tmp_path: Path) -> None:
    f = tmp_path / "medins_info_b.csv"
    f.write_text("fixmedins_name,hosp_lv\n示例医院,01\n", encoding="utf-8")
    report = ingest([f], tmp_path / "ws", progress=False)
    assert not report.published and "fixmedins_code" in (report.files[0].reject_zh or "")


def test_column_map_file_maps_an_inventory_extract(tmp_path: Path) -> None:
    f = tmp_path / "invt_chg_d.csv"
    f.write_text(
        "单据号,药店,药品,业务类型,业务时间,数量,码\nI1,Y1,XA01,3503,2025-07-01 10:00:00,2,81000000000000000001\n",
        encoding="utf-8",
    )
    bare = ingest([f], tmp_path / "ws0", progress=False)
    assert not bare.published  # its headers name no inventory column
    cmap = tmp_path / "map.csv"
    cmap.write_text(
        "table,column,field\ninvt_chg_d,单据号,invt_sn\ninvt_chg_d,药店,fixmedins_code\n,药品,hilist_code\n"
        "invt_chg_d,业务类型,inv_chg_type\ninvt_chg_d,业务时间,chg_time\ninvt_chg_d,数量,cnt\n"
        "invt_chg_d,码,drug_trac_codg\n",
        encoding="utf-8",
    )
    out = runner.invoke(
        app, ["ingest", str(f), "-w", str(tmp_path / "ws"), "--columns", str(cmap), "--no-progress"]
    )
    assert out.exit_code == 0, out.output
    con = Store(tmp_path / "ws").connect()
    try:
        assert con.execute(
            "SELECT invt_sn, inv_chg_type, cnt, drug_trac_codg FROM invt_chg_d"
        ).fetchall() == [("I1", "3503", 2, "81000000000000000001")]
    finally:
        con.close()
    # no fee lines yet: the import says loudly that rules cannot be fed
    assert "警告 WARNING" in out.output


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("table,column,field\ninvt_chg_d,x,no_such_field\n", "无字段 no_such_field"),
        ("table,column,field\nno_table,x,cnt\n", "未知表 no_table"),
        ("a,b\n1,2\n", "须含表头 column,field"),
    ],
)
def test_bad_column_maps_are_refused(tmp_path: Path, text: str, match: str) -> None:
    cmap = tmp_path / "map.csv"
    cmap.write_text(text, encoding="utf-8")
    f = tmp_path / "invt_chg_d.csv"
    f.write_text("invt_sn\nI1\n", encoding="utf-8")
    with pytest.raises(InputError, match=match):
        ingest([f], tmp_path / "ws", progress=False, column_map=cmap)
