"""The supervision state machines as data: the national flagged-item flow (疑点处理) and the administrative-
penalty case procedure (行政处罚程序), with which role may take which action and the fields each needs.

Pure functions: ``allowed_actions(machine, state, role, ctx)`` lists what a role can do now;
``apply(machine, state, action, role, fields, ctx)`` validates and returns the next state or raises
``InvalidTransition`` with the reason in Chinese and English. ``ctx`` carries facts a guard needs (number
of officers, whether legal review or collective discussion is required, whether a hearing was requested…);
the service supplies it from the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from fundguard.core.errors import FundGuardError

SUPERVISORS = ("province_supervisor", "city_supervisor", "county_supervisor")
REVIEWERS = (*SUPERVISORS, "agency_reviewer")


class InvalidTransition(FundGuardError):
    """An action that the current state, the role or the supplied fields do not allow."""


class RoleNotAllowed(InvalidTransition):
    """The action exists in this state but the role may not take it."""


@dataclass(frozen=True)
class Field:
    name: str
    label_zh: str
    type: str = "text"  # text / textarea / money / date / int / choice / list / bool
    required: bool = True
    choices: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        d: dict[str, Any] = {"name": self.name, "label_zh": self.label_zh, "type": self.type,
                             "required": self.required}  # fmt: skip
        if self.choices:
            d["choices"] = list(self.choices)
        return d


Guard = Callable[[Mapping[str, Any], Mapping[str, Any]], tuple[str, str] | None]  # (fields, ctx) → reason


@dataclass(frozen=True)
class Transition:
    action: str
    label_zh: str
    sources: tuple[str, ...]
    target: (
        str | Callable[[Mapping[str, Any], Mapping[str, Any]], str]
    )  # a state, or chosen from (fields, ctx)
    roles: tuple[str, ...]
    fields: tuple[Field, ...] = ()
    guard: Guard | None = None
    step_zh: str = ""  # the procedure step this action belongs to (timeline)


@dataclass(frozen=True)
class Machine:
    name: str
    states: dict[str, str]  # code → zh
    transitions: tuple[Transition, ...]
    final: tuple[str, ...] = ()
    steps: dict[str, str] = field(default_factory=dict)  # state → time-limit step name (deadlines.py)

    def by_action(self, action: str) -> list[Transition]:
        return [t for t in self.transitions if t.action == action]


# ---------------------------------------------------------------- flagged-item flow (疑点处理)

COMMENT = Field("comment", "意见", "textarea", required=False)
REASON = Field("comment", "理由", "textarea", required=True)

FLAG_STATES = {
    "pending_initial": "待初审",
    "pending_review": "待复审",
    "pending_appeal": "待申诉",
    "appealing": "申诉中",
    "verifying": "调查核实",
    "pending_handling": "待处理",
    "case_opened": "已立案",
    "transferred": "已移交",
    "closed": "办结",
    "dismissed": "已排除",
}

FLAG_FLOW = Machine(
    name="flag",
    states=FLAG_STATES,
    final=("closed", "dismissed", "transferred"),
    steps={
        "pending_initial": "初审",
        "pending_review": "复审",
        "pending_appeal": "申诉",
        "appealing": "申诉",
        "verifying": "调查核实",
        "pending_handling": "处理",
    },
    transitions=(
        Transition(
            "initial_confirm",
            "初审确认疑点",
            ("pending_initial",),
            "pending_review",
            REVIEWERS,
            (COMMENT,),
            step_zh="初审",
        ),
        Transition(
            "initial_dismiss",
            "初审排除",
            ("pending_initial",),
            "dismissed",
            REVIEWERS,
            (REASON,),
            step_zh="初审",
        ),
        Transition(
            "review_confirm",
            "复审确认并告知机构",
            ("pending_review",),
            "pending_appeal",
            REVIEWERS,
            (COMMENT,),
            step_zh="复审",
        ),
        Transition(
            "review_return",
            "退回初审",
            ("pending_review",),
            "pending_initial",
            REVIEWERS,
            (REASON,),
            step_zh="复审",
        ),
        Transition(
            "review_dismiss",
            "复审排除",
            ("pending_review",),
            "dismissed",
            REVIEWERS,
            (REASON,),
            step_zh="复审",
        ),
        Transition(
            "appeal",
            "提交申诉",
            ("pending_appeal",),
            "appealing",
            ("hospital",),
            (Field("reason", "申诉理由", "textarea"),),
            step_zh="申诉",
        ),
        Transition(
            "accept",
            "无异议（认可疑点）",
            ("pending_appeal",),
            "verifying",
            ("hospital",),
            (COMMENT,),
            step_zh="申诉",
        ),
        Transition(
            "appeal_expired",
            "申诉期满未申诉",
            ("pending_appeal",),
            "verifying",
            REVIEWERS,
            (COMMENT,),
            guard=lambda f, c: (
                None
                if c.get("appeal_overdue", True)
                else ("申诉期尚未届满", "the appeal period has not ended")
            ),
            step_zh="申诉",
        ),
        Transition(
            "appeal_uphold",
            "申诉成立（排除疑点）",
            ("appealing",),
            "dismissed",
            REVIEWERS,
            (REASON,),
            step_zh="申诉",
        ),
        Transition(
            "appeal_reject", "申诉不成立", ("appealing",), "verifying", REVIEWERS, (REASON,), step_zh="申诉"
        ),
        Transition(
            "verify_confirm",
            "核实确认违规",
            ("verifying",),
            "pending_handling",
            REVIEWERS,
            (Field("confirmed_amount", "核实违规金额（元）", "money"), COMMENT),
            step_zh="调查核实",
        ),
        Transition(
            "verify_dismiss",
            "核实排除",
            ("verifying",),
            "dismissed",
            REVIEWERS,
            (REASON,),
            step_zh="调查核实",
        ),
        Transition(
            "agreement",
            "协议处理（追回等）并办结",
            ("pending_handling",),
            "closed",
            (*SUPERVISORS, "agency_reviewer"),
            (
                Field("measures", "协议处理措施", "list"),
                Field("recovered_amount", "追回金额（元）", "money", False),
                COMMENT,
            ),
            step_zh="处理",
        ),
        Transition(
            "open_case",
            "立案查处",
            ("pending_handling", "verifying"),
            "case_opened",
            SUPERVISORS,
            (),
            step_zh="处理",
        ),
        Transition(
            "transfer",
            "移交其他部门或地区",
            ("pending_initial", "pending_review", "verifying", "pending_handling"),
            "transferred",
            SUPERVISORS,
            (Field("to_admdvs", "接收区划", "text"), Field("to_department", "接收部门", "text"), REASON),
            step_zh="处理",
        ),
        Transition("case_closed", "案件结案，线索办结", ("case_opened",), "closed", ("system",), ()),
        Transition("transfer_returned", "移交被退回", ("transferred",), "pending_initial", ("system",), ()),
        Transition("transfer_accepted", "接收移交", ("transferred",), "pending_initial", ("system",), ()),
    ),
)

# ---------------------------------------------------------------- case procedure (行政处罚程序)

INTENTS = ("none", "以骗取为目的", "undetermined")
CASE_STATES = {
    "filed": "立案",
    "investigating": "调查取证",
    "case_review": "案件审核",
    "legal_review": "法制审核",
    "prior_notice": "事先告知",
    "statement": "陈述申辩",
    "hearing": "听证",
    "deciding": "决定",
    "serving": "送达",
    "executing": "执行",
    "closed": "结案",
}


def _officers_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    officers = [o for o in (fields.get("officers") or []) if str(o).strip()]
    if len(set(officers)) < 2:
        return ("调查取证须有 2 名以上执法人员", "an investigation needs at least 2 officers")
    return None


def _finish_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    if len(ctx.get("officers") or []) < 2:
        return ("调查取证须有 2 名以上执法人员", "an investigation needs at least 2 officers")
    if fields.get("intent") not in INTENTS:
        return (f"主观故意认定须为 {INTENTS} 之一", f"intent must be one of {INTENTS}")
    return None


def _hearing_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    if not ctx.get("hearing_eligible"):
        return ("本案拟处罚未达听证标准，不适用听证", "the proposed penalty is below the hearing thresholds")
    if ctx.get("hearing_request_overdue"):
        return ("已超过听证申请期限（告知后 5 日内）", "the 5-day period to request a hearing has passed")
    return None


def _hearing_date_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    r = _hearing_guard(fields, ctx)
    if r:
        return r
    try:
        hd = dt.date.fromisoformat(str(fields.get("hearing_date")))
    except ValueError:
        return ("听证日期格式应为 YYYY-MM-DD", "hearing_date must be YYYY-MM-DD")
    today = ctx.get("today") or dt.date.today()
    if (hd - today).days < int(ctx.get("hearing_notice_days", 7)):
        return ("听证日期须在通知后至少 7 日", "the hearing must be notified at least 7 days before")
    return None


def _decide_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    if ctx.get("major") and not ctx.get("collective_discussed"):
        return ("重大案件须经集体讨论后决定", "a major case must be discussed collectively before deciding")
    return None


def _statement_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    if ctx.get("statement_open") and not fields.get("waived"):
        return (
            "陈述申辩期尚未届满（当事人放弃的请勾选）",
            "the statement period has not ended (tick if waived)",
        )
    return None


def _after_review(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> str:
    return "legal_review" if ctx.get("needs_legal_review") else "prior_notice"


def _after_decide(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> str:
    return "serving"


OPEN_CASE_STATES = tuple(s for s in CASE_STATES if s != "closed")
HANDLERS = SUPERVISORS

CASE_FLOW = Machine(
    name="case",
    states=CASE_STATES,
    final=("closed",),
    transitions=(
        Transition(
            "start_investigation",
            "指派执法人员，开始调查取证",
            ("filed",),
            "investigating",
            HANDLERS,
            (Field("officers", "执法人员（≥2 名）", "list"), COMMENT),
            guard=_officers_guard,
            step_zh="立案",
        ),
        Transition(
            "finish_investigation",
            "调查终结，提交审核",
            ("investigating",),
            "case_review",
            HANDLERS,
            (
                Field("findings", "违法事实", "textarea"),
                Field("behaviour_code", "违法行为类别（A38_1 等）"),
                Field("loss_amount", "基金损失金额（元）", "money"),
                Field("intent", "主观故意认定", "choice", choices=INTENTS),
                Field("intent_evidence", "故意认定依据", "textarea", required=False),
            ),
            guard=_finish_guard,
            step_zh="调查取证",
        ),
        Transition(
            "propose",
            "案件审核：拟处理意见",
            ("case_review",),
            _after_review,
            HANDLERS,
            (
                Field("article", "处罚依据条款（37–41、41_fraud）"),
                Field("circumstance", "情节（裁量基准等级：轻微、一般、严重）", required=False),
                Field("fine_amount", "拟罚款金额（元）", "money", required=False),
                Field("refund_amount", "拟责令退回金额（元）", "money", required=False),
                Field("suspension_months", "暂停服务月数", "int", required=False),
                Field("measures", "协议处理措施", "list", required=False),
                Field("no_penalty", "不予处罚", "bool", required=False),
                COMMENT,
            ),
            step_zh="案件审核",
        ),
        Transition(
            "return_investigation",
            "退回补充调查",
            ("case_review", "legal_review"),
            "investigating",
            (*HANDLERS, "legal_reviewer"),
            (REASON,),
            step_zh="案件审核",
        ),
        Transition(
            "legal_review_pass",
            "法制审核通过",
            ("legal_review",),
            "prior_notice",
            ("legal_reviewer",),
            (COMMENT,),
            step_zh="法制审核",
        ),
        Transition(
            "issue_notice",
            "送达事先告知书",
            ("prior_notice",),
            "statement",
            HANDLERS,
            (Field("notice_date", "告知日期", "date"), COMMENT),
            step_zh="事先告知",
        ),
        Transition(
            "record_statement",
            "记录陈述申辩",
            ("statement",),
            "statement",
            HANDLERS,
            (Field("comment", "陈述申辩内容", "textarea"),),
            step_zh="陈述申辩",
        ),
        Transition(
            "request_hearing",
            "当事人申请听证（安排听证）",
            ("statement",),
            "hearing",
            HANDLERS,
            (Field("hearing_date", "听证日期", "date"), Field("host", "听证主持人（非调查人员）"), COMMENT),
            guard=_hearing_date_guard,
            step_zh="听证",
        ),
        Transition(
            "statement_done",
            "陈述申辩期结束",
            ("statement",),
            "deciding",
            HANDLERS,
            (Field("waived", "当事人放弃陈述申辩", "bool", required=False), COMMENT),
            guard=_statement_guard,
            step_zh="陈述申辩",
        ),
        Transition(
            "hearing_held",
            "听证结束",
            ("hearing",),
            "deciding",
            HANDLERS,
            (Field("comment", "听证笔录要点", "textarea"),),
            step_zh="听证",
        ),
        Transition(
            "collective_discussion",
            "集体讨论",
            ("deciding",),
            "deciding",
            HANDLERS,
            (Field("participants", "参加人员", "list"), Field("comment", "讨论结论", "textarea")),
            step_zh="集体讨论",
        ),
        Transition(
            "decide",
            "作出处理决定",
            ("deciding",),
            _after_decide,
            HANDLERS,
            (
                Field("decision_type", "决定类型", "choice", choices=("处罚", "不予处罚", "移送司法机关")),
                COMMENT,
            ),
            guard=_decide_guard,
            step_zh="决定",
        ),
        Transition(
            "serve",
            "送达决定书",
            ("serving",),
            "executing",
            HANDLERS,
            (
                Field("served_on", "送达日期", "date"),
                Field(
                    "method",
                    "送达方式",
                    "choice",
                    choices=("直接送达", "留置送达", "邮寄送达", "电子送达", "公告送达"),
                ),
                COMMENT,
            ),
            step_zh="送达",
        ),
        Transition(
            "record_refund",
            "登记退回基金",
            ("executing",),
            "executing",
            (*HANDLERS, "agency_reviewer"),
            (
                Field("amount", "退回金额（元）", "money"),
                Field("paid_on", "到账日期", "date"),
                Field("voucher_no", "凭证号", required=False),
            ),
            step_zh="执行",
        ),
        Transition(
            "record_fine",
            "登记罚款缴入国库",
            ("executing",),
            "executing",
            HANDLERS,
            (
                Field("amount", "罚款金额（元）", "money"),
                Field("paid_on", "缴款日期", "date"),
                Field("voucher_no", "缴款书号", required=False),
            ),
            step_zh="执行",
        ),
        Transition("close", "结案归档", ("executing",), "closed", HANDLERS, (COMMENT,), step_zh="结案"),
        Transition(
            "terminate",
            "终止调查（不予立案处罚/移送）",
            ("filed", "investigating", "case_review"),
            "closed",
            HANDLERS,
            (REASON,),
            step_zh="结案",
        ),
        Transition(
            "extend",
            "延长办案期限",
            OPEN_CASE_STATES,
            "",
            HANDLERS,
            (
                Field("days", "延长天数", "int"),
                Field("approved_by", "批准人"),
                Field("collective", "经集体讨论决定", "bool", required=False),
                REASON,
            ),
            step_zh="延期",
        ),
    ),
)

# ---------------------------------------------------------------- referral (移送, 两法衔接)

REFERRAL_TARGETS = ("公安", "纪检监察", "卫生健康", "市场监管")
REFERRAL_STATES = {
    "pending_approval": "待负责人审批",
    "approved": "已批准待移送",
    "sent": "已移送",
    "received": "已签收",
    "accepted": "已立案/已受理",
    "declined": "不予立案/不予受理",
    "reconsidering": "提请复议中",
    "rejected": "不予移送",
}
REFERRAL_FLOW = Machine(
    name="referral",
    states=REFERRAL_STATES,
    final=("accepted", "rejected"),
    steps={"pending_approval": "referral_head_decision", "sent": "police_review"},
    transitions=(
        Transition(
            "approve",
            "负责人批准移送",
            ("pending_approval",),
            "approved",
            SUPERVISORS,
            (Field("approved_by", "批准人"), COMMENT),
            step_zh="移送审批",
        ),
        Transition(
            "reject",
            "不予移送",
            ("pending_approval",),
            "rejected",
            SUPERVISORS,
            (REASON,),
            step_zh="移送审批",
        ),
        Transition(
            "send",
            "移送并送达案卷",
            ("approved",),
            "sent",
            SUPERVISORS,
            (Field("receiver", "接收机关"), COMMENT),
            step_zh="移送",
        ),
        Transition(
            "receipt",
            "登记接收回执",
            ("sent",),
            "received",
            SUPERVISORS,
            (Field("receipt_no", "回执编号"), Field("receipt_by", "签收人"), COMMENT),
            step_zh="回执",
        ),
        Transition(
            "accept",
            "接收机关立案/受理",
            ("received", "reconsidering"),
            "accepted",
            SUPERVISORS,
            (Field("outcome", "结果说明", "textarea"),),
            step_zh="结果",
        ),
        Transition(
            "decline",
            "接收机关不予立案/受理",
            ("received", "reconsidering"),
            "declined",
            SUPERVISORS,
            (Field("outcome", "结果说明", "textarea"),),
            step_zh="结果",
        ),
        Transition(
            "request_reconsideration",
            "提请复议",
            ("declined",),
            "reconsidering",
            SUPERVISORS,
            (REASON,),
            step_zh="复议",
        ),
    ),
)

MACHINES = {"flag": FLAG_FLOW, "case": CASE_FLOW, "referral": REFERRAL_FLOW}


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, list | tuple) and not v)


def check_fields(t: Transition, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Required fields present and typed; returns the normalised values."""
    out: dict[str, Any] = {}
    for f in t.fields:
        v = fields.get(f.name)
        if _empty(v):
            if f.required:
                raise InvalidTransition(
                    f"「{t.label_zh}」缺少必填项：{f.label_zh}", f"{t.action}: {f.name} is required"
                )
            continue
        try:
            if f.type == "money":
                v = Decimal(str(v))
                if v < 0 or not v.is_finite():
                    raise ValueError
            elif f.type == "int":
                v = int(v)
                if v < 0:
                    raise ValueError
            elif f.type == "date":
                v = v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
            elif f.type == "list":
                v = [
                    s.strip()
                    for s in (v.replace("，", ",").split(",") if isinstance(v, str) else v)
                    if str(s).strip()
                ]
            elif f.type == "bool":
                v = v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on", "是")
            elif f.type == "choice" and v not in f.choices:
                raise ValueError
            else:
                v = str(v)
        except (ValueError, TypeError, InvalidOperation, AttributeError):
            raise InvalidTransition(
                f"「{t.label_zh}」的 {f.label_zh} 取值无效：{v!r}", f"{t.action}: invalid {f.name}: {v!r}"
            ) from None
        out[f.name] = v
    return out


def allowed_actions(
    machine: Machine, state: str, role: str, ctx: Mapping[str, Any] | None = None
) -> list[dict]:
    """Actions ``role`` can take in ``state`` (guards depending on fields are checked on ``apply``)."""
    return [
        {"action": t.action, "label_zh": t.label_zh, "fields": [f.as_dict() for f in t.fields]}
        for t in machine.transitions
        if state in t.sources and role in t.roles
    ]


def apply(machine: Machine, state: str, action: str, role: str, fields: Mapping[str, Any] | None = None,
          ctx: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any], Transition]:  # fmt: skip
    """Validate ``action`` by ``role`` in ``state``: returns ``(next state, normalised fields, transition)``."""
    fields, ctx = fields or {}, ctx or {}
    candidates = machine.by_action(action)
    if not candidates:
        raise InvalidTransition(f"未知操作：{action}", f"unknown action: {action}")
    t = next((c for c in candidates if state in c.sources), None)
    state_zh = machine.states.get(state, state)
    if t is None:
        allowed = "、".join(machine.states[s] for s in candidates[0].sources)
        raise InvalidTransition(
            f"当前状态「{state_zh}」不能执行「{candidates[0].label_zh}」（仅适用于：{allowed}）",
            f"action {action} is not allowed in state {state} (allowed in: {', '.join(candidates[0].sources)})",
        )
    if role not in t.roles:
        raise RoleNotAllowed(
            f"您的角色不能在「{state_zh}」执行「{t.label_zh}」",
            f"role {role} cannot {action} in state {state}",
        )
    values = check_fields(t, fields)
    if t.guard:
        reason = t.guard(values, ctx)
        if reason:
            raise InvalidTransition(*reason)
    target = t.target(values, ctx) if callable(t.target) else (t.target or state)
    return target, values, t
