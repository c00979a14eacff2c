"""3101 (明细审核事前事中分析服务) requests → national-form claims, and hits → 3101 answers."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from fundguard.core.errors import InputError
from fundguard.engine.claim_input import claim_texts, parse_claim
from fundguard.engine.payload3101 import TRIG_SCEN, parse_3101, response_3101, to_3101
from fundguard.engine.realtime import claim_tables
from fundguard.rules import load_rules


def _message() -> dict:
    """A 3101 message shaped like a HIS sends it (envelope, vendor fields, numbers as JSON numbers)."""
    return {
        "infno": "3101",
        "fixmedins_code": "H43070200001",
        "fixmedins_name": "示例市第二人民医院",
        "input": {
            "data": {
                "trig_scen": "4",
                "rule_ids": [],
                "task_id": "T001",
                "patient_dtos": [
                    {
                        "patn_id": "43070000000000000001",
                        "patn_name": "张三",
                        "gend": "1",
                        "brdy": "1951-08-27",
                        "poolarea": "430796",
                        "curr_mdtrt_id": "M2",
                        "fsi_encounter_dtos": [
                            {"mdtrt_id": "M1", "med_type": "11", "fsi_order_dtos": []},
                            {
                                "mdtrt_id": "M2",
                                "medins_id": "H43070200001",
                                "medins_lv": "01",
                                "adm_date": "2025-05-04 10:59:45",
                                "dscg_date": None,
                                "dscg_main_dise_codg": "",
                                "med_type": "21",
                                "insutype": "390",
                                "adm_dept_codg": "A03",
                                "medfee_sumamt": 0,
                                "reim_flag": 0,
                                "fsi_diagnose_dtos": [
                                    {
                                        "dise_id": 3069,
                                        "maindise_flag": 0,
                                        "dise_codg": "M17.9",
                                        "dise_name": "膝关节病",
                                    },
                                    {
                                        "dise_id": 7395,
                                        "maindise_flag": 1,
                                        "dise_codg": "M10.0",
                                        "dise_name": "痛风",
                                    },
                                ],
                                "fsi_operation_dtos": [
                                    {
                                        "oprn_code": "81.5400",
                                        "oprn_name": "全膝置换",
                                        "oprn_date": "2025-05-06",
                                    }
                                ],
                                "fsi_order_dtos": [
                                    {
                                        "rx_id": "6374",
                                        "rxno": "IP202506140000022",
                                        "hilist_type": "101",
                                        "chrg_type": "09",
                                        "hilist_code": "XA11DAW036A001010104127",
                                        "hilist_name": "维生素B1片",
                                        "hilist_lv": "2",
                                        "cnt": 2,
                                        "pric": 0.1,
                                        "sumamt": 0.2,
                                        "ownpay_amt": 0.05,
                                        "drord_begn_date": "2025-05-22 19:47:03",
                                        "drord_dept_codg": "A03",
                                        "TarItemID": 6374,
                                        "order_state": "A",
                                    },
                                    {
                                        "rx_id": "6375",
                                        "hilist_code": "003310030080000",
                                        "hilist_lv": "--",
                                        "cnt": "1",
                                        "sumamt": "1739.00",
                                        "inscp_amt": "1500",
                                        "drord_begn_date": "2025-05-06",
                                    },
                                ],
                            },
                        ],
                    }
                ],
            }
        },
    }


def test_parse_maps_to_national_form() -> None:
    req = parse_3101(_message())
    assert (req.trig_scen, req.stage, req.scene_zh, req.task_id) == ("4", "事前", "住院收费登记", "T001")
    assert req.ignored_fields == ["order.TarItemID", "order.order_state"]
    (c,) = req.claims
    assert (c.patn_id, c.mdtrt_id, c.ignored_encounters) == ("43070000000000000001", "M2", ["M1"])
    (visit,) = c.claim["mdtrt_d"]
    assert visit["psn_no"] == "43070000000000000001" and visit["fixmedins_code"] == "H43070200001"
    assert visit["fixmedins_name"] == "示例市第二人民医院"  # from the envelope
    assert (visit["begntime"], visit["hosp_lv"], visit["gend"], visit["brdy"]) == (
        dt.datetime(2025, 5, 4, 10, 59, 45),
        "01",
        "1",
        dt.date(1951, 8, 27),
    )
    assert "endtime" not in visit
    assert visit["dscg_maindiag_code"] == "M10.0"  # the main diagnosis when the discharge one is empty
    first, second = c.claim["fee_list_d"]
    assert first["bkkp_sn"] == "6374" and first["rx_drord_no"] == "IP202506140000022"
    assert (first["list_type"], first["med_chrgitm_type"], first["chrgitm_lv"]) == ("101", "09", "02")
    assert (first["cnt"], first["det_item_fee_sumamt"], first["fulamt_ownpay_amt"]) == (
        2,
        Decimal("0.2"),
        Decimal("0.05"),
    )
    assert first["inscp_amt"] == Decimal("0.15")  # sumamt − ownpay_amt when 3101 gives none
    assert first["bilg_dept_codg"] == "A03" and first["med_type"] == "21" and first["mdtrt_id"] == "M2"
    assert "chrgitm_lv" not in second and second["inscp_amt"] == 1500  # '--' is no level; given inscp kept
    assert second["fee_ocur_time"] == dt.datetime(2025, 5, 6)
    assert [d["diag_code"] for d in c.claim["setl_list_diag_d"]] == ["M17.9", "M10.0"]
    assert c.claim["setl_list_diag_d"][1]["maindiag_flag"] == "1"
    (op,) = c.claim["setl_list_oprn_d"]
    assert (op["oprn_oprt_code"], op["oprn_oprt_date"], op["psn_no"]) == (
        "81.5400",
        dt.date(2025, 5, 6),
        c.patn_id,
    )
    # already as the claim's parse gives it: read again, nothing changes (the auditor takes it as it is)
    assert parse_claim(claim_texts(c.claim)) == c.claim
    assert {r["vali_flag"] for rows in c.claim.values() for r in rows} == {"1"}
    tables = claim_tables(c.claim)
    assert tables["fee_list_d"].num_rows == 2 and tables["setl_list_oprn_d"].num_rows == 1


def test_data_part_alone_and_stages() -> None:
    data = _message()["input"]["data"]
    enc = data["patient_dtos"][0]["fsi_encounter_dtos"][1]
    enc["medins_id"] = "H1"
    for trig, (_, stage) in TRIG_SCEN.items():
        assert parse_3101({**data, "trig_scen": int(trig)}).stage == stage
    assert {s for _, s in TRIG_SCEN.values()} == {"事前", "事中"}


def test_to_3101_round_trip() -> None:
    (c,) = parse_3101(_message()).claims
    (again,) = parse_3101(to_3101(c.claim)).claims
    assert again.claim == c.claim


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m.update(infno="3102"), "infno"),
        (lambda m: m["input"]["data"].update(trig_scen="11"), "trig_scen"),
        (lambda m: m["input"]["data"].update(rule_ids="GZ1"), "rule_ids"),
        (lambda m: m["input"]["data"].update(patient_dtos=[]), "patient_dtos"),
        (lambda m: _pat(m).pop("patn_id"), r"patient_dtos\[0\]\.patn_id"),
        (lambda m: _pat(m).pop("curr_mdtrt_id"), "curr_mdtrt_id"),
        (lambda m: _pat(m).update(curr_mdtrt_id="M9"), "M9"),
        (lambda m: _pat(m).update(brdy="1951-02-30"), "brdy"),
        (lambda m: _enc(m).pop("med_type"), r"fsi_encounter_dtos\[1\]\.med_type"),
        (lambda m: _enc(m).update(fsi_order_dtos=[]), "fsi_order_dtos"),
        (lambda m: _enc(m).update(fsi_order_dtos={"rx_id": "1"}), "fsi_order_dtos"),
        (lambda m: _enc(m).update(reim_flag=2), "reim_flag"),
        (lambda m: _line(m).update(sumamt="12,3元"), r"fsi_order_dtos\[0\]\.sumamt"),
        (lambda m: _line(m).update(cnt="NaN"), "cnt"),
        # a number, but past the column's precision: the 3101 field is named, not the claim's column
        (lambda m: _line(m).update(sumamt="1e20"), r"fsi_order_dtos\[0\]\.sumamt 超出字段取值范围"),
        (lambda m: _line(m).update(sumamt=1e20), r"fsi_order_dtos\[0\]\.sumamt 超出字段取值范围"),
        (lambda m: _line(m).update(ownpay_amt="-99999999999999.99"), r"fsi_order_dtos\[0\]\.sumamt 减自费"),
        (lambda m: _line(m).update(drord_begn_date="2025-13-45 25:00:00"), "drord_begn_date"),
        (lambda m: _line(m).pop("hilist_code"), "hilist_code"),
        (lambda m: _line(m).update(rx_id="6375"), "rx_id"),
        (lambda m: _line(m).update(hilist_name={"a": 1}), "hilist_name"),
        (lambda m: _enc(m)["fsi_diagnose_dtos"].append("M10"), r"fsi_diagnose_dtos\[2\]"),
        (lambda m: _enc(m)["fsi_operation_dtos"][0].pop("oprn_code"), "oprn_code"),
        (lambda m: (_enc(m).pop("medins_id"), m.pop("fixmedins_code")), "medins_id"),
    ],
)
def test_bad_requests_rejected(change, match: str) -> None:
    msg = copy.deepcopy(_message())
    change(msg)
    with pytest.raises(InputError, match=match) as e:
        parse_3101(msg)
    assert e.value.zh.startswith("3101 报文错误") and e.value.en.startswith("3101 payload invalid")


def test_remembered_values_do_not_hide_errors_or_paths() -> None:
    """Text values are remembered by kind (``payload3101._VALUES``): a bad value is refused every time, with
    the path of the field it is in now, and a value good as text stays bad as a number."""
    for i in range(2):  # the second time the good values come from the memo
        msg = copy.deepcopy(_message())
        _line(msg).update(sumamt="12,3元")
        with pytest.raises(InputError, match=r"fsi_order_dtos\[0\]\.sumamt"):
            parse_3101(msg)
        msg = copy.deepcopy(_message())
        _line(msg).update(cnt=_line(msg)["hilist_name"])  # a name, remembered as text, sent as a quantity
        with pytest.raises(InputError, match=r"fsi_order_dtos\[0\]\.cnt"):
            parse_3101(msg)
        (c,) = parse_3101(_message()).claims
        assert c.claim == parse_3101(copy.deepcopy(_message())).claims[0].claim, i


def test_fast_path_equals_the_general_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """DTOs of known fields are read by a parser generated for their shape (``_dto_fast``); whatever it reads,
    the general path reads the same, and what it leaves (blanks, numbers, vendor fields, bad values, texts too
    long) the general path reads or refuses."""
    from fundguard.engine import payload3101

    def texts(m: dict) -> dict:
        enc = _enc(m)
        for dto in ("fsi_order_dtos", "fsi_diagnose_dtos", "fsi_operation_dtos"):
            enc[dto] = [
                {k: str(v) for k, v in r.items() if k not in ("TarItemID", "order_state")} for r in enc[dto]
            ]
        return m

    variants = [
        lambda m: None,
        lambda m: _line(m).update(drug_trac_codg="A1,B2", drug_trac_info="C3"),  # two fields, one column
        lambda m: _line(m).update(rxno=" "),  # blank: left out
        lambda m: _enc(m)["fsi_diagnose_dtos"][0].update(dise_name=""),
        lambda m: _line(m).update(pric=" 0.10 "),
        lambda m: _line(m).update(cnt=3),  # a number: the general path
        lambda m: _line(m).update(hilist_name=" 阿司匹林 ", rxno="R 1"),  # texts stripped in place
        lambda m: _line(m).update(rxno=5),  # a number in a text field: the general path reads its text
        lambda m: _line(m).update(hilist_name="名" * 200),  # the longest text allowed
    ]
    for change in variants:
        msg = texts(_message())
        change(msg)
        fast = parse_3101(copy.deepcopy(msg))
        with monkeypatch.context() as mp:
            mp.setattr(payload3101, "_dto_fast", lambda raw, dto: None)
            slow = parse_3101(copy.deepcopy(msg))
        assert fast == slow
    for field, value, match in (
        ("sumamt", "12,3元", "不是数值"),
        ("hilist_code", " ", "缺少必填字段"),
        ("hilist_name", "名" * 201, "过长"),
    ):
        msg = texts(_message())
        _line(msg)[field] = value
        for _ in range(2):
            with pytest.raises(InputError, match=rf"fsi_order_dtos\[0\]\.{field} {match}"):
                parse_3101(copy.deepcopy(msg))


def test_unknown_rule_ids_rejected() -> None:
    msg = _message()
    msg["input"]["data"]["rule_ids"] = ["GZ10000301004000", "NO-SUCH-RULE"]
    with pytest.raises(InputError, match="NO-SUCH-RULE"):
        parse_3101(msg, {"GZ10000301004000"})
    assert parse_3101(msg, {"GZ10000301004000", "NO-SUCH-RULE"}).rule_ids == msg["input"]["data"]["rule_ids"]


def _pat(m: dict) -> dict:
    return m["input"]["data"]["patient_dtos"][0]


def _enc(m: dict) -> dict:
    return _pat(m)["fsi_encounter_dtos"][1]


def _line(m: dict) -> dict:
    return _enc(m)["fsi_order_dtos"][0]


def test_response_shape() -> None:
    req = parse_3101(_message())
    rules = {r.id: r for r in load_rules().enabled()}
    rule = rules["GZ10000301004000"]
    hit = {
        "rule_id": rule.id,
        "mdtrt_id": "M2",
        "setl_id": None,
        "psn_no": req.claims[0].patn_id,
        "fixmedins_code": "H43070200001",
        "bkkp_sn": ["6374"],
        "hilist_code": "XA11DAW036A001010104127",
        "amount": Decimal("0.2"),
        "evidence_zh": "参保人性别为男，……限女性使用",
        "kp_id": "KP1",
    }
    out = response_3101(req, [[hit]], rules, 1.25)
    assert out["infcode"] == "0" and out["stage"] == "事前" and out["audit_ms"] == 1.25
    (r,) = out["output"]["result"]
    assert (r["rule_id"], r["rule_name"], r["vola_cont"], r["vola_amt"]) == (
        rule.id,
        rule.name_zh,
        hit["evidence_zh"],
        "0.20",
    )
    assert r["sev_deg"] == {"high": "1", "medium": "2", "low": "3"}[rule.severity]
    assert (r["vola_evid"], r["vola_bhvr_type"], r["patn_id"], r["task_id"]) == (
        rule.legal_basis,
        rule.result_type,
        req.claims[0].patn_id,
        "T001",
    )
    assert [d["rx_id"] for d in r["judge_result_detail_dtos"]] == ["6374"]
    assert out["ignored_encounters"] == {"M2": ["M1"]}


@pytest.mark.parametrize("kind", ["time", "date"])
def test_canonical_times_read_as_strptime_reads_them(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A time or date already in the canonical spelling is its own answer (``_CANONICAL``, checked to exist):
    the same text, or the same error, as reading it through the formats."""
    import re

    from fundguard.engine import payload3101

    texts = ["2025-09-16 12:46:05", "2025-09-16", "2024-02-29 23:59:59", "2024-02-29", "2025-02-29 10:00:00",
             "2025-02-29", "2025-13-01 00:00:00", "2025-09-16 24:00:00", "2025-09-16 12:60:00",
             "2025-09-16 12:00:60", "0999-01-01 00:00:00", "0999-01-01", "２０２５-09-16 12:46:05",
             "2025-09-16T12:46:05", "20250916", "2025-09-16 12:46"]  # fmt: skip

    def read(text: str) -> str:
        try:
            return payload3101._checked(text, kind, "p") or ""
        except InputError as e:
            return f"error: {e.zh}"

    fast = [read(t) for t in texts]
    monkeypatch.setattr(payload3101, "_CANONICAL", {k: re.compile("(?!)") for k in ("time", "date")})
    assert fast == [read(t) for t in texts]
    assert fast[0] == "2025-09-16 12:46:05" if kind == "time" else fast[1] == "2025-09-16"
    assert fast[4].startswith("error")


def test_canonical_time_memo_reads_as_the_general_check() -> None:
    """A time memo's fill (``_time_value``: one ``fromisoformat`` for a canonical text) gives what checking
    and casting the text gives (``_check_value``), value or error, for a time that fills a timestamp column
    and one only checked."""
    from functools import partial

    import pyarrow as pa

    from fundguard.engine import payload3101
    from fundguard.engine.claim_input import cast_of

    texts = ["2025-09-16 12:46:05", "2024-02-29 23:59:59", "2025-02-29 10:00:00", "2025-09-16 24:00:00",
             "0999-01-01 00:00:00", "2025-09-16T12:46:05", " 2025-09-16 12:46:05", "2025-09-16", "20250916",
             "２０２５-09-16 12:46:05", ""]  # fmt: skip

    def read(fill, text: str) -> object:
        try:
            return fill(text)
        except InputError as e:
            return f"error: {e.zh}"

    for cast, to_datetime in ((cast_of(pa.timestamp("us")), True), (None, False)):
        fast = [read(partial(payload3101._time_value, cast, to_datetime), t) for t in texts]
        slow = [read(partial(payload3101._check_value, "time", cast), t) for t in texts]
        assert fast == slow
        assert fast[0] == (dt.datetime(2025, 9, 16, 12, 46, 5) if to_datetime else "2025-09-16 12:46:05")
