"""Each template's shipped examples (fundguard/rules/examples/<template>.yaml) through the real engine and store,
and rules' own examples (``fundguard rules test``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from fundguard.engine import run_batch
from fundguard.engine.examples import (
    Example,
    _has_negative,
    build_store,
    missing_examples,
    rule_examples,
    run_example,
    template_examples,
)
from fundguard.rules import load_rules, national_rule_files
from fundguard.rules.spec import EXAMPLES_DIR, RuleError
from fundguard.rules.templates import TEMPLATES

RULES = load_rules()


@pytest.mark.parametrize("example", [pytest.param(e, id=f"{e.source}-{e.name}") for e in template_examples()])
def test_template_example(example: Example, tmp_path: Path) -> None:
    result = run_example(RULES, example, tmp_path)
    assert result.ok, "\n".join(result.problems)
    assert result.hits == len(example.case.get("expect") or [])


def test_every_template_has_examples() -> None:
    assert {p.stem for p in EXAMPLES_DIR.glob("*.yaml")} >= set(TEMPLATES)
    examples = template_examples()
    for name in TEMPLATES:  # each template: a rule flagged somewhere and a line left alone somewhere
        cases = [e.case for e in examples if RULES[e.rule_id].template == name]
        assert any(c.get("expect") for c in cases), name
        assert any(_has_negative(c) for c in cases), name


def test_internet_hospital_rule_uses_the_flag_and_a_local_scope(tmp_path: Path) -> None:
    """L-2025-47 ships on and judges internet visits (flag or registry); visits that say nothing at ordinary
    institutions are left alone until a bureau's override names its internet hospitals."""
    code = "XN01AHS091B002010101435"  # 枸橼酸舒芬太尼注射液: not for internet prescriptions (batch 10)
    visits = [{"mdtrt_id": "V1", "psn_no": "P1", "med_type": "11", "fixmedins_code": "H1"},
              {"mdtrt_id": "V2", "psn_no": "P2", "med_type": "11", "fixmedins_code": "H2"}]  # fmt: skip
    lines = [{"bkkp_sn": "B1", "mdtrt_id": "V1", "hilist_code": code, "det_item_fee_sumamt": "50.00"},
             {"bkkp_sn": "B2", "mdtrt_id": "V2", "hilist_code": code, "det_item_fee_sumamt": "50.00"}]  # fmt: skip
    ws = build_store(tmp_path, visits, lines)
    assert RULES["L-2025-47"].enabled and RULES["L-2025-47"].params["internet"]

    def hits(rules) -> list:
        res = run_batch(ws, rules.select(["L-2025-47"]), progress=False)
        with duckdb.connect() as con:
            return con.execute(f"SELECT bkkp_sn FROM read_parquet('{res.hits_path}')").fetchall()

    assert hits(RULES) == []
    local = tmp_path / "local.yaml"
    local.write_text("- override: L-2025-47\n  params: {fixmedins_codes: [H1]}\n", encoding="utf-8")
    assert hits(load_rules([*national_rule_files(), local])) == [(["B1"],)]


LOCAL_RULE = """
- id: L-8901-001
  name_zh: 本地：彩超单次就诊限 1 次
  template: same_item_repeat
  params: {window: same_day, count_by: lines, max_count: 1, codes: ["002202000010000"]}
  result_type: 可疑
  legal_basis: 《医疗保障基金使用监督管理条例》第三十八条
  amount_rule: excess_over_limit
  examples:
    - name: 同次就诊两次彩超违规，一次合规
      visits:
        - {mdtrt_id: V1, psn_no: P1, med_type: "11"}
        - {mdtrt_id: V2, psn_no: P2, med_type: "11"}
      lines:
        - {bkkp_sn: B1, mdtrt_id: V1, hilist_code: "002202000010000", det_item_fee_sumamt: "120.00"}
        - {bkkp_sn: B2, mdtrt_id: V1, hilist_code: "002202000010000", det_item_fee_sumamt: "120.00"}
        - {bkkp_sn: B3, mdtrt_id: V2, hilist_code: "002202000010000", det_item_fee_sumamt: "120.00"}
      expect:
        - {bkkp_sn: [B1, B2], amount: "120.00"}
"""


def test_local_rule_examples_run(tmp_path: Path) -> None:
    f = tmp_path / "local.yaml"
    f.write_text(LOCAL_RULE, encoding="utf-8")
    rules = load_rules([*national_rule_files(), f])
    (example,) = rule_examples(rules)
    assert example.rule_id == "L-8901-001"
    assert run_example(rules, example, tmp_path).ok
    assert "L-8901-001" not in " ".join(missing_examples(rules))
    # a wrong expectation is reported, not passed
    wrong = f.read_text(encoding="utf-8").replace('[B1, B2], amount: "120.00"', '[B1], amount: "120.00"')
    f.write_text(wrong, encoding="utf-8")
    rules = load_rules([*national_rule_files(), f])
    (res,) = [run_example(rules, e, tmp_path) for e in rule_examples(rules)]
    assert not res.ok and "命中明细不符" in res.problems[0]


def test_local_rule_without_examples_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "local.yaml"
    f.write_text(LOCAL_RULE.split("  examples:")[0], encoding="utf-8")
    msgs = missing_examples(load_rules([*national_rule_files(), f]))
    assert any(m.startswith("L-8901-001") and "正例" in m and "反例" in m for m in msgs), msgs


@pytest.mark.parametrize(
    ("examples", "field"),
    [
        ("examples: {a: 1}", "examples"),
        ("examples: [{name: x}]", "examples[0]"),
        ("examples: [{lines: [{bkkp_sn: B1}]}]", "examples[0].lines"),
        ("examples: [{lines: [{bkkp_sn: B1, mdtrt_id: V1, hilist_code: X, det_item_fee_sumamt: 1}], "
         "expect: [{bkkp_sn: B1}]}]", "examples[0].expect"),
    ],
)  # fmt: skip
def test_bad_examples_rejected(tmp_path: Path, examples: str, field: str) -> None:
    f = tmp_path / "local.yaml"
    f.write_text(LOCAL_RULE.split("  examples:")[0] + "  " + examples + "\n", encoding="utf-8")
    with pytest.raises(RuleError) as err:
        load_rules([*national_rule_files(), f])
    assert f"字段 {field}" in err.value.zh
