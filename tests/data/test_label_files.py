"""Labels files: a filled-in label request dropped into the labels folder joins the corpus;
bad files are refused naming the file, the column or value, and what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nids.data import corpus
from nids.data.label_files import take_labels_file, take_labels_files
from nids.data.schema import FEATURE_COLUMNS
from nids.monitoring.label_requests import write_label_request
from tests.support.builders import expected_features, flow_frame, ml_csv


@pytest.fixture
def request_file(tmp_path: Path) -> Path:
    """A label request for 3 flows of night.csv under tmp_path/requests."""
    features = flow_frame(["BENIGN"] * 3).drop(columns=["label", "source_file"])
    return write_label_request(features, np.array(["BENIGN"] * 3), np.array([0.5, 0.6, 0.7]),
                               "night.csv", tmp_path / "requests").path


def labels_file(tmp_path: Path, text: str, name: str = "answers.csv") -> Path:
    path = tmp_path / "labels" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_filled_request_joins_the_corpus_with_the_flows_features(tmp_path, request_file,
                                                                    corpus_dir):
    lines = pd.read_csv(request_file, keep_default_na=False)
    lines.loc[0, "label"], lines.loc[1, "label"] = "ddos", "BENIGN"   # line 3 left empty
    path = tmp_path / "labels" / "answers.csv"
    path.parent.mkdir()
    lines.to_csv(path, index=False)
    [taken] = take_labels_files(path.parent, request_file.parent, corpus_dir)
    assert taken.problem is None and taken.labelled == 2
    assert taken.location == path.parent / "done" / "answers.csv" and not path.exists()
    [partition] = corpus.list_partitions(corpus_dir)
    assert partition.name == taken.partition and partition.batch == "labels-answers"
    stored = pd.read_parquet(partition.path)
    assert stored["label"].tolist() == ["DDoS", "BENIGN"]
    assert stored["flow_key"].tolist() == lines["flow_key"][:2].tolist()
    assert np.allclose(stored[list(FEATURE_COLUMNS)].to_numpy(),
                       lines[list(FEATURE_COLUMNS)][:2].to_numpy())


@pytest.mark.parametrize(("text", "fragments"), [
    ("key,label\nnight.csv#0,DDoS\n", ["column(s) ['flow_key'] missing"]),
    ("flow_key,label\nnight.csv#0,\n", ["no flow has a label"]),
    ("flow_key,label\nnight.csv#0,DDoS\nnight.csv#1,Ransomware\n",
     ["line 3, column 'label': unknown label 'Ransomware'", "BENIGN"]),
    ("flow_key,label\nnight.csv#7,DDoS\n",
     ["1 flow(s) no label request", "night.csv#7", "label the flows of a request file",
      "<batch>#<row>"]),
    ("flow_key,label\nnight.csv#0,DDoS\nnight.csv#0,BENIGN\n", ["two different labels"]),
], ids=["no-key-column", "no-label", "unknown-label", "unknown-flow", "conflicting-labels"])
def test_a_bad_labels_file_is_refused_with_what_to_fix(tmp_path, request_file, corpus_dir,
                                                       text, fragments):
    path = labels_file(tmp_path, text)
    taken = take_labels_file(path, request_file.parent, corpus_dir)
    assert taken.partition is None and taken.problem.startswith("answers.csv: ")
    for fragment in fragments:
        assert fragment in taken.problem
    assert taken.location == path.parent / "rejected" / "answers.csv"
    error = (path.parent / "rejected" / "answers.csv.error.txt").read_text()
    assert taken.problem in error and "move it back" in error
    assert corpus.list_partitions(corpus_dir) == []


def test_flows_of_a_monitored_batch_are_known_beyond_the_request(tmp_path, request_file,
                                                                  corpus_dir):
    done = tmp_path / "incoming" / "done"
    done.mkdir(parents=True)
    (done / "night.csv").write_bytes(ml_csv(["BENIGN"] * 10))   # its request listed 3 flows
    path = labels_file(tmp_path, "flow_key,label\nnight.csv#8,PortScan\nnight.csv#0,DDoS\n")
    taken = take_labels_file(path, request_file.parent, corpus_dir, done)
    assert taken.problem is None and taken.labelled == 2
    stored = pd.read_parquet(corpus_dir / taken.partition)
    assert stored["flow_key"].tolist() == ["night.csv#8", "night.csv#0"]
    assert stored["label"].tolist() == ["PortScan", "DDoS"]
    assert stored[list(FEATURE_COLUMNS)].iloc[0].tolist() == list(expected_features(10)[8])
    requested = pd.read_csv(request_file).set_index("flow_key")
    assert np.allclose(stored[list(FEATURE_COLUMNS)].iloc[1],
                       requested.loc["night.csv#0", list(FEATURE_COLUMNS)])
    beyond = labels_file(tmp_path, "flow_key,label\nnight.csv#10,DDoS\n", "beyond.csv")
    assert "night.csv#10" in take_labels_file(beyond, request_file.parent, corpus_dir,
                                              done).problem
