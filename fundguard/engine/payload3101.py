"""National interface 3101 (明细审核事前事中分析服务) payloads ⇄ the real-time auditor.

``parse_3101`` validates a 3101-style request — the whole message (``{"infno": "3101", …, "input": {"data":
…}}``) or its ``data`` part: ``trig_scen``, ``rule_ids``, ``task_id``, ``patient_dtos`` → ``fsi_encounter_dtos``
→ ``fsi_diagnose_dtos`` / ``fsi_order_dtos`` (fee lines) / ``fsi_operation_dtos`` — and turns the current
encounter of each patient into a claim in national form (``mdtrt_d``, ``fee_list_d``, ``setl_list_diag_d``,
``setl_list_oprn_d`` with our canonical field codes), its values cast as ``claim_input.parse_claim`` casts a
claim (decimals, times, dates; ``vali_flag`` ``'1'``), which ``RealtimeAuditor.audit_parsed`` takes as it is: a
value is checked and cast in one memo lookup, not made a text that the claim's parse reads again. Field names are
the interface's; ``FIELD_MAP`` says which canonical field each one fills. Known fields are checked (type, number,
date) with bilingual errors naming the field's path; fields the interface does not define (vendors add their
own) are ignored and listed. ``trig_scen`` decides the stage: 1–5 (挂号、登记、医嘱) are 事前, 6–10 (预结算、结算、
购药) 事中.

``response_3101`` turns the auditor's hits back into a 3101-style answer: ``output.result`` with one entry per
hit (``jr_id``, ``rule_id``, ``rule_name``, ``vola_cont`` the evidence sentence, ``vola_amt`` 违规金额,
``sev_deg`` 严重程度, ``vola_evid`` 政策依据, ``judge_result_detail_dtos`` with the fee lines' ``rx_id``).

3101 orders carry no 符合政策范围金额; when a line gives none, ``inscp_amt`` is taken as ``sumamt`` −
``ownpay_amt`` (全自费), so the rules that judge only fund-paid lines can see it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

import pyarrow as pa

from fundguard.core.errors import InputError
from fundguard.core.memo import BoundedMemo
from fundguard.data import schema
from fundguard.engine.claim_input import cast_of, py_value, row_parser
from fundguard.rules.spec import Rule

TRIG_SCEN: dict[str, tuple[str, str]] = {
    "1": ("门诊挂号", "事前"),
    "2": ("门诊收费登记", "事前"),
    "3": ("住院登记", "事前"),
    "4": ("住院收费登记", "事前"),
    "5": ("住院执行医嘱", "事前"),
    "6": ("门诊结算", "事中"),
    "7": ("门诊预结算", "事中"),
    "8": ("住院结算", "事中"),
    "9": ("住院预结算", "事中"),
    "10": ("购药", "事中"),
}
"""``trig_scen`` → (触发场景, stage)."""

# kinds: str (code/ID/text), num (decimal), date / time (date-time), flag (0/1), int
FIELD_MAP: dict[str, dict[str, tuple[str | None, str]]] = {
    "patient": {
        "patn_id": ("psn_no", "str"),
        "patn_name": ("psn_name", "str"),
        "gend": ("gend", "str"),
        "brdy": ("brdy", "date"),
        "poolarea": ("poolarea_no", "str"),
        "curr_mdtrt_id": (None, "str"),
    },
    "encounter": {
        "mdtrt_id": ("mdtrt_id", "str"),
        "medins_id": ("fixmedins_code", "str"),
        "medins_name": ("fixmedins_name", "str"),
        "medins_admdvs": ("fix_blng_admdvs", "str"),
        "medins_type": (None, "str"),
        "medins_lv": ("hosp_lv", "str"),
        "wardarea_codg": (None, "str"),
        "wardarea_name": (None, "str"),
        "wardno": (None, "str"),
        "bedno": ("adm_bed", "str"),
        "adm_date": ("begntime", "time"),
        "dscg_date": ("endtime", "time"),
        "setl_date": (None, "time"),
        "dscg_main_dise_codg": ("dscg_maindiag_code", "str"),
        "dscg_main_dise_name": ("dscg_maindiag_name", "str"),
        "dr_codg": ("chfpdr_code", "str"),
        "dr_name": ("chfpdr_name", "str"),
        "prac_psn_codg": (None, "str"),
        "prac_psn_name": (None, "str"),
        "adm_dept_codg": ("adm_dept_codg", "str"),
        "adm_dept_name": ("adm_dept_name", "str"),
        "dscg_dept_codg": ("dscg_dept_codg", "str"),
        "dscg_dept_name": ("dscg_dept_name", "str"),
        "med_mdtrt_type": (None, "str"),
        "med_type": ("med_type", "str"),
        "matn_stas": (None, "str"),
        "medfee_sumamt": (None, "num"),
        "ownpay_amt": (None, "num"),
        "selfpay_amt": (None, "num"),
        "acct_payamt": (None, "num"),
        "ma_amt": (None, "num"),
        "hifp_payamt": (None, "num"),
        "setl_totlnum": (None, "int"),
        "insutype": ("insutype", "str"),
        "reim_flag": (None, "flag"),
        "out_setl_flag": (None, "flag"),
        "dise_no": ("dise_no", "str"),
        "dise_name": ("dise_name", "str"),
        "sinc_heal_lv": (None, "str"),
        "his_md_cnt": (None, "str"),
        "inet_mdtrt_flag": ("inet_mdtrt_flag", "flag"),
    },
    "diagnose": {
        "dise_id": ("setl_list_diag_id", "str"),
        "inout_dise_type": (None, "str"),
        "maindise_flag": ("maindiag_flag", "flag"),
        "dias_srt_no": (None, "int"),
        "dise_codg": ("diag_code", "str"),
        "dise_name": ("diag_name", "str"),
        "dise_date": (None, "time"),
    },
    "order": {
        "rx_id": ("bkkp_sn", "str"),
        "rxno": ("rx_drord_no", "str"),
        "grpno": ("comb_no", "str"),
        "long_drord_flag": (None, "flag"),
        "hilist_type": ("list_type", "str"),
        "chrg_type": ("med_chrgitm_type", "str"),
        "drord_bhvr": (None, "str"),
        "hilist_code": ("hilist_code", "str"),
        "hilist_name": ("hilist_name", "str"),
        "hilist_dosform": ("dosform_name", "str"),
        "hilist_lv": ("chrgitm_lv", "str"),
        "hilist_pric": ("pric_uplmt_amt", "num"),
        "hosplist_code": ("medins_list_codg", "str"),
        "hosplist_name": ("medins_list_name", "str"),
        "hosplist_dosform": (None, "str"),
        "cnt": ("cnt", "num"),
        "pric": ("pric", "num"),
        "sumamt": ("det_item_fee_sumamt", "num"),
        "ownpay_amt": ("fulamt_ownpay_amt", "num"),
        "selfpay_amt": ("preselfpay_amt", "num"),
        "inscp_amt": ("inscp_amt", "num"),
        "spec": ("spec", "str"),
        "spec_unt": (None, "str"),
        "drord_begn_date": ("fee_ocur_time", "time"),
        "drord_stop_date": (None, "time"),
        "drord_dept_codg": ("bilg_dept_codg", "str"),
        "drord_dept_name": ("bilg_dept_name", "str"),
        "drord_dr_codg": ("bilg_dr_code", "str"),
        "drord_dr_name": ("bilg_dr_name", "str"),
        "drord_dr_profttl": (None, "str"),
        "curr_drord_flag": (None, "flag"),
        "tcmdrug_used_way": ("tcmdrug_used_way", "str"),
        "prd_days": ("prd_days", "num"),
        "drug_trac_codg": ("drug_trac_codg", "codes"),
        "drug_trac_info": ("drug_trac_codg", "codes"),
    },
    "operation": {
        "setl_list_oprn_id": ("setl_list_oprn_id", "str"),
        "oprn_code": ("oprn_oprt_code", "str"),
        "oprn_name": ("oprn_oprt_name", "str"),
        "main_oprn_flag": ("main_oprn_flag", "flag"),
        "oprn_date": ("oprn_oprt_date", "date"),
        "anst_way": ("anst_way", "str"),
        "oper_dr_name": ("oper_dr_name", "str"),
        "oper_dr_code": ("oper_dr_code", "str"),
        "anst_dr_name": ("anst_dr_name", "str"),
        "anst_dr_code": ("anst_dr_code", "str"),
    },
}
"""Per DTO: 3101 field → (canonical field it fills or None when it has no place in the claim, kind)."""

REQUIRED: dict[str, tuple[str, ...]] = {
    "patient": ("patn_id",),
    "encounter": ("mdtrt_id", "med_type"),
    "diagnose": ("dise_codg",),
    "order": ("rx_id", "hilist_code", "cnt", "sumamt", "drord_begn_date"),
    "operation": ("oprn_code",),
}
"""Fields each DTO must fill (the claim's keys and what every line rule reads)."""

_TABLE = {
    "patient": "mdtrt_d",
    "encounter": "mdtrt_d",
    "diagnose": "setl_list_diag_d",
    "order": "fee_list_d",
    "operation": "setl_list_oprn_d",
}
"""The claim table each DTO's canonical fields belong to."""

_DTO_ZH = {
    "patient": "参保人",
    "encounter": "就诊",
    "diagnose": "诊断",
    "order": "费用明细",
    "operation": "手术操作",
}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S")
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d")
_CANONICAL = {
    "time": re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"),
    "date": re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"),
}
"""The texts ``_checked`` gives for a time and a date (ASCII digits, a four-digit year): one that already reads so
is its own answer once the date and time exist."""


def _exists(kind: str, s: str) -> bool:
    """Whether a text of ``_CANONICAL[kind]`` names a real date (and time)."""
    try:
        (dt.datetime if kind == "time" else dt.date).fromisoformat(s)
    except ValueError:
        return False
    return True


_SEV_DEG = {"high": ("1", "高"), "medium": ("2", "中"), "low": ("3", "低")}


def _err(path: str, zh: str, en: str) -> InputError:
    return InputError(f"3101 报文错误：{path} {zh}", f"3101 payload invalid: {path} {en}")


@dataclass
class Claim3101:
    """One patient's current encounter as a claim, with what the answer needs to echo."""

    claim: dict[str, list[dict[str, Any]]]
    """In ``parse_claim``'s form: every claim table, values cast."""
    patn_id: str
    mdtrt_id: str
    ignored_encounters: list[str] = field(default_factory=list)


@dataclass
class Request3101:
    """A parsed 3101 request: the stage its ``trig_scen`` implies, the rules asked for and the claims."""

    trig_scen: str
    stage: str
    rule_ids: list[str]
    task_id: str | None
    claims: list[Claim3101]
    ignored_fields: list[str] = field(default_factory=list)

    @property
    def scene_zh(self) -> str:
        return TRIG_SCEN[self.trig_scen][0]


def _text(v: Any, path: str) -> str | None:
    if v is None or isinstance(v, (dict, list)):
        if v is None:
            return None
        raise _err(path, "应为字符串或数值，收到对象/数组", "must be a string or number, got an object/array")
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def _codes(v: Any, path: str) -> str | None:
    """药品追溯码: a comma-separated string, a list of codes or of ``{"drug_trac_codg": …}`` objects (one per
    box, as interface 2301's ``drug_trac_info``) → the canonical comma-separated string."""
    items = v if isinstance(v, list) else [v]
    codes: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            item = item.get("drug_trac_codg")
        s = _text(item, f"{path}[{i}]")
        codes += [c.strip() for c in (s or "").replace("，", ",").split(",") if c.strip()]
    for c in codes:
        if not c.isalnum() or len(c) > 64:
            raise _err(path, f"追溯码格式错误：{c[:70]!r}", f"malformed traceability code: {c[:70]!r}")
    if len(codes) > 1000:
        raise _err(path, "追溯码过多（超过 1000 个）", "too many traceability codes (over 1,000)")
    return ",".join(codes) or None


MAX_TEXT = 200
"""Characters a text field may hold."""
VALUES_SIZE = 100_000
"""Text values remembered per memo at most (``_VALUES``)."""

Cast = Callable[[str], Any] | None


def _cast(text: str | None, cast: Cast, path: str) -> Any:
    """A checked text as the value of its canonical field (``cast`` None: the text itself)."""
    if text is None or cast is None:
        return text
    try:
        return cast(text)
    except (ValueError, ArithmeticError):  # a number past the field's precision
        raise _err(path, f"超出字段取值范围：{text!r}", f"is out of the field's range: {text!r}") from None


def _check_value(kind: str, cast: Cast, v: Any) -> Any:
    """``_checked`` and ``_cast`` of a text value (any other type: TypeError), for a memo filling itself."""
    if v.__class__ is not str:
        raise TypeError(v)
    return _cast(_checked(v, kind, ""), cast, "")


_VALUES: dict[tuple[str, str], BoundedMemo] = {}
"""(kind, canonical type; None for a field only checked) → text → its value in the claim (a HIS repeats codes,
names, times and amounts across lines and claims): one lookup instead of the checks and the cast. Only results
are kept, so a bad value raises every time."""


def _time_value(cast: Cast, to_datetime: bool, v: Any) -> Any:
    """``_check_value`` of a time, in one ``fromisoformat`` where the text is already canonical, as a HIS
    sends nearly every new time (through ``_checked`` and ``_cast`` it was read twice: 0.82 against 0.31 µs)."""
    if v.__class__ is str and _CANONICAL["time"].fullmatch(v):
        try:
            t = dt.datetime.fromisoformat(v)
        except ValueError:  # no such date or time: the general path says so
            pass
        else:
            return t if to_datetime else _cast(v, cast, "")
    return _check_value("time", cast, v)


def _spec(dto: str, canon: str | None, kind: str) -> tuple[str | None, str, BoundedMemo, Cast]:
    """A field's canonical name, kind, memo (shared by the fields of its kind and type) and cast."""
    t = schema.table(_TABLE[dto]).field(canon).arrow_type if canon else None
    cast = cast_of(t) if t else None
    memo = _VALUES.get((kind, str(t)))
    if memo is None:
        if kind == "time":
            fill = partial(_time_value, cast, t is not None and pa.types.is_timestamp(t))
        else:
            fill = partial(_check_value, kind, cast)
        memo = _VALUES[kind, str(t)] = BoundedMemo(fill, VALUES_SIZE)
    return canon, kind, memo, cast


_SPECS = {
    dto: {name: _spec(dto, canon, kind) for name, (canon, kind) in spec.items()}
    for dto, spec in FIELD_MAP.items()
}
"""``FIELD_MAP`` with each field's memo and cast."""
_INSCP_CAST = cast_of(schema.table("fee_list_d").field("inscp_amt").arrow_type)


def _inscp(amounts: tuple[Any, Any]) -> Any:
    """The 符合政策范围金额 of an order without one: ``sumamt`` − ``ownpay_amt`` as sent (both checked), not
    less than 0, then cast (rounded once, as the difference of the texts always was)."""
    total, ownpay = (_checked(a, "num", "") or "0" for a in amounts)
    return _INSCP_CAST(format(max(Decimal(total) - Decimal(ownpay), Decimal(0)), "f"))


_INSCP = BoundedMemo(_inscp, VALUES_SIZE)
"""(sumamt, ownpay_amt) as sent → ``_inscp``."""
_UNSEEN = object()


_SHAPES = {dto: BoundedMemo(size=1_000) for dto in FIELD_MAP}
"""DTO → its shapes seen (a HIS sends one or a few) → the ``row_parser`` reading that shape, or None where the
general path must read it (a field the interface does not define, a required one missing)."""


def _shape(dto: str, names: tuple[str, ...]) -> Callable[[dict], dict | None] | None:
    """A text field that fills a text column is stripped in place (its memo would only strip it and check its
    length; a HIS sends a new 处方号 on every order), any other through its memo."""
    spec = _SPECS[dto]
    if not spec.keys() >= set(names) or not set(REQUIRED[dto]) <= set(names):
        return None
    reads = [
        (canon, None if kind == "str" and cast is None else memo)
        for canon, kind, memo, cast in map(spec.get, names)
    ]
    return row_parser(reads, {}, max_text=MAX_TEXT)


def _dto_fast(raw: dict, dto: str) -> dict[str, Any] | None:
    """``_dto`` for a DTO of known fields, all values that check and none blank, read by the parser of its
    shape; None when the general path must read it (it then says what is wrong)."""
    names = tuple(raw)
    shapes = _SHAPES[dto]
    parse = shapes.get(names, _UNSEEN)
    if parse is _UNSEEN:
        parse = shapes.remember(names, _shape(dto, names))
    if parse is None:
        return None
    try:
        return parse(raw)
    except (InputError, TypeError):  # a value to check with its path, or not a text
        return None


def _checked(v: Any, kind: str, path: str) -> str | None:
    """The 3101 value ``v`` as the string the claim takes, checked by ``kind`` (an error names ``path``)."""
    if kind == "codes":
        return _codes(v, path)
    s = _text(v, path)
    if s is None:
        return None
    if kind == "num":
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise _err(path, f"不是数值：{s!r}", f"is not a number: {s!r}") from None
        if not d.is_finite():
            raise _err(path, f"不是有限数值：{s!r}", f"is not a finite number: {s!r}")
        return format(d, "f")
    if kind == "int":
        if not s.lstrip("-").isdigit():
            raise _err(path, f"不是整数：{s!r}", f"is not an integer: {s!r}")
        return s
    if kind == "flag":
        if s not in ("0", "1"):
            raise _err(path, f"标志应为 0 或 1：{s!r}", f"flag must be 0 or 1: {s!r}")
        return s
    if kind in ("time", "date"):
        # already the canonical text: a C-level check instead of ``strptime`` (~5 µs a new value)
        if _CANONICAL[kind].fullmatch(s) and _exists(kind, s):
            return s
        formats = _TIME_FORMATS + _DATE_FORMATS if kind == "time" else _DATE_FORMATS + _TIME_FORMATS
        for fmt in formats:
            try:
                t = dt.datetime.strptime(s, fmt)
            except ValueError:
                continue
            return t.strftime("%Y-%m-%d %H:%M:%S") if kind == "time" else t.date().isoformat()
        raise _err(
            path,
            f"日期时间无法解析：{s!r}（应为 yyyy-MM-dd HH:mm:ss）",
            f"date/time cannot be parsed: {s!r} (expected yyyy-MM-dd HH:mm:ss)",
        )
    if kind == "str" and len(s) > MAX_TEXT:
        raise _err(path, f"过长（超过 {MAX_TEXT} 字符）", f"is too long (over {MAX_TEXT} characters)")
    return s


def _dto(raw: Any, dto: str, path: str, ignored: set[str]) -> dict[str, Any]:
    """Check one DTO; return the canonical fields it fills."""
    if not isinstance(raw, dict):
        raise _err(path, f"{_DTO_ZH[dto]}应为对象", f"{dto} must be an object")
    fast = _dto_fast(raw, dto)
    if fast is not None:
        return fast
    spec = _SPECS[dto]
    out: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name, v in raw.items():
        known = spec.get(name)
        if known is None:
            if not (name.endswith("_dtos") and dto in ("patient", "encounter")):
                ignored.add(f"{dto}.{name}")
            continue
        canon, kind, memo, cast = known
        # a remembered text is one lookup: the field's path is written out only to check a new value
        val = memo.get(v, _UNSEEN) if v.__class__ is str else _UNSEEN
        if val is _UNSEEN:
            at = f"{path}.{name}"
            val = _cast(_checked(v, kind, at), cast, at)
            if v.__class__ is str:
                memo.remember(v, val)
        values[name] = val
        if canon and val is not None:
            out[canon] = val
    for name in REQUIRED[dto]:
        if values.get(name) is None:
            raise _err(f"{path}.{name}", f"缺少必填字段（{_DTO_ZH[dto]}）", f"required field missing ({dto})")
    return out


def _list(raw: dict, key: str, path: str, *, required: bool = False) -> list:
    v = raw.get(key)
    if v is None:
        v = []
    if not isinstance(v, list):
        raise _err(f"{path}.{key}", "应为数组", "must be an array")
    if required and not v:
        raise _err(f"{path}.{key}", "不能为空", "must not be empty")
    return v


def _lv(code: str | None) -> str | None:
    """Level codes as sent by HIS ('2', '--') → the national two-digit code or nothing."""
    if code is None or not code.strip("-"):
        return None
    return code.zfill(2) if code.isdigit() and len(code) == 1 else code


def _encounter_claim(
    patient: dict[str, Any], enc_raw: dict, path: str, medins: dict[str, str], ignored: set[str]
) -> dict[str, list[dict[str, Any]]]:
    enc = _dto(enc_raw, "encounter", path, ignored)
    visit = {**medins, **patient, **enc}
    visit["hosp_lv"] = _lv(visit.get("hosp_lv"))
    visit = {k: v for k, v in visit.items() if v is not None} | {"vali_flag": "1"}
    # each row is in force (``vali_flag``), as ``parse_claim`` reads a row that does not say
    keys = {"mdtrt_id": visit["mdtrt_id"], "psn_no": visit["psn_no"], "vali_flag": "1"}
    line_ctx = {k: visit[k] for k in ("fixmedins_code", "fixmedins_name", "med_type") if k in visit}
    diags, lines, oprns = [], [], []
    for i, raw in enumerate(_list(enc_raw, "fsi_diagnose_dtos", path)):
        d = _dto(raw, "diagnose", f"{path}.fsi_diagnose_dtos[{i}]", ignored)
        diags.append({**keys, **d})
    if "dscg_maindiag_code" not in visit:  # the main diagnosis stands for the discharge diagnosis
        main = [d["diag_code"] for d in diags if d.get("maindiag_flag") == "1"]
        if main:
            visit["dscg_maindiag_code"] = main[0]
    seen: set[str] = set()
    for i, raw in enumerate(_list(enc_raw, "fsi_order_dtos", path, required=True)):
        p = f"{path}.fsi_order_dtos[{i}]"
        line = _dto(raw, "order", p, ignored)
        if line["bkkp_sn"] in seen:
            raise _err(f"{p}.rx_id", f"重复：{line['bkkp_sn']}", f"duplicate: {line['bkkp_sn']}")
        seen.add(line["bkkp_sn"])
        lv = _lv(line.get("chrgitm_lv"))
        if lv is None:
            line.pop("chrgitm_lv", None)
        else:
            line["chrgitm_lv"] = lv
        if "inscp_amt" not in line:
            try:
                line["inscp_amt"] = _INSCP[raw.get("sumamt"), raw.get("ownpay_amt")]
            except (ValueError, ArithmeticError):
                raise _err(
                    f"{p}.sumamt", "减自费金额后超出取值范围", "less ownpay_amt is out of range"
                ) from None
        lines.append({**keys, **line_ctx, **line})  # no value is None: ``_dto`` keeps none, nor the visit
    for i, raw in enumerate(_list(enc_raw, "fsi_operation_dtos", path)):
        o = _dto(raw, "operation", f"{path}.fsi_operation_dtos[{i}]", ignored)
        oprns.append({**keys, **o})
    return {"mdtrt_d": [visit], "fee_list_d": lines, "setl_d": [], "setl_list_diag_d": diags,
            "setl_list_oprn_d": oprns}  # fmt: skip


def parse_3101(payload: Any, known_rule_ids: set[str] | None = None) -> Request3101:
    """Validate a 3101 request and build one claim per patient (its current encounter)."""
    if not isinstance(payload, dict):
        raise _err("报文", "应为 JSON 对象", "message must be a JSON object")
    medins: dict[str, str] = {}
    data = payload
    if "input" in payload:  # the whole message: the interface envelope around input.data
        infno = _text(payload.get("infno"), "infno")
        if infno not in (None, "3101"):
            raise _err("infno", f"应为 3101，收到 {infno}", f"must be 3101, got {infno}")
        inp = payload["input"]
        data = inp.get("data") if isinstance(inp, dict) else None
        if not isinstance(data, dict):
            raise _err("input.data", "应为对象", "must be an object")
        for src, dst in (("fixmedins_code", "fixmedins_code"), ("fixmedins_name", "fixmedins_name")):
            if (v := _text(payload.get(src), src)) is not None:
                medins[dst] = v
    trig = _text(data.get("trig_scen"), "trig_scen")
    if trig not in TRIG_SCEN:
        raise _err(
            "trig_scen",
            f"应为 {list(TRIG_SCEN)} 之一（收到 {trig!r}）",
            f"must be one of {list(TRIG_SCEN)} (got {trig!r})",
        )
    rule_ids = _list(data, "rule_ids", "data")
    if not all(isinstance(r, str) and r for r in rule_ids):
        raise _err("rule_ids", "应为规则编号字符串数组", "must be an array of rule id strings")
    if known_rule_ids is not None and (unknown := sorted(set(rule_ids) - known_rule_ids)):
        raise _err(
            "rule_ids", f"未知或不在实时审核中的规则：{unknown}", f"unknown or not real-time rules: {unknown}"
        )
    ignored: set[str] = set()
    claims = []
    patients = _list(data, "patient_dtos", "data", required=True)
    for i, praw in enumerate(patients):
        path = f"patient_dtos[{i}]"
        patient = _dto(praw, "patient", path, ignored)
        encs = _list(praw, "fsi_encounter_dtos", path, required=True)
        current = _checked(praw.get("curr_mdtrt_id"), "str", f"{path}.curr_mdtrt_id")  # checked by ``_dto``
        if current is None and len(encs) > 1:
            raise _err(
                f"{path}.curr_mdtrt_id",
                "有多次就诊时须指明本次就诊 ID",
                "is required when the patient has several encounters",
            )
        ids = [_text(e.get("mdtrt_id"), f"{path}.fsi_encounter_dtos[{j}].mdtrt_id") if isinstance(e, dict) else None
               for j, e in enumerate(encs)]  # fmt: skip
        j = ids.index(current) if current is not None and current in ids else (0 if current is None else -1)
        if j < 0:
            raise _err(
                f"{path}.curr_mdtrt_id",
                f"{current} 不在 fsi_encounter_dtos 中",
                f"{current} is not among fsi_encounter_dtos",
            )
        claim = _encounter_claim(patient, encs[j], f"{path}.fsi_encounter_dtos[{j}]", medins, ignored)
        visit = claim["mdtrt_d"][0]
        if "fixmedins_code" not in visit:
            raise _err(
                f"{path}.fsi_encounter_dtos[{j}].medins_id",
                "缺少定点医药机构编号（或报文 fixmedins_code）",
                "missing institution code (or message fixmedins_code)",
            )
        others = [str(x) for k, x in enumerate(ids) if k != j and x]
        claims.append(Claim3101(claim, patient["psn_no"], visit["mdtrt_id"], others))
    return Request3101(
        trig_scen=trig,
        stage=TRIG_SCEN[trig][1],
        rule_ids=list(rule_ids),
        task_id=_text(data.get("task_id"), "task_id"),
        claims=claims,
        ignored_fields=sorted(ignored),
    )


def _inverse(dto: str, row: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    seen: set[str] = set()
    for name, (canon, _) in FIELD_MAP[dto].items():
        if canon and canon not in seen and row.get(canon) is not None:
            # the first 3101 name of a field (drug_trac_codg, not drug_trac_info)
            out[name] = py_value(row[canon])
            seen.add(canon)
    return out


def to_3101(claim: dict, trig_scen: str = "8", task_id: str | None = None) -> dict:
    """A national-form claim (texts, or values as ``parse_claim`` casts them) as a 3101 request (``input.data``
    part, texts) — the inverse of ``parse_3101`` over the fields 3101 carries; used to replay stored visits
    through the 3101 route."""
    visit = claim["mdtrt_d"][0]
    enc = _inverse("encounter", visit)
    for dto in ("diagnose", "order", "operation"):
        enc[f"fsi_{dto}_dtos"] = [_inverse(dto, r) for r in claim.get(_TABLE[dto]) or []]
    patient = _inverse("patient", visit) | {"curr_mdtrt_id": visit["mdtrt_id"], "fsi_encounter_dtos": [enc]}
    return {"trig_scen": trig_scen, "rule_ids": [], "task_id": task_id, "patient_dtos": [patient]}


def result_entry(
    hit: dict, rule: Rule, patn_id: str, task_id: str | None, n: int, trace: dict[str, str] | None = None
) -> dict:
    """One hit as an entry of the 3101 answer's ``result`` list (``trace``: bkkp_sn → the line's 追溯码, given
    back on each flagged line so the pharmacy sees which boxes are in question)."""
    trace = trace or {}
    amount = hit["amount"] if hit["amount"] is not None else Decimal(0)
    deg, deg_zh = _SEV_DEG.get(rule.severity, ("2", "中"))
    sns = list(hit["bkkp_sn"] or [])
    return {
        "jr_id": f"{hit['mdtrt_id']}-{rule.id}-{n}",
        "rule_id": rule.id,
        "rule_name": rule.name_zh,
        "vola_cont": hit["evidence_zh"],
        "patn_id": patn_id,
        "mdtrt_id": hit["mdtrt_id"],
        "vola_amt": format(Decimal(amount).quantize(Decimal("0.01")), "f"),
        "sev_deg": deg,
        "sev_deg_name": deg_zh,
        "vola_bhvr_type": rule.result_type,
        "vola_evid": rule.legal_basis,
        "suggested_handling": rule.suggested_handling,
        "kp_id": hit.get("kp_id"),
        "task_id": task_id,
        "judge_result_detail_dtos": [
            {
                "jr_detl_id": f"{hit['mdtrt_id']}-{rule.id}-{n}-{k + 1}",
                "rx_id": sn,
                "hilist_code": hit.get("hilist_code"),
                **({"drug_trac_codg": trace[sn]} if trace.get(sn) else {}),
            }
            for k, sn in enumerate(sns)
        ],
    }


def response_3101(
    req: Request3101, hits_by_claim: list[list[dict]], rules: dict[str, Rule], ms: float
) -> dict:
    """The 3101-style answer: ``infcode`` 0 and ``output.result`` (one entry per hit), plus timing."""
    result = []
    for c, hits in zip(req.claims, hits_by_claim, strict=True):
        trace = {
            ln["bkkp_sn"]: ln["drug_trac_codg"]
            for ln in c.claim.get("fee_list_d", [])
            if ln.get("drug_trac_codg")
        }
        for n, h in enumerate(hits, 1):
            result.append(result_entry(h, rules[h["rule_id"]], c.patn_id, req.task_id, n, trace))
    return {
        "infcode": "0",
        "output": {"result": result},
        "trig_scen": req.trig_scen,
        "trig_scen_name": req.scene_zh,
        "stage": req.stage,
        "ignored_fields": req.ignored_fields,
        "ignored_encounters": {c.mdtrt_id: c.ignored_encounters for c in req.claims if c.ignored_encounters},
        "audit_ms": round(ms, 3),
    }


__all__ = [
    "FIELD_MAP",
    "TRIG_SCEN",
    "Claim3101",
    "Request3101",
    "parse_3101",
    "response_3101",
    "result_entry",
]
