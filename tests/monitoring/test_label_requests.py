"""Label requests: the flows of an unlabelled batch, least confident and most novel first,
with their features, prediction and probability, written atomically as a CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nids.config import LabelsConfig
from nids.data import batches
from nids.data.schema import FEATURE_COLUMNS
from nids.monitoring import label_requests
from tests.support.builders import flow_frame

CREATED = datetime(2026, 11, 29, 18, 30, tzinfo=UTC)


@pytest.fixture
def unlabelled() -> pd.DataFrame:
    return flow_frame(["BENIGN"] * 4).drop(columns=["label", "source_file"])


def test_the_least_confident_flows_come_first(tmp_path: Path, unlabelled):
    request = label_requests.write_label_request(
        unlabelled, np.array(["BENIGN", "DDoS", "BENIGN", "PortScan"]),
        np.array([0.99, 0.40, 0.97, 0.55]), "night.csv", tmp_path, model_version="3",
        created_at=CREATED)
    assert request.path == tmp_path / "20261129T183000Z--night.label-request.csv"
    assert (request.flows, request.batch_flows, request.least_probability) == (4, 4, 0.4)
    lines = pd.read_csv(request.path, keep_default_na=False)
    assert lines["flow_key"].tolist() == ["night.csv#1", "night.csv#3", "night.csv#2",
                                          "night.csv#0"]
    assert lines["prediction"].tolist() == ["DDoS", "PortScan", "BENIGN", "BENIGN"]
    assert (lines["label"] == "").all()
    assert np.allclose(lines[list(FEATURE_COLUMNS)].to_numpy(),
                       unlabelled.iloc[[1, 3, 2, 0]][list(FEATURE_COLUMNS)].to_numpy())
    assert [p.name for p in tmp_path.iterdir()] == [request.path.name]   # no temporary file


def test_novel_flows_move_up_and_max_rows_keeps_the_first(tmp_path: Path, unlabelled):
    request = label_requests.write_label_request(
        unlabelled, np.array(["BENIGN"] * 4), np.array([0.90, 0.90, 0.99, 0.95]), "b.csv",
        tmp_path, novelty=np.array([0.1, 0.2, 5.0, 0.3]), max_rows=2, created_at=CREATED)
    lines = pd.read_csv(request.path)
    # flow 2 is the most confident but by far the most novel; flow 1 is unsure and novel
    assert lines["flow_key"].tolist() == ["b.csv#1", "b.csv#2"]
    assert request.flows == 2 and "novelty" in lines.columns


def test_the_artifact_text_links_the_file_and_says_how_to_answer(tmp_path: Path, unlabelled):
    request = label_requests.write_label_request(
        unlabelled, np.array(["BENIGN"] * 4), np.full(4, 0.6), "b.csv", tmp_path,
        model_version="3", created_at=CREATED)
    text = label_requests.request_markdown(request, Path("data/labels"))
    assert request.path.resolve().as_uri() in text
    assert "champion version 3" in text and "`data/labels/`" in text
    assert "it is unsure about this batch" in text
    surge = "called benign on a surging port: surge share 0.500 > normal 0.020 (port 22 1000 flows)"
    assert f"needs labels for this unlabelled batch: {surge}." in label_requests.request_markdown(
        request, Path("data/labels"), surge)


def test_an_empty_batch_gets_no_request(tmp_path: Path, unlabelled):
    with pytest.raises(ValueError, match="empty.csv: no flows"):
        label_requests.write_label_request(unlabelled.head(0), np.array([]), np.array([]),
                                           "empty.csv", tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_checked_batch_gets_its_request_from_the_saved_scores(tmp_path: Path, unlabelled):
    scores = batches.score_frame(unlabelled, np.array(["BENIGN", "DDoS", "BENIGN", "BENIGN"]),
                                 np.array([0.9, 0.3, 0.8, 0.7]))
    labels = LabelsConfig(requests_dir=str(tmp_path / "requests"), max_request_rows=2)
    request = label_requests.request_for_batch(unlabelled, scores, "b.csv", labels, "4")
    assert request.path.parent == tmp_path / "requests" and request.flows == 2
    assert pd.read_csv(request.path)["flow_key"].tolist() == ["b.csv#1", "b.csv#3"]


def test_a_random_share_reaches_flows_the_champion_gets_wrong_with_confidence(tmp_path: Path):
    """Issue 12: the tour's unseen PortScan flows were predicted BENIGN at probability ~1, so
    a request of the least confident flows held 5 of 4,434; a random share asks for them in
    proportion to their number."""
    rows = 1_000
    features = pd.concat([flow_frame(["BENIGN"])] * rows, ignore_index=True)
    features = features.drop(columns=["label", "source_file"])
    confident = np.arange(rows) % 4 == 0           # a quarter: taken for benign, with confidence
    probability = np.where(confident, 0.999, np.linspace(0.5, 0.95, rows))
    predictions = np.array(["BENIGN"] * rows)

    def asked(share: float) -> pd.DataFrame:
        request = label_requests.write_label_request(
            features, predictions, probability, "night.csv", tmp_path / str(share),
            max_rows=100, random_share=share, created_at=CREATED)
        return pd.read_csv(request.path)

    without, mixed = asked(0.0), asked(0.2)
    assert len(without) == len(mixed) == 100
    assert not (without["probability"] > 0.99).any()
    assert (without["picked"] == "least confident").all()
    assert mixed["picked"].value_counts().to_dict() == {"least confident": 80,
                                                        "random sample": 20}
    sampled = mixed[mixed["picked"] == "random sample"]
    assert 1 <= (sampled["probability"] > 0.99).sum() < 20
    assert mixed["flow_key"].is_unique
    # the same batch asks for the same flows again (a rerun, another run of the flow)
    assert asked(0.2)["flow_key"].tolist() == mixed["flow_key"].tolist()
