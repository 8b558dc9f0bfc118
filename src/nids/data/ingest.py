"""Load CICIDS2017 CSVs (either official variant, plain or zipped) into one canonical frame.

Every quirk of the official files is handled here: leading spaces in names, the duplicated
" Fwd Header Length", `Infinity`/`NaN`, blank all-comma lines, CRLF, and every spelling of the
web-attack dash. Bad files stop the run with an error that names the file and what to do.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from nids.io import atomic_path
from nids.data.schema import (
    FEATURE_COLUMNS,
    LABEL_COLUMN,
    LABELS,
    canonical_header,
    canonical_label,
    decode_label,
)

logger = logging.getLogger(__name__)

# Bump when parsing changes, so cached Parquet files of older loaders are not reused.
LOADER_VERSION = "1"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_HEAD_BYTES = 65_536
_SUSPECT_DELIMITERS = (";", "\t", "|")
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class OfficialFile:
    size: int
    sha256: str


# From ../shared/cicids2017/README.md: the files UNB publishes.
OFFICIAL_FILES: dict[str, OfficialFile] = {
    "Monday-WorkingHours.pcap_ISCX.csv": OfficialFile(
        176927918, "852c4beb34eda186f32561fa79df7a0747e92e1a6535b01270820dd9ffe17f34"),
    "Tuesday-WorkingHours.pcap_ISCX.csv": OfficialFile(
        135078995, "52b8692ae8c7d2ed04671fe2b98335693c0a92c7ab157d8c8b534d6523080851"),
    "Wednesday-workingHours.pcap_ISCX.csv": OfficialFile(
        225166395, "893c27dc968bf7a8adef1689f90be55ca4a4dc3088fb63d6ff247ac56856df2a"),
    "Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv": OfficialFile(
        52023263, "d67066211fb1689c78406f1506f4c44704ecb92088353d5c96d96d6474eb819d"),
    "Thursday-WorkingHours-Afternoon-Infilteration.pcap_ISCX.csv": OfficialFile(
        83102436, "6bcda3857c2504676034e3ea57762d38393cc734cb377a726bd5cb153961b1b5"),
    "Friday-WorkingHours-Morning.pcap_ISCX.csv": OfficialFile(
        58316725, "53a41c24d570ea83b7ac55b2e94df94e7a8216aeb80a2af0246b6bc8bb543000"),
    "Friday-WorkingHours-Afternoon-PortScan.pcap_ISCX.csv": OfficialFile(
        76906168, "ca1824c51bfbb7b3c72290a11be04366ba8815878c6a1cc5c44cb1cee269e99b"),
    "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv": OfficialFile(
        77123859, "6ff1580f5f81c0ae28a26f7631721018577f5f7c5e0feac28b795fcfe7b411ee"),
    "MachineLearningCSV.zip": OfficialFile(
        235102953, "c3f26274b36c837ccf28ffd2dbf4582941c30b3ee70a635c6e5b2f87c4727928"),
    "GeneratedLabelledFlows.zip": OfficialFile(
        283876488, "7bdbef286f8893f31c6db12105fa097fa5c2dcc6733179037a08129d150ea27a"),
}


@dataclass
class InputFile:
    """One file (or zip member) that was read, with what was learnt about it."""

    name: str
    sha256: str
    rows: int = 0
    warnings: list[str] = field(default_factory=list)


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
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_warning(name: str, size: int, sha256: str) -> str | None:
    """A warning when an official file name does not match UNB's size and sha256."""
    official = OFFICIAL_FILES.get(name)
    if official is None or (official.size == size and official.sha256 == sha256):
        return None
    return (
        f"{name}: size {size} / sha256 {sha256[:12]}... differ from the official file "
        f"({official.size} bytes, sha256 {official.sha256[:12]}...). It may be a corrected "
        "re-release or an edited copy; it is loaded anyway."
    )


def day_of(name: str) -> str:
    """The weekday a CICIDS2017 file name starts with, or 'unknown'."""
    first = re.split(r"[-_. ]", Path(name).name, maxsplit=1)[0].capitalize()
    return first if first in DAYS else "unknown"


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a BOM: a NUL beside each ASCII character, on one side only."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return max(even, odd) > len(head) // 4 and min(even, odd) < len(head) // 40


def _sniff_header(data: bytes, name: str) -> list[str]:
    """The raw header cells, after refusing empty, binary and mis-encoded files."""
    head = data[:_HEAD_BYTES]
    if not data.removeprefix(_UTF8_BOM).strip(b"\r\n\t ,"):
        raise ValueError(f"{name}: the file is empty; download or copy it again.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        raise ValueError(
            f"{name}: the file is UTF-16 encoded; CICIDS2017 CSVs are ASCII/UTF-8. "
            "Re-save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)."
        )
    if b"\x00" in head:
        raise ValueError(f"{name}: the file holds binary data (NUL bytes), not a CSV.")
    first_line = head.splitlines()[0] if head.splitlines() else b""
    text = first_line.decode("utf-8", errors="replace").lstrip("\ufeff")
    cells = text.split(",")
    if len(cells) == 1:
        used = [d for d in _SUSPECT_DELIMITERS if d in text]
        if not used:
            raise ValueError(
                f"{name}: the first line ({text[:60]!r}) is not a CSV header. Is it an HTML "
                "page or another format saved as .csv? Download the CICIDS2017 file again."
            )
        raise ValueError(
            f"{name}: the header has a single column. It looks {used[0]!r}-separated; "
            "CICIDS2017 CSVs are comma-separated: re-export it with ',' as the delimiter."
        )
    return cells


def _check_columns(names: list[str], name: str, require_label: bool = True) -> None:
    required = (*FEATURE_COLUMNS, LABEL_COLUMN) if require_label else FEATURE_COLUMNS
    missing = [c for c in required if c not in names]
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise ValueError(
            f"{name}: {len(missing)} expected CICIDS2017 column(s) missing: {shown}. "
            "Is this a MachineLearningCVE or TrafficLabelling CSV from CICIDS2017?"
        )


def _explain_arrow_error(error: pa.ArrowInvalid, names: list[str], name: str) -> ValueError:
    message = str(error)
    column = re.search(r"In CSV column #(\d+)", message)
    value = re.search(r"invalid value '([^']*)'", message)
    if column and value:
        col = names[int(column.group(1))]
        return ValueError(
            f"{name}: column {col!r} holds the non-numeric value {value.group(1)!r}; "
            "fix or remove that row (CICIDS2017 features are numbers, Infinity or NaN)."
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


def _canonical_labels(raw: pa.ChunkedArray, name: str) -> pd.Categorical:
    encoded = pc.dictionary_encode(raw).combine_chunks()
    spellings = [decode_label(v.as_py()) for v in encoded.dictionary]
    canonical = [canonical_label(s) for s in spellings]
    unknown = [s for s, c in zip(spellings, canonical, strict=True) if c is None]
    if unknown:
        raise ValueError(
            f"{name}: unknown label(s) {unknown[:5]!r} in column 'Label'. Expected one of the "
            f"15 CICIDS2017 labels ({', '.join(LABELS)}); fix or drop those rows."
        )
    attempted = [s for s in spellings if "attempted" in s.casefold()]
    if attempted:
        logger.warning("%s: labels %s (corrected re-release) count as BENIGN", name, attempted)
    codes = pa.array([LABELS.index(c) for c in canonical], pa.int8())
    label_codes = pc.take(codes, encoded.indices).to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(label_codes, categories=list(LABELS))


def read_flow_csv(data: bytes, name: str, require_label: bool = True) -> pd.DataFrame:
    """Parse one CICIDS2017 CSV (bytes) into canonical feature columns and `label`.

    Without `require_label`, a file with no Label column (unlabelled traffic) is accepted
    and the frame has no `label` column.
    """
    header = _sniff_header(data, name)
    names = canonical_header(header)
    _check_columns(names, name, require_label)
    labelled = LABEL_COLUMN in names
    columns = [*FEATURE_COLUMNS, LABEL_COLUMN] if labelled else list(FEATURE_COLUMNS)
    body = data.removeprefix(_UTF8_BOM)
    types = {c: pa.float32() for c in FEATURE_COLUMNS} | {LABEL_COLUMN: pa.binary()}
    try:
        table = pv.read_csv(
            io.BytesIO(body),
            read_options=pv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            convert_options=pv.ConvertOptions(
                column_types={c: types[c] for c in columns}, include_columns=columns,
            ),
        )
    except pa.ArrowInvalid as error:
        raise _explain_arrow_error(error, names, name) from error
    table = table.filter(pc.invert(_blank_rows(table, labelled)))
    if table.num_rows == 0:
        raise ValueError(f"{name}: the file has a header but no data rows.")
    frame = table.select(list(FEATURE_COLUMNS)).to_pandas()
    if labelled:
        frame[LABEL_COLUMN] = _canonical_labels(table[LABEL_COLUMN], name)
    return frame


def _blank_rows(table: pa.Table, labelled: bool) -> pa.ChunkedArray:
    """The all-comma lines of the official exports: no duration and no label."""
    blank = pc.is_null(table[FEATURE_COLUMNS[1]])
    if labelled:
        blank = pc.and_(blank, pc.equal(pc.binary_length(table[LABEL_COLUMN]), 0))
    return blank


def _members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the CSVs in a file: itself, or every CSV inside a zip."""
    if path.suffix.lower() != ".zip":
        yield path.name, path.read_bytes()
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path}: not a readable zip archive; download it again.") from error
    with archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if not members:
            raise ValueError(f"{path}: the zip holds no CSV file.")
        for member in sorted(members):
            yield f"{path.name}/{member}", archive.read(member)


def read_input(
    path: Path, verify: bool = True, require_label: bool = True
) -> tuple[pd.DataFrame, list[InputFile]]:
    """Read one CSV or zip; each file gets `source_file` and `day` columns."""
    frames, files = [], []
    for name, data in _members(path):
        digest = hashlib.sha256(data).hexdigest()
        info = InputFile(name=name, sha256=digest)
        short_name = Path(name).name
        warning = checksum_warning(short_name, len(data), digest) if verify else None
        if warning:
            logger.warning(warning)
            info.warnings.append(warning)
        frame = read_flow_csv(data, name, require_label)
        frame["source_file"] = short_name
        frame["day"] = day_of(short_name)
        info.rows = len(frame)
        frames.append(frame)
        files.append(info)
    if verify and path.suffix.lower() == ".zip":
        zip_warning = checksum_warning(path.name, path.stat().st_size, sha256_of(path))
        if zip_warning:
            logger.warning(zip_warning)
            files[0].warnings.append(zip_warning)
    return pd.concat(frames, ignore_index=True), files


def fingerprint_of(paths: list[Path]) -> str:
    """A content fingerprint of the input files and the loader version."""
    digest = hashlib.sha256(f"loader-{LOADER_VERSION}".encode())
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()


def _categorize(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("source_file", "day"):
        frame[column] = frame[column].astype("category")
    return frame


def load_inputs(paths: list[Path], cache_dir: Path, verify: bool = True) -> LoadedData:
    """Load every input file into one frame, reusing the Parquet cache of the same inputs."""
    if not paths:
        raise ValueError("No input files given: put CICIDS2017 CSVs (or zips) in data/raw/.")
    fingerprint = fingerprint_of(paths)
    cache = cache_dir / f"flows-{fingerprint[:16]}.parquet"
    manifest = cache.with_suffix(".files.json")
    if cache.exists() and manifest.exists():
        logger.info("Reusing parsed data from %s", cache)
        files = [InputFile(**item) for item in pd.read_json(manifest).to_dict("records")]
        return LoadedData(pd.read_parquet(cache), fingerprint, files, from_cache=True)
    frames, files = [], []
    for path in paths:
        logger.info("Parsing %s", path)
        frame, infos = read_input(path, verify=verify)
        frames.append(frame)
        files.extend(infos)
    frame = _categorize(pd.concat(frames, ignore_index=True))
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic_path(manifest) as tmp:
        pd.DataFrame([vars(f) for f in files]).to_json(tmp, orient="records")
    return LoadedData(frame, fingerprint, files)

