"""Request bodies to flow frames: a CSV through the project's loader, or JSON flows by name.

Both give the canonical feature columns of `nids.data.schema.FEATURE_COLUMNS` as float32,
values as the sensor sent them (cleaning happens when scoring). Problems raise ValueError with
a message naming the flow, the column and what is wrong; `orjson.JSONDecodeError` (also a
ValueError) means the body is not JSON at all.
"""

from __future__ import annotations

from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd

from nids.data.ingest import read_flow_csv
from nids.data.schema import FEATURE_COLUMNS, canonical_name

BODY_NAME = "request body"
CSV_MEDIA_TYPES = ("text/csv", "application/csv")
JSON_MEDIA_TYPES = ("application/json",)
SUPPORTED = " or ".join((*JSON_MEDIA_TYPES, *CSV_MEDIA_TYPES))


def flow_format(content_type: str | None) -> str | None:
    """'csv' or 'json' for a Content-Type header, None when neither."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in CSV_MEDIA_TYPES:
        return "csv"
    if media_type in JSON_MEDIA_TYPES or media_type.endswith("+json"):
        return "json"
    return None


def read_csv_flows(body: bytes) -> pd.DataFrame:
    """A CSV body in any format the project's loader reads (CICIDS2017 columns today)."""
    frame = read_flow_csv(body, BODY_NAME, require_label=False)
    return frame[list(FEATURE_COLUMNS)]


def read_json_flows(body: bytes) -> pd.DataFrame:
    """One flow (a JSON object) or flows (a list of objects) keyed by feature name.

    Keys are the canonical snake_case names (`flow_duration`) or CICIDS2017 header names
    (`Flow Duration`); other keys (identifiers, a label) are ignored.
    """
    parsed = orjson.loads(body)
    records = [parsed] if isinstance(parsed, dict) else parsed
    if not isinstance(records, list):
        raise ValueError(f"{BODY_NAME}: expected a JSON object (one flow) or a list of objects "
                         f"(flows), not a {type(parsed).__name__}.")
    if not records:
        raise ValueError(f"{BODY_NAME}: the list holds no flows.")
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f"{BODY_NAME}: flow {position} is a {type(record).__name__}; each "
                             "flow is an object of feature names to numbers.")
    keys = feature_keys(records[0], 0)
    return pd.DataFrame(_values(records, keys), columns=list(FEATURE_COLUMNS))


def feature_keys(record: dict[str, Any], position: int) -> list[str]:
    """The record's key of each feature column, in FEATURE_COLUMNS order."""
    return list(_keys_of(tuple(record), position))


@lru_cache(maxsize=64)  # a sensor sends the same keys every time; canonicalizing them is not free
def _keys_of(keys: tuple[Any, ...], position: int) -> tuple[str, ...]:
    by_name: dict[str, str] = {}
    for key in keys:
        name = canonical_name(str(key))
        if name in by_name:
            raise ValueError(f"{BODY_NAME}: flow {position} names feature {name!r} twice "
                             f"({by_name[name]!r} and {key!r}); keep one.")
        by_name[name] = key
    missing = [column for column in FEATURE_COLUMNS if column not in by_name]
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise ValueError(f"{BODY_NAME}: flow {position} lacks {len(missing)} of the "
                         f"{len(FEATURE_COLUMNS)} feature(s): {shown}. Send every CICIDS2017 "
                         "feature (null where unknown).")
    return tuple(by_name[column] for column in FEATURE_COLUMNS)


def _values(records: list[dict[str, Any]], keys: list[str]) -> np.ndarray:
    """The feature matrix; on a missing key or a non-number, the first culprit is named."""
    row = itemgetter(*keys)
    try:
        with np.errstate(over="ignore"):  # beyond float32: infinite, cleaned when scored
            return np.array([row(record) for record in records], dtype=np.float32)
    except (KeyError, ValueError, TypeError, OverflowError):
        raise ValueError(_first_problem(records, keys)) from None


def _first_problem(records: list[dict[str, Any]], keys: list[str]) -> str:
    for position, record in enumerate(records):
        if any(key not in record for key in keys):
            feature_keys(record, position)  # raises when features are missing
            return (f"{BODY_NAME}: flow {position} spells its feature names differently from "
                    "flow 0; use the same keys in every flow.")
        for column, key in zip(FEATURE_COLUMNS, keys, strict=True):
            if not _is_number(record[key]):
                return (f"{BODY_NAME}: flow {position}, feature {column!r}: {record[key]!r} is "
                        "not a number. Features are numbers, null, or \"Infinity\"/\"NaN\".")
    return f"{BODY_NAME}: the flows do not form a table of numbers."


def _is_number(value: Any) -> bool:
    """What numpy turns into a float32: numbers, null, and strings such as "1e3" or "NaN"."""
    if value is None:
        return True
    if not isinstance(value, (int, float, str)):
        return False
    try:
        float(value)
    except (ValueError, OverflowError):
        return False
    return True
