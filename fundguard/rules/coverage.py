"""Which of the 2025 edition's 88 rule classes the rule library applies (``fundguard rules coverage``).

A class is *implemented* when an enabled rule names it in ``class_2025`` (``"<seq> <name>"``); *knowledge
loaded* when the national knowledge points of the class are in the knowledge base but no rule uses them yet;
*not yet* otherwise, with the reason. An implemented class whose rules need the whole population (its plan's
``population``: 进销存, 集中住院) says they run in batch only, never in real time; *not yet*, with the reason: NHSA published no knowledge-point detail for the class, so it needs a
local rule or a model, or the claims tables alone cannot decide it.
"""

from __future__ import annotations

from collections.abc import Collection
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

# issue 12: the statistical classes (统计指标监测类) are computed by the big-data models (``fundguard.models``,
# which the rules may not import: the caller passes the indicator codes it has), per institution × month and
# scored against peers of the same type, level and specialty (median / MAD) into the model leads.
INDICATOR_CLASSES: dict[int, tuple[str, str]] = {
    56: ("drug_share", "药占比"),
    57: ("exam_share", "检查检验占比"),
    58: ("material_share", "耗材占比"),
}
"""Class seq → (indicator code in ``fundguard.models.indicators``, its name)."""
# and why the others of the group are not computed (specific, for the coverage report)
INDICATOR_GAPS: dict[int, str] = {
    59: "治疗费占比尚未列入模型指标库（收费类别05治疗费可算，待加入指标并按同类机构比较）",
    60: "CT检查须按医疗服务项目编码识别CT项目（各省价格项目编码不一），指标库尚无CT项目表",
    61: "核磁检查须按医疗服务项目编码识别MRI项目（各省价格项目编码不一），指标库尚无MRI项目表",
    62: "院内感染须病案首页医院感染标志或病原学检查结果，结算数据不含",
    63: "非计划再入院须结算清单“出院31天内再住院计划”标志；模型仅有3日内同诊断再入院率，口径不同",
}


def coverage(ruleset: RuleSet, indicators: Collection[str] = ()) -> list[ClassCoverage]:
    """One row per class of the 2025 catalogue, in catalogue order; ``indicators``: the model indicator codes
    available (``fundguard.models.indicators.INDICATORS``), which implement the classes of
    ``INDICATOR_CLASSES``."""
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
        elif c["seq"] in INDICATOR_CLASSES and INDICATOR_CLASSES[c["seq"]][0] in indicators:
            code, name = INDICATOR_CLASSES[c["seq"]]
            status, reason = (
                "implemented",
                f"大数据模型指标 {code}（{name}）：按机构×月计算，与同类型、同级别、同专科机构比较（中位数/MAD稳健分数），"
                "超常者进入模型线索；仅事后",
            )
        elif c["seq"] in INDICATOR_GAPS:
            status, reason = "not_yet", INDICATOR_GAPS[c["seq"]]
        elif c["has_kp_detail"] == "1":
            status, reason = "not_yet", "国家已发布知识点明细但未收入本知识库（数据源未含该批次）"
        else:
            status, reason = (
                "not_yet",
                "国家未发布知识点明细：需地方规则参数、模型或结算数据以外的资料（病历、医嘱、检查报告）",
            )
        out.append(ClassCoverage(c["seq"], c["tier1"], c["tier2"], c["name"], status, rules, n, reason))
    return out
