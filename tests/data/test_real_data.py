"""The real CICIDS2017 rows beside the project (../shared/cicids2017/): they load, validate,
and a model trained with the project's split and settings scores as published results do."""

import numpy as np
import pyarrow as pa
import pytest

from nids.config import load_training_config
from nids.data import ingest, parsing
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, MACHINE_LEARNING_HEADER
from nids.data.validate import validate_frame
from nids.paths import PROJECT_ROOT
from nids.training.evaluate import evaluate_model
from nids.training.splits import configured_splits
from nids.training.train import train_on_splits

SHARED = PROJECT_ROOT.parent / "shared" / "cicids2017"
pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the real CICIDS2017 rows are absent ({SHARED} not found)"
)

SAMPLE = "cicids2017_sample.csv"
FRIDAY = "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv"
THURSDAY = "Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv"
# Rows and labels as ../shared/cicids2017/README.md lists them.
EXPECTED = {
    SAMPLE: {
        "BENIGN": 9637, "DoS Hulk": 985, "PortScan": 688, "DDoS": 518, "DoS GoldenEye": 51,
        "FTP-Patator": 35, "SSH-Patator": 27, "DoS Slowhttptest": 25, "DoS slowloris": 22,
        "Web Attack - Brute Force": 6, "Bot": 6, "Web Attack - XSS": 1,
    },
    FRIDAY: {"BENIGN": 9998},
    THURSDAY: {"BENIGN": 1664},
}
ROWS = {SAMPLE: 12_001, FRIDAY: 9_998, THURSDAY: 1_664}


@pytest.fixture(scope="module")
def loaded():
    """Each real file read once: name -> (frame, files)."""
    return {name: ingest.read_input(SHARED / name) for name in EXPECTED}


@pytest.mark.parametrize("name", EXPECTED)
def test_file_loads_with_its_rows_and_labels(loaded, name):
    frame, files = loaded[name]
    counts = frame[LABEL_COLUMN].value_counts()
    assert len(frame) == files[0].rows == ROWS[name]
    assert counts[counts > 0].to_dict() == EXPECTED[name]
    assert list(frame.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN, "source_file", "day"]


@pytest.mark.parametrize("name", [FRIDAY, THURSDAY])
def test_official_files_have_the_official_header_and_a_checksum_warning(loaded, name):
    data = (SHARED / name).read_bytes()
    header = data.split(b"\n", 1)[0].rstrip(b"\r")
    assert tuple(header.decode().split(",")) == MACHINE_LEARNING_HEADER
    _, files = loaded[name]
    [warning] = files[0].warnings  # first rows only: not the official bytes
    assert warning.startswith(f"{name}: size ")


@pytest.mark.parametrize("name", [SAMPLE, FRIDAY])
def test_small_blocks_on_every_core_or_on_one_parse_as_one_block(name, monkeypatch):
    """The real rows parsed in 64 KB blocks on every core (about 50 blocks), and again one
    block after the other on one thread (where a file pyarrow refuses is re-read to name its
    row), give the table of a read in one block."""
    def parse() -> pa.Table:
        with (SHARED / name).open("rb") as stream:
            return parsing.parse_flows(stream, name).table

    whole = parse()
    monkeypatch.setattr(parsing, "_BLOCK_BYTES", 1 << 16)
    assert parse().equals(whole)

    def refused(*args, **kwargs):
        raise pa.ArrowInvalid("refused on every core")

    monkeypatch.setattr(parsing.pv, "read_csv", refused)
    assert parse().equals(whole)


def test_line_ends_are_as_described():
    friday = (SHARED / FRIDAY).read_bytes()
    thursday = (SHARED / THURSDAY).read_bytes()
    assert friday.count(b"\n") == friday.count(b"\r\n") > 0
    assert b"\r\n" not in thursday


def test_friday_infinity_and_nan_parse(loaded):
    frame, _ = loaded[FRIDAY]
    assert np.isinf(frame["flow_bytes_s"]).any() or np.isinf(frame["flow_packets_s"]).any()
    assert frame["flow_bytes_s"].isna().any()


@pytest.mark.parametrize("name", EXPECTED)
def test_real_files_pass_validation(loaded, name):
    config = load_training_config().validation
    frame, _ = loaded[name]
    result = validate_frame(frame, config.max_missing_share, config.max_infinite_share)
    assert result.problems == []


def test_model_trained_on_the_sample_scores_as_published(loaded):
    config = load_training_config()
    frame, _ = loaded[SAMPLE]
    splits = configured_splits(frame, config.features)
    trained = train_on_splits(splits, config.model)
    result = evaluate_model(trained.bundle, splits["test"])
    assert result.accuracy >= 0.99
    assert result.weighted_f1 >= 0.99
