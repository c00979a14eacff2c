"""The main job on the embedded default: synthetic city → ingest → reports, with one page to open.

Application layer, beside ``cli``: may import every package of ``fundguard``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console

from fundguard.core.workspace import Workspace
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine import run_batch
from fundguard.engine.export import write_hits_excel
from fundguard.kb import codes, knowledge
from fundguard.models import run_models
from fundguard.quality import profile_store
from fundguard.rules import load_rules, national_rule_files, workspace_rule_files
from fundguard.rules.spec import Rule, RuleSet
from fundguard.synth import CityConfig, generate_city


def run_demo(workspace: Path, *, lines: int, seed: int, fmt: str, progress: bool, console: Console) -> Path:
    """Run every step and return the path of ``index.html``; re-running reuses what is already there."""
    workspace.mkdir(parents=True, exist_ok=True)
    city_dir = workspace / "city"
    timings: dict[str, float] = {}

    console.rule("1/5 生成合成城市 Generating the synthetic city")
    cfg = CityConfig(seed=seed, fee_lines=lines, fmt=fmt, schemes=True)  # with the models' schemes
    started = time.perf_counter()
    if _same_city(city_dir, cfg):
        console.print(f"已存在相同配置的城市，跳过生成 Reusing the city already in {city_dir}")
    else:
        generate_city(city_dir, cfg, progress=progress)
    timings["generate"] = time.perf_counter() - started

    console.rule("2/5 导入 Ingesting")
    started = time.perf_counter()
    tables = [
        d for d in sorted(city_dir.iterdir()) if d.is_dir()
    ]  # not ground_truth.csv: it is no claims table
    ingest_report = ingest(tables, workspace, progress=progress)
    timings["ingest"] = time.perf_counter() - started
    console.print(ingest_report.summary_zh())

    console.rule("3/5 数据质量 Data quality")
    started = time.perf_counter()
    quality = profile_store(Store(workspace), icd10_codes=codes.icd10()["code"].to_list())
    quality_paths = quality.write(Workspace(workspace).reports)
    timings["quality"] = time.perf_counter() - started
    console.print(quality.summary_zh())

    console.rule("4/5 智能审核 Auditing")
    started = time.perf_counter()
    rules = load_rules([*national_rule_files(), *workspace_rule_files(workspace)])
    audit = run_batch(workspace, rules, progress=progress)
    write_hits_excel(audit.hits_path, rules, audit.run_dir / "hits.xlsx")
    timings["audit"] = time.perf_counter() - started
    console.print(
        f"{audit.rules} 条规则，命中 {audit.hits:,} 条 / {audit.hits:,} hits from {audit.rules} rules"
    )

    console.rule("5/5 大数据模型 Models")
    started = time.perf_counter()
    models = run_models(workspace, hits_path=audit.hits_path)
    timings["models"] = time.perf_counter() - started
    console.print(
        f"线索 {models.leads:,} 条 / {models.leads:,} leads: {models.leads_path.relative_to(workspace)}"
    )

    index = workspace / "index.html"
    env = _env()
    classes_page = write_rule_classes_page(workspace, audit.hits_path, rules)
    index.write_text(
        env.get_template("demo_index.html").render(
            created=datetime.now().isoformat(timespec="seconds"),
            workspace=workspace.resolve(),
            city=json.loads((city_dir / "city.json").read_text("utf-8")),
            ingest=ingest_report,
            quality=quality,
            quality_html=quality_paths["html"].relative_to(workspace),
            truth=_detection_by_type(city_dir / "ground_truth.csv", audit.hits_path),
            audit=audit,
            audit_dir=audit.run_dir.relative_to(workspace),
            outside=_hits_outside_truth(city_dir / "ground_truth.csv", audit.hits_path),
            models_dir=models.run_dir.relative_to(workspace),
            schemes=_scheme_ranks(city_dir / "schemes.csv", models.leads_path),
            timings={k: round(v, 1) for k, v in timings.items()},
            classes_page=classes_page.relative_to(workspace),
        ),
        "utf-8",
    )
    return index


def _env() -> Environment:
    return Environment(loader=PackageLoader("fundguard", "templates"), autoescape=select_autoescape())


NEW_CLASS_SEQS = frozenset({30, 39, 40, 46, 50, 52, 54, 55, 66, 69, 71, 72, 73, 74, 75, 76, 77, 86, 87})
"""The 2025 classes issue 12 implemented (coding, drug reasonable use, 中药饮片, frequency, consumables); the
rules of ``NEW_IN_OLD_CLASS`` are new too."""

NEW_IN_OLD_CLASS: dict[str, str] = {
    "trace_code_": "药品追溯码",
    "stay_quantity_cap": "按日/按小时计价",
    "L-DRUG-INDICATION-CLAUSE": "须核实检验值或既往治疗",
}
"""Issue 12's rules in classes covered before (by template name prefix or rule id): shown as a class of their own,
``<class>·<label>``, among the new ones."""


def _new_in_old_class(rule: Rule) -> str:
    """The ``NEW_IN_OLD_CLASS`` label of ``rule``, or "" when it belongs with its class."""
    return next(
        (lab for key, lab in NEW_IN_OLD_CLASS.items() if rule.id == key or rule.template.startswith(key)), ""
    )


@dataclass(frozen=True)
class ClassHits:
    """One rule class's hits in an audit run, for the demo's rule-class page."""

    seq: int
    name_zh: str
    new: bool
    rules: tuple[str, ...]
    hits: int
    amount: float
    example_rule: str
    example_zh: str


def rule_class_hits(hits: Path, rules: RuleSet) -> list[ClassHits]:
    """The run's hits grouped by 2025 rule class (issue 12's rules in older classes apart: ``NEW_IN_OLD_CLASS``), new
    classes first, then by hits; each with one example evidence (the first by visit, deterministic)."""
    names = dict(zip(knowledge.catalog()["seq"], knowledge.catalog()["name"], strict=True))
    with duckdb.connect() as con:
        per_rule = con.execute(
            """SELECT rule_id, count(*), COALESCE(sum(amount), 0),
                      arg_min(evidence_zh, concat_ws('|', mdtrt_id, array_to_string(bkkp_sn, ','), evidence_zh))
               FROM read_parquet(?, hive_partitioning = false) GROUP BY rule_id ORDER BY rule_id""",
            [str(hits)],
        ).fetchall()
    groups: dict[tuple[int, str], list[tuple]] = {}
    for rule_id, n, amount, example in per_rule:
        rule = rules.rules.get(rule_id)
        head = (rule.class_2025 if rule else "").split(" ", 1)[0]
        if not head.isdigit():
            continue  # a rule outside the 88 classes (模型类挂床 …)
        seq = int(head)
        label = _new_in_old_class(rule)
        name = f"{names.get(seq, '')}·{label}" if label else names.get(seq, "")
        groups.setdefault((seq, name), []).append((rule_id, int(n), float(amount), example, bool(label)))
    out = []
    for (seq, name), rs in groups.items():
        top = max(rs, key=lambda r: (r[1], r[0]))
        out.append(
            ClassHits(seq, name, seq in NEW_CLASS_SEQS or any(r[4] for r in rs), tuple(r[0] for r in rs),
                      sum(r[1] for r in rs), round(sum(r[2] for r in rs), 2), top[0], top[3])
        )  # fmt: skip
    return sorted(out, key=lambda c: (not c.new, -c.hits, c.seq))


def write_rule_classes_page(workspace: Path, hits: Path, rules: RuleSet) -> Path:
    """``<ws>/rule_classes.html``: the run's hits by 2025 rule class, the newly covered classes first."""
    classes = rule_class_hits(hits, rules)
    page = workspace / "rule_classes.html"
    page.write_text(
        _env()
        .get_template("demo_rule_classes.html")
        .render(
            created=datetime.now().isoformat(timespec="seconds"),
            hits_path=hits,
            new=[c for c in classes if c.new],
            old=[c for c in classes if not c.new],
        ),
        "utf-8",
    )
    return page


def _same_city(city_dir: Path, cfg: CityConfig) -> bool:
    """True when ``city_dir`` holds a finished city generated with the same seed, size and format."""
    meta = city_dir / "city.json"
    if not meta.exists():
        return False
    done = json.loads(meta.read_text("utf-8")).get("config", {})
    key = ("seed", "fee_lines", "fmt", "schemes")
    return tuple(done.get(k) for k in key) == (cfg.seed, cfg.fee_lines, cfg.fmt, cfg.schemes)


_TRUTH_LINES = """
    SELECT violation_id, violation_type, name_zh, NULLIF(mdtrt_id, '') AS mdtrt_id, fixmedins_code, hilist_code,
           TRY_CAST(amount AS DOUBLE) AS amount,
           unnest(CASE WHEN coalesce(bkkp_sn, '') = '' THEN [NULL] ELSE string_split(bkkp_sn, ';') END) AS bkkp_sn
    FROM read_csv(?, all_varchar = true)"""


def _detection_by_type(truth: Path, hits: Path) -> list[tuple[str, str, int, float, int]]:
    """Planted violations by type and how many the audit flagged: (type, 中文名, planted, money, detected).

    A violation counts as detected when a hit names one of its fee lines; one recorded per visit (no lines)
    when a hit names the visit; one recorded per institution × item (进销存) when a hit names both.
    """
    with duckdb.connect() as con:
        return _query(con, f"""WITH t AS ({_TRUTH_LINES}),
        flagged_lines AS (SELECT DISTINCT unnest(bkkp_sn) AS bkkp_sn FROM read_parquet(?)),
        flagged_visits AS (SELECT DISTINCT mdtrt_id FROM read_parquet(?)),
        flagged_items AS (SELECT DISTINCT fixmedins_code, hilist_code FROM read_parquet(?)),
        v AS (SELECT violation_id, any_value(violation_type) AS violation_type, any_value(name_zh) AS name_zh,
                     any_value(amount) AS amount,
                     bool_or(CASE WHEN t.bkkp_sn IS NOT NULL THEN fl.bkkp_sn IS NOT NULL
                                  WHEN t.mdtrt_id IS NOT NULL THEN fv.mdtrt_id IS NOT NULL
                                  ELSE fi.hilist_code IS NOT NULL END) AS detected
              FROM t LEFT JOIN flagged_lines fl ON fl.bkkp_sn = t.bkkp_sn
                     LEFT JOIN flagged_visits fv ON t.bkkp_sn IS NULL AND fv.mdtrt_id = t.mdtrt_id
                     LEFT JOIN flagged_items fi ON t.bkkp_sn IS NULL AND t.mdtrt_id IS NULL
                          AND fi.fixmedins_code = t.fixmedins_code AND fi.hilist_code = t.hilist_code
              GROUP BY violation_id)
        SELECT violation_type, any_value(name_zh), count(*), round(sum(amount), 2), count(*) FILTER (WHERE detected)
        FROM v GROUP BY 1 ORDER BY 5 DESC, 3 DESC""", [str(truth), str(hits), str(hits), str(hits)])  # fmt: skip


def _hits_outside_truth(truth: Path, hits: Path) -> int:
    """Hits that touch no planted violation (by line, visit or institution × item, as in detection): false
    flags, or real problems the generator did not label."""
    with duckdb.connect() as con:
        return _query(
            con,
            f"""WITH t AS ({_TRUTH_LINES})
        SELECT count(*) FROM read_parquet(?) h
        WHERE NOT EXISTS (SELECT 1 FROM t WHERE list_contains(h.bkkp_sn, t.bkkp_sn)
                             OR (t.bkkp_sn IS NULL AND t.mdtrt_id = h.mdtrt_id)
                             OR (t.bkkp_sn IS NULL AND t.mdtrt_id IS NULL AND t.fixmedins_code = h.fixmedins_code
                                 AND t.hilist_code = h.hilist_code))""",
            [str(truth), str(hits)],
        )[0][0]


def _scheme_ranks(schemes: Path, leads: Path) -> list[tuple[str, str, str, str, int | None, str]]:
    """Each planted scheme and control with its lead: (名称, 对象类型, 对象, 模型, 排名, 首要理由)."""
    from fundguard.models.cards import ENTITY_ZH
    from fundguard.models.evaluate import placements

    if not schemes.exists():
        return []
    out = []
    for p in placements(schemes.parent, leads):
        who = f"{len(p.entity_id.split(';'))}名成员" if p.entity_type == "group" else p.entity_id
        lead = p.lead or {}
        out.append((p.name_zh, ENTITY_ZH[p.entity_type], who, lead.get("model_name", "—"), p.rank,
                    (lead.get("reasons") or ["未生成线索"])[0]))  # fmt: skip
    return out


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list[str]) -> list[tuple]:
    return [tuple(r) for r in con.execute(sql, params).fetchall()]
