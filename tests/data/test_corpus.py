"""The corpus of labelled traffic: one atomic partition per batch, named by arrival and batch;
training reads raw_dir plus the partitions within the window, capped per class, and its
fingerprint changes with every partition read."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from nids.config import CorpusConfig
from nids.data import corpus, sources
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN
from tests.data.conftest import ARRIVED
from tests.support.builders import flow_frame, ml_csv


def test_a_labelled_batch_becomes_one_partition_named_by_arrival_and_batch(corpus_dir):
    batch = flow_frame(["BENIGN", "DDoS", "DDoS"])
    partition = corpus.append_batch(batch, "traffic 07.csv", ARRIVED, corpus_dir)
    assert partition.name == "20261129T180000Z--traffic_07.parquet"
    assert (partition.batch, partition.arrived_at) == ("traffic_07", ARRIVED)
    stored = pd.read_parquet(partition.path)
    assert stored[LABEL_COLUMN].tolist() == ["BENIGN", "DDoS", "DDoS"]
    assert stored[corpus.FLOW_KEY_COLUMN].tolist() == [f"traffic 07.csv#{r}" for r in range(3)]
    assert (stored[list(FEATURE_COLUMNS)].to_numpy()
            == batch[list(FEATURE_COLUMNS)].to_numpy()).all()
    assert [p.name for p in corpus_dir.iterdir()] == [partition.name]  # no temporary file left


def test_a_partition_dictionary_encodes_only_its_text_columns(corpus_dir):
    partition = corpus.append_batch(flow_frame(["BENIGN", "DDoS"]), "b.csv", ARRIVED, corpus_dir)
    metadata = pq.ParquetFile(partition.path).metadata
    columns = [metadata.row_group(0).column(i) for i in range(metadata.num_columns)]
    encoded = {column.path_in_schema for column in columns
               if any("DICTIONARY" in encoding for encoding in column.encodings)}
    assert encoded == {LABEL_COLUMN, corpus.FLOW_KEY_COLUMN}


def test_a_batch_is_added_once(corpus_dir):
    first = corpus.append_batch(flow_frame(["DDoS"]), "b.csv", ARRIVED, corpus_dir)
    written = first.path.stat().st_mtime_ns
    again = corpus.append_batch(flow_frame(["BENIGN"], seed=1), "b.csv", ARRIVED, corpus_dir)
    assert again == first and first.path.stat().st_mtime_ns == written
    assert corpus.list_partitions(corpus_dir) == [first]


@pytest.mark.parametrize(("labels", "fragment"), [
    (None, "has no label column"),
    (["DDoS", None], "1 row(s) have no label"),
], ids=["no-label-column", "a-row-without-label"])
def test_unlabelled_rows_never_join_the_corpus(corpus_dir, labels, fragment):
    batch = flow_frame(["DDoS", "DDoS"])
    batch = batch.drop(columns=[LABEL_COLUMN]) if labels is None else batch.assign(label=labels)
    with pytest.raises(ValueError, match=re.escape(fragment)) as error:
        corpus.append_batch(batch, "x.csv", ARRIVED, corpus_dir)
    assert "x.csv" in str(error.value)
    assert not corpus_dir.exists() or not any(corpus_dir.iterdir())


def hourly(corpus_dir: Path, hours: int) -> list[corpus.Partition]:
    return [corpus.append_batch(flow_frame(["BENIGN"], seed=h), f"h{h}.csv",
                                ARRIVED + timedelta(hours=h), corpus_dir) for h in range(hours)]


@pytest.mark.parametrize(("window", "expected"), [
    (CorpusConfig(window_days=None, window_partitions=None), [0, 1, 2, 3, 4]),
    (CorpusConfig(window_days=2 / 24, window_partitions=None), [3, 4]),
    (CorpusConfig(window_days=None, window_partitions=3), [2, 3, 4]),
    (CorpusConfig(use=False), []),
], ids=["all", "two-hours", "newest-three", "not-used"])
def test_training_reads_the_partitions_within_the_window(corpus_dir, window, expected):
    written = hourly(corpus_dir, 5)
    now = ARRIVED + timedelta(hours=5)
    chosen = corpus.select_partitions(corpus.list_partitions(corpus_dir), window, now)
    assert chosen == [written[h] for h in expected]


def test_the_cap_keeps_the_newest_rows_of_each_class(corpus_dir):
    old = corpus.append_batch(flow_frame(["BENIGN"] * 3 + ["DDoS"]), "old.csv", ARRIVED,
                              corpus_dir)
    new = corpus.append_batch(flow_frame(["BENIGN"] * 2), "new.csv",
                              ARRIVED + timedelta(hours=1), corpus_dir)
    rows = corpus.read_corpus([old, new], max_rows_per_class=2)
    assert rows.groupby(LABEL_COLUMN, observed=True)["source_file"].apply(list).to_dict() == {
        "BENIGN": [new.name, new.name], "DDoS": [old.name]}


def test_training_data_are_raw_rows_plus_the_corpus(corpus_data_config, corpus_dir):
    raw = Path(corpus_data_config.raw_dir)
    raw.mkdir()
    (raw / "Monday-WorkingHours.pcap_ISCX.csv").write_bytes(ml_csv(["BENIGN"] * 4))
    alone = sources.load_training_data(corpus_data_config)
    assert alone.corpus_partitions == [] and sources.training_fingerprint(
        corpus_data_config) == alone.fingerprint
    partition = corpus.append_batch(flow_frame(["DDoS", "BENIGN"]), "b.csv", ARRIVED, corpus_dir)
    both = sources.load_training_data(corpus_data_config)
    assert both.corpus_partitions == [partition.name]
    counts = both.frame[LABEL_COLUMN].value_counts()
    assert counts[counts > 0].to_dict() == {"BENIGN": 5, "DDoS": 1}
    assert both.frame["day"].tolist()[-2:] == ["Sunday", "Sunday"]   # 2026-11-29
    assert both.fingerprint != alone.fingerprint
    assert sources.training_fingerprint(corpus_data_config) == both.fingerprint
