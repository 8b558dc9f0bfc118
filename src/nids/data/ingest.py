"""Load flow CSVs (plain, gzipped or zipped, of any format in `nids.data.formats`) into one
frame.

Files are parsed (`nids.data.parsing`) straight from disk, the gzip stream or the zip
(`nids.data.archives`), never read whole into memory; official file names are checked against
UNB's checksums; the parsed frame is cached as Parquet, keyed by the content of the inputs and
the label policy. A cache that cannot be read is reported by path, removed and rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nids.config import DataSource, LabelPolicy
from nids.data import archives, parsing
from nids.data.archives import DEFAULT_MAX_EXPANDED_BYTES, sha256_of
from nids.data.official import checksum_warning, day_of
from nids.data.schema import LABEL_COLUMN, LABELS
from nids.io import atomic_path, release_arrow_memory, text_columns

logger = logging.getLogger(__name__)

# Bump when parsing changes, so cached Parquet files of older loaders are not reused.
LOADER_VERSION = "3"


@dataclass
class InputFile:
    """One file (or zip member) that was read, with what was learnt about it."""

    name: str
    sha256: str
    rows: int = 0
    warnings: list[str] = field(default_factory=list)
    format: str = ""
    time_unit: str = ""


@dataclass
class LoadedData:
    frame: pd.DataFrame
    fingerprint: str
    files: list[InputFile]
    from_cache: bool = False
    data_source: DataSource = DataSource.REAL   # what the rows are (set by nids.data.sources)
    corpus_partitions: list[str] = field(default_factory=list)  # read beside the files

    def drop_rows(self) -> None:
        """Empty the frame (its columns kept) once the last stage that reads the rows is done.
        In place, not a copy: Prefect keeps the parameters of finished task runs until their
        events are sent (up to 20 s at full scale, while the fits hold the cores), and they
        hold this object, so only emptying it lets the rows go at once. The rows' columns
        are Arrow's buffers (`to_frame`): Arrow's allocator hands them back to the OS."""
        self.frame = self.frame.iloc[:0].copy()   # a copy: a view keeps the rows
        release_arrow_memory()


def find_input_files(folder: Path) -> list[Path]:
    """The CSVs, `.csv.gz` files and zips directly in `folder`, sorted by name (empty if it
    does not exist); `archives.scan_folder` also says what else is there."""
    return archives.scan_folder(folder).inputs


def read_flow_csv(data: bytes, name: str, require_label: bool = True,
                  labels: LabelPolicy | None = None) -> pd.DataFrame:
    """Parse one flow CSV held in memory (see `parsing.parse_flows`)."""
    return parsing.parse_flows(io.BytesIO(data), name, require_label, labels).table.to_pandas()


def _constant(value: str, rows: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int8)), pa.array([value]))


def _parse_member(member: archives.Member, require_label: bool,
                  labels: LabelPolicy | None) -> parsing.ParsedFile:
    """Parse one member; a stream that turns out damaged while read gets the archive message."""
    try:
        return parsing.parse_flows(member.stream, member.name, require_label, labels)
    except archives.DECOMPRESSION_ERRORS as error:
        raise archives.unreadable(member.name, error) from error


def read_tables(path: Path, verify: bool = True, require_label: bool = True,
                labels: LabelPolicy | None = None,
                max_expanded_bytes: int = DEFAULT_MAX_EXPANDED_BYTES,
                ) -> tuple[pa.Table, list[InputFile]]:
    """Read one CSV, `.csv.gz` or zip as Arrow; each file's rows get `source_file` and `day`
    columns. A zip or gzip stream expanding past `max_expanded_bytes` is refused."""
    tables, files = [], []
    for member in archives.open_members(path, max_expanded_bytes):
        info = InputFile(name=member.name, sha256=member.sha256)
        short_name = Path(member.name).name
        warning = checksum_warning(short_name, member.size, member.sha256) if verify else None
        if warning:
            logger.warning(warning)
            info.warnings.append(warning)
        parsed = _parse_member(member, require_label, labels)
        info.warnings.extend(parsed.warnings)
        rows = parsed.table.num_rows
        table = parsed.table.append_column("source_file", _constant(short_name, rows))
        tables.append(table.append_column("day", _constant(day_of(short_name), rows)))
        info.rows, info.format, info.time_unit = rows, parsed.format, parsed.time_unit
        files.append(info)
    if verify and archives.has_suffix(path.name, (".zip",)):
        zip_warning = checksum_warning(path.name, path.stat().st_size, sha256_of(path))
        if zip_warning:
            logger.warning(zip_warning)
            files[0].warnings.append(zip_warning)
    return pa.concat_tables(tables, promote_options="default"), files


def to_frame(table: pa.Table) -> pd.DataFrame:
    """The pandas frame of parsed flows; `label`, `source_file` and `day` are categorical.

    Arrow frees each column once converted, so the table must not be used afterwards.
    """
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    if LABEL_COLUMN in frame.columns:
        frame[LABEL_COLUMN] = frame[LABEL_COLUMN].cat.set_categories(list(LABELS))
    return frame


def read_input(path: Path, verify: bool = True, require_label: bool = True,
               labels: LabelPolicy | None = None,
               max_expanded_bytes: int = DEFAULT_MAX_EXPANDED_BYTES,
               ) -> tuple[pd.DataFrame, list[InputFile]]:
    """Read one CSV, `.csv.gz` or zip into a frame (see `read_tables`)."""
    table, files = read_tables(path, verify, require_label, labels, max_expanded_bytes)
    return to_frame(table), files


def fingerprint_of(paths: list[Path], labels: LabelPolicy | None = None) -> str:
    """A content fingerprint of the input files, the label policy and the loader version."""
    policy = (labels or LabelPolicy()).model_dump_json()
    digest = hashlib.sha256(f"loader-{LOADER_VERSION}-{policy}".encode())
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()


def read_cache(cache: Path, manifest: Path) -> tuple[pd.DataFrame, list[InputFile]] | None:
    """The cached frame and files, or None when there is no cache. A cache that cannot be read
    (a truncated Parquet, a damaged manifest) is reported by path and removed."""
    if not (cache.exists() and manifest.exists()):
        return None
    try:
        files = [InputFile(**item) for item in json.loads(manifest.read_text(encoding="utf-8"))]
        frame = to_frame(pq.read_table(cache))
    except (OSError, ValueError, TypeError, pa.ArrowException) as error:
        logger.warning("%s: the cached parse of the inputs cannot be read (%s); removing it "
                       "and parsing the inputs again", cache, error)
        cache.unlink(missing_ok=True)
        manifest.unlink(missing_ok=True)
        return None
    logger.info("Reusing parsed data from %s", cache)
    return frame, files


def load_inputs(paths: list[Path], cache_dir: Path, verify: bool = True,
                labels: LabelPolicy | None = None,
                max_expanded_bytes: int = DEFAULT_MAX_EXPANDED_BYTES) -> LoadedData:
    """Load every input file into one frame, reusing the Parquet cache of the same inputs."""
    if not paths:
        raise ValueError("No input files given: put CICIDS2017 CSVs (or zips) in data/raw/.")
    fingerprint = fingerprint_of(paths, labels)
    cache = cache_dir / f"flows-{fingerprint[:16]}.parquet"
    manifest = cache.with_suffix(".files.json")
    cached = read_cache(cache, manifest)
    if cached is not None:
        return LoadedData(cached[0], fingerprint, cached[1], from_cache=True)
    tables, files = [], []
    for path in paths:
        logger.info("Parsing %s", path)
        table, infos = read_tables(path, verify=verify, labels=labels,
                                   max_expanded_bytes=max_expanded_bytes)
        tables.append(table)
        files.extend(infos)
    table = pa.concat_tables(tables, promote_options="default")
    del tables  # the frame below frees the parsed columns one by one
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp:
        pq.write_table(table, tmp, use_dictionary=text_columns(table))
    with atomic_path(manifest) as tmp:
        tmp.write_text(json.dumps([asdict(f) for f in files]), encoding="utf-8")
    return LoadedData(to_frame(table), fingerprint, files)
