"""Input files: what a raw folder holds (and what is skipped, with why), gzip and zip inputs,
the expansion limit that refuses zip bombs before reading, damaged archives, broken caches."""

import gzip
import io
import logging
import zipfile

import pyarrow.parquet as pq
import pytest

from nids.data import archives, ingest
from nids.data.schema import LABEL_COLUMN
from tests.support.builders import ml_csv

LABELS = ["BENIGN", "DDoS", "PortScan"]


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def write_zip(path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression=method) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)


# --- what the raw folder holds -----------------------------------------------------------

def test_scan_lists_inputs_and_says_why_everything_else_is_skipped(tmp_path):
    for name in ("b.csv", "a.ZIP", "c.csv.gz", "notes.txt", "flows.parquet", ".gitkeep"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "x.csv").mkdir()
    (tmp_path / "gone.csv").symlink_to(tmp_path / "missing.csv")
    (tmp_path / "link.csv").symlink_to(tmp_path / "b.csv")
    folder = archives.scan_folder(tmp_path)
    assert [p.name for p in folder.inputs] == ["a.ZIP", "b.csv", "c.csv.gz", "link.csv"]
    assert folder.skipped == [
        "flows.parquet (not a .csv, .csv.gz or .zip file)", "gone.csv (a dangling symlink)",
        "notes.txt (not a .csv, .csv.gz or .zip file)", "x.csv (a folder)"]
    assert folder.describe().startswith("only entries the loader skips: flows.parquet")


@pytest.mark.parametrize(("setup", "description"), [
    (lambda folder: folder.mkdir(), "it is empty"),
    (lambda folder: None, "the folder does not exist"),
], ids=["empty", "absent"])
def test_an_empty_or_absent_folder_is_described_as_such(tmp_path, setup, description):
    folder = tmp_path / "raw"
    setup(folder)
    assert archives.scan_folder(folder).describe() == description


# --- compressed inputs -------------------------------------------------------------------

def test_a_gzipped_csv_reads_like_the_csv(tmp_path):
    (tmp_path / "Monday.csv").write_bytes(ml_csv(LABELS))
    (tmp_path / "Monday-copy.csv.gz").write_bytes(gzipped(ml_csv(LABELS)))
    plain, _ = ingest.read_input(tmp_path / "Monday.csv")
    packed, files = ingest.read_input(tmp_path / "Monday-copy.csv.gz")
    assert packed.drop(columns="source_file").equals(plain.drop(columns="source_file"))
    assert files[0].name == "Monday-copy.csv.gz" and files[0].rows == 3


def test_gzipped_csvs_inside_a_zip_are_read(tmp_path):
    archive = tmp_path / "flows.zip"
    write_zip(archive, {"a/Tuesday.csv.gz": gzipped(ml_csv(["SSH-Patator"])),
                        "b/Wednesday.csv": ml_csv(["DoS Hulk", "BENIGN"])})
    frame, files = ingest.read_input(archive, verify=False)
    assert frame[LABEL_COLUMN].tolist() == ["SSH-Patator", "DoS Hulk", "BENIGN"]
    assert frame["day"].tolist() == ["Tuesday", "Wednesday", "Wednesday"]
    assert [f.name for f in files] == ["flows.zip/a/Tuesday.csv.gz", "flows.zip/b/Wednesday.csv"]


# --- the expansion limit -----------------------------------------------------------------

def test_a_zip_expanding_past_the_limit_is_refused_before_reading(tmp_path):
    archive = tmp_path / "big.zip"
    # not even a CSV: the refusal comes from the sizes alone, before any member is read
    write_zip(archive, {"a.csv": b"\x00" * 3000, "b.csv": b"\x00" * 3000})
    with pytest.raises(ValueError, match=r"big\.zip: its CSVs would expand to 6,000 bytes, past "
                       r"the limit of 5,000 \(data.max_expanded_bytes\); refused before"):
        ingest.read_input(archive, max_expanded_bytes=5000)
    with pytest.raises(ValueError, match="binary data"):   # under the limit it is read
        ingest.read_input(archive, max_expanded_bytes=6000)


def test_a_zip_member_compressed_like_a_bomb_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    write_zip(archive, {"flows.csv": b"0" * (20 * 1024**2)})
    with pytest.raises(ValueError, match=r"bomb\.zip: flows\.csv expands [\d,]+ times .*zip bomb"):
        ingest.read_input(archive)


@pytest.mark.parametrize("where", ["file", "zip-member"])
def test_a_gzip_stream_is_cut_off_at_the_limit(tmp_path, where):
    data = gzipped(ml_csv(LABELS * 20))
    path = tmp_path / ("Monday.csv.gz" if where == "file" else "flows.zip")
    if where == "file":
        path.write_bytes(data)
    else:
        write_zip(path, {"Monday.csv.gz": data})
    with pytest.raises(ValueError, match=r"Monday\.csv\.gz: expands past 4,000 bytes"):
        ingest.read_input(path, max_expanded_bytes=4000)
    assert len(ingest.read_input(path)[0]) == 60


# --- damaged archives ----------------------------------------------------------------------

def flipped_byte_zip(path) -> None:
    """A zip whose stored member has one byte changed: its CRC-32 no longer matches."""
    write_zip(path, {"Monday.csv": ml_csv(LABELS)}, method=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    data[data.index(b"BENIGN")] ^= 0x20
    path.write_bytes(bytes(data))


def truncated_zip(path) -> None:
    write_zip(path, {"Monday.csv": ml_csv(LABELS)})
    path.write_bytes(path.read_bytes()[:-30])


def truncated_gzip_member(path) -> None:
    write_zip(path, {"Monday.csv.gz": gzipped(ml_csv(LABELS * 50))[:-100]})


@pytest.mark.parametrize("damage", [flipped_byte_zip, truncated_zip, truncated_gzip_member],
                         ids=["bad-crc", "truncated-zip", "truncated-gzip-member"])
def test_a_damaged_zip_gets_one_clear_message(tmp_path, damage):
    path = tmp_path / "flows.zip"
    damage(path)
    with pytest.raises(ValueError, match=r"^flows\.zip.*: not a readable zip archive \(.+\); "
                       "download or copy it again"):
        ingest.read_input(path, verify=False)


def test_a_truncated_gzip_file_is_named(tmp_path):
    path = tmp_path / "Monday.csv.gz"
    path.write_bytes(gzipped(ml_csv(LABELS * 50))[:-100])
    with pytest.raises(ValueError, match=r"^Monday\.csv\.gz: not a readable compressed file"):
        ingest.read_input(path)


# --- caches that cannot be read --------------------------------------------------------------

def test_a_truncated_cache_is_reported_removed_and_rebuilt(tmp_path, caplog):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "Monday.csv").write_bytes(ml_csv(LABELS))
    paths = ingest.find_input_files(tmp_path / "raw")
    first = ingest.load_inputs(paths, tmp_path / "cache")
    [cache] = (tmp_path / "cache").glob("*.parquet")
    cache.write_bytes(cache.read_bytes()[: cache.stat().st_size // 2])
    with caplog.at_level(logging.WARNING, logger="nids.data.ingest"):
        again = ingest.load_inputs(paths, tmp_path / "cache")
    assert not again.from_cache and again.frame.equals(first.frame)
    assert any(str(cache) in m and "cannot be read" in m for m in caplog.messages)
    assert pq.read_table(cache).num_rows == 3   # rebuilt
    assert ingest.load_inputs(paths, tmp_path / "cache").from_cache


def test_the_capped_stream_reads_and_seeks_like_the_stream():
    stream = archives.CappedStream(io.BytesIO(b"abcdef"), 100, "x")
    assert stream.read(4) == b"abcd" and stream.tell() == 4
    stream.seek(0)
    assert stream.read() == b"abcdef"
