"""Cleaning policy and feature selection."""

import numpy as np
import pandas as pd
import pytest

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
