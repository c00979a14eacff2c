"""Turning a block's numpy columns into the canonical Arrow tables (amounts consistent line → settlement).

Fund split (a plausible simplification, not one region's policy): 甲类 fully in scope, 乙类 10 % 先行自付,
丙类 fully self-paid; deductible per inpatient stay by hospital level (300/600/900 元); pooled-fund share
职工 85 % / 居民 70 % inpatient, 60 % / 50 % outpatient; pharmacy purchases paid from the personal account
(职工) or in cash (居民). Refunds are settlements with ``refd_setl_flag = '1'``, negative amounts and
``init_setl_id``; their fee lines carry ``init_feedetl_sn``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fundguard.data.schema import table as schema_table
from fundguard.synth import arrowcols as ac
from fundguard.synth import identity
from fundguard.synth.block import DAY, INP, INSUTYPES, MED_TYPES, PHARM, PSN_TYPES, Block
from fundguard.synth.world import CITY, DEPTS, City

DEPT_CODES = [d[0] for d in DEPTS]
DEPT_NAMES = [d[1] for d in DEPTS]


def _ids(blk: Block) -> dict[str, str]:
    b = f"{blk.index:05d}"
    return {
        "psn": f"{CITY}{blk.index:06d}",
        "mdtrt": f"{CITY}99M{b}",
        "setl": f"{CITY}99S{b}",
        "fee": f"F{b}",
        "diag": f"G{b}",
        "oprn": f"O{b}",
    }


def _trace_codes(
    blk: Block, cat, v: dict, item: np.ndarray, visit: np.ndarray, cnt: np.ndarray, orig: np.ndarray, planted
) -> list[str | None]:
    """药品追溯码 per line: a pharmacy's 西药中成药 line of whole boxes (≤ 20) carries one code per box, unique in
    the city (block, original line, box); a refund line repeats its original line's codes; planted lines
    keep theirs (``Planter.line(trac=…)``); other lines carry none (hospital dispensing is not scanned here)."""
    out: list[str | None] = [None] * len(item)
    lt = cat.df["list_type"].to_numpy()[item]
    boxes = np.abs(cnt)
    auto = (v["kind"][visit] == PHARM) & (lt == "101") & (boxes == np.round(boxes)) & (boxes <= 20)
    for i in np.flatnonzero(auto):
        o = int(orig[i])
        if planted[o]:
            continue
        out[i] = ",".join(f"81{blk.index:05d}{o:010d}{k:03d}" for k in range(int(boxes[i])))
    for i in np.flatnonzero(planted[orig] != ""):
        out[i] = planted[int(orig[i])]
    return out


def build(
    blk: Block, city: City, refund_rate: float, rng: np.random.Generator
) -> tuple[dict[str, pa.Table], dict]:
    """Arrow tables of one block and the line-level facts the caller needs (ids, pharmacy sales)."""
    cat, v, l, p = city.cat, blk.v, blk.l, blk.p  # noqa: E741
    pre = _ids(blk)
    nv = len(v["psn"])
    # refunds: a few outpatient visits untouched by planting are refunded in full the next day
    planted = {g["visit"] for g in blk.gt}
    cand = np.flatnonzero((v["kind"] == 0)[:nv])
    cand = cand[~np.isin(cand, list(planted))]
    ref = (
        np.sort(rng.choice(cand, min(len(cand), int(np.ceil(refund_rate * len(cand)))), replace=False))
        if refund_rate > 0 and len(cand)
        else np.array([], np.int64)
    )
    if blk.refund_visits:  # planted 退药再售: the first sale is refunded like any other
        ref = np.sort(np.concatenate([ref, np.array(blk.refund_visits, np.int64)]))
    nl0 = len(l["item"])
    ref_lines = np.flatnonzero(np.isin(l["visit"], ref))
    ref_pos = np.searchsorted(ref, l["visit"][ref_lines])
    item = np.concatenate([l["item"], l["item"][ref_lines]])
    visit = np.concatenate([l["visit"], l["visit"][ref_lines]])
    setl = np.concatenate([l["visit"], nv + ref_pos])
    sign = np.concatenate([np.ones(nl0), -np.ones(len(ref_lines))])
    cnt = np.concatenate([l["cnt"], l["cnt"][ref_lines]]) * sign
    pric = np.concatenate([l["pric"], l["pric"][ref_lines]])
    time = np.concatenate([l["time"], l["time"][ref_lines] + DAY])
    override = np.concatenate([l["fund_override"], l["fund_override"][ref_lines]])
    nl = len(item)
    lv = cat.df["chrgitm_lv"].to_numpy()[item]
    det = np.round(pric * cnt, 2)
    own = np.where((lv == "03") & ~override, det, 0.0)
    presp = np.round(np.where(lv == "02", det * 0.1, 0.0), 2)
    # The four parts add up to the line total, as the HIS implementations of the split do
    # (national-schema.md §3): full self-pay + over-cap + 乙类 share paid first + in-scope.
    inscp = np.round(det - own - presp, 2)
    n_setl = nv + len(ref)
    sv = np.concatenate([np.arange(nv), ref])  # settlement → visit

    def per_setl(x: np.ndarray) -> np.ndarray:
        return np.round(np.bincount(setl, weights=x, minlength=n_setl), 2)

    s_fee, s_own, s_pre, s_inscp = per_setl(det), per_setl(own), per_setl(presp), per_setl(inscp)
    kind = v["kind"][sv]
    worker = p["insutype"][v["psn"][sv]] == 0
    lvl = city.inst_level[v["inst"][sv]]
    sign_s = np.where(np.arange(n_setl) >= nv, -1.0, 1.0)
    dedc = np.where(kind == INP, np.choose(np.clip(lvl, 1, 3) - 1, [300.0, 600.0, 900.0]), 0.0) * sign_s
    ratio = np.select(
        [kind == INP, kind == PHARM], [np.where(worker, 0.85, 0.70), 0.0], np.where(worker, 0.6, 0.5)
    )
    base = s_inscp - dedc
    hifp = np.round(np.where(base * sign_s > 0, base * ratio, 0.0), 2)
    psn_pay = np.round(s_fee - hifp, 2)
    acct = np.round(np.where(worker, np.where(kind == PHARM, psn_pay, psn_pay * 0.5), 0.0), 2)

    def mdtrt_id(i: np.ndarray) -> pa.Array:
        return ac.ids(pre["mdtrt"], i, 8)

    def setl_id(i: np.ndarray) -> pa.Array:
        return ac.ids(pre["setl"], i, 8)

    def psn_no(i: np.ndarray) -> pa.Array:
        return ac.ids(pre["psn"], i, 10)

    ids_l = ac.ids(pre["fee"], np.arange(nl), 10)
    ids_v = mdtrt_id(np.arange(nv))
    ids_s = setl_id(np.arange(n_setl))
    ids_p = psn_no(np.arange(len(p["age"])))
    inst_codes = ac.Lookup(city.inst["fixmedins_code"].to_list())
    inst_names = ac.Lookup(city.inst["fixmedins_name"].to_list())
    inst_lv = ac.Lookup(city.inst["hosp_lv"].to_list())
    inst_adm = ac.Lookup(city.inst["admdvs"].to_list())
    staff_codes = ac.Lookup(city.staff["prac_psn_code"].to_list())
    staff_names = ac.Lookup(city.staff["prac_psn_name"].to_list())
    admdvs = ac.Lookup(city.admdvs)
    psn_region = p["region"]
    money = pa.decimal128(16, 2)
    price = pa.decimal128(16, 6)
    f = {
        n: ac.Lookup(cat.df[n].to_list())
        for n in (
            "hilist_code",
            "hilist_name",
            "list_type",
            "med_chrgitm_type",
            "chrgitm_lv",
            "spec",
            "dosform_name",
            "lmt_used_flag",
        )
    }
    dept_l = v["dept"][visit]
    code_l = f["hilist_code"].take(item)
    dept_code_l, dept_name_l = ac.lookup(DEPT_CODES, dept_l), ac.lookup(DEPT_NAMES, dept_l)
    tcm = np.concatenate([l["tcm_way"], l["tcm_way"][ref_lines]])
    trac = _trace_codes(blk, cat, v, item, visit, cnt, np.concatenate([np.arange(nl0), ref_lines]), l["trac"])
    lines = {
        "bkkp_sn": ids_l,
        "mdtrt_id": mdtrt_id(visit),
        "fee_ocur_time": ac.timestamps(time),
        "setl_id": setl_id(setl),
        "rx_drord_no": ac.ids(f"R{blk.index:05d}", visit, 8),
        "fixmedins_code": inst_codes.take(v["inst"][visit]),
        "fixmedins_name": inst_names.take(v["inst"][visit]),
        "psn_no": psn_no(v["psn"][visit]),
        "insu_admdvs": admdvs.take(psn_region[v["psn"][visit]]),
        "med_type": ac.lookup(MED_TYPES, v["med_type"][visit]),
        "cnt": ac.decimal(cnt, pa.decimal128(16, 4)),
        "pric": ac.decimal(pric, price),
        "det_item_fee_sumamt": ac.decimal(det, money),
        "pric_uplmt_amt": ac.decimal(cat.price[item], price),
        "selfpay_prop": ac.decimal(cat.df["selfpay_prop"].to_numpy()[item], pa.decimal128(5, 4)),
        "fulamt_ownpay_amt": ac.decimal(own, money),
        "overlmt_selfpay": ac.decimal(np.zeros(nl), money),
        "preselfpay_amt": ac.decimal(presp, money),
        "inscp_amt": ac.decimal(inscp, money),
        "chrgitm_lv": f["chrgitm_lv"].take(item),
        "hilist_code": code_l,
        "hilist_name": f["hilist_name"].take(item),
        "list_type": f["list_type"].take(item),
        "med_list_codg": code_l,
        "medins_list_codg": code_l,
        "med_chrgitm_type": f["med_chrgitm_type"].take(item),
        "spec": f["spec"].take(item),
        "dosform_name": f["dosform_name"].take(item),
        "bilg_dept_codg": dept_code_l,
        "bilg_dept_name": dept_name_l,
        "bilg_dr_code": staff_codes.take(v["doc"][visit]),
        "bilg_dr_name": staff_names.take(v["doc"][visit]),
        "acord_dept_codg": dept_code_l,
        "acord_dept_name": dept_name_l,
        "lmt_used_flag": f["lmt_used_flag"].take(item),
        "tcmdrug_used_way": ac.lookup(["", "1", "2"], np.where(tcm > 0, tcm, -1)),
        "drug_trac_codg": pa.array(trac, pa.string()),
        "prd_days": ac.decimal(
            np.nan_to_num(np.concatenate([l["prd_days"], l["prd_days"][ref_lines]])), pa.decimal128(6, 2)
        ),
        "vali_flag": ac.const("1", nl),
        "poolarea_no": ac.const(f"{CITY}00", nl),
        "init_feedetl_sn": ac.ids(pre["fee"], np.concatenate([np.full(nl0, -1), ref_lines]), 10),
    }
    tables: dict[str, pa.Table] = {
        "fee_list_d": ac.to_table(schema_table("fee_list_d").arrow_schema, lines, nl)
    }

    # persons at the visit
    vp = v["psn"]
    vday = v["begin"] // DAY
    age_v = np.floor((vday - p["brdy"][vp]) / 365.25)
    die_mask = p["die"] < 0
    names = identity.names(p["name"], p["gend"])
    certnos = identity.certno(p["county"], p["brdy"], p["seq"], p["gend"])
    person_cols = lambda idx: {  # noqa: E731 — shared by mdtrt_d and setl_d
        "psn_no": psn_no(vp[idx]),
        "psn_cert_type": ac.const("01", len(idx)),
        "certno": certnos.take(pa.array(vp[idx])),
        "psn_name": names.take(pa.array(vp[idx])),
        "gend": ac.lookup(["", "1", "2"], p["gend"][vp[idx]]),
        "brdy": ac.dates(p["brdy"][vp[idx]]),
        "age": ac.decimal(age_v[idx], pa.decimal128(4, 1)),
        "insutype": ac.lookup(INSUTYPES, p["insutype"][vp[idx]]),
        "psn_type": ac.lookup(PSN_TYPES, p["psn_type"][vp[idx]]),
        "insu_admdvs": admdvs.take(psn_region[vp[idx]]),
        "fixmedins_code": inst_codes.take(v["inst"][idx]),
        "fixmedins_name": inst_names.take(v["inst"][idx]),
        "hosp_lv": inst_lv.take(v["inst"][idx]),
        "fix_blng_admdvs": inst_adm.take(v["inst"][idx]),
        "med_type": ac.lookup(MED_TYPES, v["med_type"][idx]),
        "vali_flag": ac.const("1", len(idx)),
        "poolarea_no": ac.const(f"{CITY}00", len(idx)),
        "year": ac.lookup([str(y) for y in range(1970, 2100)], (vday[idx] / 365.2425).astype(int)),
    }
    allv = np.arange(nv)
    dept = v["dept"]
    diag_codes, diag_names = ac.Lookup(city.diag_codes), ac.Lookup(city.diag_names)
    inp = v["kind"] == INP
    mdtrt = person_cols(allv) | {
        "mdtrt_id": ids_v,
        "begntime": ac.timestamps(v["begin"]),
        "endtime": ac.timestamps(v["end"]),
        "mdtrt_cert_type": ac.const("01", nv),
        "ipt_otp_no": ac.ids("Z", allv, 10),
        "chfpdr_code": staff_codes.take(v["doc"]),
        "chfpdr_name": staff_names.take(v["doc"]),
        "adm_dept_codg": ac.lookup(DEPT_CODES, dept),
        "adm_dept_name": ac.lookup(DEPT_NAMES, dept),
        "dscg_dept_codg": ac.lookup(DEPT_CODES, np.where(inp, dept, -1)),
        "dscg_dept_name": ac.lookup(DEPT_NAMES, np.where(inp, dept, -1)),
        "adm_caty": ac.lookup(DEPT_CODES, dept),
        "dscg_maindiag_code": diag_codes.take(np.where(v["kind"] == PHARM, -1, v["diag"])),
        "dscg_maindiag_name": diag_names.take(np.where(v["kind"] == PHARM, -1, v["diag"])),
        "inhosp_stas": ac.const("0", nv),
        "dscg_way": ac.lookup(["1"], np.where(inp, 0, -1)),
        "ipt_days": pa.array(v["days"], pa.int32(), mask=~inp),
        "die_date": ac.dates(np.maximum(p["die"][vp], 0), mask=die_mask[vp]),
    }
    tables["mdtrt_d"] = ac.to_table(schema_table("mdtrt_d").arrow_schema, mdtrt, nv)

    s_time = np.where(np.arange(n_setl) >= nv, v["end"][sv] + DAY, v["end"][sv])
    setl_cols = person_cols(sv) | {
        "setl_id": ids_s,
        "mdtrt_id": mdtrt_id(sv),
        "init_setl_id": setl_id(np.concatenate([np.full(nv, -1), ref])),
        "begndate": ac.dates(v["begin"][sv] // DAY),
        "enddate": ac.dates(v["end"][sv] // DAY),
        "setl_time": ac.timestamps(s_time),
        "clr_type": ac.lookup(["11", "21", "41"], kind),
        "medfee_sumamt": ac.decimal(s_fee, money),
        "fulamt_ownpay_amt": ac.decimal(s_own, money),
        "overlmt_selfpay": ac.decimal(np.zeros(n_setl), money),
        "preselfpay_amt": ac.decimal(s_pre, money),
        "inscp_amt": ac.decimal(s_inscp, money),
        "dedc_std": ac.decimal(np.abs(dedc), money),
        "act_pay_dedc": ac.decimal(np.where(hifp != 0, dedc, 0.0), money),
        "hifp_pay": ac.decimal(hifp, money),
        "pool_prop_selfpay": ac.decimal(ratio, pa.decimal128(5, 4)),
        "fund_pay_sumamt": ac.decimal(hifp, money),
        "psn_pay": ac.decimal(psn_pay, money),
        "acct_pay": ac.decimal(acct, money),
        "cash_payamt": ac.decimal(psn_pay - acct, money),
        "refd_setl_flag": ac.lookup(["0", "1"], (np.arange(n_setl) >= nv).astype(int)),
        "mid_setl_flag": ac.const("0", n_setl),
        "cal_ipt_cnt": pa.array(np.where(kind == INP, sign_s, 0).astype(np.int32)),
    }
    tables["setl_d"] = ac.to_table(schema_table("setl_d").arrow_schema, setl_cols, n_setl)

    # diagnoses: main for every hospital visit, a secondary one for some stays
    hv = np.flatnonzero(v["kind"] != PHARM)
    sec = hv[v["diag2"][hv] >= 0]
    dv = np.concatenate([hv, sec])
    dcode = np.concatenate([v["diag"][hv], v["diag2"][sec]])
    main = np.concatenate([np.ones(len(hv), bool), np.zeros(len(sec), bool)])
    nd = len(dv)
    diag = {
        "setl_list_diag_id": ac.ids(pre["diag"], np.arange(nd), 9),
        "setl_id": setl_id(dv),
        "mdtrt_id": mdtrt_id(dv),
        "psn_no": psn_no(vp[dv]),
        "diag_type": ac.const("1", nd),
        "maindiag_flag": ac.lookup(["0", "1"], main.astype(int)),
        "diag_code": diag_codes.take(dcode),
        "diag_name": diag_names.take(dcode),
        "adm_cond_type": ac.const("1", nd),
        "vali_flag": ac.const("1", nd),
        "setl_list_sn": pa.array(np.where(main, 1, 2).astype(np.int32)),
    }
    tables["setl_list_diag_d"] = ac.to_table(schema_table("setl_list_diag_d").arrow_schema, diag, nd)

    sv_ = np.flatnonzero(v["surgery"])
    no = len(sv_)
    oc = rng.integers(0, len(city.oprn_codes), no)
    odate = v["begin"][sv_] + np.minimum(1, v["days"][sv_] - 1) * DAY + 3 * 3600
    ocode, oname = city.oprn_codes[oc], city.oprn_names[oc]
    if blk.oprn_override:  # after the draw, so the other operations are the same as without planting
        ocode, oname = ocode.astype(object), oname.astype(object)
        for vi, (code, name) in blk.oprn_override.items():
            k = int(np.searchsorted(sv_, vi))
            ocode[k], oname[k] = code, name
    oprn = {
        "setl_list_oprn_id": ac.ids(pre["oprn"], np.arange(no), 9),
        "setl_id": setl_id(sv_),
        "psn_no": psn_no(vp[sv_]),
        "mdtrt_id": mdtrt_id(sv_),
        "main_oprn_flag": ac.const("1", no),
        "oprn_oprt_name": pa.array(oname),
        "oprn_oprt_code": pa.array(ocode),
        "oprn_oprt_date": ac.dates(odate // DAY),
        "anst_way": ac.const("1", no),
        "oper_dr_code": staff_codes.take(v["doc"][sv_]),
        "oper_dr_name": staff_names.take(v["doc"][sv_]),
        "oprn_oprt_begntime": ac.timestamps(odate),
        "oprn_oprt_endtime": ac.timestamps(odate + 5400),
        "vali_flag": ac.const("1", no),
        "setl_list_sn": pa.array(np.ones(no, np.int32)),
    }
    tables["setl_list_oprn_d"] = ac.to_table(schema_table("setl_list_oprn_d").arrow_schema, oprn, no)

    npn = len(p["age"])
    psn = {
        "psn_no": ids_p,
        "psn_cert_type": ac.const("01", npn),
        "certno": certnos,
        "psn_name": names,
        "gend": ac.lookup(["", "1", "2"], p["gend"]),
        "brdy": ac.dates(p["brdy"]),
        "insutype": ac.lookup(INSUTYPES, p["insutype"]),
        "psn_type": ac.lookup(PSN_TYPES, p["psn_type"]),
        "insu_admdvs": admdvs.take(psn_region),
        "die_date": ac.dates(np.maximum(p["die"], 0), mask=die_mask),
        "psn_insu_stas": ac.lookup(["1", "4"], (~die_mask).astype(int)),
    }
    tables["psn_info_b"] = ac.to_table(schema_table("psn_info_b").arrow_schema, psn, npn)

    # pharmacy sales, for invt_chg_d (3505 销售, linked by bkkp_sn)
    is_ph = (v["kind"][visit] == PHARM) & (sign > 0)
    facts = {
        "sale_rows": np.flatnonzero(is_ph),
        "inst": v["inst"][visit],
        "item": item,
        "cnt": cnt,
        "pric": pric,
        "time": time,
        "psn": v["psn"][visit],
        "ids": pre,
        "inst_codes": inst_codes,
        "hilist": f["hilist_code"],
        "trac": trac,
        "unbought": blk.unbought_codes,
    }
    return tables, facts
