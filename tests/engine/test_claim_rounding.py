"""Real-time claims with more decimals than a column holds are rounded 四舍五入 (ties away from zero), as the
national rules round, instead of failing on pyarrow's round mode (issue 10, low)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundguard.engine.payload3101 import parse_3101
from fundguard.engine.realtime import claim_tables


def _claim(**line: str) -> dict:
    fee = {"bkkp_sn": "B1", "mdtrt_id": "M1", "psn_no": "P1", "hilist_code": "X1", "cnt": "1",
           "fee_ocur_time": "2025-03-01 08:00:00", "det_item_fee_sumamt": "50.00", **line}  # fmt: skip
    return {"mdtrt_d": [{"mdtrt_id": "M1", "psn_no": "P1", "age": "0.027"}], "fee_list_d": [fee]}


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("50.005", "50.01"),
        ("-50.005", "-50.01"),
        ("50.004", "50.00"),
        ("0.125", "0.13"),
        ("12.3456789", "12.35"),
    ],
)
def test_money_is_rounded_half_away_from_zero(value: str, want: str) -> None:
    t = claim_tables(_claim(det_item_fee_sumamt=value, init_feedetl_sn="B0"))
    assert t["fee_list_d"].column("det_item_fee_sumamt")[0].as_py() == Decimal(want)
    assert t["mdtrt_d"].column("age")[0].as_py() == Decimal("0.0")


def test_a_3101_order_with_three_decimals() -> None:
    req = parse_3101(
        {
            "trig_scen": "7",
            "patient_dtos": [
                {
                    "patn_id": "P1",
                    "fsi_encounter_dtos": [
                        {
                            "mdtrt_id": "M1",
                            "medins_id": "H43070200001",
                            "med_type": "11",
                            "fsi_order_dtos": [
                                {
                                    "rx_id": "R1",
                                    "hilist_code": "X1",
                                    "cnt": 1.5,
                                    "pric": 33.3367,
                                    "sumamt": 50.005,
                                    "drord_begn_date": "2025-03-01 08:00:00",
                                }
                            ],
                        }
                    ],
                }
            ],
        },
        set(),
    )
    t = claim_tables(req.claims[0].claim)
    assert t["fee_list_d"].column("det_item_fee_sumamt")[0].as_py() == Decimal("50.01")
