"""事后: the batch check of PTS-001 over the whole store — every settled fee line ordered (``bilg_dr_code``) or
performed (``acord_dr_code``) by a person whose payment qualification was suspended or terminated on the line's
day (the qualification snapshot: local periods and other regions' imported ones), emergency and rescue lines
exempt as at 事中. One DuckDB join; the hits take the audit's hit schema with the same evidence sentence as the
real-time answer, are written as an audit run (``<ws>/results/run=<id>-points/hits.parquet`` + ``run.json``)
and turned into clues by the ordinary import, so the bureau works them like any rule's hits.

It answers exactly as the real-time check (``service.check_lines``) on the same lines: both follow the
person's status on the service day (``fee_ocur_time``) — a test holds them together."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.orm import Session

from fundguard.core.sql import literal
from fundguard.core.workspace import Workspace
from fundguard.data.store import Store
from fundguard.rules.base import HIT_COLUMNS, create_claim_lines
from fundguard.service import record
from fundguard.service.points.exchange import write_snapshot
from fundguard.service.points.process import rules
from fundguard.service.scope import Actor
from fundguard.supervision.roles import POINTS_MANAGE

RULE_ID = "PTS-001"
RULE_NAME = "医保支付资格暂停或终止人员开具或执行的费用"
ROLES = {"bilg_dr_code": "开单医师", "acord_dr_code": "执行医师"}


def hits_sql(snapshot: Path, doctor_columns: list[str], exempt: tuple[str, ...]) -> str:
    """The hits query over ``claim_lines`` (the settled lines) and ``fee_list_d_valid`` (who ordered and
    performed each line) in a connection that has both; ``snapshot`` is the qualification Parquet."""
    cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in ROLES if c not in doctor_columns)
    doctors = " UNION ALL ".join(
        f"SELECT bkkp_sn, {literal(c)} AS role_col, {literal(ROLES[c])} AS role_zh, {c} AS code FROM d "
        f"WHERE {c} IS NOT NULL AND {c} <> ''"
        for c in ROLES
    )
    ex = ", ".join(literal(x) for x in exempt) or "NULL"
    standing = ("CASE WHEN q.status = 'terminated' THEN '医保支付资格已终止' "
                "ELSE '医保支付资格暂停至' || strftime(q.until, '%Y-%m-%d') END")  # fmt: skip
    return f"""
        WITH d AS (SELECT bkkp_sn, {", ".join(c for c in ROLES if c in doctor_columns)}{", " + cols if cols else ""}
                   FROM fee_list_d_valid),
             who AS ({doctors}),
             q AS (SELECT * FROM read_parquet({literal(str(snapshot))})),
             hit AS (
                SELECT l.bkkp_sn, l.mdtrt_id, l.setl_id, l.psn_no, l.fixmedins_code, l.hilist_code,
                       l.det_item_fee_sumamt, w.role_zh, w.code, {standing} AS standing,
                       row_number() OVER (PARTITION BY l.bkkp_sn ORDER BY w.role_col DESC,
                                          q.status = 'terminated' DESC) AS k
                FROM claim_lines l JOIN who w ON w.bkkp_sn = l.bkkp_sn
                JOIN q ON q.national_code = w.code
                      AND CAST(l.fee_ocur_time AS DATE) BETWEEN q.since AND coalesce(q.until, DATE '9999-12-31')
                WHERE coalesce(CAST(l.med_type AS VARCHAR), '') NOT IN ({ex})
             )
        SELECT {literal(RULE_ID)} AS rule_id, mdtrt_id, setl_id, psn_no, fixmedins_code, [bkkp_sn] AS bkkp_sn,
               hilist_code, CAST(det_item_fee_sumamt AS {HIT_COLUMNS["amount"]}) AS amount,
               role_zh || '（国家医保医师代码 ' || code || '）' || standing || '，该费用医保基金不予支付'
                   AS evidence_zh,
               CAST(NULL AS VARCHAR) AS kp_id
        FROM hit WHERE k = 1 ORDER BY fixmedins_code, mdtrt_id, bkkp_sn[1]
    """


def flag(con: duckdb.DuckDBPyConnection, snapshot: Path) -> list[dict[str, Any]]:
    """The PTS-001 hits in ``con`` (with ``claim_lines`` and ``fee_list_d_valid``) as dicts."""
    have = {r[0] for r in con.execute("DESCRIBE fee_list_d_valid").fetchall()}
    cur = con.execute(hits_sql(snapshot, [c for c in ROLES if c in have], rules().exempt_medical_types))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def run_batch(session: Session, actor: Actor, workspace: Path) -> dict[str, Any]:
    """Snapshot the qualifications, flag the store's lines, write the run; returns ``{run_id, hits, amount,
    seconds}``. The caller imports the run into clues (``clues.import_run``)."""
    actor.require(POINTS_MANAGE)
    started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    ws = Workspace(workspace)
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6] + "-points"
    run_dir = ws.run(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    snapshot = run_dir / "qualifications.parquet"
    periods = write_snapshot(session, snapshot)
    con = Store(workspace).connect()
    try:
        create_claim_lines(con)
        have = {r[0] for r in con.execute("DESCRIBE fee_list_d_valid").fetchall()}
        sql = hits_sql(snapshot, [c for c in ROLES if c in have], rules().exempt_medical_types)
        con.execute(f"COPY ({sql}) TO {literal(str(run_dir / 'hits.parquet'))} (FORMAT parquet)")
        n, amount = con.execute(
            f"SELECT count(*), coalesce(sum(amount), 0) FROM read_parquet({literal(str(run_dir / 'hits.parquet'))})"
        ).fetchone()
        lines = con.execute("SELECT count(*) FROM claim_lines").fetchone()[0]
    finally:
        con.close()
    seconds = round(time.perf_counter() - t0, 3)
    meta = {"run_id": run_id, "started": started.isoformat(), "engine": "points-batch", "rules": [RULE_ID],
            "rule_names": {RULE_ID: RULE_NAME}, "lines": lines, "periods": periods,
            "hits_per_rule": {RULE_ID: n}, "seconds": seconds}  # fmt: skip
    (run_dir / "run.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    record.append(session, actor.username, "points.batch", "audit run", run_id,
                  {"hits": n, "amount": str(amount), "periods": periods})  # fmt: skip
    return {"run_id": run_id, "hits": int(n), "amount": str(amount), "lines": int(lines), "seconds": seconds}
