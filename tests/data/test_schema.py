"""The CICIDS2017 schema: official headers, canonical names, labels and their spellings."""

import pytest

from nids.data.schema import (
    CICIDS2017_LABELS,
    FEATURE_COLUMNS,
    LABEL_FAMILIES,
    LABEL_HEADER,
    LABELS,
    MACHINE_LEARNING_HEADER,
    OFFICIAL_FEATURE_HEADER,
    TRAFFIC_LABELLING_HEADER,
    canonical_header,
    canonical_label,
    canonical_name,
    decode_label,
)

# The 14 header cells without a leading space (../shared/cicids2017/README.md).
UNSPACED = {
    "Total Length of Fwd Packets", "Bwd Packet Length Max", "Flow Bytes/s", "Fwd IAT Total",
    "Bwd IAT Total", "Fwd PSH Flags", "Fwd Packets/s", "FIN Flag Count", "Fwd Avg Bytes/Bulk",
    "Bwd Avg Bulk Rate", "Subflow Fwd Packets", "Init_Win_bytes_forward", "Active Mean",
    "Idle Mean",
}


def test_official_header_has_the_published_shape():
    assert len(OFFICIAL_FEATURE_HEADER) == 78
    assert len(MACHINE_LEARNING_HEADER) == 79
    assert MACHINE_LEARNING_HEADER[-1] == LABEL_HEADER == " Label"
    assert {c for c in OFFICIAL_FEATURE_HEADER if not c.startswith(" ")} == UNSPACED
    duplicates = [i for i, c in enumerate(OFFICIAL_FEATURE_HEADER) if c == " Fwd Header Length"]
    assert duplicates == [34, 55]


def test_traffic_labelling_header_puts_identifiers_around_destination_port():
    assert len(TRAFFIC_LABELLING_HEADER) == 85
    assert TRAFFIC_LABELLING_HEADER[:7] == (
        "Flow ID", " Source IP", " Source Port", " Destination IP", " Destination Port",
        " Protocol", " Timestamp",
    )
    assert TRAFFIC_LABELLING_HEADER[7:] == MACHINE_LEARNING_HEADER[1:]


def test_feature_columns_are_unique_snake_case_with_numbered_duplicate():
    assert len(set(FEATURE_COLUMNS)) == 78
    assert FEATURE_COLUMNS[34] == "fwd_header_length"
    assert FEATURE_COLUMNS[55] == "fwd_header_length_1"
    assert all(c == c.lower() and " " not in c and "/" not in c for c in FEATURE_COLUMNS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Flow Bytes/s", "flow_bytes_s"),
        ("Flow Bytes/s", "flow_bytes_s"),
        (" Down/Up Ratio", "down_up_ratio"),
        ("Init_Win_bytes_forward", "init_win_bytes_forward"),
        (" Fwd Header Length.1", "fwd_header_length_1"),  # pandas' renamed duplicate
        ("Flow ID", "flow_id"),
        (" Label", "label"),
    ],
)
def test_canonical_name(raw, expected):
    assert canonical_name(raw) == expected


def test_canonical_header_numbers_repeats_like_pandas():
    assert canonical_header([" A", "B", " A", "A "]) == ["a", "b", "a_1", "a_2"]


def test_canonical_header_is_the_same_for_every_header_spelling():
    official = canonical_header(MACHINE_LEARNING_HEADER)
    stripped = canonical_header([c.strip() for c in MACHINE_LEARNING_HEADER])
    resaved = list(MACHINE_LEARNING_HEADER)
    resaved[55] = " Fwd Header Length.1"
    assert official == stripped == canonical_header(resaved)


def test_labels_and_families():
    assert len(CICIDS2017_LABELS) == len(set(CICIDS2017_LABELS)) == 15
    assert LABELS == (*CICIDS2017_LABELS, "Infiltration - Portscan", "Attempted")
    assert set(LABEL_FAMILIES) == set(LABELS)
    assert LABEL_FAMILIES["Web Attack - XSS"] == "Web Attack"
    assert LABEL_FAMILIES["Heartbleed"] == "DoS"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BENIGN", "BENIGN"),
        ("  benign ", "BENIGN"),
        ("DoS slowloris", "DoS slowloris"),
        ("Web Attack \ufffd Brute Force", "Web Attack - Brute Force"),  # MachineLearningCVE
        ("Web Attack \u2013 XSS", "Web Attack - XSS"),  # cp1252 0x96 decoded as cp1252
        ("Web Attack \u0096 Sql Injection", "Web Attack - Sql Injection"),  # ... as latin-1
        ("Web Attack \u2014 XSS", "Web Attack - XSS"),
        ("Web Attack  -  Brute Force", "Web Attack - Brute Force"),
        ("Web Attack - Brute Force - Attempted", "BENIGN"),  # 2021 re-release: no attack
        ("DoS Hulk - Attempted", "BENIGN"),
        ("Nonsense - Attempted", None),
        ("Malware", None),
        ("", None),
    ],
)
def test_canonical_label(raw, expected):
    assert canonical_label(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"BENIGN", "BENIGN"),
        ("Web Attack \ufffd XSS".encode(), "Web Attack \ufffd XSS"),
        (b"Web Attack \x96 XSS", "Web Attack \u2013 XSS"),  # not UTF-8: read as cp1252
        (b"Web Attack \xc2\x96 XSS", "Web Attack \u0096 XSS"),
    ],
)
def test_decode_label(raw, expected):
    assert decode_label(raw) == expected
    assert canonical_label(decode_label(raw)) in LABELS
