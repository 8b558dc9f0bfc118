"""Typed configuration of the flows, shared with their Prefect parameters.

Each flow has one model here; `config/<flow>.yaml` holds the project's values. Paths are
relative to the project root, so a worker that changes directory still finds them.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from nids.data.schema import (
    AS_ATTACK,
    AS_BENIGN,
    CICIDS2017_LABELS,
    DROP,
    OWN_CLASS,
    canonical_label,
)
from nids.monitoring.history import HistorySettings
from nids.monitoring.judgment_settings import JudgmentSettings
from nids.monitoring.settings import ColumnTest, DriftSettings, NumericalMethod
from nids.paths import CONFIG_DIR, PROJECT_ROOT

ConfigModel = TypeVar("ConfigModel", bound=BaseModel)


class LabelGrouping(StrEnum):
    """How labels become classes: the 15 labels, or the attack families of `schema`."""

    LABELS = "labels"
    FAMILIES = "families"


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(StrEnum):
    """Where training data comes from: the files in data/raw, or the generator."""

    REAL = "real"
    GENERATED = "generated"


class AttemptedPolicy(StrEnum):
    """What a row labelled '<attack> - Attempted' counts as (see `schema.label_class`)."""

    BENIGN = AS_BENIGN
    ATTACK = AS_ATTACK
    OWN_CLASS = OWN_CLASS
    DROP = DROP


class LabelPolicy(StrictModel):
    """How the labels only the corrected CIC-IDS-2017 has become classes."""

    infiltration_portscan: str = Field(
        OWN_CLASS,
        description="Rows labelled 'Infiltration - Portscan' (the port scan run from the "
        "infiltrated host): own_class (a class of its own, family Infiltration), a CICIDS2017 "
        "label to count them as (e.g. PortScan or Infiltration), benign, or drop.",
    )
    attempted: AttemptedPolicy = Field(
        AttemptedPolicy.BENIGN,
        description="Rows labelled '<attack> - Attempted' or with an 'Attempted Category' other "
        "than -1 (attacks that never reached their target): benign (the dataset authors' "
        "advice), attack (the label of the attack attempted), own_class (one class "
        "'Attempted'), or drop.",
    )

    @field_validator("infiltration_portscan")
    @classmethod
    def _known_label_or_policy(cls, value: str) -> str:
        if value in (OWN_CLASS, DROP):
            return value
        label = canonical_label(value)
        if label not in CICIDS2017_LABELS:
            raise ValueError(f"{value!r} is neither {OWN_CLASS}, {DROP}, benign nor one of "
                             f"the CICIDS2017 labels {list(CICIDS2017_LABELS)}")
        return label


class CorpusConfig(StrictModel):
    """The corpus of labelled traffic (`nids.data.corpus`) that training reads beside raw_dir."""

    dir: str = Field("data/corpus", description="Folder of the corpus partitions (DVC-tracked).")
    use: bool = Field(True, description="Train on the corpus too (false: raw_dir only).")
    window_days: float | None = Field(
        30, gt=0, description="Only partitions that arrived within this many days of the run "
        "(empty: no age limit).",
    )
    window_partitions: int | None = Field(
        None, ge=1, description="At most this many partitions, the newest (empty: no limit).",
    )
    max_rows_per_class: int | None = Field(
        20_000, ge=1, description="At most this many corpus rows of a class, the newest first, "
        "so that old benign traffic does not drown new attacks (empty: no cap).",
    )


class DataConfig(StrictModel):
    source: DataSource = Field(
        DataSource.REAL,
        description="real: train on the files in raw_dir, and fail when there are none; "
        "generated: train on generated CICIDS2017-format data (demos and tests only).",
    )
    raw_dir: str = Field("data/raw", description="Folder of CICIDS2017 CSVs or zips of them.")
    generated_dir: str = Field(
        "data/generated", description="Where generated CICIDS2017-format CSVs are written."
    )
    interim_dir: str = Field("data/interim", description="Parquet cache of parsed inputs.")
    processed_dir: str = Field("data/processed", description="Train/validation/test splits.")
    generated_rows: int = Field(
        200_000, ge=1_000, le=5_000_000,
        description="Rows of generated data (source: generated).",
    )
    generated_days: list[str] | None = Field(
        None, description="Days of generated data (default: the whole week).",
    )
    days: list[str] | None = Field(
        None,
        description="Train only on these days (e.g. Monday, Tuesday, Wednesday); all when empty.",
    )
    seed: int = Field(2017, description="Seed of the data generator.")
    verify_checksums: bool = Field(
        True, description="Warn when an official file name differs from UNB's size/sha256."
    )
    max_expanded_bytes: int = Field(
        4 * 1024**3, ge=1024**2,
        description="Refuse a zip (or .gz) whose CSVs expand past this many bytes, before "
        "reading it (default 4 GiB; the official zips expand to about 1.1 GB).",
    )
    labels: LabelPolicy = Field(
        default_factory=LabelPolicy,
        description="Classes of the labels only the corrected CIC-IDS-2017 has.",
    )
    corpus: CorpusConfig = Field(
        default_factory=CorpusConfig,
        description="Labelled batches kept by the monitoring flow, trained on beside raw_dir.",
    )


class ValidationConfig(StrictModel):
    max_missing_share: float = Field(
        0.5, ge=0, le=1, description="Refuse a column with a larger share of missing values."
    )
    max_infinite_share: float = Field(
        0.2, ge=0, le=1, description="Refuse a column with a larger share of infinite values."
    )


class FeatureConfig(StrictModel):
    label_grouping: LabelGrouping = Field(
        LabelGrouping.LABELS, description="Classes: the 15 labels or the attack families."
    )
    validation_share: float = Field(0.1, gt=0, lt=0.5)
    test_share: float = Field(0.2, gt=0, lt=0.5)
    max_rows_per_class: int | None = Field(
        40_000, ge=1_000,
        description="Undersample any class above this many rows in the training split only "
        "(keeps full-scale training within minutes; validation and test keep every row).",
    )
    max_benign_rows: int | None = Field(
        100_000, ge=1_000,
        description="BENIGN's own cap in the training split: benign traffic is the most varied "
        "class, and the one a false alarm comes from (empty: max_rows_per_class).",
    )
    reference_rows: int = Field(
        50_000, ge=100, description="Rows of the reference sample logged with the model."
    )
    seed: int = Field(42)


class XGBoostConfig(StrictModel):
    n_estimators: int = Field(400, ge=1, le=5_000)
    learning_rate: float = Field(0.15, gt=0, le=1)
    max_depth: int = Field(8, ge=1, le=20)
    min_child_weight: float = Field(1.0, ge=0)
    subsample: float = Field(0.9, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    max_bin: int = Field(256, ge=16, le=1024)
    early_stopping_rounds: int = Field(20, ge=1)
    early_stopping_rows_per_class: int | None = Field(
        20_000, ge=100,
        description="Validation rows of a class the early-stopping log-loss is computed on, at "
        "most (every row of rarer classes; capped classes weighted up to their full share); "
        "empty: the whole validation split.",
    )
    class_weight_power: float = Field(
        0.5, ge=0, le=1,
        description="Sample weight = (balanced class weight) ** power; 0 = none, 1 = balanced.",
    )
    n_jobs: int | None = Field(
        None, ge=1, description="XGBoost threads; empty: every core of the machine.",
    )
    seed: int = Field(42)


class RegistryConfig(StrictModel):
    experiment_name: str = Field("nids-training")
    model_name: str = Field("cicids2017-xgboost", description="Registered model name.")
    promotion_metric: str = Field("macro_f1", pattern="^(macro_f1|weighted_f1|accuracy)$")
    quality_floor: float = Field(
        0.5, ge=0, le=1, description="Refuse to register a model below this promotion metric."
    )
    min_class_rows: int = Field(
        5, ge=1, description="In the comparisons with the champion, macro-F1 counts the classes "
        "with at least this many rows among the rows compared (1: every class); a class of one "
        "flow moves it by up to 1/classes on that flow alone.",
    )
    holdout_tolerance: float = Field(
        0.0, ge=0, le=1,
        description="On the champion's holdout, a candidate may score at most this much below "
        "the champion and still replace it (a retrain on more days trades a little on the old "
        "days for the new ones); 0: never below.",
    )


class SearchConfig(StrictModel):
    """The optional hyperparameter search (Optuna) before the final fit."""

    enabled: bool = Field(
        False, description="Search XGBoost's parameters with Optuna before the final fit "
        "(off: the model section's values are used as they are).",
    )
    n_trials: int = Field(20, ge=1, le=1_000, description="Trial budget of the search.")
    timeout_seconds: float = Field(
        900, gt=0, le=24 * 3600,
        description="Stop starting trials after this many seconds (the budget may be cut).",
    )
    startup_trials: int = Field(
        5, ge=0, description="Trials run to the end before pruning (median pruner) starts.",
    )
    seed: int = Field(42, description="Seed of the sampler (TPE).")


class DaySplitConfig(StrictModel):
    """The day-based evaluation beside the random split: earlier days train, later days test."""

    train_days: list[str] | None = Field(
        ["Monday", "Tuesday", "Wednesday"],
        description="Days a second model learns from (empty: no day-based evaluation).",
    )
    test_days: list[str] | None = Field(
        ["Thursday", "Friday"],
        description="Later days that model is scored on, classes absent from training too.",
    )
    max_rows_per_class: int | None = Field(
        30_000, ge=1,
        description="Training rows of a class that model learns from, at most (empty: "
        "features.max_rows_per_class).",
    )
    test_rows_per_class: int | None = Field(
        50_000, ge=1,
        description="Rows of a class of the later days it is scored on, at most (every row of "
        "rarer classes; the scores weight capped classes up to their full count); empty: all.",
    )


class EvaluationConfig(StrictModel):
    """How the model card's figures are measured (promotion uses the random test split)."""

    by_day: DaySplitConfig = Field(default_factory=DaySplitConfig)
    bootstrap_resamples: int = Field(
        200, ge=0, le=10_000,
        description="Resamples of the test split for the F1 confidence intervals (0: none).",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Level of the intervals.")
    low_recall: float = Field(
        0.8, ge=0, le=1, description="The model card lists classes below this test recall.",
    )
    few_rows: int = Field(
        100, ge=0, description="The model card lists classes with fewer training rows.",
    )


class TrainingConfig(StrictModel):
    """Everything the training flow needs; rendered as a form in the Prefect UI."""

    data: DataConfig = Field(default_factory=DataConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    features: FeatureConfig = Field(default_factory=FeatureConfig)
    model: XGBoostConfig = Field(default_factory=XGBoostConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    metrics_file: str = Field(
        "reports/last_training_metrics.json",
        description="JSON summary of the last training run (read by CI and scripts).",
    )


def project_path(relative: str | Path) -> Path:
    """A config path resolved against the project root (absolute paths pass through)."""
    path = Path(relative)
    return path if path.is_absolute() else PROJECT_ROOT / path


def load_config(model: type[ConfigModel], path: Path) -> ConfigModel:
    """Read and validate a YAML config, naming the file and the bad key on error."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the config ({error})") from error
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ValueError(f"{path}: invalid config; fix these keys:\n{error}") from error


def load_training_config(path: Path = CONFIG_DIR / "training.yaml") -> TrainingConfig:
    return load_config(TrainingConfig, path)


def load_training_profile(profile: Path) -> TrainingConfig:
    """config/training.yaml with the sections a profile (e.g. config/training-search.yaml)
    sets replaced key by key; the profile names the file it extends under `extends`."""
    try:
        overlay = yaml.safe_load(profile.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{profile}: cannot read the config profile ({error})") from error
    base = profile.parent / overlay.pop("extends", "training.yaml")
    merged = merge_settings(load_training_config(base).model_dump(mode="json"), overlay)
    try:
        return TrainingConfig.model_validate(merged)
    except ValidationError as error:
        raise ValueError(f"{profile}: invalid config profile; fix these keys:\n{error}") from error


def merge_settings(base: dict, overlay: dict) -> dict:
    """`base` with `overlay`'s values, nested sections merged rather than replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = merge_settings(merged[key], value)
        merged[key] = value
    return merged


class RetrainConfig(StrictModel):
    enabled: bool = Field(True, description="Start the training flow when thresholds are crossed.")
    cooldown_hours: float = Field(
        24, ge=0, le=24 * 30,
        description="No retrain if a training run started within this many hours.",
    )
    deployment_name: str = Field(
        "training/training", description="Training deployment to start under a Prefect server."
    )
    timeout_seconds: float = Field(
        0, ge=0, le=6 * 3600,
        description="How long to wait for the started training run (0: do not wait).",
    )
    training_config: TrainingConfig | None = Field(
        None, description="Training configuration for the retrain (default: the deployment's)."
    )
    max_training_hours: float = Field(
        6, gt=0, le=24 * 7,
        description="A training run still Running (or waiting) after this many hours is "
        "presumed crashed: it is reported and no longer blocks a retrain.",
    )


class AlertConfig(StrictModel):
    """Alert channels. Secrets never live here (nor in a flow run's parameters): the webhook
    URL comes from the environment variable NIDS_ALERT_WEBHOOK_URL or a Prefect Secret block."""

    notification_block: str | None = Field(
        None, description="Prefect notification block, e.g. 'slack-webhook/nids-alerts'."
    )
    webhook_secret_block: str | None = Field(
        None, description="Name of a Prefect Secret block holding the webhook URL (default: "
        "the NIDS_ALERT_WEBHOOK_URL environment variable of the run)."
    )
    retries: int = Field(3, ge=0, le=10, description="Retries of a failed alert.")
    retry_delay_seconds: float = Field(
        2, ge=0, le=600, description="Delay before the first retry, doubled at each retry."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_webhook_url(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("webhook_url"):
            raise ValueError("alerts.webhook_url is no longer read: a URL with a token would be "
                             "stored in every run's parameters. Set NIDS_ALERT_WEBHOOK_URL in "
                             "the worker's environment or name a Prefect Secret block in "
                             "alerts.webhook_secret_block, and delete webhook_url.")
        if isinstance(data, dict) and "webhook_url" in data:  # an empty key left over
            data = {key: value for key, value in data.items() if key != "webhook_url"}
        return data


class IncomingConfig(StrictModel):
    """How batches are taken from the incoming folder (see nids.data.incoming)."""

    stable_seconds: float = Field(
        60, ge=0, le=24 * 3600,
        description="A batch without a '<batch>.done' marker is read once its size and "
        "modification time have not changed for this many seconds.",
    )
    reclaim_after_minutes: float = Field(
        15, gt=0, le=7 * 24 * 60,
        description="Batches claimed by a run that stopped renewing its claim this long ago "
        "(a crashed run) are taken again.",
    )


class LabelsConfig(StrictModel):
    """Label requests for unlabelled batches, and the labels files analysts send back."""

    requests_dir: str = Field("data/label_requests", description="Where label requests "
                              "(CSV: the flows to label, least confident first, then a random "
                              "sample) are written.")
    labels_dir: str = Field("data/labels", description="Drop labels files (CSV with flow_key "
                            "and label) here; they join the corpus and start a retrain.")
    max_request_rows: int = Field(2_000, ge=1, description="Flows asked for per request.")
    random_share: float = Field(
        0.2, ge=0, le=1, description="Share of a request drawn at random from the other flows, "
        "so that flows the champion misclassifies with confidence reach the analyst too.")


class MonitoringConfig(StrictModel):
    """Everything the monitoring flow needs; rendered as a form in the Prefect UI."""

    # Errors name the key and the rule, not the value: a webhook URL left in the config would
    # otherwise be printed with its token.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    model_name: str = Field("cicids2017-xgboost", description="Registered model to monitor.")
    incoming_dir: str = Field("data/incoming", description="Folder of new traffic batches.")
    incoming: IncomingConfig = Field(default_factory=IncomingConfig)
    reports_dir: str = Field("reports", description="Drift reports go to <reports_dir>/drift.")
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    # A default value, not a factory, so the Prefect UI's form shows it.
    drift: DriftSettings = Field(default=DriftSettings(column_overrides={
        # Ports are categorical codes, not magnitudes: compare their shares.
        "destination_port": ColumnTest(method=NumericalMethod.PSI, threshold=0.2),
    }))
    judgments: JudgmentSettings = Field(
        default=JudgmentSettings(), description="Model health, incident and drift verdicts.")
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    alerts: AlertConfig = Field(default_factory=AlertConfig)
    history: HistorySettings = Field(default=HistorySettings(),
                                     description="Evidently workspace, dashboard, retention.")
    labels: LabelsConfig = Field(default_factory=LabelsConfig,
                                 description="Label requests and labels files (issue 12).")


def load_monitoring_config(path: Path = CONFIG_DIR / "monitoring.yaml") -> MonitoringConfig:
    return load_config(MonitoringConfig, path)
