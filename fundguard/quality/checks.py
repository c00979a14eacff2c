"""The logical checks, one SQL query each, over the store's ``*_valid`` views.

Each query returns the offending rows (a sample is kept for the report; the count is exact). Severity
``error`` means the audit would be wrong on those rows; ``warn`` means it is worth a look.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    code: str
    name_zh: str
    name_en: str
    severity: str
    tables: tuple[str, ...]
    sql: str


CHECKS: tuple[Check, ...] = (
    Check(
        "fee_orphan_visit",
        "费用明细找不到对应就诊记录",
        "fee lines whose visit is missing",
        "error",
        ("fee_list_d", "mdtrt_d"),
        """SELECT f.bkkp_sn, f.mdtrt_id, f.fixmedins_code FROM fee_list_d_valid f
           ANTI JOIN mdtrt_d m ON f.mdtrt_id = m.mdtrt_id""",
    ),
    Check(
        "setl_orphan_visit",
        "结算记录找不到对应就诊记录",
        "settlements whose visit is missing",
        "error",
        ("setl_d", "mdtrt_d"),
        """SELECT s.setl_id, s.mdtrt_id, s.fixmedins_code FROM setl_d_valid s
           ANTI JOIN mdtrt_d m ON s.mdtrt_id = m.mdtrt_id""",
    ),
    Check(
        "setl_total_mismatch",
        "结算医疗费总额与费用明细合计不符",
        "settlement total differs from the sum of its lines",
        "error",
        ("setl_d", "fee_list_d"),
        """WITH lines AS (SELECT setl_id, sum(det_item_fee_sumamt) AS line_sum FROM fee_list_d_valid
                          WHERE setl_id IS NOT NULL GROUP BY setl_id)
           SELECT s.setl_id, s.mdtrt_id, s.medfee_sumamt, l.line_sum FROM setl_d_valid s JOIN lines l USING (setl_id)
           WHERE abs(s.medfee_sumamt - l.line_sum) > 0.01""",
    ),
    Check(
        "line_amount_mismatch",
        "明细金额不等于数量×单价",
        "line amount differs from quantity × unit price",
        "warn",
        ("fee_list_d",),
        """SELECT bkkp_sn, mdtrt_id, cnt, pric, det_item_fee_sumamt FROM fee_list_d_valid
           WHERE abs(cnt * pric - det_item_fee_sumamt) > greatest(0.01, abs(det_item_fee_sumamt) * 0.005)""",
    ),
    Check(
        "setl_amount_identity",
        "医疗费总额≠全自费+超限价+先行自付+符合范围",
        "total ≠ self-paid + over-cap + pre-self-paid + in-scope",
        "warn",
        ("setl_d",),
        """SELECT setl_id, medfee_sumamt, fulamt_ownpay_amt, overlmt_selfpay, preselfpay_amt, inscp_amt FROM setl_d_valid
           WHERE inscp_amt IS NOT NULL AND abs(medfee_sumamt - (coalesce(fulamt_ownpay_amt, 0) + coalesce(overlmt_selfpay, 0)
                 + coalesce(preselfpay_amt, 0) + inscp_amt)) > 0.01""",
    ),
    Check(
        "refund_without_original",
        "退费结算找不到原结算",
        "refund settlement without its original",
        "warn",
        ("setl_d",),
        """SELECT r.setl_id, r.init_setl_id, r.medfee_sumamt FROM setl_d_valid r
           WHERE r.refd_setl_flag = '1' AND NOT EXISTS (SELECT 1 FROM setl_d o WHERE o.setl_id = r.init_setl_id)""",
    ),
    Check(
        "person_unknown",
        "就诊人员不在参保人员表中",
        "visit person not in the insured-person table",
        "error",
        ("mdtrt_d", "psn_info_b"),
        """SELECT m.mdtrt_id, m.psn_no FROM mdtrt_d_valid m ANTI JOIN psn_info_b p ON m.psn_no = p.psn_no""",
    ),
    Check(
        "institution_unknown",
        "就诊机构不在定点医药机构表中",
        "visit institution not in the institution table",
        "error",
        ("mdtrt_d", "medins_info_b"),
        """SELECT m.mdtrt_id, m.fixmedins_code FROM mdtrt_d_valid m
           ANTI JOIN medins_info_b i ON m.fixmedins_code = i.fixmedins_code""",
    ),
    Check(
        "item_not_in_catalogue",
        "费用明细的医保目录编码不在目录表中",
        "fee line code not in the catalogue",
        "warn",
        ("fee_list_d", "hilist_b"),
        """SELECT f.bkkp_sn, f.hilist_code, f.hilist_name FROM fee_list_d_valid f
           ANTI JOIN hilist_b h ON f.hilist_code = h.hilist_code""",
    ),
    Check(
        "doctor_unknown",
        "开单医生为空或不在医保医师表中",
        "ordering doctor empty or not registered",
        "warn",
        ("fee_list_d", "medins_staff_b"),
        """SELECT f.bkkp_sn, f.fixmedins_code, f.bilg_dr_code FROM fee_list_d_valid f
           WHERE f.bilg_dr_code IS NULL
              OR NOT EXISTS (SELECT 1 FROM medins_staff_b s WHERE s.prac_psn_code = f.bilg_dr_code)""",
    ),
    Check(
        "diag_not_icd10",
        "诊断代码不在ICD-10医保版2.0中",
        "diagnosis code not in ICD-10 医保版 2.0",
        "warn",
        ("setl_list_diag_d",),
        """SELECT d.setl_list_diag_id, d.mdtrt_id, d.diag_code, d.diag_name FROM setl_list_diag_d_valid d
           ANTI JOIN icd10 c ON d.diag_code = c.code""",
    ),
    Check(
        "visit_end_before_start",
        "就诊结束时间早于开始时间",
        "visit ends before it starts",
        "error",
        ("mdtrt_d",),
        """SELECT mdtrt_id, begntime, endtime FROM mdtrt_d_valid WHERE endtime < begntime""",
    ),
)
