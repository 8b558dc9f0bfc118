"""Evaluate predictions: accuracy, macro/weighted F1, per-class scores, confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from nids.data.schema import LABEL_COLUMN
from nids.tracking.registry import ModelBundle, best_classes, predict_probabilities


@dataclass
class Evaluation:
    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class: pd.DataFrame   # precision, recall, f1, support per class
    confusion: pd.DataFrame   # rows: true class, columns: predicted class
    # The model's class probabilities of each row scored (`evaluate_model`), kept so that
    # intervals and curves of the same rows need no second prediction.
    probabilities: np.ndarray | None = field(default=None, repr=False, compare=False)

    def metrics(self) -> dict[str, float]:
        """Headline metrics by name (`macro_f1`, ...), the names config refers to."""
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1,
                "weighted_f1": self.weighted_f1}


def evaluate(true: pd.Series | np.ndarray, predicted: np.ndarray,
             weights: np.ndarray | None = None) -> Evaluation:
    """Scores over the classes that occur in either the truth or the predictions; `weights`
    (rows each row stands for, e.g. of a per-class sample) weight every count."""
    true = np.asarray(true, dtype=object)
    classes = sorted(set(pd.unique(true)) | set(pd.unique(np.asarray(predicted, dtype=object))))
    # scikit-learn on class codes: on the names it sorts strings (np.unique) in every metric,
    # 10 s and more on the 566,000 full-scale test rows; the codes give the same figures.
    true_codes = pd.Categorical(true, categories=classes).codes
    predicted_codes = pd.Categorical(predicted, categories=classes).codes
    codes = np.arange(len(classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_codes, predicted_codes, labels=codes, sample_weight=weights, zero_division=0
    )
    per_class = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(classes, name="class"),
    )
    # Macro-F1 over the classes that are really present, as published results report it.
    present = np.flatnonzero(support > 0)
    return Evaluation(
        accuracy=float(accuracy_score(true_codes, predicted_codes, sample_weight=weights)),
        macro_f1=float(f1_score(true_codes, predicted_codes, labels=present, average="macro",
                                sample_weight=weights, zero_division=0)),
        weighted_f1=float(f1_score(true_codes, predicted_codes, average="weighted",
                                   sample_weight=weights, zero_division=0)),
        per_class=per_class,
        confusion=pd.DataFrame(confusion_matrix(true_codes, predicted_codes, labels=codes,
                                                sample_weight=weights),
                               index=classes, columns=classes),
    )


def evaluate_model(bundle: ModelBundle, frame: pd.DataFrame,
                   weights: np.ndarray | None = None) -> Evaluation:
    """Scores of a model on a labelled frame (e.g. the test split), with its probabilities."""
    probabilities = predict_probabilities(bundle, frame)
    return evaluate_probabilities(bundle, frame[LABEL_COLUMN], probabilities, weights)


def evaluate_probabilities(bundle: ModelBundle, true: pd.Series | np.ndarray,
                           probabilities: np.ndarray,
                           weights: np.ndarray | None = None) -> Evaluation:
    """Scores of a model from its class probabilities of rows whose classes are `true`."""
    names, _ = best_classes(bundle, probabilities)
    evaluation = evaluate(true, names, weights)
    evaluation.probabilities = probabilities
    return evaluation


def plot_confusion(confusion: pd.DataFrame) -> Figure:
    """A row-normalised confusion matrix with the counts written in the cells."""
    totals = confusion.sum(axis=1).replace(0, 1)
    share = confusion.div(totals, axis=0)
    size = max(6, 0.6 * len(confusion))
    # A Figure without pyplot needs no display backend (workers have none).
    figure = Figure(figsize=(size + 2, size))
    axes = figure.subplots()
    image = axes.imshow(share.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(confusion)), confusion.columns, rotation=60, ha="right")
    axes.set_yticks(range(len(confusion)), confusion.index)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    for (row, column), count in np.ndenumerate(confusion.to_numpy()):
        if count:
            colour = "white" if share.iat[row, column] > 0.5 else "black"
            axes.text(column, row, f"{count}", ha="center", va="center", fontsize=7,
                      color=colour)
    figure.colorbar(image, ax=axes, label="share of the true class")
    figure.tight_layout()
    return figure
