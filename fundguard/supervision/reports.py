"""举报 and 举报奖励, pure rules (regulation.md §7): the report's channels, targets, violation types and the
不予受理 reasons (令第5号), and the reward rule of 医保办发〔2022〕22号 with the province's ratios as data
(``data/report_rewards.yaml``, another file through ``load_reward_rules(path)``): a one-time share of 案值 by
grade (1–3), an insider bonus, the grade's and the national floor (¥200) and the national cap (¥200,000), and
the exclusions. The service stores only the reports and the computed rewards."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from fundguard.core.errors import InputError

CHANNELS = {"internet": "网络", "phone": "电话", "letter": "信函", "fax": "传真", "visit": "来访"}
TARGETS = {"institution": "定点医药机构", "person": "参保人员", "staff": "医保经办机构及工作人员"}
VIOLATION_TYPES = {
    "fake_hospitalisation": "虚假住院、挂床住院",
    "fake_billing": "虚构服务、伪造票据",
    "over_charging": "超标准收费、重复收费、分解收费",
    "substitution": "串换药品、耗材或诊疗项目",
    "card_misuse": "冒名就医、出借医保凭证",
    "drug_reselling": "倒卖医保药品",
    "inducing": "诱导、协助他人骗保",
    "staff_misconduct": "工作人员违规",
    "other": "其他",
}
REJECT_REASONS = {
    "out_of_scope": "不属于医疗保障基金使用监督管理范围",
    "no_facts": "无明确举报对象或具体违法违规事实",
    "handled": "已经依法处理且无新的事实和证据",
    "not_ours": "不属于本部门管辖（已告知向有权部门反映）",
    "other": "其他",
}
OUTCOMES = {"substantiated": "举报属实", "partly": "部分属实", "unsubstantiated": "举报不属实"}

_DEFAULT = Path(__file__).parent / "data" / "report_rewards.yaml"


@dataclass(frozen=True)
class Grade:
    ratio: Decimal
    floor: Decimal
    zh: str


@dataclass(frozen=True)
class RewardRules:
    grades: dict[int, Grade]
    floor: Decimal = Decimal(200)
    cap: Decimal = Decimal(200_000)
    insider_bonus: Decimal = Decimal("0.2")
    multiple_reporters: str = "first_in_time"
    exclusions: dict[str, str] = field(default_factory=dict)
    region_zh: str = ""
    source: str = ""
    confidence: str = "M"


@dataclass(frozen=True)
class Reward:
    amount: Decimal
    basis_zh: str  # how it was computed, in Chinese, for the approval form and the notice


def _dec(value: Any, where: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise InputError(f"奖励规则 {where} 应为数字", f"reward rule {where} must be a number") from None
    if not d.is_finite() or d < 0:
        raise InputError(f"奖励规则 {where} 应为非负数", f"reward rule {where} must be ≥ 0")
    return d


def load_reward_rules(path: str | Path | None = None) -> RewardRules:
    """The province's reward rules (default: the bundled file); a bad file is refused in Chinese and English."""
    p = Path(path) if path else _DEFAULT
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"无法读取举报奖励规则 {p}：{exc}", f"cannot read reward rules {p}: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("grades"), dict):
        raise InputError(f"举报奖励规则 {p} 缺少 grades", f"reward rules {p} lack grades")
    grades = {}
    for k, g in raw["grades"].items():
        if str(k) not in ("1", "2", "3") or not isinstance(g, dict):
            raise InputError("奖励等级应为 1、2、3", "reward grades are 1, 2, 3")
        grades[int(k)] = Grade(_dec(g.get("ratio"), f"grades.{k}.ratio"), _dec(g.get("floor_cny", 0), f"grades.{k}.floor_cny"),
                               str(g.get("zh") or f"{k}级"))  # fmt: skip
    rules = RewardRules(grades=grades, floor=_dec(raw.get("floor_cny", 200), "floor_cny"),
                        cap=_dec(raw.get("cap_cny", 200_000), "cap_cny"),
                        insider_bonus=_dec(raw.get("insider_bonus", 0), "insider_bonus"),
                        multiple_reporters=str(raw.get("multiple_reporters") or "first_in_time"),
                        exclusions={str(k): str(v) for k, v in (raw.get("exclusions") or {}).items()},
                        region_zh=str(raw.get("region_zh") or ""), source=str(raw.get("source") or ""),
                        confidence=str(raw.get("confidence") or "M"))  # fmt: skip
    if rules.floor > rules.cap:
        raise InputError("奖励下限不能高于上限", "the reward floor exceeds the cap")
    return rules


def compute_reward(case_value: Any, grade: int, rules: RewardRules, *, insider: bool = False) -> Reward:
    """The reward for a report whose case confirmed ``case_value`` (案值: the fund loss to recover): the grade's
    share, raised by the insider bonus, at least the grade's and the national floor, at most the cap; whole yuan
    rounded half up. ``case_value`` must be positive: without fund loss there is no reward."""
    value = _dec(case_value, "案值")
    if value <= 0:
        raise InputError("案值为零：未造成医保基金损失的举报不予奖励", "no fund loss, no reward")
    if grade not in rules.grades:
        raise InputError(
            f"奖励等级应为 {'、'.join(map(str, sorted(rules.grades)))}", f"unknown grade {grade}"
        )
    g = rules.grades[grade]
    raw = value * g.ratio
    parts = [f"案值 {value:,.2f} 元 × {(g.ratio * 100).normalize():f}%（{grade}级）= {raw:,.2f} 元"]
    if insider and rules.insider_bonus:
        raw = raw * (1 + rules.insider_bonus)
        parts.append(f"内部人员举报上浮 {(rules.insider_bonus * 100).normalize():f}% → {raw:,.2f} 元")
    floor = max(g.floor, rules.floor)
    amount = raw
    if amount < floor:
        amount = floor
        parts.append(f"不足下限，按 {floor:,.0f} 元")
    if amount > rules.cap:
        amount = rules.cap
        parts.append(f"超过上限，按 {rules.cap:,.0f} 元")
    amount = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Reward(amount, "；".join(parts) + f"；奖励金额 {amount:,.0f} 元")
