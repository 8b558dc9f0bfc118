"""Classes, the stratified splits, undersampling, and the saved splits later runs resume from."""

import logging

import numpy as np
import pandas as pd
import pytest

from nids.config import FeatureConfig, LabelGrouping
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABEL_FAMILIES
from nids.training.splits import (
    SPLITS,
    build_splits,
    class_labels,
    class_order,
    load_or_build_splits,
    load_splits,
    save_splits,
    split_counts,
    splits_folder,
    stratified_split,
    undersample,
)
from tests.support.builders import flow_frame


def test_class_labels_and_families():
    labels = pd.Series(pd.Categorical(["DoS Hulk", "Heartbleed", "Web Attack - XSS", "BENIGN"]))
    assert class_labels(labels, LabelGrouping.LABELS).tolist() == [
        "DoS Hulk", "Heartbleed", "Web Attack - XSS", "BENIGN"]
    assert class_labels(labels, LabelGrouping.FAMILIES).tolist() == [
        "DoS", "DoS", "Web Attack", "BENIGN"]


def test_class_order_follows_the_canonical_labels():
    classes = pd.Series(["PortScan", "BENIGN", "Bot", "DDoS", "BENIGN"])
    assert class_order(classes) == ["BENIGN", "PortScan", "DDoS", "Bot"]
    families = pd.Series(["Web Attack", "DoS", "BENIGN", "Brute Force"])
    assert class_order(families) == ["BENIGN", "DoS", "Brute Force", "Web Attack"]


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1000, (100, 200)), (10, (1, 2)), (3, (1, 1)), (2, (0, 0)), (1, (0, 0))],
)
def test_split_counts(n, expected):
    assert split_counts(n, 0.1, 0.2) == expected


@pytest.fixture
def classes():
    return pd.Series(["BENIGN"] * 1000 + ["DDoS"] * 200 + ["Heartbleed"] * 3 + ["XSS"] * 1)


def test_stratified_split_partitions_the_rows(classes):
    parts = stratified_split(classes, 0.1, 0.2, seed=3)
    every = np.concatenate(list(parts.values()))
    assert sorted(every) == list(range(len(classes)))


def test_stratified_split_keeps_a_three_row_class_in_every_split(classes):
    parts = stratified_split(classes, 0.1, 0.2, seed=3)
    for name in SPLITS:
        assert (classes.iloc[parts[name]] == "Heartbleed").sum() == 1, name
    assert (classes.iloc[parts["train"]] == "XSS").sum() == 1  # a single row trains


def test_stratified_split_shares(classes):
    parts = stratified_split(classes, 0.1, 0.2, seed=3)
    counts = {name: classes.iloc[rows].value_counts().to_dict() for name, rows in parts.items()}
    assert counts["test"]["BENIGN"] == 200 and counts["validation"]["BENIGN"] == 100
    assert counts["test"]["DDoS"] == 40 and counts["validation"]["DDoS"] == 20
    assert counts["train"]["BENIGN"] == 700


def test_stratified_split_is_deterministic_by_seed(classes):
    first = stratified_split(classes, 0.1, 0.2, seed=3)
    again = stratified_split(classes, 0.1, 0.2, seed=3)
    other = stratified_split(classes, 0.1, 0.2, seed=4)
    for name in SPLITS:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["test"], other["test"])


def test_undersample_caps_each_class():
    classes = pd.Series(["a"] * 50 + ["b"] * 5)
    positions = np.arange(0, 55)
    kept = undersample(positions, classes, max_rows=10, seed=0)
    assert classes.iloc[kept].value_counts().to_dict() == {"a": 10, "b": 5}
    assert len(set(kept)) == len(kept)


def test_undersample_gives_a_class_its_own_cap():
    classes = pd.Series(["a"] * 50 + ["b"] * 40 + ["c"] * 5)
    positions = np.arange(0, 95)
    kept = undersample(positions, classes, max_rows=10, seed=0, caps={"b": 30})
    assert classes.iloc[kept].value_counts().to_dict() == {"b": 30, "a": 10, "c": 5}
    # without a cap for the others, only the capped class loses rows
    only_b = undersample(positions, classes, max_rows=None, seed=0, caps={"b": 30})
    assert classes.iloc[only_b].value_counts().to_dict() == {"a": 50, "b": 30, "c": 5}


@pytest.fixture
def flows():
    labels = (["BENIGN"] * 300 + ["DoS Hulk"] * 60 + ["Heartbleed"] * 3
              + ["Web Attack - XSS"] * 20 + ["Web Attack - Sql Injection"] * 10)
    frame = flow_frame(labels, seed=7)
    frame.loc[0, "flow_duration"] = -1
    return frame


def test_build_splits_caps_classes_in_training_only(flows):
    capped = build_splits(flows, LabelGrouping.LABELS, 0.1, 0.2, 50, seed=1)
    full = build_splits(flows, LabelGrouping.LABELS, 0.1, 0.2, None, seed=1)
    train_counts = capped["train"][LABEL_COLUMN].value_counts()
    assert train_counts["BENIGN"] == 50
    assert train_counts["DoS Hulk"] == 42  # 60 - 6 validation - 12 test, below the cap
    assert full["train"][LABEL_COLUMN].value_counts()["BENIGN"] == 210
    for name in ("validation", "test"):
        pd.testing.assert_frame_equal(capped[name], full[name])


def test_build_splits_gives_benign_its_own_cap(flows):
    splits = build_splits(flows, LabelGrouping.LABELS, 0.1, 0.2, 20, seed=1, max_benign_rows=100)
    train_counts = splits["train"][LABEL_COLUMN].value_counts()
    assert train_counts["BENIGN"] == 100
    assert train_counts["DoS Hulk"] == 20
    assert train_counts["Web Attack - XSS"] == 14   # below both caps
    families = build_splits(flows, LabelGrouping.FAMILIES, 0.1, 0.2, 20, seed=1,
                            max_benign_rows=100)   # BENIGN is a family of its own
    assert families["train"][LABEL_COLUMN].value_counts()["BENIGN"] == 100


def test_build_splits_returns_cleaned_features_and_the_class(flows):
    splits = build_splits(flows, LabelGrouping.LABELS, 0.1, 0.2, None, seed=1)
    assert sum(len(s) for s in splits.values()) == len(flows)
    for split in splits.values():
        assert list(split.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
        assert (split[list(FEATURE_COLUMNS)].dtypes == np.float32).all()
    all_rows = pd.concat(splits.values())
    assert all_rows["flow_duration"].isna().sum() == 1  # the -1 glitch became missing


def test_build_splits_groups_families(flows):
    splits = build_splits(flows, LabelGrouping.FAMILIES, 0.1, 0.2, None, seed=1)
    test_counts = splits["test"][LABEL_COLUMN].value_counts().to_dict()
    assert set(test_counts) == {"BENIGN", "DoS", "Web Attack"}
    assert set(test_counts) <= set(LABEL_FAMILIES.values())
    assert test_counts["Web Attack"] == 6  # 30 web-attack rows, 20% test


def test_saved_splits_load_back_and_a_second_run_reuses_them(flows, tmp_path):
    features = FeatureConfig(max_rows_per_class=None, seed=1)
    built, folder = load_or_build_splits(flows, "fingerprint", tmp_path, features, None)
    assert folder.parent == tmp_path and (folder / "_COMPLETE").exists()
    for name in SPLITS:
        pd.testing.assert_frame_equal(load_splits(folder)[name], built[name])
    # the same inputs and settings: read back, not split again (the frame is not even read)
    again, same_folder = load_or_build_splits(flows.iloc[:0], "fingerprint", tmp_path,
                                              features, None)
    assert same_folder == folder and len(again["train"]) == len(built["train"])


def test_splits_folder_changes_with_inputs_settings_and_days(tmp_path):
    features = FeatureConfig()
    folder = splits_folder(tmp_path, "abc", features, None)
    assert folder == splits_folder(tmp_path, "abc", FeatureConfig(), None)
    assert folder != splits_folder(tmp_path, "abd", features, None)
    assert folder != splits_folder(tmp_path, "abc", FeatureConfig(seed=1), None)
    assert folder != splits_folder(tmp_path, "abc", features, ["Monday"])


def test_an_incomplete_set_of_splits_is_not_loaded(flows, tmp_path):
    built = build_splits(flows, LabelGrouping.LABELS, 0.1, 0.2, None, seed=1)
    save_splits(built, tmp_path)
    (tmp_path / "_COMPLETE").unlink()   # as if the run stopped before the marker
    assert load_splits(tmp_path) is None


def test_a_truncated_saved_split_is_reported_removed_and_built_again(flows, tmp_path, caplog):
    features = FeatureConfig(max_rows_per_class=None, seed=1)
    built, folder = load_or_build_splits(flows, "fingerprint", tmp_path, features, None)
    test_file = folder / "test.parquet"
    test_file.write_bytes(test_file.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="nids.training.splits"):
        again, _ = load_or_build_splits(flows, "fingerprint", tmp_path, features, None)
    assert any(m.startswith(f"{test_file}: the saved split cannot be read")
               for m in caplog.messages)
    pd.testing.assert_frame_equal(again["test"], built["test"])
    pd.testing.assert_frame_equal(load_splits(folder)["test"], built["test"])   # saved again
