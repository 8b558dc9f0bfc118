"""Live traffic: a pcap built with scapy, turned into flows by the cicflowmeter package itself
(0.2.0, in its own venv under .state/tools), dropped into an incoming folder, loaded, converted
and scored like any batch. The tool venv is built on first use (pip needs the registry)."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nids.config import load_monitoring_config, load_training_config
from nids.data import batches, capture, formats, ingest
from nids.data.formats import FEATURE_NAMES
from nids.data.schema import FEATURE_COLUMNS
from nids.data.validate import validate_frame
from nids.tracking.registry import predict_classes
from nids.training.features import clean_features
from nids.training.splits import build_splits
from nids.training.train import train_on_splits

pytestmark = pytest.mark.slow
BUILD_PCAP = Path(__file__).with_name("build_pcap.py")
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
UNREACHABLE = ("No matching distribution", "Could not find a version", "NewConnectionError",
               "Temporary failure in name resolution", "Network is unreachable")


@pytest.fixture(scope="module")
def cicflowmeter() -> Path:
    """The tool environment (built when absent); skipped only when pip cannot reach PyPI."""
    try:
        return capture.ensure_cicflowmeter()
    except RuntimeError as error:
        if any(sign in str(error) for sign in UNREACHABLE):
            pytest.skip(f"pip cannot reach the package registry to install cicflowmeter: "
                        f"{str(error)[-300:]}")
        raise


@pytest.fixture(scope="module")
def incoming(cicflowmeter, tmp_path_factory) -> Path:
    """An incoming folder holding the flows cicflowmeter wrote from the test's capture."""
    folder = tmp_path_factory.mktemp("incoming")
    pcap = folder / "capture.pcap"
    subprocess.run([str(capture.tool_python()), str(BUILD_PCAP), str(pcap)], check=True,
                   timeout=300)
    assert capture.pending_captures(folder) == [pcap]
    assert capture.convert_captures(folder) == [folder / "capture.csv"]
    return folder


def test_the_flows_of_a_capture_are_a_pending_batch_of_the_cicflowmeter_format(incoming):
    batch = incoming / "capture.csv"
    assert batches.pending_batches(incoming) == [batch]
    assert capture.pending_captures(incoming) == []  # converted once
    header = batch.read_text().splitlines()[0].split(",")
    assert header[:6] == ["src_ip", "dst_ip", "src_port", "dst_port", "protocol", "timestamp"]
    assert {names[3] for names in FEATURE_NAMES.values()} == set(header[3:4] + header[6:])
    frame, [info] = ingest.read_input(batch, require_label=False)
    assert (info.format, info.time_unit) == (formats.CICFLOWMETER_PYTHON.title, "microseconds")
    assert len(frame) == info.rows == 44  # 3 HTTP sessions, 40 scanned ports, 1 DNS query


def test_the_flows_hold_what_the_capture_sent(incoming):
    frame = batches.load_batch(incoming / "capture.csv")
    assert list(frame.columns) == list(FEATURE_COLUMNS)
    limits = load_monitoring_config().validation  # the monitoring flow's check of a batch
    checked = validate_frame(frame.assign(source_file="capture.csv"),
                             limits.max_missing_share, limits.max_infinite_share)
    assert checked.problems == [] and checked.rows == 44
    http = frame[frame["destination_port"] == 80].sort_values("flow_duration")
    # 7 packets one every 10, 20, 30 ms: 6 gaps, in microseconds (pcap times are float
    # seconds since 1970: exact to a microsecond)
    np.testing.assert_allclose(http["flow_duration"], [60_000, 120_000, 180_000], atol=1)
    assert (http["total_fwd_packets"] + http["total_backward_packets"]).tolist() == [7] * 3
    np.testing.assert_allclose(http["flow_packets_s"], [7 / 0.06, 7 / 0.12, 7 / 0.18],
                               rtol=1e-5)
    assert (http["init_win_bytes_forward"] == 29200).all()
    answered = frame["total_backward_packets"] == 1  # not the DNS query to port 53
    scan = frame[frame["destination_port"].between(20, 59) & answered]
    assert sorted(scan["destination_port"]) == list(range(20, 60))
    assert (scan["syn_flag_count"] == 1).all() and (scan["rst_flag_count"] == 1).all()
    np.testing.assert_allclose(scan["flow_duration"], 200, atol=1)  # RST 0.2 ms after SYN
    unanswered = frame[frame["total_backward_packets"] == 0]
    assert unanswered["destination_port"].tolist() == [53]  # the DNS query (UDP)


def test_a_cicflowmeter_writing_seconds_reads_the_same(incoming, tmp_path):
    """Versions that write seconds: the same file with its times in seconds."""
    written = pd.read_csv(incoming / "capture.csv")
    for feature in formats.TIME_COLUMNS:
        written[FEATURE_NAMES[feature][3]] /= 1e6
    seconds = tmp_path / "seconds.csv"
    written.to_csv(seconds, index=False)
    frame, [info] = ingest.read_input(seconds, require_label=False)
    assert info.time_unit == "seconds, converted to microseconds"
    expected = batches.load_batch(incoming / "capture.csv")
    pd.testing.assert_frame_equal(frame[list(FEATURE_COLUMNS)], expected, rtol=1e-5)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the real rows are absent ({SHARED})")
def test_a_model_trained_on_the_corrected_rows_scores_the_capture(incoming):
    frames = [ingest.read_input(p, verify=False)[0]
              for p in sorted((SHARED / "cicids2017-improved").glob("*.csv"))]
    config = load_training_config()
    config.model.n_estimators = 30
    f = config.features
    splits = build_splits(pd.concat(frames, ignore_index=True), f.label_grouping,
                          f.validation_share, f.test_share, 2_000, f.seed)
    trained = train_on_splits(splits, config.model)
    order = trained.classes
    batch = batches.load_batch(incoming / "capture.csv")
    names, probability = predict_classes(trained.bundle, clean_features(batch, trained.features))
    scores = batches.score_frame(batch, names, probability)
    assert len(scores) == 44 and set(scores["prediction"]) <= set(order)
    assert scores["probability"].between(1 / len(order), 1).all()


def test_a_file_that_is_no_capture_is_refused_and_leaves_no_batch(cicflowmeter, tmp_path):
    bad = tmp_path / "notes.pcap"
    bad.write_text("not a capture")
    with pytest.raises(ValueError, match=r"^notes\.pcap: cicflowmeter wrote no flow .*"
                                         r"Not a supported capture file"):
        capture.pcap_to_flows(bad, tmp_path / "notes.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.pcap"]
    assert capture.main([str(tmp_path)]) == 1  # `make pcap` reports it and fails
