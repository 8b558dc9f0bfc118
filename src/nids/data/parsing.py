"""Parse one flow CSV stream into the 2017 feature columns and the class of each row.

The stream is parsed in blocks (pyarrow's streaming reader, on every core), never read whole into
memory.
The header says which format the file is in (`formats.match_header`); every quirk of the
official files is handled: leading spaces in names, the duplicated " Fwd Header Length",
`Infinity`/`NaN`, blank all-comma lines, header lines repeated inside the file (the
CSE-CIC-IDS2018 files have them; elsewhere they mean files joined with `cat`, and a warning says
so), CRLF, a UTF-8 BOM. Numbers are read as float64 and narrowed to float32, so a value beyond
float32's range (1e39) is reported instead of silently becoming infinity. Bad files stop the run
with an error that names the file, the row where pyarrow knows it, the column and what to do.
"""

from __future__ import annotations

import collections
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from nids.config import LabelPolicy
from nids.data import formats
from nids.data.labels import label_codes
from nids.data.schema import (
    FEATURE_COLUMNS,
    LABEL_COLUMN,
    LABELS,
    canonical_header,
    canonical_name,
)

logger = logging.getLogger(__name__)

_HEAD_BYTES = 65_536
# pyarrow parses a block per thread: blocks of 4 MB keep both cores busy (a 167 MB batch
# parses in 1.4 s quiet, 2.1 s in 16 MB blocks).
_BLOCK_BYTES = 1 << 22
_SUSPECT_DELIMITERS = (";", "\t", "|")
_UTF8_BOM = b"\xef\xbb\xbf"
# Header keys of every known format: a data cell spelled like one is a repeated header line.
_HEADER_KEYS = frozenset(
    {fmt.key(f) for fmt in formats.FORMATS for f in FEATURE_COLUMNS}
    | {canonical_name(cell) for fmt in formats.FORMATS for cell in fmt.identifiers}
    | set(formats.LABEL_KEYS)
)
_CONCATENATED = "a header line repeats at row {row}: files concatenated?"


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a BOM: a NUL beside each ASCII character, on one side only."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return max(even, odd) > len(head) // 4 and min(even, odd) < len(head) // 40


def _sniff_header(head: bytes, name: str) -> list[str]:
    """The raw header cells, after refusing empty, binary and mis-encoded files."""
    if not head.removeprefix(_UTF8_BOM).strip(b"\r\n\t ,"):
        raise ValueError(f"{name}: the file is empty; download or copy it again.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        raise ValueError(
            f"{name}: the file is UTF-16 encoded; flow CSVs are ASCII/UTF-8. "
            "Re-save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)."
        )
    if b"\x00" in head:
        raise ValueError(f"{name}: the file holds binary data (NUL bytes), not a CSV.")
    text = head.splitlines()[0].decode("utf-8", errors="replace").lstrip("\ufeff")
    cells = text.split(",")
    if len(cells) == 1:
        used = [d for d in _SUSPECT_DELIMITERS if d in text]
        if not used:
            raise ValueError(
                f"{name}: the first line ({text[:60]!r}) is not a CSV header. Is it an HTML "
                "page or another format saved as .csv? Download the flow file again."
            )
        raise ValueError(
            f"{name}: the header has a single column. It looks {used[0]!r}-separated; "
            "flow CSVs are comma-separated: re-export it with ',' as the delimiter."
        )
    return cells


def _is_header_cell(cell: str) -> bool:
    """A cell spelled like a column name of a known format (with or without a BOM)."""
    return canonical_name(cell.lstrip("\ufeff")) in _HEADER_KEYS


def _concatenated(name: str, row: str) -> ValueError:
    return ValueError(f"{name}: {_CONCATENATED.format(row=row)} That line does not repeat the "
                      "first header exactly (another format, or a byte-order mark): split the "
                      "file back into its parts, or keep only the first header line.")


def _explain_arrow_error(error: pa.ArrowInvalid, header: list[str], keys: list[str],
                         name: str) -> ValueError:
    message = str(error)
    found = re.search(r"Row #(\d+)", message)
    row = found.group(1) if found else "?"
    at = f" at row {row}" if found else ""
    column = re.search(r"In CSV column #(\d+)", message)
    value = re.search(r"invalid value '([^']*)'", message)
    if column and value:
        if _is_header_cell(value.group(1)):
            return _concatenated(name, row)
        position = int(column.group(1))
        return ValueError(
            f"{name}: column {header[position].strip()!r} ({keys[position]!r}) holds the "
            f"non-numeric value {value.group(1)!r}{at}; fix or remove that row (flow features "
            "are numbers, Infinity or NaN)."
        )
    count = re.search(r"Expected (\d+) columns, got (\d+): (.{0,60})", message, re.S)
    if count:
        expected, got, text = count.groups()
        if _is_header_cell(text.split(",", 1)[0]):
            return _concatenated(name, row)
        return ValueError(
            f"{name}: {f'row {row}' if found else 'a row'} has {got} field(s) where the "
            f"header has {expected} "
            f"(row starts {text.strip()!r}). A short last line means a truncated download "
            "or copy: fetch the file again."
        )
    return ValueError(f"{name}: cannot parse the CSV ({message}).")


@dataclass
class _Noticed:
    """What reading the blocks noticed: repeated header lines and float32 overflows."""

    header_rows: list[int] = field(default_factory=list)   # pyarrow's row numbers
    overflows: dict[str, int] = field(default_factory=dict)  # header cell -> values

    def warnings(self, name: str, fmt: formats.FlowFormat) -> list[str]:
        found = []
        if self.header_rows and fmt is not formats.CSE_CIC_IDS2018:  # 2018 files repeat it
            found.append(f"{name}: {_CONCATENATED.format(row=self.header_rows[0])} "
                         f"({len(self.header_rows)} repeated header line(s), skipped)")
        found += [f"{name}: column {column.strip()!r} holds {count} value(s) beyond float32's "
                  "range (e.g. 1e39), read as infinity; check the file's writer"
                  for column, count in self.overflows.items()]
        return found


def _dropped_rows(batch: pa.RecordBatch, match: formats.HeaderMatch,
                  label_cell: str | None) -> tuple[pa.Array, pa.Array]:
    """(all-comma lines, header lines repeated inside the file): neither has a duration; the
    first has an empty label, the second the label column's own name."""
    blank = pc.is_null(batch.column(match.columns["flow_duration"]))
    if match.label is None:
        return blank, pa.array([False] * batch.num_rows)
    label = batch.column(match.label)
    header = pc.and_(blank, pc.equal(label, pa.scalar(label_cell.encode(), pa.binary())))
    return pc.and_(blank, pc.equal(pc.binary_length(label), 0)), header


def _narrowed(batch: pa.RecordBatch, names: dict[str, str], noticed: _Noticed) -> pa.RecordBatch:
    """The float64 columns of `batch` as float32, counting finite values that overflow."""
    columns = []
    for key, column in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_float64(column.type):
            narrow = column.cast(pa.float32())
            lost = pc.sum(pc.and_(pc.is_finite(column), pc.invert(pc.is_finite(narrow)))).as_py()
            if lost:
                noticed.overflows[names[key]] = noticed.overflows.get(names[key], 0) + lost
            column = narrow
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, batch.schema.names)


def _parsed_blocks(stream: BinaryIO, header: list[str], keys: list[str],
                   match: formats.HeaderMatch, use_threads: bool) -> Iterable[pa.RecordBatch]:
    """The file's blocks, parsed all at once on every core (pyarrow's streaming reader parses
    one block at a time: 2.5 s on one core against 1.4 s on two for 500,000 rows), or one after
    the other on one thread, where pyarrow names the row of an error."""
    types = {key: pa.float64() for key in match.columns.values()}
    if match.attempted:
        types[match.attempted] = pa.float64()
    if match.label:
        types[match.label] = pa.binary()
    # A repeated header line parses as missing values (and is dropped).
    nulls = [*pv.ConvertOptions().null_values, *(header[keys.index(k)] for k in types)]
    read = pv.ReadOptions(column_names=keys, skip_rows=1, block_size=_BLOCK_BYTES,
                          use_threads=use_threads)
    convert = pv.ConvertOptions(column_types=types, include_columns=list(types),
                                null_values=nulls)
    if use_threads:
        return _drained(pv.read_csv(stream, read_options=read, convert_options=convert))
    return pv.open_csv(stream, read_options=read, convert_options=convert)


def _drained(table: pa.Table) -> Iterator[pa.RecordBatch]:
    """The table's blocks, each let go once the caller moves on (and narrows it to float32):
    the parsed float64 table is not held whole beside its narrowed copy."""
    blocks = collections.deque(table.to_batches())
    del table
    while blocks:
        yield blocks.popleft()


def _read_blocks(stream: BinaryIO, header: list[str], match: formats.HeaderMatch,
                 use_threads: bool) -> tuple[list[pa.RecordBatch], _Noticed]:
    """The feature, label and attempt columns of the file, parsed block by block."""
    keys = canonical_header(header)
    label_cell = header[keys.index(match.label)] if match.label else None
    names, noticed, batches, first_row = dict(zip(keys, header, strict=True)), _Noticed(), [], 2
    for batch in _parsed_blocks(stream, header, keys, match, use_threads):
        blank, repeated = _dropped_rows(batch, match, label_cell)
        noticed.header_rows += [first_row + i for i in pc.indices_nonzero(repeated).tolist()]
        first_row += batch.num_rows
        dropped = pc.or_(blank, repeated)
        kept = batch.filter(pc.invert(dropped)) if pc.any(dropped).as_py() else batch
        batches.append(_narrowed(kept, names, noticed))
    return batches, noticed


def _read_table(stream: BinaryIO, header: list[str], match: formats.HeaderMatch,
                name: str) -> tuple[pa.Table, _Noticed]:
    """`_read_blocks` on every core; a file pyarrow cannot parse is read again on one thread,
    where pyarrow names the row of the error."""
    start = stream.tell()
    try:
        batches, noticed = _read_blocks(stream, header, match, use_threads=True)
    except pa.ArrowInvalid:
        stream.seek(start)
        try:
            batches, noticed = _read_blocks(stream, header, match, use_threads=False)
        except pa.ArrowInvalid as error:
            raise _explain_arrow_error(error, header, canonical_header(header), name) from error
    if sum(batch.num_rows for batch in batches) == 0:
        raise ValueError(f"{name}: the file has a header but no data rows.")
    return pa.Table.from_batches(batches), noticed


def _features(table: pa.Table, match: formats.HeaderMatch) -> pa.Table:
    """The 2017 feature columns; the 2017 duplicate is a copy where the format has it once."""
    columns = dict(match.columns)
    columns.setdefault("fwd_header_length_1", columns["fwd_header_length"])
    return pa.table({f: table[columns[f]] for f in FEATURE_COLUMNS})


def _with_labels(features: pa.Table, codes: np.ndarray) -> pa.Table:
    """`features` plus the `label` column, dictionary-encoded over every label."""
    labels = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(LABELS))
    return features.append_column(LABEL_COLUMN, labels)


@dataclass
class ParsedFile:
    table: pa.Table     # the 78 features (float32) and, for labelled files, `label`
    format: str
    time_unit: str
    warnings: list[str] = field(default_factory=list)


def parse_flows(stream: BinaryIO, name: str, require_label: bool = True,
                labels: LabelPolicy | None = None) -> ParsedFile:
    """Parse one flow CSV stream into the 2017 feature columns and `label` (when it has one)."""
    header = _sniff_header(stream.read(_HEAD_BYTES), name)
    stream.seek(0)
    match = formats.match_header(header, canonical_header(header), name)
    if require_label and match.label is None:
        raise ValueError(f"{name}: no label column (Label, label or labels). Training needs "
                         "labelled flows; unlabelled traffic goes to data/incoming/.")
    table, noticed = _read_table(stream, header, match, name)
    warnings = noticed.warnings(name, match.format)
    for warning in warnings:
        logger.warning(warning)
    features = _features(table, match)
    features, unit = formats.normalize_units(features, match.format, name)
    if match.label is not None:
        attempted = table[match.attempted] if match.attempted else None
        codes = label_codes(table[match.label], attempted, labels or LabelPolicy(), name)
        if (codes < 0).any():  # rows the label policy drops
            features, codes = features.filter(pa.array(codes >= 0)), codes[codes >= 0]
        features = _with_labels(features, codes)
    ignored = f"; ignored {len(match.ignored)} column(s) the 2017 feature set lacks: " \
        f"{', '.join(match.ignored)}" if match.ignored else ""
    logger.info("%s: %s format, times in %s%s", name, match.format.title, unit, ignored)
    return ParsedFile(features, match.format.title, unit, warnings)
