"""The model card's text: sections, intervals, and the weaknesses it lists."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from nids.tracking.lineage import FINGERPRINT, DataVersion, GitState, ModelLineage
from nids.training.day_evaluation import DayEvaluation
from nids.training.evaluate import evaluate
from nids.training.intervals import f1_intervals
from nids.training.model_card import CardFacts, render_card, weaknesses

TRUE = np.array(["BENIGN"] * 90 + ["DDoS"] * 8 + ["Heartbleed"] * 2, dtype=object)
PREDICTED = np.array(["BENIGN"] * 90 + ["DDoS"] * 8 + ["BENIGN"] * 2, dtype=object)


@pytest.fixture
def facts() -> CardFacts:
    lineage = ModelLineage("nids-model", "3", "run123",
                           DataVersion("abc", FINGERPRINT, None, GitState("deadbeef", True)))
    day = DayEvaluation(["Monday"], ["Friday"], 500, 100, 0.4, 100, None, pd.DataFrame(
        {"recall": [0.99, 0.0], "precision": [0.9, 0.0], "f1": [0.94, 0.0],
         "support": [90, 10], "detected": [0.01, 0.3], "in_training": [True, False]},
        index=pd.Index(["BENIGN", "PortScan"], name="class")))
    class_rows = pd.DataFrame({"training rows": [900, 80, 9], "test rows": [90, 8, 2]},
                              index=pd.Index(["BENIGN", "DDoS", "Heartbleed"], name="class"))
    return CardFacts(lineage, "champion", "first model", "real",
                     {"train": 989, "validation": 50, "test": 100}, class_rows,
                     {"max_depth": 8}, None, evaluate(TRUE, PREDICTED),
                     f1_intervals(TRUE, PREDICTED, 50, 0.95, 0), day, "",
                     pd.Series({"destination_port": 120.5}), None, 0.8, 10)


def test_the_weaknesses_are_low_recall_few_rows_and_unseen_classes(facts) -> None:
    found = weaknesses(facts)
    assert found == ["Heartbleed: recall 0.0000 on the test split; only 9 training rows",
                     "PortScan: absent from Monday: 0.3000 of its rows on the later days "
                     "called an attack"]


def test_the_card_shows_lineage_intervals_and_every_section(facts) -> None:
    card = render_card(facts)
    assert card.startswith("# Model card: nids-model version 3 (champion)")
    macro = facts.intervals.loc["macro_f1"]
    assert f"macro-F1 {facts.evaluation.macro_f1:.4f} [{macro.low:.4f}, {macro.high:.4f}]" in card
    assert "ingest fingerprint `abc`" in card and "`deadbeef` plus uncommitted changes" in card
    assert "| PortScan | 0.0 | 0.3 | 0.0 | 10 | False |" in card
    assert "| destination_port | 120.5 |" in card
    assert "As configured (no search)." in card and "| max_depth | 8 |" in card
    assert "None calibrated for this version yet." in card


def test_the_card_says_how_many_later_rows_a_cap_scored(facts) -> None:
    assert "(100 rows): macro-F1 0.4000" in render_card(facts)
    capped = replace(facts, day=replace(facts.day, scored_rows=60, test_rows_per_class=50))
    assert ("(100 rows; 60 of them scored, at most 50 of a class, weighted up to the rows of "
            "their class): macro-F1 0.4000") in render_card(capped)


def test_without_a_day_split_the_card_says_why(facts) -> None:
    card = render_card(replace(facts, day=None, day_note="no rows of Friday"))
    assert "## Day-based evaluation\nNot run: no rows of Friday" in card
