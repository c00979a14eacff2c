"""Big-data model leads → clues (source ``model``, shown as 大数据模型).

A model run (``<ws>/leads/run=<id>/leads.parquet``, written by ``fundguard models run``) ranks entities. Each
institution-level lead — an institution, a pharmacy, a department (``<inst>/<dept>``) or a doctor (attached to the
institution where most of the doctor's visits are) — becomes part of one clue per institution × month of the run,
whose evidence lines are the leads' Chinese reasons. Person and group leads point at people: each becomes a clue
of its own (one per group, and per person among the ``PERSON_CLUES`` riskiest, × month), filed under the institution where most of its linked visits
happened (the lead's first ``institutions``), with one evidence line per linked visit (person) or per member
(group) carrying the insured person's number, so the clue pages mask them as any patient. Importing a run twice
adds nothing; a later run adds clues only for keys not seen.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.core.workspace import Workspace
from fundguard.data.store import Store
from fundguard.service import record
from fundguard.service.institutions import sync_institutions
from fundguard.service.models import AuditRun, Clue, ClueHit, Institution, money, utcnow
from fundguard.service.scope import Actor
from fundguard.service.timing import due_date_for, today
from fundguard.supervision.roles import CLUE_IMPORT

PEOPLE_TYPES = ("person", "group")
"""Lead types pointing at people: a clue each, not merged into their institution's clue."""
PERSON_CLUES = 50
"""Person leads ranked beyond this stay on the leads page only: a clue each for the riskiest, not a flood."""


def clue_key(entity_type: str, entity_id: str, institution: str, period: str) -> str:
    """The clue a lead goes to: its institution's model clue of the month, or its own (persons, groups)."""
    if entity_type in PEOPLE_TYPES:
        return f"model|{entity_type}:{entity_id}|{period}"
    return f"model|{institution}|{period}"


def lead_institution(row: dict, doctors: dict[str, str] | None = None) -> str:
    """The institution a lead is filed under (``row``: a lead of ``models.lead_rows``)."""
    et, eid = row["entity_type"], row["entity_id"]
    if et == "department":
        return eid.split("/")[0]
    if et == "doctor":
        return (doctors or {}).get(eid) or next(iter(row.get("institutions") or []), "")
    if et in PEOPLE_TYPES:
        return next(iter(row.get("institutions") or []), "")
    return eid


def run_period(workspace: Path, run_id: str) -> str:
    """The month a model run's clues are filed in (the run's time)."""
    meta_path = Path(workspace) / "leads" / f"run={run_id}" / "run.json"
    meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
    return str(meta.get("time") or today().isoformat())[:7]


def import_leads(
    session: Session, workspace: Path, run_id: str | None = None, *, actor: Actor | None = None
) -> dict:
    """Turn a model run's leads into clues (institution × month). Idempotent per run."""
    from fundguard.models import lead_rows  # the models layer loads only when leads are imported
    from fundguard.models.cards import ENTITY_ZH

    if actor is not None:
        actor.require(CLUE_IMPORT)
    ws = Workspace(workspace)
    run_id = run_id or ws.latest_lead_run()
    run_dir = ws.lead_run(run_id)
    if not (run_dir / "leads.parquet").exists():
        raise InputError(f"模型线索 {run_id} 不存在", f"model run {run_id} not found")
    key = f"leads:{run_id}"  # model runs share the import ledger with audit runs, by a prefixed id
    summary = {"run_id": run_id, "already_imported": True, "clues_created": 0, "leads": 0, "skipped": {}}
    if session.get(AuditRun, key) is not None:
        return summary
    period = run_period(workspace, run_id)
    sync_institutions(session, workspace)
    rows = lead_rows(run_dir / "leads.parquet")
    doctors = _doctor_institutions(workspace, {r["entity_id"] for r in rows if r["entity_type"] == "doctor"})
    insts = {i.fixmedins_code: i for i in session.execute(select(Institution)).scalars()}
    by_key: dict[str, list[dict]] = {}
    skipped: dict[str, int] = {}
    for r in rows:
        code = lead_institution(r, doctors)
        if r["entity_type"] == "person" and r["rank"] > PERSON_CLUES:
            why = f"参保人线索排名在前{PERSON_CLUES}名之外，仅在模型线索页列示"
            skipped[why] = skipped.get(why, 0) + 1
            continue
        if code not in insts:
            why = "未找到所属定点机构"
            skipped[why] = skipped.get(why, 0) + 1
            continue
        by_key.setdefault(clue_key(r["entity_type"], r["entity_id"], code, period), []).append(r)
    existing = set(session.execute(select(Clue.group_key).where(Clue.source == "model")).scalars())
    created: list[Clue] = []
    now, day = utcnow(), today()
    for group_key, leads in sorted(by_key.items()):
        if group_key in existing:
            continue  # a later run in the same month: the clue officers already have stands
        code = lead_institution(leads[0], doctors)
        leads.sort(key=lambda r: -r["score"])
        top, inst = leads[0], insts[code]
        models = list(dict.fromkeys(r["model_name"] for r in leads))
        clue = Clue(
            source="model", group_key=group_key, run_id=key, rule_id=top["model"],
            rule_name=f"大数据模型：{top['model_name']}", fixmedins_code=code, fixmedins_name=inst.name,
            admdvs=inst.admdvs, period=period, hits=len(leads),
            amount=money(max(r["money"] or 0 for r in leads)),  # models overlap: the largest, not the sum
            status="pending_initial", step_started=day, due_date=due_date_for("flag", "pending_initial", day),
            department="大数据模型", created_at=now, updated_at=now,
            description=f"大数据模型线索（模型运行 {run_id}）：最高风险分 {top['score']:.2f}，"
                        f"同类排名第 {top['rank']} 名；模型：{'、'.join(models)}",
        )  # fmt: skip
        session.add(clue)
        session.flush()
        for r in leads:
            for i, (psn, mdtrt) in enumerate(_people(r)):
                who = f"{ENTITY_ZH.get(r['entity_type'], r['entity_type'])} {r['entity_name'] or r['entity_id']}"
                session.add(ClueHit(
                    clue_id=clue.id, run_id=key, kp_id=r["model"], item_name=r["model_name"], psn_no=psn,
                    mdtrt_id=mdtrt, amount=money(r["money"] or 0) if i == 0 else money(0),  # once per lead
                    evidence_zh=f"【{r['model_name']}】{who}：风险分 {r['score']:.2f}，第 {r['rank']} 名；"
                                + "；".join(r["reasons"]),
                ))  # fmt: skip
        created.append(clue)
    session.add(AuditRun(run_id=key, workspace=str(workspace.resolve()), ruleset_version="大数据模型",
                         imported_at=now, hits=sum(len(v) for v in by_key.values()), clues_created=len(created)))  # fmt: skip
    session.flush()
    summary.update(already_imported=False, clues_created=len(created), leads=len(rows), skipped=skipped)
    record.append(session, actor.username if actor else "system", "clue.import_leads", "run", key,
                  {"clues_created": [c.id for c in created], "skipped": skipped})  # fmt: skip
    return summary


def _people(lead: dict) -> list[tuple[str, str]]:
    """The evidence lines of a lead as (insured person, visit): one line for a lead on an institution; one
    per linked visit of a person (the visit ids carry it to the store); one per member of a group."""
    if lead["entity_type"] == "person":
        return [(lead["entity_id"], v) for v in lead["visits"]] or [(lead["entity_id"], "")]
    if lead["entity_type"] == "group":
        return [(m, "") for m in lead["related"]]
    return [("", "")]


def _doctor_institutions(workspace: Path, doctors: set[str]) -> dict[str, str]:
    """Each doctor's institution: where most of the doctor's visits are."""
    store = Store(workspace)
    if not doctors or not store.data_files("mdtrt_d"):
        return {}
    con = store.connect()
    try:
        return dict(
            con.execute(
                "SELECT chfpdr_code, mode(fixmedins_code) FROM mdtrt_d "
                "WHERE chfpdr_code IN (SELECT unnest(?)) GROUP BY 1",
                [sorted(doctors)],
            ).fetchall()
        )
    finally:
        con.close()
