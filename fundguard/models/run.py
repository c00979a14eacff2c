"""The model run: indicators per entity × month, every scenario model, ranked and explained leads.

``run_models(workspace)`` writes ``<ws>/leads/run=<id>/``: ``leads.parquet`` and ``leads.xlsx`` (Chinese
headers), the monthly indicator tables ``indicators_institution.parquet`` / ``indicators_pharmacy.parquet``,
``peers.parquet`` (each lead entity's indicator values beside its peer group's quantiles: the peer charts),
``group_links.parquet`` (each group lead's member–member and member–institution links: the group graph)
and ``run.json``. Each lead names its ``institutions`` (where its linked visits happened, most first): the
service scopes leads by region through them and attaches person and group clues to the first. ``lead_rows(path)`` reads leads back as plain dicts, for importing them as clues.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from fundguard.core.errors import InputError
from fundguard.core.workspace import Workspace
from fundguard.data.store import Store
from fundguard.models import scenarios
from fundguard.models.cards import CARDS, ENTITY_ZH
from fundguard.models.indicators import frame, institution_month, pharmacy_month, prepare
from fundguard.models.peers import peer_distribution

LEAD_COLUMNS_ZH = {
    "rank": "排名",
    "entity_type": "对象类型",
    "entity_id": "对象编号",
    "entity_name": "对象名称",
    "model": "模型",
    "score": "风险分",
    "reasons": "主要理由",
    "money": "涉及金额（元）",
    "peer_group": "同类组",
    "visits": "关联就诊/品种",
    "related": "关联对象",
    "institutions": "关联机构",
}


@dataclass
class ModelRun:
    run_id: str
    run_dir: Path
    leads_path: Path
    xlsx_path: Path
    leads: int
    by_type: dict[str, int]
    seconds: float
    hits_run: str | None
    supervised: dict | None = None
    """Entity-grouped CV figures of the supervised model (when ``labels`` were given and suffice)."""


def run_models(
    workspace: Path,
    *,
    hits_path: Path | None = None,
    run_id: str | None = None,
    labels: dict[str, int] | None = None,
) -> ModelRun:
    """Run every model over the workspace's store; ``labels`` (institution → 1 confirmed / 0 overturned) add
    the supervised model."""
    t0 = time.perf_counter()
    store = Store(workspace)
    if not store.data_files("mdtrt_d"):
        raise InputError(
            f"工作区 {workspace} 没有就诊数据，请先导入（fundguard ingest）",
            f"workspace {workspace} has no visits (mdtrt_d); ingest data first",
        )
    run_id = run_id or datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    run_dir = Workspace(workspace).lead_run(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    hits_path = hits_path or Workspace(workspace).latest_hits()
    con = store.connect()
    try:
        prepare(con)
        for name, sql in (("institution", institution_month()), ("pharmacy", pharmacy_month())):
            con.execute(
                f"COPY ({sql} ORDER BY ALL) TO '{run_dir / f'indicators_{name}.parquet'}' (FORMAT PARQUET)"
            )
        hits = _hit_money(con, hits_path)
        values: list[pl.DataFrame] = []
        links: list[dict] = []
        leads = (
            scenarios.institution_leads(con, hits, values)
            + scenarios.pharmacy_leads(con, hits, values)
            + scenarios.person_leads(con, values)
            + scenarios.doctor_leads(con, values)
            + scenarios.department_leads(con, values)
            + scenarios.group_leads(con, links)
        )
        figures = None
        if labels:
            extra, figures = scenarios.supervised_leads(con, labels)
            leads += extra
        anchors = _anchor_institutions(con, leads)
        for lead in leads:
            lead["institutions"] = anchors.get((lead["entity_type"], lead["entity_id"]), [])
        graph = _group_graph(con, leads, links)
    finally:
        con.close()
    df = rank(leads, run_id)
    leads_path = run_dir / "leads.parquet"
    df.write_parquet(leads_path)
    keep = df.select("entity_type", "entity_id").unique()
    if values:
        peer_distribution(pl.concat(values, how="vertical"), keep).write_parquet(run_dir / "peers.parquet")
    graph.write_parquet(run_dir / "group_links.parquet")
    xlsx = run_dir / "leads.xlsx"
    write_excel(df, xlsx)
    by_type = {
        k: int(v) for k, v in df.group_by("entity_type").agg(pl.col("entity_id").n_unique()).iter_rows()
    }
    secs = time.perf_counter() - t0
    record = {
        "run_id": run_id,
        "time": datetime.now().isoformat(timespec="seconds"),
        "leads": df.height,
        "entities_by_type": by_type,
        "hits": str(hits_path) if hits_path else None,
        "seconds": round(secs, 2),
        "models": sorted(df["model"].unique().to_list()),
        "supervised": figures,
    }
    (run_dir / "run.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return ModelRun(run_id, run_dir, leads_path, xlsx, df.height, by_type, secs, record["hits"], figures)


def _anchor_institutions(con, leads: list[dict]) -> dict[tuple[str, str], list[str]]:
    """Each lead entity's institutions, most linked visits first: itself for an institution or pharmacy, the
    department's institution, a doctor's main institution, and for persons and groups the institutions of
    their linked visits (a person without linked visits: the institutions of all their visits)."""
    out: dict[tuple[str, str], list[str]] = {}
    pairs: list[tuple[str, str, str]] = []  # (entity_type, entity_id, mdtrt_id)
    for x in leads:
        key = (x["entity_type"], x["entity_id"])
        if x["entity_type"] in ("institution", "pharmacy"):
            out[key] = [x["entity_id"]]
        elif x["entity_type"] == "department":
            out[key] = [x["entity_id"].split("/")[0]]
        elif x["entity_type"] in ("person", "group"):
            pairs += [(*key, v) for v in x["visits"]]
    if pairs:
        con.register(
            "_lead_visits", pl.DataFrame(pairs, schema=["et", "eid", "mdtrt_id"], orient="row").to_arrow()
        )
        rows = con.execute(
            "SELECT et, eid, list(inst ORDER BY n DESC, inst) FROM (SELECT l.et, l.eid, v.inst, count(*) AS n "
            "FROM _lead_visits l JOIN visits v USING (mdtrt_id) GROUP BY ALL) GROUP BY ALL"
        ).fetchall()
        con.unregister("_lead_visits")
        out.update({(et, eid): insts for et, eid, insts in rows})
    people = sorted(
        {x["entity_id"] for x in leads if x["entity_type"] == "person"}
        - {k[1] for k in out if k[0] == "person"}
    )
    doctors = sorted({x["entity_id"] for x in leads if x["entity_type"] == "doctor"})
    for etype, col, ids in (("person", "psn", people), ("doctor", "doctor", doctors)):
        if ids:
            rows = con.execute(
                f"SELECT {col}, list(inst ORDER BY n DESC, inst) FROM (SELECT {col}, inst, count(*) AS n "
                f"FROM visits WHERE {col} IN (SELECT unnest(?)) GROUP BY ALL) GROUP BY ALL",
                [ids],
            ).fetchall()
            out.update({(etype, eid): insts for eid, insts in rows})
    return out


def _group_graph(con, leads: list[dict], links: list[dict]) -> pl.DataFrame:
    """The group graph's edges: member–member links (co-admissions) and member–institution links (stays)."""
    schema = {"group_id": pl.String, "source": pl.String, "target": pl.String, "kind": pl.String,
              "weight": pl.Int64, "times": pl.Int64}  # fmt: skip
    groups = {x["entity_id"]: x for x in leads if x["entity_type"] == "group"}
    rows = [dict(link, kind="person") for link in links if link["group_id"] in groups]
    pairs = [(gid, v) for gid, x in groups.items() for v in x["visits"]]
    if pairs:
        con.register(
            "_group_visits", pl.DataFrame(pairs, schema=["gid", "mdtrt_id"], orient="row").to_arrow()
        )
        for gid, psn, inst, n in con.execute(
            "SELECT g.gid, v.psn, v.inst, count(*) FROM _group_visits g JOIN visits v USING (mdtrt_id) "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall():
            rows.append({"group_id": gid, "source": psn, "target": inst, "kind": "institution",
                         "weight": int(n), "times": int(n)})  # fmt: skip
        con.unregister("_group_visits")
    return pl.DataFrame(rows, schema=schema)


def _hit_money(con, hits_path: Path | None) -> pl.DataFrame | None:
    if hits_path is None or not hits_path.exists():
        return None
    return frame(
        con,
        "SELECT fixmedins_code, sum(amount)::DOUBLE AS hit_money FROM read_parquet(?) GROUP BY 1",
        [str(hits_path)],
    )


def rank(leads: list[dict], run_id: str) -> pl.DataFrame:
    """One row per (entity, model); ``rank`` is the entity's place within its type by its best score."""
    schema = {
        "entity_type": pl.String,
        "entity_id": pl.String,
        "entity_name": pl.String,
        "peer_group": pl.String,
        "model": pl.String,
        "score": pl.Float64,
        "reasons": pl.List(pl.String),
        "visits": pl.List(pl.String),
        "related": pl.List(pl.String),
        "money": pl.Float64,
        "institutions": pl.List(pl.String),
    }
    df = pl.DataFrame(leads, schema=schema)
    best = (
        df.group_by("entity_type", "entity_id")
        .agg(best=pl.col("score").max())
        .sort(["entity_type", "best", "entity_id"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("entity_type"))
    )
    df = df.join(best.select("entity_type", "entity_id", "rank"), on=["entity_type", "entity_id"])
    return df.sort(["entity_type", "rank", "score"], descending=[False, False, True]).select(
        pl.lit(run_id).alias("run_id"), "entity_type", "entity_id", "entity_name", "rank", "score", "model",
        pl.col("model").replace_strict({k: c.name_zh for k, c in CARDS.items()}, default=pl.col("model")).alias("model_name"),
        "reasons", "money", "peer_group", "visits", "related", "institutions",
    )  # fmt: skip


def write_excel(df: pl.DataFrame, path: Path) -> None:
    """The leads with Chinese headers and values: one sheet, lists joined with '；'."""
    out = df.select(
        pl.col("rank").alias("排名"),
        pl.col("entity_type").replace_strict(ENTITY_ZH, default=pl.col("entity_type")).alias("对象类型"),
        pl.col("entity_id").alias("对象编号"),
        pl.col("entity_name").alias("对象名称"),
        pl.col("model_name").alias("模型"),
        pl.col("score").round(2).alias("风险分"),
        pl.col("reasons").list.join("；").alias("主要理由"),
        pl.col("money").alias("涉及金额（元）"),
        pl.col("peer_group").alias("同类组"),
        pl.col("visits").list.join("、").alias("关联就诊/品种"),
        pl.col("related").list.join("、").alias("关联对象"),
        pl.col("institutions").list.join("、").alias("关联机构"),
    )
    out.write_excel(path, worksheet="线索", autofit=True, freeze_panes=(1, 0))


def lead_rows(leads_path: Path) -> list[dict]:
    """The leads of one run as plain dicts (lists as Python lists), riskiest first within each type: the
    shape a clue import needs (source 大数据模型)."""
    return pl.read_parquet(leads_path).to_dicts()
