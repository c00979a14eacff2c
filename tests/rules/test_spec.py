"""Rule files: the national set loads and compiles; bad files fail with errors naming file, rule, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundguard.rules import load_rules
from fundguard.rules.spec import RuleError

GOOD = """
- id: L-TEST-1
  name_zh: 测试规则
  template: price_limit
  params: {tolerance: 0.1}
  result_type: 可疑
  legal_basis: 条例第三十八条
  amount_rule: excess_over_limit
"""


def _file(tmp: Path, text: str, name: str = "r.yaml") -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def test_national_rules_load_and_compile() -> None:
    rs = load_rules()
    assert len(rs) >= 15
    assert all(r.id.startswith(("GZ", "L-")) for r in rs.enabled())
    for r in rs.enabled():
        assert r.sql().startswith("SELECT")
    assert load_rules().version == rs.version


@pytest.mark.parametrize(
    ("old", "new", "field", "word"),
    [
        ("template: price_limit", "template: nope", "template", "未知模板"),
        ("params: {tolerance: 0.1}", "params: {tolerance: high}", "params.tolerance", "参数无效"),
        ("params: {tolerance: 0.1}", "params: {bogus: 1}", "params.bogus", "无此参数"),
        ("amount_rule: excess_over_limit", "amount_rule: line_amount", "amount_rule", "price_limit"),
        ("result_type: 可疑", "result_type: 大概", "result_type", "明确违规"),
        ("  legal_basis: 条例第三十八条\n", "", "legal_basis", "缺少必填字段"),
        (
            "  result_type: 可疑\n",
            "  result_type: 可疑\n  effective_from: 2025-13-01\n",
            "effective_from",
            "日期无效",
        ),
        ("  result_type: 可疑\n", "  result_type: 可疑\n  knowledge: kb_nope\n", "knowledge", "未知知识表"),
        ("  result_type: 可疑\n", "  result_type: 可疑\n  knowledge: kb_gender\n", "knowledge", "不接受"),
        ("id: L-TEST-1", "id: X-1", "id", "L-"),
    ],
)
def test_bad_rule_rejected(tmp_path: Path, old: str, new: str, field: str, word: str) -> None:
    assert old in GOOD
    p = _file(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RuleError) as exc:
        load_rules([p])
    msg = str(exc.value)
    assert str(p) in msg and f"字段 {field}" in msg and f"field {field}" in msg and word in msg, msg


def test_missing_template_param_and_kp_filter_column(tmp_path: Path) -> None:
    bad = GOOD.replace(
        "template: price_limit", "template: attribute_restriction\n  knowledge: kb_gender"
    ).replace("params: {tolerance: 0.1}", "params: {}")
    with pytest.raises(RuleError, match=r"params\.attribute"):
        load_rules([_file(tmp_path, bad)])
    bad2 = bad.replace("params: {}", "params: {attribute: gender, kp_filter: {nope: x}}")
    with pytest.raises(RuleError, match=r"kp_filter\.nope"):
        load_rules([_file(tmp_path, bad2)])


def test_duplicate_id_and_yaml_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="duplicate rule id"):
        load_rules([_file(tmp_path, GOOD, "a.yaml"), _file(tmp_path, GOOD, "b.yaml")])
    with pytest.raises(RuleError, match="cannot read rule file"):
        load_rules([_file(tmp_path, "- id: [unclosed", "c.yaml")])


def test_local_override(tmp_path: Path) -> None:
    base = load_rules()
    o = _file(
        tmp_path,
        """
- override: GZ10000102001000
  params: {tolerance: 0.05}
  scenes: [住院]
  effective_from: 2025-06-01
- override: L-DUP-SAME-ITEM
  enabled: false
""",
    )
    rs = load_rules([*base.files, o])
    r = rs["GZ10000102001000"]
    assert r.params["tolerance"] == 0.05 and r.params["cap"] == "lowest"
    assert r.scenes == ("住院",) and str(r.effective_from) == "2025-06-01"
    assert "scene IN ('住院')" in r.sql() and "DATE '2025-06-01'" in r.sql()
    assert "L-DUP-SAME-ITEM" not in {x.id for x in rs.enabled()}
    assert rs.version != base.version
    with pytest.raises(RuleError, match="does not exist"):
        load_rules([*base.files, _file(tmp_path, "- override: GZ-NOPE\n", "x.yaml")])
    with pytest.raises(RuleError, match="cannot be overridden"):
        load_rules(
            [*base.files, _file(tmp_path, "- override: GZ10000102001000\n  template: item_pair\n", "y.yaml")]
        )
