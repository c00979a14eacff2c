"""Penalty ranges of the 条例 (Arts 37–41) and the discretion table: amounts, basis text, checks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fundguard.core.errors import InputError
from fundguard.supervision.penalties import (
    MEASURES,
    STATUTES,
    adjust_circumstance,
    check_fine,
    check_suspension,
    first_offence_exempt,
    hearing_required,
    legal_review_required,
    load_discretion_table,
    penalty_range,
    statute,
)

D = Decimal

# (article, circumstance, loss) → (fine_min, fine_max, suspension months) under the shipped default table.
CASES = [
    ("38", "轻微", "10000", "10000.00", "13000.00", None),
    ("38", "一般", "10000", "13000.00", "17000.00", None),
    ("38", "严重", "10000", "17000.00", "20000.00", (6, 12)),
    ("39", "轻微", "0", "10000.00", "20000.00", None),
    ("39", "一般", "0", "20000.00", "35000.00", None),
    ("39", "严重", "0", "35000.00", "50000.00", None),
    ("40", "轻微", "10000", "20000.00", "30000.00", (6, 8)),
    ("40", "一般", "10000", "30000.00", "40000.00", (8, 10)),
    ("40", "严重", "10000", "40000.00", "50000.00", (10, 12)),
    ("41", "轻微", "800", None, None, (3, 6)),
    ("41", "严重", "800", None, None, (9, 12)),
    ("41_fraud", "一般", "800", "2400.00", "3200.00", (6, 9)),
    ("37", "严重", "10000", "40000.00", "50000.00", None),
]


@pytest.mark.parametrize(("article", "level", "loss", "lo", "hi", "months"), CASES)
def test_ranges(article: str, level: str, loss: str, lo: str | None, hi: str | None, months) -> None:
    rng = penalty_range(article, D(loss), circumstance=level)
    assert rng.fine_min == (D(lo) if lo else None)
    assert rng.fine_max == (D(hi) if hi else None)
    assert rng.suspension_months == months
    assert rng.circumstance == level
    assert (
        f"第{ {'37': '三十七', '38': '三十八', '39': '三十九', '40': '四十'}.get(article, '四十一') }条"
        in rng.basis_zh
    )
    if lo:
        # Each band boundary is accepted, one cent beyond it is refused.
        assert check_fine(article, D(loss), D(lo), level).article == rng.article
        assert check_fine(article, D(loss), D(hi), level).fine_max == D(hi)
        with pytest.raises(InputError):
            check_fine(article, D(loss), D(hi) + D("0.01"), level)
        if level != "轻微":
            with pytest.raises(InputError):
                check_fine(article, D(loss), D(lo) - D("0.01"), level)


def test_cents_are_exact_and_rounded_half_up() -> None:
    rng = penalty_range("38", "333.335", circumstance="一般")
    assert rng.loss == D("333.34")
    assert rng.fine_min == D("433.34")  # 333.34 × 1.3 = 433.342
    assert rng.fine_max == D("566.68")  # 333.34 × 1.7 = 566.678
    assert rng.statutory_fine_min == D("333.34") and rng.statutory_fine_max == D("666.68")
    assert isinstance(rng.fine_min, Decimal)


def test_basis_sentence_names_the_amounts() -> None:
    basis = penalty_range("40", D("12000"), circumstance="一般").basis_zh
    assert basis.startswith("依据《医疗保障基金使用监督管理条例》第四十条")
    assert "2倍以上5倍以下" in basis and "36,000.00元至48,000.00元" in basis
    assert "责令退回骗取的医保基金12,000.00元" in basis and "解除服务协议" in basis
    assert "暂停相关责任部门" in basis


def test_errors_explain_statutory_and_discretion_ranges() -> None:
    with pytest.raises(InputError) as outside:
        check_fine("40", D("1000"), D("6000"), "一般")
    assert "法定幅度2,000.00元至5,000.00元" in outside.value.zh and "statutory range" in outside.value.en
    with pytest.raises(InputError) as band:
        check_fine("40", D("1000"), D("4500"), "一般")
    assert "裁量基准“一般”" in band.value.zh and "说明理由" in band.value.zh
    # With a stated reason the statutory range alone applies.
    assert check_fine("40", D("1000"), D("4500"), "一般", allow_outside_discretion=True).fine_max == D(
        "4000.00"
    )
    with pytest.raises(InputError):
        check_fine("40", D("1000"), D("5000.01"), "一般", allow_outside_discretion=True)


def test_no_fine_without_loss_or_for_art41() -> None:
    assert check_fine("38", 0, 0).fine_min is None
    with pytest.raises(InputError, match="不得处以罚款"):
        check_fine("38", 0, 100)
    with pytest.raises(InputError, match="该条款无罚款"):
        check_fine("41", 500, 100)
    assert "未认定造成损失金额" in penalty_range("38", 0).basis_zh


def test_suspension_checks() -> None:
    assert check_suspension("41", 3, "轻微").suspension_months == (3, 6)
    with pytest.raises(InputError, match="3至6个月"):
        check_suspension("41", 7, "轻微")
    with pytest.raises(InputError, match="不适用暂停"):
        check_suspension("38", 6, "一般")  # only when refusing correction / serious
    assert check_suspension("38", 12, "严重").suspension_months == (6, 12)
    with pytest.raises(InputError):
        check_suspension("39", 1, "严重")


def test_behaviour_codes_map_to_articles() -> None:
    assert statute("A38_3").article == "38" and statute("A40_2").article == "40"
    assert statute("A41_1").article == "41" and statute("A41_F").article == "41_fraud"
    assert statute(39).article == "39" and statute("41_fraud").article == "41_fraud"
    with pytest.raises(InputError):
        statute("A45")


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="未知的处罚条款"):
        penalty_range("99", 100)
    with pytest.raises(InputError, match="未知的情节等级"):
        penalty_range("38", 100, circumstance="特别严重")
    with pytest.raises(InputError, match="非负"):
        penalty_range("38", -1)
    with pytest.raises(InputError, match="有效金额"):
        penalty_range("38", "abc")


def test_measures_and_statutes() -> None:
    assert MEASURES["interview"] == "约谈" and MEASURES["terminate_agreement"] == "解除协议"
    assert {
        "约谈",
        "限期整改",
        "暂停拨付",
        "不予拨付/拒付",
        "追回",
        "中止相关责任人员或部门",
        "解除协议",
    } <= set(MEASURES.values())
    assert STATUTES["38"].fine_multiple == (D(1), D(2)) and STATUTES["40"].fine_multiple == (D(2), D(5))
    assert STATUTES["39"].fine_cny == (D(10000), D(50000)) and STATUTES["41"].suspension_months == (3, 12)


def test_factors_move_the_level() -> None:
    assert adjust_circumstance("一般", mitigating=["主动退回"]) == "轻微"
    assert adjust_circumstance("一般", aggravating=["拒不改正"]) == "严重"
    assert adjust_circumstance("严重", aggravating=["主观故意"]) == "严重"
    assert adjust_circumstance("一般", mitigating=["主动供述"], aggravating=["主观故意"]) == "一般"
    with pytest.raises(InputError, match="未知的从轻情节"):
        adjust_circumstance("一般", mitigating=["认错态度好"])


def test_first_offence_exemption() -> None:
    assert first_offence_exempt("38", 500, first_offence=True, corrected=True)
    assert not first_offence_exempt("38", 5000, first_offence=True, corrected=True)
    assert not first_offence_exempt("38", 500, first_offence=False, corrected=True)
    assert not first_offence_exempt("40", 100, first_offence=True, corrected=True)  # fraud never exempt


def test_custom_table_overrides_and_validation(tmp_path: Path) -> None:
    good = tmp_path / "fj.yaml"
    good.write_text(
        "name: 测试省\nlevels: [较轻, 较重]\ndefault_level: 较重\n"
        "articles:\n  '40':\n    fine_multiple: {较轻: [2, 3.5], 较重: [3.5, 5]}\n",
        encoding="utf-8",
    )
    table = load_discretion_table(good)
    rng = penalty_range("40", D("30000"), table=table)
    assert rng.circumstance == "较重" and rng.fine_min == D("105000.00") and rng.fine_max == D("150000.00")
    # Articles without a row fall back to the statutory range.
    assert penalty_range("38", D("100"), table=table, circumstance="较轻").fine_max == D("200.00")
    assert not first_offence_exempt("38", 1, first_offence=True, corrected=True, table=table)

    for body, message in [
        ("levels: [a]\narticles:\n  '38':\n    fine_multiple: {a: [0.5, 2]}\n", "超出法定幅度"),
        ("levels: [a]\narticles:\n  '38':\n    fine_multiple: {a: [2, 1]}\n", "下限大于上限"),
        ("levels: [a]\narticles:\n  '38':\n    fine_multiple: {b: [1, 2]}\n", "未知情节等级"),
        ("levels: [a]\narticles:\n  '41':\n    fine_multiple: {a: [1, 2]}\n", "没有此类法定处罚"),
        ("levels: [a]\narticles:\n  '50':\n    fine_multiple: {a: [1, 2]}\n", "未知条款"),
        ("articles: {}\n", "levels"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            load_discretion_table(bad)
    with pytest.raises(InputError, match="无法读取"):
        load_discretion_table(tmp_path / "missing.yaml")


def test_hearing_and_legal_review_thresholds() -> None:
    assert hearing_required(D("100000"))
    assert not hearing_required(D("99999.99"))
    assert hearing_required(5000, party_type="individual")
    assert not hearing_required(4999, party_type="individual")
    assert hearing_required(0, party_type="individual", measures=["suspend_network_settlement"])
    assert hearing_required(10, measures=["terminate_agreement"])
    assert hearing_required(10, measures=["解除协议"])  # Chinese names count as their codes
    assert not hearing_required(10, measures=["interview"])
    assert legal_review_required(D("60000"), D("40000"))
    assert not legal_review_required(D("60000"), D("39999.99"))
    assert legal_review_required(0, 0, measures=["terminate_agreement"])
    with pytest.raises(InputError, match="当事人类型"):
        hearing_required(1, party_type="company")


def test_environment_names_the_table_in_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    custom = tmp_path / "prov.yaml"
    custom.write_text(
        "levels: [一般]\narticles:\n  '40':\n    fine_multiple: {一般: [3.5, 3.5]}\n", encoding="utf-8"
    )
    monkeypatch.setenv("FUNDGUARD_DISCRETION_TABLE", str(custom))
    assert penalty_range("40", 1000).fine_min == D("3500.00") == penalty_range("40", 1000).fine_max
    monkeypatch.delenv("FUNDGUARD_DISCRETION_TABLE")
    assert penalty_range("40", 1000).fine_min == D("3000.00")
