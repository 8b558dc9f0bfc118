"""Where training data comes from: the raw CICIDS2017 files, or generated ones, of some days."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nids.config import DataConfig, project_path
from nids.data.generate import generate_dataset
from nids.data.ingest import LoadedData, find_input_files, load_inputs
from nids.data.official import day_names, day_of

logger = logging.getLogger(__name__)


@dataclass
class InputSelection:
    paths: list[Path]
    generated: bool   # True when no CICIDS2017 file was found and data was generated


def select_inputs(config: DataConfig) -> InputSelection:
    """The raw CICIDS2017 files, or generated ones in the same format when there are none."""
    paths = find_input_files(project_path(config.raw_dir))
    generated = not paths
    if generated:
        logger.info("No CICIDS2017 file in %s: generating %d rows in the official format",
                    config.raw_dir, config.generated_rows)
        paths = generate_dataset(project_path(config.generated_dir), config.generated_rows,
                                 config.seed, config.generated_days)
    if config.days:
        wanted = day_names(config.days)
        paths = [p for p in paths if day_of(p.name) in wanted or p.suffix.lower() == ".zip"]
        if not paths:
            raise ValueError(
                f"No input file in {config.raw_dir} is from the days {sorted(wanted)}; "
                "file names must start with the weekday, as the official files do."
            )
    return InputSelection(paths, generated)


def filter_days(frame: pd.DataFrame, days: list[str] | None) -> pd.DataFrame:
    """Rows of the given weekdays (all rows when `days` is empty)."""
    if not days:
        return frame
    wanted = day_names(days)
    return frame[frame["day"].isin(wanted)].reset_index(drop=True)


def load_training_data(config: DataConfig) -> LoadedData:
    """The selected input files parsed (through the Parquet cache), rows of `config.days`."""
    selection = select_inputs(config)
    loaded = load_inputs(selection.paths, project_path(config.interim_dir),
                         verify=config.verify_checksums and not selection.generated,
                         labels=config.labels)
    loaded.frame = filter_days(loaded.frame, config.days)
    return loaded


def demo_traffic(config: DataConfig, seed: int) -> pd.DataFrame:
    """New generated flows of every day (not the rows a model trained on), parsed."""
    folder = project_path(config.generated_dir) / f"demo-seed{seed}"
    paths = generate_dataset(folder, config.generated_rows, seed)
    return load_inputs(paths, project_path(config.interim_dir), verify=False).frame
