"""Why a flow got its class: XGBoost's feature contributions (`pred_contribs`) toward it.

A contribution is in the model's margin (log-odds) units for the predicted class: the bias
plus the contributions of all features add up to that class's margin, and the class with the
largest margin wins (softmax). `exact` is TreeSHAP (Shapley values of the trees); `approx` is
Saabas' method (each split's change of the expected value along the flow's path), far cheaper
and usually ranking the same top features.

XGBoost computes contributions for every class at once, although a flow's explanation needs
only its predicted class. A multi-class model is therefore split once, when loaded, into one
booster per class holding only that class's trees (the same trees, so the same numbers); the
split is checked against the full model's margins and abandoned if they ever differ.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import numpy as np
import xgboost as xgb

logger = logging.getLogger(__name__)

MARGIN_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Explainer:
    """Contributions of a model's features toward the class it predicted for each flow."""

    booster: xgb.Booster
    features: list[str]
    n_classes: int
    iteration_range: tuple[int, int]
    class_boosters: list[xgb.Booster] | None = None   # None: use the full model

    def contributions(self, values: np.ndarray, classes: np.ndarray, exact: bool) -> np.ndarray:
        """(flows, features + 1) contributions toward `classes` (codes); the last is the bias."""
        if len(values) == 0:
            return np.empty((0, len(self.features) + 1), dtype=np.float32)
        if self.n_classes == 2:
            margin = self._predict(self.booster, values, exact, self.iteration_range)
            return np.where((classes == 1)[:, None], margin, -margin)  # log-odds of class 0
        if self.class_boosters is None:
            every = self._predict(self.booster, values, exact, self.iteration_range)
            return every[np.arange(len(values)), classes]
        matrix = xgb.DMatrix(values, feature_names=self.features)
        result = np.empty((len(values), len(self.features) + 1), dtype=np.float32)
        for code in np.unique(classes):
            rows = np.flatnonzero(classes == code)
            result[rows] = self._predict(self.class_boosters[code], matrix.slice(rows), exact,
                                         (0, 0))
        return result

    def _predict(self, booster: xgb.Booster, values: np.ndarray | xgb.DMatrix, exact: bool,
                 iteration_range: tuple[int, int]) -> np.ndarray:
        matrix = values if isinstance(values, xgb.DMatrix) else xgb.DMatrix(
            values, feature_names=self.features)
        return booster.predict(matrix, pred_contribs=True, approx_contribs=not exact,
                               iteration_range=iteration_range)


def iteration_range(model: xgb.XGBClassifier) -> tuple[int, int]:
    """The boosting rounds predict_proba uses: up to the best iteration after early stopping."""
    try:
        return 0, int(model.best_iteration) + 1
    except AttributeError:
        return 0, 0


def build_explainer(model: xgb.XGBClassifier, features: list[str], n_classes: int) -> Explainer:
    """An explainer for a loaded model, with per-class boosters when the split checks out."""
    booster, rounds = model.get_booster(), iteration_range(model)
    if n_classes <= 2:
        return Explainer(booster, features, n_classes, rounds)
    try:
        split = split_by_class(booster, n_classes, rounds[1])
        check_split(booster, split, rounds, len(features))
    except (ValueError, KeyError, TypeError, IndexError, xgb.core.XGBoostError) as error:
        logger.warning("Explaining with the full model (slower): per-class split failed: %s",
                       error)
        return Explainer(booster, features, n_classes, rounds)
    return Explainer(booster, features, n_classes, rounds, split)


def split_by_class(booster: xgb.Booster, n_classes: int, rounds: int) -> list[xgb.Booster]:
    """One regression booster per class with that class's trees of the first `rounds` rounds.

    Its margin is the class's margin in the full model: the class's intercept plus its trees.
    """
    model = json.loads(booster.save_raw("json"))
    learner = model["learner"]
    trees_part = learner["gradient_booster"]["model"]
    indptr = trees_part["iteration_indptr"]
    kept = indptr[rounds] if 0 < rounds < len(indptr) else indptr[-1]
    intercepts = np.atleast_1d(json.loads(learner["learner_model_param"]["base_score"]))
    boosters = []
    groups = trees_part["tree_info"][:kept]
    for code in range(n_classes):
        trees = [dict(tree, id=number) for number, tree in enumerate(
            tree for tree, group in zip(trees_part["trees"][:kept], groups, strict=True)
            if group == code)]
        intercept = float(intercepts[code] if len(intercepts) > 1 else intercepts[0])
        boosters.append(_regression_booster(model, trees, intercept))
    return boosters


def _regression_booster(model: dict, trees: list[dict], intercept: float) -> xgb.Booster:
    learner = model["learner"]
    one_class = {
        **learner,
        "attributes": {},
        "objective": {"name": "reg:squarederror", "reg_loss_param": {"scale_pos_weight": "1"}},
        "learner_model_param": {**learner["learner_model_param"], "base_score": f"[{intercept!r}]",
                                "num_class": "0", "num_target": "1"},
        "gradient_booster": {**learner["gradient_booster"], "model": {
            **learner["gradient_booster"]["model"], "trees": trees, "tree_info": [0] * len(trees),
            "iteration_indptr": list(range(len(trees) + 1)),
            "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": str(len(trees))},
        }},
    }
    booster = xgb.Booster()
    booster.load_model(bytearray(json.dumps({**model, "learner": one_class}).encode()))
    return booster


def check_split(booster: xgb.Booster, split: list[xgb.Booster], rounds: tuple[int, int],
                n_features: int) -> None:
    """Raise ValueError unless each class booster reproduces its class's margin."""
    rng = np.random.default_rng(0)
    probes = rng.standard_normal((64, n_features)) * 10 ** rng.uniform(0, 7, (64, n_features))
    probes[rng.random(probes.shape) < 0.1] = np.nan
    matrix = xgb.DMatrix(probes.astype(np.float32), feature_names=booster.feature_names)
    margins = booster.predict(matrix, output_margin=True, iteration_range=rounds)
    for code, class_booster in enumerate(split):
        difference = np.abs(class_booster.predict(matrix) - margins[:, code]).max()
        if difference > MARGIN_TOLERANCE:
            raise ValueError(f"class {code}'s booster differs from the model by {difference:.2g}")
