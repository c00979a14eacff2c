"""Roles of the supervision workbench, their Chinese names and what each may do (permissions).

Permissions are plain strings; the workflow (``supervision.workflow``) names the roles allowed per action,
the service checks both plus region scope. Upper-level supervisors see lower levels (scope, not role).
"""

from __future__ import annotations

from dataclasses import dataclass

# permission names
CLUE_VIEW = "clue.view"
CLUE_IMPORT = "clue.import"
CLUE_REVIEW = "clue.review"  # 初审 / 复审 / 调查核实 / 处理
CLUE_APPEAL = "clue.appeal"  # the institution's 申诉
CLUE_TRANSFER = "clue.transfer"
CASE_VIEW = "case.view"
CASE_HANDLE = "case.handle"  # 立案, 调查取证, 告知, 决定, 送达, 执行, 结案
CASE_LEGAL_REVIEW = "case.legal_review"  # 法制审核
AGREEMENT = "agreement.handle"  # 协议处理 by the handling agency
REFERRAL = "referral.handle"
LEDGER_EXPORT = "ledger.export"
RECORD_VIEW = "record.view"
RULE_PAUSE = "rule.pause"
USER_MANAGE = "user.manage"
GRANT_MANAGE = "grant.manage"
UNMASKED = "patient.unmasked"  # may see patients' names and IDs

_SUPERVISOR = frozenset(
    {
        CLUE_VIEW, CLUE_IMPORT, CLUE_REVIEW, CLUE_TRANSFER, CASE_VIEW, CASE_HANDLE, AGREEMENT, REFERRAL,
        LEDGER_EXPORT, RECORD_VIEW, GRANT_MANAGE, UNMASKED,
    }
)  # fmt: skip


@dataclass(frozen=True)
class Role:
    code: str
    name_zh: str
    level: str  # the region level of the role's home scope: province / city / county / institution / any
    permissions: frozenset[str]


ROLES: dict[str, Role] = {
    r.code: r
    for r in (
        Role("province_supervisor", "省级监管员", "province", _SUPERVISOR | {RULE_PAUSE}),
        Role("city_supervisor", "市级监管员", "city", _SUPERVISOR),
        Role("county_supervisor", "县级监管员", "county", _SUPERVISOR),
        Role(
            "agency_reviewer",
            "经办审核员",
            "any",
            frozenset({CLUE_VIEW, CLUE_REVIEW, CASE_VIEW, AGREEMENT, LEDGER_EXPORT, UNMASKED}),
        ),
        Role(
            "legal_reviewer",
            "法制审核员",
            "any",
            frozenset({CLUE_VIEW, CASE_VIEW, CASE_LEGAL_REVIEW, LEDGER_EXPORT, RECORD_VIEW, UNMASKED}),
        ),
        Role("hospital", "医院医保办", "institution", frozenset({CLUE_VIEW, CLUE_APPEAL, UNMASKED})),
        Role("third_party_inspector", "第三方检查员", "any", frozenset({CLUE_VIEW, CASE_VIEW})),
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


def has_permission(role_code: str, permission: str) -> bool:
    r = ROLES.get(role_code)
    return bool(r and permission in r.permissions)
