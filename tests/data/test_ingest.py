"""Loading CICIDS2017 CSVs of both official variants, their quirks, zips, cache and errors."""

import logging
import weakref
import zipfile

import numpy as np
import pyarrow.parquet as pq
import pytest

from nids.data import ingest, official
from nids.data.schema import (
    FEATURE_COLUMNS,
    LABEL_COLUMN,
    MACHINE_LEARNING_HEADER,
    TRAFFIC_LABELLING_HEADER,
)
from tests.support.builders import (
    csv_bytes,
    expected_features,
    feature_cells,
    features_of,
    ml_csv,
    ml_row,
    traffic_row,
)

THREE_LABELS = ["BENIGN", "DDoS", "PortScan"]
ML_HEADER = MACHINE_LEARNING_HEADER
COLUMN = {name: i for i, name in enumerate(FEATURE_COLUMNS)}
# Each official variant's header and its data-line builder.
BOTH_VARIANTS = pytest.mark.parametrize(
    ("header", "row"),
    [(ML_HEADER, ml_row), (TRAFFIC_LABELLING_HEADER, traffic_row)],
    ids=["machine-learning", "traffic-labelling"],
)


def assert_parses_to_three_rows(data: bytes) -> None:
    frame = ingest.read_flow_csv(data, "flows.csv")
    assert list(frame.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
    np.testing.assert_array_equal(features_of(frame), expected_features(3))
    assert frame[LABEL_COLUMN].tolist() == THREE_LABELS


def with_cell(offset: int, column: str, value: str) -> list[str]:
    cells = feature_cells(offset)
    cells[COLUMN[column]] = value
    return cells


# --- the two official variants and the header quirks -------------------------------------

def test_machine_learning_variant_parses_every_column_in_place():
    assert_parses_to_three_rows(ml_csv(THREE_LABELS))


def test_traffic_labelling_variant_parses_to_the_same_features():
    lines = [traffic_row(label, feature_cells(r)) for r, label in enumerate(THREE_LABELS)]
    data = csv_bytes(TRAFFIC_LABELLING_HEADER, lines)
    assert_parses_to_three_rows(data)
    # identifiers are dropped: the frame has exactly the 78 features and the label
    assert "source_ip" not in ingest.read_flow_csv(data, "t.csv").columns


def test_duplicate_fwd_header_length_keeps_both_columns():
    frame = ingest.read_flow_csv(ml_csv(["BENIGN"]), "flows.csv")
    assert frame.loc[0, "fwd_header_length"] == 34
    assert frame.loc[0, "fwd_header_length_1"] == 55


def pandas_resaved_header():
    header = list(ML_HEADER)
    header[55] = " Fwd Header Length.1"
    return header


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(pandas_resaved_header(), id="pandas-dot-1"),
        pytest.param([c.strip() for c in ML_HEADER], id="no-leading-spaces"),
        pytest.param([c.upper() for c in ML_HEADER], id="upper-case"),
    ],
)
def test_header_spellings_parse_the_same(header):
    lines = [ml_row(label, feature_cells(r)) for r, label in enumerate(THREE_LABELS)]
    assert_parses_to_three_rows(csv_bytes(header, lines))


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "utf8-bom"])
def test_line_ends_and_bom(newline, bom):
    assert_parses_to_three_rows(ml_csv(THREE_LABELS, newline=newline, bom=bom))


def test_infinity_and_nan_become_float_values():
    lines = [
        ml_row("BENIGN", with_cell(0, "flow_bytes_s", "Infinity")),
        ml_row("BENIGN", with_cell(1, "flow_packets_s", "NaN")),
        ml_row("BENIGN", with_cell(2, "flow_bytes_s", "-Infinity")),
    ]
    frame = ingest.read_flow_csv(csv_bytes(ML_HEADER, lines), "flows.csv")
    assert frame["flow_bytes_s"].tolist()[0] == np.inf
    assert np.isnan(frame.loc[1, "flow_packets_s"])
    assert frame.loc[2, "flow_bytes_s"] == -np.inf
    assert frame["flow_bytes_s"].dtype == np.float32


def test_minus_one_sentinels_are_loaded_as_they_are():
    cells = with_cell(0, "init_win_bytes_forward", "-1")
    cells[COLUMN["init_win_bytes_backward"]] = "-1"
    cells[COLUMN["flow_duration"]] = "-1"
    frame = ingest.read_flow_csv(csv_bytes(ML_HEADER, [ml_row("BENIGN", cells)]), "f.csv")
    assert frame.loc[0, ["init_win_bytes_forward", "init_win_bytes_backward",
                         "flow_duration"]].tolist() == [-1, -1, -1]


@BOTH_VARIANTS
def test_blank_all_comma_lines_are_dropped(header, row):
    blank = "," * (len(header) - 1)
    lines = [row("BENIGN", feature_cells(0)), blank, blank,
             row("DDoS", feature_cells(1)), blank, row("PortScan", feature_cells(2)), blank]
    assert_parses_to_three_rows(csv_bytes(header, lines))


WEB_ATTACK_SPELLINGS = {
    "u+fffd": "Web Attack \ufffd {}".encode(),
    "cp1252-0x96": b"Web Attack \x96 {}",
    "u+2013": "Web Attack \u2013 {}".encode(),
    "c2-96": b"Web Attack \xc2\x96 {}",
    "ascii-dash": b"Web Attack - {}",
}


@pytest.mark.parametrize("spelling", WEB_ATTACK_SPELLINGS.values(), ids=WEB_ATTACK_SPELLINGS)
@BOTH_VARIANTS
def test_web_attack_label_spellings_map_to_the_canonical_label(spelling, header, row):
    attacks = ["Brute Force", "XSS", "Sql Injection"]
    lines = [row("BENIGN").encode()] + [
        row("@").encode().replace(b"@", spelling.replace(b"{}", a.encode())) for a in attacks
    ]
    frame = ingest.read_flow_csv(csv_bytes(header, lines), "Thursday.csv")
    assert frame[LABEL_COLUMN].tolist() == [
        "BENIGN", "Web Attack - Brute Force", "Web Attack - XSS", "Web Attack - Sql Injection",
    ]


# --- files, zips and the cache -----------------------------------------------------------

def test_zip_of_both_variants_is_read_member_by_member(tmp_path):
    traffic = csv_bytes(TRAFFIC_LABELLING_HEADER, [traffic_row("Bot")])
    archive = tmp_path / "flows.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("MachineLearningCVE/Tuesday-WorkingHours.pcap_ISCX.csv",
                        ml_csv(["BENIGN", "FTP-Patator"]))
        zipped.writestr("TrafficLabelling/Friday-WorkingHours-Morning.pcap_ISCX.csv", traffic)
        zipped.writestr("readme.txt", "not a CSV")
    frame, files = ingest.read_input(archive, verify=False)
    assert frame[LABEL_COLUMN].tolist() == ["BENIGN", "FTP-Patator", "Bot"]
    assert frame["day"].tolist() == ["Tuesday", "Tuesday", "Friday"]
    assert frame["source_file"].tolist() == ["Tuesday-WorkingHours.pcap_ISCX.csv"] * 2 + [
        "Friday-WorkingHours-Morning.pcap_ISCX.csv"]
    assert [(f.name, f.rows) for f in files] == [
        ("flows.zip/MachineLearningCVE/Tuesday-WorkingHours.pcap_ISCX.csv", 2),
        ("flows.zip/TrafficLabelling/Friday-WorkingHours-Morning.pcap_ISCX.csv", 1),
    ]


def test_error_in_a_zip_member_names_the_archive_and_the_member(tmp_path):
    archive = tmp_path / "flows.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("Monday.csv", ml_csv(["BENIGN", "Malware"]))
    with pytest.raises(ValueError, match=r"^flows\.zip/Monday\.csv: unknown label.*'Malware'"):
        ingest.read_input(archive, verify=False)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"PK\x03\x04 broken", "not a readable zip"), (None, "holds no CSV")],
    ids=["corrupt", "no-csv"],
)
def test_bad_zip_is_refused_with_its_name(tmp_path, content, problem):
    archive = tmp_path / "flows.zip"
    if content is None:
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("notes.txt", "hello")
    else:
        archive.write_bytes(content)
    with pytest.raises(ValueError, match=problem) as error:
        ingest.read_input(archive)
    assert "flows.zip" in str(error.value)


def test_find_input_files_lists_csvs_and_zips_sorted(tmp_path):
    for name in ("b.csv", "a.ZIP", "notes.txt", "c.parquet"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.csv").mkdir()
    assert [p.name for p in ingest.find_input_files(tmp_path)] == ["a.ZIP", "b.csv"]
    assert ingest.find_input_files(tmp_path / "absent") == []


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("Monday-WorkingHours.pcap_ISCX.csv", "Monday"),
        ("Wednesday-workingHours.pcap_ISCX.csv", "Wednesday"),
        ("thursday_afternoon.csv", "Thursday"),
        ("MachineLearningCSV.zip/MachineLearningCVE/Friday-x.csv", "Friday"),
        ("cicids2017_sample.csv", "unknown"),
    ],
)
def test_day_of(name, day):
    assert official.day_of(name) == day


@pytest.fixture
def raw_folder(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "Monday-a.csv").write_bytes(ml_csv(["BENIGN", "BENIGN"]))
    (folder / "Tuesday-b.csv").write_bytes(ml_csv(["SSH-Patator"]))
    return folder


def test_cache_is_reused_without_parsing_again(raw_folder, tmp_path, monkeypatch):
    paths = ingest.find_input_files(raw_folder)
    first = ingest.load_inputs(paths, tmp_path / "cache")
    assert not first.from_cache
    assert len(first.frame) == 3

    def no_parsing(*args, **kwargs):
        raise AssertionError("the cached inputs were parsed again")

    monkeypatch.setattr(ingest, "read_input", no_parsing)
    second = ingest.load_inputs(paths, tmp_path / "cache")
    assert second.from_cache
    assert second.fingerprint == first.fingerprint
    assert second.frame.equals(first.frame)
    assert second.files == first.files


def test_drop_rows_keeps_the_description_and_lets_the_rows_go_from_every_holder(raw_folder,
                                                                              tmp_path):
    loaded = ingest.load_inputs(ingest.find_input_files(raw_folder), tmp_path / "cache")
    held = {"loaded": loaded}   # as a finished task run's parameters hold it
    description = (loaded.fingerprint, loaded.files, loaded.data_source)
    dtypes, rows = loaded.frame.dtypes, weakref.ref(loaded.frame)
    loaded.drop_rows()
    assert rows() is None
    assert len(held["loaded"].frame) == 0
    assert held["loaded"].frame.dtypes.equals(dtypes)
    assert (loaded.fingerprint, loaded.files, loaded.data_source) == description
    for column in loaded.frame.select_dtypes("number").columns:   # no view of the rows
        kept = loaded.frame[column].to_numpy()
        while isinstance(kept.base, np.ndarray):
            kept = kept.base
        assert kept.size == 0, column


def test_the_cache_dictionary_encodes_only_the_text_columns(raw_folder, tmp_path):
    ingest.load_inputs(ingest.find_input_files(raw_folder), tmp_path / "cache")
    metadata = pq.ParquetFile(next((tmp_path / "cache").glob("*.parquet"))).metadata
    columns = [metadata.row_group(0).column(i) for i in range(metadata.num_columns)]
    encoded = {column.path_in_schema for column in columns
               if any("DICTIONARY" in encoding for encoding in column.encodings)}
    assert encoded == {"label", "source_file", "day"}


def test_cache_misses_when_a_file_changes(raw_folder, tmp_path):
    paths = ingest.find_input_files(raw_folder)
    first = ingest.load_inputs(paths, tmp_path / "cache")
    (raw_folder / "Tuesday-b.csv").write_bytes(ml_csv(["SSH-Patator", "FTP-Patator"]))
    second = ingest.load_inputs(paths, tmp_path / "cache")
    assert not second.from_cache
    assert second.fingerprint != first.fingerprint
    assert second.frame[LABEL_COLUMN].tolist()[-2:] == ["SSH-Patator", "FTP-Patator"]


def test_load_inputs_without_files_says_where_to_put_them(tmp_path):
    with pytest.raises(ValueError, match="data/raw"):
        ingest.load_inputs([], tmp_path)


# --- checksums of the official file names ------------------------------------------------

def test_official_name_with_other_content_is_loaded_with_a_warning(tmp_path, caplog):
    path = tmp_path / "Monday-WorkingHours.pcap_ISCX.csv"
    path.write_bytes(ml_csv(["BENIGN"]))
    with caplog.at_level(logging.WARNING, logger="nids.data.ingest"):
        frame, files = ingest.read_input(path)
    assert len(frame) == 1
    [warning] = files[0].warnings
    assert warning.startswith("Monday-WorkingHours.pcap_ISCX.csv: size ")
    assert "176927918 bytes" in warning
    assert warning in caplog.messages


def test_other_names_and_unverified_reads_give_no_warning(tmp_path, caplog):
    other = tmp_path / "Monday-mine.csv"
    other.write_bytes(ml_csv(["BENIGN"]))
    official = tmp_path / "Tuesday-WorkingHours.pcap_ISCX.csv"
    official.write_bytes(ml_csv(["BENIGN"]))
    with caplog.at_level(logging.WARNING, logger="nids.data.ingest"):
        assert ingest.read_input(other)[1][0].warnings == []
        assert ingest.read_input(official, verify=False)[1][0].warnings == []
    assert caplog.messages == []


def test_checksum_warning_is_silent_for_the_official_size_and_digest():
    monday = official.OFFICIAL_FILES["Monday-WorkingHours.pcap_ISCX.csv"]
    name = "Monday-WorkingHours.pcap_ISCX.csv"
    assert official.checksum_warning(name, monday.size, monday.sha256) is None
    assert official.checksum_warning(name, monday.size, "0" * 64) is not None


# --- the catalogue of bad inputs ---------------------------------------------------------

def _text_in_numeric_column() -> bytes:
    return csv_bytes(ML_HEADER, [ml_row("BENIGN"),
                                 ml_row("BENIGN", with_cell(0, "flow_duration", "abc"))])


def _missing_column() -> bytes:
    header = [c for c in ML_HEADER if c != " Flow IAT Max"]
    cells = [c for i, c in enumerate(feature_cells()) if FEATURE_COLUMNS[i] != "flow_iat_max"]
    return csv_bytes(header, [",".join([*cells, "BENIGN"])])


BAD_INPUTS = {
    "empty": (b"", ["empty"]),
    "whitespace-only": (b"\r\n \r\n", ["empty"]),
    "bom-only": (b"\xef\xbb\xbf", ["empty"]),
    "header-only": (csv_bytes(ML_HEADER, []), ["header but no data rows"]),
    "header-and-blank-lines": (csv_bytes(ML_HEADER, ["," * 78] * 3), ["no data rows"]),
    "missing-column": (_missing_column(), ["missing", "flow_iat_max"]),
    "text-in-numeric-column": (_text_in_numeric_column(),
                               ["'flow_duration'", "'abc' at row 3"]),
    "unknown-label": (ml_csv(["BENIGN", "Malware"]), ["unknown label", "'Malware'"]),
    "concatenated-with-a-bom": (ml_csv(["BENIGN", "DDoS"]) + ml_csv(["Bot"], bom=True),
                                ["a header line repeats at row 4: files concatenated?"]),
    "concatenated-other-format": (
        ml_csv(["BENIGN", "DDoS"]) + csv_bytes(TRAFFIC_LABELLING_HEADER, [traffic_row("Bot")]),
        ["a header line repeats at row 4: files concatenated?"]),
    "truncated-last-line": (ml_csv(["BENIGN", "DDoS"]) + b"80,1234,2,0,12",
                            ["row 4 has 5 field(s)", "79", "truncated"]),
    "binary-junk": (bytes(range(256)) * 64, ["binary data"]),
    "html-error-page": (b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n",
                        ["'<!DOCTYPE html>'", "not a CSV header"]),
    "gzip-instead-of-csv": (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(500),
                            ["binary data"]),
    "semicolon-delimiter": (csv_bytes(ML_HEADER, [ml_row("BENIGN")]).replace(b",", b";"),
                            ["';'-separated", "comma-separated"]),
    "tab-delimiter": (csv_bytes(ML_HEADER, [ml_row("BENIGN")]).replace(b",", b"\t"),
                      ["'\\t'-separated"]),
    "utf-16": (ml_csv(["BENIGN"]).decode().encode("utf-16"), ["UTF-16", "UTF-8"]),
    "utf-16-without-bom": (ml_csv(["BENIGN"]).decode().encode("utf-16-le"), ["UTF-16"]),
}


@pytest.mark.parametrize(("data", "fragments"), BAD_INPUTS.values(), ids=BAD_INPUTS)
def test_bad_input_is_refused_naming_the_file_and_the_problem(tmp_path, data, fragments):
    path = tmp_path / "Friday-bad.csv"
    path.write_bytes(data)
    with pytest.raises(ValueError) as error:
        ingest.read_input(path)
    message = str(error.value)
    assert message.startswith("Friday-bad.csv: ")
    for fragment in fragments:
        assert fragment in message


# --- what loads, with a warning ------------------------------------------------------------

def test_files_joined_with_cat_load_with_a_warning_naming_the_row(tmp_path, caplog):
    path = tmp_path / "Friday-joined.csv"
    path.write_bytes(ml_csv(["BENIGN", "DDoS", "PortScan"]) + ml_csv(["Bot"]))
    with caplog.at_level(logging.WARNING, logger="nids.data.parsing"):
        frame, files = ingest.read_input(path)
    assert frame[LABEL_COLUMN].tolist() == ["BENIGN", "DDoS", "PortScan", "Bot"]
    expected = ("Friday-joined.csv: a header line repeats at row 5: files concatenated? "
                "(1 repeated header line(s), skipped)")
    assert files[0].warnings == [expected] and expected in caplog.messages


def test_values_beyond_float32_are_reported_with_column_and_count(tmp_path, caplog):
    lines = [ml_row("BENIGN", with_cell(0, "flow_bytes_s", "1e39")),
             ml_row("BENIGN", with_cell(1, "flow_bytes_s", "-2e40")),
             ml_row("BENIGN", with_cell(2, "flow_bytes_s", "Infinity")),   # not an overflow
             ml_row("BENIGN", with_cell(3, "flow_iat_max", "3.5e38"))]
    path = tmp_path / "Friday-huge.csv"
    path.write_bytes(csv_bytes(ML_HEADER, lines))
    with caplog.at_level(logging.WARNING, logger="nids.data.parsing"):
        frame, files = ingest.read_input(path)
    assert frame["flow_bytes_s"].tolist()[:3] == [np.inf, -np.inf, np.inf]
    assert files[0].warnings == [
        "Friday-huge.csv: column 'Flow Bytes/s' holds 2 value(s) beyond float32's range "
        "(e.g. 1e39), read as infinity; check the file's writer",
        "Friday-huge.csv: column 'Flow IAT Max' holds 1 value(s) beyond float32's range "
        "(e.g. 1e39), read as infinity; check the file's writer"]
