"""One claim as the rules' in-memory evaluators see it (real time): the Python form of ``claim_lines``.

``line_rows`` builds a visit's ``claim_lines`` rows exactly as ``base.CLAIM_LINES_SQL`` does (visit, person,
institution and catalogue attributes, ``age_years``, ``hosp_level``, ``scene``); ``visit_row`` one row of
``stay_common.visits``. ``Claim`` holds the claim's lines and visit, the person's stored history (lines of
other visits kept for rules that look back, and visits), the reference rows the lines name and the
knowledge rows of the billed codes; ``Claim.lines_of(rule)`` applies the rule's scenes and effective
dates as ``base.rule_lines`` does. Template evaluators read only this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from fundguard.rules.base import HOSP_LEVEL, SCENE_MED_TYPES

if TYPE_CHECKING:
    from fundguard.rules.spec import Rule

Row = dict[str, Any]

_SCENE = {code: scene for scene, codes in SCENE_MED_TYPES.items() for code in codes}
MAIN_SCENES = frozenset(SCENE_MED_TYPES)


def scene_of(med_type: str | None) -> str:
    return _SCENE.get(med_type or "", "其他")


def _nz(v: Any) -> Any:
    """NULLIF(v, '')."""
    return None if v == "" else v


def visit_row(v: Row) -> Row:
    """One ``stay_common.visits`` row from a ``mdtrt_d`` row."""
    b, e = v.get("begntime"), v.get("endtime")
    diag = v.get("dscg_maindiag_code")
    return {
        "mdtrt_id": v["mdtrt_id"],
        "psn_no": v.get("psn_no"),
        "fixmedins_code": v.get("fixmedins_code"),
        "fixmedins_name": v.get("fixmedins_name"),
        "med_type": v.get("med_type"),
        "begntime": b,
        "endtime": e,
        "begin_date": b.date() if b else None,
        "end_date": e.date() if e else None,
        "adm_dept_codg": v.get("adm_dept_codg"),
        "adm_dept_name": v.get("adm_dept_name"),
        "maindiag": diag,
        "dx3": diag.replace(".", "")[:3].upper() if diag is not None else None,
        "scene": scene_of(v.get("med_type")),
    }


def line_rows(
    fees: list[Row],
    visit: Row | None,
    psn: Row | None,
    hosp_lv: Callable[[str | None], str | None],
    cat: Callable[[str | None], tuple[str | None, Any] | None],
) -> list[Row]:
    """The ``claim_lines`` row of each of one visit's fee lines, the visit's and person's values worked out once (the
    same rows: ``tests/engine/test_realtime.py`` compares them with the SQL view); ``hosp_lv(code)`` and
    ``cat(code)`` look the institution's level and the catalogue's (chrgitm_lv, max cap) up."""
    v = visit or {}
    p = psn or {}
    v_med = v.get("med_type")
    begn, endt = v.get("begntime"), v.get("endtime")
    brdy = v.get("brdy") if v.get("brdy") is not None else p.get("brdy")
    v_age = float(v["age"]) if brdy is None and v.get("age") is not None else None
    age_at_begin = (begn.date() - brdy).days / 365.25 if brdy is not None and begn is not None else None
    v_lv = _nz(v.get("hosp_lv"))
    gend = _nz(v.get("gend")) or p.get("gend")
    die = p.get("die_date")
    inet = _nz(v.get("inet_mdtrt_flag"))
    adm_c, adm_n, insu, diag = (
        v.get("adm_dept_codg"), v.get("adm_dept_name"), v.get("insutype"), v.get("dscg_maindiag_code")
    )  # fmt: skip
    # the values every line of the visit shares, in ``claim_lines``' column order: each line is a copy of
    # this row with its own values set (a third of the time of building each line's 43-key dict afresh)
    age_per_line = brdy is not None and begn is None
    shared = {
        "bkkp_sn": None, "mdtrt_id": None, "setl_id": None, "psn_no": None, "fixmedins_code": None,
        "rx_drord_no": None, "fee_ocur_time": None, "fee_date": None, "hilist_code": None, "hilist_name": None,
        "list_type": None, "med_chrgitm_type": None, "chrgitm_lv": None, "in_catalogue": None, "cnt": None,
        "pric": None, "prd_days": None, "pric_uplmt_amt": None, "catalogue_pric_uplmt_amt": None,
        "det_item_fee_sumamt": None, "inscp_amt": None, "fulamt_ownpay_amt": None, "tcmdrug_used_way": None,
        "bilg_dept_codg": None, "bilg_dept_name": None, "drug_trac_codg": None, "med_type": v_med,
        "inet_mdtrt_flag": inet, "begntime": begn, "endtime": endt, "adm_dept_codg": adm_c,
        "adm_dept_name": adm_n, "insutype": insu, "dscg_maindiag_code": diag, "hosp_lv": None, "gend": gend,
        "age_years": v_age if brdy is None else age_at_begin, "die_date": die, "hosp_level": None,
        "scene": scene_of(v_med),
    }  # fmt: skip
    levels: dict[str | None, tuple[Any, Any]] = {}
    out = []
    for fee in fees:
        g = fee.get
        ln = shared.copy()
        if v_med is None:
            ln["med_type"] = med_type = g("med_type")
            ln["scene"] = _SCENE.get(med_type or "", "其他")
        t = fee["fee_ocur_time"]  # the required fields are there (``claim_input.REQUIRED``)
        if age_per_line:
            ln["age_years"] = (t.date() - brdy).days / 365.25
        code = g("fixmedins_code")
        lv_level = levels.get(code)
        if lv_level is None:
            lv = v_lv or hosp_lv(code)
            lv_level = levels[code] = (lv, HOSP_LEVEL.get(lv) if lv is not None else None)
        hilist_code = fee["hilist_code"]
        c = cat(hilist_code)
        cat_lv, cat_cap = c if c else (None, None)
        cap = g("pric_uplmt_amt")
        ln["bkkp_sn"] = fee["bkkp_sn"]
        ln["mdtrt_id"] = fee["mdtrt_id"]
        ln["setl_id"] = g("setl_id")
        ln["psn_no"] = fee["psn_no"]
        ln["fixmedins_code"] = code
        ln["rx_drord_no"] = g("rx_drord_no")
        ln["fee_ocur_time"] = t
        ln["fee_date"] = t.date()
        ln["hilist_code"] = hilist_code
        ln["hilist_name"] = g("hilist_name")
        ln["list_type"] = g("list_type")
        ln["med_chrgitm_type"] = g("med_chrgitm_type")
        ln["chrgitm_lv"] = _nz(g("chrgitm_lv")) or cat_lv
        ln["in_catalogue"] = c is not None
        ln["cnt"] = fee["cnt"]
        ln["pric"] = g("pric")
        ln["prd_days"] = g("prd_days")
        ln["pric_uplmt_amt"] = cap if cap is not None else cat_cap
        ln["catalogue_pric_uplmt_amt"] = cat_cap
        ln["det_item_fee_sumamt"] = fee["det_item_fee_sumamt"]
        ln["inscp_amt"] = g("inscp_amt")
        ln["fulamt_ownpay_amt"] = g("fulamt_ownpay_amt")
        ln["tcmdrug_used_way"] = g("tcmdrug_used_way")
        ln["bilg_dept_codg"] = g("bilg_dept_codg")
        ln["bilg_dept_name"] = g("bilg_dept_name")
        ln["drug_trac_codg"] = _nz(g("drug_trac_codg"))
        ln["hosp_lv"], ln["hosp_level"] = lv_level
        out.append(ln)
    return out


@cache
def _scene_filter(scenes: tuple[str, ...]) -> frozenset[str] | None:
    """The scenes a rule's lines must be in; None when its scenes take every line (once per scenes tuple:
    ``Claim.lines_of`` asks for it for every rule of every claim)."""
    chosen = frozenset(scenes)
    return chosen if chosen and not chosen >= MAIN_SCENES else None


@dataclass
class Claim:
    """What a rule evaluator may read about one claim (see the module docstring)."""

    mdtrt_id: str
    psn_no: str
    lines: list[Row]
    """The claim's ``claim_lines`` rows."""
    visit: Row
    """The claim's visit as a ``visits`` row (``begntime`` may be None: then no visit rule judges it)."""
    history: list[Row] = field(default_factory=list)
    """``claim_lines`` rows of the person's other stored visits that look-back rules keep."""
    visits: list[Row] = field(default_factory=list)
    """The person's other stored visits (``visits`` rows)."""
    diagnoses: list[str] = field(default_factory=list)
    """The visit's diagnosis codes (``dscg_maindiag_code`` and ``setl_list_diag_d.diag_code``)."""
    operations: list[str] = field(default_factory=list)
    """The visit's operation codes (``mdtrt_d.oprn_oprt_code`` and valid ``setl_list_oprn_d.oprn_oprt_code``)."""
    fund: tuple[str | None, Any, Any] | None = None
    """(setl_id, fund, medfee) of the visit's valid, not reversed settlements, as ``visit_fund``."""
    die_date: dt.date | None = None
    institution: Callable[[str | None], Row | None] = lambda code: None
    """``medins_info_b`` values of an institution code."""
    catalogue: Callable[[str | None], Row | None] = lambda code: None
    """``hilist_b`` values of a catalogue code (``lmt_used_dscr``)."""
    knowledge: Callable[[str], dict[Any, list[Row]]] = lambda name: {}
    """Knowledge table → rows by the plan's key (``code``, or (main_code, sub_code) …)."""

    _cache: dict = field(default_factory=dict, repr=False, compare=False)
    """Per-claim results shared by the rules (``lines_of`` by scenes and dates, ``codes``, ``by_code``)."""

    @property
    def codes(self) -> frozenset:
        """The ``hilist_code``s of the claim's lines (shared by every rule: computed once per claim)."""
        got = self._cache.get("codes")
        if got is None:
            got = self._cache["codes"] = frozenset(ln["hilist_code"] for ln in self.lines)
        return got

    def by_code(self, rule: Rule) -> dict[Any, list[Row]]:
        """``lines_of(rule)`` by ``hilist_code`` (in line order; computed once per scenes and dates)."""
        key = ("by_code", tuple(rule.scenes), rule.effective_from, rule.effective_to)
        got = self._cache.get(key)
        if got is None:
            got = {}
            for ln in self.lines_of(rule):
                got.setdefault(ln["hilist_code"], []).append(ln)
            self._cache[key] = got
        return got

    def lines_of(self, rule: Rule, rows: list[Row] | None = None) -> list[Row]:
        """``rows`` (default: the claim's lines) in the rule's scenes and effective dates. The result for
        the claim's lines or its history is computed once per claim and shared: do not change it."""
        scenes = _scene_filter(rule.scenes)
        lo, hi = rule.effective_from, rule.effective_to
        if rows is None:
            rows = self.lines
        if scenes is None and not lo and not hi:
            return rows
        which = 0 if rows is self.lines else 1 if rows is self.history else None
        key = (which, rule.scenes, lo, hi)
        if which is not None:
            got = self._cache.get(key)
            if got is not None:
                return got
        out = []
        for r in rows:
            if scenes is not None and r["scene"] not in scenes:
                continue
            d = r["fee_date"]
            if (lo and (d is None or d < lo)) or (hi and (d is None or d > hi)):
                continue
            out.append(r)
        if which is not None:
            self._cache[key] = out
        return out

    def in_dates(self, rule: Rule, begntime: dt.datetime | None) -> bool:
        """Whether a visit beginning at ``begntime`` is in the rule's effective dates (``visits``)."""
        if begntime is None:
            return False
        d = begntime.date()
        return not (
            (rule.effective_from and d < rule.effective_from) or (rule.effective_to and d > rule.effective_to)
        )

    def in_scenes(self, rule: Rule, scene: str) -> bool:
        """``stay_common.scene_cond``."""
        scenes = set(rule.scenes)
        return not scenes or scenes >= MAIN_SCENES or scene in scenes
