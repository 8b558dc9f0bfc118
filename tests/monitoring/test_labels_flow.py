"""The labels flow, for real under Prefect: labels files join the corpus of the retrain's
training config, bad ones are refused, and the retrain is asked for with the files as reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from flows.labels import labels_flow
from nids.config import MonitoringConfig, RetrainConfig
from nids.data import corpus
from nids.monitoring.label_requests import write_label_request
from tests.support.builders import flow_frame


def test_labels_join_the_corpus_and_ask_for_a_retrain(prefect_api, tmp_path: Path,
                                                      corpus_training):
    config = MonitoringConfig(retrain=RetrainConfig(enabled=False,
                                                    training_config=corpus_training))
    config.labels.requests_dir = str(tmp_path / "requests")
    config.labels.labels_dir = str(tmp_path / "labels")
    features = flow_frame(["BENIGN"] * 3).drop(columns=["label", "source_file"])
    request = write_label_request(features, np.array(["BENIGN"] * 3), np.full(3, 0.5),
                                  "night.csv", Path(config.labels.requests_dir))
    answers = pd.read_csv(request.path, keep_default_na=False).assign(label="DDoS")
    Path(config.labels.labels_dir).mkdir()
    answers.to_csv(Path(config.labels.labels_dir) / "a.csv", index=False)
    (Path(config.labels.labels_dir) / "b.csv").write_text("flow_key,label\nnight.csv#0,Nope\n")

    outcome = labels_flow(config=config)
    assert not outcome.started and "disabled" in outcome.why   # asked for, through the gate
    [partition] = corpus.list_partitions(Path(corpus_training.data.corpus.dir))
    assert partition.batch == "labels-a" and len(pd.read_parquet(partition.path)) == 3
    assert (Path(config.labels.labels_dir) / "rejected" / "b.csv.error.txt").exists()
    assert labels_flow(config=config) is None   # nothing waiting any more
