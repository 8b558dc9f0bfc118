"""Fixtures of the training tests: learnable frames of several days, and a test's own SQLite
store for the training flow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from tests.support.builders import days_frame


def learnable_days(labels_by_day: dict[str, Sequence[str]], seed: int = 0) -> pd.DataFrame:
    """`days_frame` rows whose first feature tells the classes apart (class i near 1000 i)."""
    frame = days_frame(labels_by_day, seed)
    codes = pd.factorize(frame[LABEL_COLUMN].astype(str), sort=True)[0]
    first = FEATURE_COLUMNS[0]
    frame[first] = (frame[first] + 1000.0 * codes).astype(np.float32)
    return frame


@pytest.fixture(scope="session")
def learnable_days_frame() -> Callable[..., pd.DataFrame]:
    """Builds a learnable frame of several days: `(labels_by_day, seed)`."""
    return learnable_days


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path, with the test's own SQLite MLflow store in it (mlflow.db)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path
