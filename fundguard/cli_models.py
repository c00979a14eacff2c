"""``fundguard models ...``: the big-data model run, model cards and the Kaggle evaluation.

Application layer, beside ``cli`` (which mounts ``models_app``): may import every package of ``fundguard``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from fundguard.core.errors import FundGuardError

console = Console()
models_app = typer.Typer(
    help="大数据反欺诈模型 Big-data anti-fraud models: run (ranked leads), list and show model cards, kaggle.",
    no_args_is_help=True,
)


def _fail(err: FundGuardError) -> typer.Exit:
    console.print(f"[red]错误[/red] {err.zh}\n[red]Error[/red] {err.en}")
    return typer.Exit(code=2)


@models_app.command("run")
def models_run(
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help="工作区目录 Workspace directory.")
    ] = Path("workspace"),
    hits: Annotated[
        Path | None,
        typer.Option(
            help="规则命中文件（默认最近一次审核）hits.parquet of an audit run (default: the latest)."
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="每类对象显示前几名 Leads to print per entity type.")] = 5,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="机构核实结论 entity_id,label（1 确认 / 0 撤销），启用有标签监督模型 Outcomes per institution "
            "(1 confirmed / 0 overturned): adds the supervised model."
        ),
    ] = None,
    labels_from_service: Annotated[
        bool,
        typer.Option(
            "--labels-from-service",
            help="从监管服务库读取已办结线索的结论作为标签 Labels from the service database's decided clues.",
        ),
    ] = False,
    database_url: Annotated[
        str | None, typer.Option(help="监管服务数据库 URL Service database URL (default: the workspace's).")
    ] = None,
) -> None:
    """运行全部模型，输出排序并说明理由的线索 Run every model; write ranked, explained leads
    (WS/leads/run=<id>/leads.parquet and leads.xlsx)."""
    import polars as pl

    from fundguard.models import run_models
    from fundguard.models.cards import ENTITY_ZH
    from fundguard.models.supervised import read_entity_labels

    if hits is not None and not hits.exists():
        raise _fail(FundGuardError(f"找不到命中文件 {hits}", f"hits file not found: {hits}"))
    try:
        outcomes = read_entity_labels(labels) if labels else None
        if labels_from_service:
            outcomes = {**_service_labels(workspace, database_url), **(outcomes or {})}
            labels = labels or Path("service")
        result = run_models(workspace, hits_path=hits, labels=outcomes)
    except FundGuardError as err:
        raise _fail(err) from err
    df = pl.read_parquet(result.leads_path)
    for etype in ENTITY_ZH:
        best = df.filter((pl.col("entity_type") == etype) & (pl.col("rank") <= top)).unique(
            ["entity_id"], keep="first", maintain_order=True
        )
        for r in best.iter_rows(named=True):
            console.print(
                f"{ENTITY_ZH[etype]} 第{r['rank']}名 [bold]{r['entity_name'] or r['entity_id']}[/bold] "
                f"{r['model_name']} 风险分 {r['score']:.1f} 金额 {r['money']:,.0f}元：{'；'.join(r['reasons'])}"
            )
    counts = "，".join(f"{ENTITY_ZH.get(k, k)} {v}" for k, v in sorted(result.by_type.items()))
    console.print(
        f"线索 {result.leads} 条（{counts}），{result.seconds:.1f} 秒 / {result.leads} leads in {result.seconds:.1f} s"
        + (
            f"；规则命中取自 rule hits from {result.hits_run}"
            if result.hits_run
            else "；未找到审核结果 no audit run"
        )
    )
    if labels:
        f = result.supervised
        console.print(
            f"有标签监督模型：按机构分组交叉验证 ROC-AUC {f['roc_auc']}、PR-AUC {f['pr_auc']}（{f['entities']}家）"
            f" / supervised model, institution-grouped CV ROC-AUC {f['roc_auc']}"
            if f
            else "标签不足（每类至少2家机构），未训练监督模型 / too few labels (2 per class), no supervised model"
        )
    console.print(f"输出 Output: [bold]{result.leads_path}[/bold]、{result.xlsx_path.name}")


def _service_labels(workspace: Path, database_url: str | None) -> dict[str, int]:
    from fundguard.cli import _service_session
    from fundguard.service.leads import institution_labels

    with _service_session(workspace, database_url) as s:
        return institution_labels(s)


@models_app.command("evaluate")
def models_evaluate(
    workspace: Annotated[
        Path, typer.Option("--workspace", "-w", help="工作区目录 Workspace directory.")
    ] = Path("workspace"),
    database_url: Annotated[
        str | None, typer.Option(help="监管服务数据库 URL Service database URL (default: the workspace's).")
    ] = None,
    labels_out: Annotated[
        Path | None,
        typer.Option(help="把机构标签写成 entity_id,label CSV Write the institution labels (for --labels)."),
    ] = None,
) -> None:
    """按模型统计线索核实结论（来自监管服务）：准确率 Precision by model from the service's decided model clues."""
    from fundguard.cli import _service_session
    from fundguard.models.cards import CARDS
    from fundguard.service.leads import institution_labels, model_precision

    with _service_session(workspace, database_url) as s:
        rows, labels = model_precision(s), institution_labels(s)
    t = RichTable(
        "模型 model", "线索 clues", "已办结 decided", "确认 confirmed", "撤销 refuted", "准确率 precision"
    )
    for r in rows:
        name = CARDS[r["model"]].name_zh if r["model"] in CARDS else r["model"]
        prec = "—" if r["precision"] is None else f"{r['precision']:.0%}"
        t.add_row(name, str(r["clues"]), str(r["decided"]), str(r["confirmed"]), str(r["refuted"]), prec)
    console.print(t)
    pos = sum(labels.values())
    console.print(
        f"机构标签 {len(labels)} 家（确认 {pos}，撤销 {len(labels) - pos}）/ institution labels: {len(labels)}"
        + ("；可用 fundguard models run --labels-from-service 训练监督模型" if labels else "")
    )
    if labels_out:
        labels_out.write_text(
            "entity_id,label\n" + "".join(f"{k},{v}\n" for k, v in sorted(labels.items())), encoding="utf-8"
        )
        console.print(f"输出 Output: [bold]{labels_out}[/bold]")


@models_app.command("list")
def models_list() -> None:
    """列出模型卡 List the model cards."""
    from fundguard.models.cards import CARDS, ENTITY_ZH

    t = RichTable("编号 code", "名称 name", "对象 entity", "用途 purpose")
    for c in CARDS.values():
        t.add_row(c.code, c.name_zh, ENTITY_ZH[c.entity_type], c.purpose)
    console.print(t)


@models_app.command("show")
def models_show(
    code: Annotated[str, typer.Argument(help="模型编号 Model code (see `models list`).")],
) -> None:
    """显示模型卡：用途、输入、方法、验证结果、已知盲区 Show a model card: purpose, inputs, method, validation,
    known blind spots."""
    from fundguard.models.cards import CARDS, ENTITY_ZH

    card = CARDS.get(code)
    if card is None:
        raise _fail(
            FundGuardError(
                f"未知模型 {code}，可选：{'、'.join(CARDS)}",
                f"unknown model {code}; one of: {', '.join(CARDS)}",
            )
        )
    console.print(f"[bold]{card.name_zh}[/bold]（{card.code}）· 对象 {ENTITY_ZH[card.entity_type]}")
    for label, text in (
        ("用途 Purpose", card.purpose),
        ("输入 Inputs", card.inputs),
        ("方法 Method", card.method),
        ("验证 Validation", card.validation),
        ("已知盲区 Blind spots", card.blind_spots),
    ):
        console.print(f"[bold]{label}[/bold]：{text}")


@models_app.command("kaggle")
def models_kaggle(
    data: Annotated[
        Path, typer.Option(help="Kaggle 数据目录 Directory of the Kaggle CSV (or .csv.zip) files.")
    ],
    labels: Annotated[Path, typer.Option(help="标签 Provider,PotentialFraud labels CSV.")],
    out: Annotated[Path, typer.Option(help="输出 Provider,score CSV.")] = Path("predictions.csv"),
    folds: Annotated[int, typer.Option(help="交叉验证折数 Cross-validation folds.")] = 5,
) -> None:
    """在 Kaggle 医疗欺诈数据上按机构分组交叉验证并为每个机构打分 Provider-grouped cross-validation on the
    Kaggle provider-fraud data; writes a score for every provider."""
    from fundguard.models import kaggle

    if not data.is_dir():
        raise _fail(FundGuardError(f"找不到数据目录 {data}", f"data directory not found: {data}"))
    if not labels.is_file():
        raise _fail(FundGuardError(f"找不到标签文件 {labels}", f"labels file not found: {labels}"))
    try:
        result = kaggle.run(data, labels, out, folds=folds)
    except FundGuardError as err:
        raise _fail(err) from err
    for line in result.lines_zh():
        console.print(line)
    console.print(f"输出 Output: [bold]{out}[/bold]")
