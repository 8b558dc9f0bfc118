"""Cleaning policy, feature selection, classes and the stratified splits."""

import numpy as np
import pandas as pd
import pytest
from fixtures import flow_frame

from nids.config import LabelGrouping
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABEL_FAMILIES
from nids.training import features as featurize


@pytest.fixture
def dirty():
    return pd.DataFrame({
        "flow_bytes_s": [np.inf, -np.inf, 5.0, np.nan],
        "init_win_bytes_forward": [-1.0, 0.0, 29200.0, -1.0],
        "init_win_bytes_backward": [-1.0, -1.0, 235.0, 0.0],
        "flow_duration": [-1.0, 0.0, 12.0, 3.0],
        "flow_iat_min": [-7.0, 1.0, 2.0, 3.0],
    })


def test_cleaning_policy(dirty):
    clean = featurize.clean_features(dirty, list(dirty.columns))
    assert (clean.dtypes == np.float32).all()
    np.testing.assert_array_equal(clean["flow_bytes_s"], [np.nan, np.nan, 5, np.nan])
    np.testing.assert_array_equal(clean["init_win_bytes_forward"], [-1, 0, 29200, -1])
    np.testing.assert_array_equal(clean["init_win_bytes_backward"], [-1, -1, 235, 0])
    np.testing.assert_array_equal(clean["flow_duration"], [np.nan, 0, 12, 3])
    np.testing.assert_array_equal(clean["flow_iat_min"], [np.nan, 1, 2, 3])


def test_cleaning_leaves_the_input_alone(dirty):
    before = dirty.copy()
    featurize.clean_features(dirty, list(dirty.columns))
    pd.testing.assert_frame_equal(dirty, before)


def test_select_features_drops_constant_and_duplicate_columns_with_reasons():
    train = pd.DataFrame({
        "a": [1.0, 2.0, 3.0], "constant": [7.0, 7.0, 7.0], "all_missing": [np.nan] * 3,
        "copy_of_a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0], "with_gap": [1.0, np.nan, 2.0],
    }, dtype=np.float32)
    kept, dropped = featurize.select_features(train)
    assert kept == ["a", "b", "with_gap"]
    assert dropped == {"constant": "constant in the training data",
                       "all_missing": "constant in the training data",
                       "copy_of_a": "duplicate of a"}


def test_class_labels_and_families():
    labels = pd.Series(pd.Categorical(["DoS Hulk", "Heartbleed", "Web Attack - XSS", "BENIGN"]))
    assert featurize.class_labels(labels, LabelGrouping.LABELS).tolist() == [
        "DoS Hulk", "Heartbleed", "Web Attack - XSS", "BENIGN"]
    assert featurize.class_labels(labels, LabelGrouping.FAMILIES).tolist() == [
        "DoS", "DoS", "Web Attack", "BENIGN"]


def test_class_order_follows_the_canonical_labels():
    classes = pd.Series(["PortScan", "BENIGN", "Bot", "DDoS", "BENIGN"])
    assert featurize.class_order(classes) == ["BENIGN", "PortScan", "DDoS", "Bot"]
    families = pd.Series(["Web Attack", "DoS", "BENIGN", "Brute Force"])
    assert featurize.class_order(families) == ["BENIGN", "DoS", "Brute Force", "Web Attack"]


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1000, (100, 200)), (10, (1, 2)), (3, (1, 1)), (2, (0, 0)), (1, (0, 0))],
)
def test_split_counts(n, expected):
    assert featurize.split_counts(n, 0.1, 0.2) == expected


@pytest.fixture
def classes():
    return pd.Series(["BENIGN"] * 1000 + ["DDoS"] * 200 + ["Heartbleed"] * 3 + ["XSS"] * 1)


def test_stratified_split_partitions_the_rows(classes):
    parts = featurize.stratified_split(classes, 0.1, 0.2, seed=3)
    every = np.concatenate(list(parts.values()))
    assert sorted(every) == list(range(len(classes)))


def test_stratified_split_keeps_a_three_row_class_in_every_split(classes):
    parts = featurize.stratified_split(classes, 0.1, 0.2, seed=3)
    for name in featurize.SPLITS:
        assert (classes.iloc[parts[name]] == "Heartbleed").sum() == 1, name
    assert (classes.iloc[parts["train"]] == "XSS").sum() == 1  # a single row trains


def test_stratified_split_shares(classes):
    parts = featurize.stratified_split(classes, 0.1, 0.2, seed=3)
    counts = {name: classes.iloc[rows].value_counts().to_dict() for name, rows in parts.items()}
    assert counts["test"]["BENIGN"] == 200 and counts["validation"]["BENIGN"] == 100
    assert counts["test"]["DDoS"] == 40 and counts["validation"]["DDoS"] == 20
    assert counts["train"]["BENIGN"] == 700


def test_stratified_split_is_deterministic_by_seed(classes):
    first = featurize.stratified_split(classes, 0.1, 0.2, seed=3)
    again = featurize.stratified_split(classes, 0.1, 0.2, seed=3)
    other = featurize.stratified_split(classes, 0.1, 0.2, seed=4)
    for name in featurize.SPLITS:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["test"], other["test"])


def test_undersample_caps_each_class():
    classes = pd.Series(["a"] * 50 + ["b"] * 5)
    positions = np.arange(0, 55)
    kept = featurize.undersample(positions, classes, max_rows=10, seed=0)
    assert classes.iloc[kept].value_counts().to_dict() == {"a": 10, "b": 5}
    assert len(set(kept)) == len(kept)


@pytest.fixture
def flows():
    labels = (["BENIGN"] * 300 + ["DoS Hulk"] * 60 + ["Heartbleed"] * 3
              + ["Web Attack - XSS"] * 20 + ["Web Attack - Sql Injection"] * 10)
    frame = flow_frame(labels, seed=7)
    frame.loc[0, "flow_duration"] = -1
    return frame


def test_build_splits_caps_classes_in_training_only(flows):
    capped = featurize.build_splits(flows, LabelGrouping.LABELS, 0.1, 0.2, 50, seed=1)
    full = featurize.build_splits(flows, LabelGrouping.LABELS, 0.1, 0.2, None, seed=1)
    train_counts = capped["train"][LABEL_COLUMN].value_counts()
    assert train_counts["BENIGN"] == 50
    assert train_counts["DoS Hulk"] == 42  # 60 - 6 validation - 12 test, below the cap
    assert full["train"][LABEL_COLUMN].value_counts()["BENIGN"] == 210
    for name in ("validation", "test"):
        pd.testing.assert_frame_equal(capped[name], full[name])


def test_build_splits_returns_cleaned_features_and_the_class(flows):
    splits = featurize.build_splits(flows, LabelGrouping.LABELS, 0.1, 0.2, None, seed=1)
    assert sum(len(s) for s in splits.values()) == len(flows)
    for split in splits.values():
        assert list(split.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
        assert (split[list(FEATURE_COLUMNS)].dtypes == np.float32).all()
    all_rows = pd.concat(splits.values())
    assert all_rows["flow_duration"].isna().sum() == 1  # the -1 glitch became missing


def test_build_splits_groups_families(flows):
    splits = featurize.build_splits(flows, LabelGrouping.FAMILIES, 0.1, 0.2, None, seed=1)
    test_counts = splits["test"][LABEL_COLUMN].value_counts().to_dict()
    assert set(test_counts) == {"BENIGN", "DoS", "Web Attack"}
    assert set(test_counts) <= set(LABEL_FAMILIES.values())
    assert test_counts["Web Attack"] == 6  # 30 web-attack rows, 20% test
