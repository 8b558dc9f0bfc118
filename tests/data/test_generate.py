"""Generated data: deterministic, in the official format with its quirks, loadable back,
fitted to real rows, and in time order with attacks in bursts."""

import numpy as np
import pandas as pd
import pytest

from nids.data import generate, ingest
from nids.data.official import OFFICIAL_FILES
from nids.data.profiles import load_profiles
from nids.data.schema import (
    CICIDS2017_LABELS,
    FEATURE_COLUMNS,
    LABEL_COLUMN,
    MACHINE_LEARNING_HEADER,
)
from nids.paths import PROJECT_ROOT

ROWS, SEED = 2000, 11
RARE = ("Heartbleed", "Infiltration", "Web Attack - Sql Injection")
REAL_SAMPLE = PROJECT_ROOT.parent / "shared" / "cicids2017" / "cicids2017_sample.csv"


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
    flows = generate.sample_flows("DDoS", 2000, np.random.default_rng(1))
    assert list(flows.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
    assert (flows["subflow_fwd_packets"] == flows["total_fwd_packets"]).all()
    assert (flows["fwd_header_length_1"] == flows["fwd_header_length"]).all()
    assert (flows["total_fwd_packets"] >= 1).all()
    for side in ("fwd", "bwd"):
        length = flows[[f"{side}_packet_length_{k}" for k in ("min", "mean", "max")]]
        assert (length.diff(axis=1).iloc[:, 1:] >= -1e-9).all().all()  # min <= mean <= max
    packets = flows["total_fwd_packets"] + flows["total_backward_packets"]
    total = flows["total_length_of_fwd_packets"] + flows["total_length_of_bwd_packets"]
    np.testing.assert_allclose(flows["average_packet_size"], total / packets)
    np.testing.assert_allclose(flows["packet_length_mean"], total / (packets + 1))
    assert (flows["flow_iat_max"] <= flows["flow_duration"]).all()
    # fitted to real DDoS rows: nearly all to port 80, unlike benign traffic
    assert (flows["destination_port"] == 80).mean() > 0.95


def test_profile_table_loads_and_covers_every_label():
    profiles = load_profiles()
    assert set(CICIDS2017_LABELS) - {"BENIGN"} <= set(profiles)
    components = [name for name in profiles if name.startswith("BENIGN:")]
    assert len(components) >= 2
    assert sum(profiles[name].share for name in components) == pytest.approx(1, abs=1e-3)
    for label in CICIDS2017_LABELS:
        assert len(generate.sample_flows(label, 50, np.random.default_rng(0))) == 50


def test_a_broken_profile_table_is_refused_naming_the_file_and_the_fix(tmp_path):
    table = tmp_path / "class_profiles.json"
    table.write_text('{"quantities": ["flow_duration"]')
    with pytest.raises(ValueError, match="class_profiles.json.*fit_class_profiles.py"):
        load_profiles(table)


def test_an_unknown_label_is_refused_naming_it():
    with pytest.raises(ValueError, match="Web Attack - Typo"):
        generate.sample_flows("Web Attack - Typo", 5, np.random.default_rng(0))


def rows_of(week_frame, label):
    """Positions (0..1 of its file) of a label's rows, in the file of that label."""
    [name] = [n for n, f in OFFICIAL_FILES.items() if label in f.label_counts]
    day = week_frame[week_frame["source_file"] == name].reset_index(drop=True)
    return np.flatnonzero(day[LABEL_COLUMN].astype(str) == label) / len(day), len(day)


@pytest.mark.parametrize("label", sorted(set(CICIDS2017_LABELS) - {"BENIGN"}))
def test_attacks_come_in_a_burst_not_spread_over_the_day(week_frame, label):
    positions, rows = rows_of(week_frame, label)
    share = len(positions) / rows
    # rows spread uniformly over the file would span about (n-1)/(n+1) of it (>= 0.85 here)
    assert positions.max() - positions.min() < share + 0.4


@pytest.mark.parametrize("earlier,later", [
    ("FTP-Patator", "SSH-Patator"), ("DoS slowloris", "DoS Slowhttptest"),
    ("DoS Slowhttptest", "DoS Hulk"), ("DoS Hulk", "DoS GoldenEye"),
    ("DoS GoldenEye", "Heartbleed"), ("Web Attack - Brute Force", "Web Attack - XSS"),
    ("Web Attack - XSS", "Web Attack - Sql Injection"),
])
def test_attacks_of_a_day_come_in_their_real_order(week_frame, earlier, later):
    assert rows_of(week_frame, earlier)[0].max() < rows_of(week_frame, later)[0].min()


def test_consecutive_benign_slices_vary_more_than_independent_draws(tmp_path):
    [monday] = generate.generate_dataset(tmp_path, 20_000, SEED, days=["Monday"])
    frame = ingest.read_flow_csv(monday.read_bytes(), monday.name)
    dns = (frame["destination_port"] == 53).to_numpy().reshape(10, 2000).mean(axis=1)
    # independent draws: a standard deviation of about 0.011 per slice, a range near 0.04
    assert dns.max() - dns.min() > 0.12


@pytest.mark.skipif(not REAL_SAMPLE.exists(), reason=f"the real sample is absent ({REAL_SAMPLE})")
def test_columns_are_exact_copies_only_where_they_are_in_real_traffic(week_frame):
    real = ingest.read_input(REAL_SAMPLE, verify=False)[0]
    assert duplicate_pairs(week_frame) <= duplicate_pairs(real)


def duplicate_pairs(frame):
    arrays = {c: frame[c].to_numpy(np.float64) for c in FEATURE_COLUMNS}
    return {(a, b) for i, a in enumerate(FEATURE_COLUMNS) for b in FEATURE_COLUMNS[i + 1:]
            if np.nanstd(arrays[a]) > 0 and np.array_equal(arrays[a], arrays[b], equal_nan=True)}
