"""Roles of the supervision workbench, their Chinese names and what each may read or manage (permissions).

Who may *move* an item (初审, 复审, 立案, 法制审核, 决定…) is said once, by the roles on each transition of the
process (``supervision.workflow``) and its separation-of-duties rules; the permissions here cover what is not a
transition: reading lists, importing and registering clues, creating referrals, exports, the record, rule
pauses, users and grants. Upper-level supervisors see lower levels (region scope, not role).
"""

from __future__ import annotations

from dataclasses import dataclass

# permission names
CLUE_VIEW = "clue.view"
CLUE_IMPORT = "clue.import"
CLUE_REGISTER = (
    "clue.register"  # register a clue from a complaint, an inspection, another department; answer transfers
)
CASE_VIEW = "case.view"
REFERRAL_VIEW = "referral.view"  # see and create referrals (移送)
LEDGER_EXPORT = "ledger.export"
RECORD_VIEW = "record.view"
RULE_PAUSE = "rule.pause"
USER_MANAGE = "user.manage"
GRANT_MANAGE = "grant.manage"
UNMASKED = "patient.unmasked"  # may see patients' names and IDs
INSPECTION_VIEW = "inspection.view"  # the registries (名录库) and the draws, published or not
INSPECTION_MANAGE = "inspection.manage"  # edit and import the registries, draw, redraw, publish
FLIGHT_VIEW = (
    "flight.view"  # see flight inspections in scope (a hospital: its own, once the notice is served)
)

_SUPERVISOR = frozenset(
    {
        CLUE_VIEW, CLUE_IMPORT, CLUE_REGISTER, CASE_VIEW, REFERRAL_VIEW, LEDGER_EXPORT, RECORD_VIEW, GRANT_MANAGE,
        UNMASKED,
    }
)  # fmt: skip


@dataclass(frozen=True)
class Role:
    code: str
    name_zh: str
    level: str  # the region level of the role's home scope: province / city / county / institution / any
    permissions: frozenset[str]


_INSPECTION = frozenset({INSPECTION_VIEW, INSPECTION_MANAGE, FLIGHT_VIEW})

ROLES: dict[str, Role] = {
    r.code: r
    for r in (
        Role("province_supervisor", "省级监管员", "province", _SUPERVISOR | {RULE_PAUSE} | _INSPECTION),
        Role("city_supervisor", "市级监管员", "city", _SUPERVISOR | _INSPECTION),
        Role("county_supervisor", "县级监管员", "county", _SUPERVISOR | _INSPECTION),
        Role(
            "bureau_head",
            "医保局负责人",
            "any",
            (_SUPERVISOR - {CLUE_IMPORT, GRANT_MANAGE}) | {INSPECTION_VIEW, FLIGHT_VIEW},
        ),
        Role(
            "agency_reviewer",
            "经办审核员",
            "any",
            frozenset({CLUE_VIEW, CASE_VIEW, LEDGER_EXPORT, UNMASKED}),
        ),
        Role(
            "legal_reviewer",
            "法制审核员",
            "any",
            frozenset({CLUE_VIEW, CASE_VIEW, LEDGER_EXPORT, RECORD_VIEW, UNMASKED}),
        ),
        Role("hospital", "医院医保办", "institution", frozenset({CLUE_VIEW, UNMASKED, FLIGHT_VIEW})),
        Role("third_party_inspector", "第三方检查员", "any", frozenset({CLUE_VIEW, CASE_VIEW, FLIGHT_VIEW})),
        Role(
            "admin",
            "管理员",
            "any",
            frozenset(
                {RECORD_VIEW, RULE_PAUSE, USER_MANAGE, GRANT_MANAGE, CLUE_IMPORT, LEDGER_EXPORT, CLUE_VIEW}
            ),
        ),
    )
}
SUPERVISOR_ROLES = ("province_supervisor", "city_supervisor", "county_supervisor")


def role(code: str) -> Role:
    from fundguard.core.errors import InputError

    if code not in ROLES:
        raise InputError(
            f"未知角色 {code}（可用：{', '.join(ROLES)}）", f"unknown role {code} (known: {', '.join(ROLES)})"
        )
    return ROLES[code]


def _grant(extras: dict[str, set[str]]) -> None:
    """Add a concept's permissions to the roles named (each concept below declares its own, beside its names)."""
    for code, permissions in extras.items():
        r = ROLES[code]
        ROLES[code] = Role(r.code, r.name_zh, r.level, r.permissions | permissions)


def has_permission(role_code: str, permission: str) -> bool:
    r = ROLES.get(role_code)
    return bool(r and permission in r.permissions)


# 医保支付资格记分 (issue 15): who reads the staff files (一人一档) and who registers, scores and imports.
# A hospital reads its own staff; third-party inspectors and the administrator read none.
POINTS_VIEW = "points.view"
POINTS_MANAGE = "points.manage"
_grant(
    {
        **{code: {POINTS_VIEW, POINTS_MANAGE} for code in SUPERVISOR_ROLES},
        "bureau_head": {POINTS_VIEW, POINTS_MANAGE},
        "agency_reviewer": {POINTS_VIEW},
        "legal_reviewer": {POINTS_VIEW},
        "hospital": {POINTS_VIEW},
    }
)

# 医保信用 (issue 15): grades, history and the blacklist. A hospital reads its own institution's and staff's
# grades (never insured persons'); third-party inspectors read them masked (persons' names and codes hidden), as
# they read clues: an inspection weighs the institution's credit.
CREDIT_VIEW = "credit.view"
CREDIT_MANAGE = "credit.manage"
_grant(
    {
        **{code: {CREDIT_VIEW, CREDIT_MANAGE} for code in SUPERVISOR_ROLES},
        "bureau_head": {CREDIT_VIEW, CREDIT_MANAGE},
        "agency_reviewer": {CREDIT_VIEW},
        "legal_reviewer": {CREDIT_VIEW},
        "hospital": {CREDIT_VIEW},
        "third_party_inspector": {CREDIT_VIEW},
    }
)

# 举报处理 and 举报奖励 (issue 16): handlers (supervisors) read and move reports in their region and see the facts
# only; the bureau head approves rewards and is the one designated role that may decrypt a reporter's identity
# (with a reason, each time logged). Reviewers, hospitals, third parties and the administrator see no reports.
REPORT_VIEW = "report.view"
REPORT_IDENTITY = "report.identity"
_grant(
    {
        **{code: {REPORT_VIEW} for code in SUPERVISOR_ROLES},
        "bureau_head": {REPORT_VIEW, REPORT_IDENTITY},
    }
)


# 信息公开, 部门协同, 异地就医 (issue 16): who drafts and reads disclosure items (the head approves through the
# process), and who sees the cross-region view (the place of treatment and the place of insurance, each in its own
# region). Hospitals and third-party inspectors see neither: they read the public pages like anyone.
DISCLOSURE_VIEW = "disclosure.view"
DISCLOSURE_MANAGE = "disclosure.manage"
CROSSREGION_VIEW = "crossregion.view"
_grant(
    {
        **{code: {DISCLOSURE_VIEW, DISCLOSURE_MANAGE, CROSSREGION_VIEW} for code in SUPERVISOR_ROLES},
        "bureau_head": {DISCLOSURE_VIEW, CROSSREGION_VIEW},
        "legal_reviewer": {DISCLOSURE_VIEW},
        "agency_reviewer": {CROSSREGION_VIEW},
    }
)


# 大数据模型线索 (issue 13): the leads page. Supervisors, the bureau head and third-party inspectors (masked) read
# the ranked leads in their scope; a hospital never sees the models' view of itself or of its patients (it sees a
# model clue only once notified), and reviewers, legal reviewers and the administrator have no use for them.
LEADS_VIEW = "leads.view"
_grant({code: {LEADS_VIEW} for code in (*SUPERVISOR_ROLES, "bureau_head", "third_party_inspector")})


# 专项整治 (issue 14): supervisors plan, draw and re-check; the head approves and reads; a hospital reads the
# campaigns it is in and files its own 自查自纠 return (never another institution's, nor whether it was drawn).
CAMPAIGN_VIEW = "campaign.view"
CAMPAIGN_MANAGE = "campaign.manage"
_grant(
    {
        **{code: {CAMPAIGN_VIEW, CAMPAIGN_MANAGE} for code in SUPERVISOR_ROLES},
        "bureau_head": {CAMPAIGN_VIEW},
        "hospital": {CAMPAIGN_VIEW},
    }
)
