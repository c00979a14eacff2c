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
# Why each class without a rule has none — specific, so a bureau knows what data or knowledge would close it.
NOT_YET_REASONS: dict[int, str] = {
    6: "需《国家医保药品目录》限定支付范围中“限新生儿”的药品清单，本知识库未收录目录备注（年龄判断已具备：attribute_restriction）",
    11: "需统筹地区门诊慢特病病种目录及各病种用药范围（地方数据），国家未发布统一知识点",
    16: "需各省医疗服务价格项目中限工伤保险支付的项目清单（地方价格目录）；险种判断已具备（attribute_restriction）",
    17: "需各省医疗服务价格项目中限生育保险支付的项目清单（地方价格目录）；险种判断已具备（attribute_restriction）",
    18: "需各省医疗服务价格项目中限新生儿的项目清单；国家两库仅发布“医疗服务项目儿童专用”（第80类已实现）",
    19: "需各省医疗服务价格项目中限儿童的项目清单；国家两库仅发布“医疗服务项目儿童专用”（第80类已实现）",
    20: "需项目限定支付范围文本到ICD-10的映射，国家未发布；地方价格目录的限定说明可用 knowledge_review 模板人工复核",
    22: "需地方价格目录中限门诊/限住院的项目清单（就医方式判断已具备：attribute_restriction）",
    24: "需地方价格目录中按医疗机构级别限定的项目清单（机构级别判断已具备：attribute_restriction）",
    26: "国家已发布知识点明细，但 ../shared/data 的两库批次未含该类；收入后可用 item_pair / windowed_aggregate 实现",
    28: "需统筹地区对该项目的年度或单次报销限额（地方政策参数）",
    32: "国家已发布知识点明细，但 ../shared/data 的两库批次未含耗材类知识点",
    33: "国家已发布知识点明细，但 ../shared/data 的两库批次未含耗材类知识点",
    34: "需统筹地区对该耗材的年度或单次报销限额（地方政策参数）",
    35: "结算清单的完整性、合理性校验属数据质量（fundguard quality 报告的结构与逻辑检查），未作为规则命中",
    36: "结算明细的缺漏与错误属数据质量（fundguard quality 报告的结构与逻辑检查），未作为规则命中",
    41: "需明细的平台接收时间（上传时间戳）与就诊、计费时间比对，本项目的费用明细模型未收入该字段",
    44: "需手术切口类别及抗菌药物的用药时点（医嘱时间），结算明细只有计费日期",
    45: "需医师的抗菌药物处方权级别与本地抗菌药物分级目录（卫生健康部门数据）",
    53: "需病历中的入院指征（生命体征、检查结果），结算数据不能判断；模型的低费用住院指标只作线索",
    59: "治疗费占比尚未列入模型指标库（收费类别05治疗费可算，待加入指标并按同类机构比较）",
    60: "CT检查须按医疗服务项目编码识别CT项目（各省价格项目编码不一），指标库尚无CT项目表",
    61: "核磁检查须按医疗服务项目编码识别MRI项目（各省价格项目编码不一），指标库尚无MRI项目表",
    62: "院内感染须病案首页医院感染标志或病原学检查结果，结算数据不含",
    63: "非计划再入院须结算清单“出院31天内再住院计划”标志；模型仅有3日内同诊断再入院率，口径不同",
    64: "需药品与医疗服务项目的对应知识（如造影剂须伴影像检查），国家未发布",
    68: "需说明书最大日剂量及明细的单次剂量、频次（医嘱数据）；结算明细只有数量和包装规格，无法换算日剂量",
    70: "需全部药品说明书适应症到ICD-10的映射；已有“药品限适应症”（第8类）映射，说明书适应症库未收录",
    79: "国家已发布知识点明细，但 ../shared/data 的两库批次未含该类；需治疗项目与诊断的对应知识",
    82: "国家已发布知识点明细，但 ../shared/data 的两库批次未含该类；需项目禁忌诊断知识",
    83: "国家已发布知识点明细，但 ../shared/data 的两库批次未含该类；需项目适应症到ICD-10的映射",
    84: "需医用耗材与医疗服务项目的对应关系（价格项目“除外内容”），国家未发布",
    85: "需医用耗材适用科室知识（国家未发布）；科室判断已具备（department_restriction）",
    88: "国家已发布知识点明细，但 ../shared/data 的两库批次未含耗材类知识点（限定疾病到ICD-10的映射）",
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
        elif c["seq"] in NOT_YET_REASONS:
            status, reason = "not_yet", NOT_YET_REASONS[c["seq"]]
        elif c["has_kp_detail"] == "1":
            status, reason = "not_yet", "国家已发布知识点明细但未收入本知识库（数据源未含该批次）"
        else:
            status, reason = (
                "not_yet",
                "国家未发布知识点明细：需地方规则参数、模型或结算数据以外的资料（病历、医嘱、检查报告）",
            )
        out.append(ClassCoverage(c["seq"], c["tier1"], c["tier2"], c["name"], status, rules, n, reason))
    return out
