"""``fundguard disclosure|exchange|crossregion ...`` (issue 16b): the static export of the public disclosure pages,
exchange files in and out (format 1.0, JSON or Excel), and linking clues to their patients' insurance regions.

Application layer, beside ``cli`` (which mounts the three sub-apps): may import every package of ``fundguard``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from fundguard.core.errors import FundGuardError, InputError

console = Console()
disclosure_app = typer.Typer(help="信息公开 Public disclosure: the static export for the bureau's website.",
                             no_args_is_help=True)  # fmt: skip
exchange_app = typer.Typer(
    help="部门协同 Inter-department exchange (公安/纪检监察/卫健/市场监管/药监/财政): export, import, schema.",
    no_args_is_help=True,
)
crossregion_app = typer.Typer(help="异地就医 Cross-region: link clues to their patients' insurance regions.",
                              no_args_is_help=True)  # fmt: skip

Workspace = Annotated[Path, typer.Option("--workspace", "-w", help="工作区目录 Workspace directory.")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="服务数据库 Service database URL.")]
AsUser = Annotated[str, typer.Option("--as", help="以该用户身份办理（其权限与管辖范围）Act as this user.")]


def _fail(err: FundGuardError) -> typer.Exit:
    console.print(f"[red]错误[/red] {err.zh}\n[red]Error[/red] {err.en}")
    return typer.Exit(code=2)


@contextmanager
def _session(workspace: Path, database_url: str | None) -> Iterator[Any]:
    from fundguard.service.db import Database, migrate
    from fundguard.service.db import database_url as default_url

    url = database_url or default_url(workspace)
    migrate(url)
    db = Database(url)
    try:
        with db.session() as s:
            yield s
    except FundGuardError as err:
        raise _fail(err) from err
    finally:
        db.dispose()


def _actor(session: Any, username: str) -> Any:
    from sqlalchemy import select

    from fundguard.service.auth import actor_for_user
    from fundguard.service.models import User

    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise _fail(InputError(f"未知用户 {username}", f"unknown user {username}"))
    return actor_for_user(session, user)


@disclosure_app.command("export")
def disclosure_export(
    out: Annotated[Path, typer.Option("--out", help="输出目录 Output folder for the static pages.")],
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """导出已发布的公开页面（静态 HTML，供局网站发布）Export the published pages as static HTML."""
    from fundguard.service.disclosure import export_site

    if out.exists() and not out.is_dir():
        raise _fail(InputError(f"输出路径不是目录：{out}", f"output path is not a folder: {out}"))
    with _session(workspace, database_url) as s:
        files = export_site(s, out)
    console.print(f"已导出 {len(files) - 2} 个公开事项 Exported items → {out}/index.html")


@exchange_app.command("export")
def exchange_export(
    out: Annotated[Path, typer.Option("--out", help="交换文件 .json 或 .xlsx Exchange file to write.")],
    as_user: AsUser,
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
    partner: Annotated[str, typer.Option(help="只导出给该部门 Only messages for this partner.")] = "",
) -> None:
    """导出移送及办理结果（交换格式 1.0）Export referrals and our results on partner findings."""
    from fundguard.service import exchange

    with _session(workspace, database_url) as s:
        env = exchange.export_envelope(s, _actor(s, as_user), partner or None)
        exchange.write_file(env, out)
    console.print(f"已导出 {len(env['messages'])} 条消息 Exported messages → {out}")


@exchange_app.command("import")
def exchange_import(
    path: Annotated[Path, typer.Argument(help="对方部门的交换文件 .json/.xlsx The partner's exchange file.")],
    as_user: AsUser,
    workspace: Workspace = Path("workspace"),
    database_url: DatabaseUrl = None,
) -> None:
    """导入回执、办理结果与部门认定（认定登记为线索）Import receipts, results and partner findings."""
    from fundguard.service import exchange

    if not path.is_file():
        raise _fail(InputError(f"文件不存在：{path}", f"no such file: {path}"))
    with _session(workspace, database_url) as s:
        done = exchange.import_file(s, _actor(s, as_user), path.name, path.read_bytes())
    console.print(f"已导入 {done['imported']} 条，跳过重复 {done['skipped']} 条；新线索 {done['clues']}；"
                  f"移送 {done['referrals']} / imported {done['imported']}, skipped {done['skipped']}")  # fmt: skip


@exchange_app.command("schema")
def exchange_schema(
    out: Annotated[Path, typer.Option("--out", help="JSON Schema 文件 File to write.")],
) -> None:
    """写出交换格式的 JSON Schema Write the exchange format's JSON Schema."""
    from fundguard.service.exchange import json_schema

    out.write_text(json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"→ {out}")


@crossregion_app.command("link")
def crossregion_link(workspace: Workspace = Path("workspace"), database_url: DatabaseUrl = None) -> None:
    """把线索关联到患者参保地（异地就医双方可见）Link clues to their patients' insurance regions."""
    from fundguard.service.crossregion import link_clues

    with _session(workspace, database_url) as s:
        n = link_clues(s, workspace)
    console.print(f"新增异地就医关联 {n} 条 Links added: {n}")
