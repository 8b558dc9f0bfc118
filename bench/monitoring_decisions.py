"""Benchmark the three judgments (health, incident, drift) on real CICIDS2017 rows.

Champions are trained with the project's library (`nids.training`, default config) on the
real sample `../shared/cicids2017/cicids2017_sample.csv`, in memory (no MLflow store: the
calibrator, novelty model and thresholds are the ones the training run logs), and batches are
checked with `nids.monitoring.check.check_frame`, as the monitoring flow does, each once with
its labels and once with them removed. Cases:

1. every consecutive 2,000-row slice of the real Friday and Thursday day files (all BENIGN):
   target no retrain;
2. leave one attack class out of training (DoS Hulk, PortScan, DDoS of the sample; the
   classes of `../shared/cicids2017-improved/`), then a batch of that class mixed with as many
   real benign rows: target retrain on every one;
3. a batch of a class the champion knows (only DDoS rows): target incident, no retrain;
4. with --improved, controls: the corrected release's BENIGN rows (another extractor,
   CICFlowMeter-V4) mixed with as many real benign rows, and alone (as many rows as a mix):
   target no retrain with labels; without labels, the novel and unsure shares beside their
   limits show how far the other extraction alone moves them (the level an unseen class of
   that release must clear to be found by its own signal).

    PYTHONPATH=src:. .venv/bin/python -m bench.monitoring_decisions [--improved]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd

from nids.config import load_monitoring_config, load_training_config
from nids.data import batches
from nids.data.schema import LABEL_COLUMN
from nids.monitoring import actions, check
from nids.training.evaluate import evaluate_model
from nids.training.monitoring import prepare_monitoring
from nids.training.splits import configured_splits
from nids.training.train import train_on_splits

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL, IMPROVED = SHARED / "cicids2017", SHARED / "cicids2017-improved"
DAY_FILES = ("Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv",
             "Thursday-WorkingHours-Morning-WebAttacks.pcap_ISCX.csv")
SLICE_ROWS, MIX_ROWS = 2_000, 1_000
SAMPLE_LEFT_OUT = ("DoS Hulk", "PortScan", "DDoS")


def train_champion(sample: pd.DataFrame, left_out: str | None) -> check.Champion:
    """A champion on the real sample without `left_out`, with its health models."""
    config = load_training_config()
    frame = sample if left_out is None else sample[sample[LABEL_COLUMN].astype(str) != left_out]
    f = config.features
    splits = configured_splits(frame.reset_index(drop=True), f)
    trained = train_on_splits(splits, config.model)
    evaluation = evaluate_model(trained.bundle, splits["test"])
    handed = prepare_monitoring(trained, splits, evaluation, f)
    return check.Champion.prepared(f"bench-without-{left_out}", trained.bundle, handed)


def verdicts(frame: pd.DataFrame, name: str, champion: check.Champion, config) -> list[dict]:
    """The verdicts of a batch with its labels and without them."""
    rows = []
    for labelled in (True, False):
        batch = frame if labelled else frame.drop(columns=[LABEL_COLUMN])
        checked = check.check_frame(batch.reset_index(drop=True), name, champion, config)
        j = checked.judgments
        s = j.health.statistics
        rows.append({"batch": name, "labels": labelled, "rows": len(frame),
                     "health": j.health.verdict, "incident": j.incident.verdict,
                     "drift": j.drift, "retrain": checked.retrain,
                     "asks": actions.needs_labels(checked, labelled),
                     "est_acc": round(s.estimated_accuracy, 3),
                     "unsure": round(s.uncertain_share, 3), "novel": round(s.novel_share, 3),
                     "rare_port": round(s.rare_port_share, 3),
                     "surge": round(s.surge_share, 3),
                     **limits(champion, s.rows, config),
                     "attack": round(s.attack_share, 3),
                     "why": "; ".join(j.health.crossed + j.health.labels_asked
                                      + j.incident.crossed)[:160]})
        print(" | ".join(str(v) for v in rows[-1].values()), flush=True)
    return rows


def limits(champion: check.Champion, rows: int, config) -> dict[str, float]:
    """The unsure, novel, rare-port and surge shares' upper limits for a batch of `rows`
    rows."""
    overrides = config.judgments.overrides
    return {f"{name}_max": round(champion.thresholds.limit(statistic, rows, overrides), 3)
            for name, statistic in (("unsure", "uncertain_share"), ("novel", "novel_share"),
                                    ("rare_port", "rare_port_share"),
                                    ("surge", "surge_share"))}


def day_slices() -> list[tuple[str, pd.DataFrame]]:
    """Consecutive 2,000-row slices of the real benign day files."""
    slices = []
    for name in DAY_FILES:
        day = batches.load_batch(REAL / name)
        for start in range(0, len(day), SLICE_ROWS):
            slices.append((f"{name.split('-')[0]}[{start}:{start + SLICE_ROWS}]",
                           day.iloc[start:start + SLICE_ROWS]))
    return slices


def mixed(attack: pd.DataFrame, benign: pd.DataFrame) -> pd.DataFrame:
    """Up to MIX_ROWS attack rows after as many real benign rows (time order kept)."""
    attack = attack.head(MIX_ROWS)
    return pd.concat([benign.head(max(len(attack), MIX_ROWS)), attack], ignore_index=True)


def improved_cases(sample_labels: set[str]) -> list[tuple[str, str, pd.DataFrame]]:
    """(left-out class, batch name, attack rows) of each improved class with >= 50 rows."""
    cases = []
    for path in sorted(IMPROVED.glob("*.csv")):
        rows = batches.load_batch(path)
        label = str(rows[LABEL_COLUMN].iloc[0])
        if label != "BENIGN" and len(rows) >= 50:
            cases.append((label if label in sample_labels else None, path.name, rows))
    return cases


def improved_results(sample: pd.DataFrame, benign: pd.DataFrame, champion: check.Champion,
                     config) -> list[dict]:
    """Each class of the corrected release, left out of training when the sample has it,
    1:1 with real benign rows."""
    results, labels = [], set(sample[LABEL_COLUMN].astype(str))
    for label, name, attack in improved_cases(labels):
        left_out = train_champion(sample, label) if label else champion
        results += [r | {"case": f"unseen {name}"} for r in
                    verdicts(mixed(attack, benign), f"{name} + benign", left_out, config)]
    return results


def control_results(benign: pd.DataFrame, champion: check.Champion, config) -> list[dict]:
    """The corrected release's BENIGN rows, 1:1 with real benign rows and alone."""
    improved = batches.load_batch(IMPROVED / "BENIGN_2500.csv")
    controls = (("improved BENIGN + benign", mixed(improved, benign)),
                ("improved BENIGN only", improved.head(2 * MIX_ROWS)))
    return [r | {"case": "control: other extractor"} for name, frame in controls
            for r in verdicts(frame, name, champion, config)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--improved", action="store_true", help="also the improved classes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = load_monitoring_config()
    sample = batches.load_batch(REAL / "cicids2017_sample.csv")
    benign = batches.load_batch(REAL / DAY_FILES[0]).iloc[-MIX_ROWS:]
    started, results = time.perf_counter(), []
    champion = train_champion(sample, None)
    print(champion.thresholds.markdown(), flush=True)
    for name, frame in day_slices():
        results += [r | {"case": "benign day slice"} for r in verdicts(frame, name, champion,
                                                                       config)]
    ddos = sample[sample[LABEL_COLUMN].astype(str) == "DDoS"]
    results += [r | {"case": "known class only"} for r in verdicts(ddos, "sample DDoS only",
                                                                   champion, config)]
    for label in SAMPLE_LEFT_OUT:
        left_out = train_champion(sample, label)
        attack = sample[sample[LABEL_COLUMN].astype(str) == label]
        results += [r | {"case": f"unseen {label}"} for r in
                    verdicts(mixed(attack, benign), f"sample {label} + benign", left_out,
                             config)]
    if args.improved:
        results += control_results(benign, champion, config)
        results += improved_results(sample, benign, champion, config)
    table = pd.DataFrame(results)
    with pd.option_context("display.width", 250, "display.max_columns", 20,
                           "display.max_colwidth", 140, "display.max_rows", 200):
        print(table.drop(columns=["why"]).to_string(index=False))
        print(table[["case", "batch", "labels", "why"]].to_string(index=False))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
