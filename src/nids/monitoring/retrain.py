"""When and how the monitoring flow starts a training run.

Never two trainings at once, and no new one within the cooldown of the last; under a Prefect
server the training deployment is started (its run shows in the UI with the reason as a
parameter), without one the training flow runs here as a subflow. The gate's check and the
start are one step across processes and hosts: both run inside a slot of Prefect's global
concurrency limit `nids-retrain-gate` (limit 1, held with a lease that expires if the holder
dies). A training run still 'Running' after `max_training_hours` (its process died without
telling the server) is presumed crashed: reported, and no longer blocking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from prefect import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.concurrency.sync import concurrency
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import PREFECT_API_URL

from nids.config import RetrainConfig, load_training_config
from nids.monitoring.decision import DriftDecision
from nids.monitoring.outcomes import RetrainOutcome
from nids.monitoring.retrain_data import same_data_as_champion

logger = logging.getLogger(__name__)

TRAINING_FLOW_NAME = "training"
GATE_LIMIT = "nids-retrain-gate"
GATE_WAIT_SECONDS = 60     # how long a monitoring run waits for another one's gate check
GATE_LEASE_SECONDS = 300   # a dead holder's slot is freed after this long
ACTIVE_RUNS_READ = 50


@dataclass(frozen=True)
class TrainingActivity:
    active_run: str | None       # name of a training run that is pending or running
    last_start: datetime | None  # when the most recent training run started
    presumed_crashed: tuple[str, ...] = ()  # 'Running' (or due) for too long: not counted


@dataclass(frozen=True)
class RetrainGate:
    allowed: bool
    reason: str
    presumed_crashed: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetrainStart:
    mode: Literal["deployment", "subflow"]
    flow_run: str    # name or id of the training run
    state: str       # its state's name when start_training returned
    completed: bool  # whether that state is a completed one


def retrain_gate(activity: TrainingActivity, cooldown_hours: float, now: datetime) -> RetrainGate:
    """Allow a retrain unless one runs, or one started within the cooldown."""
    if activity.presumed_crashed:
        logger.warning("Training runs %s are presumed crashed (in progress for longer than "
                       "the maximum training time): they do not block a retrain",
                       ", ".join(activity.presumed_crashed))
    if activity.active_run is not None:
        return RetrainGate(False, f"training run {activity.active_run!r} is still in progress")
    if activity.last_start is not None:
        elapsed = now - activity.last_start
        if elapsed < timedelta(hours=cooldown_hours):
            hours = elapsed.total_seconds() / 3600
            return RetrainGate(
                False, f"last training started {hours:.1f} h ago, within the cooldown of "
                f"{cooldown_hours:g} h",
            )
    return RetrainGate(True, "no training in progress and none within the cooldown")


def in_progress_since(run: FlowRun) -> datetime | None:
    """When a pending or running run started (or was due to start, if it has not)."""
    return run.start_time or run.expected_start_time


def training_activity(max_training_hours: float = float("inf"),
                      now: datetime | None = None) -> TrainingActivity:
    """Training runs known to the Prefect API (the server, or the local ephemeral one); runs
    in progress for longer than `max_training_hours` are presumed crashed."""
    now = now or now_utc()
    flow_filter = FlowFilter(name=FlowFilterName(any_=[TRAINING_FLOW_NAME]))
    # Scheduled runs that are due count too: a run started by run_deployment and waiting for
    # a worker or a concurrency slot. The nightly cron's future runs do not.
    active_states = FlowRunFilterStateType(
        any_=[StateType.RUNNING, StateType.PENDING, StateType.SCHEDULED]
    )
    due = FlowRunFilterExpectedStartTime(before_=now)
    with get_client(sync_client=True) as client:
        active = client.read_flow_runs(
            flow_filter=flow_filter,
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=active_states), expected_start_time=due
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=ACTIVE_RUNS_READ,
        )
        started = client.read_flow_runs(
            flow_filter=flow_filter,
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(is_null_=False)),
            sort=FlowRunSort.START_TIME_DESC, limit=1,
        )
    limit = timedelta(hours=max_training_hours) if max_training_hours != float("inf") else None
    crashed = [run for run in active if limit is not None
               and (since := in_progress_since(run)) is not None and now - since > limit]
    alive = [run for run in active if run.id not in {c.id for c in crashed}]
    return TrainingActivity(
        active_run=alive[0].name if alive else None,
        last_start=started[0].start_time if started else None,
        presumed_crashed=tuple(f"{run.name} ({run.state_name} since "
                               f"{in_progress_since(run):%Y-%m-%d %H:%M} UTC)" for run in crashed),
    )


def server_deployment(name: str) -> str | None:
    """The deployment's id when a Prefect server is configured and knows it, else None."""
    if not PREFECT_API_URL.value():
        return None
    try:
        with get_client(sync_client=True) as client:
            return str(client.read_deployment_by_name(name).id)
    except ObjectNotFound:
        logger.warning("Deployment %s not found on %s", name, PREFECT_API_URL.value())
        return None


def start_training(
    parameters: dict, deployment_name: str, timeout_seconds: float,
    run_locally: Callable[..., object],
) -> RetrainStart:
    """Start the training deployment (waiting at most `timeout_seconds`), or run it here.

    `parameters` are the training flow's (`reason`, optionally `config`).
    """
    if server_deployment(deployment_name) is not None:
        flow_run = run_deployment(
            name=deployment_name, parameters=parameters, timeout=timeout_seconds,
        )
        state = flow_run.state
        state_name = state.name if state else "unknown"
        logger.info("Started deployment %s: flow run %s (%s)", deployment_name,
                    flow_run.name, state_name)
        return RetrainStart("deployment", flow_run.name, state_name,
                            completed=state is not None and state.is_completed())
    logger.info("No Prefect server deployment %s: training as a subflow", deployment_name)
    state = run_locally(**parameters, return_state=True)  # a failed training does not raise
    if not state.is_completed():
        logger.error("Training subflow ended %s: %s", state.name, state.message)
    return RetrainStart("subflow", TRAINING_FLOW_NAME, state.name, state.is_completed())


def current_gate(config: RetrainConfig) -> RetrainGate:
    """Whether a training run may start now: enabled, none running, none within the cooldown."""
    if not config.enabled:
        return RetrainGate(False, "retraining is disabled in config/monitoring.yaml")
    now = now_utc()
    activity = training_activity(config.max_training_hours, now)
    gate = retrain_gate(activity, config.cooldown_hours, now)
    if activity.presumed_crashed:
        return RetrainGate(gate.allowed, gate.reason, activity.presumed_crashed)
    return gate


def drift_reason(batch: str, decision: DriftDecision) -> str:
    """The reason a retrain gives: the batch and the thresholds it crossed."""
    return f"drift in {batch}: " + "; ".join(c.message for c in decision.crossed)


def retrain_if_allowed(gate: RetrainGate, reason: str, config: RetrainConfig,
                       run_locally: Callable[..., object]) -> RetrainOutcome:
    """Start the training flow (see start_training) when the gate allows it."""
    crashed = list(gate.presumed_crashed)
    if not gate.allowed:
        return RetrainOutcome(started=False, why=gate.reason, presumed_crashed=crashed)
    unchanged = same_data_as_champion(config.training_config or load_training_config())
    if unchanged is not None:
        logger.info("Retraining skipped: %s", unchanged)
        return RetrainOutcome(started=False, why=unchanged, unchanged_data=True,
                              presumed_crashed=crashed)
    parameters: dict = {"reason": reason}
    if config.training_config is not None:
        parameters["config"] = config.training_config.model_dump(mode="json")
    started = start_training(parameters, config.deployment_name, config.timeout_seconds,
                             run_locally)
    return RetrainOutcome(started=True, why=gate.reason, reason=reason, mode=started.mode,
                          flow_run=started.flow_run, state=started.state,
                          completed=started.completed, presumed_crashed=crashed)


def ensure_limit(name: str) -> None:
    """Create the global concurrency limit `name` with one slot, unless it exists."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
            logger.info("Created the global concurrency limit %s (1 slot)", name)
        except ObjectAlreadyExists:  # another run created it meanwhile
            pass


def retrain_single_flight(reason: str, config: RetrainConfig,
                          run_locally: Callable[..., object]) -> RetrainOutcome:
    """Check the gate and start the training flow as one step, one process at a time."""
    if not config.enabled:
        return retrain_if_allowed(current_gate(config), reason, config, run_locally)
    ensure_limit(GATE_LIMIT)
    try:
        with concurrency(GATE_LIMIT, occupy=1, timeout_seconds=GATE_WAIT_SECONDS,
                         lease_duration=GATE_LEASE_SECONDS, strict=True):
            return retrain_if_allowed(current_gate(config), reason, config, run_locally)
    except TimeoutError:
        return RetrainOutcome(started=False, why=f"another monitoring run held the retrain gate "
                              f"({GATE_LIMIT}) for {GATE_WAIT_SECONDS} s: it is starting one")


def now_utc() -> datetime:
    return datetime.now(UTC)
