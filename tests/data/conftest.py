"""Fixtures of the data tests: a corpus folder, data settings reading it, and labelled batches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from nids.config import CorpusConfig, DataConfig

ARRIVED = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return tmp_path / "corpus"


@pytest.fixture
def corpus_data_config(tmp_path: Path, corpus_dir: Path) -> DataConfig:
    """Real data from tmp_path/raw plus the corpus in `corpus_dir`, no window, no cap."""
    return DataConfig(raw_dir=str(tmp_path / "raw"), interim_dir=str(tmp_path / "interim"),
                      corpus=CorpusConfig(dir=str(corpus_dir), window_days=None,
                                          max_rows_per_class=None))
