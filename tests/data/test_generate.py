"""Generated data: deterministic, in the official format with its quirks, loadable back."""

import numpy as np
import pandas as pd
import pytest

from nids.data import generate, ingest
from nids.data.official import OFFICIAL_FILES
from nids.data.schema import (
    CICIDS2017_LABELS,
    FEATURE_COLUMNS,
    LABEL_COLUMN,
    MACHINE_LEARNING_HEADER,
)

ROWS, SEED = 2000, 11
RARE = ("Heartbleed", "Infiltration", "Web Attack - Sql Injection")


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """A full generated week of about 2,000 rows: the paths of the eight day files."""
    return generate.generate_dataset(tmp_path_factory.mktemp("week"), ROWS, SEED)


@pytest.fixture(scope="module")
def week_frame(week):
    return pd.concat([ingest.read_flow_csv(p.read_bytes(), p.name).assign(source_file=p.name)
                      for p in week], ignore_index=True)


def cells_of(path):
    """The raw text cells of a written file, nothing converted."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, header=0,
                       encoding="utf-8", names=range(len(MACHINE_LEARNING_HEADER)))


def test_one_official_file_per_day(week):
    assert [p.name for p in week] == list(OFFICIAL_FILES)


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(week, tmp_path):
    again = generate.generate_dataset(tmp_path / "again", ROWS, SEED)
    other = generate.generate_dataset(tmp_path / "other", ROWS, SEED + 1)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in week]
    assert [p.read_bytes() for p in other] != [p.read_bytes() for p in week]


def test_the_same_request_reuses_the_files_and_another_rewrites_them(tmp_path):
    first = generate.generate_dataset(tmp_path, 1000, SEED, days=["Monday"])
    written = first[0].stat().st_mtime_ns
    assert generate.generate_dataset(tmp_path, 1000, SEED, days=["Monday"]) == first
    assert first[0].stat().st_mtime_ns == written
    generate.generate_dataset(tmp_path, 1200, SEED, days=["Monday"])
    assert len(ingest.read_flow_csv(first[0].read_bytes(), "m.csv")) == 1200


def test_size_is_roughly_as_requested(week_frame):
    # rare classes are raised to MIN_CLASS_ROWS, so a little more than asked for
    assert ROWS <= len(week_frame) <= 1.1 * ROWS


def test_full_week_has_all_15_labels_and_rare_classes_stay_rare(week_frame):
    counts = week_frame[LABEL_COLUMN].value_counts()
    assert set(counts[counts > 0].index) == set(CICIDS2017_LABELS)
    assert 0.7 < counts["BENIGN"] / len(week_frame) < 0.85
    for label in RARE:
        assert counts[label] == generate.MIN_CLASS_ROWS
        assert counts[label] / len(week_frame) < 0.01
    assert counts["DoS Hulk"] > 10 * generate.MIN_CLASS_ROWS


def test_day_files_carry_only_their_days_attacks(week_frame):
    for name, official in OFFICIAL_FILES.items():
        expected = official.label_counts
        labels = week_frame.loc[week_frame["source_file"] == name, LABEL_COLUMN]
        assert set(labels.astype(str)) == set(expected), name


def test_class_counts_at_full_scale_are_the_official_counts():
    counts = generate.class_counts(generate.FULL_SCALE_ROWS)
    assert generate.FULL_SCALE_ROWS == 2_830_743
    # Heartbleed's 11 official rows are raised to the minimum a three-way split needs
    assert counts["Wednesday-workingHours.pcap_ISCX.csv"]["Heartbleed"] == 12
    counts["Wednesday-workingHours.pcap_ISCX.csv"]["Heartbleed"] = 11
    assert counts == {name: f.label_counts for name, f in OFFICIAL_FILES.items()}


def test_class_counts_of_chosen_days():
    assert generate.class_counts(1000, ["Monday"]) == {
        "Monday-WorkingHours.pcap_ISCX.csv": {"BENIGN": 1000}}
    friday = generate.class_counts(10_000, ["Friday"])
    assert len(friday) == 3
    assert sum(sum(c.values()) for c in friday.values()) == pytest.approx(10_000, abs=3)


def test_unknown_day_is_refused_naming_it():
    with pytest.raises(ValueError, match="Funday"):
        generate.class_counts(1000, ["Funday"])


def test_written_file_has_the_official_header_and_crlf_line_ends(week):
    data = week[0].read_bytes()
    header, _, _ = data.partition(b"\r\n")
    assert header.decode().split(",") == list(MACHINE_LEARNING_HEADER)
    assert header.startswith(b" Destination Port, Flow Duration,")
    assert header.count(b", Fwd Header Length,") == 2
    assert data.count(b"\n") == data.count(b"\r\n") == len(cells_of(week[0])) + 1


def test_written_files_hold_infinity_nan_and_minus_one(week):
    cells = pd.concat([cells_of(p) for p in week])
    rates = pd.concat([cells[14], cells[15]])  # Flow Bytes/s, Flow Packets/s
    assert (rates == "Infinity").any()
    assert (rates == "NaN").any()
    assert (cells[66] == "-1").any() and (cells[67] == "-1").any()  # Init_Win_bytes_*


def test_web_attack_labels_are_written_with_u_fffd(week):
    [thursday] = [p for p in week if "WebAttacks" in p.name]
    labels = set(cells_of(thursday)[78])
    assert labels == {"BENIGN", "Web Attack \ufffd Brute Force", "Web Attack \ufffd XSS",
                      "Web Attack \ufffd Sql Injection"}


def test_files_load_back_with_the_planned_labels(week):
    plan = generate.class_counts(ROWS)
    for path in week:
        frame = ingest.read_flow_csv(path.read_bytes(), path.name)
        counts = frame[LABEL_COLUMN].value_counts()
        assert counts[counts > 0].to_dict() == plan[path.name]


def test_written_values_load_back_unchanged(tmp_path):
    rng = np.random.default_rng(5)
    flows = generate.generate_day({"BENIGN": 300, "PortScan": 100, "Web Attack - XSS": 20}, rng)
    flows.loc[0, "flow_bytes_s"] = np.nan
    flows.loc[1, "flow_packets_s"] = np.inf
    path = tmp_path / "Thursday-x.csv"
    generate.write_official_csv(flows, path)
    loaded = ingest.read_flow_csv(path.read_bytes(), path.name)
    assert loaded[LABEL_COLUMN].astype(str).tolist() == flows[LABEL_COLUMN].tolist()
    written = flows[list(FEATURE_COLUMNS)].to_numpy(np.float64).astype(np.float32)
    read = loaded[list(FEATURE_COLUMNS)].to_numpy()
    np.testing.assert_allclose(read, written, rtol=1e-6, equal_nan=True)
    assert np.isnan(read[0, 14]) and read[1, 15] == np.inf


def test_sample_flows_keep_the_relations_cicflowmeter_derives():
    flows = generate.sample_flows("DDoS", 200, np.random.default_rng(1))
    assert list(flows.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
    assert (flows["subflow_fwd_packets"] == flows["total_fwd_packets"]).all()
    assert (flows["fwd_header_length_1"] == flows["fwd_header_length"]).all()
    assert (flows["total_fwd_packets"] >= 1).all()
    assert (flows["destination_port"] == 80).all()
