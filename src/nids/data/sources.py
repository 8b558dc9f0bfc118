"""Where training data comes from, and the saved splits that later stages resume from."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nids.config import DataConfig, FeatureConfig, project_path
from nids.data.generate import generate_dataset
from nids.data.ingest import find_input_files
from nids.data.official import day_names, day_of
from nids.io import atomic_path
from nids.training.features import SPLITS

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


def splits_folder(processed_dir: Path, fingerprint: str, features: FeatureConfig,
                  days: list[str] | None) -> Path:
    """A folder keyed by the data fingerprint and everything that shapes the splits."""
    settings = json.dumps({"features": features.model_dump(mode="json"), "days": days},
                          sort_keys=True)
    key = hashlib.sha256(f"{fingerprint}{settings}".encode()).hexdigest()[:16]
    return processed_dir / key


def save_splits(splits: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write each split as Parquet; a marker written last says the set is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_COMPLETE").unlink(missing_ok=True)
    for name, frame in splits.items():
        with atomic_path(folder / f"{name}.parquet") as tmp:
            frame.to_parquet(tmp, index=False)
    (folder / "_COMPLETE").touch()


def load_splits(folder: Path) -> dict[str, pd.DataFrame] | None:
    """The saved splits, or None when the folder holds no complete set."""
    if not (folder / "_COMPLETE").exists():
        return None
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in SPLITS}
