"""Local rule files that are not rules give clear bilingual errors, never tracebacks (issue 10, low):
``.nan`` / ``.inf`` numbers, nesting deep enough to exhaust Python's recursion, alias bombs, GBK files."""

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
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (GOOD.replace("0.1", ".nan").encode(), ["params.tolerance", ".nan", "L-TEST-1"]),
        (GOOD.replace("0.1", "-.inf").encode(), ["params.tolerance", "数值无效"]),
        (("x: " + "[" * 5000 + "]" * 5000 + "\n").encode(), ["嵌套超过 32 层", "nested deeper"]),
        ("".join("  " * i + f"k{i}:\n" for i in range(3000)).encode(), ["嵌套超过", "line 32"]),
        (GOOD.encode("gbk"), ["不是 UTF-8 编码", "not UTF-8"]),
        ((BOMB + GOOD.replace("\n- id", "\nrules:\n- id", 1)).encode(), ["未知字段"]),
    ],
    ids=["nan", "inf", "nested-lists", "nested-maps", "gbk", "alias-bomb"],
)
def test_bad_rule_files_give_clear_errors(tmp_path: Path, data: bytes, words: list[str]) -> None:
    p = tmp_path / "local.yaml"
    p.write_bytes(data)
    with pytest.raises(RuleError) as e:
        load_rules([p])
    for w in words:
        assert w in str(e.value)
    assert e.value.zh and e.value.en
