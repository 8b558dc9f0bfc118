"""After monitoring, a labelled batch joins the corpus of the training the flow retrains with,
as a partition named by its arrival time and name; an unlabelled one stays out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nids.config import MonitoringConfig, RetrainConfig, load_training_config
from nids.data import batches
from nids.data.corpus import FLOW_KEY_COLUMN
from nids.monitoring import corpus_intake
from nids.monitoring.corpus_intake import keep_labelled
from tests.support.builders import ml_csv, unlabelled_csv


def test_a_labelled_batch_joins_the_retrains_corpus(tmp_path: Path, corpus_training):
    config = MonitoringConfig(retrain=RetrainConfig(training_config=corpus_training))
    batch = tmp_path / "traffic-2026-11-29T18-00.csv"
    batch.write_bytes(ml_csv(["BENIGN", "DDoS", "DDoS"]))
    kept = keep_labelled(batches.load_batch(batch), batch, config)
    assert kept is not None and kept.path.parent == Path(corpus_training.data.corpus.dir)
    assert kept.name == "20261129T180000Z--traffic-2026-11-29T18-00.parquet"
    stored = pd.read_parquet(kept.path)
    assert stored["label"].tolist() == ["BENIGN", "DDoS", "DDoS"]
    assert stored[FLOW_KEY_COLUMN].tolist() == [f"{batch.name}#{r}" for r in range(3)]


def test_an_unlabelled_batch_stays_out(tmp_path: Path, corpus_training):
    config = MonitoringConfig(retrain=RetrainConfig(training_config=corpus_training))
    batch = tmp_path / "unlabelled.csv"
    batch.write_bytes(unlabelled_csv(5))
    assert keep_labelled(batches.load_batch(batch), batch, config) is None
    assert not Path(corpus_training.data.corpus.dir).exists()


def test_a_broken_training_config_leaves_the_batch_out_and_says_why(tmp_path: Path,
                                                                    monkeypatch, caplog):
    broken = tmp_path / "training.yaml"
    broken.write_text("model: {n_estimators: [400\n")
    monkeypatch.setattr(corpus_intake, "load_training_config",
                        lambda: load_training_config(broken))
    batch = tmp_path / "labelled.csv"
    batch.write_bytes(ml_csv(["BENIGN"]))
    assert keep_labelled(batches.load_batch(batch), batch, MonitoringConfig()) is None
    assert "labelled.csv does not join the corpus" in caplog.text
    assert str(broken) in caplog.text
