"""The ingest report: what happened to every file and row of one ``ingest()`` call, as JSON, HTML, Excel and text.

Counts always add up per file: ``rows_read == rows_loaded + rows_quarantined + rows_skipped_existing``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jinja2

from fundguard.data.validate import REASONS, WARNINGS

STATUS_ZH = {
    "loaded": "已导入",
    "already_imported": "已导入过（跳过）",
    "rejected": "拒绝",
    "withheld": "未入库（同批有文件被拒，整批不导入）",
    "skipped": "跳过（非数据表）",
}


@dataclass
class FileReport:
    path: str
    table: str = ""
    format: str = ""
    encoding: str = ""
    sha256: str = ""
    status: str = "loaded"
    """``loaded`` | ``already_imported`` | ``rejected`` | ``withheld`` (valid, but another file of the set was
    rejected, so nothing was stored) | ``skipped`` (found in a folder walk, not a table: not part of the set)."""
    reject_code: str = ""
    reject_zh: str = ""
    reject_en: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped_existing: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    warning_columns: dict[str, int] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    duplicated_columns: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    import_id: str = ""
    quarantine_file: str = ""
    seconds: float = 0.0

    @property
    def lines_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def check_counts(self) -> None:
        total = self.rows_loaded + self.rows_quarantined + self.rows_skipped_existing
        assert self.rows_read == total, f"{self.path}: read {self.rows_read} != {total} accounted"
        assert self.rows_quarantined == sum(self.reasons.values()), f"{self.path}: reasons do not add up"

    def to_dict(self) -> dict:
        return {**asdict(self), "lines_per_second": round(self.lines_per_second, 1)}


@dataclass
class IngestReport:
    ingest_id: str
    workspace: str
    started: str
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    report_files: list[str] = field(default_factory=list)
    published: bool = True
    """False when a rejected file kept the whole set out of the store."""

    @property
    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_skipped_existing")
        out = {k: sum(getattr(f, k) for f in self.files) for k in keys}
        out["files"] = len(self.files)
        for status in STATUS_ZH:
            out[f"files_{status}"] = sum(1 for f in self.files if f.status == status)
        return out

    def to_dict(self) -> dict:
        return {
            "ingest_id": self.ingest_id,
            "workspace": self.workspace,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "published": self.published,
            "totals": self.totals,
            "files": [f.to_dict() for f in self.files],
            "reasons": {k: {"zh": zh, "en": en} for k, (zh, en) in REASONS.items()},
            "warning_texts": {k: {"zh": zh, "en": en} for k, (zh, en) in WARNINGS.items()},
        }

    def to_json(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")

    def summary_zh(self) -> str:
        t = self.totals
        lines = [
            f"导入 {self.ingest_id}：{t['files']} 个文件（导入 {t['files_loaded']}，已导入过 "
            f"{t['files_already_imported']}，拒绝 {t['files_rejected']}），用时 {self.seconds:.1f} 秒",
            f"读取 {t['rows_read']:,} 行 = 入库 {t['rows_loaded']:,} + 隔离 {t['rows_quarantined']:,} "
            f"+ 库中已有 {t['rows_skipped_existing']:,}",
        ]
        if not self.published:
            lines.append("整批未入库：有文件被拒，其余文件也未导入（改正后重新导入整批）")
            lines.append(
                "Nothing stored: a file was rejected, so the whole set was held back (fix it, ingest again)"
            )
        for f in self.files:
            if f.status in ("rejected", "skipped"):
                lines.append(f"  {STATUS_ZH[f.status]} {Path(f.path).name}：{f.reject_zh}")
            elif f.rows_quarantined:
                top = ", ".join(
                    f"{REASONS[k][0]} {v}" for k, v in sorted(f.reasons.items(), key=lambda kv: -kv[1])[:3]
                )
                lines.append(
                    f"  {Path(f.path).name}：隔离 {f.rows_quarantined:,} 行（{top}）→ {f.quarantine_file}"
                )
        return "\n".join(lines)

    def to_html(self, path: Path) -> None:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("fundguard.data", "templates"), autoescape=jinja2.select_autoescape()
        )
        html = env.get_template("ingest_report.html.j2").render(
            r=self,
            totals=self.totals,
            reasons=REASONS,
            warnings=WARNINGS,
            status_zh=STATUS_ZH,
            name=lambda p: Path(p).name,
        )
        Path(path).write_text(html, encoding="utf-8")

    def to_excel(self, path: Path) -> None:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path))
        bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
        ws = wb.add_worksheet("文件")
        head = [
            "文件",
            "表",
            "格式",
            "编码",
            "状态",
            "拒绝原因",
            "读取行数",
            "入库行数",
            "隔离行数",
            "库中已有行数",
            "用时(秒)",
            "行/秒",
            "未识别列",
            "缺失可选列数",
            "SHA256",
            "隔离文件",
        ]
        ws.write_row(0, 0, head, bold)
        for i, f in enumerate(self.files, start=1):
            ws.write_row(
                i,
                0,
                [
                    f.path,
                    f.table,
                    f.format,
                    f.encoding,
                    STATUS_ZH.get(f.status, f.status),
                    f.reject_zh,
                    f.rows_read,
                    f.rows_loaded,
                    f.rows_quarantined,
                    f.rows_skipped_existing,
                    round(f.seconds, 2),
                    round(f.lines_per_second),
                    "、".join(f.unknown_columns),
                    len(f.missing_optional),
                    f.sha256,
                    f.quarantine_file,
                ],
            )
        ws.set_column(0, 0, 50)
        ws2 = wb.add_worksheet("隔离原因")
        ws2.write_row(0, 0, ["文件", "原因代码", "原因", "Reason", "行数"], bold)
        r = 1
        for f in self.files:
            for code, n in sorted(f.reasons.items()):
                ws2.write_row(r, 0, [f.path, code, REASONS[code][0], REASONS[code][1], n])
                r += 1
        ws3 = wb.add_worksheet("警告")
        ws3.write_row(0, 0, ["文件", "警告代码", "列", "说明", "行数"], bold)
        r = 1
        for f in self.files:
            for key, n in sorted(f.warning_columns.items()):
                code, _, col = key.partition(":")
                ws3.write_row(r, 0, [f.path, code, col, WARNINGS.get(code, (code,))[0], n])
                r += 1
        wb.close()
