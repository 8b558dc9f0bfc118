"""Monitoring's judgments on real traffic (../shared): a champion trained with the default
configuration on the real CICIDS2017 sample without SSH-Patator, as bench/monitoring_decisions.py
trains them, judges consecutive slices of a real benign day and the corrected release's
SSH-Patator flows mixed 1:1 with real benign rows."""

from __future__ import annotations

import pandas as pd
import pytest

from nids.config import MonitoringConfig, load_training_config
from nids.data import batches
from nids.data.schema import LABEL_COLUMN
from nids.monitoring import actions, check
from nids.paths import PROJECT_ROOT
from nids.training.evaluate import evaluate_model
from nids.training.monitoring import prepare_monitoring
from nids.training.splits import configured_splits
from nids.training.train import train_on_splits

SHARED = PROJECT_ROOT.parent / "shared"
REAL, IMPROVED = SHARED / "cicids2017", SHARED / "cicids2017-improved"
pytestmark = pytest.mark.skipif(
    not (REAL.is_dir() and IMPROVED.is_dir()),
    reason=f"the real CICIDS2017 rows are absent ({REAL} or {IMPROVED} not found)")

FRIDAY = "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv"
LEFT_OUT, SLICE = "SSH-Patator", 2_000


@pytest.fixture(scope="module")
def friday() -> pd.DataFrame:
    return batches.load_batch(REAL / FRIDAY)


@pytest.fixture(scope="module")
def champion() -> check.Champion:
    """Trained, calibrated and thresholded as the training flow does, without SSH-Patator."""
    config = load_training_config()
    sample = batches.load_batch(REAL / "cicids2017_sample.csv")
    frame = sample[sample[LABEL_COLUMN].astype(str) != LEFT_OUT].reset_index(drop=True)
    splits = configured_splits(frame, config.features)
    trained = train_on_splits(splits, config.model)
    evaluation = evaluate_model(trained.bundle, splits["test"])
    handed = prepare_monitoring(trained, splits, evaluation, config.features)
    return check.Champion.prepared("real", trained.bundle, handed)


def judged(frame: pd.DataFrame, champion: check.Champion, labels: bool) -> check.BatchCheck:
    batch = frame if labels else frame.drop(columns=[LABEL_COLUMN])
    return check.check_frame(batch.reset_index(drop=True), "batch.csv", champion,
                             MonitoringConfig())


def test_brute_force_the_model_never_saw_asks_for_labels_by_its_port_surge(champion, friday):
    """The SSH-Patator flows are called benign with confidence, unlike nothing the novelty
    model knows and on a port benign traffic uses: only their surge on port 22 tells."""
    attack = batches.load_batch(IMPROVED / "SSH-Patator_2500.csv").head(1_000)
    mix = pd.concat([friday.tail(1_000), attack], ignore_index=True)
    blind = judged(mix, champion, labels=False)
    health = blind.judgments.health
    assert health.statistics.surging_ports.get(22, 0) >= 990
    assert health.statistics.surge_share > 0.45
    assert health.verdict == "healthy" and not blind.retrain
    assert actions.needs_labels(blind, labelled=False)
    assert "port 22 " in actions.labels_reason(blind)
    labelled = judged(mix, champion, labels=True)   # with labels: the lost recall retrains
    assert labelled.judgments.health.verdict == "degraded" and labelled.retrain


def test_consecutive_slices_of_a_real_benign_day_ask_for_nothing(champion, friday):
    for start in range(0, len(friday), SLICE):
        checked = judged(friday.iloc[start:start + SLICE], champion, labels=False)
        health = checked.judgments.health
        assert health.statistics.surge_share == 0.0, start
        assert not checked.retrain and not actions.needs_labels(checked, labelled=False), start
