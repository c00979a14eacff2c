"""Input files: format, encoding and header of each, and row streams for the formats DuckDB cannot read.

CSV/TXT (UTF-8 with or without BOM, GBK/GB18030) and Parquet are read by DuckDB itself (see ``ingest``):
this module only sniffs their header, delimiter and encoding, and transcodes non-UTF-8 text to UTF-8.
Excel ``.xlsx`` and JSON lines are streamed here as ``RawBatch``es of string columns named by position
(``c0``, ``c1``, … — raw headers may repeat or be empty) with the source line number of each row, plus the
rows that could not be split into fields (``BadRow``: extra cells, broken JSON).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fundguard.core.errors import InputError

BATCH_ROWS = 131_072
SNIFF_BYTES = 4 << 20
CSV_EXTENSIONS = {".csv", ".txt"}
EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}
PARQUET_EXTENSIONS = {".parquet", ".pq"}
JSONL_EXTENSIONS = {".jsonl", ".ndjson"}
SUPPORTED_EXTENSIONS = CSV_EXTENSIONS | EXCEL_EXTENSIONS | PARQUET_EXTENSIONS | JSONL_EXTENSIONS


@dataclass
class BadRow:
    line: int
    values: list[str]
    detail: str


@dataclass
class RawBatch:
    data: pa.Table
    lines: np.ndarray
    bad: list[BadRow] = field(default_factory=list)


def col_name(i: int) -> str:
    return f"c{i}"


def file_format(path: Path) -> str:
    ext = path.suffix.lower()
    for fmt, exts in (
        ("csv", CSV_EXTENSIONS),
        ("xlsx", EXCEL_EXTENSIONS),
        ("parquet", PARQUET_EXTENSIONS),
        ("jsonl", JSONL_EXTENSIONS),
    ):
        if ext in exts:
            return fmt
    raise InputError(
        f"不支持的文件类型 {path.name}（支持 {', '.join(sorted(SUPPORTED_EXTENSIONS))}）",
        f"unsupported file type {path.name} (supported: {', '.join(sorted(SUPPORTED_EXTENSIONS))})",
    )


def detect_encoding(head: bytes) -> str:
    """BOM first; else UTF-8 if the first few MB decode; else GB18030 (a superset of GBK and GB2312)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", "|", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class Source:
    """One input file opened for streaming."""

    format: str = ""
    encoding: str = ""
    header: list[str]
    notes: dict[str, int]
    """Warnings found while reading (code → count), e.g. Excel sheets skipped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.header = []
        self.notes = {}
        self.extra_columns: set[str] = set()

    def batches(self) -> Iterator[RawBatch]:
        raise NotImplementedError

    def position(self) -> int:
        """Bytes consumed so far (for the progress bar)."""
        return 0

    def close(self) -> None:
        return None


class CsvSource(Source):
    """A delimited text file: the header and encoding are sniffed here; DuckDB's CSV reader reads the rows."""

    format = "csv"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        self.encoding = detect_encoding(head)
        text = head.decode(self.encoding, errors="replace")
        first = text.split("\n", 1)[0].rstrip("\r").lstrip("\ufeff")
        self.delimiter = _sniff_delimiter(first)
        self.header = next(csv.reader([first], delimiter=self.delimiter)) if first.strip() else []

    def transcode_to_utf8(self, out: Path, *, chunk: int = 16 << 20) -> int:
        """Write the file as UTF-8 (DuckDB reads only UTF-8); returns how many bytes could not be decoded."""
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
        replaced = 0
        with self.path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            while block := src.read(chunk):
                text = decoder.decode(block)
                replaced += text.count("\ufffd")
                dst.write(text)
            dst.write(decoder.decode(b"", final=True))
        return replaced


def _rows_to_batch(rows: list[list[str]], lines: list[int], ncol: int, bad: list[BadRow]) -> RawBatch:
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(ncol)]
    data = pa.table({col_name(i): pa.array(cols[i], pa.string()) for i in range(ncol)})
    return RawBatch(data, np.asarray(lines, dtype=np.int64), bad)


def excel_cell_text(v: object) -> str | None:
    """An Excel cell as the text an export would have carried; numbers lose no digits Excel still has."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        # Past 15 digits Excel has already rounded the value: keep the float text so ID checks reject it.
        return repr(v) if abs(v) >= 1e15 or v == 0 else np.format_float_positional(v, trim="-")
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S")
    return str(v)


class ExcelSource(Source):
    format = "xlsx"
    encoding = "xlsx"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        import openpyxl

        self._wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        self._sheets = []
        first_header: list[str] | None = None
        for ws in self._wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            head = next(rows, None)
            header = [excel_cell_text(v) or "" for v in head] if head else []
            while header and not header[-1]:
                header.pop()
            if first_header is None:
                first_header = header
            if header and header == first_header:
                self._sheets.append(ws)
            elif header:
                self.notes["excel_sheet_skipped"] = self.notes.get("excel_sheet_skipped", 0) + 1
        self.header = first_header or []
        self._done_rows = 0

    def position(self) -> int:
        return self._done_rows

    def close(self) -> None:
        self._wb.close()

    def batches(self) -> Iterator[RawBatch]:
        ncol = len(self.header)
        if not ncol:
            return
        for ws in self._sheets:
            rows: list[list[str | None]] = []
            lines: list[int] = []
            bad: list[BadRow] = []
            for lineno, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
                cells = [excel_cell_text(v) for v in values]
                if all(c is None or c == "" for c in cells):
                    continue
                extra = cells[ncol:]
                if any(c not in (None, "") for c in extra):
                    bad.append(BadRow(lineno, [c or "" for c in cells], f"more than {ncol} filled cells"))
                    continue
                cells = (cells + [None] * ncol)[:ncol]
                rows.append(cells)
                lines.append(lineno)
                if len(rows) >= BATCH_ROWS // 2:
                    self._done_rows += len(rows)
                    yield _rows_to_batch(rows, lines, ncol, bad)  # type: ignore[arg-type]
                    rows, lines, bad = [], [], []
            if rows or bad:
                self._done_rows += len(rows)
                yield _rows_to_batch(rows, lines, ncol, bad)  # type: ignore[arg-type]


class ParquetSource(Source):
    """A Parquet file: DuckDB reads it (typed columns stay typed); this only names the columns."""

    format = "parquet"
    encoding = "parquet"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.header = list(pq.read_schema(path).names)


def _json_value_text(v: object) -> str | None:
    """A JSON value as text: scalars as an export would write them, nested values as JSON."""
    return json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else excel_cell_text(v)


class JsonLinesSource(Source):
    """One JSON object per line; the header is the union of keys of the first batch of objects."""

    format = "jsonl"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        with path.open("rb") as fh:
            self.encoding = detect_encoding(fh.read(SNIFF_BYTES))
        self._fh = path.open("r", encoding=self.encoding, errors="replace", newline="\n")
        self._first: list[tuple[int, str]] = []
        keys: dict[str, None] = {}
        for lineno, text in enumerate(self._fh, start=1):
            self._first.append((lineno, text))
            try:
                obj = json.loads(text)
            except ValueError:
                continue
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(obj))
            if len(self._first) >= BATCH_ROWS // 4:
                break
        self.header = list(keys)

    def position(self) -> int:
        try:
            return self._fh.buffer.tell()
        except (ValueError, OSError):
            return self.size

    def close(self) -> None:
        self._fh.close()

    def batches(self) -> Iterator[RawBatch]:
        index = {k: i for i, k in enumerate(self.header)}
        ncol = len(self.header)
        if not ncol:
            return
        pending = iter(self._first)
        rest = enumerate(self._fh, start=len(self._first) + 1)
        cols: list[list[str | None]] = [[] for _ in range(ncol)]
        lines: list[int] = []
        bad: list[BadRow] = []
        for source in (pending, rest):
            for lineno, text in source:
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                    if not isinstance(obj, dict):
                        raise ValueError("not an object")
                except ValueError as exc:
                    bad.append(BadRow(lineno, [text.rstrip("\r\n")[:2000]], f"json: {exc}"))
                    continue
                row: list[str | None] = [None] * ncol
                for k, v in obj.items():
                    i = index.get(k)
                    if i is None:
                        self.extra_columns.add(k)
                    else:
                        row[i] = _json_value_text(v)
                for i in range(ncol):
                    cols[i].append(row[i])
                lines.append(lineno)
                if len(lines) >= BATCH_ROWS // 2:
                    yield _cols_to_batch(cols, lines, bad)
                    cols, lines, bad = [[] for _ in range(ncol)], [], []
        if lines or bad:
            yield _cols_to_batch(cols, lines, bad)


def _cols_to_batch(cols: list[list[str | None]], lines: list[int], bad: list[BadRow]) -> RawBatch:
    data = pa.table({col_name(i): pa.array(c, pa.string()) for i, c in enumerate(cols)})
    return RawBatch(data, np.asarray(lines, dtype=np.int64), bad)


def open_source(path: Path) -> Source:
    """Open ``path``: its header, encoding and (for Excel and JSON lines) a stream of row batches."""
    fmt = file_format(path)
    if fmt == "csv":
        return CsvSource(path)
    if fmt == "xlsx":
        return ExcelSource(path)
    if fmt == "parquet":
        return ParquetSource(path)
    return JsonLinesSource(path)
