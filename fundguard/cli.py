"""The ``fundguard`` command: one sub-command per job, help in Chinese and English.

This is the application layer: it may import every package of ``fundguard``; nothing imports it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from fundguard import __version__
from fundguard.core.errors import FundGuardError, InputError
from fundguard.core.workspace import Workspace as Layout

app = typer.Typer(
    name="fundguard",
    help="FundGuard 医保基金智能监管平台 — 导入国家医保平台格式数据、检查数据质量、智能审核（事前/事中/事后）、"
    "把命中转为线索并在监管工作台办理（线索→案件→处理）。\n\n"
    "FundGuard medical-insurance fund supervision: ingest national-platform data, check its quality, audit "
    "claims (real time and batch, DuckDB or Spark), and work the hits as clues and cases in the web workbench.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()

Workspace = Annotated[
    Path,
    typer.Option("--workspace", "-w", help="工作区目录 Workspace directory (store, quarantine, reports)."),
]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="不显示进度条 Hide progress bars.")]


def _fail(err: FundGuardError) -> typer.Exit:
    console.print(f"[red]错误[/red] {err.zh}\n[red]Error[/red] {err.en}")
    return typer.Exit(code=2)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="显示版本 Show the version.")] = False,
) -> None:
    if version:
        console.print(f"fundguard {__version__}")
        raise typer.Exit()


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="输出目录 Output directory for the generated tables.")],
    lines: Annotated[
        int, typer.Option("--lines", "-n", help="费用明细行数 Target number of fee lines.")
    ] = 1_000_000,
    seed: Annotated[
        int, typer.Option(help="随机种子（同种子同结果）Seed: the same seed gives the same files.")
    ] = 20250101,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="文件格式 File format: parquet | csv | csv-gbk | jsonl | xlsx."),
    ] = "parquet",
    violation_scale: Annotated[
        float,
        typer.Option(help="违规植入倍率，0 为无违规 Multiplier of every planted-violation rate; 0 = clean."),
    ] = 1.0,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            help="单类违规比例 Rate of one violation type, TYPE=RATE (repeatable); see `fundguard violations`."
        ),
    ] = None,
    no_progress: NoProgress = False,
) -> None:
    """生成合成城市 Generate a synthetic city with labelled violations.

    机构、医师、参保人、目录、就诊、结算、费用明细、进销存十张国家标准表，按随机种子确定生成，并植入带标注的违规
    （ground_truth.csv）。Deterministic by seed; writes the ten national tables and ground_truth.csv.
    """
    from fundguard.synth import VIOLATION_TYPES, CityConfig, generate_city

    rates = _parse_rates(rate or [])
    unknown = sorted(set(rates) - set(VIOLATION_TYPES))
    if unknown:
        raise typer.BadParameter(
            f"未知违规类型 unknown violation type(s): {', '.join(unknown)}", param_hint="--rate"
        )
    cfg = CityConfig(
        seed=seed, fee_lines=lines, fmt=fmt, violation_scale=violation_scale, violation_rates=rates
    )
    try:
        summary = generate_city(out, cfg, progress=not no_progress)
    except FundGuardError as err:
        raise _fail(err) from err
    t = RichTable("表 table", "行数 rows")
    for name, n in summary.counts.items():
        t.add_row(name, f"{n:,}")
    console.print(t)
    console.print(
        f"植入违规 planted violations: {sum(summary.violations.values()):,}（见 see ground_truth.csv）; "
        f"{summary.seconds:.1f} s, {summary.lines_per_second:,.0f} 行/秒 lines/s"
    )
    console.print(f"输出 Output: [bold]{out}[/bold]")


@app.command()
def violations() -> None:
    """列出合成城市可植入的违规类型 List the violation types the generator can plant."""
    from fundguard.synth import VIOLATION_TYPES

    t = RichTable("代码 code", "名称", "默认比例 default rate", "依据 legal basis")
    for v in VIOLATION_TYPES.values() if isinstance(VIOLATION_TYPES, dict) else VIOLATION_TYPES:
        t.add_row(
            str(getattr(v, "code", v)),
            getattr(v, "name_zh", ""),
            str(getattr(v, "rate", "")),
            getattr(v, "legal_basis", ""),
        )
    console.print(t)


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="文件或目录 Files or directories (CSV/GBK, xlsx, Parquet, JSONL).")
    ],
    workspace: Workspace = Path("workspace"),
    table: Annotated[
        str | None,
        typer.Option("--table", "-t", help="指定表名 Table name, when neither file name nor header tells."),
    ] = None,
    dictionary: Annotated[
        list[Path] | None,
        typer.Option(
            "--dictionary", "-d", help="地方字典 CSV (dic_type,code,name) extending the national code lists."
        ),
    ] = None,
    columns: Annotated[
        Path | None,
        typer.Option(
            "--columns",
            help="列映射 CSV (table,column,field): 本地表头 → 国家字段 Map the extract's own headers to fields.",
        ),
    ] = None,
    no_progress: NoProgress = False,
) -> None:
    """导入数据 Ingest national-format files into a workspace.

    校验每一行，错误行隔离并注明文件、行号和原因；一次导入（一个目录或几个文件）整批原子提交、可重复执行：
    有文件被拒则整批不入库，退出码 1。报告在 WORKSPACE/reports/。
    Bad rows go to quarantine with file, line and reason; one call (a folder or several files) is stored
    all-or-nothing and is idempotent: a rejected file keeps the whole set out and the exit code is 1.
    """
    from fundguard.data.ingest import ingest as run_ingest

    try:
        report = run_ingest(
            paths,
            workspace,
            table=table,
            progress=not no_progress,
            dictionary_files=dictionary or [],
            column_map=columns,
        )
    except FundGuardError as err:
        raise _fail(err) from err
    console.print(report.summary_zh())
    if report.published:
        _warn_unfed_rules(workspace)
    console.print(f"报告 Report: [bold]{Layout(workspace).reports / 'ingest-latest.html'}[/bold]")
    if not report.published:
        raise typer.Exit(code=1)


@app.command()
def quality(workspace: Workspace = Path("workspace")) -> None:
    """数据质量报告：表概况、跨表一致性、费用概况 Data-quality report of the workspace store."""
    report_paths = _quality(workspace)
    console.print(f"报告 Report: [bold]{report_paths['html']}[/bold]")


@app.command()
def store(workspace: Workspace = Path("workspace")) -> None:
    """工作区概况：每张表的行数与导入批次 What the workspace store holds."""
    from fundguard.data import schema
    from fundguard.data.store import Store

    s = Store(workspace)
    t = RichTable("表 table", "中文名", "行数 rows")
    for name, n in s.row_counts().items():
        t.add_row(name, schema.table(name).name_zh, f"{n:,}")
    console.print(t)
    console.print(f"导入批次 imports: {len(s.ingests())}")


RuleFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        "-r",
        help="规则文件或目录（默认国家规则）Rule files or folders (default: the national rules).",
    ),
]


LocalFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--local", "-l", help="本地规则/覆盖文件 Local rules or overrides on top of the national ones."
    ),
]


def _load_rules(paths: list[Path] | None):
    from fundguard.rules import load_rules

    try:
        return load_rules(paths or None)
    except FundGuardError as err:
        raise _fail(err) from err


@app.command()
def audit(
    workspace: Workspace = Path("workspace"),
    rules: RuleFiles = None,
    local: LocalFiles = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="执行引擎：duckdb（单机）或 spark（本地 Spark，可扩展到集群）Engine: duckdb or spark (PySpark).",
        ),
    ] = "duckdb",
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            help="增量审核：只审核该月（YYYY-MM）的费用明细与就诊，按各规则的时间窗读取历史 "
            "Incremental: audit only the lines and visits of this month, reading each rule's window of history.",
        ),
    ] = None,
    import_ids: Annotated[
        list[str] | None,
        typer.Option(
            "--import",
            help="增量审核：只审核该导入批次（导入编号或整批导入编号，可重复）"
            "Incremental: audit only this import (a file's import id or an ingest id; repeatable).",
        ),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark 主节点（默认 FUNDGUARD_SPARK_MASTER 或 local[2]；集群如 yarn、spark://…）Spark master.",
        ),
    ] = None,
    spark_store: Annotated[
        str | None,
        typer.Option(
            "--spark-store",
            help="Spark 读取的数据仓位置（如 hdfs://…/store、s3a://…；默认工作区 store/）Store URI for Spark.",
        ),
    ] = None,
    spark_work: Annotated[
        str | None,
        typer.Option(
            "--spark-work",
            help="Spark 工作目录（集群共享，存放 claim_lines；默认 <工作区>/cache/spark）Shared work folder URI.",
        ),
    ] = None,
    no_progress: NoProgress = False,
) -> None:
    """智能审核（事后）Run the rule library over the workspace store.

    每条命中带证据说明、违规金额与政策依据；结果以 Parquet 保存（含运行编号、规则集版本与输入指纹），并导出 Excel。
    Hits are written with a run id, the rule-set version and an input fingerprint, plus an Excel workbook.

    --month / --import 为增量审核：输出全量审核中属于该月/批次的命中（其就诊或明细在范围内），逐字节相同。
    --month / --import audit incrementally: the hits a full audit gives on those visits or naming those lines.
    """
    from fundguard.engine import run_batch
    from fundguard.engine.export import write_hits_excel
    from fundguard.rules import national_rule_files, workspace_rule_files

    own = workspace_rule_files(workspace)
    if own:
        console.print(
            f"工作区规则 Workspace rule files (e.g. rules paused by a maintainer): {[str(p) for p in own]}"
        )
    ruleset = _load_rules([*(rules or national_rule_files()), *(local or []), *own])
    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"应为 duckdb 或 spark / expected duckdb or spark, got {engine!r}")
    incremental = month is not None or bool(import_ids)
    if incremental and engine != "duckdb":
        raise typer.BadParameter("增量审核仅支持 duckdb 引擎 / incremental audit runs on the duckdb engine")
    try:
        if incremental:
            from fundguard.engine.incremental import run_incremental

            result = run_incremental(
                workspace, ruleset, month=month, imports=import_ids or (), progress=not no_progress
            )
        elif engine == "spark":
            from fundguard.core.settings import settings
            from fundguard.engine.spark import run_spark, spark_session

            session = spark_session(spark_master or settings().spark_master)
            result = run_spark(workspace, ruleset, spark=session, progress=not no_progress,
                               store_uri=spark_store, work_uri=spark_work)  # fmt: skip
        else:
            result = run_batch(workspace, ruleset, progress=not no_progress)
    except FundGuardError as err:
        raise _fail(err) from err
    excel = result.run_dir / "hits.xlsx"
    write_hits_excel(result.hits_path, ruleset, excel)
    t = RichTable("规则 rule", "名称", "命中 hits", "金额 amount")
    t.columns[0].no_wrap = True
    for rule_id, n in sorted(result.hits_by_rule.items(), key=lambda kv: -kv[1]):
        t.add_row(rule_id, ruleset[rule_id].name_zh, f"{n:,}", result.amount_by_rule[rule_id])
    console.print(t)
    console.print(
        f"{'增量 incremental: ' if incremental else ''}{result.rules} 条规则，扫描 {result.lines_scanned:,} 行明细，命中 {result.hits:,} 条，用时 {result.seconds:.1f} 秒"
        f" / {result.hits:,} hits over {result.lines_scanned:,} lines in {result.seconds:.1f} s"
    )
    console.print(f"结果 Results: [bold]{result.hits_path}[/bold]\nExcel: [bold]{excel}[/bold]")


@app.command("audit-claim")
def audit_claim(
    claim_file: Annotated[
        Path, typer.Argument(help="单据 JSON：国家表结构或 3101 报文 Claim JSON (national form or 3101).")
    ],
    workspace: Workspace = Path("workspace"),
    local: LocalFiles = None,
    stage: Annotated[
        str | None,
        typer.Option(help="事前 或 事中（3101 报文由 trig_scen 决定）事前 or 事中 (3101: from trig_scen)."),
    ] = None,
) -> None:
    """实时审核一张单据（事前提醒/事中审核）Audit one claim in real time against the patient's stored history.

    输入为国家表结构（{"mdtrt_d": [...], "fee_list_d": [...], ...}）或 3101 报文；输出 JSON 命中（含证据与违规金额）。
    Input: national-form tables or a 3101 message; prints the hits (evidence, amount) as JSON.
    """
    from fundguard.engine.payload3101 import parse_3101, response_3101
    from fundguard.engine.realtime import RealtimeAuditor
    from fundguard.rules import national_rule_files, workspace_rule_files

    try:
        payload = json.loads(claim_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(
            InputError(f"无法读取单据 {claim_file}：{exc}", f"cannot read claim {claim_file}: {exc}")
        ) from exc
    ruleset = _load_rules([*national_rule_files(), *(local or []), *workspace_rule_files(workspace)])
    try:
        with RealtimeAuditor(workspace, ruleset, stage=("事前", "事中")) as auditor:
            if isinstance(payload, dict) and ("input" in payload or "patient_dtos" in payload):
                req = parse_3101(payload, set(auditor.rule_by_id))
                hits = [auditor.audit_parsed(c.claim, stage=stage or req.stage) for c in req.claims]
                out = response_3101(req, hits, auditor.rule_by_id, 0.0)
            else:
                out = auditor.audit(payload, stage=stage or "事中")
    except FundGuardError as err:
        raise _fail(err) from err
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))


rules_app = typer.Typer(
    help="规则库 The rule library: list, show, test, coverage and backtest.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")


@rules_app.command("list")
def rules_list(
    rules: RuleFiles = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="输出 Markdown 文档 Print as Markdown (docs/rules.md).")
    ] = False,
) -> None:
    """列出规则 List the rules: id, name, template, 2025 class, result type, scenes."""
    ruleset = _load_rules(rules)
    if markdown:
        from fundguard.rules.spec import rules_markdown

        typer.echo(rules_markdown(ruleset))
        return
    t = RichTable(
        "编号 id", "名称 name", "模板 template", "2025分类 class", "结果 result", "场景 scenes", "启用"
    )
    t.columns[0].no_wrap = True
    for r in ruleset.rules.values():
        t.add_row(r.id, r.name_zh, r.template, r.class_2025, r.result_type, "、".join(r.scenes),
                  "是" if r.enabled else "否")  # fmt: skip
    console.print(t)
    console.print(f"{len(ruleset)} 条规则 rules · 版本 version {ruleset.version}")


def _warn_unfed_rules(workspace: Path) -> None:
    """After an import: say loudly which enabled rules the stored data cannot feed, and which columns lack."""
    from fundguard.rules import load_rules
    from fundguard.rules.readiness import readiness

    rows = [r for r in readiness(load_rules(), workspace) if r.status != "ready"]
    if not rows:
        return
    lacking: dict[str, list[str]] = {}
    for r in rows:
        for m in r.missing:
            lacking.setdefault(m, []).append(r.rule_id)
    console.print(
        f"[bold red]警告 WARNING[/bold red] {len(rows)} 条启用规则缺少所需数据列，将漏判或无法判定 / "
        f"{len(rows)} enabled rules lack columns they need:"
    )
    for col, ids in sorted(lacking.items()):
        shown = "、".join(ids[:6]) + (f" 等 {len(ids)} 条" if len(ids) > 6 else "")
        console.print(f"  [red]缺少 missing[/red] {col} → {shown}")
    console.print("  详见 See: fundguard rules coverage -w " + str(workspace))


@rules_app.command("coverage")
def rules_coverage(
    rules: RuleFiles = None,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="工作区：逐条规则检查数据能否支撑 Per rule, can this workspace's data feed it.",
        ),
    ] = None,
) -> None:
    """2025 版 88 类规则的覆盖情况 Coverage of the 2025 edition's 88 rule classes: implemented / knowledge
    loaded / not yet, with the reason; with ``-w`` also each rule's data readiness in that workspace."""
    from fundguard.models.indicators import INDICATORS
    from fundguard.rules.coverage import STATUS_ZH, coverage

    ruleset = _load_rules(rules)
    if workspace is not None:
        _print_readiness(ruleset, workspace)
    rows = coverage(ruleset, indicators=INDICATORS)
    t = RichTable("#", "一级", "二级", "规则类 class", "状态 status", "规则 rules", "说明 reason")
    for c in rows:
        colour = {"implemented": "green", "knowledge_loaded": "yellow"}.get(c.status, "red")
        t.add_row(str(c.seq), c.tier1, c.tier2, c.name, f"[{colour}]{STATUS_ZH[c.status]}[/{colour}]",
                  " ".join(c.rules), c.reason_zh)  # fmt: skip
    console.print(t)
    counts = {s: sum(c.status == s for c in rows) for s in STATUS_ZH}
    console.print(
        " · ".join(f"{STATUS_ZH[s]} {n}" for s, n in counts.items()) + f"（共 {len(rows)} 类 classes）"
    )


def _print_readiness(ruleset, workspace: Path) -> None:
    from fundguard.rules.readiness import STATUS_ZH as READY_ZH
    from fundguard.rules.readiness import readiness

    if not (workspace / "store").exists():
        raise _fail(InputError(f"工作区无数据：{workspace}", f"no store in workspace {workspace}"))
    rows = readiness(ruleset, workspace)
    t = RichTable("编号 id", "名称 name", "数据 data", "缺少 missing / 说明")
    t.columns[0].no_wrap = True
    for r in rows:
        colour = {"ready": "green", "missing": "yellow"}.get(r.status, "red")
        t.add_row(r.rule_id, r.name_zh, f"[{colour}]{READY_ZH[r.status]}[/{colour}]",
                  "、".join(r.missing) or r.note)  # fmt: skip
    console.print(t)
    counts = {s: sum(r.status == s for r in rows) for s in READY_ZH}
    console.print(
        " · ".join(f"{READY_ZH[s]} {n}" for s, n in counts.items()) + f"（共 {len(rows)} 条规则 rules）"
    )


@rules_app.command("backtest")
def rules_backtest(
    rule_ids: Annotated[list[str], typer.Argument(help="规则编号 Rule ids to replay.")],
    workspace: Workspace = Path("workspace"),
    rules: RuleFiles = None,
    local: Annotated[
        list[Path] | None,
        typer.Option("--local", "-l", help="待评估的本地规则/覆盖文件 Local rules or overrides to try."),
    ] = None,
    set_params: Annotated[
        list[str] | None,
        typer.Option("--set", help="试改参数 Try a parameter, RULE.PARAM=VALUE (YAML value; repeatable)."),
    ] = None,
) -> None:
    """上线前回测 Replay rules, or a change to them, over the stored data before switching it on.

    报告命中数、违规金额、涉及机构与医生，并与现行规则对照。Reports hits, money, institutions and doctors
    affected, current rules beside the changed ones.
    """
    import tempfile

    import yaml

    from fundguard.engine.backtest import backtest
    from fundguard.rules import national_rule_files

    base_files = [*(rules or national_rule_files())]
    current = _load_rules(base_files)
    overrides: dict[str, dict] = {}
    for item in set_params or []:
        key, sep, value = item.partition("=")
        rule_id, dot, param = key.rpartition(".")
        if not (sep and dot and rule_id):
            raise typer.BadParameter(
                f"应为 RULE.PARAM=VALUE / expected RULE.PARAM=VALUE, got {item!r}", param_hint="--set"
            )
        overrides.setdefault(rule_id, {})[param] = yaml.safe_load(value)
    with tempfile.TemporaryDirectory() as tmp:
        tried = Path(tmp) / "tried.yaml"
        tried.write_text(yaml.safe_dump([{"override": r, "params": p} for r, p in overrides.items()],
                                        allow_unicode=True), encoding="utf-8")  # fmt: skip
        changed = _load_rules([*base_files, *(local or []), *([tried] if overrides else [])])
    try:
        before = backtest(workspace, current, rule_ids) if all(r in current.rules for r in rule_ids) else None
        after = backtest(workspace, changed, rule_ids)
    except FundGuardError as err:
        raise _fail(err) from err
    t = RichTable("", "现行 current", "试改 changed")
    for label, attr in (("命中 hits", "hits"), ("违规金额 amount", "amount"), ("涉及机构 institutions", "institutions"),
                        ("涉及医生 doctors", "doctors")):  # fmt: skip
        t.add_row(label, str(getattr(before, attr)) if before else "—", str(getattr(after, attr)))
    console.print(t)
    top = RichTable(
        "机构 institution",
        "命中 hits",
        "金额 amount",
        title="试改后金额最多的机构 Top institutions (changed)",
    )
    for code, n, amount in after.top_institutions:
        top.add_row(code, f"{n:,}", amount)
    console.print(top)


@rules_app.command("test")
def rules_test(
    rules: RuleFiles = None,
    local: LocalFiles = None,
    rule_id: Annotated[
        list[str] | None, typer.Option("--rule", help="只测这些规则 Only these rule ids.")
    ] = None,
    no_progress: NoProgress = False,
) -> None:
    """运行规则的正例与反例 Run the rules' positive and negative examples through the real engine.

    每个模板随包附带示例（rules/examples/），本地规则须在规则文件的 examples 中自带至少一个正例和一个反例；
    每个示例写入临时数据仓并以批量引擎审核，命中必须与期望完全一致，未列出的明细不得命中。
    Every template ships examples; a local rule must carry a positive and a negative example in its own
    ``examples:``. Each example is ingested into a throw-away store and audited by the batch engine: the hits
    must equal the expected ones, and no other line may be flagged. Exit code 1 when any fails.
    """
    from fundguard.core.progress import progress_bar
    from fundguard.engine.examples import missing_examples, rule_examples, run_example, template_examples
    from fundguard.rules import national_rule_files

    ruleset = _load_rules([*(rules or national_rule_files()), *(local or [])])
    if rule_id:
        try:
            ruleset = ruleset.select(rule_id)
        except FundGuardError as err:
            raise _fail(err) from err
    templates = {r.template for r in ruleset.rules.values()}
    examples = [e for e in template_examples(templates) if e.rule_id in ruleset.rules]
    examples += rule_examples(ruleset)
    results = []
    with progress_bar(not no_progress) as bar:
        task = bar.add_task(f"示例 examples: {len(examples)}", total=len(examples))
        for e in examples:
            results.append(run_example(ruleset, e))
            bar.advance(task)
    t = RichTable("规则 rule", "示例 example", "来源 source", "命中 hits", "结果 result")
    t.columns[0].no_wrap = True
    for r in results:
        t.add_row(r.rule_id, r.name, Path(r.source).name, str(r.hits),
                  "[green]通过 ok[/green]" if r.ok else "[red]失败 FAIL[/red]\n" + "\n".join(r.problems))  # fmt: skip
    console.print(t)
    missing = missing_examples(ruleset)
    for m in missing:
        console.print(f"[red]{m}[/red]")
    failed = sum(not r.ok for r in results)
    console.print(
        f"{len(results)} 个示例，{failed} 个失败；{len(missing)} 条本地规则缺示例 / "
        f"{len(results)} examples, {failed} failed; {len(missing)} local rules lack examples"
    )
    if failed or missing:
        raise typer.Exit(1)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="规则编号 Rule id.")], rules: RuleFiles = None
) -> None:
    """查看一条规则及其生成的 SQL Show one rule, its metadata and the SQL it compiles to."""
    ruleset = _load_rules(rules)
    if rule_id not in ruleset.rules:
        console.print(f"[red]未知规则 unknown rule[/red] {rule_id}")
        raise typer.Exit(2)
    r = ruleset[rule_id]
    for key, value in r.normalised().items():
        console.print(f"[bold]{key}[/bold]: {value}")
    console.print("[bold]sql[/bold]:")
    console.print(r.sql(), markup=False, highlight=False)


@app.command("schema")
def show_schema(
    table: Annotated[
        str | None, typer.Argument(help="表名，省略则列出全部表 Table; omit to list all.")
    ] = None,
    markdown: Annotated[
        bool,
        typer.Option(
            "--markdown", help="输出全部表的 Markdown 文档 Print every table as Markdown (docs/tables.md)."
        ),
    ] = False,
) -> None:
    """查看标准表结构（国家医保平台字段代码）Show the canonical tables and their columns."""
    from fundguard.data import schema

    if markdown:
        typer.echo(schema.markdown(), nl=False)
        return
    if table is None:
        t = RichTable("表 table", "中文名", "列数 columns", "主键 key", "必填 required")
        t.columns[0].no_wrap = True
        for s in schema.tables().values():
            t.add_row(s.name, s.name_zh, str(len(s.fields)), ",".join(s.key), ",".join(s.required))
        console.print(t)
        return
    try:
        s = schema.table(table)
    except KeyError as err:
        console.print(f"[red]{err.args[0]}[/red]")
        raise typer.Exit(2) from err
    t = RichTable("#", "字段 field", "中文名", "类型 kind", "Arrow", "字典 dic", "必填", "主键")
    t.columns[1].no_wrap = True  # field codes are what users copy: never split them
    for i, f in enumerate(s.fields, 1):
        t.add_row(
            str(i),
            f.name,
            f.name_zh,
            f.kind,
            str(f.arrow_type),
            f.dic_type,
            "是" if f.required else "",
            "是" if f.key else "",
        )
    console.print(t)


@app.command()
def demo(
    workspace: Workspace = Path("fundguard-demo"),
    lines: Annotated[
        int, typer.Option("--lines", "-n", help="费用明细行数 Fee lines to generate.")
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="随机种子 Seed.")] = 20250101,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="生成文件格式 Format of the generated files.")
    ] = "csv",
    serve_after: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="结束后启动监管工作台 Serve the workbench at the end."),
    ] = True,
    port: Annotated[int, typer.Option(help="工作台端口 Workbench port.")] = 8000,
    no_progress: NoProgress = False,
) -> None:
    """一键演示 Run the main job: synthetic city → ingest → reports → audit → clues → workbench.

    生成合成城市、导入、生成数据质量报告、智能审核，把命中转为线索，建立各角色演示用户（打印密码），最后启动监管工作台。
    Generates the city, ingests it, writes the reports, audits it, turns the hits into clues, creates one demo
    user per role (passwords printed) and serves the web workbench (``--no-serve`` to stop before).
    """
    from fundguard.core.settings import settings
    from fundguard.demo import run_demo
    from fundguard.service import record
    from fundguard.service.clues import import_leads, import_run
    from fundguard.service.seed import (
        notify_demo_hospital,
        seed_cooperation,
        seed_demo,
        seed_demo_points,
        seed_demo_points_batch,
        seed_demo_reports,
        seed_inspection_year,
    )

    try:
        index = run_demo(
            workspace, lines=lines, seed=seed, fmt=fmt, progress=not no_progress, console=console
        )
        db = _service_db(workspace, None)
        try:
            with db.session() as s:
                summary = import_run(s, workspace)
                leads = import_leads(s, workspace)  # the models ran in run_demo, after the audit
                users = seed_demo(s, workspace)
                notify_demo_hospital(s)  # so the hospital's view has flags to appeal
                seed_inspection_year(s)  # a published draw and a flight inspection mid-way
                seed_demo_points(s)  # staff files, a suspended doctor, a pending 记分告知
                reported = seed_demo_reports(s)  # 举报: one rewarded, waiting for its claim (issue 16a)
                seed_cooperation(s, workspace)  # issue 16b: 异地就医 links, two published disclosures
                seed_demo_points_batch(s, workspace)  # PTS-001 batch clues, a 信用修复 application
            with db.session() as s:
                anchored = record.anchor(s, db.url)  # the head, exported outside the database
        finally:
            db.dispose()
    except FundGuardError as err:
        raise _fail(err) from err
    console.print(
        f"执法记录密钥 Record key (工作区之外 outside the workspace): {settings().record_key}\n"
        f"链头导出 Record head exported to: {anchored['file']}（`fundguard verify-log` 以此核对 checks against it）"
    )
    console.print(
        f"线索 Clues: 本次审核新增 {summary['clues_created']} 条 / {summary['clues_created']} new from the audit"
    )
    console.print(
        f"大数据模型线索 Model clues: 新增 {leads['clues_created']} 条 / {leads['clues_created']} new from the leads"
    )
    for r in reported:
        console.print(
            f"演示举报 Demo report {r['number']}：查询码 tracking code {r['code']}（/public/track.html）"
        )
    console.print(f"\n[bold green]完成 Done.[/bold green] 打开 Open: [bold]{index}[/bold]")
    console.print("演示用户 Demo users (每次运行重新生成密码 new passwords on every run):")
    _print_users(users)
    if serve_after:
        serve(workspace, None, "127.0.0.1", port, None, None)


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="FUNDGUARD_DATABASE_URL",
        help="监管服务数据库（默认工作区内 SQLite）Service database URL (default: SQLite in the workspace), "
        "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/fundguard",
    ),
]

from fundguard.cli_models import models_app  # noqa: E402 — the models block, mounted as a sub-app

app.add_typer(models_app, name="models")

service_app = typer.Typer(
    help="监管服务数据库 The supervision service database: migrate, demo users, clues from audits.",
    no_args_is_help=True,
)
app.add_typer(service_app, name="service")


def _service_db(workspace: Path, database_url: str | None):
    from fundguard.service.db import Database, migrate
    from fundguard.service.db import database_url as default_url

    url = database_url or default_url(workspace)
    migrate(url)
    return Database(url)


@contextmanager
def _service_session(workspace: Path, database_url: str | None) -> Iterator[Any]:
    """One transaction on the (migrated) service database; a FundGuardError becomes the command's failure."""
    db = _service_db(workspace, database_url)
    try:
        with db.session() as s:
            yield s
    except FundGuardError as err:
        raise _fail(err) from err
    finally:
        db.dispose()


def _print_users(users: list[dict]) -> None:
    t = RichTable("用户名 username", "密码 password", "角色 role", "范围 scope")
    for u in users:
        t.add_row(u["username"], u["password"], u["role_zh"], u["scope"])
    console.print(t)


apikeys_app = typer.Typer(
    help="实时审核接口密钥 API keys of the real-time audit, one institution each: issue, list, rotate, revoke.",
    no_args_is_help=True,
)
app.add_typer(apikeys_app, name="apikeys")


@apikeys_app.command("issue")
def apikeys_issue(
    institution: Annotated[str, typer.Argument(help="定点医药机构编号 fixmedins_code, e.g. H43010200001.")],
    name: Annotated[str, typer.Option(help="用途说明 What the key is for, e.g. 'HIS 住院结算'.")] = "",
    by: Annotated[str, typer.Option("--by", help="签发人 Who issues it (kept with the key).")] = "",
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """签发密钥（仅显示一次）Issue a key for an institution; it is printed once and stored only hashed."""
    from fundguard.service.realtime_keys import issue_key

    with _service_session(workspace, database_url) as s:
        row, text = issue_key(s, institution, name=name, created_by=by, workspace=workspace)
        key_id, code = row.key_id, row.fixmedins_code
    console.print(f"密钥编号 key id: {key_id}（机构 institution {code}）")
    console.print("密钥（只显示这一次，请交机构妥善保管）The key, shown this once — hand it over securely:")
    print(text)


@apikeys_app.command("list")
def apikeys_list(
    institution: Annotated[str | None, typer.Option(help="只列此机构 Only this institution.")] = None,
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """列出密钥（不含密钥本身）List keys: id, institution, state, last use — never the secret."""
    from fundguard.service.realtime_keys import key_state, list_keys

    db = _service_db(workspace, database_url)
    try:
        with db.session() as s:
            t = RichTable("编号 key id", "机构 institution", "用途 name", "状态 state", "签发 created",
                          "失效 until", "最近使用 last used")  # fmt: skip
            for k in list_keys(s, institution):
                t.add_row(k.key_id, k.fixmedins_code, k.name, key_state(k), _when(k.created_at),
                          _when(k.revoked_at or k.expires_at), _when(k.last_used_at))  # fmt: skip
    finally:
        db.dispose()
    console.print(t)


@apikeys_app.command("rotate")
def apikeys_rotate(
    key_id: Annotated[str, typer.Argument(help="密钥编号 Key id.")],
    grace_minutes: Annotated[
        int, typer.Option(min=0, max=10080, help="旧密钥继续有效的分钟数 Minutes the old key still works.")
    ] = 60,
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """轮换密钥：签发新密钥，旧密钥宽限期后失效 Rotate: a new key; the old one ends after the grace period."""
    import datetime as dt

    from fundguard.service.realtime_keys import rotate_key

    with _service_session(workspace, database_url) as s:
        row, text = rotate_key(s, key_id, grace=dt.timedelta(minutes=grace_minutes))
        new_id = row.key_id
    console.print(
        f"新密钥编号 new key id: {new_id}；旧密钥 {key_id} {grace_minutes} 分钟后失效 ends in {grace_minutes} min"
    )
    print(text)


@apikeys_app.command("revoke")
def apikeys_revoke(
    key_id: Annotated[str, typer.Argument(help="密钥编号 Key id.")],
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """吊销密钥（立即失效）Revoke a key: it stops working at once (within the servers' 10 s key cache)."""
    from fundguard.service.realtime_keys import revoke_key

    with _service_session(workspace, database_url) as s:
        revoke_key(s, key_id)
    console.print(f"已吊销 revoked: {key_id}")


def _when(t) -> str:  # type: ignore[no-untyped-def]
    return t.strftime("%Y-%m-%d %H:%M") if t else "—"


@service_app.command("init")
def service_init(workspace: Workspace = Path("workspace"), database_url: DatabaseUrl = None) -> None:
    """建库/升级到最新结构 Create or migrate the service database to the latest schema."""
    db = _service_db(workspace, database_url)
    console.print(f"数据库已就绪 Database ready: {db.url.split('@')[-1]}")
    db.dispose()


@service_app.command("seed")
def service_seed(workspace: Workspace = Path("workspace"), database_url: DatabaseUrl = None) -> None:
    """演示数据：区划、机构（取自数据仓）与各角色演示用户（打印密码）Demo regions, institutions and one user per role."""
    from fundguard.service.seed import seed_demo

    with _service_session(workspace, database_url) as s:
        users = seed_demo(s, workspace)
    _print_users(users)


@service_app.command("import")
def service_import(
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="审核运行编号（默认最新）Audit run id (default: latest).")
    ] = None,
) -> None:
    """把审核命中转为线索（机构×规则×月），可重复执行 Turn an audit run's hits into clues (idempotent)."""
    from fundguard.service.clues import import_run

    with _service_session(workspace, database_url) as s:
        summary = import_run(s, workspace, run_id)
    console.print(json.dumps(summary, ensure_ascii=False, default=str))


@service_app.command("import-leads")
def service_import_leads(
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="模型运行编号（默认最新）Model run id (default: latest).")
    ] = None,
) -> None:
    """把大数据模型线索转为线索（机构×月，来源 大数据模型），可重复执行 Turn model leads into clues (idempotent)."""
    from fundguard.service.clues import import_leads

    with _service_session(workspace, database_url) as s:
        summary = import_leads(s, workspace, run_id)
    console.print(json.dumps(summary, ensure_ascii=False, default=str))


@app.command("verify-log")
def verify_log(workspace: Workspace = Path("workspace"), database_url: DatabaseUrl = None) -> None:
    """校验执法全过程记录：密钥哈希链、最近导出的链头、线索/案件/用户的现状 Verify the enforcement record (keyed
    chain, latest exported head, current rows replayed against it); exit 1 if tampered."""
    from fundguard.service.db import database_url as default_url
    from fundguard.service.record import verify_database

    try:
        result = verify_database(database_url or default_url(workspace))
    except FundGuardError as err:
        raise _fail(err) from err
    anchor = result.get("anchor")
    where = (
        f"，与 {anchor['at']} 导出的链头一致 matches the head exported then"
        if anchor
        else "（尚无链头导出 no exported head yet）"
    )
    if result.get("ok"):
        console.print(f"[green]记录完整 Record intact[/green]: {result.get('entries')} 条 entries{where}")
        return
    for m in result.get("mismatches", [])[:50]:
        console.print(
            f"  {m['entity']} {m['id']} {m['field']}: 记录 recorded {m['recorded']} → 现值 now {m['current']}"
        )
    console.print(
        f"[red]记录被篡改 Record TAMPERED[/red]: {json.dumps({k: v for k, v in result.items() if k != 'mismatches'}, ensure_ascii=False, default=str)}"
    )
    raise typer.Exit(1)


record_app = typer.Typer(help="执法全过程记录 The enforcement record: export its head.", no_args_is_help=True)
app.add_typer(record_app, name="record")


@record_app.command("anchor")
def record_anchor(workspace: Workspace = Path("workspace"), database_url: DatabaseUrl = None) -> None:
    """导出链头（条数与哈希）到只追加文件 Append the record's head (count and hash) to the anchor file."""
    from fundguard.service import record
    from fundguard.service.db import Database
    from fundguard.service.db import database_url as default_url

    url = database_url or default_url(workspace)
    db = Database(url)
    try:
        with db.session() as s:
            line = record.anchor(s, url)
    except FundGuardError as err:
        raise _fail(err) from err
    finally:
        db.dispose()
    console.print(f"链头已导出 Head exported: 第 {line['seq']} 条 entries, {line['hash']} → {line['file']}")


@app.command()
def serve(
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option(help="监听地址 Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 Port.")] = 8000,
    certfile: Annotated[
        Path | None, typer.Option(help="TLS 证书（PEM）TLS certificate: serve HTTPS, session cookie Secure.")
    ] = None,
    keyfile: Annotated[Path | None, typer.Option(help="TLS 私钥（PEM）TLS private key.")] = None,
) -> None:
    """启动监管工作台与接口 Serve the web workbench and the API (OpenAPI docs at /api/docs)."""
    import uvicorn

    from fundguard.api.app import create_app

    try:
        web = create_app(workspace, database_url)
    except FundGuardError as err:
        raise _fail(err) from err
    if bool(certfile) != bool(keyfile) or any(p and not p.is_file() for p in (certfile, keyfile)):
        raise _fail(InputError("--certfile 与 --keyfile 须同时给出且文件存在",
                               "--certfile and --keyfile go together and must exist"))  # fmt: skip
    scheme = "https" if certfile else "http"
    console.print(
        f"工作台 Workbench: [bold]{scheme}://{host}:{port}/[/bold]  接口文档 API docs: {scheme}://{host}:{port}/api/docs"
    )
    tls = {"ssl_certfile": str(certfile), "ssl_keyfile": str(keyfile)} if certfile else {}
    uvicorn.run(web, host=host, port=port, log_level="warning", **tls)


def _quality(workspace: Path) -> dict[str, Path]:
    from fundguard.data.store import Store
    from fundguard.kb import codes
    from fundguard.quality import profile_store

    report = profile_store(Store(workspace), icd10_codes=codes.icd10()["code"].to_list())
    console.print(report.summary_zh())
    return report.write(Layout(workspace).reports)


def _parse_rates(items: list[str]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise typer.BadParameter(f"应为 TYPE=RATE / expected TYPE=RATE, got {item!r}")
    return rates


inspections_app = typer.Typer(
    help="监督检查 Inspections: 双随机一公开 draws from the registries, and their verification.",
    no_args_is_help=True,
)
app.add_typer(inspections_app, name="inspections")


@inspections_app.command("draw")
def inspections_draw(
    seed: Annotated[
        str, typer.Option("--seed", help="抽取前已确定的种子值 Seed value fixed before the draw.")
    ],
    out: Annotated[Path, typer.Option("--out", help="抽取记录 JSON 文件 Where to write the draw record.")],
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
    user: Annotated[
        str, typer.Option(help="以该监管用户身份抽取 Draw as this supervisor (scope).")
    ] = "sheng",
    title: Annotated[str, typer.Option(help="抽查任务名称 Title.")] = "双随机抽查",
    ratio: Annotated[float, typer.Option(help="各层抽取比例 Share drawn per stratum.")] = 0.1,
    team_size: Annotated[int, typer.Option(help="每组执法人员数 Inspectors per team (≥2).")] = 2,
    redraw_of: Annotated[
        int | None, typer.Option(help="重抽：被替代的抽取编号 Id of the draw replaced.")
    ] = None,
    reason: Annotated[str, typer.Option(help="重抽理由 Reason of a redraw.")] = "",
) -> None:
    """双随机抽取并写出封存记录 Draw targets and teams from the registries; write the sealed record."""
    from sqlalchemy import select

    from fundguard.service import auth, inspections
    from fundguard.service.draw_weights import pool_weights
    from fundguard.service.models import User

    with _service_session(workspace, database_url) as s:
        u = s.execute(select(User).where(User.username == user)).scalar_one_or_none()
        if u is None:
            raise InputError(f"用户不存在：{user}", f"no such user: {user}")
        actor = auth.actor_for_user(s, u)
        d = inspections.make_draw(s, actor, title=title, seed_value=seed,
                                  rules={"ratio": ratio, "team_size": team_size},
                                  previous_id=redraw_of, reason=reason, weigh=pool_weights(workspace))  # fmt: skip
        rec = inspections.draw_record(s, actor, d["id"])
    out.write_text(json.dumps(rec, ensure_ascii=False, indent=1), "utf-8")
    console.print(
        f"抽取 {d['number']}：{len(d['targets'])} 家机构 / drew {len(d['targets'])} targets; "
        f"哈希 hash {d['hash'][:16]}… → {out}"
    )


@inspections_app.command("verify-draw")
def inspections_verify_draw(
    record_file: Annotated[Path, typer.Argument(help="抽取记录 JSON Draw record file.")],
) -> None:
    """从记录重算抽取，有任何改动则退出码 1 Recompute a draw from its record; exit 1 if anything changed."""
    from fundguard.supervision.draws import verify

    try:
        rec = json.loads(record_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(InputError(f"无法读取抽取记录：{exc}", f"cannot read the draw record: {exc}")) from exc
    problems = verify(rec) if isinstance(rec, dict) else ["不是抽取记录"]
    if problems:
        for p in problems:
            console.print(f"[red]✗[/red] {p}")
        console.print("[red]抽取记录校验未通过 Draw record FAILS verification[/red]")
        raise typer.Exit(1)
    n = len(rec["result"]["targets"])
    console.print(
        f"[green]抽取记录完整，重算结果一致 Draw verified[/green]: {n} 家 targets, hash {rec['hash'][:16]}…"
    )


# ---------------------------------------------------------------- 医保支付资格记分 (issue 15)

points_app = typer.Typer(
    help="医保支付资格记分：全国联网查询、交换文件导入导出、结算快照 Payment-qualification points: lookup, exchange "
    "file in and out, the snapshot for the batch audit.",
    no_args_is_help=True,
)
app.add_typer(points_app, name="points")
AsUser = Annotated[str, typer.Option("--as", help="以该用户身份导入（须有记分管理权限）Act as this user.")]


def _points_actor(session, username: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from fundguard.service.auth import actor_for_user
    from fundguard.service.models import User

    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise InputError(f"未知用户 {username}", f"unknown user {username}")
    return actor_for_user(session, user)


@points_app.command("lookup")
def points_lookup(
    code: Annotated[str, typer.Argument(help="国家医保编码 National code (or the ID number with --id-no).")],
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
    id_no: Annotated[bool, typer.Option("--id-no", help="按身份证号查询 Look up by ID number.")] = False,
    on: Annotated[str, typer.Option("--on", help="服务日期 Service day (ISO, default today).")] = "",
) -> None:
    """查询某人某日的医保支付资格 A person's payment qualification on a day (all institutions)."""
    import datetime as dt

    from sqlalchemy import select

    from fundguard.service.models import Staff
    from fundguard.service.points import qualification_status

    db = _service_db(workspace, database_url)
    try:
        day = dt.date.fromisoformat(on) if on else None
        with db.session() as s:
            if id_no:
                code = (
                    s.execute(select(Staff.national_code).where(Staff.id_no == code.upper())).scalar() or code
                )
            q = qualification_status(s, code, day)
    except ValueError:
        raise _fail(InputError(f"日期无效：{on}", f"invalid date: {on}")) from None
    except FundGuardError as err:
        raise _fail(err) from err
    finally:
        db.dispose()
    console.print(
        f"{q['national_code']}  [bold]{q['status_zh']}[/bold]  本年记分 {q['points_year']}  {q['reason_zh']}"
    )
    console.print(json.dumps(q, ensure_ascii=False, default=str))


@points_app.command("export")
def points_export(
    out: Annotated[Path, typer.Argument(help="交换文件 Exchange file to write (CSV).")],
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """导出本地暂停/终止记录（全国交换文件，格式见 docs/points-exchange.md）Export the exchange file."""
    from fundguard.service.points import export_exchange

    db = _service_db(workspace, database_url)
    try:
        with db.session() as s:
            text = export_exchange(s, out)
    finally:
        db.dispose()
    console.print(f"已导出 {max(len(text.splitlines()) - 1, 0)} 条 Exported rows → {out}")


@points_app.command("import")
def points_import(
    path: Annotated[Path, typer.Argument(help="外地交换文件 Another region's exchange file (CSV/xlsx).")],
    as_user: AsUser,
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """导入外地暂停/终止通报（全国联网惩戒）Import other regions' suspensions; bad rows are listed, exit 1."""
    from fundguard.service.points import import_exchange

    if not path.is_file():
        raise _fail(InputError(f"文件不存在：{path}", f"no such file: {path}"))
    with _service_session(workspace, database_url) as s:
        result = import_exchange(s, _points_actor(s, as_user), path)
    console.print(f"已导入 Imported: {result['imported']}")
    for e in result["errors"]:
        console.print(f"[red]第 {e['line']} 行 line[/red] {e['reason_zh']} / {e['reason_en']}")
    if result["errors"]:
        raise typer.Exit(1)


@points_app.command("snapshot")
def points_snapshot(
    out: Annotated[Path, typer.Argument(help="快照文件 Parquet file to write.")],
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """写出资格暂停/终止期间快照供事后审核关联 Write the qualification periods for the batch audit (Parquet)."""
    from fundguard.service.points import write_snapshot

    db = _service_db(workspace, database_url)
    try:
        with db.session() as s:
            n = write_snapshot(s, out)
    finally:
        db.dispose()
    console.print(f"已写出 {n} 个期间 Periods written → {out}")


# issue 16b: 信息公开, 部门协同, 异地就医
from fundguard.cli_exchange import crossregion_app, disclosure_app, exchange_app  # noqa: E402

app.add_typer(disclosure_app, name="disclosure")
app.add_typer(exchange_app, name="exchange")
app.add_typer(crossregion_app, name="crossregion")


@points_app.command("batch")
def points_batch(
    as_user: AsUser,
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
    no_import: Annotated[
        bool, typer.Option("--no-import", help="只写出结果，不生成线索 Write the run only.")
    ] = False,
) -> None:
    """事后批量核查 PTS-001：暂停/终止期间人员开具或执行的费用，写为审核结果并生成线索 Flag the store's lines settled
    under a suspended or terminated person (a run under results/, imported as clues)."""
    from fundguard.service.clues import import_run
    from fundguard.service.points.batch import run_batch

    with _service_session(workspace, database_url) as s:
        actor = _points_actor(s, as_user)
        out = run_batch(s, actor, workspace)
        clues = None if no_import else import_run(s, workspace, out["run_id"], actor=actor)
    console.print(
        f"PTS-001：{out['lines']} 条费用中命中 {out['hits']} 条，金额 {out['amount']} 元 → run {out['run_id']}"
    )
    if clues is not None:
        console.print(f"生成线索 Clues created: {clues['clues_created']}, updated: {clues['clues_updated']}")
