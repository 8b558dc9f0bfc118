"""Quality table and the problems that make data unfit to train on."""

import numpy as np
import pandas as pd
import pytest

from nids.data.schema import FEATURE_COLUMNS
from nids.data.validate import quality_table, raise_on_problems, validate_frame
from tests.support.builders import flow_frame

LIMITS = {"max_missing_share": 0.5, "max_infinite_share": 0.2}


@pytest.fixture
def four_rows():
    frame = flow_frame(["BENIGN", "BENIGN", "DDoS", "PortScan"])
    frame["flow_bytes_s"] = np.array([np.inf, np.nan, 1, -2], dtype=np.float32)
    frame["init_win_bytes_forward"] = np.array([-1, -1, 8192, 8192], dtype=np.float32)
    frame["flow_iat_min"] = np.array([np.nan, np.nan, np.nan, -np.inf], dtype=np.float32)
    return frame


def test_quality_table_shares(four_rows):
    table = quality_table(four_rows)
    assert list(table.index) == list(FEATURE_COLUMNS)
    assert table.loc["flow_bytes_s"].to_dict() == {
        "missing_share": 0.25, "infinite_share": 0.25, "negative_share": 0.25}
    assert table.loc["init_win_bytes_forward"].to_dict() == {
        "missing_share": 0.0, "infinite_share": 0.0, "negative_share": 0.5}
    assert table.loc["flow_iat_min", "missing_share"] == 0.75
    assert table.loc["flow_iat_min", "infinite_share"] == 0.25
    clean = table.drop(["flow_bytes_s", "init_win_bytes_forward", "flow_iat_min"])
    assert (clean.to_numpy() == 0).all()


def test_clean_frame_is_ok_with_its_label_counts():
    frame = flow_frame(["BENIGN"] * 3 + ["Bot"])
    frame["label"] = pd.Categorical(frame["label"], categories=["BENIGN", "Bot", "DDoS"])
    result = validate_frame(frame, **LIMITS)
    assert result.ok
    assert result.rows == 4
    assert result.duplicate_rows == 0
    assert result.label_counts.to_dict() == {"BENIGN": 3, "Bot": 1}  # absent DDoS left out
    raise_on_problems(result)


def test_mostly_missing_column_is_a_problem_naming_the_file_and_column():
    good = flow_frame(["BENIGN"] * 2, source_file="Monday-good.csv")
    bad = flow_frame(["BENIGN"] * 6, seed=1, source_file="Tuesday-bad.csv")
    bad["flow_iat_std"] = np.nan
    result = validate_frame(pd.concat([good, bad], ignore_index=True), **LIMITS)
    assert not result.ok
    [problem] = result.problems
    assert problem.startswith("Tuesday-bad.csv: column 'flow_iat_std' has 100% missing values")
    assert "validation.max_missing_share" in problem
    with pytest.raises(ValueError, match="Tuesday-bad.csv: column 'flow_iat_std'"):
        raise_on_problems(result)


def test_infinite_column_is_a_problem():
    frame = flow_frame(["DDoS"] * 4, source_file="Friday.csv")
    frame["flow_packets_s"] = np.array([np.inf, np.inf, 1, 2], dtype=np.float32)
    [problem] = validate_frame(frame, **LIMITS).problems
    assert problem.startswith("Friday.csv: column 'flow_packets_s' has 50% infinite values")


def test_shares_at_the_limit_pass():
    frame = flow_frame(["BENIGN"] * 4)
    frame["flow_iat_std"] = np.array([np.nan, np.nan, 1, 2], dtype=np.float32)
    assert validate_frame(frame, **LIMITS).ok


def test_duplicate_rows_are_counted_and_kept():
    frame = flow_frame(["BENIGN", "DDoS"])
    frame = pd.concat([frame, frame.iloc[[0, 0]]], ignore_index=True)
    result = validate_frame(frame, **LIMITS)
    assert result.duplicate_rows == 2
    assert result.rows == 4
    assert result.ok


def test_duplicates_uncounted_when_not_asked_for_but_problems_still_found():
    frame = flow_frame(["DDoS"] * 4, source_file="batch.csv")
    frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    frame["flow_packets_s"] = np.array([np.inf, np.inf, np.inf, 1, np.inf], dtype=np.float32)
    result = validate_frame(frame, **LIMITS, duplicates=False)
    assert result.duplicate_rows is None
    [problem] = result.problems
    assert problem.startswith("batch.csv: column 'flow_packets_s' has 80% infinite values")


def test_empty_frame_is_refused():
    result = validate_frame(flow_frame([]), **LIMITS)
    assert result.problems == ["The input holds no data rows."]
    with pytest.raises(ValueError, match="no data rows"):
        raise_on_problems(result)


def test_rows_alike_in_the_key_columns_only_are_not_duplicates():
    frame = flow_frame(["BENIGN"] * 3)
    frame.iloc[1, :8] = frame.iloc[0, :8]            # same port, duration, packet counts
    frame.iloc[2] = frame.iloc[0]                     # the same flow again
    frame["flow_iat_std"] = np.array([np.nan, 1, np.nan], dtype=np.float32)  # NaN equals NaN
    result = validate_frame(frame, **LIMITS)
    assert result.duplicate_rows == 1
