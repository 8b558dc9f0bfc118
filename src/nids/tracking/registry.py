"""MLflow at the flows' edge: tracking set-up, logging a trained model, the champion alias.

The model is stored in XGBoost's own format (ubj) with its signature, an input example and
metadata naming its classes and features, so scoring needs nothing but the registry.

Only MLflow's "not found" means "no such model or alias"; any other error is a registry fault
and fails the run, saying where the registry was expected. The HTTP client's retries are
bounded (`HTTP_DEFAULTS`) so a run with the registry down fails in about a minute.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode

from nids.paths import MLFLOW_ARTIFACTS_DIR, MLFLOW_DB

logger = logging.getLogger(__name__)

CHAMPION, CHALLENGER = "champion", "challenger"
MODEL_ARTIFACT = "model"
REFERENCE_ARTIFACT = "reference/reference.parquet"
HOLDOUT_ARTIFACT = "holdout/test.parquet"
# What loading the logged model imports (the XGBoost scikit-learn model and its data types).
MODEL_PACKAGES = ("numpy", "pandas", "scikit-learn", "scipy", "xgboost")
# The `holdout.row_hashes` (uint64, sorted, unique) of the train and validation rows.
TRAINED_ROWS_ARTIFACT = "holdout/trained_rows.npy"
# A version's `status` tag: pending while its run registers it, ready once its alias is set,
# failed (with `failure_reason`) when the run failed after creating it.
STATUS_TAG, PENDING, READY, FAILED = "status", "pending", "ready", "failed"
FAILURE_TAG = "failure_reason"
NOT_FOUND = ErrorCode.Name(RESOURCE_DOES_NOT_EXIST)
# MLflow's HTTP client defaults retry for about 4 minutes per request (7 retries, backoff 2,
# 120 s timeout). These retry about a minute: 5 retries with backoff 2 wait 0+4+8+16+32 s.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "5",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "2",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}


@dataclass
class ModelBundle:
    """A loaded model version with what scoring needs to use it."""

    model: xgb.XGBClassifier
    classes: list[str]
    features: list[str]
    version: str
    run_id: str
    tags: dict[str, str] = field(default_factory=dict)

    def test_metric(self, name: str) -> float | None:
        """A test-split metric recorded on the version at registration (e.g. macro_f1)."""
        value = self.tags.get(f"test_{name}")
        return float(value) if value is not None else None


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, or the project's SQLite store by absolute path."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{MLFLOW_DB}"


def artifact_location(uri: str) -> str | None:
    """Artifacts of a SQLite store go to `mlartifacts/` beside the database file, not to
    wherever the worker's cwd is; a tracking server decides for itself (None)."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///")).resolve()
    folder = MLFLOW_ARTIFACTS_DIR if database == MLFLOW_DB else database.parent / "mlartifacts"
    return folder.as_uri()


def masked(text: str) -> str:
    """`text` with the credentials of any URL in it (`//user:password@`) masked."""
    return re.sub(r"//[^/@\s]*@", "//***@", text)


def unreachable(error: Exception) -> ConnectionError:
    """The error of any registry call that failed other than with "not found"."""
    return ConnectionError(masked(
        f"The MLflow registry at {tracking_uri()} is unreachable or failing ({error}). Check "
        "that the tracking server runs (`make status`) and that MLFLOW_TRACKING_URI points at "
        "it, then start the run again."
    ))


def is_not_found(error: MlflowException) -> bool:
    return error.error_code == NOT_FOUND


def use_tracking_store() -> str:
    """Point MLflow at the tracking store (explicitly: workers change directory), with the
    project's bounded HTTP retries unless the environment sets its own."""
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    return uri


def configure_tracking(experiment_name: str) -> str:
    """Point MLflow at the store and the experiment; returns the experiment id."""
    use_tracking_store()
    try:
        experiment = mlflow.get_experiment_by_name(experiment_name)
    except MlflowException as error:
        raise unreachable(error) from error
    if experiment is None:
        experiment_id = mlflow.create_experiment(
            experiment_name, artifact_location=artifact_location(tracking_uri())
        )
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def log_model(
    model: xgb.XGBClassifier, example: pd.DataFrame, classes: list[str], features: list[str]
) -> str:
    """Log the model in the active run; returns its model URI."""
    signature = infer_signature(example, model.predict_proba(example))
    # The packages loading the model needs, pinned to the installed versions: MLflow's own
    # inference of them scans every installed distribution, seconds per run.
    info = mlflow.xgboost.log_model(
        model, name=MODEL_ARTIFACT, signature=signature, input_example=example.head(5),
        model_format="ubj", metadata={"classes": classes, "features": features},
        pip_requirements=[f"{name}=={metadata.version(name)}" for name in MODEL_PACKAGES],
    )
    return info.model_uri


def register_version(
    model_uri: str, model_name: str, tags: dict[str, str]
) -> ModelVersion:
    version = mlflow.register_model(model_uri, model_name, tags=tags)
    logger.info("Registered %s version %s", model_name, version.version)
    return version


def set_alias(model_name: str, alias: str, version: str) -> None:
    MlflowClient().set_registered_model_alias(model_name, alias, version)


def version_by_alias(model_name: str, alias: str) -> ModelVersion | None:
    """The version an alias points at, or None when the model or the alias does not exist.
    Any other failure (an unreachable server, a locked store) raises ConnectionError."""
    client = MlflowClient()
    try:
        registered = client.get_registered_model(model_name)
        version = registered.aliases.get(alias)
        return None if version is None else client.get_model_version(model_name, str(version))
    except MlflowException as error:
        if is_not_found(error):
            return None
        raise unreachable(error) from error


def delete_alias(model_name: str, alias: str, version: str) -> None:
    """Remove `alias` if it points at `version` (and leave it where it is otherwise)."""
    holder = version_by_alias(model_name, alias)
    if holder is not None and str(holder.version) == str(version):
        MlflowClient().delete_registered_model_alias(model_name, alias)


def set_status(model_name: str, version: str, status: str, reason: str | None = None) -> None:
    """Tag a version's status (and why it failed)."""
    client = MlflowClient()
    client.set_model_version_tag(model_name, version, STATUS_TAG, status)
    if reason is not None:
        client.set_model_version_tag(model_name, version, FAILURE_TAG, reason[:5000])


def is_failed(tags: dict[str, str]) -> bool:
    return tags.get(STATUS_TAG) == FAILED


def load_bundle(model_name: str, alias: str = CHAMPION) -> ModelBundle | None:
    """The model an alias points at, with its classes and features; None if there is none."""
    version = version_by_alias(model_name, alias)
    if version is None:
        return None
    uri = f"models:/{model_name}/{version.version}"  # the alias may move meanwhile
    try:
        metadata = mlflow.models.get_model_info(uri).metadata or {}
        model = mlflow.xgboost.load_model(uri)
    except MlflowException as error:
        raise unreachable(error) from error
    if "classes" not in metadata or "features" not in metadata:
        raise ValueError(
            f"models:/{model_name}@{alias} (version {version.version}) carries no class/feature "
            "metadata; it was not logged by this project's training flow. Move the alias to a "
            "version that was."
        )
    return ModelBundle(
        model=model, classes=list(metadata["classes"]),
        features=list(metadata["features"]), version=str(version.version),
        run_id=version.run_id, tags=dict(version.tags or {}),
    )


def predict_probabilities(bundle: ModelBundle, features: pd.DataFrame) -> np.ndarray:
    """The probability of each of the bundle's classes (columns in its class order)."""
    # As a NumPy array: XGBoost converts a DataFrame column by column (about 15 ms a call
    # under pandas 3, whatever the rows), the array as a whole; the columns are in order.
    return bundle.model.predict_proba(features[bundle.features].to_numpy())


def best_classes(bundle: ModelBundle,
                 probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class name, probability of that class) for each row of `probabilities`."""
    best = probabilities.argmax(axis=1)
    names = np.asarray(bundle.classes, dtype=object)[best]
    return names, probabilities[np.arange(len(best)), best]


def predict_classes(bundle: ModelBundle, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(class name, probability of that class) for each row, with the bundle's features."""
    return best_classes(bundle, predict_probabilities(bundle, features))


def download_reference(run_id: str, destination: Path) -> pd.DataFrame:
    """The reference sample logged with a training run."""
    path = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=REFERENCE_ARTIFACT, dst_path=str(destination)
    )
    return pd.read_parquet(path)


def _download_if_logged(run_id: str, artifact: str, destination: Path) -> str | None:
    """The local path of a run's artifact; None for runs that did not log it."""
    folder, name = artifact.split("/")
    if name not in {Path(a.path).name for a in MlflowClient().list_artifacts(run_id, folder)}:
        return None
    return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact,
                                               dst_path=str(destination))


def download_holdout(run_id: str, destination: Path) -> pd.DataFrame | None:
    """The test split logged with a training run; None for runs that logged none."""
    path = _download_if_logged(run_id, HOLDOUT_ARTIFACT, destination)
    return None if path is None else pd.read_parquet(path)


def download_trained_rows(run_id: str, destination: Path) -> np.ndarray | None:
    """The row hashes of what a training run learnt from; None for runs that logged none
    (versions registered before they were logged)."""
    path = _download_if_logged(run_id, TRAINED_ROWS_ARTIFACT, destination)
    return None if path is None else np.load(path, allow_pickle=False)


def delete_registered_model(model_name: str) -> bool:
    """Remove a registered model and its versions (for sandboxes such as the scenario)."""
    try:
        MlflowClient().delete_registered_model(model_name)
    except MlflowException as error:
        if is_not_found(error):
            return False
        raise unreachable(error) from error
    return True
