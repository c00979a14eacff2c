"""The supervision processes as data: the national flagged-item flow (疑点处理), the administrative-penalty
case procedure (行政处罚程序) and referrals (移送). A process (``Machine``) is its states with Chinese names, its
transitions, and per transition: who may act — the roles *and* rules such as separation of duties
(``DifferentActor``, ``NotInvestigator``) —, the fields it needs (typed, with Chinese choices), the guard on
facts, and the procedure step it belongs to (time limits: ``steps`` → ``deadlines``). The roles named here
are the only place that says who may move an item: there are no separate permission strings for actions.

Pure functions: ``allowed_actions(machine, state, role, ctx)`` lists what a role can do now (an action a rule
refuses carries ``blocked_zh``, the reason); ``apply(machine, state, action, role, fields, ctx)`` validates
and returns the next state or raises ``InvalidTransition`` with the reason in Chinese and English. ``ctx``
carries the facts a guard or a rule needs: who is acting (``actor``, ``actor_names``), who did what before
(``history``: ``[(action, username), …]``), the case's officers, whether legal review or collective
discussion is required…; ``service.process`` supplies it from the database and applies the result.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from fundguard.core.errors import FundGuardError
from fundguard.supervision.penalties import ARTICLES_ZH, BEHAVIOURS, MEASURES
from fundguard.supervision.reports import OUTCOMES as _OUTCOMES
from fundguard.supervision.reports import REJECT_REASONS as _REJECT

SUPERVISORS = ("province_supervisor", "city_supervisor", "county_supervisor")
REVIEWERS = (*SUPERVISORS, "agency_reviewer")
HEAD = ("bureau_head",)  # 负责人: approves extensions, referrals and penalty decisions


class InvalidTransition(FundGuardError):
    """An action that the current state, the role or the supplied fields do not allow."""


class RoleNotAllowed(InvalidTransition):
    """The action exists in this state but the role may not take it."""


@dataclass(frozen=True)
class Field:
    """One input of a transition. ``choices`` are the stored codes; ``labels`` their Chinese names (shown
    everywhere instead of the code); ``source`` names choices the service fills in at read time (``officers``:
    the users holding a law-enforcement certificate in the actor's scope)."""

    name: str
    label_zh: str
    type: str = "text"  # text / textarea / money / date / int / choice / list / bool
    required: bool = True
    choices: tuple[str, ...] = ()
    labels: Mapping[str, str] | None = None
    source: str = ""

    def label(self, code: Any) -> str:
        return (self.labels or {}).get(str(code), str(code))

    def as_dict(self) -> dict:
        d: dict[str, Any] = {"name": self.name, "label_zh": self.label_zh, "type": self.type,
                             "required": self.required}  # fmt: skip
        if self.choices:
            d["choices"] = [{"value": c, "label_zh": self.label(c)} for c in self.choices]
        if self.source:
            d["source"] = self.source
        return d


Reason = tuple[str, str]  # (zh, en)


@dataclass(frozen=True)
class DifferentActor:
    """Separation of duties: the actor must not be the person who last took one of ``actions`` on the item
    (e.g. 复审 by someone other than the 初审 officer)."""

    actions: tuple[str, ...]
    zh: str
    en: str

    def check(self, fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
        last = [who for act, who in ctx.get("history") or () if act in self.actions]
        return (self.zh, self.en) if last and last[-1] == ctx.get("actor") else None


@dataclass(frozen=True)
class NotInvestigator:
    """Separation of duties: the actor (or, with ``field``, the person named in that field, e.g. the hearing
    host) must not be one of the case's investigating officers (``ctx['officers']``, usernames and names)."""

    zh: str
    en: str
    field: str = ""

    def check(self, fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
        officers = set(ctx.get("officers") or ()) | set(ctx.get("officer_names") or ())
        if self.field:
            who = {str(fields.get(self.field) or "").strip()}
        else:
            who = {ctx.get("actor"), *(ctx.get("actor_names") or ())}
        return (self.zh, self.en) if officers & who else None


Rule = DifferentActor | NotInvestigator


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
    rules: tuple[Rule, ...] = ()  # who may act beyond the role (separation of duties)
    offered: Callable[[Mapping[str, Any]], bool] | None = (
        None  # applies to this item at all (ctx); else unlisted
    )

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Machine:
    name: str
    states: dict[str, str]  # code → zh
    transitions: tuple[Transition, ...]
    final: tuple[str, ...] = ()
    steps: dict[str, str] = field(default_factory=dict)  # state → time-limit step name (deadlines.py)

    def by_action(self, action: str) -> list[Transition]:
        return [t for t in self.transitions if t.action == action]

    def label(self, action: str) -> str:
        ts = self.by_action(action)
        return ts[0].label_zh if ts else action

    def as_dict(self) -> dict:
        """The process for clients: states with Chinese names, final states, transitions and their forms."""
        return {
            "name": self.name,
            "states": [{"code": k, "label_zh": v, "final": k in self.final} for k, v in self.states.items()],
            "transitions": [
                {"action": t.action, "label_zh": t.label_zh, "sources": list(t.sources), "roles": list(t.roles),
                 "step_zh": t.step_zh, "fields": [f.as_dict() for f in t.fields]}
                for t in self.transitions
            ],
        }  # fmt: skip


SECOND_REVIEW = DifferentActor(
    ("initial_confirm",),
    "职责分离：复审须由初审以外的人员办理，您已办理本线索的初审",
    "separation of duties: the second review must be done by someone other than the first reviewer",
)


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
            rules=(SECOND_REVIEW,),
        ),
        Transition(
            "review_return",
            "退回初审",
            ("pending_review",),
            "pending_initial",
            REVIEWERS,
            (REASON,),
            step_zh="复审",
            rules=(SECOND_REVIEW,),
        ),
        Transition(
            "review_dismiss",
            "复审排除",
            ("pending_review",),
            "dismissed",
            REVIEWERS,
            (REASON,),
            step_zh="复审",
            rules=(SECOND_REVIEW,),
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
            (
                Field(
                    "psn_no", "对参保个人立案（条例第四十一条）：人员编号，对机构立案请留空", required=False
                ),
            ),
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
INTENT_ZH = {"none": "无骗取故意", "以骗取为目的": "以骗取为目的", "undetermined": "尚未认定"}
CLOSING_GROUNDS = {
    "executed": "执行完毕（退回基金已缴入基金账户，罚款已缴入国库）",
    "court": "已申请人民法院强制执行",
    "no_penalty": "不予行政处罚",
    "referred": "已移送司法机关",
}
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

NOT_INVESTIGATOR = NotInvestigator(
    "职责分离：案件审核、法制审核和处理决定不得由本案调查人员办理",
    "separation of duties: reviews and the decision must not be made by an investigating officer",
)


def _officers_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    officers = [o for o in (fields.get("officers") or []) if str(o).strip()]
    if len(set(officers)) < 2:
        return ("调查取证须有 2 名以上执法人员", "an investigation needs at least 2 officers")
    return None


def _finish_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    if len(ctx.get("officers") or []) < 2:
        return ("调查取证须有 2 名以上执法人员", "an investigation needs at least 2 officers")
    individual = ctx.get("party_type") == "individual"
    if individual != str(fields.get("behaviour_code", "")).startswith("A41"):
        return (
            ("对参保个人只能认定条例第四十一条的违法行为（A41_*）", "an individual's behaviour must be A41_*")
            if individual
            else (
                "条例第四十一条（A41_*）适用于参保个人，本案当事人是机构",
                "A41_* applies to individuals only",
            )
        )
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


def _close_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    """No case closes without execution: the grounds must match what is recorded (``ctx['execution']``)."""
    grounds, ex = fields.get("grounds"), ctx.get("execution") or {}
    decision = ctx.get("decision_type")
    if grounds == "executed":
        if decision != "处罚":
            return ("本案未作出处罚决定，结案理由不能为执行完毕", "no penalty decision: nothing to execute")
        if not ex.get("complete"):
            return (
                f"尚未执行完毕，不能结案：应退回 {ex.get('refund_due')} 元、已登记 {ex.get('refund_paid')} 元；"
                f"应缴罚款及加处罚款 {ex.get('fine_total_due')} 元、已登记 {ex.get('fine_paid')} 元",
                "execution is not complete: register the refund and fine payments (with vouchers) first",
            )
    elif grounds == "court":
        if decision != "处罚" or ex.get("complete"):
            return ("只有未履行的处罚决定才能申请法院强制执行", "only an unpaid penalty goes to court")
        if not ex.get("payment_overdue"):
            return ("缴款期限尚未届满，不能申请强制执行", "the payment period has not ended yet")
        if not fields.get("court_applied_on"):
            return ("请填写申请强制执行日期", "give the date the court enforcement was applied for")
    elif grounds == "no_penalty" and decision != "不予处罚":
        return ("本案的决定不是不予处罚", "the decision was not 'no penalty'")
    elif grounds == "referred" and not ctx.get("referred"):
        return ("本案尚无移送记录", "this case has no referral")
    return None


COURT_RULINGS = {
    "enforced": "法院裁定准予强制执行（执行款待登记）",
    "refused": "法院裁定不准予执行",
    "terminated": "法院终结执行",
}


def _closed_on_court(ctx: Mapping[str, Any]) -> bool:
    return ctx.get("closing_grounds") == "court"


def _resume_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    if not _closed_on_court(ctx):
        return (
            "只有以申请人民法院强制执行结案的案件可以恢复执行",
            "only a case closed on court enforcement resumes",
        )
    return None


def _after_review(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> str:
    return "legal_review" if ctx.get("needs_legal_review") else "prior_notice"


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
            (Field("officers", "执法人员（≥2 名，持执法证）", "list", source="officers"), COMMENT),
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
                Field(
                    "behaviour_code", "违法行为类别", "choice", choices=tuple(BEHAVIOURS), labels=BEHAVIOURS
                ),
                Field("loss_amount", "基金损失金额（元）", "money"),
                Field("intent", "主观故意认定", "choice", choices=INTENTS, labels=INTENT_ZH),
                Field("intent_evidence", "故意认定依据", "textarea", required=False),
                Field("evidence", "已收集的证据（每项一行或用逗号分隔）", "list"),
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
                Field("article", "处罚依据条款", "choice", choices=tuple(ARTICLES_ZH), labels=ARTICLES_ZH),
                Field(
                    "circumstance",
                    "情节（裁量基准等级）",
                    "choice",
                    required=False,
                    choices=("轻微", "一般", "严重"),
                ),
                Field("fine_amount", "拟罚款金额（元）", "money", required=False),
                Field("refund_amount", "拟责令退回金额（元）", "money", required=False),
                Field("suspension_months", "暂停服务月数", "int", required=False),
                Field(
                    "measures",
                    "协议处理措施",
                    "list",
                    required=False,
                    choices=tuple(MEASURES),
                    labels=MEASURES,
                ),
                Field("no_penalty", "不予处罚", "bool", required=False),
                COMMENT,
            ),
            step_zh="案件审核",
            rules=(NOT_INVESTIGATOR,),
        ),
        Transition(
            "return_investigation",
            "退回补充调查",
            ("case_review", "legal_review"),
            "investigating",
            (*HANDLERS, "legal_reviewer"),
            (REASON,),
            step_zh="案件审核",
            rules=(NOT_INVESTIGATOR,),
        ),
        Transition(
            "legal_review_pass",
            "法制审核通过",
            ("legal_review",),
            "prior_notice",
            ("legal_reviewer",),
            (COMMENT,),
            step_zh="法制审核",
            rules=(NOT_INVESTIGATOR,),
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
            rules=(
                NotInvestigator(
                    "听证主持人不得为本案调查人员",
                    "the hearing host must not be an investigator",
                    field="host",
                ),
            ),
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
            (*HANDLERS, *HEAD),
            (Field("participants", "参加人员", "list"), Field("comment", "讨论结论", "textarea")),
            step_zh="集体讨论",
        ),
        Transition(
            "decide",
            "负责人作出处理决定",
            ("deciding",),
            "serving",
            HEAD,
            (
                Field("decision_type", "决定类型", "choice", choices=("处罚", "不予处罚", "移送司法机关")),
                COMMENT,
            ),
            guard=_decide_guard,
            step_zh="决定",
            rules=(NOT_INVESTIGATOR,),
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
            "登记退回基金（缴入基金财政专户）",
            ("executing",),
            "executing",
            (*HANDLERS, "agency_reviewer"),
            (
                Field("amount", "退回金额（元）", "money"),
                Field("paid_on", "到账日期", "date"),
                Field("voucher_no", "凭证号"),
            ),
            step_zh="执行",
        ),
        Transition(
            "record_fine",
            "登记罚款缴入国库（含加处罚款）",
            ("executing",),
            "executing",
            HANDLERS,
            (
                Field("amount", "缴款金额（元）", "money"),
                Field("paid_on", "缴款日期", "date"),
                Field("voucher_no", "缴款书号"),
            ),
            step_zh="执行",
        ),
        Transition(
            "close",
            "结案归档",
            ("executing",),
            "closed",
            HANDLERS,
            (
                Field(
                    "grounds", "结案理由", "choice", choices=tuple(CLOSING_GROUNDS), labels=CLOSING_GROUNDS
                ),
                Field("court_applied_on", "申请强制执行日期", "date", required=False),
                COMMENT,
            ),
            guard=_close_guard,
            step_zh="结案",
        ),
        Transition(
            "resume_execution",
            "法院裁定后恢复执行（登记裁定）",
            ("closed",),
            "executing",
            HANDLERS,
            (
                Field("ruling", "法院裁定", "choice", choices=tuple(COURT_RULINGS), labels=COURT_RULINGS),
                Field("ruling_on", "裁定日期", "date"),
                Field("ruling_no", "裁定书文号"),
                COMMENT,
            ),
            guard=_resume_guard,
            step_zh="执行",
            offered=_closed_on_court,
        ),
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
            "负责人批准延长办案期限",
            OPEN_CASE_STATES,
            "",
            HEAD,
            (
                Field("days", "延长天数", "int"),
                Field("collective", "经集体讨论决定", "bool", required=False),
                REASON,
            ),
            step_zh="延期",
        ),
    ),
)

# ---------------------------------------------------------------- referral (移送, 两法衔接)

REFERRAL_TARGETS = ("公安", "纪检监察", "卫生健康", "市场监管", "药品监管", "财政")  # 药监, 财政: issue 16
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
            HEAD,
            (COMMENT,),
            step_zh="移送审批",
        ),
        Transition(
            "reject", "不予移送", ("pending_approval",), "rejected", HEAD, (REASON,), step_zh="移送审批"
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

# ---------------------------------------------------------------- flight inspection (飞行检查, 令第6号)

FLIGHT_TRIGGERS = {
    "annual_plan": "年度计划（双随机抽取）",
    "major_report": "重大举报",
    "model_lead": "智能监控/大数据重大风险",
    "media": "媒体曝光",
    "upper_assignment": "上级交办",
}
RECORD_KINDS = {"onsite": "现场笔录", "inquiry": "询问笔录", "evidence": "证据材料", "data": "数据调取"}

FLIGHT_STATES = {
    "planned": "方案待批",
    "approved": "方案已批准",
    "team_formed": "检查组已组建",
    "prepared": "预分析完成",
    "on_site": "现场检查",
    "feedback": "反馈意见（陈述申辩期）",
    "disputed": "有异议待集体研究",
    "decided": "检查结论已定",
    "rectifying": "移交与整改",
    "revisit": "回头看",
    "closed": "办结",
    "cancelled": "已撤销",
}


def _collective(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
    if ctx.get("disputed") and not fields.get("collective"):
        return ("机构提出异议的，须经集体研究决定", "a disputed finding must be decided collectively")
    return None


def _all_cleared(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
    """回头看 closes the inspection only when each of its problems is closed in the 清零 ledger (with evidence)."""
    n = int(ctx.get("open_problems") or 0)
    if n:
        return (f"回头看：尚有 {n} 个问题未清零，请在问题清零台账逐项附整改佐证销号；整改不到位的请选择“重新整改”",
                f"{n} problems of the inspection are still open in the ledger")  # fmt: skip
    return None


FLIGHT_FLOW = Machine(
    name="flight",
    states=FLIGHT_STATES,
    final=("closed", "cancelled"),
    steps={"feedback": "flight_feedback_statement", "rectifying": "flight_rectification_report"},
    transitions=(
        Transition("approve", "批准检查方案", ("planned",), "approved", HEAD, (COMMENT,), step_zh="方案"),
        Transition("cancel", "撤销检查", ("planned", "approved"), "cancelled", HEAD, (REASON,), step_zh="方案"),
        Transition(
            "form_team", "组建检查组", ("approved",), "team_formed", SUPERVISORS,
            (Field("leader", "组长（人员名录编号）", "int"),
             Field("members", "执法人员（人员名录编号，至少 2 名持证）", "list"),
             Field("experts", "专家与第三方人员（人员名录编号）", "list", required=False),
             Field("pledges", "全体成员已签署保密与廉洁承诺", "bool"), COMMENT),
            guard=lambda f, c: None if f.get("pledges") else ("全体成员须签署保密与廉洁承诺", "pledges must be signed"),
            step_zh="组建检查组",
        ),
        Transition("prepare", "完成预分析（生成疑点清单）", ("team_formed",), "prepared", SUPERVISORS, (COMMENT,),
                   step_zh="预分析"),
        Transition(
            "serve_notice", "送达飞行检查通知书", ("prepared",), "on_site", SUPERVISORS,
            (Field("notice_no", "通知书文号"), Field("served_to", "签收人"), COMMENT), step_zh="现场检查",
        ),
        Transition(
            "add_record", "记录笔录/证据", ("on_site",), "on_site", SUPERVISORS,
            (Field("kind", "类别", "choice", choices=tuple(RECORD_KINDS), labels=RECORD_KINDS),
             Field("summary", "内容摘要", "textarea"), Field("pages", "页数", "int", required=False),
             Field("signed", "已逐页签字确认", "bool")),
            guard=lambda f, c: None if f.get("signed") or f.get("kind") in ("evidence", "data")
            else ("笔录须经被检查人逐页签字确认", "records must be signed page by page"),
            step_zh="现场检查",
        ),
        Transition(
            "add_finding", "登记问题", ("on_site",), "on_site", SUPERVISORS,
            (Field("description", "问题描述", "textarea"), Field("amount", "涉及金额（元）", "money")),
            step_zh="现场检查",
        ),
        Transition("record_refusal", "记录拒不配合（第三十条临时措施）", ("on_site",), "on_site", SUPERVISORS,
                   (REASON,), step_zh="现场检查"),
        Transition("send_feedback", "送达书面反馈意见", ("on_site",), "feedback", SUPERVISORS,
                   (Field("feedback", "反馈意见", "textarea"),), step_zh="反馈"),
        Transition("submit_statement", "提交陈述申辩", ("feedback",), "disputed", ("hospital",),
                   (Field("statement", "陈述申辩意见", "textarea"),), step_zh="反馈"),
        Transition(
            "decide", "确定检查结论", ("feedback", "disputed"), "decided", HEAD,
            (Field("conclusion", "检查结论", "textarea"), Field("collective", "经集体研究", "bool", required=False)),
            guard=_collective, step_zh="反馈",
        ),
        Transition("hand_over", "移交属地医保部门（问题转为线索）", ("decided",), "rectifying", SUPERVISORS,
                   (COMMENT,), step_zh="移交"),
        Transition("submit_rectification", "提交整改报告", ("rectifying",), "revisit", ("hospital",),
                   (Field("report", "整改报告", "textarea"),), step_zh="整改"),
        Transition("close", "回头看：问题已整改，办结", ("revisit",), "closed", SUPERVISORS, (COMMENT,),
                   guard=_all_cleared, step_zh="回头看"),
        Transition("reopen", "回头看：整改不到位，重新整改", ("revisit",), "rectifying", SUPERVISORS,
                   (Field("problems", "重新整改的已清零问题（台账序号，可不填）", "list", required=False), REASON),
                   step_zh="回头看"),
    ),
)  # fmt: skip

MACHINES = {"flag": FLAG_FLOW, "case": CASE_FLOW, "referral": REFERRAL_FLOW}
MACHINES["flight"] = FLIGHT_FLOW


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, list | tuple) and not v)


def _code(f: Field, value: str) -> str:
    """A choice given as its code or its Chinese name → the code; anything else is refused."""
    if not f.choices:
        return value
    if value in f.choices:
        return value
    by_label = {f.label(c): c for c in f.choices}
    if value in by_label:
        return by_label[value]
    raise ValueError(value)


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
                items = re.split(r"[,，、\n]", v) if isinstance(v, str) else v
                v = [_code(f, str(s).strip()) for s in items if str(s).strip()]
            elif f.type == "bool":
                v = v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on", "是")
            elif f.type == "choice":
                v = _code(f, str(v).strip())
            else:
                v = str(v)
        except (ValueError, TypeError, InvalidOperation, AttributeError):
            known = f"（可选：{'、'.join(f.label(c) for c in f.choices)}）" if f.choices else ""
            raise InvalidTransition(
                f"「{t.label_zh}」的 {f.label_zh} 取值无效：{v}{known}",
                f"{t.action}: invalid {f.name}: {v!r}",
            ) from None
        out[f.name] = v
    return out


def refusal(t: Transition, fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
    """The first rule of ``t`` that refuses the actor in ``ctx`` (separation of duties), or None."""
    for rule in t.rules:
        reason = rule.check(fields, ctx)
        if reason:
            return reason
    return None


def allowed_actions(
    machine: Machine, state: str, role: str, ctx: Mapping[str, Any] | None = None
) -> list[dict]:
    """Actions ``role`` can take in ``state``. An action a rule refuses to this actor (separation of duties)
    is listed with ``blocked_zh``, the reason, so the workbench can say why; guards on fields run on ``apply``."""
    out = []
    for t in machine.transitions:
        if state not in t.sources or role not in t.roles:
            continue
        if t.offered and ctx is not None and not t.offered(ctx):
            continue
        item: dict[str, Any] = {
            "action": t.action,
            "label_zh": t.label_zh,
            "fields": [f.as_dict() for f in t.fields],
        }
        reason = refusal(t, {}, ctx or {}) if ctx is not None else None
        if reason:
            item["blocked_zh"] = reason[0]
        out.append(item)
    return out


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
    reason = refusal(t, values, ctx)
    if reason:
        raise RoleNotAllowed(*reason)
    if t.guard:
        reason = t.guard(values, ctx)
        if reason:
            raise InvalidTransition(*reason)
    target = t.target(values, ctx) if callable(t.target) else (t.target or state)
    return target, values, t


# ---------------------------------------------------------------- payment-qualification points (记分, 陈述申辩)

POINTS_STATES = {
    "notified": "已告知待陈述申辩",
    "reviewing": "陈述申辩复核中",
    "effective": "记分已生效",
    "revoked": "记分已撤销",
}
REPAIR_KINDS = ("学习培训", "约谈", "公益服务")


def _statement_period_over(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    due = ctx.get("statement_due")
    if due and ctx.get("today") and ctx["today"] <= due:
        return (f"陈述申辩期至 {due} 届满，期满后方可确认生效", f"the statement period runs until {due}")
    return None


POINTS_FLOW = Machine(
    name="points",
    states=POINTS_STATES,
    final=("revoked",),
    transitions=(
        Transition(
            "submit_statement",
            "提交陈述申辩",
            ("notified",),
            "reviewing",
            ("hospital", *SUPERVISORS),
            (Field("statement", "陈述申辩内容", "textarea"),),
            step_zh="陈述申辩",
        ),
        Transition(
            "waive",
            "放弃陈述申辩",
            ("notified",),
            "effective",
            ("hospital", *SUPERVISORS),
            (COMMENT,),
            step_zh="陈述申辩",
        ),
        Transition(
            "confirm",
            "申辩期满确认生效",
            ("notified",),
            "effective",
            SUPERVISORS,
            (COMMENT,),
            guard=_statement_period_over,
            step_zh="生效",
        ),
        Transition(
            "uphold",
            "申辩不成立，记分生效",
            ("reviewing",),
            "effective",
            SUPERVISORS,
            (REASON,),
            step_zh="复核",
        ),
        Transition(
            "reduce",
            "申辩部分成立，调减记分",
            ("reviewing",),
            "effective",
            SUPERVISORS,
            (Field("points", "调整后分值", "int"), REASON),
            step_zh="复核",
        ),
        Transition(
            "adopt", "申辩成立，撤销记分", ("reviewing",), "revoked", SUPERVISORS, (REASON,), step_zh="复核"
        ),
        Transition(
            "repair",
            "修复（学习培训/约谈/公益服务）",
            ("effective",),
            "effective",
            SUPERVISORS,
            (Field("kind", "修复方式", "choice", choices=REPAIR_KINDS), COMMENT),
            step_zh="修复",
        ),
    ),
)
MACHINES["points"] = POINTS_FLOW


# ---------------------------------------------------------------- 举报处理 and 举报奖励 (issue 16, 令第5号, 医保办发〔2022〕22号)

REPORT_STATES = {
    "registered": "待受理",
    "accepted": "已受理",
    "verifying": "核查中",
    "concluded": "已办结",
    "rejected": "不予受理",
    "merged": "已合并（重复举报）",
}
_NOTICE_CHANNELS = {"phone": "电话", "sms": "短信", "letter": "书面", "in_person": "当面"}
REPLY = Field("reply", "答复举报人（公开查询可见，不含举报人信息）", "textarea")

REPORT_FLOW = Machine(
    name="report",
    states=REPORT_STATES,
    final=("concluded", "rejected", "merged"),
    steps={"registered": "report_acceptance", "accepted": "assigned_clue", "verifying": "assigned_clue_complex"},
    transitions=(
        Transition("accept", "受理", ("registered",), "accepted", SUPERVISORS, (COMMENT,), step_zh="受理"),
        Transition(
            "reject", "不予受理", ("registered",), "rejected", SUPERVISORS,
            (Field("reason", "不予受理理由", "choice", choices=tuple(_REJECT), labels=_REJECT), REPLY),
            step_zh="受理",
        ),
        Transition(
            "transfer", "移交（按属地分派、上移或下交）", ("registered", "accepted"), "registered", SUPERVISORS,
            (Field("to_admdvs", "接收的医保区划代码"), REASON), step_zh="分派",
        ),
        Transition(
            "merge", "合并为重复举报", ("registered",), "merged", SUPERVISORS,
            (Field("duplicate_of", "与之重复的举报编号（数字）", "int"), COMMENT), step_zh="受理",
        ),
        Transition(
            "to_clue", "转为线索（进入疑点处理）", ("accepted",), "verifying", SUPERVISORS,
            (Field("fixmedins_code", "被举报定点机构编码"), Field("amount", "涉及金额（元）", "money", required=False),
             COMMENT), step_zh="核查",
        ),
        Transition(
            "to_inspection", "纳入监督检查", ("accepted",), "verifying", SUPERVISORS,
            (Field("inspection", "检查任务（编号或名称）"), COMMENT), step_zh="核查",
        ),
        Transition(
            "conclude", "办结并答复", ("verifying",), "concluded", SUPERVISORS,
            (Field("outcome", "核查结论", "choice", choices=tuple(_OUTCOMES), labels=_OUTCOMES), REPLY),
            step_zh="办结",
        ),
        Transition(
            "notify", "告知实名举报人", ("accepted", "verifying", "concluded", "rejected"), "", SUPERVISORS,
            (Field("channel", "告知方式", "choice", choices=tuple(_NOTICE_CHANNELS), labels=_NOTICE_CHANNELS),
             COMMENT), step_zh="告知",
        ),
    ),
)  # fmt: skip
MACHINES["report"] = REPORT_FLOW

REWARD_STATES = {
    "computed": "待审批",
    "approved": "已批准",
    "notified": "已通知待领取",
    "claimed": "已确认身份待发放",
    "paid": "已发放",
    "waived": "逾期视为放弃",
    "refused": "不予奖励",
}

REWARD_FLOW = Machine(
    name="reward",
    states=REWARD_STATES,
    final=("paid", "waived", "refused"),
    steps={"notified": "reward_claim"},
    transitions=(
        Transition("approve", "批准奖励", ("computed",), "approved", HEAD, (COMMENT,), step_zh="审批"),
        Transition("refuse", "不予奖励", ("computed",), "refused", HEAD, (REASON,), step_zh="审批"),
        Transition(
            "issue_notice", "发出奖励通知", ("approved",), "notified", SUPERVISORS,
            (Field("notice_no", "奖励通知文号"), COMMENT), step_zh="通知",
        ),
        Transition("claim", "举报人确认身份领取", ("notified",), "claimed", ("system",), (), step_zh="领取"),
        Transition("waive", "逾期未领取，视为放弃", ("notified",), "waived", ("system",), (), step_zh="领取"),
        Transition(
            "pay", "发放奖励（登记支付凭证）", ("claimed",), "paid", SUPERVISORS,
            (Field("voucher_no", "支付凭证号"), COMMENT), step_zh="发放",
        ),
    ),
)  # fmt: skip
MACHINES["reward"] = REWARD_FLOW


# ---------------------------------------------------------------- public disclosure (信息公开, issue 16)

DISCLOSURE_STATES = {
    "draft": "草稿",
    "reviewing": "待负责人审批",
    "approved": "已批准待发布",
    "published": "已发布",
    "withdrawn": "已撤回",
}
NOT_DRAFTER = DifferentActor(
    ("submit",),
    "职责分离：公开事项须由起草人以外的负责人审批",
    "separation of duties: a disclosure is approved by someone other than its drafter",
)
DISCLOSURE_FLOW = Machine(
    name="disclosure",
    states=DISCLOSURE_STATES,
    final=("withdrawn",),
    transitions=(
        Transition("submit", "提交审批", ("draft",), "reviewing", SUPERVISORS, (COMMENT,), step_zh="起草"),
        Transition("return", "退回修改", ("reviewing",), "draft", HEAD, (REASON,), step_zh="审批",
                   rules=(NOT_DRAFTER,)),
        Transition("approve", "批准公开", ("reviewing",), "approved", HEAD, (COMMENT,), step_zh="审批",
                   rules=(NOT_DRAFTER,)),
        Transition("publish", "发布", ("approved",), "published", SUPERVISORS, (COMMENT,), step_zh="发布"),
        Transition("withdraw", "撤回", ("published", "approved"), "withdrawn", HEAD, (REASON,), step_zh="撤回"),
    ),
)  # fmt: skip
MACHINES["disclosure"] = DISCLOSURE_FLOW


# ---------------------------------------------------------------- 信用修复 (credit repair, issue 15)

REPAIR_STATES = {
    "applied": "已申请待受理",
    "reviewing": "审核中",
    "proposed": "待负责人审批",
    "approved": "已同意修复",
    "rejected": "不予修复",
    "withdrawn": "已撤回",
}
NOT_APPLICANT = DifferentActor(
    ("apply",), "申请人不能审核本人提交的信用修复申请", "the applicant cannot review their own application"
)
NOT_REVIEWER = DifferentActor(
    ("recommend",), "审批人不能是审核人（审批分离）", "the approver must not be the reviewer"
)


def _clean_period_served(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> tuple[str, str] | None:
    """The minimum clean period (configured months since the last adverse fact) must have run."""
    eligible = ctx.get("eligible_on")
    if eligible and ctx.get("today") and ctx["today"] < eligible:
        return (f"自最近一次失信行为起未满规定期限，{eligible} 起方可修复",
                f"the clean period runs until {eligible}")  # fmt: skip
    return None


CREDIT_REPAIR_FLOW = Machine(
    name="credit_repair",
    states=REPAIR_STATES,
    final=("approved", "rejected", "withdrawn"),
    transitions=(
        Transition("accept", "受理", ("applied",), "reviewing", SUPERVISORS, (COMMENT,),
                   guard=_clean_period_served, step_zh="受理", rules=(NOT_APPLICANT,)),
        Transition("withdraw", "撤回申请", ("applied",), "withdrawn", ("hospital", *SUPERVISORS), (COMMENT,),
                   step_zh="申请"),
        Transition("return", "退回补正材料", ("reviewing",), "applied", SUPERVISORS, (REASON,), step_zh="审核",
                   rules=(NOT_APPLICANT,)),
        Transition("recommend", "审核通过，报负责人审批", ("reviewing",), "proposed", SUPERVISORS,
                   (Field("comment", "审核意见", "textarea"),), guard=_clean_period_served, step_zh="审核",
                   rules=(NOT_APPLICANT,)),
        Transition("approve", "同意信用修复", ("proposed",), "approved", HEAD, (COMMENT,),
                   guard=_clean_period_served, step_zh="决定", rules=(NOT_APPLICANT, NOT_REVIEWER)),
        Transition("reject", "不予修复", ("reviewing", "proposed"), "rejected", (*SUPERVISORS, *HEAD), (REASON,),
                   step_zh="决定", rules=(NOT_APPLICANT,)),
    ),
)  # fmt: skip
MACHINES["credit_repair"] = CREDIT_REPAIR_FLOW


# ---------------------------------------------------------------- 专项整治 (special campaigns, issue 14)

CAMPAIGN_THEMES = {
    "三假": "三假（假病人、假病情、假票据）",
    "骨科耗材": "骨科高值医用耗材",
    "血液透析": "血液透析",
    "异地就医": "异地就医",
    "医学影像": "医学影像检查",
    "康复理疗": "康复理疗",
    "药品串换": "药品耗材串换与倒卖",
    "其他": "其他",
}
CAMPAIGN_STATES = {
    "planned": "方案待批",
    "mobilising": "动员部署",
    "self_check": "自查自纠",
    "recheck": "抽查复查",
    "summary": "总结评估",
    "closed": "已结束",
    "cancelled": "已撤销",
}
RETURN_STATES = {
    "pending": "待自查",
    "reported": "已报送自查",
    "checked": "已复查待复核",
    "confirmed": "复查结果已确认",
}


def _future_date(name: str, zh: str) -> Guard:
    def guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
        day = fields.get(name)
        if day and ctx.get("today") and day <= ctx["today"]:
            return (f"{zh}须晚于今天", f"{name} must be after today")
        return None

    return guard


def _sample_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
    if not 1 <= int(fields.get("ratio") or 0) <= 100:
        return ("抽查比例应为 1–100（%）", "the sample ratio is a per cent from 1 to 100")
    if len(str(fields.get("seed_value") or "")) > 200:
        return ("随机种子值不超过 200 字", "the seed value has at most 200 characters")
    return None


MAX_AMOUNT = Decimal("1000000000000")  # one trillion yuan: beyond any institution, within the money column


def _amount_guard(name: str, zh: str) -> Guard:
    def guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
        if Decimal(fields.get(name) or 0) > MAX_AMOUNT:
            return (f"{zh}超出合理范围", f"{name} is out of range")
        return None

    return guard


def _all(*guards: Guard) -> Guard:
    def guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
        return next((r for g in guards if (r := g(fields, ctx))), None)

    return guard


def _all_checked(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
    left = int(ctx.get("unconfirmed") or 0)
    if left:
        return (f"尚有 {left} 家抽中机构的复查结果未确认，不能进入总结",
                f"{left} sampled institutions are not confirmed yet")  # fmt: skip
    return None


def _in_phase(phase: str) -> Guard:
    def guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
        if ctx.get("phase") != phase:
            now = CAMPAIGN_STATES.get(str(ctx.get("phase")), str(ctx.get("phase")))
            return (f"专项整治当前处于「{now}」阶段，不能办理此项（须在「{CAMPAIGN_STATES[phase]}」阶段）",
                    f"the campaign is in phase {ctx.get('phase')}, not {phase}")  # fmt: skip
        return None

    return guard


def _check_guard(fields: Mapping[str, Any], ctx: Mapping[str, Any]) -> Reason | None:
    reason = _in_phase("recheck")(fields, ctx)
    if reason:
        return reason
    if not ctx.get("selected"):
        return ("该机构未被抽中复查", "this institution was not drawn for re-checking")
    if int(fields.get("unreported") or 0) > len(fields.get("found") or ()):
        return ("未自查报告的问题数不能多于复查发现的问题数", "unreported problems exceed the problems found")
    return None


CAMPAIGN_FLOW = Machine(
    name="campaign",
    states=CAMPAIGN_STATES,
    final=("closed", "cancelled"),
    transitions=(
        Transition("approve", "批准整治方案（动员部署）", ("planned",), "mobilising", HEAD, (COMMENT,),
                   step_zh="动员部署"),
        Transition("cancel", "撤销专项整治", ("planned", "mobilising"), "cancelled", HEAD, (REASON,),
                   step_zh="动员部署"),
        Transition("open_self_check", "启动自查自纠", ("mobilising",), "self_check", SUPERVISORS,
                   (Field("self_check_due", "自查截止日期", "date"), COMMENT),
                   guard=_future_date("self_check_due", "自查截止日期"), step_zh="自查自纠"),
        Transition(
            "start_recheck", "结束自查，抽取复查机构", ("self_check",), "recheck", SUPERVISORS,
            (Field("seed_value", "随机种子值（事先确定，如见证人录入值）"), Field("ratio", "抽查比例（%）", "int"), COMMENT),
            guard=_sample_guard, step_zh="抽查复查",
        ),
        Transition("summarise", "形成总结报告", ("recheck",), "summary", SUPERVISORS,
                   (Field("summary", "总结（成效、典型案例、长效机制）", "textarea"),), guard=_all_checked,
                   step_zh="总结"),
        Transition("close", "审定总结，结束专项整治", ("summary",), "closed", HEAD, (COMMENT,), step_zh="总结"),
    ),
)  # fmt: skip

SELF_CHECK_FIELDS = (
    Field("problems", "自查发现的问题（每行一条）", "list", required=False),
    Field("refunded", "主动退回金额（元）", "money"),
    COMMENT,
)
CHECKER_CONFIRMS = DifferentActor(
    ("check",),
    "职责分离：复查结果须由复查人员以外的人员复核确认，您办理了本机构的复查",
    "separation of duties: the re-check must be confirmed by someone other than the officer who did it",
)

RETURN_FLOW = Machine(
    name="campaign_return",
    states=RETURN_STATES,
    final=("confirmed",),
    transitions=(
        Transition("submit_self_check", "报送自查自纠情况", ("pending",), "reported", ("hospital",),
                   SELF_CHECK_FIELDS, guard=_all(_in_phase("self_check"), _amount_guard("refunded", "主动退回金额")),
                   step_zh="自查自纠"),
        Transition("amend_self_check", "更正自查自纠情况", ("reported",), "reported", ("hospital",),
                   SELF_CHECK_FIELDS, guard=_all(_in_phase("self_check"), _amount_guard("refunded", "主动退回金额")),
                   step_zh="自查自纠"),
        Transition(
            "check", "登记复查结果", ("pending", "reported"), "checked", SUPERVISORS,
            (Field("found", "复查发现的问题（每行一条）", "list", required=False),
             Field("found_amount", "复查发现问题涉及金额（元）", "money"),
             Field("unreported", "其中未在自查中报告的问题数（请将这些问题列在最后）", "int"), COMMENT),
            guard=_all(_check_guard, _amount_guard("found_amount", "复查发现问题涉及金额")), step_zh="抽查复查",
        ),
        Transition("confirm", "复核确认复查结果", ("checked",), "confirmed", (*SUPERVISORS, *HEAD), (COMMENT,),
                   rules=(CHECKER_CONFIRMS,), step_zh="抽查复查"),
        Transition("send_back", "退回重新复查", ("checked",), "reported", (*SUPERVISORS, *HEAD), (REASON,),
                   rules=(CHECKER_CONFIRMS,), step_zh="抽查复查"),
    ),
)  # fmt: skip
MACHINES["campaign"] = CAMPAIGN_FLOW
MACHINES["campaign_return"] = RETURN_FLOW
