"""Train the XGBoost classifier: hist trees, class weighting, early stopping, seeded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import xgboost as xgb

from nids.config import XGBoostConfig
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from nids.tracking.registry import ModelBundle
from nids.training.features import select_features
from nids.training.splits import class_order, undersample

logger = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """A fitted classifier, the classes of its outputs and the feature columns it reads."""

    model: xgb.XGBClassifier
    classes: list[str]
    features: list[str]
    dropped: dict[str, str]   # feature columns left out, and why

    @cached_property
    def bundle(self) -> ModelBundle:
        """The model as scoring uses it, before it has a registered version."""
        return ModelBundle(self.model, self.classes, self.features, version="new", run_id="")


def class_weights(codes: np.ndarray, n_classes: int, power: float) -> np.ndarray:
    """Per-row weights: the balanced class weight raised to `power` (0 = unweighted)."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    balanced = len(codes) / (n_classes * np.maximum(counts, 1))
    return (balanced**power)[codes]


def encode(classes: pd.Series, order: list[str]) -> np.ndarray:
    """Class names to codes 0..n-1 in `order`; names outside `order` are refused."""
    codes = pd.Categorical(classes, categories=order).codes
    if (codes < 0).any():
        unknown = sorted(set(classes[codes < 0]))
        raise ValueError(f"Classes {unknown} are not among the model's classes {order}.")
    return codes.astype(np.int32)


def stopping_set(codes: np.ndarray, n_classes: int, params: XGBoostConfig,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(positions, weights) of the validation rows early stopping scores: at most
    `early_stopping_rows_per_class` of each class, every row of rarer classes. A capped class's
    rows are weighted up by (its rows / rows kept), so the weighted log-loss estimates the one
    of the whole split (the class weights as `class_weights` gives them) at a fraction of the
    cost: on the 283,000 full-scale validation rows, scoring them all took a fifth of the fit."""
    weights = class_weights(codes, n_classes, params.class_weight_power)
    cap = params.early_stopping_rows_per_class
    if cap is None or len(codes) <= cap:
        return np.arange(len(codes)), weights
    positions = undersample(np.arange(len(codes)), pd.Series(codes), cap, params.seed)
    counts = np.bincount(codes, minlength=n_classes)
    kept = np.bincount(codes[positions], minlength=n_classes)
    share = counts / np.maximum(kept, 1)
    return positions, weights[positions] * share[codes[positions]]


def train_model(
    train_x: pd.DataFrame, train_y: pd.Series, validation_x: pd.DataFrame,
    validation_y: pd.Series, order: list[str], params: XGBoostConfig,
    callbacks: list[xgb.callback.TrainingCallback] | None = None,
) -> xgb.XGBClassifier:
    """Fit on the training split, stopping early on the validation split's log-loss (on the
    rows of `stopping_set`; `eval_metric_key` names it for callbacks, e.g. a search's pruning).
    `validation_x` may hold more columns than `train_x`: only `train_x`'s are read, of the
    stopping rows alone (the whole split is not copied)."""
    train_codes, validation_codes = encode(train_y, order), encode(validation_y, order)
    stopping, stopping_weights = stopping_set(validation_codes, len(order), params)
    stopping_x = validation_x.iloc[stopping][train_x.columns]
    model = xgb.XGBClassifier(
        tree_method="hist",
        objective="multi:softprob" if len(order) > 2 else "binary:logistic",
        n_estimators=params.n_estimators,
        learning_rate=params.learning_rate,
        max_depth=params.max_depth,
        min_child_weight=params.min_child_weight,
        subsample=params.subsample,
        colsample_bytree=params.colsample_bytree,
        max_bin=params.max_bin,
        early_stopping_rounds=params.early_stopping_rounds,
        eval_metric="mlogloss" if len(order) > 2 else "logloss",
        n_jobs=params.n_jobs,
        random_state=params.seed,
        callbacks=callbacks,
    )
    model.fit(
        train_x, train_codes,
        sample_weight=class_weights(train_codes, len(order), params.class_weight_power),
        eval_set=[(stopping_x, validation_codes[stopping])],
        sample_weight_eval_set=[stopping_weights],
        verbose=False,
    )
    logger.info("Trained %d of at most %d rounds (best iteration %d)",
                model.get_booster().num_boosted_rounds(), model.n_estimators,
                model.best_iteration)
    return model


def eval_metric_key(n_classes: int) -> str:
    """The validation log-loss as XGBoost's evaluation log names it."""
    return "validation_0-" + ("mlogloss" if n_classes > 2 else "logloss")


def train_on_splits(splits: dict[str, pd.DataFrame], params: XGBoostConfig) -> TrainedModel:
    """Select features on the training split, then fit, stopping early on the validation split."""
    train_split, validation_split = splits["train"], splits["validation"]
    features, dropped = select_features(train_split[list(FEATURE_COLUMNS)])
    classes = class_order(train_split[LABEL_COLUMN])
    model = train_model(train_split[features], train_split[LABEL_COLUMN], validation_split,
                        validation_split[LABEL_COLUMN], classes, params)
    return TrainedModel(model, classes, features, dropped)
