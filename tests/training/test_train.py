"""Training: class weights, class encoding, a model that learns a separable problem, and
training on the splits (feature selection, class order, one scoring bundle)."""

import numpy as np
import pandas as pd
import pytest

from nids.config import LabelGrouping, XGBoostConfig
from nids.data.schema import LABEL_COLUMN
from nids.tracking.registry import predict_classes
from nids.training.evaluate import evaluate
from nids.training.splits import build_splits
from nids.training.train import (
    TrainedModel,
    class_weights,
    encode,
    stopping_set,
    train_model,
    train_on_splits,
)
from tests.support.builders import flow_frame

SMALL_MODEL = XGBoostConfig(n_estimators=30, max_depth=3, learning_rate=0.3, n_jobs=1,
                            early_stopping_rounds=5)


def blobs(classes: list[str], per_class: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Well separated Gaussian blobs, one per class, with a noise column."""
    rng = np.random.default_rng(seed)
    centres = {name: (10.0 * i, -10.0 * i) for i, name in enumerate(classes)}
    labels = np.repeat(classes, per_class)
    centre = np.array([centres[name] for name in labels])
    frame = pd.DataFrame({
        "flow_duration": centre[:, 0] + rng.normal(0, 1, len(labels)),
        "flow_bytes_s": centre[:, 1] + rng.normal(0, 1, len(labels)),
        "noise": rng.normal(0, 1, len(labels)),
    }, dtype=np.float32)
    return frame, pd.Series(labels)


def predicted(model, order: list[str], features: pd.DataFrame) -> np.ndarray:
    """The most probable class of each row, as the flows score."""
    bundle = TrainedModel(model, order, list(features.columns), {}).bundle
    return predict_classes(bundle, features)[0]


@pytest.mark.parametrize(
    ("power", "expected"),
    [
        (0.0, [1, 1, 1, 1]),
        (1.0, [2 / 3, 2 / 3, 2 / 3, 2]),  # balanced: 4 rows / (2 classes * count)
        (0.5, [(2 / 3) ** 0.5] * 3 + [2**0.5]),
    ],
)
def test_class_weights(power, expected):
    weights = class_weights(np.array([0, 0, 0, 1]), 2, power)
    np.testing.assert_allclose(weights, expected)


def test_class_weights_with_a_class_without_rows():
    weights = class_weights(np.array([0, 2, 2, 2]), 3, 1.0)
    np.testing.assert_allclose(weights, [4 / 3, 4 / 9, 4 / 9, 4 / 9])


def test_the_stopping_set_keeps_every_rare_row_and_weights_capped_classes_up():
    codes = np.repeat([0, 1, 2], [1000, 150, 3]).astype(np.int32)
    params = XGBoostConfig(early_stopping_rows_per_class=100, class_weight_power=0.5)
    positions, weights = stopping_set(codes, 3, params)
    kept = np.bincount(codes[positions], minlength=3)
    assert kept.tolist() == [100, 100, 3] and len(set(positions)) == len(positions)
    # Weighted, each class carries what all its rows carry with the class weights.
    full = np.bincount(codes, weights=class_weights(codes, 3, 0.5), minlength=3)
    np.testing.assert_allclose(np.bincount(codes[positions], weights=weights, minlength=3), full)
    every, same = stopping_set(codes, 3, params.model_copy(
        update={"early_stopping_rows_per_class": None}))
    assert len(every) == len(codes)
    np.testing.assert_allclose(same, class_weights(codes, 3, 0.5))


def test_encode_follows_the_given_order():
    codes = encode(pd.Series(["b", "a", "c", "b"]), ["c", "b", "a"])
    assert codes.tolist() == [1, 2, 0, 1]
    assert codes.dtype == np.int32


def test_encode_refuses_unknown_classes_naming_them():
    with pytest.raises(ValueError, match=r"\['Bot'\] are not among the model's classes"):
        encode(pd.Series(["BENIGN", "Bot"]), ["BENIGN", "DDoS"])


def test_model_learns_a_separable_three_class_problem():
    order = ["BENIGN", "DDoS", "PortScan"]
    train_x, train_y = blobs(order, 100, seed=0)
    validation_x, validation_y = blobs(order, 20, seed=1)
    test_x, test_y = blobs(order, 50, seed=2)
    model = train_model(train_x, train_y, validation_x, validation_y, order, SMALL_MODEL)
    probabilities = model.predict_proba(test_x)
    assert probabilities.shape == (150, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    result = evaluate(test_y, predicted(model, order, test_x))
    assert result.macro_f1 > 0.9


def test_two_classes_train_a_binary_model_with_two_probability_columns():
    order = ["BENIGN", "DDoS"]
    train_x, train_y = blobs(order, 50, seed=0)
    validation_x, validation_y = blobs(order, 10, seed=1)
    model = train_model(train_x, train_y, validation_x, validation_y, order, SMALL_MODEL)
    probabilities = model.predict_proba(validation_x)
    assert probabilities.shape == (20, 2)
    assert (predicted(model, order, validation_x) == validation_y.to_numpy()).mean() > 0.9


def test_training_is_deterministic_by_seed():
    order = ["BENIGN", "DDoS", "PortScan"]
    train_x, train_y = blobs(order, 40, seed=0)
    validation_x, validation_y = blobs(order, 10, seed=1)
    runs = [train_model(train_x, train_y, validation_x, validation_y, order, SMALL_MODEL)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0].predict_proba(validation_x),
                                  runs[1].predict_proba(validation_x))


def test_the_validation_rows_may_carry_columns_the_model_does_not_read():
    """The flow hands its whole validation split (label and dropped columns included) so that
    only the stopping rows' features are copied; the model is the one of the features alone."""
    order = ["BENIGN", "DDoS", "PortScan"]
    train_x, train_y = blobs(order, 40, seed=0)
    validation_x, validation_y = blobs(order, 10, seed=1)
    wider = validation_x.assign(label=validation_y, extra=1.0)[["extra", "label",
                                                               *validation_x.columns]]
    models = [train_model(train_x, train_y, x, validation_y, order, SMALL_MODEL)
              for x in (validation_x, wider)]
    assert models[1].get_booster().feature_names == list(train_x.columns)
    np.testing.assert_array_equal(models[0].predict_proba(validation_x),
                                  models[1].predict_proba(validation_x))


def test_training_on_splits_selects_features_orders_classes_and_bundles_once():
    frame = flow_frame(["PortScan"] * 60 + ["BENIGN"] * 90, seed=3)
    frame["flow_duration"] = 7.0                       # constant: dropped
    frame["flow_bytes_s"] = frame["total_fwd_packets"]  # a copy: dropped
    splits = build_splits(frame, LabelGrouping.LABELS, 0.2, 0.2, None, seed=0)
    trained = train_on_splits(splits, SMALL_MODEL)
    assert trained.classes == ["BENIGN", "PortScan"]   # the canonical order, not the rows'
    assert trained.dropped == {"flow_duration": "constant in the training data",
                               "flow_bytes_s": "duplicate of total_fwd_packets"}
    assert "flow_duration" not in trained.features and LABEL_COLUMN not in trained.features
    assert trained.bundle is trained.bundle and trained.bundle.features == trained.features
    names, _ = predict_classes(trained.bundle, splits["test"])
    assert set(names) <= {"BENIGN", "PortScan"}
