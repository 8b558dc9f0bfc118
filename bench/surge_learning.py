"""Measurement: brute force the champion never saw, from an unlabelled batch to a champion
that knows it (issue 11), through the real flows.

On real rows (../shared, read in place): a champion is trained (training flow) on the
CICIDS2017 sample without its FTP-Patator or SSH-Patator rows. Then half of the corrected
release's rows of that class, 1:1 with real benign rows of the Friday file, arrive without
labels and are monitored (monitoring flow): the model calls them benign with confidence, so
health stays healthy, and their surge on port 21 (or 22) writes a label request. The request,
labelled from the rows' true labels as an analyst would, goes into the labels folder and the
labels flow retrains. Prints the batch's verdicts and surge, the request, the promotion, and
the class's recall on the other half of its rows (never trained on) before and after.
Everything (MLflow store, data, reports) lives in a temporary folder.

    .venv/bin/python -m bench.surge_learning [--class SSH-Patator]   (project root; 2 min)
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

import pandas as pd  # noqa: E402

from bench.corpus_learning import (  # noqa: E402
    FRIDAY,
    SAMPLE,
    configs,
    halves,
    load,
    promotion_of,
    recall,
    versions_line,
)
from flows.labels import labels_flow  # noqa: E402
from flows.monitoring import monitoring_flow  # noqa: E402
from flows.training import training_flow  # noqa: E402
from nids.data import corpus  # noqa: E402
from nids.data.generate import write_official_csv  # noqa: E402
from nids.data.schema import LABEL_COLUMN  # noqa: E402
from nids.paths import PROJECT_ROOT  # noqa: E402

IMPROVED = PROJECT_ROOT.parent / "shared" / "cicids2017-improved"
FILES = {"FTP-Patator": "FTP-Patator_2500.csv", "SSH-Patator": "SSH-Patator_2500.csv"}
BENIGN_ROWS = 1_000


def answer_request(request: Path, batch: pd.DataFrame, name: str, labels_dir: Path) -> Path:
    """The request with its `label` column filled from the batch's true labels."""
    answers = pd.read_csv(request, keep_default_na=False)
    truth = dict(zip(corpus.flow_keys(name, len(batch)), batch[LABEL_COLUMN], strict=True))
    answers[LABEL_COLUMN] = answers["flow_key"].map(truth)
    labels_dir.mkdir(parents=True, exist_ok=True)
    answered = labels_dir / f"{Path(name).stem}-answers.csv"
    answers.to_csv(answered, index=False)
    return answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class", dest="label", choices=sorted(FILES), default="SSH-Patator")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for path in (SAMPLE, FRIDAY, IMPROVED / FILES[args.label]):
        if not path.is_file():
            raise SystemExit(f"{path} is absent: nothing to measure")
    folder = Path(tempfile.mkdtemp(prefix="surge-learning-"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder / 'mlflow.db'}"
    training, monitoring = configs(folder)
    sample, friday = load(SAMPLE), load(FRIDAY)
    kept = sample[sample[LABEL_COLUMN] != args.label].reset_index(drop=True)
    write_official_csv(kept, folder / "raw" / "sample-without-one.csv")
    started = time.perf_counter()
    first = training_flow(config=training, reason=f"bench: champion without {args.label}")
    print(f"Champion v{first.version} on {len(kept)} sample rows without {args.label}: "
          f"macro-F1 {first.macro_f1:.4f} ({time.perf_counter() - started:.0f} s)")

    attack, held = halves(load(IMPROVED / FILES[args.label]))
    batch = pd.concat([friday.tail(BENIGN_ROWS), attack.head(BENIGN_ROWS)], ignore_index=True)
    path = Path(monitoring.incoming_dir) / f"{args.label.lower()}-unlabelled.csv"
    write_official_csv(batch.drop(columns=[LABEL_COLUMN]), path)
    before, started = recall(held), time.perf_counter()
    [outcome] = monitoring_flow(config=monitoring, batch=str(path))
    print(f"1. unlabelled batch ({len(batch)} rows, {min(len(attack), BENIGN_ROWS)} "
          f"{args.label}): health {outcome.health}, incident {outcome.incident}, verdict "
          f"{outcome.verdict}; label request {outcome.label_request} "
          f"({time.perf_counter() - started:.0f} s)")
    if outcome.label_request is None:
        raise SystemExit("no label request: the loop stops here")
    answered = answer_request(Path(outcome.label_request), batch, path.name,
                              Path(monitoring.labels.labels_dir))
    started = time.perf_counter()
    retrained = labels_flow(config=monitoring)
    print(f"2. {answered.name} into the labels folder; labels flow retrain: "
          f"{retrained.state if retrained.started else retrained.why} "
          f"({time.perf_counter() - started:.0f} s)")
    print(f"   {args.label} recall on {len(held)} held-out rows of the corrected release: "
          f"champion {before:.3f} -> {recall(held):.3f}; {versions_line()}; {promotion_of(2)}")


if __name__ == "__main__":
    main()
