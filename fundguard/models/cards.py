"""Model cards: what each model is for, what it reads, how it scores, how it was validated, where it is blind.

Validation figures are those of the evaluation tests (``tests/models``) and of ``fundguard models kaggle``;
they are measured, not promised, and are restated here only as the tests last saw them.
"""

from __future__ import annotations

from dataclasses import dataclass

ENTITY_ZH = {
    "institution": "医疗机构",
    "department": "科室",
    "doctor": "医师",
    "person": "参保人",
    "pharmacy": "药店",
    "group": "团伙",
}

CITY_CHECK = (
    "合成城市（tests/models，CityConfig(schemes=True)）：植入方案的机构在其对象类型中排名前10且理由属实；"
    "儿童医院、康复医院、肿瘤医院、24小时药店均不在前20。"
)


@dataclass(frozen=True)
class Card:
    code: str
    name_zh: str
    entity_type: str
    purpose: str
    inputs: str
    method: str
    validation: str
    blind_spots: str


_PEER = "同类组为机构类型×等级×专科（由机构名称识别）；同类不足5家时不做相对评分"

CARDS: dict[str, Card] = {
    c.code: c
    for c in (
        Card(
            "ghost_bed",
            "虚假住院/挂床",
            "institution",
            "发现只收床位费、无诊疗护理记录的住院，以及在院人数超过核定床位的机构。",
            "fee_list_d（床位费、护理费逐日）、mdtrt_d、medins_info_b.aprv_bed_cnt",
            f"无诊疗护理床日占比、床位使用率峰值、床位使用率的同类稳健分（中位数/MAD，封顶10）之和；单日在院超过核定床位另加3分。{_PEER}",
            CITY_CHECK,
            "护理费合并在其他项目中收取的地区会误报；核定床位数缺失时无法判断超床位；真实挂床但照常收护理费的无法识别。",
        ),
        Card(
            "split_admission",
            "分解住院",
            "institution",
            "发现出院后3日内以相同主诊断再次入住同一机构的比例异常高的医院。",
            "mdtrt_d（入出院时间、主诊断）",
            f"3日内再入院率的同类稳健分，按住院人次收缩（<20人次按比例降权）。{_PEER}",
            CITY_CHECK,
            "转往他院再入院、改写主诊断的分解住院看不到；放化疗等计划性再入院需人工排除。",
        ),
        Card(
            "upcoding",
            "高套/升级诊断",
            "institution",
            "发现次要诊断中CC/MCC（CHS-DRG 1.1并发症目录）占比远高于同类机构的医院。",
            "setl_list_diag_d（主诊断、次要诊断）、fundguard/kb/data/cc_mcc.csv、cc_exclusions.csv（CCE排除表）",
            f"MCC占比稳健分 + 0.5×CC占比稳健分；涉及金额按超出同类中位数的MCC住院费用比例估算。{_PEER}",
            CITY_CHECK,
            "未使用DRG权重：共享数据中的CHS-DRG 1.1表只有分组名称、CC/MCC与排除表，没有相对权重，也没有主诊断到"
            "ADRG的分组规则，无法算病组权重结构；专科医院无同类时不评分；主诊断升级未覆盖。",
        ),
        Card(
            "repeated_test",
            "重复检查",
            "institution",
            "发现同一检查检验项目在同次住院中不同日重复收费的住院比例异常高的医院。",
            "fee_list_d（03检查费、04化验费）",
            f"重复检查率的同类稳健分。{_PEER}",
            CITY_CHECK,
            "病情需要的复查（如血常规）会抬高比例，需结合规则库频次限定；跨次就诊的重复检查未计。",
        ),
        Card(
            "cost_structure",
            "费用结构异常",
            "institution",
            "综合次均费用、床日费用、药占比、耗材占比、检查检验占比、平均住院日、人次人头比、住院率、复诊率的偏离。",
            "mdtrt_d、fee_list_d",
            f"各指标同类稳健分×0.3之和（弱模型，只作排序参考）。{_PEER}",
            "合成城市中无专门植入；作为背景排序，不单独验证。",
            "结构偏离不等于违规；同类组划分不准（如名称未体现专科）会误报。",
        ),
        Card(
            "rule_hits",
            "规则命中",
            "institution",
            "把最近一次规则审核（results/run=*/hits.parquet）的命中金额折成占医疗总费用的比例，与同类比较。",
            "最近一次 fundguard audit 的命中结果",
            "规则命中金额占比的同类稳健分。",
            "随规则库召回率而定（tests/engine/test_city.py）。",
            "未运行审核时为空；规则误报会直接传入。",
        ),
        Card(
            "pharmacy_cashing",
            "药店套现/空刷/串换",
            "pharmacy",
            "发现同一参保人30日内在同一药店反复整百元刷卡、夜间售药异常多的药店。",
            "mdtrt_d（购药）、fee_list_d",
            "反复整额刷卡占比 + 0.5×整额刷卡占比（与全部药店比较）+ 0.5×夜间售药占比（只与营业时间相同的药店比较）。",
            CITY_CHECK,
            "非整额的套现、分散到多家药店的套现看不到；24小时药店只与24小时药店比较夜间占比。",
        ),
        Card(
            "inventory_mismatch",
            "进销存不符",
            "pharmacy",
            "发现销售量大于购进量的品种占比异常高的药店（串换迹象）。",
            "invt_chg_d（3503采购、3505销售）",
            "进销存倒挂品种占比的稳健分（与全部药店比较），涉及金额为倒挂数量×售价。",
            CITY_CHECK,
            "依赖药店如实上报进销存；期初库存未报时会误报。",
        ),
        Card(
            "drug_resale",
            "倒卖药品",
            "person",
            "发现一年内药品供应天数远超一年、在多家机构购药的参保人。",
            "fee_list_d.prd_days、mdtrt_d",
            "年度药品供应天数、年度购药机构数、0.5×月最多就诊机构数的稳健分之和（与全体参保人比较）。",
            CITY_CHECK,
            "未填用药天数（prd_days）的地区无从计算；慢病长处方会抬高分数，需结合病种。",
        ),
        Card(
            "impersonation",
            "冒名就医/死亡人员",
            "person",
            "发现死亡后仍有结算、住院期间在他院就诊的参保人。",
            "psn_info_b.die_date、mdtrt_d",
            "绝对证据：4 + 2×（死亡后结算次数 + 住院期间他院就诊次数），封顶30。",
            CITY_CHECK,
            "死亡信息未同步到医保时看不到；冒用活人凭证且不重叠就诊的看不到。",
        ),
        Card(
            "gang",
            "诱导住院/团伙",
            "group",
            "发现反复同日入住同一机构、主诊断或联系地址相同的参保人群体。",
            "mdtrt_d（入院日期、机构、主诊断、联系地址）",
            "参保人—机构—日期图：同日同院入院为一条边，相同主诊断、相同地址加权；保留权重≥2的边，"
            "networkx Louvain 社区；分数 = 2×最多共同入院次数 + log2(人数)×密度 + 4×无诊疗护理床日占比。",
            CITY_CHECK,
            "分散在多家机构、错开日期入院的团伙看不到；大型体检、集体转诊会形成合法群体。",
        ),
        Card(
            "doctor_load",
            "医师接诊量异常",
            "doctor",
            "发现日均门诊接诊量远高于同级机构同科室医师的医师（挂名、冒名开单迹象）。",
            "mdtrt_d.chfpdr_code",
            "医师日均接诊量的稳健分（同级机构同科室）。",
            "合成城市中无专门植入；背景排序。",
            "多点执业、团队共用工号会误报。",
        ),
        Card(
            "department_cost",
            "科室费用异常",
            "department",
            "发现门诊次均费用远高于同级机构同名科室的科室。",
            "mdtrt_d、fee_list_d",
            "科室次均费用的稳健分（同级机构同名科室）。",
            "合成城市中无专门植入；背景排序。",
            "科室编码不统一时同类比较失真。",
        ),
        Card(
            "supervised",
            "有标签监督排序（梯度提升）",
            "institution",
            "用已核实（1）/已撤销（0）的机构结论作标签训练梯度提升模型，对全部机构排序；结论积累后重新运行即重新训练。",
            "机构×月指标（`fundguard models run --labels entity_id,label`）；Kaggle 数据上为机构指标及其同州稳健分",
            "scikit-learn HistGradientBoostingClassifier（深度2）；按机构分组交叉验证（同一机构的各月、各单据不跨"
            "训练/测试），机构分数为各月概率均值×10。",
            "Kaggle 医疗服务商欺诈数据（labels_dev.csv 3,246 家，阳性304家；5折按机构分组）：ROC-AUC 约0.86、"
            "PR-AUC 约0.57、precision@50 约0.84（`fundguard models kaggle` 每次重新计算）。未达0.90：有标签的机构中"
            "62%在现有数据里没有任何单据（其单据在缺失的训练门诊文件中），只有住院单据的机构内最好约0.87。",
            "标签少或有偏（只核实了被怀疑的机构）时会学到审核员的偏好；没有单据的机构只能按“无单据”这一事实评分；"
            "监管服务中的线索结论尚未接入训练（待服务改造完成）。",
        ),
    )
}
