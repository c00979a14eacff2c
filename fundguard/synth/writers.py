"""Writing canonical Arrow tables as ``<table>/<table>-NNNNN.<ext>``, appending block by block.

Parquet keeps the canonical Arrow schema; CSV/JSONL/XLSX write every value as text (dates
'YYYY-MM-DD', datetimes 'YYYY-MM-DD HH:MM:SS', amounts with their decimals, codes with leading zeros).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

EXT = {"parquet": "parquet", "csv": "csv", "csv-gbk": "csv", "jsonl": "jsonl", "xlsx": "xlsx"}
XLSX_MAX_ROWS = 1_000_000
HIGH_CARDINALITY = frozenset(
    (
        "bkkp_sn",
        "mdtrt_id",
        "setl_id",
        "init_feedetl_sn",
        "init_setl_id",
        "rx_drord_no",
        "psn_no",
        "certno",
        "ipt_otp_no",
        "setl_list_diag_id",
        "setl_list_oprn_id",
        "invt_sn",
    )
)
"""Id columns written without a Parquet dictionary (it would overflow and fall back to plain anyway)."""


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or (pa.types.is_dictionary(t) and pa.types.is_string(t.value_type))


def _as_text(t: pa.Table) -> pa.Table:
    cols = []
    for c in t.columns:
        if pa.types.is_timestamp(c.type):
            c = pc.strftime(c, format="%Y-%m-%d %H:%M:%S")
        cols.append(c.cast(pa.string()))
    return pa.Table.from_arrays(cols, names=t.column_names)


class TableWriter:
    """Appends tables of one schema to numbered files, starting a new file every ``rows_per_file`` rows."""

    def __init__(self, out_dir: Path, name: str, schema: pa.Schema, fmt: str, rows_per_file: int) -> None:
        self.dir = out_dir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name, self.schema, self.fmt = name, schema, fmt
        self.limit = min(rows_per_file, XLSX_MAX_ROWS) if fmt == "xlsx" else rows_per_file
        self.files: list[Path] = []
        self.rows = 0
        self._in_file = 0
        self._h = None
        self._file_schema: pa.Schema | None = None

    def _conform(self, t: pa.Table) -> pa.Table:
        """``t`` in this writer's file schema, fixed by the first table (dictionary or plain per column)."""
        if self._file_schema is None:
            self._file_schema = pa.schema(
                [f.with_type(t.schema.field(f.name).type) for f in self.schema], metadata=self.schema.metadata
            )
        if t.schema.equals(self._file_schema):
            return t
        cols = []
        for f, c in zip(self._file_schema, t.columns, strict=True):
            if c.type != f.type:
                c = c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c
                c = c.dictionary_encode().cast(f.type) if pa.types.is_dictionary(f.type) else c.cast(f.type)
            cols.append(c)
        return pa.Table.from_arrays(cols, schema=self._file_schema)

    def _open(self) -> None:
        self.close_file()
        path = self.dir / f"{self.name}-{len(self.files):05d}.{EXT[self.fmt]}"
        self.files.append(path)
        self._in_file = 0
        if self.fmt == "parquet":
            # the file schema may keep dictionary-encoded strings (written directly, without re-hashing);
            # the canonical schema is stored as ARROW:schema, so readers get plain strings as before
            fs = self._file_schema or self.schema
            self._h = pq.ParquetWriter(
                path,
                fs,
                compression="zstd",
                store_schema=False,
                use_dictionary=[f.name for f in fs if f.name not in HIGH_CARDINALITY],
                write_statistics=[f.name for f in fs if not _is_text(f.type)],
            )
            self._h.add_key_value_metadata(
                {b"ARROW:schema": base64.b64encode(self.schema.serialize().to_pybytes())}
            )
        elif self.fmt == "xlsx":
            import xlsxwriter

            wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
            ws = wb.add_worksheet(self.name)
            ws.write_row(0, 0, self.schema.names)
            self._h = (wb, ws)
        else:
            self._h = path.open("wb")
            if self.fmt.startswith("csv"):
                header = ",".join(self.schema.names) + "\n"
                self._h.write(header.encode("gb18030" if self.fmt == "csv-gbk" else "utf-8"))

    def write(self, t: pa.Table) -> None:
        if self.fmt == "parquet":
            t = self._conform(t)
        if not self.files:
            self._open()
        while t.num_rows:
            room = self.limit - self._in_file
            if room <= 0:
                self._open()
                continue
            part, t = t.slice(0, room), t.slice(room)
            self._write_part(part)
            self._in_file += part.num_rows
            self.rows += part.num_rows

    def _write_part(self, t: pa.Table) -> None:
        if self.fmt == "parquet":
            self._h.write_table(t, row_group_size=256 * 1024)
            return
        text = _as_text(t)
        if self.fmt.startswith("csv"):
            buf = io.BytesIO()
            pacsv.write_csv(text, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            data = buf.getvalue()
            self._h.write(data.decode("utf-8").encode("gb18030") if self.fmt == "csv-gbk" else data)
        elif self.fmt == "jsonl":
            buf = io.BytesIO()
            pl.from_arrow(text).write_ndjson(buf)
            self._h.write(buf.getvalue())
        else:
            _wb, ws = self._h
            for i, row in enumerate(zip(*(c.to_pylist() for c in text.columns), strict=True)):
                r = self._in_file + 1 + i
                for j, val in enumerate(row):
                    if val is not None:
                        ws.write_string(r, j, val)

    def close_file(self) -> None:
        if self._h is None:
            return
        if self.fmt == "parquet":
            self._h.close()
        elif self.fmt == "xlsx":
            self._h[0].close()
        else:
            self._h.close()
        self._h = None

    def close(self) -> None:
        if not self.files:  # an empty table still gets a file with its header
            self._open()
        self.close_file()
