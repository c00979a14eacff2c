"""Fast Arrow column builders from numpy: decimals from scaled integers, padded ids, dictionary lookups."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def decimal(values: np.ndarray, typ: pa.Decimal128Type) -> pa.Array:
    """Decimal128 from floats without a Python loop: the 16-byte unscaled integer, built in numpy."""
    unscaled = np.round(np.asarray(values, dtype=np.float64) * 10**typ.scale).astype(np.int64)
    buf = np.empty((len(unscaled), 2), dtype=np.int64)
    buf[:, 0] = unscaled
    buf[:, 1] = unscaled >> 63  # sign extension of the high word
    return pa.Array.from_buffers(typ, len(unscaled), [None, pa.py_buffer(buf.tobytes())])


def fixed_width(chars: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """A string array from an ``(n, width)`` uint8 matrix of ASCII bytes, one row per value (no copy of rows)."""
    chars = np.ascontiguousarray(chars, dtype=np.uint8)
    n, width = chars.shape
    offsets = (np.arange(n + 1, dtype=np.int64) * width).astype(np.int32)
    validity = None
    if mask is not None and mask.any():
        validity = pa.array(~np.asarray(mask, bool)).buffers()[1]
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(chars)], null_count=-1
    )


_QUADS = np.array([int.from_bytes(f"{i:04d}".encode(), "little") for i in range(10_000)], np.uint32)


def digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` ASCII digits of non-negative ``numbers``, zero-padded (four digits per lookup)."""
    x = np.asarray(numbers, dtype=np.int64)
    groups = -(-width // 4)
    out = np.empty((len(x), groups), np.uint32)
    for g in range(groups):
        out[:, groups - 1 - g] = _QUADS[x // 10 ** (4 * g) % 10_000]
    return out.view(np.uint8)[:, 4 * groups - width :]


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers``; negative numbers give nulls."""
    x = np.asarray(numbers, dtype=np.int64)
    if len(x) and x.max() >= 10**width:
        raise ValueError(f"id {x.max()} does not fit in {width} digits")
    head = np.frombuffer(prefix.encode("utf-8"), np.uint8)
    chars = np.empty((len(x), len(head) + width), np.uint8)
    chars[:, : len(head)] = head
    chars[:, len(head) :] = digits(np.maximum(x, 0), width)
    return fixed_width(chars, x < 0)


class Lookup:
    """A small value table (institutions, staff, catalogue fields) gathered as dictionary-encoded arrays.

    ``take`` costs one index gather, and Parquet writes the dictionary directly instead of hashing every
    string; the table's values may repeat or be null.
    """

    def __init__(self, values: list | np.ndarray | pa.Array) -> None:
        arr = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
        enc = arr.dictionary_encode()
        self.dictionary = enc.dictionary
        codes = enc.indices.to_numpy(zero_copy_only=False)
        self.codes = np.where(enc.indices.is_null().to_numpy(zero_copy_only=False), -1, codes).astype(
            np.int32
        )

    def take(self, idx: np.ndarray) -> pa.DictionaryArray:
        """``values[idx]``; negative indices (and null values) give nulls."""
        idx = np.asarray(idx, dtype=np.int64)
        codes = np.where(idx < 0, -1, self.codes[np.maximum(idx, 0)]) if len(self.codes) else idx * 0 - 1
        ind = pa.array(np.maximum(codes, 0).astype(np.int32), mask=codes < 0)
        return pa.DictionaryArray.from_arrays(ind, self.dictionary)


def lookup(values: list | np.ndarray | pa.Array, idx: np.ndarray) -> pa.DictionaryArray:
    """``values[idx]`` as a dictionary-encoded string array; negative indices give nulls."""
    return Lookup(values).take(idx)


def const(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([value], pa.string()))


def timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype="datetime64[s]"), pa.timestamp("s"))


def dates(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int64).astype("datetime64[D]"), pa.date32(), mask=mask)


_NULLS: dict[pa.DataType, pa.Array] = {}


def nulls(n: int, typ: pa.DataType) -> pa.Array:
    """``n`` nulls of ``typ``: a zero-copy slice of one cached array per type."""
    a = _NULLS.get(typ)
    if a is None or len(a) < n:
        a = _NULLS[typ] = pa.nulls(max(n, 262_144), typ)
    return a.slice(0, n)


def to_table(schema: pa.Schema, cols: dict[str, pa.Array], n: int) -> pa.Table:
    """A table in the canonical column order; absent columns are nulls. Dictionary-encoded string columns
    stay encoded (the writers decode or write them directly), so the table's schema may differ from
    ``schema`` in those columns only."""
    arrays, fields = [], []
    for f in schema:
        a = cols.get(f.name)
        if a is None:
            a = nulls(n, f.type)
        elif pa.types.is_dictionary(a.type) and a.type.value_type == f.type:
            pass
        elif a.type != f.type:
            a = a.cast(f.type)
        arrays.append(a)
        fields.append(f.with_type(a.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema.metadata))
