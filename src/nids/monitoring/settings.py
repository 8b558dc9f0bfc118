"""Typed settings of the drift check: Evidently methods, thresholds, sampling.

Why the defaults (figures from bench/drift_detection.py and its docstring):
- feature_scale log1p: flow features are heavy-tailed (bytes/s up to 1e9). Wasserstein distance
  normed by the reference std is then ruled by a few outliers (benign flows twice as large
  flagged 21% of the columns on raw values, 64% on log values), and Evidently's binned
  methods (psi, jensenshannon, hellinger, kl_div) use equal-width bins: 0-3% on raw values.
- wasserstein 0.1 per column (Evidently's own choice above 1,000 rows): an effect size, 0.1
  reference std of log-values, whatever the number of rows. KS p-values are not: on 50,000
  rows p < 0.05 flagged 74% of the columns when benign flows grew by only 10%.
- drifted share 0.3 (Evidently: 0.5): on reference-like batches no column drifts at all, so the
  share only sets how broad a shift must be; 0.3 is about one aspect of the traffic (sizes,
  or timings) moving as a whole, while 8 of the 78 columns are constant in CICIDS2017.
- prediction drift jensenshannon 0.1 (Evidently's default above 1,000 rows): sampling noise
  stays below 0.01 on 20,000 rows; 0.1 is the attack share going from 20% to about 33%.
- sample_rows 20,000: Evidently's report costs about the same per column whatever the batch
  (its histograms and figures), plus time in proportion to the rows; on a 500,000-row batch
  20,000 rows per side took the report from 39 to 28 s on a loaded machine (the whole flow
  from 31 to 30 s on a quiet one; bench/monitoring.py). The sampling
  noise stays far below the thresholds: a reference against a resample of itself scored at
  most 0.017 on a column (0.013 with 50,000 rows; threshold 0.1) and 0.003 on predictions.
  A batch's rows are drawn uniformly before it is scored (the report then runs while the rest
  is scored), the reference's stratified by prediction: on the 500,000-row generated batch,
  50 uniform 20,000-row samples scored at most 0.012 on predictions against the whole batch.
- min_rows 1,000: Evidently itself switches to distance methods above 1,000 rows; below
  that, one batch's scores are noise (a one-row batch read as 98% of the columns drifted).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Methods whose score is a p-value: drift when the score is *below* the threshold.
P_VALUE_METHODS = frozenset(
    {"ks", "anderson", "cramer_von_mises", "mannw", "t_test", "chisquare", "g_test", "TVD"}
)


class NumericalMethod(StrEnum):
    """Evidently drift methods for numerical feature columns."""

    WASSERSTEIN = "wasserstein"
    KS = "ks"
    PSI = "psi"
    JENSENSHANNON = "jensenshannon"
    HELLINGER = "hellinger"
    KL_DIV = "kl_div"
    ANDERSON = "anderson"
    CRAMER_VON_MISES = "cramer_von_mises"
    MANN_WHITNEY = "mannw"
    T_TEST = "t_test"
    ENERGY_DISTANCE = "ed"


class CategoricalMethod(StrEnum):
    """Evidently drift methods for a categorical column with more than two classes."""

    JENSENSHANNON = "jensenshannon"
    PSI = "psi"
    HELLINGER = "hellinger"
    KL_DIV = "kl_div"
    CHISQUARE = "chisquare"
    G_TEST = "g_test"
    TVD = "TVD"


class RetrainOn(StrEnum):
    """Which crossed thresholds start a retrain."""

    ANY_THRESHOLD = "any_threshold"
    QUALITY_DROP = "quality_drop"


class FeatureScale(StrEnum):
    """How feature values are compared: as they are, or as sign(x) * log1p(|x|)."""

    LOG1P = "log1p"
    RAW = "raw"


def is_p_value(method: str) -> bool:
    """Whether a drift method scores with a p-value (drift below the threshold)."""
    return method in P_VALUE_METHODS


def _check_threshold(method: str, threshold: float) -> None:
    if is_p_value(method) and threshold >= 1:
        raise ValueError(f"{method} scores a p-value: its threshold must be < 1, not {threshold}")


class ColumnTest(BaseModel):
    """A drift test for one numerical column: an Evidently method and its threshold."""

    model_config = ConfigDict(extra="forbid")

    method: NumericalMethod = Field(description="Evidently drift method.")
    threshold: float = Field(
        gt=0, le=10, description="Drift when a distance is >= threshold or a p-value is below it."
    )

    @model_validator(mode="after")
    def _p_value_below_one(self) -> ColumnTest:
        _check_threshold(self.method, self.threshold)
        return self


class DriftSettings(BaseModel):
    """Drift thresholds and methods of the monitoring flow."""

    model_config = ConfigDict(extra="forbid")

    drifted_share_threshold: float = Field(
        0.3, gt=0, le=1,
        description="Feature drift when at least this share of the tested columns drifted.",
    )
    column_test: ColumnTest = Field(
        default=ColumnTest(method=NumericalMethod.WASSERSTEIN, threshold=0.1),
        description="Default test per feature column (Wasserstein distance in reference stds).",
    )
    column_overrides: dict[str, ColumnTest] = Field(
        default_factory=dict,
        description='Tests replacing the default, e.g. {"flow_iat_min": {"method": "psi", '
        '"threshold": 0.2}}.',
    )
    feature_scale: FeatureScale = Field(
        FeatureScale.LOG1P,
        description="Compare sign(x)*log1p(|x|) (heavy-tailed flow features) or raw values.",
    )
    prediction_method: CategoricalMethod = Field(
        CategoricalMethod.JENSENSHANNON, description="Drift method for the predicted class."
    )
    prediction_threshold: float = Field(
        0.1, gt=0, le=10, description="Prediction drift threshold (distance >= it, or p below it)."
    )
    retrain_on: RetrainOn = Field(
        RetrainOn.ANY_THRESHOLD,
        description="any_threshold: retrain when any threshold is crossed; quality_drop: when "
        "the batch has labels, retrain only if macro-F1 dropped (drift alone is reported).",
    )
    max_macro_f1_drop: float = Field(
        0.05, ge=0, le=1, description="Tolerated drop of the batch's macro-F1 below the champion's."
    )
    sample_rows: int = Field(
        20_000, ge=1_000, description="Rows sampled from each frame (the batch's uniformly, the "
        "reference's stratified by prediction)."
    )
    min_rows: int = Field(
        1_000, ge=1,
        description="A batch with fewer rows is scored and reported but never judged alone: "
        "no alert and no retrain, whatever its drift scores say.",
    )
    sample_seed: int = Field(0, description="Seed of the sampling, for reproducible reports.")

    @model_validator(mode="after")
    def _prediction_p_value_below_one(self) -> DriftSettings:
        _check_threshold(self.prediction_method, self.prediction_threshold)
        return self

    def test_for(self, column: str) -> ColumnTest:
        """The drift test of a feature column: its override, else the default."""
        return self.column_overrides.get(column, self.column_test)
