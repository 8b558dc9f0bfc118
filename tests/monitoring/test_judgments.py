"""The three judgments of a batch on a small real XGBoost champion with real scikit-learn
calibrator, novelty models and calibrated thresholds."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

from nids.config import MonitoringConfig
from nids.data.schema import LABEL_COLUMN
from nids.monitoring import actions, check
from nids.monitoring.health import batch_statistics
from nids.monitoring.judgment_settings import RangeOverride
from nids.monitoring.judgments import sampled_statistics
from nids.tracking.registry import predict_probabilities
from nids.training.features import clean_features
from nids.training.train import encode
from tests.support.builders import class_flows as flows

ROWS = 1_000


@pytest.fixture(scope="module")
def config() -> MonitoringConfig:
    return MonitoringConfig()


def judged(frame: pd.DataFrame, champion, config, labels: bool):
    batch = frame if labels else frame.drop(columns=[LABEL_COLUMN])
    return check.check_frame(batch, "batch.csv", champion, config)


def test_calibrated_probabilities_and_thresholds_come_from_the_training_data(health_champion):
    models, thresholds = health_champion.health_models, health_champion.thresholds
    features = clean_features(flows(200, 5), models.features)
    probabilities = models.calibrated_probabilities(
        features, predict_probabilities(health_champion.bundle, features))
    assert probabilities.shape == (200, 3)
    assert probabilities.sum(axis=1) == pytest.approx(1.0)
    assert thresholds.chunks >= 10 and thresholds.chunk_rows == 600  # 6,000 held-out rows
    assert {"estimated_accuracy", "uncertain_share", "novel_share", "rare_port_share",
            "surge_share", "attack_share", "share:DDoS", "share:PortScan"} == set(
        thresholds.ranges)
    assert thresholds.ranges["attack_share"].mean == pytest.approx(0.2, abs=0.03)
    assert thresholds.champion_recall["DDoS"] > 0.95
    assert "| attack_share |" in thresholds.markdown()


def test_calibrating_the_probabilities_is_calibrating_the_frozen_model(health_champion):
    """The calibrator reads the model's probabilities and gives what one around the frozen
    model, reading the features, gave: versions logged before have the latter, and it still
    reads their features (it is given no usable probabilities here)."""
    bundle, models = health_champion.bundle, health_champion.health_models
    validation = flows(3_000, 1)   # the rows the champion's calibrator was fitted on
    around_model = CalibratedClassifierCV(FrozenEstimator(bundle.model), method="isotonic").fit(
        validation[bundle.features], encode(validation[LABEL_COLUMN], bundle.classes))
    older = dataclasses.replace(models, calibrator=around_model)
    batch = clean_features(flows(500, 7, ("BENIGN", "DDoS"), (0.6, 0.4)), models.features)
    probabilities = predict_probabilities(bundle, batch)
    calibrated = models.calibrated_probabilities(batch, probabilities)
    np.testing.assert_allclose(
        older.calibrated_probabilities(batch, np.full_like(probabilities, np.nan)), calibrated)
    assert not np.allclose(calibrated, probabilities)   # calibration changed them


@pytest.mark.parametrize("labels", [True, False])
def test_traffic_like_the_training_data_is_healthy_and_normal(health_champion, config, labels):
    checked = judged(flows(ROWS, 10), health_champion, config, labels)
    j = checked.judgments
    assert (j.health.verdict, j.incident.verdict, checked.retrain) == ("healthy", "normal", False)
    assert j.health.basis == ("labels" if labels else "estimate")
    assert j.health.statistics.estimated_accuracy > 0.95


@pytest.mark.parametrize("labels", [True, False])
def test_a_burst_of_a_known_attack_is_an_incident_not_a_retrain(health_champion, config, labels):
    checked = judged(flows(ROWS, 11, ("BENIGN", "DDoS"), (0.3, 0.7)), health_champion, config,
                     labels)
    j = checked.judgments
    assert (j.health.verdict, j.incident.verdict, checked.retrain) == (
        "healthy", "incident", False)
    ddos = j.incident.attack_counts["DDoS"]
    assert 600 < ddos < 800
    assert any(text.startswith(f"DDoS: share {ddos / ROWS:.3f} ({ddos} rows)")
               for text in j.incident.crossed)
    assert j.incident.alert_text("batch.csv").startswith("Security incident in batch.csv: ")


@pytest.mark.parametrize("labels", [True, False])
def test_an_attack_the_model_never_saw_degrades_health_and_retrains(health_champion, config,
                                                                    labels):
    checked = judged(flows(ROWS, 12, ("BENIGN", "Bot"), (0.7, 0.3)), health_champion, config,
                     labels)
    j = checked.judgments
    assert j.health.verdict == "degraded" and checked.retrain and checked.verdict == "retrain"
    if labels:
        assert any(t.startswith("recall of Bot 0.000") and "never saw" in t
                   for t in j.health.crossed)
    else:
        assert any(t.startswith("novel share") for t in j.health.crossed)
    assert actions.retrain_reason(checked).startswith("model health degraded on batch.csv: ")


@pytest.mark.parametrize("labels", [True, False])
def test_labels_are_asked_for_only_when_health_degrades_on_an_unlabelled_batch(
        health_champion, config, labels):
    unseen = flows(ROWS, 12, ("BENIGN", "Bot"), (0.7, 0.3))
    checked = judged(unseen, health_champion, config, labels)
    assert actions.needs_labels(checked, labelled=labels) is (not labels)
    novel = actions.novelty_of(unseen, checked, health_champion)
    is_bot = (unseen[LABEL_COLUMN] == "Bot").to_numpy()
    assert novel[is_bot].mean() > 0.9 and novel[~is_bot].mean() < 0.1  # the unseen flows first
    healthy = judged(flows(ROWS, 10), health_champion, config, labels=False)
    assert not actions.needs_labels(healthy, labelled=False)


def test_flows_called_benign_on_ports_benign_training_traffic_hardly_used_degrade_health(
        health_champion, config):
    """A scan or a beacon the model never saw passes for benign traffic, but not on benign
    traffic's ports: half the flows of a benign batch go to a port under 0.1% of the benign
    training flows (the builder's benign ports are round(lognormal(3, 0.5)): 100 is beyond
    z = 3)."""
    models = health_champion.health_models
    assert models.benign_ports.get(100, 0.0) < 0.001
    batch = flows(ROWS, 16, ("BENIGN",), (1.0,))
    batch.loc[: ROWS // 2 - 1, "destination_port"] = 100.0
    checked = judged(batch, health_champion, config, labels=False)
    health = checked.judgments.health
    assert health.statistics.attack_share < 0.05   # still called benign
    assert health.statistics.rare_port_share == pytest.approx(0.5, abs=0.03)
    assert health.verdict == "degraded" and checked.retrain
    assert actions.needs_labels(checked, labelled=False)
    novelty = actions.novelty_of(batch, checked, health_champion)   # asked for first
    assert novelty[: ROWS // 2].mean() == 1.0 and novelty[ROWS // 2:].mean() < 0.1
    assert any(text.startswith("rare port share 0.5") for text in health.crossed)
    assert "called benign on a rare port 0.5" in health.markdown()
    assert judged(flows(ROWS, 16, ("BENIGN",), (1.0,)), health_champion, config,
                  labels=False).judgments.health.statistics.rare_port_share < 0.05


def test_a_surge_of_flows_called_benign_on_an_ordinary_port_asks_for_labels_only(
        health_champion, config):
    """Brute force against a login the model never saw passes for benign traffic on a port
    benign traffic uses: half a benign batch on one port that carries 0.1-2% of the benign
    training flows (the builder's are round(lognormal(3, 0.5)); port 40 is about 1%) is a
    surge. It asks for labels, neither degrades health nor retrains: real benign traffic
    surges too."""
    share = health_champion.health_models.benign_ports[40]
    assert 0.001 <= share < 0.02
    batch = flows(ROWS, 16, ("BENIGN",), (1.0,))
    batch.loc[: ROWS // 2 - 1, "destination_port"] = 40.0
    checked = judged(batch, health_champion, config, labels=False)
    health = checked.judgments.health
    assert health.statistics.surge_share == pytest.approx(0.5, abs=0.03)
    assert list(health.statistics.surging_ports) == [40]
    assert health.verdict == "healthy" and not checked.retrain
    assert health.labels_asked[0].startswith("called benign on a surging port: surge share 0.5")
    assert "port 40 " in health.labels_asked[0] and "**labels asked:**" in health.markdown()
    assert actions.needs_labels(checked, labelled=False)
    assert actions.labels_reason(checked) == health.labels_asked[0]
    novelty = actions.novelty_of(batch, checked, health_champion)   # asked for first
    assert novelty[: ROWS // 2].mean() == 1.0 and novelty[ROWS // 2:].mean() < 0.1
    labelled = judged(batch, health_champion, config, labels=True)   # the labels judge
    assert labelled.judgments.health.labels_asked == []
    assert not actions.needs_labels(labelled, labelled=True)
    ordinary = judged(flows(ROWS, 16, ("BENIGN",), (1.0,)), health_champion, config,
                      labels=False).judgments.health
    assert ordinary.statistics.surge_share < 0.02 and ordinary.labels_asked == []


def test_versions_logged_without_a_port_table_are_judged_without_the_statistic(
        health_champion, config):
    """Health models pickled before `benign_ports` existed lack the attribute; their
    thresholds lack the range."""
    older = copy.copy(health_champion.health_models)
    del older.__dict__["benign_ports"]
    thresholds = health_champion.thresholds.model_copy(update={"ranges": {
        name: r for name, r in health_champion.thresholds.ranges.items()
        if name not in ("rare_port_share", "surge_share")}})
    champion = dataclasses.replace(health_champion, health_models=older, thresholds=thresholds)
    batch = flows(ROWS, 16, ("BENIGN",), (1.0,))
    batch.loc[: ROWS // 2 - 1, "destination_port"] = 100.0
    health = judged(batch, champion, config, labels=False).judgments.health
    assert health.statistics.rare_port_share is None
    assert health.statistics.surge_share is None
    assert {"rare_port_share", "surge_share"}.isdisjoint(health.statistics.values([]))
    assert health.verdict == "healthy" and "rare port" not in health.markdown()
    assert health.labels_asked == [] and "surging" not in health.markdown()


def test_a_class_with_too_few_rows_is_shown_but_not_decisive(health_champion, config):
    frame = pd.concat([flows(ROWS, 13, ("BENIGN",), (1.0,)),
                       flows(10, 14, ("Bot",), (1.0,))], ignore_index=True)
    j = judged(frame, health_champion, config, labels=True).judgments
    assert j.health.per_class["Bot"].support == 10 and not j.health.per_class["Bot"].decisive
    assert not any("Bot" in text for text in j.health.crossed)


def test_drift_alone_is_reported_and_retrains_only_where_config_says(health_champion, config):
    shifted = flows(ROWS, 15)
    shifted.iloc[:, 8:40] *= 50   # features the classes do not differ on
    checked = judged(shifted, health_champion, config, labels=True)
    assert checked.judgments.drift == "drift" and checked.judgments.health.verdict == "healthy"
    assert not checked.retrain and not checked.judgments.alert_drift
    retraining = config.model_copy(update={"judgments": config.judgments.model_copy(
        update={"drift_action": "retrain"})})
    assert judged(shifted, health_champion, retraining, labels=True).retrain


def test_ranges_widen_for_small_batches_and_config_overrides_them(health_champion):
    thresholds = health_champion.thresholds
    at_chunk = thresholds.limit("attack_share", thresholds.chunk_rows, {})
    assert thresholds.limit("attack_share", thresholds.chunk_rows // 4, {}) > at_chunk
    assert thresholds.limit("attack_share", thresholds.chunk_rows * 10, {}) == at_chunk
    assert thresholds.limit("attack_share", 100, {"attack_share": RangeOverride(high=0.5)}) == 0.5
    assert thresholds.limit("estimated_accuracy", thresholds.chunk_rows, {}) < 1.0


def test_the_outcome_and_the_artifact_carry_the_three_verdicts(health_champion, config):
    checked = judged(flows(ROWS, 11, ("BENIGN", "DDoS"), (0.3, 0.7)), health_champion, config,
                     labels=False)
    outcome = actions.outcome_of(checked, health_champion, None)
    assert (outcome.health, outcome.incident, outcome.verdict) == ("healthy", "incident",
                                                                   checked.verdict)
    assert outcome.incident_crossed == checked.judgments.incident.crossed
    markdown = actions.markdown_of(checked, health_champion)
    for heading in ("### Model health: **healthy**", "### Security incident: **incident**",
                    "### Data drift", "### Thresholds"):
        assert heading in markdown


def test_a_large_batch_is_judged_on_a_sample_with_counts_for_the_whole_batch(health_champion):
    batch = flows(6_000, 21, ("BENIGN", "DDoS"), (0.5, 0.5))
    features = clean_features(batch, health_champion.bundle.features)
    models = health_champion.health_models
    probabilities = predict_probabilities(health_champion.bundle, features)
    whole = batch_statistics(models, features, probabilities, 0.9)
    sampled = sampled_statistics(models, features, probabilities, 0.9, sample_rows=2_000)
    assert sampled.rows == 6_000
    assert abs(sampled.attack_share - whole.attack_share) < 0.05
    assert abs(sampled.class_counts["DDoS"] - whole.class_counts["DDoS"]) < 300
    assert sampled_statistics(models, features, probabilities, 0.9, sample_rows=10_000) == whole
