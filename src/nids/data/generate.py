"""Generate CICIDS2017 traffic in the exact official CSV format, deterministic by seed.

Each class draws a few base quantities from its profile fitted to real rows
(nids.data.profiles, class_profiles.json); the other features are derived from them the way
CICFlowMeter derives them (nids.data.derive). Days carry the attacks they carry in the real
dataset, in the real proportions, with rare classes kept rare, and their rows are in time
order: benign volume and mix vary over the working day, attacks come at their real times
(nids.data.daytime).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from nids.data.daytime import FILE_HOURS, WHOLE_DAY, attack_times, benign_times, choose_components
from nids.data.derive import derive_features
from nids.data.official import OFFICIAL_FILES, day_names, day_of
from nids.data.profiles import ClassProfile, load_profiles, sample_base, sample_ports
from nids.data.schema import BENIGN, FEATURE_COLUMNS, MACHINE_LEARNING_HEADER
from nids.io import atomic_path

logger = logging.getLogger(__name__)

FULL_SCALE_ROWS = sum(f.rows for f in OFFICIAL_FILES.values())  # 2,830,743
MIN_CLASS_ROWS = 12  # so that a rare class still lands in train, validation and test


def class_counts(rows: int, days: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Rows per file and label for `rows` in total, with the real proportions."""
    wanted = day_names(days)
    files = {name: official.label_counts for name, official in OFFICIAL_FILES.items()
             if not wanted or day_of(name) in wanted}
    if not files:
        raise ValueError(f"No CICIDS2017 day matches {days!r}; use Monday ... Friday.")
    total = sum(sum(c.values()) for c in files.values())
    return {
        name: {
            label: max(MIN_CLASS_ROWS, round(rows * count / total))
            for label, count in counts.items()
        }
        for name, counts in files.items()
    }


def _flows(label: str, profile: ClassProfile, n: int, rng: np.random.Generator) -> pd.DataFrame:
    columns = derive_features(sample_base(profile, n, rng), profile, rng)
    columns["destination_port"] = sample_ports(profile, n, rng)
    frame = pd.DataFrame({c: np.broadcast_to(columns[c], n) for c in FEATURE_COLUMNS})
    frame["label"] = label
    return frame


def benign_components() -> tuple[list[ClassProfile], np.ndarray]:
    """BENIGN's fitted components (by destination port) and their shares."""
    components = [p for name, p in load_profiles().items() if name.startswith(f"{BENIGN}:")]
    return components, np.array([p.share for p in components])


def sample_flows(label: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """`n` flows of one class with all 78 features, in canonical column names."""
    if label != BENIGN:
        profiles = load_profiles()
        if label not in profiles:
            raise ValueError(f"No generator profile for label {label!r}; "
                             f"known: {sorted(profiles)}.")
        return _flows(label, profiles[label], n, rng)
    components, shares = benign_components()
    chosen = rng.choice(len(components), n, p=shares / shares.sum())
    return _benign(chosen, components, rng)


def _benign(chosen: np.ndarray, components: list[ClassProfile],
            rng: np.random.Generator) -> pd.DataFrame:
    """Benign flows, row i drawn from component chosen[i], in the order of `chosen`."""
    parts = [_flows(BENIGN, c, int((chosen == i).sum()), rng) for i, c in enumerate(components)]
    frame = pd.concat(parts, ignore_index=True)
    order = np.argsort(np.argsort(chosen, kind="stable"), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


def generate_day(counts: dict[str, int], rng: np.random.Generator,
                 hours: tuple[float, float] = WHOLE_DAY) -> pd.DataFrame:
    """One day file's flows in time order, with the quirks of the official export.

    Benign flows follow the working-day volume and a drifting mix of their components;
    each attack comes in bursts inside its real time windows.
    """
    frames, times = [], []
    for label, n in counts.items():
        if label == BENIGN:
            when = benign_times(n, hours, rng)
            components, shares = benign_components()
            frames.append(_benign(choose_components(when, hours, shares, rng), components, rng))
        else:
            when = attack_times(label, n, hours, rng)
            frames.append(sample_flows(label, n, rng))
        times.append(when)
    order = np.argsort(np.concatenate(times), kind="stable")
    frame = pd.concat(frames, ignore_index=True).iloc[order].reset_index(drop=True)
    # Real quirks: rows with Flow Duration -1 and negative IAT minimums.
    glitch = rng.random(len(frame)) < 0.0005
    frame.loc[glitch, "flow_duration"] = -1
    frame.loc[glitch, "flow_iat_min"] = -1
    return frame


def write_official_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write flows exactly as UNB's MachineLearningCVE files: names, Infinity, U+FFFD, CRLF.
    A frame without a `label` column is written without the Label column (unlabelled traffic)."""
    out = frame.copy()
    for column in ("flow_bytes_s", "flow_packets_s"):
        values = out[column].astype(object)
        values[np.isposinf(out[column].to_numpy())] = "Infinity"
        out[column] = values
    if "label" in out.columns:
        out["label"] = out["label"].str.replace(" - ", " \ufffd ", regex=False)
    out.columns = list(MACHINE_LEARNING_HEADER[:len(out.columns)])
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, na_rep="NaN", lineterminator="\r\n", float_format="%.10g")


COMPLETE_MARKER_PREFIX = ".complete-"


def written_by_generator(path: Path) -> bool:
    """Whether a file (or the file a symlink points at) was written by `generate_dataset`:
    it sits beside the generator's completion marker."""
    return any(path.resolve().parent.glob(f"{COMPLETE_MARKER_PREFIX}*"))


def generate_dataset(
    folder: Path, rows: int, seed: int, days: list[str] | None = None
) -> list[Path]:
    """Write one official-format CSV per day into `folder`; reuse files of the same request."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f"{COMPLETE_MARKER_PREFIX}{rows}-{seed}-{'-'.join(days or ['all'])}"
    plan = class_counts(rows, days)
    paths = [folder / name for name in plan]
    if marker.exists() and all(p.exists() for p in paths):
        logger.info("Reusing generated data in %s", folder)
        return paths
    for stale in folder.glob(f"{COMPLETE_MARKER_PREFIX}*"):
        stale.unlink()
    rng = np.random.default_rng(seed)
    for path, counts in zip(paths, plan.values(), strict=True):
        logger.info("Generating %s (%d rows)", path.name, sum(counts.values()))
        write_official_csv(generate_day(counts, rng, FILE_HOURS[path.name]), path)
    marker.touch()
    return paths

