"""Where training data comes from: the files in data/raw, or generated ones when the config
asks for them (`data.source: generated`), of some days.

A run that asks for real data and finds none fails, naming the folder and what is in it: a
missing volume mount must not turn into a model of generated data. Files the generator wrote
(found beside its completion marker, e.g. through the tour's symlinks) count as generated
wherever they are read from, so runs and versions are tagged with what the rows really are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from nids.config import DataConfig, DataSource, project_path
from nids.data import corpus
from nids.data.archives import RawFolder, scan_folder
from nids.data.corpus import Partition
from nids.data.generate import generate_dataset, written_by_generator
from nids.data.ingest import LoadedData, fingerprint_of, load_inputs
from nids.data.official import day_names, day_of
from nids.io import release_arrow_memory

logger = logging.getLogger(__name__)


@dataclass
class InputSelection:
    paths: list[Path]
    generated: bool   # True when the rows come from the generator
    skipped: list[str] = field(default_factory=list)   # entries of raw_dir that are not read

    @property
    def data_source(self) -> DataSource:
        return DataSource.GENERATED if self.generated else DataSource.REAL


def no_real_data(raw_dir: str, folder: RawFolder) -> FileNotFoundError:
    return FileNotFoundError(
        f"No CICIDS2017 input file in {raw_dir}/ ({folder.folder.resolve()}): "
        f"{folder.describe()}. Put the CICIDS2017 CSVs (.csv, .csv.gz) or the official zip "
        "there (or mount the volume that holds them); to train on generated data instead, set "
        "data.source: generated in config/training.yaml or the run's parameters."
    )


def real_inputs(config: DataConfig) -> InputSelection:
    """The input files of raw_dir; skipped entries are listed in a warning, none is an error."""
    folder = scan_folder(project_path(config.raw_dir))
    if folder.skipped:
        logger.warning("%s: skipped %d entr%s the loader does not read: %s", config.raw_dir,
                       len(folder.skipped), "y" if len(folder.skipped) == 1 else "ies",
                       "; ".join(folder.skipped))
    if not folder.inputs:
        raise no_real_data(config.raw_dir, folder)
    generated = [p.name for p in folder.inputs if written_by_generator(p)]
    if generated:
        logger.warning("%s holds files the data generator wrote (%s): the run is recorded as "
                       "trained on generated data", config.raw_dir, ", ".join(generated))
    return InputSelection(folder.inputs, bool(generated), folder.skipped)


def generated_inputs(config: DataConfig) -> InputSelection:
    logger.info("data.source is generated: %d rows of CICIDS2017-format data in %s",
                config.generated_rows, config.generated_dir)
    paths = generate_dataset(project_path(config.generated_dir), config.generated_rows,
                             config.seed, config.generated_days)
    return InputSelection(paths, generated=True)


def select_inputs(config: DataConfig) -> InputSelection:
    """The raw CICIDS2017 files, or generated ones in the same format when asked for."""
    if config.source == DataSource.GENERATED:
        selection = generated_inputs(config)
    else:
        selection = real_inputs(config)
    if config.days:
        wanted = day_names(config.days)
        selection.paths = [p for p in selection.paths
                           if day_of(p.name) in wanted or p.suffix.lower() == ".zip"]
        if not selection.paths:
            raise ValueError(
                f"No input file in {config.raw_dir} is from the days {sorted(wanted)}; "
                "file names must start with the weekday, as the official files do."
            )
    return selection


def demo_data(config: DataConfig) -> DataConfig:
    """The data settings of a demo (`make run`, the tour): generated data, asked for
    explicitly, when raw_dir holds no input file (a fresh clone); the settings as they are
    otherwise."""
    if config.source == DataSource.GENERATED or scan_folder(project_path(config.raw_dir)).inputs:
        return config
    logger.warning("No CICIDS2017 file in %s: this demo run asks for generated data "
                   "(data.source: generated)", config.raw_dir)
    return config.model_copy(update={"source": DataSource.GENERATED})


def filter_days(frame: pd.DataFrame, days: list[str] | None) -> pd.DataFrame:
    """Rows of the given weekdays (all rows when `days` is empty)."""
    if not days:
        return frame
    wanted = day_names(days)
    return frame[frame["day"].isin(wanted)].reset_index(drop=True)


def corpus_partitions(config: DataConfig, now: datetime | None = None) -> list[Partition]:
    """The corpus partitions a training run with these settings reads now."""
    partitions = corpus.list_partitions(project_path(config.corpus.dir))
    return corpus.select_partitions(partitions, config.corpus, now or datetime.now(UTC))


def add_corpus(loaded: LoadedData, partitions: list[Partition], config: DataConfig) -> None:
    """Append the corpus rows to the loaded files' rows; the fingerprint covers both."""
    if not partitions:
        return
    rows = corpus.read_corpus(partitions, config.corpus.max_rows_per_class)
    logger.info("Corpus: %d rows from %d partition(s) of %s", len(rows), len(partitions),
                config.corpus.dir)
    loaded.frame = pd.concat([loaded.frame, rows], ignore_index=True)
    for column in ("source_file", "day"):
        loaded.frame[column] = loaded.frame[column].astype("category")
    loaded.fingerprint = corpus.fingerprint_with(loaded.fingerprint, partitions,
                                                 config.corpus.max_rows_per_class)
    loaded.corpus_partitions = [p.name for p in partitions]


def training_fingerprint(config: DataConfig, now: datetime | None = None) -> str:
    """The fingerprint `load_training_data` would give its rows, without parsing them."""
    selection = select_inputs(config)
    base = fingerprint_of(selection.paths, config.labels)
    return corpus.fingerprint_with(base, corpus_partitions(config, now),
                                   config.corpus.max_rows_per_class)


def load_training_data(config: DataConfig) -> LoadedData:
    """The selected input files parsed (through the Parquet cache), rows of `config.days`,
    plus the corpus partitions within its window."""
    selection = select_inputs(config)
    loaded = load_inputs(selection.paths, project_path(config.interim_dir),
                         verify=config.verify_checksums and not selection.generated,
                         labels=config.labels, max_expanded_bytes=config.max_expanded_bytes)
    loaded.frame = filter_days(loaded.frame, config.days)
    loaded.data_source = selection.data_source
    add_corpus(loaded, corpus_partitions(config), config)
    release_arrow_memory()
    return loaded


def demo_traffic(config: DataConfig, seed: int) -> pd.DataFrame:
    """New generated flows of every day (not the rows a model trained on), parsed."""
    folder = project_path(config.generated_dir) / f"demo-seed{seed}"
    paths = generate_dataset(folder, config.generated_rows, seed)
    return load_inputs(paths, project_path(config.interim_dir), verify=False).frame
