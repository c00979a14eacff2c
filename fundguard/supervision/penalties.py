"""Penalties: the 条例's statutory ranges (Arts 37–41), 协议处理 measures and the provincial 裁量基准.

Owns what a supervisor may impose for a violation: the statutory fine multiple or fixed-amount range and
suspension months per article (regulation.md §2, confidence H, so they are constants here), the
discretion table that splits each range into circumstance levels (configuration, YAML, shipped default in
``data/discretion.yaml``), lighter/heavier factors and the first-offence exemption, exact cent amounts
(``Decimal``) and a Chinese basis sentence citing the article. Pure Python: no database, no web.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from fundguard.core.errors import InputError
from fundguard.core.settings import settings

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_DISCRETION = DATA_DIR / "discretion.yaml"
CENT = Decimal("0.01")
REGULATION_ZH = "《医疗保障基金使用监督管理条例》"

# 协议处理 measures taken by the handling agency under the service agreement (条例 Art. 13; regulation.md §2
# including the 西宁 ladder of Seed 002). Codes are stable identifiers used by the service and the ledgers.
MEASURES: dict[str, str] = {
    "urge_performance": "督促履行",
    "interview": "约谈",
    "rectify_within_limit": "限期整改",
    "suspend_payment": "暂停拨付",
    "refuse_payment": "不予拨付/拒付",
    "recover": "追回",
    "suspend_staff_or_dept": "中止相关责任人员或部门",
    "suspend_agreement": "暂停协议",
    "terminate_agreement": "解除协议",
}

# 行政处罚 and accompanying orders by the administrative department (条例 Arts 37–41, 43; regulation.md §2).
ADMIN_MEASURES: dict[str, str] = {
    "order_correction": "责令改正",
    "interview_head": "约谈有关负责人",
    "order_refund": "责令退回",
    "fine": "罚款",
    "suspend_dept_services": "责令暂停相关责任部门涉及医保基金使用的医药服务",
    "suspend_network_settlement": "暂停医疗费用联网结算",
    "ban_legal_rep": "禁止法定代表人或主要负责人从事定点医药机构管理活动",
    "referral_terminate_agreement": "由经办机构解除服务协议",
    "referral_revoke_licence": "由有关主管部门吊销执业资格",
}

# 违法行为类别: the behaviour codes of regulation.md §1 with their Chinese names; findings use the codes.
BEHAVIOURS: dict[str, str] = {
    "A38_1": "分解住院、挂床住院",
    "A38_2": "过度诊疗、过度检查、分解处方、超量开药、重复开药",
    "A38_3": "重复收费、超标准收费、分解项目收费",
    "A38_4": "串换药品、医用耗材、诊疗项目和服务设施",
    "A38_5": "为参保人员利用其享受医保待遇的机会转卖药品、接受返还现金或实物提供便利",
    "A38_6": "将不属于医保基金支付范围的医药费用纳入医保基金结算",
    "A38_7": "造成医保基金损失的其他违法行为（含 DRG/DIP 高套或低编）",
    "A39_1": "未建立医保基金使用内部管理制度或未指定专门机构、人员",
    "A39_2": "未按规定保管财务账目、会计凭证、处方、病历、治疗检查记录等资料",
    "A39_3": "未按规定通过医保信息系统传送医保基金使用有关数据",
    "A39_4": "未按规定向医保行政部门报告医保基金使用监督管理所需信息",
    "A39_5": "未按规定向社会公开医药费用、费用结构等信息",
    "A39_6": "除急诊、抢救等特殊情形外，未经参保人员或其近亲属同意提供医保目录外医药服务",
    "A39_7": "拒绝医保等行政部门监督检查或者提供虚假情况",
    "A40_1": "诱导、协助他人冒名或者虚假就医、购药，提供虚假证明材料，或者串通他人虚开费用单据",
    "A40_2": "伪造、变造、隐匿、涂改、销毁医学文书、医学证明、会计凭证、电子信息等有关资料",
    "A40_3": "虚构医药服务项目",
    "A40_4": "其他骗取医保基金支出的行为",
    "A41_1": "将本人的医疗保障凭证交由他人冒名使用",
    "A41_2": "重复享受医疗保障待遇",
    "A41_3": "利用享受医疗保障待遇的机会转卖药品，接受返还现金、实物或者获得其他非法利益",
    "A41_F": "个人以骗取医疗保障基金为目的实施上述行为，或者使用他人医疗保障凭证冒名就医、购药，或者通过伪造、"
    "变造、隐匿、涂改、销毁医学文书等有关资料或者虚构医药服务项目等方式，骗取医保基金支出",
}
INDIVIDUAL_ARTICLES = ("41", "41_fraud")  # 条例 Art. 41: acts of insured persons (个人)
ARTICLES_ZH: dict[str, str] = {
    "37": "第三十七条（经办机构）",
    "38": "第三十八条（定点医药机构违法使用基金）",
    "39": "第三十九条（定点医药机构管理违规）",
    "40": "第四十条（定点医药机构骗取基金）",
    "41": "第四十一条第一款（个人违规）",
    "41_fraud": "第四十一条第二款（个人骗取基金）",
}

_ARTICLE_NO_ZH = {"37": "三十七", "38": "三十八", "39": "三十九", "40": "四十", "41": "四十一"}


@dataclass(frozen=True)
class Statute:
    """A statutory penalty range of the 条例 (regulation.md §2)."""

    article: str
    subject_zh: str
    title_zh: str
    clause_zh: str  # the article (and paragraph) as cited in documents
    fine_multiple: tuple[Decimal, Decimal] | None = None  # × loss / amount defrauded
    fine_cny: tuple[Decimal, Decimal] | None = None  # fixed-amount fine
    fine_condition_zh: str = ""
    suspension_months: tuple[int, int] | None = None
    suspension_zh: str = ""
    suspension_condition_zh: str = ""
    measures: tuple[str, ...] = ()  # ADMIN_MEASURES codes that always accompany
    loss_zh: str = "造成损失金额"
    refund_zh: str = "造成损失的医保基金"


def _d(value: str) -> Decimal:
    return Decimal(value)


STATUTES: dict[str, Statute] = {
    "37": Statute(
        article="37",
        subject_zh="医疗保障经办机构",
        title_zh="经办机构骗取医保基金",
        clause_zh=f"{REGULATION_ZH}第三十七条",
        fine_multiple=(_d("2"), _d("5")),
        measures=("order_refund", "fine"),
        loss_zh="骗取金额",
        refund_zh="骗取的医保基金",
    ),
    "38": Statute(
        article="38",
        subject_zh="定点医药机构",
        title_zh="定点医药机构违规使用医保基金",
        clause_zh=f"{REGULATION_ZH}第三十八条",
        fine_multiple=(_d("1"), _d("2")),
        fine_condition_zh="造成医保基金损失的，",
        suspension_months=(6, 12),
        suspension_zh="暂停相关责任部门涉及医保基金使用的医药服务",
        suspension_condition_zh="拒不改正或者造成严重后果的，",
        measures=("order_correction", "interview_head", "order_refund"),
    ),
    "39": Statute(
        article="39",
        subject_zh="定点医药机构",
        title_zh="定点医药机构违反管理规定",
        clause_zh=f"{REGULATION_ZH}第三十九条",
        fine_cny=(_d("10000"), _d("50000")),
        fine_condition_zh="拒不改正的，",
        measures=("order_correction", "interview_head"),
    ),
    "40": Statute(
        article="40",
        subject_zh="定点医药机构",
        title_zh="定点医药机构骗取医保基金",
        clause_zh=f"{REGULATION_ZH}第四十条",
        fine_multiple=(_d("2"), _d("5")),
        suspension_months=(6, 12),
        suspension_zh="暂停相关责任部门涉及医保基金使用的医药服务",
        measures=("order_refund", "fine"),
        loss_zh="骗取金额",
        refund_zh="骗取的医保基金",
    ),
    "41": Statute(
        article="41",
        subject_zh="个人",
        title_zh="个人违规使用医保基金",
        clause_zh=f"{REGULATION_ZH}第四十一条第一款",
        suspension_months=(3, 12),
        suspension_zh="暂停其医疗费用联网结算",
        measures=("order_correction", "order_refund"),
    ),
    "41_fraud": Statute(
        article="41_fraud",
        subject_zh="个人",
        title_zh="个人骗取医保基金",
        clause_zh=f"{REGULATION_ZH}第四十一条第二款",
        fine_multiple=(_d("2"), _d("5")),
        suspension_months=(3, 12),
        suspension_zh="暂停其医疗费用联网结算",
        measures=("order_correction", "order_refund", "fine"),
        loss_zh="骗取金额",
        refund_zh="骗取的医保基金",
    ),
}


@dataclass(frozen=True)
class FirstOffence:
    """首违不罚 settings (行政处罚法 Art. 33 as applied by the province)."""

    enabled: bool
    max_loss: Decimal
    articles: frozenset[str]
    basis_zh: str


@dataclass(frozen=True)
class Threshold:
    """An amount per party type and a set of measures, any of which triggers a procedure (听证, 法制审核)."""

    amount: Mapping[str, Decimal]
    measures: frozenset[str]
    source: str = ""


PARTY_TYPES: dict[str, str] = {"organisation": "单位", "individual": "个人"}


@dataclass(frozen=True)
class DiscretionTable:
    """A provincial 裁量基准: per article and circumstance level, sub-ranges of the statutory range."""

    name: str
    source: str
    levels: tuple[str, ...]
    default_level: str
    fine_multiple: Mapping[str, Mapping[str, tuple[Decimal, Decimal]]]
    fine_cny: Mapping[str, Mapping[str, tuple[Decimal, Decimal]]]
    suspension_months: Mapping[str, Mapping[str, tuple[int, int]]]
    mitigating: Mapping[str, str]
    aggravating: Mapping[str, str]
    first_offence: FirstOffence
    hearing: Threshold = Threshold({}, frozenset())
    legal_review: Threshold = Threshold({}, frozenset())
    path: str = ""


@dataclass(frozen=True)
class PenaltyRange:
    """What may be imposed for one violation at one circumstance level; money in cents."""

    article: str
    circumstance: str
    loss: Decimal
    statute: Statute
    fine_multiple_min: Decimal | None = None
    fine_multiple_max: Decimal | None = None
    fine_min: Decimal | None = None
    fine_max: Decimal | None = None
    statutory_fine_min: Decimal | None = None
    statutory_fine_max: Decimal | None = None
    suspension_months: tuple[int, int] | None = None
    measures: tuple[str, ...] = field(default_factory=tuple)
    basis_zh: str = ""

    @property
    def has_fine(self) -> bool:
        return self.fine_min is not None


def _money(value: Any, name_zh: str, name_en: str) -> Decimal:
    """Parse a non-negative amount and round it to cents."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InputError(
            f"{name_zh}不是有效金额：{value!r}", f"{name_en} is not a valid amount: {value!r}"
        ) from exc
    if not amount.is_finite() or amount < 0:
        raise InputError(
            f"{name_zh}必须为非负金额：{value}", f"{name_en} must be a non-negative amount: {value}"
        )
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt_money(amount: Decimal) -> str:
    return f"{amount:,.2f}元"


def _fmt_multiple(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return f"{text}倍"


def _pair(raw: Any, where: str, kind: type) -> tuple[Any, Any]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise InputError(
            f"裁量基准 {where} 须为 [下限, 上限]", f"discretion table {where} must be [min, max]"
        )
    try:
        lo, hi = (Decimal(str(v)) for v in raw) if kind is Decimal else (int(v) for v in raw)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise InputError(
            f"裁量基准 {where} 含无效数值", f"discretion table {where} has an invalid number"
        ) from exc
    if lo > hi:
        raise InputError(f"裁量基准 {where} 下限大于上限", f"discretion table {where}: min exceeds max")
    return lo, hi


def _inside(sub: tuple[Any, Any], outer: tuple[Any, Any] | None, where: str) -> None:
    if outer is None:
        raise InputError(
            f"裁量基准 {where}：该条款没有此类法定处罚",
            f"discretion table {where}: the article has no such penalty",
        )
    if sub[0] < outer[0] or sub[1] > outer[1]:
        raise InputError(
            f"裁量基准 {where} 超出法定幅度 {outer[0]}–{outer[1]}",
            f"discretion table {where} is outside the statutory range {outer[0]}–{outer[1]}",
        )


def _threshold(raw: Any, amount_key: str, where: str) -> Threshold:
    if not raw:
        return Threshold({}, frozenset())
    amounts = raw.get(amount_key) or {}
    for party in amounts:
        if party not in PARTY_TYPES:
            raise InputError(
                f"裁量基准 {where}：未知当事人类型 {party}",
                f"discretion table {where}: unknown party {party}",
            )
    return Threshold(
        amount={str(k): _money(v, f"{where} 金额", f"{where} amount") for k, v in amounts.items()},
        measures=frozenset(str(m) for m in raw.get("measures") or ()),
        source=str(raw.get("source") or ""),
    )


def load_discretion_table(path: str | Path | None = None) -> DiscretionTable:
    """Load and validate a 裁量基准 YAML (the shipped default when ``path`` is None)."""
    src = Path(path) if path is not None else DEFAULT_DISCRETION
    try:
        raw = yaml.safe_load(src.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InputError(
            f"无法读取裁量基准文件 {src}：{exc}", f"cannot read discretion table {src}: {exc}"
        ) from exc
    if not isinstance(raw, dict):
        raise InputError(f"裁量基准文件格式错误：{src}", f"discretion table is not a mapping: {src}")
    levels = tuple(str(x) for x in raw.get("levels") or ())
    if not levels:
        raise InputError("裁量基准缺少情节等级 levels", "discretion table has no levels")
    default_level = str(raw.get("default_level") or levels[len(levels) // 2])
    if default_level not in levels:
        raise InputError(
            f"默认情节等级 {default_level} 不在 levels 中",
            f"default_level {default_level} is not among levels",
        )
    multiples: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    fixed: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    months: dict[str, dict[str, tuple[int, int]]] = {}
    for article, spec in (raw.get("articles") or {}).items():
        article = str(article)
        statute = STATUTES.get(article)
        if statute is None:
            raise InputError(
                f"裁量基准含未知条款：{article}", f"discretion table names an unknown article: {article}"
            )
        for key, target, kind, outer in (
            ("fine_multiple", multiples, Decimal, statute.fine_multiple),
            ("fine_cny", fixed, Decimal, statute.fine_cny),
            ("suspension_months", months, int, statute.suspension_months),
        ):
            for level, pair in ((spec or {}).get(key) or {}).items():
                level = str(level)
                where = f"{article}.{key}.{level}"
                if level not in levels:
                    raise InputError(
                        f"裁量基准 {where}：未知情节等级", f"discretion table {where}: unknown level"
                    )
                sub = _pair(pair, where, kind)
                _inside(sub, outer, where)
                target.setdefault(article, {})[level] = sub
    factors = raw.get("factors") or {}
    fo = raw.get("first_offence_exemption") or {}
    first = FirstOffence(
        enabled=bool(fo.get("enabled", False)),
        max_loss=_money(fo.get("max_loss_cny", 0), "首违不罚金额上限", "first-offence loss cap"),
        articles=frozenset(str(a) for a in fo.get("articles") or ()),
        basis_zh=str(fo.get("basis_zh") or ""),
    )
    hearing = _threshold(raw.get("hearing_thresholds"), "fine_cny", "hearing_thresholds")
    review = _threshold(raw.get("legal_review_thresholds"), "amount_cny", "legal_review_thresholds")
    return DiscretionTable(
        name=str(raw.get("name") or src.stem),
        source=str(raw.get("source") or ""),
        levels=levels,
        default_level=default_level,
        fine_multiple=multiples,
        fine_cny=fixed,
        suspension_months=months,
        mitigating={str(k): str(v) for k, v in (factors.get("mitigating") or {}).items()},
        aggravating={str(k): str(v) for k, v in (factors.get("aggravating") or {}).items()},
        first_offence=first,
        hearing=hearing,
        legal_review=review,
        path=str(src),
    )


_TABLES: dict[str, DiscretionTable] = {}


def default_table() -> DiscretionTable:
    """The table in force: the file named by ``FUNDGUARD_DISCRETION_TABLE`` if set, else the shipped default;
    loaded once per path."""
    path = settings().discretion_table or str(DEFAULT_DISCRETION)
    if path not in _TABLES:
        _TABLES[path] = load_discretion_table(path)
    return _TABLES[path]


_BEHAVIOUR = re.compile(r"^A?(3[7-9]|4[01])(?:_(\w+))?$")


def statute(article: str | int) -> Statute:
    """The statute for an article key ('37', '38', '39', '40', '41', '41_fraud') or a behaviour code of
    regulation.md §1 ('A38_3' → 38, 'A41_F' → 41_fraud)."""
    key = str(article).strip().upper().replace("_FRAUD", "_fraud")
    match = _BEHAVIOUR.match(key)
    if key not in STATUTES and match:
        key = "41_fraud" if match.group(1) == "41" and match.group(2) in ("F", "fraud") else match.group(1)
    if key not in STATUTES:
        known = "、".join(STATUTES)
        raise InputError(
            f"未知的处罚条款：{key}（可选：{known}）", f"unknown penalty article: {key} (known: {known})"
        )
    return STATUTES[key]


def adjust_circumstance(
    circumstance: str,
    *,
    mitigating: Iterable[str] = (),
    aggravating: Iterable[str] = (),
    table: DiscretionTable | None = None,
) -> str:
    """Move the circumstance level one step lighter if any mitigating and one heavier if any aggravating
    factor applies (both → unchanged), clamped to the table's levels; unknown factors are refused."""
    tbl = table or default_table()
    if circumstance not in tbl.levels:
        raise InputError(
            f"未知的情节等级：{circumstance}（可选：{'、'.join(tbl.levels)}）",
            f"unknown circumstance level: {circumstance} (known: {', '.join(tbl.levels)})",
        )
    mit, agg = list(mitigating), list(aggravating)
    for name, known, zh, en in (
        (mit, tbl.mitigating, "从轻", "mitigating"),
        (agg, tbl.aggravating, "从重", "aggravating"),
    ):
        for factor in name:
            if factor not in known:
                raise InputError(f"未知的{zh}情节：{factor}", f"unknown {en} factor: {factor}")
    idx = tbl.levels.index(circumstance) - (1 if mit else 0) + (1 if agg else 0)
    return tbl.levels[max(0, min(len(tbl.levels) - 1, idx))]


def first_offence_exempt(
    article: str | int,
    loss: Decimal | int | str,
    *,
    first_offence: bool,
    corrected: bool,
    table: DiscretionTable | None = None,
) -> bool:
    """Whether 首违不罚 may apply: enabled in the table, the article listed, a first offence corrected in time
    and the loss within the configured cap."""
    tbl = table or default_table()
    fo = tbl.first_offence
    key = statute(article).article
    amount = _money(loss, "损失金额", "loss")
    return fo.enabled and key in fo.articles and first_offence and corrected and amount <= fo.max_loss


def _level_range(
    mapping: Mapping[str, Mapping[str, tuple[Any, Any]]],
    article: str,
    level: str,
    outer: tuple[Any, Any] | None,
) -> tuple[Any, Any] | None:
    # No row for this level in the table → the whole statutory range applies.
    return mapping.get(article, {}).get(level, outer)


def penalty_range(
    article: str | int,
    loss: Decimal | int | str,
    *,
    circumstance: str | None = None,
    table: DiscretionTable | None = None,
) -> PenaltyRange:
    """The fine (exact cents) and suspension months allowed for ``article`` at ``circumstance`` under ``table``,
    with a Chinese basis sentence citing the article. ``loss`` is the fund loss (Art. 38/41) or the amount
    defrauded (Arts 37, 40, 41_fraud); it is ignored for Art. 39's fixed-amount fines."""
    st = statute(article)
    tbl = table or default_table()
    level = circumstance or tbl.default_level
    if level not in tbl.levels:
        raise InputError(
            f"未知的情节等级：{level}（可选：{'、'.join(tbl.levels)}）",
            f"unknown circumstance level: {level} (known: {', '.join(tbl.levels)})",
        )
    amount = _money(loss, "损失金额", "loss")
    parts: list[str] = []
    # 约谈 is discretionary under Arts 38–39 ("可以"), the other orders are not.
    measures = [
        ("可以" if m == "interview_head" else "") + ADMIN_MEASURES[m] for m in st.measures if m != "fine"
    ]
    if "order_refund" in st.measures and amount > 0:
        measures = [f"责令退回{st.refund_zh}{_fmt_money(amount)}" if m == "责令退回" else m for m in measures]
    else:
        measures = [m for m in measures if m != "责令退回"]
    if measures:
        parts.append("，".join(measures))
    mult_lo = mult_hi = fine_lo = fine_hi = stat_lo = stat_hi = None
    if st.fine_multiple is not None and amount > 0:
        mult_lo, mult_hi = _level_range(tbl.fine_multiple, st.article, level, st.fine_multiple)
        fine_lo = (amount * mult_lo).quantize(CENT, rounding=ROUND_HALF_UP)
        fine_hi = (amount * mult_hi).quantize(CENT, rounding=ROUND_HALF_UP)
        stat_lo = (amount * st.fine_multiple[0]).quantize(CENT, rounding=ROUND_HALF_UP)
        stat_hi = (amount * st.fine_multiple[1]).quantize(CENT, rounding=ROUND_HALF_UP)
        parts.append(
            f"{st.fine_condition_zh}处{st.loss_zh}{_fmt_multiple(st.fine_multiple[0])}以上"
            f"{_fmt_multiple(st.fine_multiple[1])}以下的罚款；按裁量基准“{level}”情形为"
            f"{_fmt_multiple(mult_lo)}至{_fmt_multiple(mult_hi)}，即{_fmt_money(fine_lo)}至{_fmt_money(fine_hi)}"
        )
    elif st.fine_cny is not None:
        fine_lo, fine_hi = _level_range(tbl.fine_cny, st.article, level, st.fine_cny)
        fine_lo, fine_hi = fine_lo.quantize(CENT), fine_hi.quantize(CENT)
        stat_lo, stat_hi = st.fine_cny[0].quantize(CENT), st.fine_cny[1].quantize(CENT)
        parts.append(
            f"{st.fine_condition_zh}处{_fmt_money(stat_lo)}以上{_fmt_money(stat_hi)}以下的罚款；"
            f"按裁量基准“{level}”情形为{_fmt_money(fine_lo)}至{_fmt_money(fine_hi)}"
        )
    elif st.fine_multiple is not None:
        parts.append(f"未认定{st.loss_zh}，不适用按倍数计算的罚款")
    months = None
    if st.suspension_months is not None:
        months = tbl.suspension_months.get(st.article, {}).get(level)
        if months is None and not st.suspension_condition_zh:
            months = st.suspension_months
        if months is not None:
            parts.append(f"{st.suspension_condition_zh}{st.suspension_zh}{months[0]}个月至{months[1]}个月")
        else:
            parts.append(
                f"{st.suspension_condition_zh}可{st.suspension_zh}{st.suspension_months[0]}个月以上"
                f"{st.suspension_months[1]}个月以下（裁量基准“{level}”情形不予暂停）"
            )
    if st.article == "40":
        parts.append("情节严重的，由经办机构解除服务协议，由有关主管部门依法吊销执业资格")
    basis = f"依据{st.clause_zh}（{st.title_zh}），" + "；".join(parts) + "。"
    return PenaltyRange(
        article=st.article,
        circumstance=level,
        loss=amount,
        statute=st,
        fine_multiple_min=mult_lo,
        fine_multiple_max=mult_hi,
        fine_min=fine_lo,
        fine_max=fine_hi,
        statutory_fine_min=stat_lo,
        statutory_fine_max=stat_hi,
        suspension_months=months,
        measures=st.measures,
        basis_zh=basis,
    )


def check_fine(
    article: str | int,
    loss: Decimal | int | str,
    fine: Decimal | int | str,
    circumstance: str | None = None,
    table: DiscretionTable | None = None,
    *,
    allow_outside_discretion: bool = False,
) -> PenaltyRange:
    """Return the range when ``fine`` is allowed; raise ``InputError`` explaining the allowed range otherwise.

    A fine outside the discretion band but inside the statutory range is accepted only with
    ``allow_outside_discretion`` (the decision must then state the reason, 说明理由)."""
    rng = penalty_range(article, loss, circumstance=circumstance, table=table)
    amount = _money(fine, "罚款金额", "fine")
    st = rng.statute
    if not rng.has_fine:
        if amount == 0:
            return rng
        why_zh = f"未认定{st.loss_zh}" if st.fine_multiple is not None else "该条款无罚款"
        why_en = "no loss found" if st.fine_multiple is not None else "the article sets no fine"
        raise InputError(
            f"{st.clause_zh}：{why_zh}，不得处以罚款（拟罚{_fmt_money(amount)}）",
            f"Art. {st.article}: {why_en}, so no fine may be imposed (proposed {amount})",
        )
    assert rng.fine_min is not None and rng.fine_max is not None
    assert rng.statutory_fine_min is not None and rng.statutory_fine_max is not None
    lo, hi = (
        (rng.statutory_fine_min, rng.statutory_fine_max)
        if allow_outside_discretion
        else (rng.fine_min, rng.fine_max)
    )
    if lo <= amount <= hi:
        return rng
    if rng.statutory_fine_min <= amount <= rng.statutory_fine_max:
        zh = (
            f"{st.clause_zh}：拟罚{_fmt_money(amount)}在法定幅度内，但超出裁量基准“{rng.circumstance}”情形的"
            f"{_fmt_money(rng.fine_min)}至{_fmt_money(rng.fine_max)}，应调整情节等级或说明理由"
        )
        en = (
            f"Art. {st.article}: fine {amount} is within the statutory range but outside the discretion band "
            f"'{rng.circumstance}' {rng.fine_min}–{rng.fine_max}; change the level or state the reason"
        )
    else:
        zh = (
            f"{st.clause_zh}：拟罚{_fmt_money(amount)}超出法定幅度{_fmt_money(rng.statutory_fine_min)}至"
            f"{_fmt_money(rng.statutory_fine_max)}（裁量基准“{rng.circumstance}”情形为{_fmt_money(rng.fine_min)}至"
            f"{_fmt_money(rng.fine_max)}）"
        )
        en = (
            f"Art. {st.article}: fine {amount} is outside the statutory range {rng.statutory_fine_min}–"
            f"{rng.statutory_fine_max} (discretion band '{rng.circumstance}': {rng.fine_min}–{rng.fine_max})"
        )
    raise InputError(zh, en)


def check_suspension(
    article: str | int, months: int, circumstance: str | None = None, table: DiscretionTable | None = None
) -> PenaltyRange:
    """Return the range when a suspension of ``months`` is allowed; raise ``InputError`` otherwise."""
    rng = penalty_range(article, 0, circumstance=circumstance, table=table)
    st = rng.statute
    allowed = rng.suspension_months
    if allowed is not None and allowed[0] <= months <= allowed[1]:
        return rng
    if allowed is None:
        raise InputError(
            f"{st.clause_zh}：“{rng.circumstance}”情形不适用暂停措施（拟暂停{months}个月）",
            f"Art. {st.article}: no suspension at level '{rng.circumstance}' (proposed {months} months)",
        )
    raise InputError(
        f"{st.clause_zh}：暂停期限应为{allowed[0]}至{allowed[1]}个月（拟暂停{months}个月）",
        f"Art. {st.article}: suspension must be {allowed[0]}–{allowed[1]} months (proposed {months})",
    )


def _party(party_type: str) -> str:
    if party_type not in PARTY_TYPES:
        raise InputError(
            f"未知的当事人类型：{party_type}（可选：organisation 单位、individual 个人）",
            f"unknown party type: {party_type} (organisation or individual)",
        )
    return party_type


def measure_code(name: str) -> str:
    """The code of a measure given as code or Chinese name (协议处理 or 行政处罚); unknown names pass through."""
    if name in MEASURES or name in ADMIN_MEASURES:
        return name
    for table in (MEASURES, ADMIN_MEASURES):
        for code, zh in table.items():
            if zh == name:
                return code
    return name


def _triggers(threshold: Threshold, amount: Decimal, party_type: str, measures: Iterable[str]) -> bool:
    limit = threshold.amount.get(_party(party_type))
    codes = {measure_code(str(m)) for m in measures}
    return (limit is not None and amount >= limit) or bool(threshold.measures & codes)


def hearing_required(
    fine: Decimal | int | str,
    *,
    party_type: str = "organisation",
    measures: Iterable[str] = (),
    table: DiscretionTable | None = None,
) -> bool:
    """Whether the party has the right to a 听证: the fine reaches the configured 较大数额 for its type, or a
    listed measure (suspension, termination, licence) is proposed."""
    tbl = table or default_table()
    return _triggers(tbl.hearing, _money(fine, "罚款金额", "fine"), party_type, measures)


def legal_review_required(
    recovery: Decimal | int | str,
    fine: Decimal | int | str,
    *,
    party_type: str = "organisation",
    measures: Iterable[str] = (),
    table: DiscretionTable | None = None,
) -> bool:
    """Whether 法制审核 is required before the decision: recovery + fine reach the configured amount, or a
    listed measure (e.g. 解除协议) is proposed."""
    tbl = table or default_table()
    total = _money(recovery, "追回金额", "recovery") + _money(fine, "罚款金额", "fine")
    return _triggers(tbl.legal_review, total, party_type, measures)
