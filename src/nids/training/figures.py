"""Figures logged beside the confusion matrix: per-class precision-recall curves and the
features the trees gain most from. Figures without pyplot: workers have no display."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb
from matplotlib.figure import Figure
from sklearn.metrics import PrecisionRecallDisplay

from nids.data.schema import LABEL_COLUMN

TOP_FEATURES = 20


def plot_precision_recall(frame: pd.DataFrame, probabilities: np.ndarray,
                          classes: list[str]) -> Figure:
    """One precision-recall curve per class the model knows and `frame` holds (one vs rest).
    scikit-learn's `drop_intermediate` leaves out the thresholds that would not show on the
    plotted curve (the average precision in the legend is computed on all of them)."""
    figure = Figure(figsize=(9, 7))
    axes = figure.subplots()
    truth = frame[LABEL_COLUMN].to_numpy()
    for column, name in enumerate(classes):
        positives = truth == name
        if positives.any():
            PrecisionRecallDisplay.from_predictions(positives, probabilities[:, column],
                                                    name=f"{name} ({positives.sum()})", ax=axes,
                                                    drop_intermediate=True)
    axes.set_title("Precision-recall per class on the test split (rows in brackets)")
    axes.legend(loc="lower left", fontsize=7)
    figure.tight_layout()
    return figure


def gain_importance(model: xgb.XGBClassifier, top: int = TOP_FEATURES) -> pd.Series:
    """Average gain of the splits on each feature, the `top` largest first."""
    gains = pd.Series(model.get_booster().get_score(importance_type="gain"), dtype=float)
    return gains.sort_values(ascending=False).head(top)


def plot_importance(model: xgb.XGBClassifier, top: int = TOP_FEATURES) -> Figure:
    """XGBoost's importance plot by average gain, the `top` features."""
    figure = Figure(figsize=(8, 0.3 * top + 1.5))
    axes = figure.subplots()
    xgb.plot_importance(model, ax=axes, importance_type="gain", max_num_features=top,
                        values_format="{v:.0f}", title="Feature importance (average gain)",
                        xlabel="average gain")
    figure.tight_layout()
    return figure
