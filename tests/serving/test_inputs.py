"""Request bodies to flow frames: CSV through the project's loader, JSON flows by name."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from nids.data.schema import FEATURE_COLUMNS
from nids.serving import inputs
from tests.support.serving import csv_head


@pytest.mark.parametrize(("content_type", "expected"), [
    ("text/csv", "csv"), ("text/csv; charset=utf-8", "csv"), ("application/csv", "csv"),
    ("application/json", "json"), ("Application/JSON; charset=utf-8", "json"),
    ("application/vnd.flows+json", "json"), ("text/plain", None), (None, None), ("", None),
])
def test_flow_format_follows_the_content_type(content_type, expected):
    assert inputs.flow_format(content_type) == expected


def test_a_real_csv_body_gives_the_feature_columns_without_the_label(sample_csv, real_flows):
    frame = inputs.read_csv_flows(csv_head(sample_csv, 50))
    assert list(frame.columns) == list(FEATURE_COLUMNS)
    np.testing.assert_array_equal(frame.to_numpy(),
                                  real_flows[list(FEATURE_COLUMNS)].head(50).to_numpy())


def _flow(offset: float = 0.0) -> dict:
    return {name: float(i) + offset for i, name in enumerate(FEATURE_COLUMNS)}


def test_json_flows_keep_the_feature_order_whatever_the_key_order():
    shuffled = dict(reversed(list(_flow(0.5).items())))
    frame = inputs.read_json_flows(orjson.dumps([_flow(), shuffled | {"label": "x"}]))
    assert list(frame.columns) == list(FEATURE_COLUMNS)
    expected = np.arange(len(FEATURE_COLUMNS), dtype=np.float32)
    np.testing.assert_array_equal(frame.to_numpy(), [expected, expected + 0.5])
    assert frame.dtypes.unique().tolist() == [np.float32]


def test_one_object_is_one_flow():
    assert len(inputs.read_json_flows(orjson.dumps(_flow()))) == 1


def test_null_and_the_special_strings_become_missing_and_infinite():
    flow = _flow() | {"flow_bytes_s": "Infinity", "flow_packets_s": None, "flow_iat_std": "NaN",
                      "flow_iat_max": "-Infinity", "flow_iat_mean": "1e3"}
    row = inputs.read_json_flows(orjson.dumps(flow)).iloc[0]
    assert row["flow_bytes_s"] == math.inf and row["flow_iat_max"] == -math.inf
    assert math.isnan(row["flow_packets_s"]) and math.isnan(row["flow_iat_std"])
    assert row["flow_iat_mean"] == 1000


def test_a_flow_with_other_spellings_than_the_first_is_named():
    renamed = {name.replace("_", " ").title(): value for name, value in _flow().items()}
    with pytest.raises(ValueError, match="flow 1 spells its feature names differently"):
        inputs.read_json_flows(orjson.dumps([_flow(), renamed]))


def test_numbers_beyond_float32_become_infinite_and_beyond_double_are_not_json():
    row = inputs.read_json_flows(orjson.dumps(_flow() | {"flow_duration": 1e300})).iloc[0]
    assert row["flow_duration"] == math.inf  # cleaned to missing when scored, like Infinity
    too_large = orjson.dumps(_flow()).replace(b'"flow_duration":1.0', b'"flow_duration":1e999')
    with pytest.raises(orjson.JSONDecodeError, match="infinity"):
        inputs.read_json_flows(too_large)
