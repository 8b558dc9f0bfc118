"""The retraining decision on hand-made drift summaries."""

from __future__ import annotations

import pytest

from nids.monitoring.decision import decide
from nids.monitoring.drift import ColumnDrift, DriftSummary
from nids.monitoring.settings import DriftSettings, RetrainOn

# The cases below spell out the `quality_drop` policy; the default policy is tested after them.
SETTINGS = DriftSettings(drifted_share_threshold=0.5, prediction_threshold=0.1,
                         max_macro_f1_drop=0.05, retrain_on=RetrainOn.QUALITY_DROP)
CHAMPION_F1 = 0.93


def summary(share: float = 0.1, prediction: float = 0.02, macro_f1: float | None = 0.92,
            prediction_method: str = "jensenshannon", prediction_threshold: float = 0.1,
            untestable: tuple[str, ...] = ()) -> DriftSummary:
    """A summary of ten columns, `share` of them drifted."""
    drifted = round(share * 10)
    columns = [ColumnDrift(column=f"c{i}", method="wasserstein", threshold=0.1,
                           score=0.3 if i < drifted else 0.01, drifted=i < drifted)
               for i in range(10)]
    p_value = prediction_method == "chisquare"
    crossed = prediction < prediction_threshold if p_value else prediction >= prediction_threshold
    return DriftSummary(
        columns=columns, drifted_share=share,
        prediction_drift=ColumnDrift(column="prediction", method=prediction_method,
                                     threshold=prediction_threshold, score=prediction,
                                     drifted=crossed),
        macro_f1=macro_f1, accuracy=None if macro_f1 is None else 0.97,
        untestable_columns=list(untestable),
    )


# (case, summary, champion macro-F1, drift_detected, retrain, crossed messages)
CASES = [
    ("no drift", summary(), CHAMPION_F1, False, False, []),
    ("drifted share alone, labels hold", summary(share=0.62), CHAMPION_F1, True, False,
     ["drifted-column share 0.62 >= 0.50 (+0.12)"]),
    ("prediction drift alone, labels hold", summary(prediction=0.31), CHAMPION_F1, True, False,
     ["prediction drift (jensenshannon) 0.31 >= 0.10 (+0.21)"]),
    ("macro-F1 drop alone", summary(macro_f1=0.81), CHAMPION_F1, False, True,
     ["macro-F1 0.81 is 0.12 below champion 0.93 (tolerated 0.05)"]),
    ("everything", summary(share=0.8, prediction=0.31, macro_f1=0.81), CHAMPION_F1, True, True,
     ["drifted-column share 0.80 >= 0.50 (+0.30)",
      "prediction drift (jensenshannon) 0.31 >= 0.10 (+0.21)",
      "macro-F1 0.81 is 0.12 below champion 0.93 (tolerated 0.05)"]),
    ("share exactly at threshold counts", summary(share=0.5), CHAMPION_F1, True, False,
     ["drifted-column share 0.50 >= 0.50 (+0.00)"]),
    ("prediction exactly at threshold counts", summary(prediction=0.1), CHAMPION_F1, True, False,
     ["prediction drift (jensenshannon) 0.10 >= 0.10 (+0.00)"]),
    ("macro-F1 drop exactly at tolerance is tolerated", summary(macro_f1=0.88), CHAMPION_F1,
     False, False, []),
    ("just below the share threshold", summary(share=0.4), CHAMPION_F1, False, False, []),
    ("labels absent: drift alone retrains", summary(share=0.7, macro_f1=None), CHAMPION_F1,
     True, True, ["drifted-column share 0.70 >= 0.50 (+0.20)"]),
    ("labels absent, no drift", summary(macro_f1=None), CHAMPION_F1, False, False, []),
    ("no champion F1: drift retrains", summary(prediction=0.2), None, True, True,
     ["prediction drift (jensenshannon) 0.20 >= 0.10 (+0.10)"]),
    ("p-value prediction test", summary(prediction=0.001, prediction_method="chisquare",
                                        prediction_threshold=0.05), CHAMPION_F1, True, False,
     ["prediction drift (chisquare) p-value 0.001 < 0.05"]),
    ("better than champion", summary(macro_f1=0.99), CHAMPION_F1, False, False, []),
]


@pytest.mark.parametrize(("case", "drift_summary", "champion", "drift", "retrain", "messages"),
                         CASES, ids=[c[0] for c in CASES])
def test_decide(case: str, drift_summary: DriftSummary, champion: float | None, drift: bool,
                retrain: bool, messages: list[str]):
    decision = decide(drift_summary, SETTINGS, champion)
    assert decision.drift_detected is drift
    assert decision.retrain is retrain
    assert [c.message for c in decision.crossed] == messages
    for message in messages:
        assert message in decision.markdown
    assert decision.verdict == ("retrain" if retrain else "drift" if drift else "ok")


def test_crossed_thresholds_carry_their_numbers():
    decision = decide(summary(share=0.62, macro_f1=0.81), SETTINGS, CHAMPION_F1)
    share, quality = decision.crossed
    assert (share.check, share.value, share.threshold) == ("drifted_share", 0.62, 0.5)
    assert quality.check == "macro_f1_drop"
    assert quality.value == pytest.approx(0.12) and quality.threshold == 0.05


@pytest.mark.parametrize(("macro_f1", "champion", "note"), [
    (None, CHAMPION_F1, "macro-F1 not checked: the batch has no labels"),
    (0.9, None, "macro-F1 not checked: no champion macro-F1 to compare with"),
])
def test_skipped_quality_check_is_noted(macro_f1: float | None, champion: float | None,
                                        note: str):
    decision = decide(summary(macro_f1=macro_f1), SETTINGS, champion)
    assert note in decision.notes
    assert note in decision.markdown


def test_markdown_lists_drifted_and_untestable_columns():
    decision = decide(summary(share=0.3, untestable=("flow_bytes_s",)), SETTINGS, CHAMPION_F1)
    assert "## Drift check: no drift" in decision.markdown
    assert "drifted columns (3/10): `c0`, `c1`, `c2`" in decision.markdown
    assert "columns without values, not tested: flow_bytes_s" in decision.markdown
    assert "batch macro-F1 0.920 (champion 0.930)" in decision.markdown


def test_markdown_shortens_long_column_lists():
    many = summary(share=1.0)
    many.columns += [c.model_copy(update={"column": f"d{i}"}) for i, c in enumerate(many.columns)]
    assert "and 10 more" in decide(many, SETTINGS, CHAMPION_F1).markdown


def test_verdict_is_serialised():
    decision = decide(summary(share=0.9, macro_f1=None), SETTINGS, None)
    assert decision.model_dump()["verdict"] == "retrain"
    assert decision.markdown.startswith("## Drift check: RETRAIN")


@pytest.mark.parametrize(("case", "drift_summary", "champion", "drift", "retrain", "messages"),
                         CASES, ids=[case[0] for case in CASES])
def test_by_default_any_crossed_threshold_retrains(
    case: str, drift_summary: DriftSummary, champion: float | None, drift: bool,
    retrain: bool, messages: list[str],
) -> None:
    settings = SETTINGS.model_copy(update={"retrain_on": RetrainOn.ANY_THRESHOLD})
    decision = decide(drift_summary, settings, champion)
    assert decision.retrain == bool(messages)
    assert decision.drift_detected == drift
    assert [c.message for c in decision.crossed] == messages


@pytest.mark.parametrize(("rows", "judged"), [(1, False), (999, False), (1_000, True),
                                              (50_000, True), (None, True)])
def test_a_batch_below_min_rows_is_never_judged(rows, judged):
    """The drift is still measured and shown, but a small batch alerts on nothing and never
    retrains (issue 10: one row read as drifted share 0.98, and retrained)."""
    settings = DriftSettings(min_rows=1_000)
    decision = decide(summary(share=0.98, macro_f1=0.5), settings, CHAMPION_F1, rows=rows)
    assert decision.drift_detected and len(decision.crossed) == 2  # measured anyway
    assert decision.judged is judged
    assert decision.retrain is judged and decision.alert is judged
    assert decision.verdict == ("retrain" if judged else "too small")
    assert ("too small to judge alone" in decision.markdown) is not judged
