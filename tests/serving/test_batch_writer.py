"""Scored flows into hourly (here: 60 s) Parquet batches that the monitoring flow loads,
never visible half-written, recovered after a crash, kept when a write fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nids.data.batches import load_batch, pending_batches
from nids.data.schema import FEATURE_COLUMNS
from nids.serving.batch_writer import SCORED_AT, BatchWriter, ScoredFlows, batch_stem

BUCKET = 60
START = 1_800_000_000  # a bucket boundary (divisible by 60): 2027-01-15T08:00:00Z


class Clock:
    """The writer's time source, set by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def features(rows: int, offset: float = 0.0) -> np.ndarray:
    return np.arange(rows * len(FEATURE_COLUMNS), dtype=np.float32).reshape(rows, -1) + offset


def scored(rows: int, offset: float = 0.0, version: str = "3") -> ScoredFlows:
    return ScoredFlows(features(rows, offset), np.array(["BENIGN", "DDoS"] * rows)[:rows],
                       np.full(rows, 0.9), version)


@pytest.fixture
def clock() -> Clock:
    return Clock(START + 5)


@pytest.fixture
def writer(tmp_path: Path, clock: Clock) -> BatchWriter:
    return BatchWriter(tmp_path / "incoming", BUCKET, flush_rows=1_000, clock=clock)


def test_a_bucket_becomes_one_batch_only_after_it_ends(writer, clock):
    writer.append(scored(10))
    clock.now += 10
    writer.append(scored(5, offset=0.5))
    assert writer.flush() == []
    assert pending_batches(writer.folder) == []  # spooled parts are hidden from monitoring
    assert len(list(writer.spool.rglob("part-*.parquet"))) == 1

    clock.now = START + BUCKET
    [batch] = writer.flush()
    assert batch.name == f"{batch_stem(START)}.parquet" == "flows-20270115T080000Z.parquet"
    assert pending_batches(writer.folder) == [batch]
    assert not writer.spool.exists() or not any(writer.spool.iterdir())
    np.testing.assert_array_equal(load_batch(batch).to_numpy(),
                                  np.concatenate([features(10), features(5, offset=0.5)]))
    saved = pd.read_parquet(batch)
    assert saved["prediction"].tolist() == ["BENIGN", "DDoS"] * 7 + ["BENIGN"]
    assert (saved["probability"] == np.float32(0.9)).all()
    assert saved[SCORED_AT].tolist() == [pd.Timestamp(START + 5, unit="s", tz="UTC")] * 10 + [
        pd.Timestamp(START + 15, unit="s", tz="UTC")] * 5


def test_flows_of_two_buckets_go_to_two_batches(writer, clock):
    writer.append(scored(3, version="3"))
    clock.now = START + BUCKET + 1
    writer.append(scored(4, version="4"))
    [first] = writer.flush()
    assert pd.read_parquet(first)["model_version"].tolist() == ["3"] * 3
    [second] = writer.close()
    assert second.name == f"{batch_stem(START + BUCKET)}.parquet"
    assert pd.read_parquet(second)["model_version"].tolist() == ["4"] * 4


def test_append_asks_for_a_flush_once_enough_rows_are_buffered(writer):
    assert writer.append(scored(999)) is False
    assert writer.append(scored(1)) is True
    writer.flush()
    assert writer.buffered_rows == 0


def test_closing_writes_the_open_bucket_and_a_restart_adds_a_second_file(tmp_path, clock):
    first = BatchWriter(tmp_path, BUCKET, 1_000, clock=clock)
    first.append(scored(2))
    [closed] = first.close()
    again = BatchWriter(tmp_path, BUCKET, 1_000, clock=clock)  # restarted in the same bucket
    again.append(scored(3))
    [reopened] = again.close()
    assert closed.name == f"{batch_stem(START)}.parquet"
    assert reopened.name == f"{batch_stem(START)}-1.parquet"
    assert (len(load_batch(closed)), len(load_batch(reopened))) == (2, 3)


def test_spooled_flows_of_a_crashed_writer_are_written_by_the_next_one(tmp_path, clock):
    crashed = BatchWriter(tmp_path, BUCKET, 1_000, clock=clock)
    crashed.append(scored(7))
    crashed.flush()  # spooled, then the process dies without close()
    clock.now = START + 2 * BUCKET
    [recovered] = BatchWriter(tmp_path, BUCKET, 1_000, clock=clock).flush()
    assert len(load_batch(recovered)) == 7


def test_a_failed_write_keeps_the_flows_for_the_next_flush(tmp_path, clock):
    blocked = tmp_path / "incoming"
    blocked.write_text("a file where the folder should be")
    writer = BatchWriter(blocked, BUCKET, 1_000, clock=clock)
    writer.append(scored(6))
    with pytest.raises(OSError):
        writer.flush()
    assert writer.buffered_rows == 6
    blocked.unlink()
    [batch] = writer.close()
    assert len(load_batch(batch)) == 6
