"""Evaluation metrics on hand-made predictions, and the confusion plot."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from nids.training.evaluate import evaluate, plot_confusion

TRUE = ["a", "a", "a", "b", "b", "c"]
PREDICTED = np.array(["a", "a", "b", "b", "b", "a"], dtype=object)


def test_metrics_computed_by_hand():
    # a: 2 of 3 right, predicted 3 times -> P 2/3, R 2/3, F1 2/3
    # b: 2 of 2 right, predicted 3 times -> P 2/3, R 1,   F1 0.8
    # c: never right                      -> F1 0
    result = evaluate(pd.Series(TRUE), PREDICTED)
    assert result.accuracy == pytest.approx(4 / 6)
    assert result.macro_f1 == pytest.approx((2 / 3 + 0.8 + 0) / 3)
    assert result.weighted_f1 == pytest.approx((3 * 2 / 3 + 2 * 0.8 + 1 * 0) / 6)
    assert result.per_class["f1"].to_dict() == pytest.approx({"a": 2 / 3, "b": 0.8, "c": 0})
    assert result.per_class["precision"].to_dict() == pytest.approx(
        {"a": 2 / 3, "b": 2 / 3, "c": 0})
    assert result.per_class["recall"].to_dict() == pytest.approx({"a": 2 / 3, "b": 1, "c": 0})
    assert result.per_class["support"].tolist() == [3, 2, 1]
    assert result.metrics() == {"accuracy": result.accuracy, "macro_f1": result.macro_f1,
                                "weighted_f1": result.weighted_f1}


def test_confusion_matrix_rows_are_true_columns_predicted():
    confusion = evaluate(TRUE, PREDICTED).confusion
    expected = pd.DataFrame([[2, 1, 0], [0, 2, 0], [1, 0, 0]],
                            index=["a", "b", "c"], columns=["a", "b", "c"])
    pd.testing.assert_frame_equal(confusion, expected, check_dtype=False)


def test_macro_f1_counts_only_classes_present_in_the_truth():
    # "d" is only predicted: it appears in the table but not in macro-F1
    result = evaluate(["a", "a", "b"], np.array(["a", "d", "b"], dtype=object))
    assert result.macro_f1 == pytest.approx((2 / 3 + 1) / 2)
    assert result.weighted_f1 == pytest.approx((2 * 2 / 3 + 1) / 3)
    assert result.per_class.loc["d"].to_dict() == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_perfect_predictions_score_one():
    result = evaluate(TRUE, np.array(TRUE, dtype=object))
    assert result.metrics() == {"accuracy": 1.0, "macro_f1": 1.0, "weighted_f1": 1.0}


def test_plot_confusion_returns_a_labelled_figure():
    figure = plot_confusion(evaluate(TRUE, PREDICTED).confusion)
    try:
        assert isinstance(figure, plt.Figure)
        axes = figure.axes[0]
        assert [t.get_text() for t in axes.get_xticklabels()] == ["a", "b", "c"]
        assert axes.get_ylabel() == "true class"
        assert sorted(t.get_text() for t in axes.texts) == ["1", "1", "2", "2"]
    finally:
        plt.close(figure)


def test_scores_agree_with_scikit_learn_on_the_names():
    rng = np.random.default_rng(0)
    names = np.array(["BENIGN", "DDoS", "PortScan", "Bot", "Heartbleed"], dtype=object)
    true = names[rng.choice(4, 2000, p=[0.7, 0.15, 0.1, 0.05])]     # Heartbleed: predicted only
    predicted = np.where(rng.random(2000) < 0.8, true, names[rng.integers(0, 5, 2000)])
    result = evaluate(true, predicted)
    labels = sorted(set(true) | set(predicted))
    report = metrics.precision_recall_fscore_support(true, predicted, labels=labels,
                                                     zero_division=0)
    np.testing.assert_allclose(result.per_class[["precision", "recall", "f1", "support"]]
                               .to_numpy().T, np.array(report))
    assert result.macro_f1 == pytest.approx(metrics.f1_score(
        true, predicted, labels=sorted(set(true)), average="macro", zero_division=0))
    assert result.weighted_f1 == pytest.approx(metrics.f1_score(
        true, predicted, average="weighted", zero_division=0))
    assert result.accuracy == pytest.approx(metrics.accuracy_score(true, predicted))
    np.testing.assert_array_equal(result.confusion.to_numpy(),
                                  metrics.confusion_matrix(true, predicted, labels=labels))


def test_weights_count_each_row_as_the_rows_it_stands_for():
    # The first row stands for the two "a" rows called "a": as the six rows of TRUE.
    true, predicted = ["a", "a", "b", "b", "c"], np.array(["a", "b", "b", "b", "a"], dtype=object)
    weighted = evaluate(true, predicted, np.array([2.0, 1, 1, 1, 1]))
    full = evaluate(TRUE, PREDICTED)
    assert weighted.metrics() == pytest.approx(full.metrics())
    np.testing.assert_allclose(weighted.confusion.to_numpy(), full.confusion.to_numpy())
