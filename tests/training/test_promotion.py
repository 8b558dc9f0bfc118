"""Promotion: the verdict on a candidate against the champion's scores (on the candidate's test
split and on the champion's holdout), the quality floor, and what makes two models
incomparable (data source, feature set, classes, a failed champion)."""

import numpy as np
import pandas as pd
import pytest

from nids.tracking.registry import ModelBundle
from nids.training.holdout import HoldoutScores, unseen_rows
from nids.training.promotion import (
    Candidate,
    Evidence,
    Promotion,
    decide_promotion,
    mismatch_with,
)
from nids.training.train import TrainedModel
from tests.support.builders import flow_frame


def holdout(candidate: float, champion: float, left_out: int = 0) -> HoldoutScores:
    return HoldoutScores("1", rows=500, left_out=left_out, candidate=candidate,
                         champion=champion)


def evidence(score: float, champion: float | None = None, **more) -> Evidence:
    version = None if champion is None and "mismatch" not in more else "1"
    return Evidence("macro_f1", score, version, champion, **more)


@pytest.mark.parametrize(
    ("case", "alias", "reason"),
    [
        (evidence(0.40), None, "macro_f1 0.4000 is below the quality floor 0.5000"),
        (evidence(0.40, 0.30), None, "below the quality floor"),  # better, still below the floor
        (evidence(0.50), "champion", "first model: macro_f1 0.5000"),  # the floor itself passes
        (evidence(0.90), "champion", "first model"),
        (evidence(0.91, 0.90, holdout=holdout(0.88, 0.87)), "champion",
         "macro_f1 0.9100 beats champion 0.9000, and is not worse on champion v1's holdout "
         "(500 rows) macro_f1 0.8800 vs 0.8700"),
        (evidence(0.91, 0.90, holdout=holdout(0.87, 0.87, left_out=12)), "champion",
         "(500 rows, 12 it trained on left out) macro_f1 0.8700 vs 0.8700"),  # a tie passes
        (evidence(0.90, 0.90), "challenger", "macro_f1 0.9000 does not beat champion 0.9000"),
        (evidence(0.80, 0.90), "challenger", "does not beat champion"),
        # the measured case: better on its own (generated) split, worse on the real holdout
        (evidence(0.69, 0.17, holdout=holdout(0.12, 0.87)), "challenger",
         "beats champion 0.1700 on its own test split, but is worse on champion v1's holdout"),
        (evidence(0.91, 0.90, holdout=None), "challenger",
         "champion v1 has no holdout rows it did not train on"),
        (evidence(0.99, mismatch="it learnt generated data and champion v1 real data"),
         "challenger", "it learnt generated data and champion v1 real data; to promote it "
         "anyway, move the champion alias"),
    ],
    ids=["below-floor", "better-below-floor", "floor", "first", "better-everywhere",
         "holdout-tie", "tie", "worse", "worse-on-holdout", "no-holdout", "mismatch"],
)
def test_decide_promotion(case: Evidence, alias: str | None, reason: str) -> None:
    promotion = decide_promotion(case, floor=0.5)
    assert promotion.alias == alias
    assert reason in promotion.reason


@pytest.mark.parametrize(("scores", "tolerance", "alias"), [
    (holdout(0.861, 0.870), 0.01, "champion"),    # a little below, within the tolerance
    (holdout(0.859, 0.870), 0.01, "challenger"),
    (holdout(0.869, 0.870), 0.0, "challenger"),   # no tolerance: never below
])
def test_the_holdout_tolerance(scores: HoldoutScores, tolerance: float, alias: str) -> None:
    promotion = decide_promotion(evidence(0.95, 0.90, holdout=scores), 0.5, tolerance)
    assert promotion.alias == alias
    assert promotion.reason.split("; to promote")[0].endswith(f"(tolerance {tolerance})") == (
        tolerance > 0)


def test_a_refused_model_raises_naming_the_reason_and_the_setting():
    refused = decide_promotion(evidence(0.4), floor=0.5)
    with pytest.raises(ValueError, match="Model refused: macro_f1 0.4000 is below the quality "
                       "floor 0.5000.*registry.quality_floor in config/training.yaml"):
        refused.raise_if_refused()
    Promotion("challenger", "does not beat champion").raise_if_refused()  # accepted: no error


FEATURES = ["flow_duration", "flow_bytes_s", "destination_port"]
REAL_TAGS = {"data_source": "real", "label_grouping": "labels", "status": "ready"}


def candidate(features: list[str] = FEATURES, source: str = "real",
              grouping: str = "labels", columns: list[str] = FEATURES) -> Candidate:
    """A candidate reading `features`, whose test split has `columns`."""
    trained = TrainedModel(model=None, classes=["BENIGN"], features=features, dropped={})
    return Candidate(trained, evaluation=None, splits={"test": pd.DataFrame(columns=columns)},
                     data_source=source, label_grouping=grouping)


def champion(features: list[str] = FEATURES, **tags: str) -> ModelBundle:
    return ModelBundle(None, ["BENIGN"], features, version="3", run_id="r",
                       tags=REAL_TAGS | tags)


@pytest.mark.parametrize(
    ("new", "old", "fragment"),
    [
        (candidate(source="generated"), champion(),
         "it learnt generated data and champion v3 real data"),
        (candidate(), champion(data_source="generated"),
         "it learnt real data and champion v3 generated data"),
        (candidate(), ModelBundle(None, ["BENIGN"], FEATURES, "3", "r", {}),  # before the tags
         "champion v3 unrecorded data"),
        (candidate(FEATURES[:2], columns=FEATURES[:2]), champion(),
         "champion v3 reads columns its test split lacks (['destination_port'])"),
        (candidate(grouping="families"), champion(),
         "its classes are families, champion v3's labels"),
        (candidate(), champion(status="failed", failure_reason="ConnectionError: down"),
         "the champion alias is on v3, which a failed run left (ConnectionError: down)"),
    ],
    ids=["generated-over-real", "real-over-generated", "untagged-champion", "features",
         "classes", "failed-champion"],
)
def test_a_champion_of_another_kind_is_not_replaced_automatically(new, old, fragment):
    assert fragment in mismatch_with(new, old)


def test_feature_sets_may_differ_while_both_read_columns_of_the_same_rows():
    # a retrain on new data dropped another constant column: still compared, on the same rows
    assert mismatch_with(candidate(FEATURES[:2] + ["idle_max"], columns=[*FEATURES, "idle_max"]),
                         champion()) is None


def test_the_same_kind_of_model_is_comparable():
    assert mismatch_with(candidate(list(reversed(FEATURES))), champion()) is None


def test_holdout_rows_the_candidate_trained_on_are_left_out():
    holdout_split = flow_frame(["BENIGN", "DDoS", "BENIGN", "PortScan"], seed=1)
    other = flow_frame(["BENIGN", "DDoS"], seed=2)
    train = pd.concat([other, holdout_split.iloc[[1]]], ignore_index=True)  # one holdout row
    validation = holdout_split.iloc[[3]].copy()
    validation["label"] = validation["label"].astype("category")  # dtype does not matter
    unseen = unseen_rows(holdout_split, [train, validation])
    assert unseen.equals(holdout_split.iloc[[0, 2]].reset_index(drop=True))
    # the same features under another class are another row
    relabelled = holdout_split.assign(label="Bot")
    assert len(unseen_rows(relabelled, [holdout_split])) == 4
    missing = holdout_split.copy()
    missing.loc[0, "flow_duration"] = np.nan
    assert len(unseen_rows(missing, [missing.iloc[[0]]])) == 3   # NaN rows match themselves
