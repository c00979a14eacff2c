"""The violation types the generator plants: stable codes, Chinese names, legal basis, default rates.

Legal basis: 《医疗保障基金使用监督管理条例》(国务院令第735号) Art. 38 (irregular use by providers) and Art. 40
(fraud), and the list of seed 002 (西宁市医保局 2021 飞行检查计划 二(一)(二)). Rates are the share of eligible
visits (or institutions / persons) that get the violation; each block plants at least one of a type whose
rate is positive. The defaults give about 1,100 planted violations per million fee lines.
"""

from __future__ import annotations

from dataclasses import dataclass

_T = "《医疗保障基金使用监督管理条例》"


@dataclass(frozen=True, slots=True)
class ViolationType:
    code: str
    name_zh: str
    legal_basis: str
    rate: float


def _v(code: str, name_zh: str, article: str, rate: float) -> ViolationType:
    return ViolationType(code, name_zh, f"{_T}{article}", rate)


_A38_1 = "第三十八条第（一）项"
_A38_2 = "第三十八条第（二）项"
_A38_3 = "第三十八条第（三）项"
_A38_4 = "第三十八条第（四）项"
_A38_5 = "第三十八条第（五）项"
_A38_6 = "第三十八条第（六）项"
_A40_1 = "第四十条第一款第（一）项"
_A40_3 = "第四十条第一款第（三）项"

VIOLATION_TYPES: dict[str, ViolationType] = {
    v.code: v
    for v in (
        _v("duplicate_charge_pair", "重复收费（项目A含项目B仍同时收费）", _A38_3, 0.0007),
        _v("duplicate_same_item", "同一项目重复计费", _A38_3, 0.0005),
        _v("unbundled_surgery", "分解收费（主次手术未按规定折价）", _A38_3, 0.015),
        _v("over_standard_price", "超标准收费（单价超过定价上限）", _A38_3, 0.0005),
        _v("out_of_scope_fund_paid", "将目录外（丙类）费用纳入基金结算", _A38_6, 0.0004),
        _v("gender_mismatch", "药品/项目与限定性别不符", _A38_6, 0.0004),
        _v("age_mismatch", "儿童专用药品/项目用于成人", _A38_6, 0.0004),
        _v("hospital_level_mismatch", "药品限医疗机构级别", _A38_6, 0.0006),
        _v("department_mismatch", "项目限定科室使用", _A38_6, 0.0005),
        _v("visit_type_mismatch", "限住院药品门诊使用", _A38_6, 0.0003),
        _v("insurance_type_mismatch", "限工伤/生育保险药品由基本医保支付", _A38_6, 0.0002),
        _v("indication_missing", "药品超限定适应症（无相应诊断）", _A38_6, 0.0006),
        _v("tcm_herb_not_paid", "中药饮片单方/单复方不予支付仍纳入基金", _A38_6, 0.001),
        _v("over_course_days", "药品超限定支付疗程", _A38_2, 0.01),
        _v("over_frequency", "医疗服务项目超限定频次", _A38_2, 0.005),
        _v("over_quantity", "超量开药", _A38_2, 0.0003),
        _v("repeated_test", "重复检查", _A38_2, 0.005),
        _v("ghost_bed", "挂床住院", _A38_1, 0.0003),
        _v("split_admission", "分解住院", _A38_1, 0.005),
        _v("impersonation_concurrent", "冒名就医（同一人同时在两地就医）", _A40_1, 0.0005),
        _v("deceased_card_use", "死亡人员医保凭证被冒用", _A40_1, 0.05),
        _v("pharmacy_cashing", "药店刷卡套现（反复整额购药）", _A38_5, 0.0003),
        _v("inventory_mismatch", "进销存不符（销售量大于购进量，串换迹象）", _A38_4, 0.02),
        _v("phantom_inpatient_gang", "集中虚假住院（团伙式挂床）", _A40_3, 0.0003),
        # issue 12
        _v("child_contraindicated_drug", "儿童禁用药品用于儿童（喹诺酮类）", _A38_2, 0.002),
        _v("diagnosis_sex_mismatch", "诊断与患者性别不符（男性患者妊娠类诊断）", _A40_1, 0.002),
        _v("trace_code_duplicate", "药品追溯码重复结算（回流药）", _A38_4, 0.0003),
        _v("trace_code_short", "药品追溯码数量少于结算盒数", _A38_4, 0.0003),
        # issue 12 (12b): the other trace-code misuses, and the drug reasonable-use / TCM / coding classes
        _v("trace_code_refund_resale", "药品追溯码退药后再次销售（退药再售）", _A38_4, 0.0003),
        _v("trace_code_no_purchase", "药品追溯码无进货记录（进销存不符）", _A38_4, 0.0003),
        _v("drug_interaction", "药品相互作用（辛伐他汀与克拉霉素同日使用）", _A38_2, 0.001),
        _v("elderly_drug_avoid", "老年人应避免使用的药品（地西泮）用于65岁以上患者", _A38_2, 0.001),
        _v("pregnancy_drug", "妊娠期禁用药品（他汀类）用于孕产妇", _A38_2, 0.02),
        _v("tcm_incompatible_pair", "中药饮片配伍禁忌（十八反：甘草反海藻）", _A38_2, 0.01),
        _v("diagnosis_age_mismatch", "诊断与患者年龄不符（儿童结算清单产科诊断）", _A40_1, 0.01),
        _v("oversized_prescription", "药品种类超标（门诊单张处方超过5种西药中成药）", _A38_2, 0.001),
        _v("overlapping_supply", "重复开药（前次购药用药周期未满再次购同一药品）", _A38_2, 0.0003),
        # issue 12 (12c): the price-item specification (项目内涵, 计价单位) and the indication clauses
        _v(
            "service_consumable_duplicate",
            "医疗服务项目与医用耗材重复收费（心电监测另收电极片）",
            _A38_3,
            0.003,
        ),
        _v("over_stay_days", "按日计费项目天数超过住院天数（床位费）", _A38_3, 0.003),
        _v("over_stay_hours", "按小时计费项目时数超过住院时长（氧气吸入）", _A38_3, 0.003),
        _v(
            "indication_history_missing",
            "药品限既往治疗史适应症，本地无既往诊断（需人工审核）",
            _A38_6,
            0.002,
        ),
        _v("oversized_tcm_prescription", "中药饮片超大处方（单张处方超过30味）", _A38_2, 0.003),
        _v("frequent_outpatient", "频繁门诊（30日内门诊超过15天）", _A38_2, 0.001),
        _v("frequent_admission", "频繁住院（90日内住院超过3次）", _A38_1, 0.001),
        _v("operation_sex_mismatch", "手术操作编码与性别不符（男性患者女性生殖器官手术）", _A40_1, 0.01),
        _v("operation_diagnosis_mismatch", "诊断编码与手术操作编码不符（剖宫产无妊娠诊断）", _A40_1, 0.01),
        _v("drug_contraindication", "药品禁忌症（非选择性β受体阻滞剂用于哮喘患者）", _A38_2, 0.002),
        _v("consumable_sex_mismatch", "医用耗材与性别不符（男性患者宫内节育器）", _A38_6, 0.0003),
        _v("indication_clause", "药品适应症另需检验值（人血白蛋白限白蛋白低于30g/L）", _A38_6, 0.002),
        # the quantity outliers against the item's population normal (template quantity_outlier)
        _v("consumable_overuse", "医用耗材数量超标（同日计费数量远超该耗材常规用量）", _A38_2, 0.001),
        _v("tcm_overdose_upload", "中药饮片超量上传（同日计费数量远超该饮片常规用量）", _A38_3, 0.001),
    )
}
"""Violation type code → definition, in a stable order."""
