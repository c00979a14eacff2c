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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fundguard.core.errors import InputError

BATCH_ROWS = 131_072
SNIFF_BYTES = 4 << 20
MAX_COLUMNS = 1024
"""Widest header accepted (the widest national table has 106 columns): a file of thousands of columns is not
an extract, and DuckDB would exhaust its memory planning the query before reading a row."""
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
    code: str = "malformed_row"
    """The quarantine reason (``validate.REASONS``)."""


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
    """BOM first; else UTF-8 if the first few MB decode; else whichever of UTF-8 and GB18030 (a superset of GBK
    and GB2312) most of its non-ASCII lines are in. A file that mixes them is read in the majority's encoding
    and the other lines are quarantined (``decode_line``), never stored as mojibake."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    votes = Counter(
        decode_line(line, "utf-8")[1] is None
        for line in head.split(b"\n")[:-1] or [head]  # the last piece may be cut mid-character
        if not line.isascii()
    )
    return "utf-8" if votes[True] > votes[False] else "gb18030"


ENCODING_PROBLEMS = {
    "undecodable": ("含无法按文件编码解码的字节", "bytes that cannot be decoded in the file's encoding"),
    "utf8_in_gbk": ("GBK/GB18030 文件中的 UTF-8 行", "a UTF-8 line inside a GBK/GB18030 file"),
}


def decode_line(raw: bytes, encoding: str) -> tuple[str, str | None]:
    """The line ``raw`` as text, and why it is not in ``encoding`` (an ``ENCODING_PROBLEMS`` key) or None.

    GB18030 decodes almost any byte sequence, so a UTF-8 line in a GBK file would come out as plausible
    Chinese mojibake (阿莫西林 → 闃胯帿瑗挎灄): a non-ASCII line that is valid UTF-8 is taken as UTF-8 (and
    returned decoded so), since real GBK text almost never is. Undecodable bytes come back as U+FFFD."""
    if raw.isascii():
        return raw.decode("ascii"), None
    if encoding.startswith("gb"):
        try:
            return raw.decode("utf-8"), "utf8_in_gbk"
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode(encoding), None
    except UnicodeDecodeError:
        return raw.decode(encoding, errors="replace"), "undecodable"


def encoding_detail(problem: str) -> str:
    zh, en = ENCODING_PROBLEMS[problem]
    return f"{zh} / {en}"


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

    def _transcode_block(self, block: bytes, lineno: int, dst, bad: dict[int, tuple[str, str]]) -> int:
        """Write whole lines ``block`` (after line ``lineno``) as UTF-8; returns the last line's number.

        Fast path: no line is UTF-8 and the block decodes as a whole (one C call); else line by line."""
        parts = block.split(b"\n")  # lines as DuckDB numbers them: a lone \r ends none
        tail = parts.pop()
        lines = [p + b"\n" for p in parts] + ([tail] if tail else [])
        gb = self.encoding.startswith("gb")
        if not (gb and any(not r.isascii() and "\ufffd" not in r.decode("utf-8", "replace") for r in lines)):
            try:
                dst.write(block.decode(self.encoding))
                return lineno + len(lines)
            except UnicodeDecodeError:
                pass
        for raw in lines:
            lineno += 1
            text, problem = decode_line(raw, self.encoding)
            if problem is not None:
                bad[lineno] = (problem, text.rstrip("\r\n")[:2000])
            dst.write(text)
        return lineno

    def has_nul(self) -> bool:
        """Whether the file holds a NUL byte anywhere (a fast scan: rows with one are quarantined)."""
        with self.path.open("rb") as fh:
            while block := fh.read(16 << 20):
                if b"\x00" in block:
                    return True
        return False

    def transcode_to_utf8(self, out: Path, *, chunk: int = 16 << 20) -> dict[int, tuple[str, str]]:
        """Write the file as UTF-8 (DuckDB reads only UTF-8), line by line.

        Returns the lines that are not in the file's encoding (line number → (``ENCODING_PROBLEMS`` key, the
        line's text as best decoded)): they are still written (undecodable bytes as U+FFFD), one line each so
        that line numbers stay put, and ``ingest`` quarantines the rows they hold."""
        bad: dict[int, tuple[str, str]] = {}
        with self.path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            if self.encoding == "utf-16":  # lines are not split on one byte: decode in blocks
                decoder = codecs.getincrementaldecoder(self.encoding)(errors="replace")
                while block := src.read(chunk):
                    dst.write(decoder.decode(block))
                dst.write(decoder.decode(b"", final=True))
                return bad
            lineno, rest = 0, b""
            while block := src.read(chunk):
                data = rest + block
                cut = data.rfind(b"\n") + 1  # whole lines only: a character never spans two blocks
                rest = data[cut:]
                if cut:
                    lineno = self._transcode_block(data[:cut], lineno, dst, bad)
            if rest:
                self._transcode_block(rest, lineno, dst, bad)
        return bad


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
        self._fh = path.open("rb")
        self._first: list[tuple[int, bytes]] = []
        keys: dict[str, None] = {}
        for lineno, raw in enumerate(self._fh, start=1):
            self._first.append((lineno, raw))
            try:
                obj = json.loads(decode_line(raw, self.encoding)[0])
            except ValueError:
                continue
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(obj))
            if len(self._first) >= BATCH_ROWS // 4:
                break
        self.header = list(keys)

    def position(self) -> int:
        try:
            return self._fh.tell()
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
            for lineno, raw in source:
                text, problem = decode_line(raw, self.encoding)
                if not text.strip():
                    continue
                if problem is not None:
                    shown = [text.rstrip("\r\n")[:2000]]
                    bad.append(BadRow(lineno, shown, encoding_detail(problem), "bad_encoding"))
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
