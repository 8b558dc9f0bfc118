"""The tour's analyst: a label request answered from the ground truth kept aside, accepted by
the real labels-file validation; recall per class from a batch's saved scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nids.data import corpus
from nids.data.batches import save_predictions, score_frame
from nids.data.label_files import take_labels_files
from nids.data.schema import LABEL_COLUMN
from nids.monitoring import scenario, tour_analyst
from nids.monitoring.label_requests import write_label_request
from tests.support.builders import flow_frame

TRUTH = ["BENIGN", "DDoS", "PortScan", "DDoS"]


@pytest.fixture
def night(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    """Four flows of night.csv, arrived unlabelled; their labels kept in tmp_path/truth."""
    frame = flow_frame(TRUTH)
    truth = scenario.keep_truth(frame[LABEL_COLUMN], "night.csv", tmp_path / "truth")
    return frame.drop(columns=[LABEL_COLUMN, "source_file"]), truth


def test_the_answered_request_labels_the_requested_flows_and_joins_the_corpus(tmp_path, night):
    features, truth = night
    request = write_label_request(features, np.array(["BENIGN"] * 4),
                                  np.array([0.9, 0.4, 0.6, 0.99]), "night.csv",
                                  tmp_path / "requests", max_rows=3)   # rows 1, 2, 0
    answered = tour_analyst.answer_request(request.path, truth, tmp_path / "labels")
    assert answered.labelled == {"DDoS": 1, "PortScan": 1, "BENIGN": 1}
    assert Path(answered.labels_file).name == request.path.name.replace(
        ".label-request.csv", ".labels.csv")
    [taken] = take_labels_files(tmp_path / "labels", tmp_path / "requests", tmp_path / "corpus")
    assert taken.problem is None and taken.labelled == 3
    [partition] = corpus.list_partitions(tmp_path / "corpus")
    stored = pd.read_parquet(partition.path)
    assert dict(zip(stored[corpus.FLOW_KEY_COLUMN], stored[LABEL_COLUMN], strict=True)) == {
        "night.csv#1": "DDoS", "night.csv#2": "PortScan", "night.csv#0": "BENIGN"}


def test_flows_the_truth_lacks_stay_unlabelled(tmp_path, night):
    features, _ = night
    request = write_label_request(features, np.array(["BENIGN"] * 4), np.full(4, 0.5),
                                  "night.csv", tmp_path / "requests")
    partial = tmp_path / "partial.csv"
    pd.DataFrame({"flow_key": ["night.csv#3"], "label": ["DDoS"]}).to_csv(partial, index=False)
    answered = tour_analyst.answer_request(request.path, partial, tmp_path / "labels")
    assert answered.labelled == {"DDoS": 1}
    written = pd.read_csv(answered.labels_file, keep_default_na=False)
    assert (written[LABEL_COLUMN] != "").sum() == 1


def test_recall_per_class_from_the_labels_or_the_kept_truth(tmp_path, night):
    _, truth = night
    predicted = np.array(["BENIGN", "DDoS", "BENIGN", "BENIGN"])
    labelled = save_predictions(score_frame(flow_frame(TRUTH), predicted, np.ones(4)),
                                tmp_path / "labelled.csv")
    expected = {"BENIGN": 1.0, "DDoS": 0.5, "PortScan": 0.0}
    assert tour_analyst.class_recall(labelled) == expected
    unlabelled = save_predictions(
        score_frame(flow_frame(TRUTH).drop(columns=[LABEL_COLUMN]), predicted, np.ones(4)),
        tmp_path / "unlabelled.csv")
    assert tour_analyst.class_recall(unlabelled) == {}
    assert tour_analyst.class_recall(unlabelled, truth) == expected
