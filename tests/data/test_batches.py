"""Incoming batches: which are pending, loading CSV (labelled or not) and Parquet, saving scores."""

import zipfile

import numpy as np
import pandas as pd
import pytest

from nids.data import batches
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABELS, MACHINE_LEARNING_HEADER
from tests.support.builders import (
    csv_bytes,
    expected_features,
    features_of,
    flow_frame,
    ml_csv,
    unlabelled_csv,
)

THREE_LABELS = ["BENIGN", "DDoS", "PortScan"]


# --- which batches are pending ----------------------------------------------------------

def test_pending_batches_skips_scored_hidden_and_foreign_files(tmp_path):
    for name in ["02-b.csv", "01-a.csv", "03-c.parquet", "04-d.zip", "05-e.CSV",
                 "06-scored.csv", "06-scored.predictions.parquet",
                 ".07-hidden.csv", ".08-half-written.csv.tmp", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "09-folder.csv").mkdir()
    assert [p.name for p in batches.pending_batches(tmp_path)] == [
        "01-a.csv", "02-b.csv", "03-c.parquet", "04-d.zip", "05-e.CSV",
    ]


def test_pending_batches_of_a_missing_folder_is_empty(tmp_path):
    assert batches.pending_batches(tmp_path / "incoming") == []


def test_a_batch_is_no_longer_pending_once_its_predictions_are_saved(tmp_path):
    first, second = tmp_path / "01.csv", tmp_path / "02.csv"
    first.write_bytes(ml_csv(THREE_LABELS))
    second.write_bytes(ml_csv(THREE_LABELS))
    scores = pd.DataFrame({"prediction": ["BENIGN"], "probability": [0.9]})
    batches.save_predictions(scores, first)
    assert batches.pending_batches(tmp_path) == [second]


@pytest.mark.parametrize(
    ("batch", "predictions"),
    [
        ("incoming/01-monday.csv", "incoming/01-monday.predictions.parquet"),
        ("incoming/01-monday.parquet", "incoming/01-monday.predictions.parquet"),
        ("Monday-WorkingHours.pcap_ISCX.csv", "Monday-WorkingHours.pcap_ISCX.predictions.parquet"),
        ("traffic.2017-07-03.csv", "traffic.2017-07-03.predictions.parquet"),
        ("traffic.2017-07-03.csv.zip", "traffic.2017-07-03.csv.predictions.parquet"),
    ],
)
def test_predictions_path_is_next_to_the_batch(tmp_path, batch, predictions):
    assert batches.predictions_path(tmp_path / batch) == tmp_path / predictions


def test_batches_with_dotted_names_keep_separate_predictions(tmp_path):
    # e.g. daily exports traffic.2017-07-03.csv, traffic.2017-07-04.csv: scoring one must not
    # make the other look scored
    monday, tuesday = tmp_path / "traffic.2017-07-03.csv", tmp_path / "traffic.2017-07-04.csv"
    for path in (monday, tuesday):
        path.write_bytes(ml_csv(THREE_LABELS))
    batches.save_predictions(pd.DataFrame({"prediction": ["BENIGN"]}), monday)
    assert batches.pending_batches(tmp_path) == [tuesday]


# --- loading CSV batches ------------------------------------------------------------------

def test_labelled_csv_loads_like_training_data_without_file_columns(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(ml_csv(THREE_LABELS))
    frame = batches.load_batch(path)
    assert list(frame.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
    np.testing.assert_array_equal(features_of(frame), expected_features(3))
    assert frame[LABEL_COLUMN].tolist() == THREE_LABELS


def test_unlabelled_csv_loads_without_a_label_column(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(unlabelled_csv(2))
    frame = batches.load_batch(path)
    assert list(frame.columns) == list(FEATURE_COLUMNS)
    np.testing.assert_array_equal(features_of(frame), expected_features(2))


def test_zipped_csv_batch_loads(tmp_path):
    path = tmp_path / "batch.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("flows.csv", ml_csv(THREE_LABELS))
    assert batches.load_batch(path)[LABEL_COLUMN].tolist() == THREE_LABELS


def test_csv_missing_a_feature_names_the_file(tmp_path):
    path = tmp_path / "short.csv"
    header = [c for c in MACHINE_LEARNING_HEADER if c.strip() != "Flow Duration"]
    path.write_bytes(csv_bytes(header, [",".join(["1"] * len(header))]))
    with pytest.raises(ValueError, match=r"short\.csv: 1 expected .* flow_duration"):
        batches.load_batch(path)


# --- loading Parquet batches --------------------------------------------------------------

def write_parquet(frame: pd.DataFrame, path):
    frame.to_parquet(path, index=False)
    return path


def test_parquet_batch_keeps_the_canonical_columns_as_float32(tmp_path):
    source = flow_frame(THREE_LABELS, seed=3).drop(columns="source_file")
    source["destination_ip"] = "192.168.10.5"  # extra columns are ignored
    frame = batches.load_batch(write_parquet(source, tmp_path / "b.parquet"))
    assert list(frame.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
    assert (frame[list(FEATURE_COLUMNS)].dtypes == np.float32).all()
    np.testing.assert_array_equal(features_of(frame), features_of(source))
    assert frame[LABEL_COLUMN].tolist() == THREE_LABELS
    assert list(frame[LABEL_COLUMN].cat.categories) == list(LABELS)


def test_parquet_labels_are_canonicalised(tmp_path):
    source = flow_frame(["ddos", "Web Attack \u2013 XSS", "FTP-Patator - Attempted"])
    frame = batches.load_batch(write_parquet(source, tmp_path / "b.parquet"))
    assert frame[LABEL_COLUMN].tolist() == ["DDoS", "Web Attack - XSS", "BENIGN"]


def test_unlabelled_parquet_batch_has_no_label_column(tmp_path):
    source = flow_frame(THREE_LABELS).drop(columns=[LABEL_COLUMN, "source_file"])
    frame = batches.load_batch(write_parquet(source, tmp_path / "b.parquet"))
    assert list(frame.columns) == list(FEATURE_COLUMNS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda f: f.drop(columns="flow_bytes_s"),
                     r"b\.parquet: 1 feature column\(s\) missing, e\.g\. \['flow_bytes_s'\]",
                     id="missing-column"),
        pytest.param(lambda f: f.rename(columns={"flow_bytes_s": "Flow Bytes/s"}),
                     r"b\.parquet: .*missing.*canonical snake_case names",
                     id="official-name-not-canonical"),
        pytest.param(lambda f: f.assign(label=["BENIGN", "Martian", "DDoS"]),
                     r"b\.parquet: unknown label\(s\) \['Martian'\]", id="unknown-label"),
        pytest.param(lambda f: f.assign(flow_duration=["1", "2", "lots"]),
                     r"b\.parquet: .*flow_duration.*lots", id="non-numeric-feature"),
    ],
)
def test_bad_parquet_batch_errors_name_the_file(tmp_path, change, message):
    path = write_parquet(change(flow_frame(THREE_LABELS)), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match=message):
        batches.load_batch(path)


def test_unreadable_parquet_names_the_file(tmp_path):
    path = tmp_path / "b.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match=r"b\.parquet: not a readable Parquet file"):
        batches.load_batch(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.parquet", lambda p: flow_frame([]).to_parquet(p), r"empty\.parquet: .*no rows"),
        ("empty.csv", lambda p: p.write_bytes(csv_bytes(MACHINE_LEARNING_HEADER, [])),
         r"empty\.csv: .*no data rows"),
    ],
)
def test_empty_batch_is_an_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    content(path)
    with pytest.raises(ValueError, match=message):
        batches.load_batch(path)


# --- scores ---------------------------------------------------------------------------------

def test_score_frame_with_labels():
    batch = flow_frame(THREE_LABELS).astype({LABEL_COLUMN: "category"})
    scores = batches.score_frame(batch, np.array(["BENIGN", "DDoS", "DDoS"]),
                                 np.array([0.9, 0.8, 0.55]))
    assert list(scores.columns) == ["prediction", "probability", LABEL_COLUMN]
    assert scores["prediction"].tolist() == ["BENIGN", "DDoS", "DDoS"]
    assert scores["probability"].dtype == np.float32
    np.testing.assert_allclose(scores["probability"], [0.9, 0.8, 0.55], rtol=1e-6)
    assert scores[LABEL_COLUMN].tolist() == THREE_LABELS


def test_score_frame_without_labels_has_no_label_column():
    batch = flow_frame(THREE_LABELS).drop(columns=LABEL_COLUMN)
    scores = batches.score_frame(batch, np.array(["BENIGN"] * 3), np.ones(3))
    assert list(scores.columns) == ["prediction", "probability"]


def test_save_predictions_writes_next_to_the_batch_and_leaves_no_temporary_file(tmp_path):
    batch = tmp_path / "01-monday.csv"
    batch.write_bytes(ml_csv(THREE_LABELS))
    first = batches.score_frame(batches.load_batch(batch), np.array(THREE_LABELS), np.ones(3))
    target = batches.save_predictions(first, batch)
    assert target == tmp_path / "01-monday.predictions.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(target), first)
    again = first.assign(prediction="BENIGN")
    batches.save_predictions(again, batch)  # scoring again replaces the file
    pd.testing.assert_frame_equal(pd.read_parquet(target), again)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "01-monday.csv", "01-monday.predictions.parquet",
    ]
