"""Monitoring flow: score new traffic with the champion, report drift, retrain when needed.

Run it with `python flows/monitoring.py` (ephemeral Prefect, no server) or through the
`monitoring` deployment of prefect.yaml.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.training import training_flow
from nids.config import MonitoringConfig, load_monitoring_config, project_path
from nids.data import batches
from nids.monitoring import check, retrain
from nids.monitoring.alerts import send_alert
from nids.monitoring.check import BatchCheck, Champion
from nids.monitoring.events import emit_verdicts
from nids.monitoring.outcomes import BatchOutcome, RetrainOutcome


@task(cache_policy=NO_CACHE)
def load_champion(config: MonitoringConfig) -> Champion:
    """The champion model and the reference sample it was trained on."""
    champion = check.load_champion(config.model_name)
    get_run_logger().info("Champion: %s version %s (%d reference rows)", config.model_name,
                          champion.version, len(champion.reference))
    return champion


@task(cache_policy=NO_CACHE)
def check_batch(path: Path, champion: Champion, config: MonitoringConfig) -> BatchCheck:
    """Load and validate a batch like training data, score it, report drift and decide."""
    checked = check.check_batch(path, champion, config)
    get_run_logger().info("Scored %s: %d rows, predicted %s", path.name, len(checked.scores),
                          dict(list(checked.predicted.items())[:5]))
    return checked


@task(cache_policy=NO_CACHE)
def save_report(checked: BatchCheck, champion: Champion, config: MonitoringConfig) -> Path:
    """Save the Evidently report with its index entry, and show it on the run."""
    html_path = check.save_check(checked, champion, project_path(config.reports_dir))
    create_markdown_artifact(key="batch-verdicts", markdown=check.markdown_of(checked, champion),
                             description=f"Health, incident and drift of {checked.batch}")
    create_link_artifact(html_path.as_uri(), link_text=f"Evidently report of {checked.batch}",
                         key="drift-report")
    get_run_logger().info("%s: %s; report %s", checked.batch, checked.verdict, html_path)
    return html_path


@task(cache_policy=NO_CACHE)
def retrain_gate(config: MonitoringConfig) -> retrain.RetrainGate:
    """Whether a training run may start now (none running, none within the cooldown)."""
    return retrain.current_gate(config.retrain)


def alert(checked: BatchCheck, config: MonitoringConfig) -> None:
    channel = send_alert(f"Drift in {checked.batch}: {checked.verdict}",
                         checked.decision.markdown, config.alerts.notification_block,
                         config.alerts.webhook_url)
    get_run_logger().warning("Drift alert for %s sent via %s", checked.batch, channel)


def alert_incident(checked: BatchCheck, config: MonitoringConfig) -> None:
    incident = checked.judgments.incident
    channel = send_alert(f"Security incident in {checked.batch}",
                         incident.alert_text(checked.batch), config.alerts.notification_block,
                         config.alerts.webhook_url)
    get_run_logger().warning("Incident alert for %s sent via %s", checked.batch, channel)


def announce(checked: BatchCheck, champion: Champion, config: MonitoringConfig) -> None:
    """Alerts (incident; drift where config says) and the verdicts as Prefect events."""
    judgments = checked.judgments
    if judgments is None:   # a champion without health models: the drift decision alerts
        if checked.decision.drift_detected:
            alert(checked, config)
        return
    if judgments.incident.verdict == "incident":
        alert_incident(checked, config)
    if judgments.health.verdict == "degraded":
        send_alert(f"Model health degraded on {checked.batch}", judgments.health.markdown(),
                   config.alerts.notification_block, config.alerts.webhook_url)
    if judgments.alert_drift:
        alert(checked, config)
    emit_verdicts(checked.batch, judgments, champion.model_name, champion.version)


def start_retraining(checked: BatchCheck, config: MonitoringConfig) -> RetrainOutcome:
    """Start the training flow when the gate allows it (a subflow without a server)."""
    reason = check.retrain_reason(checked)
    outcome = retrain.retrain_if_allowed(retrain_gate(config), reason, config.retrain,
                                         run_locally=training_flow)
    if not outcome.started:
        get_run_logger().info("Retraining not started: %s", outcome.why)
    return outcome


@flow(name="monitoring")
def monitoring_flow(config: MonitoringConfig | None = None,
                    batch: str | None = None) -> list[BatchOutcome]:
    """Score new traffic batches with the champion, report drift, retrain when needed.

    Args:
        config: Batches, thresholds, retraining and alert settings; empty:
            config/monitoring.yaml as it is when the run starts.
        batch: One batch file to monitor (path relative to the project or absolute);
            empty: every batch in the incoming folder that has no predictions yet.
    """
    logger = get_run_logger()
    config = config or load_monitoring_config()
    paths = ([project_path(batch)] if batch
             else batches.pending_batches(project_path(config.incoming_dir)))
    if not paths:
        logger.info("No new batch in %s: nothing to monitor", config.incoming_dir)
        return []
    champion = load_champion(config)
    outcomes = []
    for path in paths:
        checked = check_batch(path, champion, config)
        save_report(checked, champion, config)
        batches.save_predictions(checked.scores, path)
        announce(checked, champion, config)
        retrained = start_retraining(checked, config) if checked.retrain else None
        outcomes.append(check.outcome_of(checked, champion, retrained))
        if retrained is None:
            logger.info("%s: no retraining needed", path.name)
        elif retrained.completed:
            champion = load_champion(config)  # the champion may have moved
    return outcomes


if __name__ == "__main__":
    monitoring_flow()
