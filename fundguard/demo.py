"""The main job on the embedded default: synthetic city → ingest → reports, with one page to open.

Application layer, beside ``cli``: may import every package of ``fundguard``.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console

from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.kb import codes
from fundguard.quality import profile_store
from fundguard.synth import CityConfig, generate_city


def run_demo(workspace: Path, *, lines: int, seed: int, fmt: str, progress: bool, console: Console) -> Path:
    """Run every step and return the path of ``index.html``; re-running reuses what is already there."""
    workspace.mkdir(parents=True, exist_ok=True)
    city_dir = workspace / "city"
    timings: dict[str, float] = {}

    console.rule("1/3 生成合成城市 Generating the synthetic city")
    cfg = CityConfig(seed=seed, fee_lines=lines, fmt=fmt)
    started = time.perf_counter()
    if _same_city(city_dir, cfg):
        console.print(f"已存在相同配置的城市，跳过生成 Reusing the city already in {city_dir}")
    else:
        generate_city(city_dir, cfg, progress=progress)
    timings["generate"] = time.perf_counter() - started

    console.rule("2/3 导入 Ingesting")
    started = time.perf_counter()
    tables = [
        d for d in sorted(city_dir.iterdir()) if d.is_dir()
    ]  # not ground_truth.csv: it is no claims table
    ingest_report = ingest(tables, workspace, progress=progress)
    timings["ingest"] = time.perf_counter() - started
    console.print(ingest_report.summary_zh())

    console.rule("3/3 数据质量 Data quality")
    started = time.perf_counter()
    quality = profile_store(Store(workspace), icd10_codes=codes.icd10()["code"].to_list())
    quality_paths = quality.write(workspace / "reports")
    timings["quality"] = time.perf_counter() - started
    console.print(quality.summary_zh())

    index = workspace / "index.html"
    env = Environment(loader=PackageLoader("fundguard", "templates"), autoescape=select_autoescape())
    index.write_text(
        env.get_template("demo_index.html").render(
            created=datetime.now().isoformat(timespec="seconds"),
            workspace=workspace.resolve(),
            city=json.loads((city_dir / "city.json").read_text("utf-8")),
            ingest=ingest_report,
            quality=quality,
            quality_html=quality_paths["html"].relative_to(workspace),
            truth=_ground_truth_summary(city_dir / "ground_truth.csv"),
            timings={k: round(v, 1) for k, v in timings.items()},
        ),
        "utf-8",
    )
    return index


def _same_city(city_dir: Path, cfg: CityConfig) -> bool:
    """True when ``city_dir`` holds a finished city generated with the same seed, size and format."""
    meta = city_dir / "city.json"
    if not meta.exists():
        return False
    done = json.loads(meta.read_text("utf-8")).get("config", {})
    return (done.get("seed"), done.get("fee_lines"), done.get("fmt")) == (cfg.seed, cfg.fee_lines, cfg.fmt)


def _ground_truth_summary(path: Path) -> list[tuple[str, str, int, float]]:
    """Planted violations by type: (type, 中文名, count, money at issue)."""
    rel = duckdb.sql(
        "SELECT violation_type, any_value(name_zh), count(*), round(sum(TRY_CAST(amount AS DOUBLE)), 2) "
        f"FROM read_csv('{path}', all_varchar=true) GROUP BY 1 ORDER BY 3 DESC"
    )
    return [tuple(r) for r in rel.fetchall()]
