"""Clue service functions: import, registration, lists and detail (through the one scope and paging choke
point), appeals with files, acting through the workflow engine, and the dashboard."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.core.sql import literal
from fundguard.core.workspace import Workspace
from fundguard.data.store import Store
from fundguard.service import record, uploads, workflow
from fundguard.service.clues.process import (
    FLAG,
    OUTCOME_ZH,
)
from fundguard.service.errors import (
    BadUpload,
    PermissionDenied,
    ValidationFailed,
    not_found,
)
from fundguard.service.institutions import sync_institutions
from fundguard.service.models import (
    Appeal,
    AppealFile,
    AuditRun,
    Case,
    Clue,
    ClueEvent,
    ClueHit,
    FundRefund,
    Institution,
    Measure,
    Region,
    TreasuryFine,
    money,
    utcnow,
)
from fundguard.service.scope import (
    Actor,
    mask_id,
    mask_institutions,
    mask_name,
    mask_text,
    paged,
    require_sees,
    scope_filter,
)
from fundguard.service.timing import due_date_for, flag_warning, today
from fundguard.supervision import workflow as wf
from fundguard.supervision.roles import CLUE_IMPORT, CLUE_REGISTER, CLUE_VIEW

MAX_FILE_BYTES = 10 * 1024 * 1024


MAX_FILES = 10


UPLOAD_TYPES = {  # extension → (content type, magic prefixes)
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
}


MAX_EVIDENCE = 500


@functools.cache
def rule_set() -> Any:
    """The national rule library's metadata (names, basis, versions), read once per process."""
    from fundguard.rules import load_rules

    return load_rules()


def latest_run(workspace: Path) -> str:
    return Workspace(workspace).latest_run()


def import_run(
    session: Session, workspace: Path, run_id: str | None = None, *, actor: Actor | None = None
) -> dict:
    """Turn an audit run's hits into clues (institution × rule × month). Idempotent per run."""
    if actor is not None:
        actor.require(CLUE_IMPORT)
    workspace = Path(workspace)
    run_id = run_id or latest_run(workspace)
    run_dir = Workspace(workspace).run(run_id)
    hits_path = run_dir / "hits.parquet"
    if not hits_path.exists():
        raise InputError(f"审核结果 {run_id} 不存在", f"audit run {run_id} not found")
    if session.get(AuditRun, run_id) is not None:
        return {"run_id": run_id, "already_imported": True, "clues_created": 0, "clues_updated": 0, "hits": 0}
    meta = Workspace(workspace).run_meta(run_id)
    sync_institutions(session, workspace)
    rows = _grouped_hits(workspace, hits_path, meta)
    rules = rule_set()
    insts = {i.fixmedins_code: i for i in session.execute(select(Institution)).scalars()}
    existing = {
        (c.rule_id, c.fixmedins_code, c.period): c
        for c in session.execute(select(Clue).where(Clue.source == "rule")).scalars()
    }
    seen = {
        (h.clue_id, h.mdtrt_id, h.bkkp_sn, h.hilist_code)
        for h in session.execute(
            select(ClueHit.clue_id, ClueHit.mdtrt_id, ClueHit.bkkp_sn, ClueHit.hilist_code)
        ).all()
    }
    created, updated, n_hits = [], 0, 0
    now, day = utcnow(), today()
    for (rule_id, inst_code, period), hits in rows.items():
        rule = rules.rules.get(rule_id)
        inst = insts.get(inst_code)
        clue = existing.get((rule_id, inst_code, period))
        if clue is not None and clue.status != "pending_initial":
            continue  # already in work: a new run does not change what officers are looking at
        if clue is None:
            clue = Clue(
                source="rule",
                group_key=f"rule|{rule_id}|{inst_code}|{period}", run_id=run_id, rule_id=rule_id, rule_version=rule.version if rule else "",
                rule_name=rule.name_zh if rule else rule_id, result_type=rule.result_type if rule else "",
                fixmedins_code=inst_code, fixmedins_name=inst.name if inst else inst_code,
                admdvs=inst.admdvs if inst else "", period=period, hits=0, amount=Decimal("0"),
                status="pending_initial", step_started=day, due_date=due_date_for("flag", "pending_initial", day),
                created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(clue)
            session.flush()
            created.append(clue)
        else:
            updated += 1
        for h in hits:
            key = (clue.id, h["mdtrt_id"], h["bkkp_sn"], h["hilist_code"])
            if key in seen:
                continue
            seen.add(key)
            session.add(ClueHit(clue_id=clue.id, run_id=run_id, **h))
            clue.hits += 1
            clue.amount = money(clue.amount) + money(h["amount"])
            n_hits += 1
    session.add(AuditRun(run_id=run_id, workspace=str(workspace.resolve()), ruleset_version=meta.get("ruleset_version", ""),
                         imported_at=now, hits=n_hits, clues_created=len(created)))  # fmt: skip
    session.flush()
    record.append(session, actor.username if actor else "system", "clue.import", "run", run_id,
                  {"clues_created": [c.id for c in created], "clues_updated": updated, "hits": n_hits})  # fmt: skip
    return {"run_id": run_id, "already_imported": False, "clues_created": len(created), "clues_updated": updated,
            "hits": n_hits}  # fmt: skip


def _grouped_hits(workspace: Path, hits_path: Path, meta: dict) -> dict[tuple[str, str, str], list[dict]]:
    """Hits with their period (visit month; else the first fee line's month; else the run's month) and, from
    the store, the item name, the first line's time and the patient's name, so a clue's evidence is read
    from the service database alone."""
    run_month = str(meta.get("started", ""))[:7] or dt.date.today().strftime("%Y-%m")
    store = Store(workspace)
    exists = store.root.exists()
    con = store.connect() if exists else duckdb.connect()
    try:
        has = {t: exists and bool(store.data_files(t)) for t in ("mdtrt_d", "fee_list_d", "psn_info_b")}
        visits = "SELECT mdtrt_id, min(begntime) AS t FROM mdtrt_d GROUP BY 1" if has["mdtrt_d"] else (
            "SELECT NULL::VARCHAR AS mdtrt_id, NULL::TIMESTAMP AS t WHERE false")  # fmt: skip
        fees = (
            "SELECT l.hid, min(f.fee_ocur_time) AS t, arg_min(f.hilist_name, f.fee_ocur_time) AS name "
            "FROM lines l JOIN fee_list_d f ON f.bkkp_sn = l.sn GROUP BY 1"
            if has["fee_list_d"]
            else "SELECT NULL::BIGINT AS hid, NULL::TIMESTAMP AS t, NULL::VARCHAR AS name WHERE false"
        )
        persons = "SELECT psn_no, any_value(psn_name) AS name FROM psn_info_b GROUP BY 1" if has["psn_info_b"] else (
            "SELECT NULL::VARCHAR AS psn_no, NULL::VARCHAR AS name WHERE false")  # fmt: skip
        sql = f"""
            WITH h AS (SELECT row_number() OVER () AS hid, * FROM read_parquet({literal(str(hits_path))})),
                 lines AS (SELECT hid, unnest(bkkp_sn) AS sn FROM h),
                 lf AS ({fees}), v AS ({visits}), p AS ({persons})
            SELECT h.rule_id, h.fixmedins_code,
                   coalesce(strftime(CAST(v.t AS TIMESTAMP), '%Y-%m'), strftime(CAST(lf.t AS TIMESTAMP), '%Y-%m'),
                            {literal(run_month)}) AS period,
                   coalesce(h.mdtrt_id, ''), coalesce(h.setl_id, ''), coalesce(h.psn_no, ''),
                   coalesce(array_to_string(h.bkkp_sn, ';'), ''), coalesce(h.hilist_code, ''),
                   coalesce(h.amount, 0), coalesce(h.evidence_zh, ''), coalesce(h.kp_id, ''),
                   coalesce(lf.name, ''), coalesce(strftime(CAST(lf.t AS TIMESTAMP), '%Y-%m-%d %H:%M:%S'), ''),
                   coalesce(p.name, '')
            FROM h LEFT JOIN lf ON lf.hid = h.hid LEFT JOIN v ON v.mdtrt_id = h.mdtrt_id
                   LEFT JOIN p ON p.psn_no = h.psn_no
            ORDER BY 1, 2, 3, 4, 7
        """
        out: dict[tuple[str, str, str], list[dict]] = {}
        for r in con.execute(sql).fetchall():
            out.setdefault((r[0], r[1] or "", r[2]), []).append(
                {
                    "mdtrt_id": r[3],
                    "setl_id": r[4],
                    "psn_no": r[5],
                    "bkkp_sn": r[6],
                    "hilist_code": r[7],
                    "amount": money(r[8]),
                    "evidence_zh": r[9],
                    "kp_id": r[10],
                    "item_name": r[11],
                    "fee_ocur_time": r[12],
                    "psn_name": r[13],
                }
            )
        return out
    finally:
        con.close()


SOURCES = {
    "rule": "智能审核",
    "transfer": "部门移送",
    "complaint": "举报投诉",
    "inspection": "检查发现",
    "model": "大数据模型",
    "partner": "部门互认",  # issue 16b: a partner department's finding (标准互认)
    "crossregion": "异地就医监测",  # an institution the out-of-region indicator flags (crossregion.flag_clues)
}
GENERATED = ("rule", "crossregion")  # sources only the system's imports write, never a hand registration


def register_clue(session: Session, actor: Actor, *, fixmedins_code: str, source: str, description: str,
                  amount: Any = 0, period: str | None = None, department: str = "医保局") -> dict:  # fmt: skip
    """A clue not from the rule engine: transferred in by another department, a complaint, an inspection
    finding. It enters the same flow at 待初审."""
    actor.require(CLUE_REGISTER)
    if source not in SOURCES or source in GENERATED:
        raise ValidationFailed(f"线索来源应为 {'、'.join(v for k, v in SOURCES.items() if k not in GENERATED)}",
                               f"source must be one of {[k for k in SOURCES if k not in GENERATED]}")  # fmt: skip
    if not (description or "").strip():
        raise ValidationFailed("请填写线索内容", "a clue needs a description")
    inst = session.get(Institution, fixmedins_code)
    if inst is None:
        raise not_found("定点机构", "institution", fixmedins_code)
    require_sees(actor, inst.admdvs, inst.fixmedins_code, "该机构", "this institution")
    day = today()
    period = period or day.strftime("%Y-%m")
    if len(period) != 7 or period[4] != "-":
        raise ValidationFailed("期间格式应为 YYYY-MM", "period must be YYYY-MM")
    clue = Clue(source=source, rule_id="", rule_name=SOURCES[source], fixmedins_code=inst.fixmedins_code,
                fixmedins_name=inst.name, admdvs=inst.admdvs, period=period, hits=0, amount=money(amount),
                status="pending_initial", step_started=day, due_date=due_date_for("flag", "pending_initial", day),
                description=description.strip(), department=department)  # fmt: skip
    session.add(clue)
    session.flush()
    record.append(session, actor.username, "clue.register", "clue", clue.id,
                  {"source": source, "fixmedins_code": inst.fixmedins_code, "amount": str(clue.amount),
                   "description": clue.description})  # fmt: skip
    return get_clue(session, actor, clue.id)


def _visible(actor: Actor) -> ColumnElement[bool]:
    cond = scope_filter(actor, Clue.admdvs, Clue.fixmedins_code)
    if actor.role == "hospital":
        cond = and_(cond, Clue.notified.is_(True))
    return cond


def _item(clue: Clue, day: dt.date | None = None) -> dict:
    day = day or today()
    final = clue.status in wf.FLAG_FLOW.final
    return {
        "id": clue.id,
        "source": clue.source,
        "rule_id": clue.rule_id,
        "rule_name": clue.rule_name,
        "rule_version": clue.rule_version,
        "fixmedins_code": clue.fixmedins_code,
        "fixmedins_name": clue.fixmedins_name,
        "admdvs": clue.admdvs,
        "period": clue.period,
        "hits": clue.hits,
        "amount": str(money(clue.amount)),
        "confirmed_amount": None if clue.confirmed_amount is None else str(money(clue.confirmed_amount)),
        "outcome": clue.outcome,
        "outcome_zh": OUTCOME_ZH.get(clue.outcome, ""),
        "status": clue.status,
        "status_zh": wf.FLAG_STATES.get(clue.status, clue.status),
        "result_type": clue.result_type,
        "due_date": None if final or clue.due_date is None else clue.due_date.isoformat(),
        "overdue": bool(not final and clue.due_date and clue.due_date < day),
        "warning": "" if final else flag_warning(clue.due_date, day),
        "version": clue.version,
    }


def list_clues(session: Session, actor: Actor, *, status: str | None = None, source: str | None = None,
               rule_id: str | None = None, fixmedins_code: str | None = None, admdvs: str | None = None,
               month: str | None = None, q: str | None = None, overdue: bool | None = None, page: int = 1, size: int = 20) -> dict:  # fmt: skip
    conds = []
    if status:
        conds.append(Clue.status == status)
    if source:
        conds.append(Clue.source == source)
    if rule_id:
        conds.append(Clue.rule_id == rule_id)
    if fixmedins_code:
        conds.append(Clue.fixmedins_code == fixmedins_code)
    if admdvs:
        conds.append(Clue.admdvs.startswith(admdvs, autoescape=True))
    if month:
        conds.append(Clue.period == month)
    if q:
        like = f"%{q.strip()}%"
        conds.append(or_(Clue.rule_name.like(like), Clue.fixmedins_name.like(like), Clue.rule_id.like(like),
                         Clue.fixmedins_code.like(like)))  # fmt: skip
    if overdue:
        conds.append(and_(Clue.due_date < today(), Clue.status.not_in(wf.FLAG_FLOW.final)))
    day = today()
    return paged(session, actor, Clue, CLUE_VIEW, conds, (Clue.amount.desc(), Clue.id), lambda c: _item(c, day),
                 page, size, visible=_visible(actor))  # fmt: skip


def get_clue(session: Session, actor: Actor, clue_id: int, *, workspace: Path | None = None) -> dict:
    clue = workflow.load(session, actor, FLAG, clue_id)
    out = _item(clue)
    rule = rule_set().rules.get(clue.rule_id)
    out.update(
        legal_basis=rule.legal_basis if rule else "",
        knowledge_source=rule.knowledge_source if rule else "",
        suggested_handling=rule.suggested_handling if rule else "",
        description=clue.description,
        department=clue.department,
        evidence=_evidence(session, actor, clue, workspace),
        events=_events(session, actor, clue),
        appeals=_appeals(session, clue.id),
    )
    mask = text_masker(session, actor, clue.id)
    out.update(
        description=mask(out["description"]),
        events=[{**e, "comment": mask(e["comment"]), "fields": mask(e["fields"])} for e in out["events"]],
        appeals=[{**a, "reason": mask(a["reason"])} for a in out["appeals"]],
        case_id=session.execute(select(Case.id).where(Case.clue_id == clue.id)).scalars().first(),
        measures=measure_items(session, Measure.clue_id == clue.id),
        actions=FLAG.actions(session, clue, actor),
    )
    return out


def text_masker(session: Session, actor: Actor, clue_id: int | None, names: tuple[str, ...] = ()) -> Callable:
    """For a masked role, a function masking the clue's patients (names and ids from its hits), ID and phone
    numbers in any text, or in every string of a JSON-like value; for others, the identity."""
    if not actor.masked:
        return lambda v: v
    people = session.execute(
        select(ClueHit.psn_name, ClueHit.psn_no).where(ClueHit.clue_id == clue_id).distinct()
    ).all()
    known, ids = {*names, *(n for n, _ in people)}, {i for _, i in people}

    def mask(value: Any) -> Any:
        if isinstance(value, str):
            return mask_text(value, known, ids)
        if isinstance(value, dict):
            return {k: mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    return mask


INTERNAL_STEPS = (
    "initial_confirm",
    "initial_dismiss",
    "review_return",
    "review_dismiss",
)  # before the institution is told


def _events(session: Session, actor: Actor, clue: Clue) -> list[dict]:
    """The clue's history. The institution sees the steps from 复审告知 on, by office (医保部门), not the
    bureau's internal review comments or usernames."""
    rows = (
        session.execute(select(ClueEvent).where(ClueEvent.clue_id == clue.id).order_by(ClueEvent.id))
        .scalars()
        .all()
    )
    names = workflow.names_of(session, (e.actor for e in rows))
    hospital = actor.role == "hospital"
    out = []
    for e in rows:
        if hospital and e.action in INTERNAL_STEPS:
            continue
        own = hospital and e.actor == actor.username
        out.append({
            "at": e.at.isoformat(), "action": e.action, "action_zh": wf.FLAG_FLOW.label(e.action),
            "actor": e.actor if not hospital or own else "", "from_status": e.from_status,
            "actor_name": names[e.actor] if not hospital or own else "医保部门",
            "to_status": e.to_status, "to_status_zh": wf.FLAG_STATES.get(e.to_status, e.to_status),
            "comment": e.comment if not hospital or own or e.action in HOSPITAL_VISIBLE_COMMENTS else "",
            "fields": json.loads(e.fields_json or "{}") if not hospital else {},
        })  # fmt: skip
    return out


HOSPITAL_VISIBLE_COMMENTS = (
    "review_confirm",
    "appeal_uphold",
    "appeal_reject",
)  # what the institution is told


def measure_items(session: Session, where: ColumnElement[bool]) -> list[dict]:
    """The 协议处理 measures of a clue or a case."""
    return [
        {"code": m.code, "name_zh": m.name_zh, "amount": None if m.amount is None else str(m.amount),
         "at": m.at.isoformat(), "by": m.by}
        for m in session.execute(select(Measure).where(where).order_by(Measure.id)).scalars()
    ]  # fmt: skip


def _appeals(session: Session, clue_id: int) -> list[dict]:
    out = []
    for a in session.execute(select(Appeal).where(Appeal.clue_id == clue_id).order_by(Appeal.id)).scalars():
        files = session.execute(
            select(AppealFile.id, AppealFile.filename, AppealFile.size).where(AppealFile.appeal_id == a.id)
        ).all()
        out.append({"id": a.id, "at": a.at.isoformat(), "by": a.by, "reason": a.reason,
                    "files": [{"id": f.id, "filename": f.filename, "size": f.size} for f in files]})  # fmt: skip
    return out


def _workspace_of(session: Session, clue: Clue, workspace: Path | None) -> Path | None:
    if workspace is not None:
        return Path(workspace)
    if clue.run_id:
        run = session.get(AuditRun, clue.run_id)
        if run and run.workspace:
            return Path(run.workspace)
    return None


def _evidence(session: Session, actor: Actor, clue: Clue, workspace: Path | None) -> list[dict]:
    hits = (
        session.execute(
            select(ClueHit)
            .where(ClueHit.clue_id == clue.id)
            .order_by(ClueHit.amount.desc(), ClueHit.id)
            .limit(MAX_EVIDENCE)
        )
        .scalars()
        .all()
    )
    if not hits:
        return []
    lines: dict[str, tuple] = {}
    names: dict[str, str] = {}
    ws = _workspace_of(session, clue, workspace)
    store = Store(ws) if ws else None
    old = [
        h for h in hits if not h.item_name and not h.fee_ocur_time
    ]  # imported before the details were kept
    if old and store is not None and store.root.exists():
        lines, names = _store_details(store, old)
    others: dict[str, str] = {}
    if actor.role == "hospital":
        others = dict(session.execute(
            select(Institution.fixmedins_code, Institution.name).where(Institution.fixmedins_code != actor.fixmedins_code)
        ).all())  # fmt: skip
    out = []
    for h in hits:
        sns = [s for s in h.bkkp_sn.split(";") if s]
        first = next((lines[s] for s in sns if s in lines), None)
        times = sorted(lines[s][1] for s in sns if s in lines and lines[s][1])
        psn_no, psn_name = h.psn_no, h.psn_name or names.get(h.psn_no, "")
        evidence = h.evidence_zh
        if actor.masked:  # the evidence text may name the person too (a model lead on an insured person)
            evidence = mask_text(evidence, [psn_name], [psn_no])
            psn_no, psn_name = mask_id(psn_no), mask_name(psn_name)
        if actor.role == "hospital":  # another institution's name, stay and visit id are not its business
            evidence = mask_institutions(evidence, others)
        out.append({"mdtrt_id": h.mdtrt_id, "setl_id": h.setl_id, "bkkp_sn": sns, "psn_no": psn_no,
                    "psn_name": psn_name, "hilist_code": h.hilist_code,
                    "item_name": h.item_name or (first[0] if first else ""),
                    "fee_ocur_time": h.fee_ocur_time or (times[0] if times else ""), "amount": str(h.amount),
                    "evidence_zh": evidence, "kp_id": h.kp_id})  # fmt: skip
    return out


def _store_details(store: Store, hits: list[ClueHit]) -> tuple[dict[str, tuple], dict[str, str]]:
    """Fee line names and times, and patients' names, read from the store."""
    sns = sorted({sn for h in hits for sn in h.bkkp_sn.split(";") if sn})
    psns = sorted({h.psn_no for h in hits if h.psn_no})
    lines: dict[str, tuple] = {}
    names: dict[str, str] = {}
    con = store.connect()
    try:
        if sns and store.data_files("fee_list_d"):
            lines = {
                r[0]: r[1:]
                for r in con.execute(
                    "SELECT bkkp_sn, hilist_name, strftime(CAST(fee_ocur_time AS TIMESTAMP), '%Y-%m-%d %H:%M:%S'), "
                    "det_item_fee_sumamt FROM fee_list_d WHERE bkkp_sn IN (SELECT unnest(?))",
                    [sns],
                ).fetchall()
            }
        if psns and store.data_files("psn_info_b"):
            names = dict(
                con.execute(
                    "SELECT psn_no, any_value(psn_name) FROM psn_info_b WHERE psn_no IN (SELECT unnest(?)) GROUP BY 1",
                    [psns],
                ).fetchall()
            )
    finally:
        con.close()
    return lines, names


def act_on_clue(session: Session, actor: Actor, clue_id: int, action: str, version: int, comment: str = "",
                **fields: Any) -> dict:  # fmt: skip
    """One step of the flagged-item flow; returns the updated clue (as ``get_clue``). 立案 is
    ``cases.open_case`` (it creates the case); the institution's appeal with files is ``submit_appeal``."""
    if action == "appeal":
        return submit_appeal(session, actor, clue_id, version, str(fields.get("reason") or comment), [])
    clue = workflow.act(session, actor, FLAG, clue_id, action, version, {**fields, "comment": comment})
    return get_clue(session, actor, clue.id)


def check_upload(filename: str, content_type: str, data: bytes) -> tuple[str, str]:
    """Accept PDF/JPG/PNG up to 10 MB whose content matches the extension; returns (safe name, content type)."""
    name = uploads.safe_name(filename)
    ext = Path(name).suffix.lower()
    if ext not in UPLOAD_TYPES:
        raise BadUpload(f"不支持的文件类型：{name or '（无文件名）'}，仅接受 PDF、JPG、PNG",
                        f"unsupported file type: {name or '(no name)'}; only PDF, JPG, PNG")  # fmt: skip
    if len(data) > MAX_FILE_BYTES:
        raise BadUpload(f"文件 {name} 超过 10 MB", f"file {name} is larger than 10 MB", too_large=True)
    declared, magics = UPLOAD_TYPES[ext]
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct not in ("", "application/octet-stream", declared) or not any(data.startswith(m) for m in magics):
        raise BadUpload(f"文件 {name} 的内容不是有效的 {ext[1:].upper()} 文件",
                        f"file {name} is not a valid {ext[1:].upper()} file")  # fmt: skip
    why = uploads.problems(ext, data)
    if why:
        raise BadUpload(f"文件 {name} 被拒绝：{why[0]}", f"file {name} refused: {why[1]}")
    return name, declared


def submit_appeal(session: Session, actor: Actor, clue_id: int, version: int, reason: str,
                  files: list[tuple[str, str, bytes]]) -> dict:  # fmt: skip
    """The institution's 申诉 with evidence files (PDF/JPG/PNG ≤ 10 MB each, at most 10)."""
    clue = workflow.load(session, actor, FLAG, clue_id, for_update=True)
    workflow.check_version(FLAG, clue, version)
    if len(files) > MAX_FILES:
        raise BadUpload(f"一次最多上传 {MAX_FILES} 个文件", f"at most {MAX_FILES} files", too_large=True)
    checked = [(*check_upload(n, ct, data), data) for n, ct, data in files]
    if not (reason or "").strip():
        raise ValidationFailed("申诉理由不能为空", "the appeal needs a reason")
    workflow.move(session, actor, FLAG, clue, "appeal", {"reason": reason, "comment": reason})
    appeal = Appeal(clue_id=clue.id, by=actor.username, reason=reason.strip())
    session.add(appeal)
    session.flush()
    for name, ct, data in checked:
        session.add(AppealFile(appeal_id=appeal.id, filename=name, content_type=ct, size=len(data),
                               sha256=hashlib.sha256(data).hexdigest(), data=data))  # fmt: skip
    session.flush()
    record.append(session, actor.username, "clue.appeal", "clue", clue.id,
                  {"appeal_id": appeal.id, "files": [{"name": n, "sha256": hashlib.sha256(d).hexdigest()}
                                                     for n, _c, d in checked]})  # fmt: skip
    return get_clue(session, actor, clue.id)


def appeal_file(session: Session, actor: Actor, file_id: int) -> tuple[str, str, bytes]:
    f = session.get(AppealFile, int(file_id))
    if f is None:
        raise not_found("申诉材料", "appeal file", file_id)
    appeal = session.get(Appeal, f.appeal_id)
    workflow.load(session, actor, FLAG, appeal.clue_id)  # scope check
    if actor.masked:  # medical records name the patient: not for third-party inspectors
        raise PermissionDenied("申诉材料含患者身份信息，第三方检查员不可查看",
                               "appeal files identify patients; third-party inspectors cannot open them")  # fmt: skip
    return f.filename, f.content_type, f.data


def dashboard(session: Session, actor: Actor) -> dict:
    actor.require(CLUE_VIEW)
    vis = _visible(actor)
    day = today()
    open_clue = and_(Clue.status.not_in(wf.FLAG_FLOW.final), Clue.due_date < day)
    n, amount, confirmed, overdue = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Clue.amount), 0),
            func.coalesce(func.sum(Clue.confirmed_amount), 0),
            func.coalesce(func.sum(case((open_clue, 1), else_=0)), 0),
        ).where(vis)
    ).one()
    case_scope = scope_filter(actor, Case.admdvs, Case.fixmedins_code)
    cases_open, cases_overdue = session.execute(
        select(func.count(), func.coalesce(func.sum(case((Case.deadline < day, 1), else_=0)), 0)).where(
            case_scope, Case.status != "closed"
        )
    ).one()
    recovered = session.execute(
        select(func.coalesce(func.sum(FundRefund.amount), 0)).where(
            scope_filter(actor, FundRefund.admdvs, FundRefund.fixmedins_code)
        )
    ).scalar_one()
    fines = session.execute(
        select(func.coalesce(func.sum(TreasuryFine.amount), 0)).where(
            scope_filter(actor, TreasuryFine.admdvs, TreasuryFine.fixmedins_code)
        )
    ).scalar_one()
    if actor.role == "hospital":
        cases_open = cases_overdue = 0
        fines = 0
    fen = lambda v: str(money(v or 0))  # noqa: E731 — sum/coalesce of a Money column are typed Money (yuan)
    by_rule = session.execute(
        select(Clue.rule_id, func.max(Clue.rule_name), func.count(), func.sum(Clue.amount))
        .where(vis).group_by(Clue.rule_id).order_by(func.sum(Clue.amount).desc())
    ).all()  # fmt: skip
    by_region = session.execute(
        select(Clue.admdvs, func.count(), func.sum(Clue.amount))
        .where(vis)
        .group_by(Clue.admdvs)
        .order_by(Clue.admdvs)
    ).all()
    names = dict(session.execute(select(Region.code, Region.name)).all())
    refunds_by_month = dict(
        session.execute(
            select(Clue.period, func.sum(FundRefund.amount))
            .join(Case, Case.id == FundRefund.case_id, isouter=True)
            .join(Clue, Clue.id == func.coalesce(FundRefund.clue_id, Case.clue_id))
            .where(vis)
            .group_by(Clue.period)
        ).all()
    )
    by_month = session.execute(
        select(Clue.period, func.count(), func.sum(Clue.amount))
        .where(vis)
        .group_by(Clue.period)
        .order_by(Clue.period)
    ).all()
    return {
        "totals": {
            "clues": n,
            "amount_at_issue": fen(amount),
            "confirmed_amount": fen(confirmed),
            "recovered": fen(recovered),
            "fines": fen(fines),
            "cases_open": cases_open,
            "overdue": int(overdue) + int(cases_overdue),
        },
        "by_rule": [{"rule_id": r, "rule_name": nm, "count": c, "amount": fen(a)} for r, nm, c, a in by_rule],
        "by_region": [
            {"admdvs": r, "name": names.get(r, r), "count": c, "amount": fen(a)} for r, c, a in by_region
        ],
        "by_month": [
            {"month": m, "count": c, "amount": fen(a), "recovered": fen(refunds_by_month.get(m))}
            for m, c, a in by_month
        ],
    }
