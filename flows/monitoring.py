"""Monitoring flow: score new traffic with the champion, report drift, retrain when needed.

Run it with `python flows/monitoring.py` (ephemeral Prefect, no server) or through the
`monitoring` deployment of prefect.yaml.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.training import training_flow
from nids.config import MonitoringConfig, load_monitoring_config, project_path
from nids.data import batches
from nids.data.validate import raise_on_problems, validate_frame
from nids.monitoring import frames as monitor
from nids.monitoring import retrain
from nids.monitoring.alerts import send_alert
from nids.monitoring.decision import DriftDecision, decide
from nids.monitoring.drift import run_drift_report, save_report, summarize_snapshot
from nids.monitoring.reports import ReportEntry, report_paths, write_index
from nids.tracking import registry
from nids.training.features import clean_features

DEFAULT_CONFIG = load_monitoring_config()


@task(cache_policy=NO_CACHE)
def load_champion(config: MonitoringConfig) -> tuple[registry.ModelBundle, pd.DataFrame]:
    """The champion model and the reference sample it was trained on."""
    registry.use_tracking_store()
    champion = registry.load_bundle(config.model_name)
    if champion is None:
        raise ValueError(f"No model {config.model_name!r} has the 'champion' alias in "
                         f"{registry.tracking_uri()}; run the training flow first (make run).")
    with tempfile.TemporaryDirectory() as folder:
        reference = registry.download_reference(champion.run_id, Path(folder))
    get_run_logger().info("Champion: %s version %s (%d reference rows)", config.model_name,
                          champion.version, len(reference))
    return champion, reference


@task(cache_policy=NO_CACHE)
def score_batch(path: Path, champion: registry.ModelBundle,
                config: MonitoringConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load and validate a batch like training data; (frame for drift, predictions)."""
    batch = batches.load_batch(path)
    result = validate_frame(batch.assign(source_file=path.name),
                            config.validation.max_missing_share,
                            config.validation.max_infinite_share)
    raise_on_problems(result)
    names, probability = registry.predict_classes(
        champion, clean_features(batch, champion.features)
    )
    current = monitor.current_frame(batch, names, monitor.drift_features(champion.features))
    get_run_logger().info("Scored %s: %d rows, predicted %s", path.name, len(batch),
                          pd.Series(names).value_counts().head(5).to_dict())
    return current, batches.score_frame(batch, names, probability)


@task(cache_policy=NO_CACHE)
def check_drift(path: Path, current: pd.DataFrame, reference: pd.DataFrame,
                champion: registry.ModelBundle, config: MonitoringConfig) -> DriftDecision:
    """Run the Evidently report, decide, and save the report with its index entry."""
    features = monitor.drift_features(champion.features)
    snapshot = run_drift_report(monitor.reference_frame(reference, features), current,
                                features, config.drift)
    summary = summarize_snapshot(snapshot)
    decision = decide(summary, config.drift, champion.test_metric("macro_f1"))
    created_at = datetime.now(UTC)
    reports_dir = project_path(config.reports_dir)
    html_path, json_path = report_paths(reports_dir, created_at, path.stem)
    entry = ReportEntry(
        created_at=created_at, batch=path.name, model_name=config.model_name,
        model_version=champion.version, verdict=decision.verdict,
        crossed=[c.message for c in decision.crossed],
        report_html=html_path.name, summary=summary.model_dump(mode="json"),
    )
    save_report(snapshot, html_path, json_path, entry)
    write_index(reports_dir)
    create_markdown_artifact(key="drift-summary", markdown=decision.markdown,
                             description=f"Drift of {path.name}")
    create_link_artifact(html_path.as_uri(), link_text=f"Evidently report of {path.name}",
                         key="drift-report")
    get_run_logger().info("%s: %s; report %s", path.name, decision.verdict, html_path)
    return decision


@task(cache_policy=NO_CACHE)
def retrain_gate(config: MonitoringConfig) -> retrain.RetrainGate:
    """Whether a training run may start now (none running, none within the cooldown)."""
    if not config.retrain.enabled:
        return retrain.RetrainGate(False, "retraining is disabled in config/monitoring.yaml")
    activity = retrain.training_activity()
    return retrain.retrain_gate(activity, config.retrain.cooldown_hours, retrain.now_utc())


def alert(path: Path, decision: DriftDecision, config: MonitoringConfig) -> None:
    channel = send_alert(f"Drift in {path.name}: {decision.verdict}", decision.markdown,
                         config.alerts.notification_block, config.alerts.webhook_url)
    get_run_logger().warning("Drift alert for %s sent via %s", path.name, channel)


def start_retraining(path: Path, decision: DriftDecision, config: MonitoringConfig) -> dict:
    """Start the training flow when the gate allows it; what happened, for the result."""
    logger = get_run_logger()
    gate = retrain_gate(config)
    if not gate.allowed:
        logger.info("Retraining not started: %s", gate.reason)
        return {"started": False, "why": gate.reason}
    reason = f"drift in {path.name}: " + "; ".join(c.message for c in decision.crossed)
    parameters: dict = {"reason": reason}
    if config.retrain.training_config is not None:
        parameters["config"] = config.retrain.training_config.model_dump(mode="json")
    started = retrain.start_training(
        parameters, config.retrain.deployment_name, config.retrain.timeout_seconds,
        run_locally=training_flow,
    )
    return {"started": True, "mode": started.mode, "flow_run": started.flow_run,
            "state": started.state, "reason": reason}


@flow(name="monitoring")
def monitoring_flow(config: MonitoringConfig = DEFAULT_CONFIG,
                    batch: str | None = None) -> list[dict]:
    """Score new traffic batches with the champion, report drift, retrain when needed.

    Args:
        config: Batches, thresholds, retraining and alert settings
            (defaults: config/monitoring.yaml).
        batch: One batch file to monitor (path relative to the project or absolute);
            empty: every batch in the incoming folder that has no predictions yet.
    """
    logger = get_run_logger()
    paths = ([project_path(batch)] if batch
             else batches.pending_batches(project_path(config.incoming_dir)))
    if not paths:
        logger.info("No new batch in %s: nothing to monitor", config.incoming_dir)
        return []
    champion, reference = load_champion(config)
    outcomes = []
    for path in paths:
        current, scores = score_batch(path, champion, config)
        decision = check_drift(path, current, reference, champion, config)
        batches.save_predictions(scores, path)
        outcome = {"batch": path.name, "model_version": champion.version,
                   "verdict": decision.verdict,
                   "crossed": [c.message for c in decision.crossed]}
        if decision.drift_detected:
            alert(path, decision, config)
        if decision.retrain:
            outcome["retrain"] = start_retraining(path, decision, config)
            if outcome["retrain"].get("state") == "Completed":
                champion, reference = load_champion(config)  # the champion may have moved
        else:
            logger.info("%s: no retraining needed", path.name)
        outcomes.append(outcome)
    return outcomes


if __name__ == "__main__":
    monitoring_flow()
