"""Scoring flows with the served model: class, probability, and contributions where asked."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from nids.data.schema import BENIGN
from nids.serving.model import ServedModel
from nids.tracking import registry
from nids.training.features import clean_features


class ExplainMode(StrEnum):
    """Which flows get feature contributions."""

    FLAGGED = "flagged"   # flows predicted as an attack
    ALL = "all"
    NONE = "none"


class ContributionMethod(StrEnum):
    """How contributions are computed; `auto` picks exact for a few flows, approx for many."""

    AUTO = "auto"
    EXACT = "exact"
    APPROX = "approx"


@dataclass(frozen=True)
class Explanations:
    """Contributions toward the predicted class of the flows at `rows` (last column: bias)."""

    rows: np.ndarray
    method: str
    contributions: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Scores:
    predictions: np.ndarray
    probabilities: np.ndarray
    explanations: Explanations | None

    def class_counts(self) -> list[tuple[str, int]]:
        names, counts = np.unique(self.predictions.astype(str), return_counts=True)
        return list(zip(names.tolist(), counts.tolist(), strict=True))


def rows_to_explain(predictions: np.ndarray, mode: ExplainMode) -> np.ndarray:
    if mode is ExplainMode.ALL:
        return np.arange(len(predictions))
    if mode is ExplainMode.FLAGGED:
        return np.flatnonzero(predictions != BENIGN)
    return np.empty(0, dtype=np.int64)


def use_exact(method: ContributionMethod, flows: int, exact_max_flows: int) -> bool:
    """Exact TreeSHAP when asked, or under `auto` when few flows need it (it costs ~100x)."""
    if method is ContributionMethod.AUTO:
        return flows <= exact_max_flows
    return method is ContributionMethod.EXACT


def score_flows(served: ServedModel, flows: pd.DataFrame, explain: ExplainMode,
                method: ContributionMethod, exact_max_flows: int) -> Scores:
    """Predict each flow's class with the scoring cleaning policy, and explain where asked."""
    features = clean_features(flows, served.bundle.features)
    names, probabilities = registry.predict_classes(served.bundle, features)
    rows = rows_to_explain(names, explain)
    if len(rows) == 0:
        return Scores(names, probabilities, None)
    exact = use_exact(method, len(rows), exact_max_flows)
    values = features.to_numpy()[rows]
    codes = pd.Categorical(names[rows], categories=served.bundle.classes).codes
    contributions = served.explainer.contributions(values, codes, exact)
    return Scores(names, probabilities,
                  Explanations(rows, "exact" if exact else "approx", contributions, values))


def top_contributions(explanations: Explanations, features: list[str],
                      top_k: int) -> list[dict[str, Any]]:
    """Per explained flow: the bias and the `top_k` features by absolute contribution, as
    parallel lists (features, the values the model saw, contributions), largest first."""
    contributions = explanations.contributions[:, :-1]
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top_k]
    picked = np.take_along_axis(contributions, order, axis=1).tolist()
    values = np.take_along_axis(explanations.values, order, axis=1).tolist()
    names = np.asarray(features, dtype=object)[order].tolist()
    bias = explanations.contributions[:, -1].tolist()
    return [{"method": explanations.method, "bias": bias[i], "features": names[i],
             "values": values[i], "contributions": picked[i]} for i in range(len(order))]


def response_body(scores: Scores, served: ServedModel, top_k: int) -> dict[str, Any]:
    """The JSON answer: the model that scored, then one entry per flow in request order."""
    probabilities = np.round(scores.probabilities.astype(np.float64), 6).tolist()
    flows: list[dict[str, Any]] = [
        {"prediction": name, "probability": probability}
        for name, probability in zip(scores.predictions.tolist(), probabilities, strict=True)
    ]
    explained = scores.explanations
    if explained is not None:
        for row, explanation in zip(explained.rows.tolist(), top_contributions(
                explained, served.bundle.features, top_k), strict=True):
            flows[row]["explanation"] = explanation
    return {
        "model": {"name": served.model_name, "version": served.version, "alias": served.alias},
        "flows": flows,
        "explained": {"flows": 0 if explained is None else len(explained.rows),
                      "method": None if explained is None else explained.method},
    }
