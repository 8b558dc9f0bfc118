"""Promotion: the verdict on a candidate against the champion's scores (on the candidate's test
split minus the champion's training rows, and on the champion's holdout minus the candidate's),
the quality floor, and what makes two models incomparable (data source, feature set, classes, a
failed champion)."""

import numpy as np
import pandas as pd
import pytest

from nids.tracking.registry import ModelBundle
from nids.training import holdout as holdout_rows
from nids.training.holdout import HoldoutScores, SplitScores, unseen_rows
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


def split(candidate: float | None, champion: float | None, rows: int = 400,
          left_out: int | None = 0) -> SplitScores:
    return SplitScores("1", rows, left_out, candidate, champion)


def evidence(score: float, champion: float | None = None, **more) -> Evidence:
    """The candidate's score on its whole test split; `champion`: the champion's on the same
    rows (nothing left out), unless `test` gives the comparison."""
    version = None if champion is None and not more.keys() & {"mismatch", "test"} else "1"
    test = more.pop("test", None if champion is None else split(score, champion))
    return Evidence("macro_f1", score, version, test, **more)


@pytest.mark.parametrize(
    ("case", "alias", "reason"),
    [
        (evidence(0.40), None, "macro_f1 0.4000 is below the quality floor 0.5000"),
        (evidence(0.40, 0.30), None, "below the quality floor"),  # better, still below the floor
        (evidence(0.50), "champion", "first model: macro_f1 0.5000"),  # the floor itself passes
        (evidence(0.90), "champion", "first model"),
        (evidence(0.91, 0.90, holdout=holdout(0.88, 0.87)), "champion",
         "macro_f1 0.9100 beats champion 0.9000 on its test split (400 rows), and is not worse "
         "on champion v1's holdout (500 rows) macro_f1 0.8800 vs 0.8700"),
        (evidence(0.91, 0.90, holdout=holdout(0.87, 0.87, left_out=12)), "champion",
         "(500 rows, 12 it trained on left out) macro_f1 0.8700 vs 0.8700"),  # a tie passes
        (evidence(0.90, 0.90), "challenger", "macro_f1 0.9000 does not beat champion 0.9000 "
         "on its test split (400 rows)"),
        (evidence(0.80, 0.90), "challenger", "does not beat champion"),
        # the measured case: better on its own (generated) split, worse on the real holdout
        (evidence(0.69, 0.17, holdout=holdout(0.12, 0.87)), "challenger",
         "beats champion 0.1700 on its test split (400 rows), but is worse on champion v1's "
         "holdout"),
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


@pytest.mark.parametrize(
    ("case", "alias", "reason"),
    [
        # the measured case: worse on its whole test split, mostly the champion's training rows,
        # better on the rows the champion never saw; the score there decides, not the whole split
        (evidence(0.80, test=split(0.97, 0.95, rows=300, left_out=2700),
                  holdout=holdout(0.96, 0.93)), "champion",
         "macro_f1 0.9700 beats champion 0.9500 on its test split (300 rows, 2700 champion v1 "
         "learnt from left out), and is not worse on champion v1's holdout"),
        (evidence(0.99, test=split(0.90, 0.95, rows=300, left_out=2700)), "challenger",
         "macro_f1 0.9000 does not beat champion 0.9500 on its test split (300 rows, 2700 "
         "champion v1 learnt from left out)"),
        # an older champion without its training rows: the whole split, and the reason says so
        (evidence(0.91, test=split(0.91, 0.90, rows=3000, left_out=None),
                  holdout=holdout(0.9, 0.9)), "champion",
         "beats champion 0.9000 on its test split (3000 rows; champion v1 logged no training "
         "rows, so the comparison could not leave them out), and is not worse"),
        (evidence(0.80, test=split(0.80, 0.90, rows=3000, left_out=None)), "challenger",
         "does not beat champion 0.9000 on its test split (3000 rows; champion v1 logged no "
         "training rows"),
        # the champion learnt from every test row: the holdout alone decides, and must show a gain
        (evidence(0.9, test=split(None, None, rows=0, left_out=3000),
                  holdout=holdout(0.91, 0.90)), "champion",
         "its test split has no rows champion v1 did not learn from (3000 left out); the "
         "holdout alone decides: better on champion v1's holdout (500 rows) macro_f1 0.9100 vs "
         "0.9000"),
        (evidence(0.9, test=split(None, None, rows=0, left_out=3000),
                  holdout=holdout(0.90, 0.90)), "challenger",
         "the holdout alone decides, and it does not score better on champion v1's holdout"),
        (evidence(0.9, test=split(None, None, rows=0, left_out=3000)), "challenger",
         "and champion v1 has no holdout rows it did not train on: nothing compares them"),
        # the floor is on the whole test split, whatever the unseen rows say
        (evidence(0.40, test=split(0.99, 0.10, rows=300, left_out=2700)), None,
         "macro_f1 0.4000 is below the quality floor"),
    ],
    ids=["unseen-better", "unseen-worse", "no-training-rows-better", "no-training-rows-worse",
         "holdout-alone-better", "holdout-alone-tie", "nothing-to-compare", "floor-on-whole"],
)
def test_the_champion_is_compared_on_test_rows_it_never_learnt_from(
        case: Evidence, alias: str | None, reason: str) -> None:
    promotion = decide_promotion(case, floor=0.5)
    assert promotion.alias == alias
    assert reason in promotion.reason


def test_the_holdout_alone_ignores_the_tolerance():
    # a little below on the holdout would pass beside a gain on unseen test rows; alone, not
    scores = holdout(0.865, 0.870)
    beside = evidence(0.95, test=split(0.95, 0.90), holdout=scores)
    alone = evidence(0.95, test=split(None, None, rows=0, left_out=400), holdout=scores)
    assert decide_promotion(beside, 0.5, tolerance=0.01).alias == "champion"
    assert decide_promotion(alone, 0.5, tolerance=0.01).alias == "challenger"


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


def test_rows_are_hashed_chunk_by_chunk_to_the_same_hashes(monkeypatch):
    rows = flow_frame(["BENIGN", "DDoS", "PortScan"] * 7, seed=3)
    rows["label"] = rows["label"].astype("category")   # each chunk sees its own categories
    whole = holdout_rows.row_hashes(rows)
    monkeypatch.setattr(holdout_rows, "HASH_CHUNK_ROWS", 4)   # five chunks of 4 rows, one of 1
    assert np.array_equal(holdout_rows.row_hashes(rows), whole)
    assert len(np.unique(whole)) == 21
    assert holdout_rows.row_hashes(rows.iloc[:0]).dtype == np.uint64


def test_nothing_left_out_keeps_the_rows_without_copying_them():
    rows = flow_frame(["BENIGN", "DDoS", "BENIGN"], seed=4)
    kept = holdout_rows.rows_where(rows, np.ones(3, dtype=bool))
    assert kept.equals(rows)
    assert np.shares_memory(kept["flow_duration"].to_numpy(), rows["flow_duration"].to_numpy())
    some = holdout_rows.rows_where(rows, np.array([False, True, True]))
    assert some.equals(rows.iloc[1:].reset_index(drop=True))
