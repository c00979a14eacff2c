"""The indicator library: each indicator's Chinese name, formula, unit and direction, and the DuckDB SQL that
computes them per entity × month over the store.

One pass over ``fee_list_d`` sums each visit's money by category and counts its bed, nursing and test days
(``visit_fees``); everything else reads that visit table, which is a few percent of the lines, so the model
run costs about one scan of the store. Categories are the national 医疗收费项目类别 (``med_chrgitm_type``):
01 床位费, 03 检查费, 04 化验费, 07 护理费, 08 卫生材料费, 09 西药费, 10 中药饮片费, 11 中成药费.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from fundguard.kb import codes
from fundguard.rules.base import HOSP_LEVEL, SCENE_MED_TYPES, in_list


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    formula_zh: str
    unit: str
    direction: int
    """+1: higher is riskier; -1: lower is riskier; 0: context only (shown, not scored)."""
    entity: str
    floor: float
    """Smallest spread a peer group is given (a group whose members all agree would turn any difference
    into an infinite score)."""

    def show(self, value: float | None) -> str:
        if value is None:
            return "—"
        if self.unit == "%":
            return f"{value * 100:.0f}%"
        if self.unit == "元":
            return f"{value:,.0f}元"
        return f"{value:,.1f}{self.unit}" if value != int(value) else f"{value:,.0f}{self.unit}"


def _i(code, name, formula, unit, direction, entity, floor) -> Indicator:
    return Indicator(code, name, formula, unit, direction, entity, floor)


# fmt: off
INDICATORS: dict[str, Indicator] = {
    i.code: i
    for i in (
        # institution (hospital) × month: cost, volume, structure, coding, supply
        _i("avg_fee", "次均费用", "医疗总费用 / 就诊人次", "元", 1, "institution", 20.0),
        _i("ipt_rate", "住院率", "住院人次 / 就诊人次", "%", 1, "institution", 0.02),
        _i("avg_los", "平均住院日", "住院总床日 / 出院人次", "天", 1, "institution", 0.5),
        _i("bed_day_fee", "床日费用", "住院总费用 / 住院总床日", "元", 1, "institution", 20.0),
        _i("visits_per_person", "人次人头比", "就诊人次 / 就诊人数", "", 1, "institution", 0.05),
        _i("revisit_rate", "复诊率", "30日内在同一机构再次门诊的人次 / 门诊人次", "%", 1, "institution", 0.02),
        _i("referral_rate", "转诊率", "离院方式为医嘱转院的出院人次 / 出院人次", "%", 0, "institution", 0.02),
        _i("drug_share", "药占比", "药品费用（西药、中成药、中药饮片）/ 医疗总费用", "%", 1, "institution", 0.02),
        _i("material_share", "耗材占比", "卫生材料费 / 医疗总费用", "%", 1, "institution", 0.02),
        _i("exam_share", "检查检验占比", "检查费与化验费 / 医疗总费用", "%", 1, "institution", 0.02),
        _i("ownpay_rate", "自费率", "全自费金额 / 医疗总费用", "%", 0, "institution", 0.02),
        _i("cc_share", "CC占比", "有CC次要诊断（CHS-DRG 1.1，除外主诊断所排除者）的出院人次 / 出院人次", "%", 1, "institution", 0.03),
        _i("mcc_share", "MCC占比", "有MCC次要诊断（CHS-DRG 1.1，除外主诊断所排除者）的出院人次 / 出院人次", "%", 1, "institution", 0.02),
        _i("occupancy", "床位使用率", "实际占用床日 / (核定床位数 × 当月天数)", "%", 1, "institution", 0.05),
        _i("peak_occupancy", "床位使用率峰值", "单日在院人数最大值 / 核定床位数", "%", 1, "institution", 0.05),
        _i("no_care_share", "无诊疗护理床日占比", "只收床位费、无护理费的床日 / 住院总床日", "%", 1, "institution", 0.01),
        _i("readmit_rate", "3日内再入院率", "出院3日内以相同主诊断再入同一机构的人次 / 出院人次", "%", 1, "institution", 0.01),
        _i("retest_rate", "重复检查率", "同一检查检验项目在同次住院中不同日重复收费的人次 / 出院人次", "%", 1, "institution", 0.01),
        _i("cluster_adm_share", "集中入院占比", "同日同机构同主诊断≥5人入院的人次 / 入院人次", "%", 1, "institution", 0.01),
        _i("rule_hit_share", "规则命中金额占比", "最近一次规则审核命中金额 / 医疗总费用", "%", 1, "institution", 0.005),
        # doctor
        _i("daily_load", "医师日均接诊量", "接诊人次 / 出诊天数", "人次", 1, "doctor", 1.0),
        # department (institution × department)
        _i("dept_avg_fee", "科室次均费用", "科室医疗总费用 / 科室就诊人次", "元", 1, "department", 20.0),
        # pharmacy × month
        _i("night_share", "夜间售药占比", "22:00—次日06:00 的购药人次 / 购药人次", "%", 1, "pharmacy", 0.02),
        _i("round_share", "整额刷卡占比", "金额为整百元的购药结算 / 购药结算", "%", 1, "pharmacy", 0.01),
        _i("repeat_card_share", "反复整额刷卡占比", "30日内同卡在同店≥3次整额结算的人次 / 购药人次", "%", 1, "pharmacy", 0.01),
        _i("short_item_share", "进销存倒挂品种占比", "销售量大于购进量的品种 / 销售品种", "%", 1, "pharmacy", 0.02),
        # person × year
        _i("supply_days", "年度药品供应天数", "全年购药、门诊开药的用药天数合计", "天", 1, "person", 15.0),
        _i("max_drug_days", "单一药品年度供应天数", "同一药品全年用药天数合计的最大值", "天", 1, "person", 7.0),
        _i("drug_institutions", "年度购药机构数", "全年购药的不同定点医药机构数", "家", 1, "person", 1.0),
        _i("max_monthly_institutions", "月最多就诊机构数", "各月就诊的不同机构数的最大值", "家", 1, "person", 1.0),
        _i("after_death_visits", "死亡后就诊次数", "就诊日期晚于死亡日期的结算次数", "次", 1, "person", 1.0),
        _i("overlap_visits", "住院期间他院就诊次数", "本人住院期间在其他机构的就诊次数", "次", 1, "person", 1.0),
    )
}
# fmt: on

INPATIENT = in_list(SCENE_MED_TYPES["住院"])
PHARMACY = in_list(SCENE_MED_TYPES["购药"])
_LEVEL = " ".join(f"WHEN '{k}' THEN {v}" for k, v in HOSP_LEVEL.items())


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """The result of ``sql`` as a polars frame (through Arrow)."""
    return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())


CC_FLAGS_SQL = """
    SELECT d.mdtrt_id, bool_or(k.level = 'CC') AS has_cc, bool_or(k.level = 'MCC') AS has_mcc
    FROM setl_list_diag_d_valid d JOIN kb_cc_mcc k ON k.code = d.diag_code
    LEFT JOIN (SELECT DISTINCT mdtrt_id, diag_code FROM setl_list_diag_d_valid WHERE maindiag_flag = '1') p
        ON p.mdtrt_id = d.mdtrt_id
    WHERE d.maindiag_flag = '0'
      AND NOT EXISTS (SELECT 1 FROM kb_cc_excl x WHERE x.code = p.diag_code AND x.excl = k.excl)
    GROUP BY 1
"""
"""Per visit: has a CC / an MCC secondary diagnosis (CHS-DRG 1.1), not counting one whose exclusion table
lists the principal diagnosis (CCE: a complication of the principal condition itself is no complication)."""


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Temp tables ``visit_fees`` (one row per visit: money by category, bed / nursing / test days) and
    ``visits`` (the visit with its institution, doctor, person, dates, CC/MCC flags and fees)."""
    for name, table in (("kb_cc_mcc", codes.cc_mcc()), ("kb_cc_excl", codes.cc_exclusions())):
        con.register("_kb", table.to_arrow())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _kb")
        con.unregister("_kb")
    con.execute("""
    CREATE OR REPLACE TEMP TABLE visit_fees AS
    SELECT mdtrt_id,
        sum(det_item_fee_sumamt)::DOUBLE AS fee,
        coalesce(sum(det_item_fee_sumamt) FILTER (WHERE med_chrgitm_type IN ('09', '10', '11')), 0)::DOUBLE AS drug_fee,
        coalesce(sum(det_item_fee_sumamt) FILTER (WHERE med_chrgitm_type = '08'), 0)::DOUBLE AS material_fee,
        coalesce(sum(det_item_fee_sumamt) FILTER (WHERE med_chrgitm_type IN ('03', '04')), 0)::DOUBLE AS exam_fee,
        coalesce(sum(fulamt_ownpay_amt), 0)::DOUBLE AS ownpay,
        count(DISTINCT CAST(fee_ocur_time AS DATE)) FILTER (WHERE med_chrgitm_type = '01' AND cnt > 0) AS bed_days,
        count(DISTINCT CAST(fee_ocur_time AS DATE)) FILTER (WHERE med_chrgitm_type = '07' AND cnt > 0) AS care_days,
        coalesce(sum(prd_days) FILTER (WHERE med_chrgitm_type IN ('09', '10', '11') AND cnt > 0), 0)::DOUBLE AS supply_days,
        count(DISTINCT hilist_code || CAST(CAST(fee_ocur_time AS DATE) AS VARCHAR))
            FILTER (WHERE med_chrgitm_type IN ('03', '04') AND cnt > 0)
          - count(DISTINCT hilist_code) FILTER (WHERE med_chrgitm_type IN ('03', '04') AND cnt > 0) AS retests
    FROM fee_list_d_valid GROUP BY mdtrt_id""")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE visits AS
    WITH sec AS ({CC_FLAGS_SQL}),
    psn AS (SELECT psn_no, any_value(die_date) AS die_date FROM psn_info_b_valid GROUP BY 1)
    SELECT m.mdtrt_id, m.fixmedins_code AS inst, m.psn_no AS psn,
        coalesce(m.adm_dept_codg, '') AS dept, coalesce(m.adm_dept_name, '') AS dept_name,
        m.chfpdr_code AS doctor, m.med_type,
        CASE WHEN m.med_type IN {INPATIENT} THEN 'ipt' WHEN m.med_type IN {PHARMACY} THEN 'drug' ELSE 'otp' END
            AS kind,
        m.begntime, m.endtime, CAST(m.begntime AS DATE) AS day, strftime(m.begntime, '%Y-%m') AS month,
        coalesce(m.ipt_days, 0) AS ipt_days, m.dscg_maindiag_code AS diag, m.dscg_way, m.addr,
        coalesce(m.die_date, psn.die_date) AS die_date,
        coalesce(sec.has_cc, false) AS has_cc, coalesce(sec.has_mcc, false) AS has_mcc,
        coalesce(f.fee, 0) AS fee, coalesce(f.drug_fee, 0) AS drug_fee,
        coalesce(f.material_fee, 0) AS material_fee, coalesce(f.exam_fee, 0) AS exam_fee,
        coalesce(f.ownpay, 0) AS ownpay, coalesce(f.bed_days, 0) AS bed_days,
        coalesce(f.care_days, 0) AS care_days, coalesce(f.supply_days, 0) AS supply_days,
        coalesce(f.retests, 0) AS retests
    FROM mdtrt_d_valid m
    LEFT JOIN visit_fees f USING (mdtrt_id)
    LEFT JOIN sec USING (mdtrt_id)
    LEFT JOIN psn ON psn.psn_no = m.psn_no""")
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE institutions AS
    SELECT fixmedins_code AS inst, any_value(fixmedins_name) AS name, any_value(fixmedins_type) AS type,
        any_value(CASE hosp_lv {_LEVEL} ELSE NULL END) AS level, any_value(admdvs) AS admdvs,
        any_value(aprv_bed_cnt) AS beds
    FROM medins_info_b_valid GROUP BY 1""")
    # per person × drug: days of supply over the period (a second, narrow scan of the drug lines)
    con.execute("""
    CREATE OR REPLACE TEMP TABLE person_drugs AS
    SELECT psn_no AS psn, hilist_code, sum(prd_days)::DOUBLE AS days
    FROM fee_list_d_valid
    WHERE med_chrgitm_type IN ('09', '10', '11') AND cnt > 0 AND prd_days > 0 GROUP BY ALL""")
    # pharmacy purchases: night-time, whole-hundred sums, the same card's round sums within ±30 days
    con.execute("""
    CREATE OR REPLACE TEMP TABLE pharmacy_visits AS
    WITH p AS (
        SELECT v.*, (hour(begntime) >= 22 OR hour(begntime) < 6) AS night,
            fee >= 100 AND fee % 100 = 0 AS round_sum
        FROM visits v JOIN institutions i ON i.inst = v.inst AND i.type = '2'
    )
    SELECT *, round_sum AND count(*) FILTER (WHERE round_sum) OVER (
            PARTITION BY psn, inst ORDER BY begntime
            RANGE BETWEEN INTERVAL 30 DAY PRECEDING AND INTERVAL 30 DAY FOLLOWING) >= 3 AS repeat_card
    FROM p""")
    # stay-level facts: re-admission within 3 days with the same diagnosis, same-day clusters
    con.execute("""
    CREATE OR REPLACE TEMP TABLE stays AS
    SELECT *,
        coalesce(date_diff('day', lag(endtime) OVER w, begntime) <= 3 AND lag(diag) OVER w = diag, false)
            AS readmit,
        count(*) OVER (PARTITION BY inst, day, diag) >= 5 AS clustered
    FROM visits WHERE kind = 'ipt'
    WINDOW w AS (PARTITION BY psn, inst ORDER BY begntime)""")


def _period(sql: str, period: bool) -> str:
    """``sql`` per month, or over the whole period (``month`` = '全期', occupancy over the period's days)."""
    if not period:
        return sql.replace("{DAYS}", "day(last_day(CAST(a.month || '-01' AS DATE)))").replace(
            "{DMONTH}", "strftime(d, '%Y-%m')"
        )
    sql = sql.replace("FROM visits", "FROM (SELECT * REPLACE ('全期' AS month) FROM visits)")
    sql = sql.replace("FROM stays", "FROM (SELECT * REPLACE ('全期' AS month) FROM stays)")
    sql = sql.replace(
        "FROM pharmacy_visits", "FROM (SELECT * REPLACE ('全期' AS month) FROM pharmacy_visits)"
    )
    days = "(SELECT greatest(date_diff('day', min(day), max(day)) + 1, 1) FROM visits)"
    return sql.replace("{DAYS}", days).replace("{DMONTH}", "'全期'")


def institution_month(period: bool = False) -> str:
    """SQL: one row per hospital × month (or over the period) with the institution indicators."""
    return _period(INSTITUTION_SQL, period)


INSTITUTION_SQL = """
    WITH v AS (SELECT * FROM visits WHERE kind <> 'drug'),
    otp AS (
        SELECT inst, month,
            coalesce(date_diff('day', lag(begntime) OVER (PARTITION BY psn, inst ORDER BY begntime), begntime)
                <= 30, false) AS revisit
        FROM v WHERE kind = 'otp'
    ),
    rev AS (SELECT inst, month, avg(revisit::INT) AS revisit_rate FROM otp GROUP BY ALL),
    occ AS (
        SELECT inst, {DMONTH} AS month, count(*) AS bed_days_used, max(n) AS peak FROM (
            SELECT inst, d, count(*) AS n FROM (
                SELECT inst, unnest(generate_series(day, day + greatest(ipt_days, 1) - 1, INTERVAL 1 DAY)) AS d
                FROM stays) GROUP BY ALL
        ) GROUP BY ALL
    ),
    s AS (
        SELECT inst, month, count(*) AS stays, sum(bed_days) AS bed_days,
            sum(greatest(bed_days - care_days, 0)) AS no_care_days, avg(has_cc::INT) AS cc_share,
            avg(has_mcc::INT) AS mcc_share, avg(readmit::INT) AS readmit_rate,
            avg((retests > 0)::INT) AS retest_rate, avg(clustered::INT) AS cluster_adm_share,
            avg(ipt_days) AS avg_los, sum(fee) AS ipt_fee, avg((dscg_way = '2')::INT) AS referral_rate
        FROM stays GROUP BY ALL
    ),
    a AS (
        SELECT inst, month, count(*) AS visits, count(DISTINCT psn) AS persons, sum(fee) AS fee,
            sum(drug_fee) AS drug_fee, sum(material_fee) AS material_fee, sum(exam_fee) AS exam_fee,
            sum(ownpay) AS ownpay, sum((kind = 'ipt')::INT) AS ipt_visits
        FROM v GROUP BY ALL
    )
    SELECT a.inst, a.month, a.visits, a.persons, a.fee, coalesce(s.stays, 0) AS stays,
        coalesce(s.bed_days, 0) AS bed_days, coalesce(s.no_care_days, 0) AS no_care_days,
        a.fee / a.visits AS avg_fee, a.ipt_visits / a.visits AS ipt_rate, s.avg_los,
        s.ipt_fee / nullif(s.bed_days, 0) AS bed_day_fee, a.visits / a.persons AS visits_per_person,
        rev.revisit_rate, s.referral_rate,
        a.drug_fee / nullif(a.fee, 0) AS drug_share, a.material_fee / nullif(a.fee, 0) AS material_share,
        a.exam_fee / nullif(a.fee, 0) AS exam_share, a.ownpay / nullif(a.fee, 0) AS ownpay_rate,
        s.cc_share, s.mcc_share,
        occ.bed_days_used / nullif(i.beds * {DAYS}, 0) AS occupancy,
        occ.peak / nullif(i.beds, 0) AS peak_occupancy, occ.peak AS peak_patients, i.beds,
        s.no_care_days / nullif(s.bed_days, 0) AS no_care_share, s.readmit_rate, s.retest_rate,
        s.cluster_adm_share
    FROM a JOIN (SELECT inst, beds FROM institutions WHERE type = '1') i USING (inst)
    LEFT JOIN s USING (inst, month) LEFT JOIN rev USING (inst, month) LEFT JOIN occ USING (inst, month)
"""


def pharmacy_month(period: bool = False) -> str:
    """SQL: one row per pharmacy × month (or over the period) with the pharmacy indicators."""
    return _period(PHARMACY_SQL, period)


PHARMACY_SQL = """
    SELECT inst, month, count(*) AS visits, count(DISTINCT psn) AS persons, sum(fee) AS fee,
        avg(night::INT) AS night_share, avg(round_sum::INT) AS round_share, avg(repeat_card::INT) AS repeat_card_share
    FROM pharmacy_visits GROUP BY ALL
"""


INVENTORY_SQL = """
    SELECT fixmedins_code AS inst, hilist_code,
        coalesce(sum(cnt) FILTER (WHERE inv_chg_type = '3505'), 0)::DOUBLE AS sold,
        coalesce(sum(cnt) FILTER (WHERE inv_chg_type = '3503'), 0)::DOUBLE AS bought,
        coalesce(max(pric) FILTER (WHERE inv_chg_type = '3505'), 0)::DOUBLE AS price
    FROM invt_chg_d_valid GROUP BY ALL HAVING sold > 0
"""
"""Per pharmacy × item: units sold (3505) and bought (3503) over the period, and the sale price."""


PERSON_SQL = """
    WITH mi AS (
        SELECT psn, max(n) AS max_monthly_institutions FROM (
            SELECT psn, month, count(DISTINCT inst) AS n FROM visits GROUP BY ALL) GROUP BY 1
    ),
    ov AS (
        SELECT o.psn, count(*) AS overlap_visits FROM stays s JOIN visits o
            ON o.psn = s.psn AND o.inst <> s.inst AND o.kind <> 'ipt'
           AND o.begntime > s.begntime + INTERVAL 1 DAY AND o.begntime < s.endtime - INTERVAL 1 DAY
        GROUP BY 1
    ),
    pd AS (SELECT psn, max(days) AS max_drug_days, arg_max(hilist_code, days) AS top_drug FROM person_drugs GROUP BY 1)
    SELECT v.psn, count(*) AS visits, coalesce(any_value(pd.max_drug_days), 0) AS max_drug_days,
        any_value(pd.top_drug) AS top_drug, sum(fee) AS fee, sum(supply_days) AS supply_days,
        count(DISTINCT inst) FILTER (WHERE supply_days > 0) AS drug_institutions,
        any_value(mi.max_monthly_institutions) AS max_monthly_institutions,
        count(*) FILTER (WHERE die_date IS NOT NULL AND day > die_date) AS after_death_visits,
        coalesce(any_value(ov.overlap_visits), 0) AS overlap_visits
    FROM visits v LEFT JOIN mi USING (psn) LEFT JOIN ov USING (psn) LEFT JOIN pd USING (psn) GROUP BY v.psn
"""
"""One row per insured person over the period with the person indicators."""

DOCTOR_SQL = """
    SELECT v.doctor, any_value(i.name) || ' ' || coalesce(any_value(v.dept_name), '') AS name,
        any_value(v.inst) AS inst, any_value(v.dept_name) AS dept_name, any_value(v.dept) AS dept, any_value(i.level) AS level,
        count(*) AS visits, count(DISTINCT day) AS days, count(*) / count(DISTINCT day) AS daily_load
    FROM visits v JOIN institutions i ON i.inst = v.inst AND i.type = '1'
    WHERE v.doctor IS NOT NULL AND v.kind = 'otp' GROUP BY v.doctor
"""
"""One row per doctor: outpatient visits per working day."""

DEPARTMENT_SQL = """
    SELECT v.inst || '/' || v.dept AS department, v.inst, v.dept, any_value(v.dept_name) AS dept_name,
        any_value(i.name) || ' ' || any_value(v.dept_name) AS name,
        any_value(i.level) AS level, count(*) AS visits, sum(fee) AS fee, sum(fee) / count(*) AS dept_avg_fee
    FROM visits v JOIN institutions i ON i.inst = v.inst AND i.type = '1'
    WHERE v.kind = 'otp' AND v.dept <> '' GROUP BY v.inst, v.dept
"""
"""One row per institution × department: outpatient cost per visit."""
