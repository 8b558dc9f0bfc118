"""Labels flow: take the labels files analysts dropped into data/labels/, add the labelled
flows to the corpus, and start a retrain (reason: labels arrived).

Run it with `python flows/labels.py` (ephemeral Prefect, no server). How a labels file is
validated and joined with the flows' features: nids.data.label_files.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.training import training_flow
from nids.config import MonitoringConfig, load_monitoring_config, project_path
from nids.data.incoming import DONE
from nids.data.label_files import TakenLabels, take_labels_files
from nids.monitoring import retrain
from nids.monitoring.corpus_intake import corpus_dir
from nids.monitoring.outcomes import RetrainOutcome


@task(cache_policy=NO_CACHE)
def take_labels(config: MonitoringConfig) -> list[TakenLabels]:
    """Validate each waiting labels file and add its flows to the corpus."""
    taken = take_labels_files(project_path(config.labels.labels_dir),
                              project_path(config.labels.requests_dir), corpus_dir(config),
                              project_path(config.incoming_dir) / DONE)
    for refused in (t for t in taken if t.problem):
        create_markdown_artifact(key="refused-labels", markdown=f"## Refused {refused.file}\n\n"
                                 f"```\n{refused.problem}\n```\n\nMoved to `{refused.location}`.")
    return taken


def start_retraining(taken: list[TakenLabels], config: MonitoringConfig) -> RetrainOutcome:
    """Start the training flow through the retrain gate, with the files as the reason."""
    reason = "labels arrived: " + ", ".join(f"{t.file} ({t.labelled} flows)" for t in taken)
    outcome = retrain.retrain_single_flight(reason, config.retrain, run_locally=training_flow)
    get_run_logger().info("Retraining %s: %s", "started" if outcome.started else "not started",
                          outcome.why)
    return outcome


@flow(name="labels")
def labels_flow(config: MonitoringConfig | None = None) -> RetrainOutcome | None:
    """Add the waiting labels files to the corpus and retrain on them.

    Args:
        config: The monitoring configuration (labels folders, retraining); empty:
            config/monitoring.yaml as it is when the run starts.
    """
    config = config or load_monitoring_config()
    accepted = [t for t in take_labels(config) if t.partition]
    if not accepted:
        get_run_logger().info("No labels accepted from %s", config.labels.labels_dir)
        return None
    return start_retraining(accepted, config)


if __name__ == "__main__":
    labels_flow()
