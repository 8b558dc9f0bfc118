"""The input files of a raw-data folder and the flow CSVs inside them, opened as streams.

Inputs are CSVs, gzip-compressed CSVs (`.csv.gz`) and zips holding either; every other entry
of the folder is skipped and listed (hidden files are ignored). A zip is checked before a byte
of it is decompressed: the CSVs it holds may not expand past a limit, nor compress suspiciously
well, which refuses zip bombs. Python's zipfile never reads past a member's declared size, so
the declared sizes bound what a zip can expand to; a gzip stream has no trustworthy size and is
cut off at the same limit while it is read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

INPUT_SUFFIXES = (".csv", ".csv.gz", ".zip")
MEMBER_SUFFIXES = (".csv", ".csv.gz")
DEFAULT_MAX_EXPANDED_BYTES = 4 * 1024**3
# Flow CSVs compress 3-10 times; a large member compressed 100 times is a bomb or no flow file.
SUSPICIOUS_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 16 * 1024**2
# What a damaged zip or gzip stream raises while it is read (a CRC error, a cut-off stream).
DECOMPRESSION_ERRORS = (zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error)


def has_suffix(name: str, suffixes: tuple[str, ...]) -> bool:
    return name.lower().endswith(suffixes)


@dataclass(frozen=True)
class RawFolder:
    """A folder's input files, sorted by name, and the entries that are not inputs."""

    folder: Path
    inputs: list[Path]
    skipped: list[str] = field(default_factory=list)   # "name (why)"

    def describe(self) -> str:
        """What the folder holds, for messages: the skipped entries, or that it is empty."""
        if not self.folder.is_dir():
            return "the folder does not exist"
        if not self.skipped:
            return "it is empty" if not self.inputs else f"{len(self.inputs)} input file(s)"
        return "only entries the loader skips: " + "; ".join(self.skipped)


def skip_reason(entry: Path) -> str | None:
    """Why an entry of the raw folder is not read, or None when it is an input file."""
    if entry.is_symlink() and not entry.exists():
        return "a dangling symlink"
    if entry.is_dir():
        return "a folder"
    if not entry.is_file():
        return "not a regular file"
    if not has_suffix(entry.name, INPUT_SUFFIXES):
        return "not a .csv, .csv.gz or .zip file"
    return None


def scan_folder(folder: Path) -> RawFolder:
    """The input files directly in `folder` and every other visible entry, with the reason."""
    if not folder.is_dir():
        return RawFolder(folder, [])
    inputs, skipped = [], []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        reason = skip_reason(entry)
        if reason is None:
            inputs.append(entry)
        else:
            skipped.append(f"{entry.name} ({reason})")
    return RawFolder(folder, inputs, skipped)


def unreadable(name: str, error: Exception) -> ValueError:
    """The one message of a damaged archive: a truncated zip, a bad CRC, a cut-off gzip."""
    kind = "zip archive" if ".zip" in name.lower() else "compressed file"
    return ValueError(f"{name}: not a readable {kind} ({error}); download or copy it again.")


class CappedStream(io.RawIOBase):
    """A decompressing stream that fails once more than `limit` bytes came out of it."""

    def __init__(self, stream: BinaryIO, limit: int, name: str) -> None:
        super().__init__()
        self._stream, self._limit, self._name, self._position = stream, limit, name, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._stream.readinto(buffer)
        self._position += count
        if self._position > self._limit:
            raise ValueError(f"{self._name}: expands past {self._limit:,} bytes "
                             "(data.max_expanded_bytes); refused as a possible zip bomb. "
                             "Raise the limit in config/training.yaml if the file is genuine.")
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = self._stream.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        return self._position


@dataclass
class Member:
    """One flow CSV to parse: a file, or a member of a zip, decompressed as it is read."""

    name: str        # "Monday.csv", "MachineLearningCSV.zip/MachineLearningCVE/Monday.csv"
    size: int        # bytes as stored (what the official checksums describe)
    sha256: str      # of the bytes as stored
    stream: BinaryIO


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def check_expansion(path: Path, members: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse a zip whose CSVs would expand past `limit`, or compress like a bomb."""
    total = sum(m.file_size for m in members)
    if total > limit:
        raise ValueError(f"{path}: its CSVs would expand to {total:,} bytes, past the limit of "
                         f"{limit:,} (data.max_expanded_bytes); refused before reading. Raise "
                         "the limit in config/training.yaml if the archive is genuine.")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_CHECKED_FROM_BYTES and ratio > SUSPICIOUS_RATIO:
            raise ValueError(f"{path}: {member.filename} expands {ratio:,.0f} times "
                             f"({member.file_size:,} bytes); flow CSVs compress about 3-10 "
                             "times. Refused as a possible zip bomb.")


@contextmanager
def _decompressed(stream: BinaryIO, name: str, limit: int) -> Iterator[BinaryIO]:
    """`stream` itself, or its gzip decompression capped at `limit` for a `.gz` name."""
    if not has_suffix(name, (".gz",)):
        yield stream
        return
    with gzip.GzipFile(fileobj=stream) as unzipped:
        yield CappedStream(unzipped, limit, name)


def _zip_members(path: Path, limit: int) -> Iterator[Member]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise unreadable(path.name, error) from error
    with archive:
        members = sorted((m for m in archive.infolist()
                          if has_suffix(m.filename, MEMBER_SUFFIXES) and not m.is_dir()),
                         key=lambda m: m.filename)
        if not members:
            raise ValueError(f"{path}: the zip holds no CSV file.")
        check_expansion(path, members, limit)
        for member in members:
            try:
                with archive.open(member) as stream:   # reading it all checks its CRC
                    digest = hashlib.file_digest(stream, "sha256").hexdigest()
            except DECOMPRESSION_ERRORS as error:
                raise unreadable(path.name, error) from error
            name = f"{path.name}/{member.filename}"
            with archive.open(member) as stream, _decompressed(stream, name, limit) as flows:
                yield Member(name, member.file_size, digest, flows)


def open_members(path: Path, limit: int = DEFAULT_MAX_EXPANDED_BYTES) -> Iterator[Member]:
    """The flow CSVs in an input file, each opened as a stream: the file itself, its gzip
    decompression, or every CSV (plain or gzipped) inside a zip."""
    if has_suffix(path.name, (".zip",)):
        yield from _zip_members(path, limit)
        return
    with path.open("rb") as stream, _decompressed(stream, path.name, limit) as flows:
        yield Member(path.name, path.stat().st_size, sha256_of(path), flows)
