"""Day-based evaluation: earlier days train, later days test, unseen classes reported."""

import pytest

from nids.config import DaySplitConfig, FeatureConfig, XGBoostConfig
from nids.training.day_evaluation import evaluate_by_day

SMALL_MODEL = XGBoostConfig(n_estimators=20, max_depth=3, learning_rate=0.3, n_jobs=1,
                            early_stopping_rounds=5)
FEATURES = FeatureConfig(max_rows_per_class=None)
WEEK = {"Monday": ["BENIGN"] * 120,
        "Tuesday": ["BENIGN"] * 60 + ["FTP-Patator"] * 60,
        "Friday": ["BENIGN"] * 50 + ["FTP-Patator"] * 20 + ["PortScan"] * 30}


def test_classes_absent_from_the_training_days_are_scored_and_marked(learnable_days_frame):
    frame = learnable_days_frame(WEEK)
    result = evaluate_by_day(frame, DaySplitConfig(train_days=["monday", "Tuesday"],
                                                   test_days=["Friday"]), FEATURES, SMALL_MODEL)
    table = result.per_class
    assert (result.train_rows, result.test_rows) == (216, 100)  # Monday+Tuesday minus validation
    assert table.loc["PortScan", "recall"] == 0 and not table.loc["PortScan", "in_training"]
    assert table.loc["FTP-Patator", "recall"] >= 0.9 and table.loc["FTP-Patator", "in_training"]
    assert table["support"].to_dict() == {"BENIGN": 50, "FTP-Patator": 20, "PortScan": 30}
    metrics = result.metrics()
    assert metrics["day_unseen_classes"] == 1 and metrics["day_recall_PortScan"] == 0
    # PortScan's first feature lies beyond FTP-Patator's, on the attack side of the trees'
    # split: named FTP-Patator, it is still detected; BENIGN rows raise few false alarms.
    assert table.loc["PortScan", "detected"] >= 0.8 and table.loc["BENIGN", "detected"] <= 0.1
    assert metrics["day_detected_PortScan"] == table.loc["PortScan", "detected"]
    assert metrics["day_macro_f1"] == pytest.approx(result.macro_f1)


def test_caps_train_on_fewer_rows_and_score_a_weighted_sample(learnable_days_frame):
    frame = learnable_days_frame(WEEK)
    split = DaySplitConfig(train_days=["Monday", "Tuesday"], test_days=["Friday"],
                           max_rows_per_class=30, test_rows_per_class=25)
    result = evaluate_by_day(frame, split, FEATURES, SMALL_MODEL)
    assert result.train_rows == 60                       # 30 BENIGN, 30 FTP-Patator
    assert (result.test_rows, result.scored_rows) == (100, 25 + 20 + 25)
    # Weighted by the rows each stands for, the counts are those of every Friday row.
    assert result.per_class["support"].to_dict() == {"BENIGN": 50, "FTP-Patator": 20,
                                                     "PortScan": 30}
    assert result.per_class.loc["PortScan", "recall"] == 0
    assert result.per_class.loc["FTP-Patator", "recall"] >= 0.9
    assert result.metrics()["day_scored_rows"] == 70


@pytest.mark.parametrize(("split", "why"), [
    (DaySplitConfig(train_days=None, test_days=["Friday"]), None),
    (DaySplitConfig(train_days=["Monday"], test_days=[]), None),
    (DaySplitConfig(train_days=["Monday"], test_days=["Thursday"]), "Thursday"),
], ids=["no-train-days", "no-test-days", "day-without-rows"])
def test_no_day_evaluation_without_days(learnable_days_frame, caplog, split, why):
    assert evaluate_by_day(learnable_days_frame(WEEK), split, FEATURES, SMALL_MODEL) is None
    if why:
        assert why in caplog.text
