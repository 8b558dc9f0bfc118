"""Flow formats: the 2017 release, the corrected CIC-IDS-2017 (CICFlowMeter-V4), CSE-CIC-IDS2018
and the Python cicflowmeter package, their time units, the label policies, and the real rows
beside the project (../shared)."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from nids.config import LabelGrouping, LabelPolicy, load_training_config
from nids.data import formats, ingest
from nids.data.formats import FEATURE_NAMES, FORMATS
from nids.data.schema import (
    FEATURE_COLUMNS,
    LABEL_COLUMN,
    LABEL_FAMILIES,
    LABELS,
    MACHINE_LEARNING_HEADER,
    OFFICIAL_FEATURE_HEADER,
    TRAFFIC_LABELLING_HEADER,
    canonical_header,
)
from nids.training import splits as featurize

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
IDENTIFIER_VALUES = {"id": "7", "Flow ID": "a-b-1-2-6", "Src IP": "192.168.10.5",
                     "Src Port": "1234", "Dst IP": "192.168.10.50", "Protocol": "6",
                     "Timestamp": "2017-07-07 13:39:36"}
# The public CSE-CIC-IDS2018 "Processed Traffic Data for ML Algorithms" header (80 columns;
# the Tuesday-20-02-2018 file adds Flow ID, Src IP, Src Port, Dst IP in front).
CSE_CIC_IDS2018_HEADER = (
    "Dst Port,Protocol,Timestamp,Flow Duration,Tot Fwd Pkts,Tot Bwd Pkts,TotLen Fwd Pkts,"
    "TotLen Bwd Pkts,Fwd Pkt Len Max,Fwd Pkt Len Min,Fwd Pkt Len Mean,Fwd Pkt Len Std,"
    "Bwd Pkt Len Max,Bwd Pkt Len Min,Bwd Pkt Len Mean,Bwd Pkt Len Std,Flow Byts/s,Flow Pkts/s,"
    "Flow IAT Mean,Flow IAT Std,Flow IAT Max,Flow IAT Min,Fwd IAT Tot,Fwd IAT Mean,Fwd IAT Std,"
    "Fwd IAT Max,Fwd IAT Min,Bwd IAT Tot,Bwd IAT Mean,Bwd IAT Std,Bwd IAT Max,Bwd IAT Min,"
    "Fwd PSH Flags,Bwd PSH Flags,Fwd URG Flags,Bwd URG Flags,Fwd Header Len,Bwd Header Len,"
    "Fwd Pkts/s,Bwd Pkts/s,Pkt Len Min,Pkt Len Max,Pkt Len Mean,Pkt Len Std,Pkt Len Var,"
    "FIN Flag Cnt,SYN Flag Cnt,RST Flag Cnt,PSH Flag Cnt,ACK Flag Cnt,URG Flag Cnt,"
    "CWE Flag Count,ECE Flag Cnt,Down/Up Ratio,Pkt Size Avg,Fwd Seg Size Avg,Bwd Seg Size Avg,"
    "Fwd Byts/b Avg,Fwd Pkts/b Avg,Fwd Blk Rate Avg,Bwd Byts/b Avg,Bwd Pkts/b Avg,"
    "Bwd Blk Rate Avg,Subflow Fwd Pkts,Subflow Fwd Byts,Subflow Bwd Pkts,Subflow Bwd Byts,"
    "Init Fwd Win Byts,Init Bwd Win Byts,Fwd Act Data Pkts,Fwd Seg Size Min,Active Mean,"
    "Active Std,Active Max,Active Min,Idle Mean,Idle Std,Idle Max,Idle Min,Label"
).split(",")


def flow_values(row: int, time_scale: float = 1.0) -> dict[str, float]:
    """Feature i holds i + row, except the times and rates: a flow of 5 packets lasting
    1,000 * (row + 1) microseconds, written in units of `time_scale` microseconds."""
    values = {f: float(i + row) for i, f in enumerate(FEATURE_COLUMNS)}
    values |= {f: values[f] / time_scale for f in formats.TIME_COLUMNS}
    values |= {"flow_duration": 1000.0 * (row + 1) / time_scale, "total_fwd_packets": 2.0,
               "total_backward_packets": 3.0, "flow_packets_s": 5e6 / (1000.0 * (row + 1))}
    return values


def expected_values(row: int) -> dict[str, float]:
    values = flow_values(row)
    return values | {"fwd_header_length_1": values["fwd_header_length"]}


def format_csv(fmt: formats.FlowFormat, labels: list[str] | None, time_scale: float = 1.0,
               label_header: str = "Label", extra: dict[str, list[str]] | None = None) -> bytes:
    """A file as `fmt` writes it: identifiers, each feature under its name (once), labels."""
    names = dict.fromkeys(fmt.names[f] for f in FEATURE_COLUMNS)  # the 2017 duplicate once
    header = [*fmt.identifiers, *names, *(extra or {})]
    rows = len(labels) if labels else 3
    lines = []
    for row in range(rows):
        by_name = {fmt.names[f]: v for f, v in reversed(flow_values(row, time_scale).items())}
        cells = [IDENTIFIER_VALUES.get(i, "x") for i in fmt.identifiers]
        cells += [repr(by_name[name]) for name in names]
        cells += [values[row] for values in (extra or {}).values()]
        lines.append(",".join(cells + ([labels[row]] if labels else [])))
    header += [label_header] if labels else []
    return "\n".join([",".join(header), *lines, ""]).encode()


def assert_features(frame, rows: int) -> None:
    for row in range(rows):
        expected = expected_values(row)
        actual = frame.loc[row, list(FEATURE_COLUMNS)].to_numpy(np.float64)
        np.testing.assert_allclose(actual, [expected[f] for f in FEATURE_COLUMNS], rtol=1e-6)


# --- the table and the detection ----------------------------------------------------------

def test_the_2017_names_of_the_table_are_the_official_header():
    assert list(FEATURE_NAMES) == list(FEATURE_COLUMNS)
    assert [n[0] for n in FEATURE_NAMES.values()] == [c.strip() for c in OFFICIAL_FEATURE_HEADER]


CICFLOWMETER_V4_HEADER = (  # ../shared/cicids2017-improved/README.md: 91 columns
    ["id", "Flow ID", "Src IP", "Src Port", "Dst IP", "Dst Port", "Protocol", "Timestamp"]
    + [n[1] for f, n in FEATURE_NAMES.items() if f not in ("destination_port",
                                                             "fwd_header_length_1")]
    + ["Fwd RST Flags", "Bwd RST Flags", "ICMP Code", "ICMP Type", "Total TCP Flow Time",
       "Label", "Attempted Category"]
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (list(MACHINE_LEARNING_HEADER), formats.CICIDS2017),
        (list(TRAFFIC_LABELLING_HEADER), formats.CICIDS2017),
        (CICFLOWMETER_V4_HEADER, formats.CICFLOWMETER_V4),
        (CSE_CIC_IDS2018_HEADER, formats.CSE_CIC_IDS2018),
        (["Flow ID", "Src IP", "Src Port", "Dst IP", *CSE_CIC_IDS2018_HEADER],
         formats.CSE_CIC_IDS2018),
        ([*formats.CICFLOWMETER_PYTHON.identifiers, *formats.CICFLOWMETER_PYTHON.names.values()],
         formats.CICFLOWMETER_PYTHON),
    ],
    ids=["machine-learning", "traffic-labelling", "cicflowmeter-v4", "cse-cic-ids2018",
         "cse-cic-ids2018-tuesday", "cicflowmeter-python"],
)
def test_the_header_tells_the_format(header, expected):
    match = formats.match_header(header, canonical_header(header), "f.csv")
    assert match.format is expected
    assert match.missing == ()
    assert len(set(match.columns.values())) >= 77  # the 2017 duplicate aside, all distinct


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.title.split()[0])
def test_every_format_reads_to_the_same_2017_features(fmt, caplog):
    labels = ["BENIGN", "DDoS", "PortScan"]
    with caplog.at_level(logging.INFO, logger="nids.data.parsing"):
        frame = ingest.read_flow_csv(format_csv(fmt, labels), "f.csv")
    assert list(frame.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]  # no identifier column
    assert_features(frame, 3)
    assert frame[LABEL_COLUMN].tolist() == labels
    assert f"f.csv: {fmt.title} format, times in microseconds" in caplog.messages


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.title.split()[0])
def test_a_header_lacking_a_feature_names_the_closest_format_and_the_column(fmt):
    data = format_csv(fmt, ["BENIGN"]).replace(fmt.names["flow_iat_max"].encode(), b"Other")
    with pytest.raises(ValueError) as error:
        ingest.read_flow_csv(data, "mine.csv")
    message = str(error.value)
    assert message.startswith("mine.csv: 1 expected column(s) missing: flow_iat_max ")
    assert f"({fmt.names['flow_iat_max']!r})" in message
    assert f"the closest is {fmt.title}" in message


# --- tolerance ----------------------------------------------------------------------------

def test_a_2017_file_without_the_duplicate_column_loads():
    data = format_csv(formats.CICIDS2017, ["Bot"])  # TrafficLabelling's 85 columns less one
    assert len(data.split(b"\n")[0].split(b",")) == len(TRAFFIC_LABELLING_HEADER) - 1
    frame = ingest.read_flow_csv(data, "resaved.csv")
    assert_features(frame, 1)
    assert frame.loc[0, "fwd_header_length_1"] == frame.loc[0, "fwd_header_length"]


@pytest.mark.parametrize("label_header", ["Label", " Label", "label", "labels", "LABELS"])
def test_the_label_column_may_be_spelled_several_ways(label_header):
    data = format_csv(formats.CICFLOWMETER_V4, ["BENIGN", "Botnet"], label_header=label_header)
    assert ingest.read_flow_csv(data, "f.csv")[LABEL_COLUMN].tolist() == ["BENIGN", "Bot"]


def test_columns_the_2017_features_lack_are_ignored_with_one_log_line(caplog):
    extra = {"Fwd RST Flags": ["0"] * 2, "ICMP Code": ["-1"] * 2, "Unnamed: 0": ["0", "1"]}
    data = format_csv(formats.CICFLOWMETER_V4, ["BENIGN", "DDoS"], extra=extra)
    with caplog.at_level(logging.INFO, logger="nids.data.parsing"):
        frame = ingest.read_flow_csv(data, "v4.csv")
    assert list(frame.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
    [line] = [m for m in caplog.messages if m.startswith("v4.csv:")]
    assert line.endswith("ignored 3 column(s) the 2017 feature set lacks: Fwd RST Flags, "
                         "ICMP Code, Unnamed: 0")


def test_header_lines_repeated_inside_a_file_are_dropped():
    data = format_csv(formats.CSE_CIC_IDS2018, ["Benign", "Bot", "Infilteration"])
    header, *lines = data.decode().splitlines()
    data = "\n".join([header, lines[0], header, lines[1], lines[2], header, ""]).encode()
    frame = ingest.read_flow_csv(data, "Friday-02-03-2018_TrafficForML_CICFlowMeter.csv")
    assert frame[LABEL_COLUMN].tolist() == ["BENIGN", "Bot", "Infiltration"]
    assert_features(frame, 3)


def test_training_data_without_labels_is_refused_and_batches_without_are_read():
    data = format_csv(formats.CICFLOWMETER_PYTHON, None)
    with pytest.raises(ValueError, match=r"^flows\.csv: no label column \(Label, label or"):
        ingest.read_flow_csv(data, "flows.csv")
    frame = ingest.read_flow_csv(data, "flows.csv", require_label=False)
    assert list(frame.columns) == list(FEATURE_COLUMNS)


# --- time units ---------------------------------------------------------------------------

@pytest.mark.parametrize(("scale", "unit"), [(1e6, "seconds"), (1e3, "milliseconds")])
def test_cicflowmeter_times_in_seconds_are_converted_to_microseconds(scale, unit, caplog):
    data = format_csv(formats.CICFLOWMETER_PYTHON, None, time_scale=scale)
    with caplog.at_level(logging.INFO, logger="nids.data.parsing"):
        frame = ingest.read_flow_csv(data, "live.csv", require_label=False)
    assert_features(frame, 3)
    assert f"live.csv: {formats.CICFLOWMETER_PYTHON.title} format, times in {unit}, " \
        "converted to microseconds" in caplog.messages


def test_the_java_formats_keep_their_microseconds_whatever_the_rates():
    data = format_csv(formats.CICFLOWMETER_V4, ["BENIGN"] * 3, time_scale=1e6)
    frame = ingest.read_flow_csv(data, "v4.csv")
    assert frame["flow_duration"].tolist() == pytest.approx([1e-3, 2e-3, 3e-3])


def test_without_a_usable_rate_microseconds_are_assumed_with_a_warning(caplog):
    data = format_csv(formats.CICFLOWMETER_PYTHON, None)
    header, *lines = data.decode().splitlines()
    position = header.split(",").index("flow_pkts_s")
    lines = [",".join("0" if i == position else c for i, c in enumerate(line.split(",")))
             for line in lines]
    with caplog.at_level(logging.WARNING, logger="nids.data.formats"):
        frame = ingest.read_flow_csv("\n".join([header, *lines]).encode(), "idle.csv",
                                     require_label=False)
    assert frame["flow_duration"].tolist() == [1000.0, 2000.0, 3000.0]
    assert any(m.startswith("idle.csv: the time unit cannot be read") for m in caplog.messages)


# --- labels of every release and their policies ------------------------------------------

@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("Botnet", "Bot"), ("Portscan", "PortScan"), ("DoS Slowloris", "DoS slowloris"),
        ("Web Attack - SQL Injection", "Web Attack - Sql Injection"),  # corrected 2017
        ("Benign", "BENIGN"), ("Infilteration", "Infiltration"),       # CSE-CIC-IDS2018
        ("Brute Force -Web", "Web Attack - Brute Force"), ("Brute Force -XSS", "Web Attack - XSS"),
        ("SQL Injection", "Web Attack - Sql Injection"), ("FTP-BruteForce", "FTP-Patator"),
        ("SSH-Bruteforce", "SSH-Patator"), ("DoS attacks-SlowHTTPTest", "DoS Slowhttptest"),
        ("DoS attacks-Hulk", "DoS Hulk"), ("DDoS attacks-LOIC-HTTP", "DDoS"),
        ("DDOS attack-HOIC", "DDoS"), ("DDOS attack-LOIC-UDP", "DDoS"),
    ],
)
def test_other_releases_spellings_are_the_2017_labels(raw, label):
    data = format_csv(formats.CICFLOWMETER_V4, ["BENIGN", raw])
    assert ingest.read_flow_csv(data, "f.csv")[LABEL_COLUMN].tolist() == ["BENIGN", label]


# Rows of a corrected CIC-IDS-2017 file: label and Attempted Category.
CORRECTED_ROWS = [("BENIGN", "-1"), ("Infiltration - Portscan", "-1"),
                  ("FTP-Patator - Attempted", "0"), ("Botnet", "2"), ("Portscan", "-1")]


@pytest.mark.parametrize(
    ("policy", "classes"),
    [
        ({}, ["BENIGN", "Infiltration - Portscan", "BENIGN", "BENIGN", "PortScan"]),
        ({"infiltration_portscan": "PortScan", "attempted": "attack"},
         ["BENIGN", "PortScan", "FTP-Patator", "Bot", "PortScan"]),
        ({"infiltration_portscan": "infiltration", "attempted": "own_class"},
         ["BENIGN", "Infiltration", "Attempted", "Attempted", "PortScan"]),
        ({"infiltration_portscan": "benign", "attempted": "benign"},
         ["BENIGN", "BENIGN", "BENIGN", "BENIGN", "PortScan"]),
        ({"infiltration_portscan": "drop", "attempted": "drop"}, ["BENIGN", "PortScan"]),
    ],
    ids=["default", "attack", "own-class", "benign", "drop"],
)
def test_label_policies_of_the_corrected_release(policy, classes):
    labels = [label for label, _ in CORRECTED_ROWS]
    extra = {"Attempted Category": [category for _, category in CORRECTED_ROWS]}
    data = format_csv(formats.CICFLOWMETER_V4, labels, extra=extra)
    frame = ingest.read_flow_csv(data, "Thursday.csv", labels=LabelPolicy(**policy))
    assert frame[LABEL_COLUMN].tolist() == classes
    assert list(frame[LABEL_COLUMN].cat.categories) == list(LABELS)


@pytest.mark.parametrize(
    "policy",
    [{"infiltration_portscan": "Attempted"}, {"infiltration_portscan": "scan"},
     {"attempted": "maybe"}, {"attempted": "PortScan"}],
)
def test_unknown_policies_are_refused(policy):
    with pytest.raises(ValidationError):
        LabelPolicy(**policy)


def test_the_config_holds_the_documented_default_policy():
    policy = load_training_config().data.labels
    assert policy == LabelPolicy()
    assert (policy.infiltration_portscan, policy.attempted) == ("own_class", "benign")


def test_new_classes_have_a_family_and_a_place_in_the_class_order():
    assert LABEL_FAMILIES["Infiltration - Portscan"] == "Infiltration"
    labels = pd.Series(["Attempted", "Infiltration - Portscan", "BENIGN"])
    families = featurize.class_labels(labels, LabelGrouping.FAMILIES)
    assert families.tolist() == ["Attempted", "Infiltration", "BENIGN"]
    assert featurize.class_order(labels) == ["BENIGN", "Infiltration - Portscan", "Attempted"]


def test_the_cache_key_depends_on_the_label_policy(tmp_path):
    path = tmp_path / "Thursday.csv"
    path.write_bytes(format_csv(formats.CICFLOWMETER_V4, ["Infiltration - Portscan"]))
    default = ingest.load_inputs([path], tmp_path / "cache")
    mapped = ingest.load_inputs([path], tmp_path / "cache",
                                labels=LabelPolicy(infiltration_portscan="PortScan"))
    assert default.fingerprint != mapped.fingerprint and not mapped.from_cache
    assert mapped.frame[LABEL_COLUMN].tolist() == ["PortScan"]
    assert ingest.load_inputs([path], tmp_path / "cache").frame.equals(default.frame)


# --- the real rows beside the project -----------------------------------------------------

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the real CICIDS2017 rows are absent ({SHARED} not found)"
)
# ../shared/cicids2017-improved/README.md: file, rows, label as written (canonical here).
IMPROVED = {
    "BENIGN_2500.csv": ("BENIGN", 2500), "Botnet_736.csv": ("Bot", 736),
    "DDoS_2500.csv": ("DDoS", 2500), "DoS_GoldenEye_2500.csv": ("DoS GoldenEye", 2500),
    "DoS_Hulk_2500.csv": ("DoS Hulk", 2500),
    "DoS_Slowhttptest_1740.csv": ("DoS Slowhttptest", 1740),
    "DoS_Slowloris_2500.csv": ("DoS slowloris", 2500),
    "FTP-Patator_2500.csv": ("FTP-Patator", 2500), "Heartbleed_11.csv": ("Heartbleed", 11),
    "Infiltration_-_Portscan_2500.csv": ("Infiltration - Portscan", 2500),
    "Infiltration_36.csv": ("Infiltration", 36), "Portscan_2500.csv": ("PortScan", 2500),
    "SSH-Patator_2500.csv": ("SSH-Patator", 2500),
    "Web_Attack_-_Brute_Force_73.csv": ("Web Attack - Brute Force", 73),
    "Web_Attack_-_SQL_Injection_13.csv": ("Web Attack - Sql Injection", 13),
    "Web_Attack_-_XSS_18.csv": ("Web Attack - XSS", 18),
}
ORIGINAL = {"cicids2017_sample.csv": 12_001,
            "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv": 9_998,
            "Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv": 1_664}


@needs_shared
def test_the_shared_folders_hold_the_files_listed_here():
    assert sorted(p.name for p in (SHARED / "cicids2017-improved").glob("*.csv")) == sorted(
        IMPROVED)
    assert sorted(p.name for p in (SHARED / "cicids2017").glob("*.csv")) == sorted(ORIGINAL)


@needs_shared
@pytest.mark.parametrize("name", IMPROVED)
def test_every_corrected_file_loads_with_its_rows_and_label(name):
    frame, [info] = ingest.read_input(SHARED / "cicids2017-improved" / name)
    label, rows = IMPROVED[name]
    counts = frame[LABEL_COLUMN].value_counts()
    assert counts[counts > 0].to_dict() == {label: rows} and info.rows == rows
    assert (info.format, info.time_unit) == (formats.CICFLOWMETER_V4.title, "microseconds")
    assert formats.detect_time_unit(pa.Table.from_pandas(frame)) in (
        ("microseconds", 1.0), None)  # its rates agree: the durations are microseconds


@needs_shared
@pytest.mark.parametrize("name", ORIGINAL)
def test_every_2017_file_loads_as_the_2017_format_in_microseconds(name):
    frame, [info] = ingest.read_input(SHARED / "cicids2017" / name)
    assert (len(frame), info.rows) == (ORIGINAL[name],) * 2
    assert (info.format, info.time_unit) == (formats.CICIDS2017.title, "microseconds")
    table = pa.Table.from_pandas(frame[list(FEATURE_COLUMNS)])
    assert formats.detect_time_unit(table) == ("microseconds", 1.0)
