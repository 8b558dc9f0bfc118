"""The retrain gate, the training runs Prefect knows of, and how a training run is started."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from prefect import flow
from prefect.runtime import flow_run
from prefect.settings import (
    PREFECT_API_URL,
    temporary_settings,
)
from prefect.states import Completed, Failed

from nids.config import DataConfig, RetrainConfig, TrainingConfig
from nids.monitoring import retrain
from nids.monitoring.outcomes import RetrainOutcome
from nids.monitoring.retrain import RetrainGate, RetrainStart, TrainingActivity

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
DEPLOYMENT = "training/training"


def hours_ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


@pytest.mark.parametrize(
    ("activity", "cooldown_hours", "allowed", "reason"),
    [
        pytest.param(TrainingActivity("swift-fox", hours_ago(0.1)), 6, False,
                     "training run 'swift-fox' is still in progress", id="active-run"),
        pytest.param(TrainingActivity("swift-fox", hours_ago(100)), 6, False,
                     "'swift-fox' is still in progress", id="active-run-outside-cooldown"),
        pytest.param(TrainingActivity("swift-fox", None), 0, False,
                     "'swift-fox' is still in progress", id="active-run-no-cooldown"),
        pytest.param(TrainingActivity(None, hours_ago(1.5)), 6, False,
                     "last training started 1.5 h ago, within the cooldown of 6 h",
                     id="within-cooldown"),
        pytest.param(TrainingActivity(None, hours_ago(0.2)), 0.5, False,
                     "started 0.2 h ago, within the cooldown of 0.5 h", id="fractional-cooldown"),
        pytest.param(TrainingActivity(None, hours_ago(7)), 6, True,
                     "no training in progress and none within the cooldown",
                     id="outside-cooldown"),
        pytest.param(TrainingActivity(None, hours_ago(6)), 6, True, "none within the cooldown",
                     id="cooldown-exactly-elapsed"),
        pytest.param(TrainingActivity(None, NOW), 0, True, "none within the cooldown",
                     id="cooldown-0"),
        pytest.param(TrainingActivity(None, None), 6, True, "none within the cooldown",
                     id="no-history"),
    ],
)
def test_retrain_gate(activity, cooldown_hours, allowed, reason):
    gate = retrain.retrain_gate(activity, cooldown_hours, NOW)
    assert gate.allowed is allowed
    assert reason in gate.reason


@pytest.fixture
def no_server(monkeypatch):
    """No Prefect server configured, whatever the environment or profile says."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        yield


def test_server_deployment_is_none_without_a_server(no_server):
    assert retrain.server_deployment(DEPLOYMENT) is None


def recording(calls: list, state):
    """A stand-in training flow: records its call, returns the given final state."""
    def run(**kwargs):
        calls.append(kwargs)
        return state
    return run


def test_without_a_server_training_runs_here_with_its_parameters(no_server):
    calls = []
    parameters = {"reason": "drift in 03-friday.csv", "config": {"data": {"seed": 3}}}
    started = retrain.start_training(parameters, DEPLOYMENT, timeout_seconds=60,
                                     run_locally=recording(calls, Completed()))
    assert calls == [parameters | {"return_state": True}]
    assert started == RetrainStart("subflow", "training", "Completed", completed=True)


def test_a_failed_training_subflow_is_reported_not_raised(no_server, caplog):
    started = retrain.start_training({"reason": "drift"}, DEPLOYMENT, timeout_seconds=60,
                                     run_locally=recording([], Failed(message="refused")))
    assert started == RetrainStart("subflow", "training", "Failed", completed=False)
    assert "refused" in caplog.text


def test_retraining_disabled_in_the_config_closes_the_gate():
    gate = retrain.current_gate(RetrainConfig(enabled=False))
    assert gate == RetrainGate(False, "retraining is disabled in config/monitoring.yaml")


def test_a_closed_gate_starts_nothing_and_says_why():
    calls = []
    outcome = retrain.retrain_if_allowed(RetrainGate(False, "within the cooldown of 24 h"),
                                         "drift in a.csv", RetrainConfig(),
                                         run_locally=recording(calls, Completed()))
    assert calls == []
    assert outcome == RetrainOutcome(started=False, why="within the cooldown of 24 h")


@pytest.mark.parametrize(("state", "completed"), [(Completed(), True), (Failed(), False)])
def test_an_open_gate_trains_with_the_reason_and_the_training_config(no_server, state,
                                                                     completed, tmp_path):
    calls = []
    training = TrainingConfig(data=DataConfig(raw_dir=str(tmp_path)))  # no data: not compared
    config = RetrainConfig(training_config=training)
    outcome = retrain.retrain_if_allowed(RetrainGate(True, "none within the cooldown"),
                                         "drift in a.csv", config,
                                         run_locally=recording(calls, state))
    assert calls == [{"reason": "drift in a.csv", "return_state": True,
                      "config": training.model_dump(mode="json")}]
    assert outcome.started and outcome.completed is completed
    assert (outcome.mode, outcome.flow_run, outcome.reason) == (
        "subflow", "training", "drift in a.csv")


# --- against a real Prefect API ------------------------------------------------------------

@flow(name=retrain.TRAINING_FLOW_NAME)
def tiny_training(reason: str) -> tuple[str, TrainingActivity]:
    """Stands in for the training flow: what the API says while this run is in progress."""
    return flow_run.name, retrain.training_activity()


@flow(name="monitoring")
def tiny_monitoring() -> None:
    """Another flow: its runs are not training runs."""


@pytest.mark.services
def test_training_activity_follows_a_training_run(prefect_api):
    assert retrain.training_activity() == TrainingActivity(None, None)  # a fresh database
    before = datetime.now(UTC)
    run_name, during = tiny_training("drift")
    assert during.active_run == run_name
    after = retrain.training_activity()
    assert after.active_run is None
    assert before <= after.last_start <= datetime.now(UTC)
    assert during.last_start == after.last_start
    tiny_monitoring()
    assert retrain.training_activity() == after  # only training runs count
    gate = retrain.retrain_gate(after, cooldown_hours=1, now=retrain.now_utc())
    assert not gate.allowed and "within the cooldown of 1 h" in gate.reason


@pytest.mark.services
def test_server_without_the_deployment_trains_here(prefect_api, caplog):
    calls = []
    with caplog.at_level(logging.WARNING, logger="nids.monitoring.retrain"):
        started = retrain.start_training({"reason": "drift"}, DEPLOYMENT, timeout_seconds=60,
                                         run_locally=recording(calls, Completed()))
    assert started.mode == "subflow" and calls == [{"reason": "drift", "return_state": True}]
    assert f"Deployment {DEPLOYMENT} not found on {prefect_api}" in caplog.text


def test_a_presumed_crashed_run_does_not_close_the_gate():
    """Issue 10: a training run killed with its host stayed 'Running' and blocked every
    retrain, even 720 h later."""
    zombie = "swift-fox (Running since 2026-10-23 18:00 UTC)"
    activity = TrainingActivity(None, hours_ago(720), presumed_crashed=(zombie,))
    gate = retrain.retrain_gate(activity, cooldown_hours=24, now=NOW)
    assert gate.allowed
    outcome = retrain.retrain_if_allowed(
        RetrainGate(False, "within the cooldown", presumed_crashed=(zombie,)), "drift",
        RetrainConfig(), run_locally=recording([], Completed()))
    assert outcome.presumed_crashed == [zombie]


@flow(name=retrain.TRAINING_FLOW_NAME)
def long_training() -> tuple[str, TrainingActivity, TrainingActivity]:
    """A training run asking the API what it looks like now, and seven hours from now."""
    later = retrain.now_utc() + timedelta(hours=7)
    return (flow_run.name, retrain.training_activity(6, retrain.now_utc()),
            retrain.training_activity(6, later))


@pytest.mark.services
def test_a_run_in_progress_past_the_maximum_training_time_is_presumed_crashed(prefect_api):
    name, now, later = long_training()
    assert now.active_run == name and now.presumed_crashed == ()
    assert later.active_run is None
    [zombie] = later.presumed_crashed
    assert zombie.startswith(f"{name} (Running since ")
