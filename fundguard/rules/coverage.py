"""Which of the 2025 edition's 88 rule classes the rule library applies (``fundguard rules coverage``).

A class is *implemented* when an enabled rule names it in ``class_2025`` (``"<seq> <name>"``); *knowledge
loaded* when the national knowledge points of the class are in the knowledge base but no rule uses them yet;
*not yet* otherwise, with the reason. An implemented class whose rules need the whole population (its plan's
``population``: 进销存, 集中住院) says they run in batch only, never in real time; *not yet*, with the reason: NHSA published no knowledge-point detail for the class, so it needs a
local rule or a model, or the claims tables alone cannot decide it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fundguard.kb import knowledge
from fundguard.rules.plan import plan
from fundguard.rules.spec import RuleSet


@dataclass(frozen=True)
class ClassCoverage:
    seq: int
    tier1: str
    tier2: str
    name: str
    status: str
    """``implemented`` | ``knowledge_loaded`` | ``not_yet``."""
    rules: tuple[str, ...]
    knowledge_points: int
    reason_zh: str


STATUS_ZH = {"implemented": "已实现", "knowledge_loaded": "知识已加载", "not_yet": "未实现"}


def coverage(ruleset: RuleSet) -> list[ClassCoverage]:
    """One row per class of the 2025 catalogue, in catalogue order."""
    points = knowledge.points().group_by("rule_class").len()
    kp_count = dict(zip(points["rule_class"], points["len"], strict=True))
    out = []
    for c in knowledge.catalog().iter_rows(named=True):
        of_class = [r for r in ruleset.rules.values() if r.class_2025.split(" ", 1)[0] == str(c["seq"])]
        rules = tuple(r.id for r in of_class if r.enabled)
        off = [r.id for r in of_class if not r.enabled]
        n = int(kp_count.get(c["name"], 0))
        if rules:
            status, reason = "implemented", f"规则 {len(rules)} 条" + (f"，知识点 {n} 条" if n else "")
            batch_only = [r.id for r in of_class if r.enabled and plan(r).population]
            if batch_only:  # they compare against the whole population: one claim cannot decide them
                reason += f"；{'、'.join(batch_only)} 需全量数据，仅事后批量审核，不参与事前事中实时审核"
        elif off:
            status, reason = (
                "knowledge_loaded",
                f"规则 {'、'.join(off)} 已实现但默认停用，需统筹地区配置后启用",
            )
        elif n:
            status, reason = "knowledge_loaded", f"国家知识点 {n} 条已加载，规则待实现"
        elif c["has_kp_detail"] == "1":
            status, reason = "not_yet", "国家已发布知识点明细但未收入本知识库（数据源未含该批次）"
        else:
            status, reason = (
                "not_yet",
                "国家未发布知识点明细：需地方规则参数、模型或结算数据以外的资料（病历、医嘱、检查报告）",
            )
        out.append(ClassCoverage(c["seq"], c["tier1"], c["tier2"], c["name"], status, rules, n, reason))
    return out
