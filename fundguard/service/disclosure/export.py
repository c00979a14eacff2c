"""Published items as plain HTML: the same pages serve ``/public/disclosure/`` (no JavaScript, readable on a phone
and by a screen reader) and the static export for the bureau's own website (``fundguard disclosure export``).
Only published items are ever rendered; every value is HTML-escaped."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from fundguard.service.disclosure.compose import KINDS
from fundguard.service.disclosure.service import public_item, public_items

CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:60rem;
padding:1rem;line-height:1.6;color:#1a1a1a}h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #999;padding:.3rem .5rem;
text-align:left}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:bold}
dd{margin:0}nav a{margin-right:1rem}.meta{color:#555}@media(max-width:40rem){table{font-size:.85rem}}
"""


def _page(title: str, body: str) -> str:
    t = html.escape(title)
    return (f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{t}</title><link rel="stylesheet" href="style.css"></head>'
            f'<body><header><nav aria-label="信息公开"><a href="index.html">信息公开首页</a></nav></header>'
            f'<main id="main">{body}</main><footer class="meta"><p>本页信息经审批后公开，个人信息已依法脱敏。</p>'
            f"</footer></body></html>\n")  # fmt: skip


def render_item_html(item: dict[str, Any]) -> str:
    c, e = item["content"], html.escape
    parts = [f"<article><h1>{e(c['title'])}</h1>",
             f'<p class="meta">{e(c["kind_zh"])} · 发布日期 {e(item["published_at"][:10])}</p>']  # fmt: skip
    parts += [f"<p>{e(p)}</p>" for p in c.get("paragraphs", [])]
    if c.get("facts"):
        parts.append("<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in c["facts"]) + "</dl>")
    for t in c.get("tables", []):
        head = "".join(f'<th scope="col">{e(col)}</th>' for col in t["columns"])
        rows = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in r) + "</tr>" for r in t["rows"])
        empty = "" if t["rows"] else f'<tr><td colspan="{len(t["columns"])}">无</td></tr>'
        parts.append(f"<h2>{e(t['caption'])}</h2><table><thead><tr>{head}</tr></thead>"
                     f"<tbody>{rows}{empty}</tbody></table>")  # fmt: skip
    parts.append("</article>")
    return _page(c["title"], "".join(parts))


def render_index_html(items: list[dict[str, Any]]) -> str:
    e = html.escape
    parts = ["<h1>医保基金监管信息公开</h1>"]
    for kind, zh in KINDS.items():
        mine = [i for i in items if i["kind"] == kind]
        links = "".join(f'<li><a href="{i["id"]}.html">{e(i["title"])}</a> '
                        f'<span class="meta">{e(i["published_at"][:10])}</span></li>' for i in mine)  # fmt: skip
        parts.append(f'<section id="{kind}"><h2>{e(zh)}</h2><ul>{links or "<li>暂无</li>"}</ul></section>')
    return _page("医保基金监管信息公开", "".join(parts))


def export_site(session: Session, out: Path) -> list[Path]:
    """Write index.html, one page per published item and style.css under ``out``; returns the files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    items = public_items(session)
    written = [out / "style.css", out / "index.html"]
    written[0].write_text(CSS, encoding="utf-8")
    written[1].write_text(render_index_html(items), encoding="utf-8")
    for i in items:
        p = out / f"{i['id']}.html"
        p.write_text(render_item_html(public_item(session, i["id"])), encoding="utf-8")
        written.append(p)
    return written
