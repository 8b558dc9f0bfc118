"""Bootstrap intervals of per-class F1 and macro-F1."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from nids.training.intervals import MACRO_F1, f1_intervals, interval_metrics


@pytest.fixture(scope="module")
def predictions() -> tuple[np.ndarray, np.ndarray]:
    """2,000 rows: a large class, a middling one, a rare one (10 rows); 10% of rows wrong."""
    rng = np.random.default_rng(0)
    names = np.array(["BENIGN", "DDoS", "Heartbleed"], dtype=object)
    true = np.repeat(names, [1_600, 390, 10])
    predicted = true.copy()
    wrong = rng.random(len(true)) < 0.1
    predicted[wrong] = names[rng.integers(0, 2, wrong.sum())]
    return true, predicted


def test_point_scores_are_scikit_learns(predictions) -> None:
    true, predicted = predictions
    table = f1_intervals(true, predicted, 50, 0.95, seed=1)
    classes = ["BENIGN", "DDoS", "Heartbleed"]
    expected = f1_score(true, predicted, labels=classes, average=None, zero_division=0)
    np.testing.assert_allclose(table.loc[classes, "f1"], expected)
    assert table.at[MACRO_F1, "f1"] == pytest.approx(expected.mean())


@pytest.mark.parametrize("count", [15, 16, 300])
def test_class_codes_hold_every_confusion_cell(count) -> None:
    """The codes are the smallest integers that hold count**2 confusion cells (one byte up to
    15 classes, four bytes for 300): the last classes' scores are still scikit-learn's."""
    rng = np.random.default_rng(count)
    names = np.array([f"class {i:03d}" for i in range(count)], dtype=object)
    true = names[np.r_[np.arange(count), rng.integers(0, count, 3_000)]]
    noise = names[rng.integers(0, count, len(true))]
    predicted = np.where(rng.random(len(true)) < 0.8, true, noise)
    table = f1_intervals(true, predicted, 5, 0.95, seed=1)
    expected = f1_score(true, predicted, labels=list(names), average=None, zero_division=0)
    np.testing.assert_allclose(table.loc[list(names), "f1"], expected)


def test_intervals_hold_the_score_and_widen_for_rare_classes(predictions) -> None:
    table = f1_intervals(*predictions, 200, 0.95, seed=1)
    assert ((table.low <= table.f1) & (table.f1 <= table.high)).all()
    width = table.high - table.low
    assert width["Heartbleed"] > 5 * width["BENIGN"]
    narrower = f1_intervals(*predictions, 200, 0.5, seed=1)
    assert (narrower.high - narrower.low <= width + 1e-12).all()


def test_a_class_only_predicted_has_no_row_and_metrics_are_named(predictions) -> None:
    true, predicted = predictions
    predicted = predicted.copy()
    predicted[:5] = "PortScan"   # never true
    table = f1_intervals(true, predicted, 20, 0.9, seed=0)
    assert "PortScan" not in table.index
    metrics = interval_metrics(table)
    assert {"test_f1_DDoS_low", "test_f1_DDoS_high", "test_macro_f1_low",
            "test_macro_f1_high"} <= set(metrics)
