"""The model run: indicators per entity × month, every scenario model, ranked and explained leads.

``run_models(workspace)`` writes ``<ws>/leads/run=<id>/``: ``leads.parquet`` and ``leads.xlsx`` (Chinese
headers), the monthly indicator tables ``indicators_institution.parquet`` / ``indicators_pharmacy.parquet``
and ``run.json``. ``lead_rows(path)`` reads leads back as plain dicts, for importing them as clues.
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
        leads = (
            scenarios.institution_leads(con, hits)
            + scenarios.pharmacy_leads(con, hits)
            + scenarios.person_leads(con)
            + scenarios.doctor_leads(con)
            + scenarios.department_leads(con)
            + scenarios.group_leads(con)
        )
        figures = None
        if labels:
            extra, figures = scenarios.supervised_leads(con, labels)
            leads += extra
    finally:
        con.close()
    df = rank(leads, run_id)
    leads_path = run_dir / "leads.parquet"
    df.write_parquet(leads_path)
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
        "reasons", "money", "peer_group", "visits", "related",
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
    )
    out.write_excel(path, worksheet="线索", autofit=True, freeze_panes=(1, 0))


def lead_rows(leads_path: Path) -> list[dict]:
    """The leads of one run as plain dicts (lists as Python lists), riskiest first within each type: the
    shape a clue import needs (source 大数据模型)."""
    return pl.read_parquet(leads_path).to_dicts()
