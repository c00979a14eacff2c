"""The real-time auditor's process: what runs there, and why it is a process.

The web server is one Python process; the auditor spends much of a claim in Python (validation, history
slices, Arrow) holding the interpreter lock, so auditing in a thread of the web process slowed every
workbench request while real time was busy. Here the auditor lives in a process of its own
(``RealtimeGuard`` starts it with ``init``): the web process only passes the request's bytes over and gets
an answer back, so the workbench keeps its interpreter.

``run(route, body, stage, code)`` parses the body (``realtime_guard.parse_json``), checks that the claim is
institution ``code``'s (an absent ``fixmedins_code`` is taken to be it), audits it, cuts the answer to what
the institution may know (``realtime_guard.disclose``) and returns ``(status, answer, seen)`` — the answer
already encoded as JSON here (``realtime_guard.encode``), so that the web process neither unpickles nor re-encodes it;
``seen`` is the patient, visit and hit count for the call log. Errors come back as statuses with a bilingual ``detail``, never
as exceptions (they would have to cross the process boundary).

The auditor is built on first use from the workspace and the national rules plus the bureau's rule files,
for 事前 and 事中 at once; every ``STALE_CHECK_SECONDS`` (env ``FUNDGUARD_RT_STALE_SECONDS``) a call checks
whether the store has new imports and reloads the history.
"""

from __future__ import annotations

import logging
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from fundguard.api.realtime_guard import disclose, encode, parse_json
from fundguard.core.errors import FundGuardError, InputError
from fundguard.core.settings import settings
from fundguard.data.store import Store
from fundguard.engine.payload3101 import parse_3101, response_3101
from fundguard.engine.realtime import RealtimeAuditor
from fundguard.rules import load_rules, national_rule_files, workspace_rule_files

STAGES = ("事前", "事中")
log = logging.getLogger(__name__)

_state: dict[str, Any] = {}


class OtherInstitution(FundGuardError):
    """A claim of another institution than the key's."""


def init(workspace: str, rule_files: list[str]) -> None:
    """Set the process up (the pool's initializer); the auditor itself is built by the first call.

    The process runs below the web server's CPU priority (``FUNDGUARD_RT_NICE``, default 5): a saturated
    auditor then cannot take the cores the workbench needs; with cores to spare it changes nothing."""
    os.nice(settings().rt_nice)
    setup(workspace, rule_files)


def setup(workspace: str, rule_files: list[str]) -> None:
    """Say which workspace and rule files the calls of this process audit with (``init`` without the lower
    priority: a benchmark times ``run`` in its own process)."""
    _state.update(
        workspace=Path(workspace), rule_files=[Path(p) for p in rule_files], auditor=None, checked=None,
        stale_seconds=settings().rt_stale_seconds,
    )  # fmt: skip


def auditor() -> RealtimeAuditor:
    """The process's auditor (built on first use; history reloaded when the store has changed)."""
    if _state.get("auditor") is None:
        workspace = _state["workspace"]
        if not Store(workspace).root.exists():  # answer at once, without loading the rules
            raise FundGuardError(f"工作区 {workspace} 没有数据仓", f"workspace {workspace} has no store")
        try:
            # the workspace's own files last, as `fundguard audit` does (rules paused by a maintainer)
            rules = load_rules(
                [*national_rule_files(), *_state["rule_files"], *workspace_rule_files(workspace)]
            )
            _state["auditor"] = RealtimeAuditor(workspace, rules, stage=STAGES)
        except InputError as e:  # no store: the service cannot audit, the claim is not at fault
            raise FundGuardError(e.zh, e.en) from None
        _state["checked"] = time.monotonic()
    a: RealtimeAuditor = _state["auditor"]
    now = time.monotonic()
    if now - _state["checked"] >= _state["stale_seconds"]:
        _state["checked"] = now
        if a.stale():
            a.refresh()
    return a


def run(route: str, body: bytes, stage: str, code: str) -> tuple[int, bytes, dict]:
    """One call of ``route`` (``claim`` or ``3101``) by institution ``code``: (status, JSON answer, seen)."""
    status, answer, seen = _run(route, body, stage, code)
    try:
        return status, encode(answer), seen
    except (TypeError, ValueError):  # a value JSON cannot carry: the caller gets the 500, not a broken body
        log.exception("real-time answer not encodable")
        return 500, encode(_INTERNAL), seen


def _run(route: str, body: bytes, stage: str, code: str) -> tuple[int, dict, dict]:
    seen: dict[str, Any] = {}
    invalid = "invalid_3101" if route == "3101" else "invalid_claim"
    try:
        payload = parse_json(body)
        out = _claim(payload, stage, code, seen) if route == "claim" else _3101(payload, code, seen)
        return 200, out, seen
    except InputError as e:
        return 422, _detail("invalid_stage" if route == "claim" and stage not in STAGES else invalid, e), seen
    except OtherInstitution as e:
        return 403, _detail("other_institution", e), seen
    except FundGuardError as e:
        return 503, _detail("auditor_unavailable", e), seen
    except Exception:
        log.exception("real-time audit failed")
        return 500, _INTERNAL, seen


_INTERNAL = {"detail": {"code": "internal", "zh": "实时审核内部错误，已记录",
                        "en": "internal error in the real-time audit; logged"}}  # fmt: skip


def _detail(code: str, e: FundGuardError) -> dict:
    return {"detail": {"code": code, "zh": e.zh, "en": e.en}}


def _claim(payload: Any, stage: str, code: str, seen: dict) -> dict:
    if stage not in STAGES:
        raise InputError(
            f"审核阶段应为 {'、'.join(STAGES)}（收到 {stage}）", f"stage must be 事前 or 事中 (got {stage})"
        )
    visits = payload.get("mdtrt_d") if isinstance(payload, dict) else None
    if isinstance(visits, list) and visits and isinstance(visits[0], dict):  # logged whatever follows
        seen["psn_no"], seen["mdtrt_id"] = (_text(visits[0].get(k)) for k in ("psn_no", "mdtrt_id"))
    _own(payload, code)
    a = auditor()
    hits = a.audit(payload, stage=stage)
    visit = payload["mdtrt_d"][0]
    sns = _claim_sns(payload)
    out = [_hit_json(disclose(h, a.rule_by_id[h["rule_id"]], sns), a) for h in hits]
    seen["hits"] = len(out)
    seen["who"] = [who(payload, visit.get("psn_no"))]
    return {
        "mdtrt_id": visit.get("mdtrt_id"),
        "psn_no": visit.get("psn_no"),
        "stage": stage,
        "hit_count": len(out),
        "amount_total": format(sum((Decimal(h["amount"]) for h in out), Decimal("0.00")), "f"),
        "hits": out,
        "audit_ms": {**a.last_timings, "store": a.fingerprint[:12]},
    }


def _3101(payload: Any, code: str, seen: dict) -> dict:
    if isinstance(payload, dict) and isinstance(payload.get("input"), dict):
        payload.setdefault("fixmedins_code", code)  # the envelope names the institution for its encounters
    a = auditor()
    req = parse_3101(payload, set(a.rule_by_id))
    seen["psn_no"] = ",".join(c.patn_id for c in req.claims)
    seen["mdtrt_id"] = ",".join(c.mdtrt_id for c in req.claims)
    for c in req.claims:
        _own(c.claim, code)
    t0 = time.perf_counter()
    per_claim = []
    for c in req.claims:
        sns = _claim_sns(c.claim)
        hits = a.audit_parsed(c.claim, stage=req.stage)
        per_claim.append(
            [
                disclose(h, a.rule_by_id[h["rule_id"]], sns)
                for h in hits
                if not req.rule_ids or h["rule_id"] in req.rule_ids
            ]
        )
    seen["hits"] = sum(map(len, per_claim))
    seen["who"] = [who(c.claim, c.patn_id) for c in req.claims]
    seen["stage"] = req.stage
    return response_3101(req, per_claim, a.rule_by_id, 1000 * (time.perf_counter() - t0))


def _own(payload: Any, code: str) -> None:
    """Check that the claim is the institution's; fill ``fixmedins_code`` where the HIS left it out."""
    if not isinstance(payload, dict):
        return  # ``claim_tables`` says what is wrong with it
    for name in ("mdtrt_d", "fee_list_d", "setl_d"):
        rows = payload.get(name)
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, dict):
                continue
            got = row.get("fixmedins_code")
            if got is None or (isinstance(got, str) and not got.strip()):
                row["fixmedins_code"] = code
            elif str(got).strip() != code:
                raise OtherInstitution(
                    f"{name} 的定点医药机构编号 {got} 与接口密钥所属机构 {code} 不符",
                    f"{name} fixmedins_code {got} is not the key's institution {code}",
                )


_LINE_FIELDS = ("bkkp_sn", "bilg_dr_code", "bilg_dr_name", "acord_dr_code", "fee_ocur_time",
                "det_item_fee_sumamt", "hilist_code")  # fmt: skip


def who(claim: dict, psn_no: Any) -> dict:
    """The patient and the doctors a claim names: enough for the API layer to tell whether its checks
    (``realtime_points``) concern the claim at all (``realtime_standing``) — almost never; when they do it
    asks ``staff`` for the full summary."""
    doctors = set()
    for r in claim.get("fee_list_d") or []:
        if isinstance(r, dict):
            doctors.add(_text(r.get("bilg_dr_code")))
            doctors.add(_text(r.get("acord_dr_code")))
    doctors.discard(None)
    return {"psn_no": _text(psn_no) or "", "doctors": doctors}


def staff(route: str, body: bytes, code: str) -> list[dict]:
    """``staff_lines`` of each claim of a call ``run`` has answered with 200 (the body parsed again: asked
    only for the rare claim that names a flagged doctor or a patient on file)."""
    payload = parse_json(body)
    if route == "claim":
        _own(payload, code)
        return [staff_lines(payload, code)]
    payload.setdefault("fixmedins_code", code)
    req = parse_3101(payload, set(auditor().rule_by_id))
    return [{**staff_lines(c.claim, code), "psn_no": c.patn_id, "task_id": req.task_id} for c in req.claims]


def staff_lines(claim: dict, code: str) -> dict:
    """What the API layer's 医保支付资格 check (``realtime_points``) needs of an audited claim: the visit, its
    day and medical type, and each fee line's doctors, day and amount (plain strings, to cross processes)."""
    visit = claim["mdtrt_d"][0]
    med_type = _text(visit.get("med_type")) or ""
    lines = [
        {**{f: _text(r.get(f)) or "" for f in _LINE_FIELDS}, "med_type": med_type}
        for r in claim.get("fee_list_d") or []
        if isinstance(r, dict)
    ]
    return {"mdtrt_id": _text(visit.get("mdtrt_id")) or "", "psn_no": _text(visit.get("psn_no")) or "",
            "fixmedins_code": code, "day": _text(visit.get("begntime")) or "", "lines": lines}  # fmt: skip


def _text(v: Any) -> str | None:
    return None if v is None or isinstance(v, dict | list) else str(v)


def _claim_sns(claim: dict) -> set[str]:
    return {str(r.get("bkkp_sn")) for r in claim.get("fee_list_d") or [] if isinstance(r, dict)}


def _hit_json(hit: dict, a: RealtimeAuditor) -> dict:
    rule = a.rule_by_id[hit["rule_id"]]
    amount = hit["amount"] if hit["amount"] is not None else Decimal(0)
    return {
        "rule_id": rule.id,
        "rule_name": rule.name_zh,
        "evidence_zh": hit["evidence_zh"],
        "amount": format(Decimal(amount).quantize(Decimal("0.01")), "f"),
        "result_type": rule.result_type,
        "severity": rule.severity,
        "legal_basis": rule.legal_basis,
        "suggested_handling": rule.suggested_handling,
        "mdtrt_id": hit["mdtrt_id"],
        "psn_no": hit["psn_no"],
        "fixmedins_code": hit["fixmedins_code"],
        "hilist_code": hit["hilist_code"],
        "bkkp_sn": list(hit["bkkp_sn"] or []),
        "kp_id": hit["kp_id"],
    }


__all__ = ["STAGES", "auditor", "init", "run", "staff", "staff_lines", "who"]
