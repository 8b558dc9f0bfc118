"""Load flow CSVs (plain or zipped, of any format in `nids.data.formats`) into one frame.

Files are parsed (`nids.data.parsing`) straight from disk or from the zip, never read whole
into memory; official file names are checked against UNB's checksums; the parsed frame is
cached as Parquet, keyed by the content of the inputs and the label policy.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nids.config import LabelPolicy
from nids.data import parsing
from nids.data.official import checksum_warning, day_of
from nids.data.schema import LABEL_COLUMN, LABELS
from nids.io import atomic_path

logger = logging.getLogger(__name__)

# Bump when parsing changes, so cached Parquet files of older loaders are not reused.
LOADER_VERSION = "2"


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


def find_input_files(folder: Path) -> list[Path]:
    """The CSVs and zips directly in `folder`, sorted by name (empty if it does not exist)."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".zip")
    )


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def read_flow_csv(data: bytes, name: str, require_label: bool = True,
                  labels: LabelPolicy | None = None) -> pd.DataFrame:
    """Parse one flow CSV held in memory (see `parsing.parse_flows`)."""
    return parsing.parse_flows(io.BytesIO(data), name, require_label, labels).table.to_pandas()


@dataclass
class _Member:
    name: str
    size: int
    sha256: str
    stream: BinaryIO


def _members(path: Path) -> Iterator[_Member]:
    """The CSVs in a file, each opened as a stream: itself, or every CSV inside a zip."""
    if path.suffix.lower() != ".zip":
        with path.open("rb") as stream:
            yield _Member(path.name, path.stat().st_size, sha256_of(path), stream)
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path}: not a readable zip archive; download it again.") from error
    with archive:
        members = sorted((m for m in archive.infolist() if m.filename.lower().endswith(".csv")),
                         key=lambda m: m.filename)
        if not members:
            raise ValueError(f"{path}: the zip holds no CSV file.")
        for member in members:
            with archive.open(member) as stream:
                digest = hashlib.file_digest(stream, "sha256").hexdigest()
            with archive.open(member) as stream:
                yield _Member(f"{path.name}/{member.filename}", member.file_size, digest, stream)


def _constant(value: str, rows: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int8)), pa.array([value]))


def read_tables(path: Path, verify: bool = True, require_label: bool = True,
                labels: LabelPolicy | None = None) -> tuple[pa.Table, list[InputFile]]:
    """Read one CSV or zip as Arrow; each file's rows get `source_file` and `day` columns."""
    tables, files = [], []
    for member in _members(path):
        info = InputFile(name=member.name, sha256=member.sha256)
        short_name = Path(member.name).name
        warning = checksum_warning(short_name, member.size, member.sha256) if verify else None
        if warning:
            logger.warning(warning)
            info.warnings.append(warning)
        parsed = parsing.parse_flows(member.stream, member.name, require_label, labels)
        rows = parsed.table.num_rows
        table = parsed.table.append_column("source_file", _constant(short_name, rows))
        tables.append(table.append_column("day", _constant(day_of(short_name), rows)))
        info.rows, info.format, info.time_unit = rows, parsed.format, parsed.time_unit
        files.append(info)
    if verify and path.suffix.lower() == ".zip":
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
               labels: LabelPolicy | None = None) -> tuple[pd.DataFrame, list[InputFile]]:
    """Read one CSV or zip into a frame (see `read_tables`)."""
    table, files = read_tables(path, verify, require_label, labels)
    return to_frame(table), files


def fingerprint_of(paths: list[Path], labels: LabelPolicy | None = None) -> str:
    """A content fingerprint of the input files, the label policy and the loader version."""
    policy = (labels or LabelPolicy()).model_dump_json()
    digest = hashlib.sha256(f"loader-{LOADER_VERSION}-{policy}".encode())
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()


def load_inputs(paths: list[Path], cache_dir: Path, verify: bool = True,
                labels: LabelPolicy | None = None) -> LoadedData:
    """Load every input file into one frame, reusing the Parquet cache of the same inputs."""
    if not paths:
        raise ValueError("No input files given: put CICIDS2017 CSVs (or zips) in data/raw/.")
    fingerprint = fingerprint_of(paths, labels)
    cache = cache_dir / f"flows-{fingerprint[:16]}.parquet"
    manifest = cache.with_suffix(".files.json")
    if cache.exists() and manifest.exists():
        logger.info("Reusing parsed data from %s", cache)
        files = [InputFile(**item) for item in pd.read_json(manifest).to_dict("records")]
        return LoadedData(to_frame(pq.read_table(cache)), fingerprint, files, from_cache=True)
    tables, files = [], []
    for path in paths:
        logger.info("Parsing %s", path)
        table, infos = read_tables(path, verify=verify, labels=labels)
        tables.append(table)
        files.extend(infos)
    table = pa.concat_tables(tables, promote_options="default")
    del tables  # the frame below frees the parsed columns one by one
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp:
        pq.write_table(table, tmp)
    with atomic_path(manifest) as tmp:
        pd.DataFrame([vars(f) for f in files]).to_json(tmp, orient="records")
    return LoadedData(to_frame(table), fingerprint, files)
