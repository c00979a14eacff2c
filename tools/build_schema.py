"""Build fundguard/data/schema/national_fields.csv from the NHSA extraction-table column lists.

Source of the column lists (order and names): ../shared/data/national-tables/fields.csv (NHSA platform
extraction templates, via jdzwq/MediModel). Chinese names and types follow ../shared/domain/national-schema.md.
Run once when the source changes; the output is committed so the package works without ../shared.
"""

import csv
import re
import sys
from pathlib import Path

ZH = {
    # ids and links
    "bkkp_sn": "记账流水号",
    "mdtrt_id": "就诊ID",
    "setl_id": "结算ID",
    "psn_no": "人员编号",
    "psn_insu_rlts_id": "人员参保关系ID",
    "init_setl_id": "原结算ID",
    "medins_setl_id": "医药机构结算ID",
    "setl_list_diag_id": "结算清单诊断信息ID",
    "setl_list_oprn_id": "结算清单手术操作ID",
    "init_feedetl_sn": "原费用流水号",
    "rx_drord_no": "处方/医嘱号",
    "chrg_bchno": "收费批次号",
    "comb_no": "组套编号",
    "trt_dcla_detl_sn": "待遇申报明细流水号",
    "refl_old_mdtrt_id": "转诊前就诊ID",
    "clr_optins": "清算经办机构",
    # person
    "psn_name": "人员姓名",
    "psn_cert_type": "人员证件类型",
    "certno": "证件号码",
    "gend": "性别",
    "naty": "民族",
    "brdy": "出生日期",
    "age": "年龄",
    "coner_name": "联系人姓名",
    "tel": "联系电话",
    "addr": "联系地址",
    "insutype": "险种类型",
    "psn_type": "人员类别",
    "cvlserv_flag": "公务员标志",
    "cvlserv_lv": "公务员等级",
    "sp_psn_type": "特殊人员类型",
    "sp_psn_type_lv": "特殊人员类型等级",
    "clct_grde": "缴费档次",
    "flxempe_flag": "灵活就业标志",
    "nwb_flag": "新生儿标志",
    "insu_admdvs": "参保地医保区划",
    "emp_no": "单位编号",
    "emp_name": "单位名称",
    "emp_type": "单位类型",
    "econ_type": "经济类型",
    "afil_indu": "所属行业",
    "afil_rlts": "隶属关系",
    "emp_mgt_type": "单位管理类型",
    # institution
    "pay_loc": "支付地点类别",
    "fixmedins_code": "定点医药机构编号",
    "fixmedins_name": "定点医药机构名称",
    "hosp_lv": "医院等级",
    "fix_blng_admdvs": "定点归属医保区划",
    "lmtpric_hosp_lv": "限价医院等级",
    "dedc_hosp_lv": "起付线医院等级",
    "poolarea_no": "统筹区编号",
    # visit
    "begntime": "开始时间",
    "endtime": "结束时间",
    "mdtrt_cert_type": "就诊凭证类型",
    "mdtrt_cert_no": "就诊凭证编号",
    "med_type": "医疗类别",
    "rloc_type": "异地安置类别",
    "ars_year_ipt_flag": "跨年度住院标志",
    "pre_pay_flag": "先行支付标志",
    "year": "年度",
    "ipt_otp_no": "住院/门诊号",
    "medrcdno": "病历号",
    "chfpdr_code": "主诊医师代码",
    "chfpdr_name": "主诊医师姓名",
    "adm_diag_dscr": "入院诊断描述",
    "adm_dept_codg": "入院科室编码",
    "adm_dept_name": "入院科室名称",
    "adm_bed": "入院床位",
    "wardarea_bed": "病区床位",
    "traf_dept_flag": "转科标志",
    "dscg_maindiag_code": "出院主诊断代码",
    "dscg_maindiag_name": "出院主诊断名称",
    "dscg_dept_codg": "出院科室编码",
    "dscg_dept_name": "出院科室名称",
    "dscg_bed": "出院床位",
    "dscg_way": "离院方式",
    "main_cond_dscr": "主要病情描述",
    "dise_no": "病种编号",
    "dise_name": "病种名称",
    "oprn_oprt_code": "手术操作代码",
    "oprn_oprt_name": "手术操作名称",
    "otp_diag_info": "门诊诊断信息",
    "inhosp_stas": "在院状态",
    "die_date": "死亡日期",
    "ipt_days": "住院天数",
    "geso_val": "孕周数",
    "birctrl_type": "计划生育手术类别",
    "fetts": "胎次",
    "fetus_cnt": "胎儿数",
    "matn_type": "生育类别",
    "prey_time": "怀孕时间",
    "latechb_flag": "晚育标志",
    "pret_flag": "早产标志",
    "fpsc_no": "计划生育服务证号",
    "birctrl_matn_date": "计划生育手术或生育日期",
    "cop_flag": "伴有并发症标志",
    "adm_caty": "入院科别",
    "dscg_caty": "出院科别",
    "ttp_pay_flag": "第三方支付标志",
    "ttp_pay_prop": "第三方支付比例",
    "dise_type_code": "病种类型代码",
    "same_dise_adm_flag": "同病种入院标志",
    "quts_type": "待遇类型",
    # settlement
    "begndate": "开始日期",
    "enddate": "结束日期",
    "setl_time": "结算时间",
    "setl_type": "结算类别",
    "clr_type": "清算类别",
    "clr_way": "清算方式",
    "psn_setlway": "个人结算方式",
    "medfee_sumamt": "医疗费总额",
    "fulamt_ownpay_amt": "全自费金额",
    "overlmt_selfpay": "超限价自费费用",
    "preselfpay_amt": "先行自付金额",
    "inscp_amt": "符合政策范围金额",
    "dedc_std": "起付标准",
    "crt_dedc": "本次起付线",
    "act_pay_dedc": "实际支付起付线",
    "hifp_pay": "统筹基金支出",
    "pool_prop_selfpay": "统筹支付比例",
    "hi_agre_sumfee": "医保认可费用总额",
    "cvlserv_pay": "公务员医疗补助资金支出",
    "hifes_pay": "企业补充医疗保险基金支出",
    "hifmi_pay": "居民大病保险资金支出",
    "hifob_pay": "职工大额医疗费用补助基金支出",
    "hifdm_pay": "伤残人员医疗保障基金支出",
    "maf_pay": "医疗救助基金支出",
    "othfund_pay": "其他基金支出",
    "fund_pay_sumamt": "基金支付总额",
    "psn_pay": "个人负担总金额",
    "acct_pay": "个人账户支出",
    "cash_payamt": "现金支付金额",
    "ownpay_hosp_part": "自费中医院负担部分",
    "balc": "余额",
    "acct_mulaid_pay": "个人账户共济支付金额",
    "refd_setl_flag": "退费结算标志",
    "cal_ipt_cnt": "计算住院次数",
    "setl_cashpay_way": "结算现金支付方式",
    "invono": "发票号",
    "manl_reim_rea": "零星报销原因",
    "mid_setl_flag": "中途结算标志",
    "acct_used_flag": "个人账户使用标志",
    "bydise_setl_payamt": "按病种结算支付金额",
    "exct_item_fund_payamt": "除外项目基金支付金额",
    # fee line
    "fee_ocur_time": "费用发生时间",
    "cnt": "数量",
    "pric": "单价",
    "det_item_fee_sumamt": "明细项目费用总额",
    "pric_uplmt_amt": "定价上限金额",
    "selfpay_prop": "自付比例",
    "cvlserv_bedfee_amt": "公务员超标床位费",
    "medins_disc_amt": "医药机构优惠金额",
    "chrgitm_lv": "收费项目等级",
    "hilist_code": "医保目录编码",
    "hilist_name": "医保目录名称",
    "list_type": "目录类别",
    "med_list_codg": "医疗目录编码",
    "medins_list_codg": "医药机构目录编码",
    "medins_list_name": "医药机构目录名称",
    "med_chrgitm_type": "医疗收费项目类别",
    "prodname": "商品名",
    "spec": "规格",
    "dosform_name": "剂型名称",
    "bilg_dept_codg": "开单科室编码",
    "bilg_dept_name": "开单科室名称",
    "bilg_dr_code": "开单医生编码",
    "bilg_dr_name": "开单医生姓名",
    "acord_dept_codg": "受单科室编码",
    "acord_dept_name": "受单科室名称",
    "acord_dr_code": "受单医生编码",
    "acord_dr_name": "受单医生姓名",
    "lmt_used_flag": "限制使用标志",
    "hosp_prep_flag": "医院制剂标志",
    "hosp_appr_flag": "医院审批标志",
    "tcmdrug_used_way": "中药使用方式",
    "prodplac_type": "生产地类别",
    "bas_medn_flag": "基本药物标志",
    "hi_nego_drug_flag": "医保谈判药品标志",
    "prcu_drug_flag": "集采药品标志",
    "chld_medc_flag": "儿童用药标志",
    "etip_flag": "外检标志",
    "etip_hosp_code": "外检医院编码",
    "dscg_tkdrug_flag": "出院带药标志",
    "list_sp_item_flag": "目录特项标志",
    "matn_fee_flag": "生育费用标志",
    "drt_reim_flag": "直报标志",
    "reim_prop": "报销比例",
    "sin_dos_dscr": "单次剂量描述",
    "used_frqu_dscr": "使用频次描述",
    "prd_days": "周期天数",
    "medc_way_dscr": "用药途径描述",
    "rx_circ_flag": "外购处方标志",
    "dise_codg": "病种编码",
    # diagnosis / procedure
    "diag_type": "诊断类别",
    "maindiag_flag": "主诊断标志",
    "diag_code": "诊断代码",
    "diag_name": "诊断名称",
    "adm_cond_type": "入院病情类型",
    "setl_list_sn": "结算清单序号",
    "main_oprn_flag": "主手术操作标志",
    "oprn_oprt_date": "手术操作日期",
    "anst_way": "麻醉方式",
    "oper_dr_name": "术者医师姓名",
    "oper_dr_code": "术者医师代码",
    "anst_dr_name": "麻醉医师姓名",
    "anst_dr_code": "麻醉医师代码",
    "anst_begntime": "麻醉开始时间",
    "anst_endtime": "麻醉结束时间",
    "oprn_oprt_begntime": "手术操作开始时间",
    "oprn_oprt_endtime": "手术操作结束时间",
    # audit columns
    "vali_flag": "有效标志",
    "memo": "备注",
    "rid": "数据唯一记录号",
    "updt_time": "数据更新时间",
    "crter_id": "创建人ID",
    "crter_name": "创建人姓名",
    "crte_time": "数据创建时间",
    "crte_optins_no": "创建经办机构编号",
    "opter_id": "经办人ID",
    "opter_name": "经办人姓名",
    "opt_time": "经办时间",
    "optins_no": "经办机构编号",
    "pt": "分区",
}

MONEY = re.compile(r"(_amt|_pay|_payamt|_sumamt|_sumfee|_selfpay|_dedc|_part)$")
MONEY_EXTRA = {"balc", "dedc_std", "crt_dedc", "hifp_pay", "fund_pay_sumamt", "psn_pay"}
RATIO = {"selfpay_prop", "pool_prop_selfpay", "reim_prop", "ttp_pay_prop"}
DATETIME = {
    "begntime",
    "endtime",
    "setl_time",
    "fee_ocur_time",
    "updt_time",
    "crte_time",
    "opt_time",
    "anst_begntime",
    "anst_endtime",
    "oprn_oprt_begntime",
    "oprn_oprt_endtime",
}
DATE = {"brdy", "begndate", "enddate", "die_date", "birctrl_matn_date", "prey_time", "oprn_oprt_date"}
INT = {"ipt_days", "cal_ipt_cnt", "fetts", "fetus_cnt", "geso_val", "setl_list_sn"}
# Enumerated code columns and the dictionary (dic_type) that holds their values.
ENUM = {
    "gend": "GEND",
    "insutype": "INSUTYPE",
    "psn_type": "PSN_TYPE",
    "hosp_lv": "HOSP_LV",
    "lmtpric_hosp_lv": "HOSP_LV",
    "dedc_hosp_lv": "HOSP_LV",
    "med_type": "MED_TYPE",
    "med_chrgitm_type": "MED_CHRGITM_TYPE",
    "chrgitm_lv": "CHRGITM_LV",
    "list_type": "LIST_TYPE",
    "mdtrt_cert_type": "MDTRT_CERT_TYPE",
    "psn_cert_type": "PSN_CERT_TYPE",
    "refd_setl_flag": "FLAG",
    "vali_flag": "FLAG",
    "mid_setl_flag": "FLAG",
    "inhosp_stas": "INHOSP_STAS",
    "dscg_way": "DSCG_WAY",
    "clr_type": "CLR_TYPE",
    "diag_type": "DIAG_TYPE",
    "maindiag_flag": "FLAG",
    "main_oprn_flag": "FLAG",
    "adm_cond_type": "ADM_COND_TYPE",
    "hosp_appr_flag": "HOSP_APPR_FLAG",
    "tcmdrug_used_way": "TCMDRUG_USED_WAY",
    "matn_type": "MATN_TYPE",
    "dscg_tkdrug_flag": "FLAG",
    "nwb_flag": "FLAG",
    "cvlserv_flag": "FLAG",
    "flxempe_flag": "FLAG",
    "latechb_flag": "FLAG",
    "lmt_used_flag": "FLAG",
    "ars_year_ipt_flag": "FLAG",
    "pre_pay_flag": "FLAG",
    "bas_medn_flag": "FLAG",
    "hi_nego_drug_flag": "FLAG",
    "admdvs": "ADMDVS",
}
# Enumerations whose unknown values quarantine the row (a wrong value changes what the rules decide);
# the others are counted as warnings in the data-quality report.
STRICT = {
    "gend",
    "insutype",
    "hosp_lv",
    "med_type",
    "chrgitm_lv",
    "list_type",
    "refd_setl_flag",
    "vali_flag",
    "mid_setl_flag",
    "maindiag_flag",
    "main_oprn_flag",
    "diag_type",
    "inhosp_stas",
}
# Columns that must be present in the file header and non-empty in every row.
REQUIRED = {
    "mdtrt_d": {"mdtrt_id", "psn_no", "fixmedins_code", "begntime", "med_type"},
    "setl_d": {"setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "setl_time", "medfee_sumamt"},
    "fee_list_d": {
        "bkkp_sn",
        "mdtrt_id",
        "psn_no",
        "fixmedins_code",
        "fee_ocur_time",
        "hilist_code",
        "cnt",
        "pric",
        "det_item_fee_sumamt",
    },
    "setl_list_diag_d": {"setl_list_diag_id", "mdtrt_id", "diag_code"},
    "setl_list_oprn_d": {"setl_list_oprn_id", "mdtrt_id", "oprn_oprt_code"},
}
KEY = {
    "mdtrt_d": "mdtrt_id",
    "setl_d": "setl_id",
    "fee_list_d": "bkkp_sn",
    "setl_list_diag_d": "setl_list_diag_id",
    "setl_list_oprn_d": "setl_list_oprn_id",
}


def field_type(field: str) -> str:
    if field in RATIO:
        return "ratio"
    if field in ("pric", "pric_uplmt_amt"):
        return "price"
    if field == "cnt":
        return "quantity"
    if field == "age":
        return "age"
    if field == "prd_days":
        return "decimal_4_2"
    if field in INT:
        return "int"
    if field in DATETIME:
        return "datetime"
    if field in DATE:
        return "date"
    if field in MONEY_EXTRA or (MONEY.search(field) and field not in ("acct_used_flag",)):
        return "money"
    if field in ENUM:
        return "code"
    return "string"


PLATFORM_ADDITIONS: dict[str, list[tuple[str, str, str, str]]] = {
    # Fields the platform collects since the extraction templates were published: (field, 中文名, kind, dic).
    # 药品追溯码: one code per dispensed box, scanned at settlement since 2025-07 (interfaces 2301/3505,
    # field drug_trac_codg); several boxes on one line give several codes, comma-separated.
    "fee_list_d": [("drug_trac_codg", "药品追溯码", "string", "")],
    # 互联网诊疗标志 of the visit (interface 2201 / 3101 inet_mdtrt_flag): 1 = an internet consultation.
    "mdtrt_d": [("inet_mdtrt_flag", "互联网诊疗标志", "code", "FLAG")],
}
"""Columns after each template's own (position continues the template's numbering)."""


def main(src: Path, out: Path) -> None:
    rows = list(csv.DictReader(src.open(encoding="utf-8")))
    missing = sorted({r["field"] for r in rows} - ZH.keys())
    if missing:
        sys.exit(f"no Chinese name for: {missing}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["table", "position", "field", "name_zh", "type", "dic_type", "strict", "required", "key"])
        for r in rows:
            t, f = r["table"], r["field"]
            w.writerow(
                [
                    t,
                    r["position"],
                    f,
                    ZH[f],
                    field_type(f),
                    ENUM.get(f, ""),
                    int(f in STRICT),
                    int(f in REQUIRED[t]),
                    int(KEY[t] == f),
                ]
            )
        last: dict[str, int] = {}
        for r in rows:
            last[r["table"]] = max(last.get(r["table"], 0), int(r["position"]))
        for t, extra in PLATFORM_ADDITIONS.items():
            for i, (f, zh, kind, dic) in enumerate(extra, last[t] + 1):
                w.writerow([t, i, f, zh, kind, dic, 0, 0, 0])


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    main(
        root.parent / "shared/data/national-tables/fields.csv",
        root / "fundguard/data/schema/national_fields.csv",
    )
