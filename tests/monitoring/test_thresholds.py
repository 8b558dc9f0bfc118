"""Threshold chunks: statistics computed once per row equal each chunk's own statistics, and
the chunks are bounded and spread over the held-out rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nids.data.schema import LABEL_COLUMN
from nids.monitoring.health import batch_statistics
from nids.monitoring.thresholds import (
    chunk_positions,
    chunk_starts,
    chunked_statistics,
    held_out_chunks,
    rows_of,
)
from nids.tracking.registry import predict_probabilities
from nids.training.features import clean_features
from tests.support.builders import class_flows as flows


def test_chunk_statistics_equal_each_chunks_batch_statistics(health_champion):
    models = health_champion.health_models
    features = clean_features(flows(1_900, 5, ("BENIGN", "DDoS"), (0.7, 0.3)), models.features)
    probabilities = predict_probabilities(health_champion.bundle, features)
    positions = chunk_positions(len(features), 600)
    table = chunked_statistics(features.iloc[positions], probabilities[positions], models, 600,
                               0.9)
    assert len(table) == 3   # the last 100 rows make no whole chunk
    for chunk, start in enumerate((0, 600, 1_200)):
        rows = slice(start, start + 600)
        expected = batch_statistics(models, features.iloc[rows], probabilities[rows], 0.9)
        assert table.iloc[chunk].to_dict() == pytest.approx(expected.values(models.classes))


def test_chunks_are_bounded_and_spread_over_the_rows():
    assert list(chunk_starts(5_000, 1_000, max_chunks=10)) == [0, 1_000, 2_000, 3_000, 4_000]
    starts = chunk_starts(1_000_000, 2_000, max_chunks=200)
    assert len(starts) == 200 and starts[0] == 0 and starts[-1] == 998_000
    assert (np.diff(starts) >= 2_000).all()   # consecutive chunks never overlap
    assert pd.Series(np.diff(starts)).between(4_000, 6_000).all()   # evenly spread


def test_chunk_rows_are_taken_from_the_splits_as_from_their_concatenation():
    first = flows(700, 1, ("BENIGN", "DDoS"), (0.7, 0.3))
    second = flows(900, 2, ("BENIGN", "PortScan"), (0.5, 0.5))
    positions = chunk_positions(1_600, 300)
    assert {600, 699, 700, 899} <= set(positions)   # the chunk of rows 600-899 straddles both
    taken = rows_of([first, second], positions)
    expected = pd.concat([first, second], ignore_index=True).iloc[positions].drop(
        columns=[LABEL_COLUMN]).reset_index(drop=True)
    pd.testing.assert_frame_equal(taken, expected)
    assert len(taken) == 1_500 and LABEL_COLUMN not in taken.columns


def test_chunk_probabilities_of_test_rows_come_from_the_evaluation(health_champion):
    """The model scores the chunks' validation rows; those of the test split are the
    evaluation's probabilities of the same rows (here the model's own plus 1, so that
    taking them and scoring the rows again differ)."""
    bundle = health_champion.bundle
    splits = {"validation": flows(700, 1), "test": flows(900, 2)}
    evaluated = predict_probabilities(bundle, splits["test"]) + 1.0
    chunks = held_out_chunks(splits, bundle, evaluated)
    positions = chunk_positions(1_600, chunks.size)
    in_validation = positions < 700
    assert in_validation.any() and not in_validation.all()
    assert len(chunks.rows) == len(chunks.probabilities) == len(positions)
    np.testing.assert_array_equal(
        chunks.probabilities[in_validation],
        predict_probabilities(bundle, splits["validation"].iloc[positions[in_validation]]))
    np.testing.assert_array_equal(chunks.probabilities[~in_validation],
                                  evaluated[positions[~in_validation] - 700])
