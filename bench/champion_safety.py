"""Measurement: the real champion against scheduled runs without real data (issue 10).

A champion is trained on the real CICIDS2017 sample (../shared/cicids2017/cicids2017_sample.csv,
read in place), then two scheduled runs follow: one with an empty raw folder (a volume that did
not mount) and one whose raw folder holds only `.csv.gz` files of generated data. Prints each
run's outcome and every registered version with its aliases, data source and promotion reason.
Everything (MLflow store, data) lives in a temporary folder.

    .venv/bin/python -m bench.champion_safety [--generated-rows N]   (from the project root)
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import shutil
import tempfile
from pathlib import Path

# The ephemeral Prefect server starts slowly on a busy machine (read when a flow first runs).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

from mlflow import MlflowClient  # noqa: E402

from flows.training import training_flow  # noqa: E402
from nids.config import TrainingConfig, load_training_config  # noqa: E402
from nids.data.generate import generate_dataset  # noqa: E402
from nids.paths import PROJECT_ROOT  # noqa: E402
from nids.tracking import registry  # noqa: E402
from nids.training.holdout import ComparedMetric, score_on_holdout  # noqa: E402

SAMPLE = PROJECT_ROOT.parent / "shared" / "cicids2017" / "cicids2017_sample.csv"
MODEL = "champion-safety"


def config_for(folder: Path, raw: Path) -> TrainingConfig:
    config = load_training_config()   # data.source: real, as scheduled runs have it
    config.data.raw_dir = str(raw)
    config.data.interim_dir = str(folder / "interim")
    config.data.processed_dir = str(folder / "processed")
    config.registry.model_name = MODEL
    config.metrics_file = str(folder / "metrics.json")
    return config


def gzipped_generated(folder: Path, rows: int) -> Path:
    raw = folder / "gz-raw"
    raw.mkdir()
    for path in generate_dataset(folder / "generated", rows, seed=2017):
        with path.open("rb") as source, gzip.open(raw / f"{path.name}.gz", "wb") as target:
            shutil.copyfileobj(source, target)
    return raw


def run(name: str, config: TrainingConfig) -> None:
    try:
        result = training_flow(config=config, reason="schedule" if name != "real" else "manual")
    except Exception as error:   # the outcome to print
        print(f"{name:>10}: FAILED {type(error).__name__}: {error}")
        return
    print(f"{name:>10}: version {result.version} -> {result.alias}; macro-F1 "
          f"{result.macro_f1:.4f}; {result.promotion}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--generated-rows", type=int, default=200_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not SAMPLE.is_file():
        raise SystemExit(f"{SAMPLE} is absent: nothing to measure")
    folder = Path(tempfile.mkdtemp(prefix="champion-safety-"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    (folder / "raw").mkdir()
    (folder / "raw" / SAMPLE.name).symlink_to(SAMPLE)
    (folder / "empty-raw").mkdir()
    run("real", config_for(folder, folder / "raw"))
    run("empty", config_for(folder, folder / "empty-raw"))
    run("csv.gz", config_for(folder, gzipped_generated(folder, args.generated_rows)))
    client = MlflowClient()
    for found in sorted(client.search_model_versions(f"name='{MODEL}'"),
                        key=lambda v: int(v.version)):
        version = client.get_model_version(MODEL, found.version)   # with its aliases
        tags = version.tags
        print(f"v{version.version}: aliases {version.aliases}, data_source "
              f"{tags.get('data_source')}, status {tags.get('status')}, reason "
              f"{tags.get('reason')}, test macro-F1 {tags.get('test_macro_f1')}")
    champion, challenger = registry.load_bundle(MODEL), registry.load_bundle(MODEL, "challenger")
    if champion is not None and challenger is not None:
        holdout = registry.download_holdout(champion.run_id, folder / "holdout")
        # the challenger learnt none of the real rows: nothing to leave out
        scores = score_on_holdout(holdout, challenger, champion, [holdout.iloc[:0]],
                                  ComparedMetric("macro_f1"))
        print(f"challenger v{challenger.version} {scores.describe('macro_f1')} "
              "(challenger vs champion)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
