"""Big-data model leads → clues (source ``model``, shown as 大数据模型).

A model run (``<ws>/leads/run=<id>/leads.parquet``, written by ``fundguard models run``) ranks entities. Each
institution-level lead — an institution, a pharmacy, a department (``<inst>/<dept>``) or a doctor (attached to the
institution where most of the doctor's visits are) — becomes part of one clue per institution × month of the run,
whose evidence lines are the leads' Chinese reasons. Person and group leads point at people, not at one
institution's conduct: they are skipped and counted (they stay on the leads page and in the inspection pool's
inputs). Importing a run twice adds nothing; a later run adds clues only for institution × month keys not seen.
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

SKIPPED_TYPES = {
    "person": "参保人线索指向个人而非机构行为，不生成机构线索",
    "group": "团伙线索指向参保人群体而非机构行为，不生成机构线索",
}


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
    meta = json.loads((run_dir / "run.json").read_text("utf-8")) if (run_dir / "run.json").exists() else {}
    period = str(meta.get("time") or today().isoformat())[:7]
    sync_institutions(session, workspace)
    rows = lead_rows(run_dir / "leads.parquet")
    doctors = _doctor_institutions(workspace, {r["entity_id"] for r in rows if r["entity_type"] == "doctor"})
    insts = {i.fixmedins_code: i for i in session.execute(select(Institution)).scalars()}
    by_inst: dict[str, list[dict]] = {}
    skipped: dict[str, int] = {}
    for r in rows:
        et, eid = r["entity_type"], r["entity_id"]
        code = {"department": eid.split("/")[0], "doctor": doctors.get(eid, "")}.get(et, eid)
        if et in SKIPPED_TYPES or code not in insts:
            why = SKIPPED_TYPES.get(et, "未找到所属定点机构")
            skipped[why] = skipped.get(why, 0) + 1
            continue
        by_inst.setdefault(code, []).append(r)
    existing = set(session.execute(select(Clue.group_key).where(Clue.source == "model")).scalars())
    created: list[Clue] = []
    now, day = utcnow(), today()
    for code, leads in sorted(by_inst.items()):
        group_key = f"model|{code}|{period}"
        if group_key in existing:
            continue  # a later run in the same month: the clue officers already have stands
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
            who = f"{ENTITY_ZH.get(r['entity_type'], r['entity_type'])} {r['entity_name'] or r['entity_id']}"
            session.add(ClueHit(
                clue_id=clue.id, run_id=key, kp_id=r["model"], item_name=r["model_name"],
                amount=money(r["money"] or 0),
                evidence_zh=f"【{r['model_name']}】{who}：风险分 {r['score']:.2f}，第 {r['rank']} 名；"
                            + "；".join(r["reasons"]),
            ))  # fmt: skip
        created.append(clue)
    session.add(AuditRun(run_id=key, workspace=str(workspace.resolve()), ruleset_version="大数据模型",
                         imported_at=now, hits=sum(len(v) for v in by_inst.values()), clues_created=len(created)))  # fmt: skip
    session.flush()
    summary.update(already_imported=False, clues_created=len(created), leads=len(rows), skipped=skipped)
    record.append(session, actor.username if actor else "system", "clue.import_leads", "run", key,
                  {"clues_created": [c.id for c in created], "skipped": skipped})  # fmt: skip
    return summary


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
