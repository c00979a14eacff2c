"""药品追溯码 end to end: a 3101 request's codes reach the rules, the 3101 answer and the evidence; the
ingest reads the national and HIS spellings of the field."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from fundguard.core.errors import InputError
from fundguard.data.ingest import ingest
from fundguard.engine.examples import build_store
from fundguard.engine.payload3101 import parse_3101, response_3101, to_3101
from fundguard.engine.realtime import RealtimeAuditor
from fundguard.rules import load_rules
from fundguard.rules.templates.trace_code import codes_of, codes_sql


def _request(codes: object) -> dict:
    return {
        "trig_scen": "10",
        "patient_dtos": [
            {
                "patn_id": "P9",
                "gend": "2",
                "brdy": "1960-01-01",
                "fsi_encounter_dtos": [
                    {
                        "mdtrt_id": "M9",
                        "medins_id": "Y9",
                        "med_type": "41",
                        "adm_date": "2025-08-03 10:00:00",
                        "fsi_order_dtos": [
                            {
                                "rx_id": "L1",
                                "hilist_code": "XA01",
                                "hilist_name": "阿莫西林胶囊",
                                "hilist_type": "101",
                                "cnt": 3,
                                "pric": 10,
                                "sumamt": 30,
                                "drord_begn_date": "2025-08-03 10:01:00",
                                "drug_trac_info": codes,
                            }
                        ],
                    }
                ],
            }
        ],
    }


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("trace")
    visits = [{"mdtrt_id": "V1", "psn_no": "P1", "med_type": "41", "fixmedins_code": "Y1"}]
    lines = [{"bkkp_sn": "B1", "mdtrt_id": "V1", "hilist_code": "XA01", "list_type": "101",
              "det_item_fee_sumamt": "10.00", "drug_trac_codg": "81000000000000000001"}]  # fmt: skip
    return build_store(d, visits, lines)


def test_3101_codes_flow_to_the_rule_the_answer_and_the_evidence(ws: Path) -> None:
    rules = load_rules()
    req = parse_3101(_request([{"drug_trac_codg": "81000000000000000011"}, "81000000000000000012"]))
    line = req.claims[0].claim["fee_list_d"][0]
    assert line["drug_trac_codg"] == "81000000000000000011,81000000000000000012"
    with RealtimeAuditor(ws, rules.select(["L-TRAC-COUNT"]), stage=("事中",)) as auditor:
        hits = [auditor.audit_parsed(c.claim) for c in req.claims]
    (hit,) = hits[0]
    assert hit["bkkp_sn"] == ["L1"] and str(hit["amount"]) == "10.00"
    assert (
        "仅上传药品追溯码2个（81000000000000000011、81000000000000000012），1盒无追溯码" in hit["evidence_zh"]
    )
    out = response_3101(req, hits, {r.id: r for r in rules.enabled()}, 1.0)
    (entry,) = out["output"]["result"]
    (detail,) = entry["judge_result_detail_dtos"]
    assert detail == {
        "jr_detl_id": "M9-L-TRAC-COUNT-1-1",
        "rx_id": "L1",
        "hilist_code": "XA01",
        "drug_trac_codg": "81000000000000000011,81000000000000000012",
    }
    # three codes for three boxes: nothing to say
    req = parse_3101(_request("81000000000000000011,81000000000000000012，81000000000000000013"))
    with RealtimeAuditor(ws, rules.select(["L-TRAC-COUNT"]), stage=("事中",)) as auditor:
        assert auditor.audit_parsed(req.claims[0].claim) == []


def test_3101_round_trip_keeps_codes_and_rejects_bad_ones() -> None:
    req = parse_3101(_request("81000000000000000011"))
    again = parse_3101(to_3101(req.claims[0].claim, trig_scen="10"))
    assert again.claims[0].claim["fee_list_d"][0]["drug_trac_codg"] == "81000000000000000011"
    with pytest.raises(InputError, match="追溯码格式错误"):
        parse_3101(_request("8100000'; DROP"))


@pytest.mark.parametrize(
    "raw",
    ["", None, " , ", "A1,B2", "A1，B2；A1", " A1  B2 ", ";A1;", "B2\tA1"],
)
def test_code_splitting_is_the_same_in_sql_and_python(raw: str | None) -> None:
    with duckdb.connect() as con:
        got = con.execute(f"SELECT {codes_sql('x')} FROM (SELECT CAST(? AS VARCHAR) AS x)", [raw]).fetchone()
    assert got is not None and got[0] == codes_of(raw)


def test_ingest_reads_trace_code_headers(tmp_path: Path) -> None:
    f = tmp_path / "fee_list_d.csv"
    f.write_text(
        "bkkp_sn,mdtrt_id,fee_ocur_time,fixmedins_code,psn_no,cnt,pric,det_item_fee_sumamt,hilist_code,追溯码\n"
        'B1,V1,2025-08-01 09:00:00,Y1,P1,2,5,10,XA01,"81000000000000000001,81000000000000000002"\n',
        encoding="utf-8",
    )
    report = ingest([f], tmp_path / "ws", progress=False)
    assert report.published
    from fundguard.data.store import Store

    con = Store(tmp_path / "ws").connect()
    try:
        assert con.execute("SELECT drug_trac_codg FROM fee_list_d").fetchone() == (
            "81000000000000000001,81000000000000000002",
        )
    finally:
        con.close()
