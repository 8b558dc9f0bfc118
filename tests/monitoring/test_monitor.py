"""The frames the drift report compares: a scored batch and the champion's reference sample."""

import re

import numpy as np
import pandas as pd
import pytest

from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, LABELS
from nids.monitoring import frames

# in canonical order: destination_port < flow_duration < flow_bytes_s < init_win_bytes_forward
FEATURES = ["destination_port", "flow_duration", "flow_bytes_s", "init_win_bytes_forward"]


@pytest.fixture
def batch():
    """Two loaded flows with the quirks the cleaning policy handles, on a non-default index."""
    return pd.DataFrame(
        {
            "destination_port": [80.0, 443.0],
            "flow_duration": [-1.0, 12.0],             # glitch -> NaN
            "flow_bytes_s": [np.inf, 5.0],             # zero-duration rate -> NaN
            "init_win_bytes_forward": [-1.0, 8192.0],  # -1 means "no window seen": kept
            "flow_iat_min": [1.0, 2.0],                # not a model feature
            LABEL_COLUMN: pd.Categorical(["BENIGN", "DDoS"], categories=list(LABELS)),
        },
        index=[10, 11],
    )


def test_current_frame_is_cleaned_features_prediction_and_label(batch):
    frame = frames.current_frame(batch, np.array(["BENIGN", "PortScan"]), FEATURES)
    assert list(frame.columns) == [*FEATURES, "prediction", LABEL_COLUMN]
    assert (frame[FEATURES].dtypes == np.float32).all()
    np.testing.assert_array_equal(frame["flow_duration"], [np.nan, 12])
    np.testing.assert_array_equal(frame["flow_bytes_s"], [np.nan, 5])
    np.testing.assert_array_equal(frame["init_win_bytes_forward"], [-1, 8192])
    assert frame["prediction"].tolist() == ["BENIGN", "PortScan"]
    assert frame[LABEL_COLUMN].tolist() == ["BENIGN", "DDoS"]
    assert not isinstance(frame[LABEL_COLUMN].dtype, pd.CategoricalDtype)


def test_current_frame_of_unlabelled_traffic_has_no_label(batch):
    frame = frames.current_frame(batch.drop(columns=LABEL_COLUMN), np.array(["DDoS"] * 2),
                                  FEATURES)
    assert list(frame.columns) == [*FEATURES, "prediction"]


@pytest.fixture
def reference(batch):
    """A logged reference sample: features, prediction and label, plus a column to drop."""
    return batch.assign(
        prediction=pd.Categorical(["BENIGN", "DDoS"]), source_file="Monday.csv",
        label=["BENIGN", "DDoS"],
    ).reset_index(drop=True)


def test_reference_frame_restricted_to_features_prediction_and_label(reference):
    before = reference.copy()
    frame = frames.reference_frame(reference, FEATURES)
    assert list(frame.columns) == [*FEATURES, "prediction", LABEL_COLUMN]
    np.testing.assert_array_equal(frame["flow_duration"], [np.nan, 12])
    np.testing.assert_array_equal(frame["flow_bytes_s"], [np.nan, 5])
    np.testing.assert_array_equal(frame["init_win_bytes_forward"], [-1, 8192])
    assert frame["prediction"].tolist() == ["BENIGN", "DDoS"]
    assert not isinstance(frame["prediction"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(reference, before)


@pytest.mark.parametrize(
    "dropped",
    [["flow_bytes_s"], ["prediction"], [LABEL_COLUMN], ["destination_port", "prediction"]],
)
def test_reference_frame_names_the_missing_columns(reference, dropped):
    with pytest.raises(ValueError, match=re.escape(f"lacks columns {dropped}")):
        frames.reference_frame(reference.drop(columns=dropped), FEATURES)


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (list(reversed(FEATURES)), FEATURES),
        (["idle_min", "destination_port"], ["destination_port", "idle_min"]),
        (["flow_bytes_s", "flow_bytes_s"], ["flow_bytes_s"]),
        (list(FEATURE_COLUMNS[::-1]), list(FEATURE_COLUMNS)),
        ([], []),
    ],
)
def test_drift_features_follow_the_canonical_column_order(features, expected):
    assert frames.drift_features(features) == expected
