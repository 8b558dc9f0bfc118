"""Promotion: the verdict on a candidate against the champion's score and the quality floor."""

import pytest

from nids.training.promotion import Promotion, decide_promotion


@pytest.mark.parametrize(
    ("score", "champion_score", "alias", "reason"),
    [
        (0.40, None, None, "macro_f1 0.4000 is below the quality floor 0.5000"),
        (0.40, 0.30, None, "below the quality floor"),  # better, but still below the floor
        (0.50, None, "champion", "first model: macro_f1 0.5000"),  # the floor itself passes
        (0.90, None, "champion", "first model"),
        (0.91, 0.90, "champion", "macro_f1 0.9100 beats champion 0.9000"),
        (0.90, 0.90, "challenger", "macro_f1 0.9000 does not beat champion 0.9000"),
        (0.80, 0.90, "challenger", "does not beat champion"),
    ],
)
def test_decide_promotion(score, champion_score, alias, reason):
    promotion = decide_promotion(score, champion_score, "macro_f1", floor=0.5)
    assert promotion.alias == alias
    assert reason in promotion.reason


def test_a_refused_model_raises_naming_the_reason_and_the_setting():
    refused = decide_promotion(0.4, None, "macro_f1", floor=0.5)
    with pytest.raises(ValueError, match="Model refused: macro_f1 0.4000 is below the quality "
                       "floor 0.5000.*registry.quality_floor in config/training.yaml"):
        refused.raise_if_refused()
    Promotion("challenger", "does not beat champion").raise_if_refused()  # accepted: no error
