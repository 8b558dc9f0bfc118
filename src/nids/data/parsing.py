"""Parse one flow CSV stream into the 2017 feature columns and the class of each row.

The stream is parsed in blocks (pyarrow's streaming reader), never read whole into memory.
The header says which format the file is in (`formats.match_header`); every quirk of the
official files is handled: leading spaces in names, the duplicated " Fwd Header Length",
`Infinity`/`NaN`, blank all-comma lines, header lines repeated inside the file, CRLF, a UTF-8
BOM. Bad files stop the run with an error that names the file, the column and what to do.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from nids.config import LabelPolicy
from nids.data import formats
from nids.data.labels import label_codes
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABELS, canonical_header

logger = logging.getLogger(__name__)

_HEAD_BYTES = 65_536
_BLOCK_BYTES = 1 << 24
_SUSPECT_DELIMITERS = (";", "\t", "|")
_UTF8_BOM = b"\xef\xbb\xbf"


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


def _explain_arrow_error(error: pa.ArrowInvalid, header: list[str], keys: list[str],
                         name: str) -> ValueError:
    message = str(error)
    column = re.search(r"In CSV column #(\d+)", message)
    value = re.search(r"invalid value '([^']*)'", message)
    if column and value:
        position = int(column.group(1))
        return ValueError(
            f"{name}: column {header[position].strip()!r} ({keys[position]!r}) holds the "
            f"non-numeric value {value.group(1)!r}; fix or remove that row (flow features "
            "are numbers, Infinity or NaN)."
        )
    count = re.search(r"Expected (\d+) columns, got (\d+): (.{0,60})", message, re.S)
    if count:
        expected, got, row = count.groups()
        return ValueError(
            f"{name}: a row has {got} field(s) where the header has {expected} "
            f"(row starts {row.strip()!r}). A short last line means a truncated download "
            "or copy: fetch the file again."
        )
    return ValueError(f"{name}: cannot parse the CSV ({message}).")


def _blank_rows(batch: pa.RecordBatch, match: formats.HeaderMatch,
                label_cell: str | None) -> pa.Array:
    """All-comma lines (no duration, no label) and header lines repeated inside the file."""
    blank = pc.is_null(batch.column(match.columns["flow_duration"]))
    if match.label is not None:
        label = batch.column(match.label)
        empty = pc.or_(pc.equal(pc.binary_length(label), 0),
                       pc.equal(label, pa.scalar(label_cell.encode(), pa.binary())))
        blank = pc.and_(blank, empty)
    return blank


def _read_table(stream: BinaryIO, header: list[str], match: formats.HeaderMatch,
                name: str) -> pa.Table:
    """The feature, label and attempt columns of the file, parsed block by block."""
    keys = canonical_header(header)
    types = {key: pa.float32() for key in match.columns.values()}
    if match.attempted:
        types[match.attempted] = pa.float32()
    if match.label:
        types[match.label] = pa.binary()
    label_cell = header[keys.index(match.label)] if match.label else None
    # A repeated header line parses as missing values (and is dropped as a blank row).
    nulls = [*pv.ConvertOptions().null_values, *(header[keys.index(k)] for k in types)]
    batches = []
    try:
        reader = pv.open_csv(
            stream,
            read_options=pv.ReadOptions(column_names=keys, skip_rows=1, block_size=_BLOCK_BYTES),
            convert_options=pv.ConvertOptions(column_types=types, include_columns=list(types),
                                              null_values=nulls),
        )
        for batch in reader:
            blank = _blank_rows(batch, match, label_cell)
            batches.append(batch.filter(pc.invert(blank)) if pc.any(blank).as_py() else batch)
    except pa.ArrowInvalid as error:
        raise _explain_arrow_error(error, header, keys, name) from error
    table = pa.Table.from_batches(batches, schema=reader.schema)
    if table.num_rows == 0:
        raise ValueError(f"{name}: the file has a header but no data rows.")
    return table


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


def parse_flows(stream: BinaryIO, name: str, require_label: bool = True,
                labels: LabelPolicy | None = None) -> ParsedFile:
    """Parse one flow CSV stream into the 2017 feature columns and `label` (when it has one)."""
    header = _sniff_header(stream.read(_HEAD_BYTES), name)
    stream.seek(0)
    match = formats.match_header(header, canonical_header(header), name)
    if require_label and match.label is None:
        raise ValueError(f"{name}: no label column (Label, label or labels). Training needs "
                         "labelled flows; unlabelled traffic goes to data/incoming/.")
    table = _read_table(stream, header, match, name)
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
    return ParsedFile(features, match.format.title, unit)
