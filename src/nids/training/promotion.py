"""Promotion: the candidate against the champion, then registration.

A model below the quality floor is refused: its MLflow run stays (failed) with its metrics,
and no version is registered. Otherwise the new version becomes the champion only when all of
these hold, and the challenger (with the reason) when one does not:
- the champion learnt the same kind of data (`data_source`: real or generated), reads the same
  feature columns and groups labels into the same classes: a model of another kind is compared
  by a person, never replaced automatically;
- the candidate scores better than the champion on the candidate's test split minus the rows
  the champion learnt from (logged with the champion; an older champion that logged none is
  scored on the whole split, and the reason says so);
- the candidate does not score worse than the champion (by more than
  `registry.holdout_tolerance`) on the champion's holdout, the test split logged with the
  champion, minus the rows the candidate trained on (`holdout`).
When the champion learnt from every row of the candidate's test split, that split cannot tell
them apart and the holdout alone decides: the candidate must then score better there, not merely
within the tolerance (the tolerance forgives a small loss on old rows only for a gain shown on
rows the champion never saw). In both comparisons macro-F1 counts the classes with at least
`registry.min_class_rows` rows among the rows compared (`holdout.ComparedMetric`): on real
corpus retrains a single flow of a one-flow class decided a promotion. The quality floor applies
to the candidate's whole test split.
A champion alias left on a version a failed run tagged `status=failed` is not replaced
automatically either.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nids.config import RegistryConfig, TrainingConfig
from nids.tracking import registry, runs
from nids.tracking.registry import CHALLENGER, CHAMPION, ModelBundle
from nids.training.evaluate import Evaluation
from nids.training.holdout import (
    ComparedMetric,
    HoldoutScores,
    SplitScores,
    learnt_rows,
    score_on_holdout,
    score_test_split,
)
from nids.training.monitoring import MonitoringArtifacts
from nids.training.train import TrainedModel

BY_HAND = ("; to promote it anyway, move the champion alias to its version by hand (MLflow UI, "
           "or MlflowClient().set_registered_model_alias)")


@dataclass
class Promotion:
    """The verdict on a candidate model."""

    alias: str | None   # "champion", "challenger", or None when the model is refused
    reason: str

    def raise_if_refused(self) -> None:
        if self.alias is None:
            raise ValueError(f"Model refused: {self.reason}. Raise the data quality or "
                             "lower registry.quality_floor in config/training.yaml.")


@dataclass(frozen=True)
class Candidate:
    """A trained model as promotion sees it."""

    trained: TrainedModel
    evaluation: Evaluation                 # on its own test split
    splits: dict[str, pd.DataFrame]
    data_source: str                       # real or generated
    label_grouping: str


@dataclass(frozen=True)
class Evidence:
    """What the verdict weighs."""

    metric: str
    score: float                           # the candidate on its whole test split (floor)
    champion_version: str | None = None    # None: there is no champion
    test: SplitScores | None = None        # both on its test split minus the champion's rows
    mismatch: str | None = None            # why the two cannot be compared automatically
    holdout: HoldoutScores | None = None   # both on the champion's holdout
    compared: str | None = None            # the metric as compared (`ComparedMetric`)

    def compared_as(self) -> str:
        return self.compared or self.metric


def decide_promotion(evidence: Evidence, floor: float, tolerance: float = 0.0) -> Promotion:
    """Refused below the floor; champion when first, or better on the test rows the champion
    never learnt from and not worse (by more than `tolerance`) on the champion's holdout, or,
    when the champion learnt from every test row, better on the holdout; else challenger."""
    metric, score = evidence.metric, evidence.score
    if score < floor:
        return Promotion(None, f"{metric} {score:.4f} is below the quality floor {floor:.4f}")
    if evidence.champion_version is None:
        return Promotion(CHAMPION, f"first model: {metric} {score:.4f}")
    if evidence.mismatch is not None:
        return Promotion(CHALLENGER, evidence.mismatch + BY_HAND)
    test = evidence.test
    if test.rows == 0:
        return holdout_alone(evidence)
    own = f"{evidence.compared_as()} {test.candidate:.4f}"
    if test.candidate <= test.champion:
        return Promotion(CHALLENGER, f"{own} does not beat champion {test.champion:.4f} "
                         f"{test.where()}")
    return confirm_on_holdout(evidence, f"{own} beats champion {test.champion:.4f} "
                              f"{test.where()}", tolerance)


def confirm_on_holdout(evidence: Evidence, beats: str, tolerance: float) -> Promotion:
    """Champion unless the candidate, better on its test split, is worse on the holdout."""
    if evidence.holdout is None:
        return Promotion(CHALLENGER, f"{beats}, but champion v{evidence.champion_version} has "
                         "no holdout rows it did not train on to confirm it" + BY_HAND)
    allowed = f" (tolerance {tolerance})" if tolerance else ""
    described = evidence.holdout.describe(evidence.compared_as()) + allowed
    if evidence.holdout.candidate < evidence.holdout.champion - tolerance:
        return Promotion(CHALLENGER, f"{beats}, but is worse {described}" + BY_HAND)
    return Promotion(CHAMPION, f"{beats}, and is not worse {described}")


def holdout_alone(evidence: Evidence) -> Promotion:
    """The champion learnt from every row of the candidate's test split: champion only when
    better on the champion's holdout (no tolerance: nothing else shows a gain)."""
    version, holdout = f"champion v{evidence.champion_version}", evidence.holdout
    nothing = (f"its test split has no rows {version} did not learn from "
               f"({evidence.test.left_out} left out)")
    if holdout is None:
        return Promotion(CHALLENGER, f"{nothing}, and {version} has no holdout rows it did "
                         "not train on: nothing compares them" + BY_HAND)
    described = holdout.describe(evidence.compared_as())
    if holdout.candidate <= holdout.champion:
        return Promotion(CHALLENGER, f"{nothing}; the holdout alone decides, and it does not "
                         f"score better {described}" + BY_HAND)
    return Promotion(CHAMPION, f"{nothing}; the holdout alone decides: better {described}")


def mismatch_with(candidate: Candidate, champion: ModelBundle) -> str | None:
    """Why the candidate cannot replace this champion automatically, or None."""
    tags, version = champion.tags, f"champion v{champion.version}"
    if registry.is_failed(tags):
        return (f"the champion alias is on v{champion.version}, which a failed run left "
                f"({tags.get(registry.FAILURE_TAG, 'no reason recorded')})")
    source = tags.get("data_source", "unrecorded")
    if source != candidate.data_source:
        return (f"it learnt {candidate.data_source} data and {version} {source} data")
    # Feature sets may differ (columns constant or duplicated in one model's training data are
    # dropped): both are comparable while each reads columns the other's rows have.
    missing = sorted(set(champion.features) - set(candidate.splits["test"].columns))
    if missing:
        return (f"{version} reads columns its test split lacks ({missing}): they cannot be "
                "scored on the same rows")
    grouping = tags.get("label_grouping", candidate.label_grouping)
    if grouping != candidate.label_grouping:
        return f"its classes are {candidate.label_grouping}, {version}'s {grouping}"
    return None


def champion_holdout(champion: ModelBundle, candidate: Candidate,
                     metric: ComparedMetric) -> HoldoutScores | None:
    """Both models on the champion's logged test split, minus the candidate's own rows."""
    with tempfile.TemporaryDirectory() as folder:
        holdout = registry.download_holdout(champion.run_id, Path(folder))
    if holdout is None:
        return None
    seen = [candidate.splits["train"], candidate.splits["validation"]]
    return score_on_holdout(holdout, candidate.trained.bundle, champion, seen, metric)


def champion_test_split(champion: ModelBundle, candidate: Candidate,
                        metric: ComparedMetric) -> SplitScores:
    """Both models on the candidate's test split, minus the rows the champion learnt from."""
    with tempfile.TemporaryDirectory() as folder:
        trained_rows = registry.download_trained_rows(champion.run_id, Path(folder))
    return score_test_split(candidate.splits["test"], trained_rows, candidate.trained.bundle,
                            candidate.evaluation.probabilities, champion, metric)


def gather_evidence(candidate: Candidate, model_name: str, metric: str,
                    min_class_rows: int = 1) -> Evidence:
    """The candidate's score, and the champion's where the two can be compared (classes with
    fewer than `min_class_rows` rows among the rows compared do not count: `ComparedMetric`)."""
    score = candidate.evaluation.metrics()[metric]
    champion = registry.load_bundle(model_name)
    if champion is None:
        return Evidence(metric, score)
    mismatch = mismatch_with(candidate, champion)
    if mismatch is not None:
        return Evidence(metric, score, champion.version, mismatch=mismatch)
    compared = ComparedMetric(metric, min_class_rows)
    test = champion_test_split(champion, candidate, compared)
    needed = test.rows == 0 or test.candidate > test.champion
    holdout = champion_holdout(champion, candidate, compared) if needed else None
    return Evidence(metric, score, champion.version, test, holdout=holdout,
                    compared=str(compared))


def compare_with_champion(candidate: Candidate, config: RegistryConfig) -> Promotion:
    """The verdict on a candidate."""
    evidence = gather_evidence(candidate, config.model_name, config.promotion_metric,
                               config.min_class_rows)
    return decide_promotion(evidence, config.quality_floor, config.holdout_tolerance)


def register_candidate(candidate: Candidate, promotion: Promotion, config: TrainingConfig,
                       origin: runs.RunOrigin, monitoring: MonitoringArtifacts | None) -> int:
    """Log the training run; unless the model is refused, log its holdout, the hashes of the
    rows it learnt from and `monitoring` (`prepare_monitoring`'s; None only for a refused
    model), register it and move the promotion's alias to it. Returns the version."""
    trained, splits = candidate.trained, candidate.splits
    with runs.start_training_run(origin.flow_run_id) as run:
        runs.log_training_run(config, trained, candidate.evaluation, splits["train"], origin,
                              promotion.reason)
        promotion.raise_if_refused()   # inside the run: the refused run is kept, as failed
        if monitoring is None:
            raise ValueError("A model is registered with its monitoring artifacts: pass "
                             "prepare_monitoring's.")
        runs.log_reference(monitoring.reference)
        runs.log_holdout(splits["test"], learnt_rows(splits))
        runs.log_monitoring(monitoring.models, monitoring.thresholds)
        tags = origin.version_tags(run.info.run_id, candidate.evaluation) | {
            "label_grouping": candidate.label_grouping}
        return runs.register_model(trained, splits["test"], config.registry.model_name, tags,
                                   promotion.alias)
