"""Monitoring flow: take the complete new traffic batches, score them with the champion, judge
each (model health, security incident, data drift), alert and retrain when health degrades.

Run it with `python flows/monitoring.py` (ephemeral Prefect, no server) or through the
`monitoring` deployment of prefect.yaml. How a batch is handed over, claimed by one run and
moved to done/ or rejected/: nids.data.incoming and nids.data.claims.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.tasks import exponential_backoff

from flows.training import training_flow
from nids.config import AlertConfig, MonitoringConfig, load_monitoring_config, project_path
from nids.data import batches, claims
from nids.data.claims import Claim
from nids.monitoring import (
    actions,
    alerts,
    check,
    corpus_intake,
    label_requests,
    retrain,
    workspace,
)
from nids.monitoring.check import BatchCheck, Champion, Reading
from nids.monitoring.dashboard import JudgmentValues, judgment_values
from nids.monitoring.events import emit_verdicts
from nids.monitoring.outcomes import AlertOutcome, BatchOutcome, RetrainOutcome


@task(cache_policy=NO_CACHE)
def claim_batches(config: MonitoringConfig, batch: str | None) -> list[Claim]:
    """Claim for this run the complete batches of the incoming folder, or the one named."""
    run_id = str(flow_run.get_id() or uuid.uuid4())
    if batch:
        return claims.claim_named(project_path(batch), run_id)
    return claims.claim_ready(project_path(config.incoming_dir), run_id,
                              config.incoming.stable_seconds,
                              config.incoming.reclaim_after_minutes * 60)


@task(cache_policy=NO_CACHE)
def read_batch(claimed: Claim, config: MonitoringConfig) -> Reading:
    """Load and validate a claimed batch like training data."""
    return check.read_claimed(claimed, config.validation)


@task(cache_policy=NO_CACHE)
def reject_batch(reading: Reading) -> Path:
    """Move a bad batch to rejected/ with an error file, and show why on the run."""
    rejected, error_file = claims.reject(reading.claim, reading.problem)
    create_markdown_artifact(
        key="rejected-batch", description=f"Rejected {reading.claim.name}",
        markdown=f"## Rejected {reading.claim.name}\n\n```\n{reading.problem}\n```\n\n"
                 f"Moved to `{rejected}`; `{error_file.name}` says how to resubmit.\n")
    return rejected


@task(cache_policy=NO_CACHE)
def load_champion(config: MonitoringConfig) -> Champion:
    """The champion model and the reference sample it was trained on."""
    champion = check.load_champion(config.model_name)
    get_run_logger().info("Champion: %s version %s (%d reference rows)", config.model_name,
                          champion.version, len(champion.reference))
    return champion


@task(cache_policy=NO_CACHE)
def check_batch(frame: pd.DataFrame, name: str, champion: Champion,
                config: MonitoringConfig) -> BatchCheck:
    """Score a loaded (and validated) batch with the champion, report its drift and decide."""
    checked = check.check_validated(frame, name, champion, config)
    get_run_logger().info("Scored %s: %d rows, predicted %s", name, len(checked.scores),
                          dict(list(checked.predicted.items())[:5]))
    return checked


@task(cache_policy=NO_CACHE)
def save_report(checked: BatchCheck, champion: Champion, config: MonitoringConfig,
                batch_sha256: str) -> Path:
    """Save the Evidently report with its index entry, and show it on the run."""
    html_path = check.save_check(checked, champion, project_path(config.reports_dir),
                                 batch_sha256=batch_sha256)
    create_markdown_artifact(key="batch-verdicts", markdown=actions.markdown_of(checked, champion),
                             description=f"Health, incident and drift of {checked.batch}")
    create_link_artifact(html_path.as_uri(), link_text=f"Evidently report of {checked.batch}",
                         key="drift-report")
    get_run_logger().info("%s: %s; report %s", checked.batch, checked.verdict, html_path)
    return html_path


@task(cache_policy=NO_CACHE)
def add_to_corpus(frame: pd.DataFrame, claimed: Claim, config: MonitoringConfig) -> str | None:
    """Keep a labelled batch in the corpus of labelled traffic that training reads."""
    kept = corpus_intake.keep_labelled(frame, claimed.path, config)
    return kept.name if kept else None


@task(cache_policy=NO_CACHE)
def request_labels(frame: pd.DataFrame, checked: BatchCheck, champion: Champion,
                   config: MonitoringConfig) -> str:
    """Ask analysts to label an unlabelled batch on which the champion's health degraded
    (or ports surged): the least confident and most novel flows first, as a CSV linked from
    the run."""
    request = label_requests.request_for_batch(
        frame, checked.scores, checked.batch, config.labels, champion.version,
        novelty=actions.novelty_of(frame, checked, champion))
    reason = actions.labels_reason(checked)
    label_requests.publish_request(request, project_path(config.labels.labels_dir), reason)
    get_run_logger().warning("%s: %s; label request %s", checked.batch, reason, request.path)
    return str(request.path)


@task(cache_policy=NO_CACHE)
def save_predictions(checked: BatchCheck, claimed: Claim) -> Path:
    """Save the scores beside the claimed batch, then move both into done/."""
    return claims.finish(claimed, batches.save_predictions(checked.scores, claimed.path))


def record_history(path: Path, checked: BatchCheck, champion: Champion,
                   config: MonitoringConfig, html_path: Path,
                   judgments: JudgmentValues | None = None) -> workspace.RecordedBatch:
    """Add the batch's snapshot to the Evidently workspace (the dashboard), prune old history.
    `judgments`: the batch's three judgments for their panels (None: not judged)."""
    recorded = workspace.record_batch(checked, champion, config, workspace.batch_time(path),
                                      html_path, judgments)
    get_run_logger().info("%s: snapshot %s added to the dashboard in %.1f s (%.1f MB); pruned "
                          "%d snapshots, %d reports", checked.batch, recorded.snapshot_id,
                          recorded.seconds, recorded.snapshot_bytes / 1e6,
                          recorded.pruned_snapshots, recorded.pruned_reports)
    return recorded


@task(cache_policy=NO_CACHE)
def send_alert(subject: str, body: str, config: AlertConfig) -> str:
    """Send an alert through the configured channel (retried as configured)."""
    return alerts.send_alert(subject, body, config)


def alert(subject: str, body: str, config: AlertConfig) -> AlertOutcome:
    """Send an alert with retries and backoff; a channel that still fails is logged and
    reported, never raised: the batch's retrain and the next batch go on."""
    retried = send_alert.with_options(
        retries=config.retries, retry_delay_seconds=exponential_backoff(config.retry_delay_seconds))
    state = retried(subject, body, config, return_state=True)
    if state.is_completed():
        return AlertOutcome(subject=subject, channel=state.result(), delivered=True)
    error = str(state.result(raise_on_failure=False))
    channel = alerts.channel(config)
    get_run_logger().error("Alert %r not sent via %s after %d attempts: %s", subject, channel,
                           config.retries + 1, error)
    return AlertOutcome(subject=subject, channel=channel, delivered=False, error=error)


def announce(checked: BatchCheck, champion: Champion,
             config: MonitoringConfig) -> list[AlertOutcome]:
    """The batch's alerts (incident, degraded health, drift where config says) and its
    verdicts as Prefect events."""
    sent = [alert(subject, body, config.alerts) for subject, body in actions.alerts_of(checked)]
    if checked.judgments is not None:
        emit_verdicts(checked.batch, checked.judgments, champion.model_name, champion.version)
    return sent


def start_retraining(checked: BatchCheck, config: MonitoringConfig) -> RetrainOutcome:
    """Start the training flow when the gate allows it (a subflow without a server)."""
    reason = actions.retrain_reason(checked)
    outcome = retrain.retrain_single_flight(reason, config.retrain, run_locally=training_flow)
    if not outcome.started:
        get_run_logger().info("Retraining not started: %s", outcome.why)
    return outcome


def reject(reading: Reading, config: MonitoringConfig) -> BatchOutcome:
    rejected = reject_batch(reading)
    sent = alert(f"Batch {reading.claim.name} rejected", reading.problem, config.alerts)
    return BatchOutcome(batch=reading.claim.name, status="rejected", problem=reading.problem,
                        location=str(rejected), alerts=[sent])


def put_back(claimed: Claim) -> BatchOutcome:
    location = claims.release(claimed)
    get_run_logger().warning("%s changed while it was read: still being written? It is back "
                             "in the incoming folder for the next run", claimed.name)
    return BatchOutcome(batch=claimed.name, status="changing", location=str(location))


def monitor_batch(claimed: Claim, champion: Champion | None,
                  config: MonitoringConfig) -> tuple[BatchOutcome, Champion | None]:
    """Read, score, report and hand over one batch, then alert and retrain if it calls for it.
    Returns its outcome and the champion for the next batch (None: load it again)."""
    loading = None if champion else load_champion.submit(config)   # while the batch is read
    reading = read_batch(claimed, config)
    if reading.changing or reading.problem is not None:
        if loading:
            loading.wait()   # a missing champion fails the run only for a batch it would score
        return (put_back(claimed) if reading.changing else reject(reading, config)), champion
    champion = champion or loading.result()
    checked = check_batch(reading.frame, claimed.name, champion, config)
    # Written while the report is saved (a partition is added once, should the run fail).
    adding = add_to_corpus.submit(reading.frame, claimed, config)
    html_path = save_report(checked, champion, config, claimed.sha256)
    record_history(claimed.path, checked, champion, config, html_path,
                   judgment_values(checked.judgments))
    kept = adding.result()   # before a retrain, which reads it
    location = save_predictions(checked, claimed)
    sent = announce(checked, champion, config)
    asked = (request_labels(reading.frame, checked, champion, config)
             if actions.needs_labels(checked, labelled=kept is not None) else None)
    retrained = start_retraining(checked, config) if checked.retrain and not asked else None
    outcome = actions.outcome_of(checked, champion, retrained, sent, location)
    outcome.corpus_partition, outcome.label_request = kept, asked
    moved = retrained is not None and retrained.completed  # the champion alias may have moved
    return outcome, None if moved else champion


@flow(name="monitoring")
def monitoring_flow(config: MonitoringConfig | None = None,
                    batch: str | None = None) -> list[BatchOutcome]:
    """Score new traffic batches with the champion, report drift, retrain when needed.

    Args:
        config: Batches, thresholds, retraining and alert settings; empty:
            config/monitoring.yaml as it is when the run starts.
        batch: One batch file to monitor (path relative to the project or absolute);
            empty: every complete batch waiting in the incoming folder.
    """
    config = config or load_monitoring_config()
    claimed = claim_batches(config, batch)
    if not claimed:
        get_run_logger().info("No complete batch in %s: nothing to monitor",
                              config.incoming_dir)
        return []
    outcomes: list[BatchOutcome] = []
    champion: Champion | None = None
    with claims.claims_kept(claimed):
        for position, taken in enumerate(claimed):
            try:
                outcome, champion = monitor_batch(taken, champion, config)
            except BaseException:  # not the batch's fault: this and the rest go back
                claims.release_all(claimed[position:])
                raise
            outcomes.append(outcome)
    return outcomes


if __name__ == "__main__":
    monitoring_flow()
