"""Drift settings, sampling, the Evidently report and its summary, saving reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from evidently import DataDefinition, Dataset, Report, Run
from evidently.metrics import DriftedColumnsCount
from pydantic import BaseModel, ValidationError
from sklearn.metrics import accuracy_score, f1_score
from threadpoolctl import threadpool_info

from nids.monitoring.drift import (
    build_metrics,
    quality_from_outcomes,
    run_drift_report,
    save_report,
    summarize_snapshot,
)
from nids.monitoring.frames import OUTCOME_COLUMN, has_labels, prepare_frame, sample_for_drift
from nids.monitoring.report_html import LIB_NAME
from nids.monitoring.settings import (
    CategoricalMethod,
    ColumnTest,
    DriftSettings,
    FeatureScale,
    NumericalMethod,
    is_p_value,
)

FEATURES = ["flow_duration", "total_fwd_packets", "flow_bytes_s", "syn_flag_count",
            "destination_port"]
CLASSES = ["BENIGN", "DDoS", "PortScan"]
ROWS = 2000


def make_frame(seed: int, scale: float = 1.0, attack_share: float = 0.3,
               labels: bool = True) -> pd.DataFrame:
    """Heavy-tailed features; `scale` multiplies the flow sizes and durations."""
    rng = np.random.default_rng(seed)
    label = rng.choice(CLASSES, ROWS, p=[1 - attack_share, attack_share / 2, attack_share / 2])
    frame = pd.DataFrame({
        "flow_duration": rng.lognormal(10, 2, ROWS) * scale,
        "total_fwd_packets": np.floor(rng.lognormal(1, 1, ROWS) * scale) + 1,
        "flow_bytes_s": rng.lognormal(8, 2.5, ROWS) * scale,
        "syn_flag_count": (rng.random(ROWS) < 0.2).astype(float),
        "destination_port": rng.choice([80.0, 443.0, 53.0], ROWS),
    }).astype("float32")
    prediction = label.copy()
    prediction[:12] = "BENIGN"  # a few misses, so quality is not perfect
    frame["prediction"] = prediction
    if labels:
        frame["label"] = label
    return frame


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return make_frame(seed=0)


@pytest.fixture(scope="module")
def same_snapshot(reference: pd.DataFrame) -> Run:
    """A batch from the reference distribution, without labels."""
    return run_drift_report(reference, make_frame(1, labels=False), FEATURES, DriftSettings())


@pytest.fixture(scope="module")
def shifted_snapshot(reference: pd.DataFrame) -> Run:
    """Flows 8x larger and longer, attacks 70% of predictions, labels present."""
    current = make_frame(2, scale=8.0, attack_share=0.7)
    return run_drift_report(reference, current, FEATURES, DriftSettings())


# --- settings ----------------------------------------------------------------------------------

def test_default_settings_are_valid_and_documented():
    settings = DriftSettings()
    assert settings.column_test == ColumnTest(method=NumericalMethod.WASSERSTEIN, threshold=0.1)
    schema = DriftSettings.model_json_schema()
    assert all(field.get("description") for field in schema["properties"].values())
    assert "ks" in schema["$defs"]["NumericalMethod"]["enum"]


@pytest.mark.parametrize("bad", [
    {"drifted_share_threshold": 0},
    {"drifted_share_threshold": 1.2},
    {"column_test": {"method": "wasserstein", "threshold": 0}},
    {"column_test": {"method": "ks", "threshold": 1.5}},  # a p-value threshold above 1
    {"column_test": {"method": "no_such_method", "threshold": 0.1}},
    {"column_overrides": {"flow_duration": {"method": "chisquare", "threshold": 0.05}}},
    {"prediction_method": "wasserstein"},  # numerical only
    {"prediction_method": "chisquare", "prediction_threshold": 2},
    {"max_macro_f1_drop": -0.01},
    {"sample_rows": 10},
    {"drift_share": 0.5},  # misspelt key
])
def test_bad_settings_are_rejected(bad: dict):
    with pytest.raises(ValidationError):
        DriftSettings.model_validate(bad)


def test_override_replaces_the_default_for_its_column_only():
    override = ColumnTest(method=NumericalMethod.PSI, threshold=0.2)
    settings = DriftSettings(column_overrides={"destination_port": override})
    assert settings.test_for("destination_port") == override
    assert settings.test_for("flow_duration") == settings.column_test


@pytest.mark.parametrize(("method", "p_value"), [
    ("ks", True), ("chisquare", True), ("wasserstein", False), ("jensenshannon", False),
    (CategoricalMethod.PSI, False),
])
def test_is_p_value(method: str, p_value: bool):
    assert is_p_value(method) is p_value


# --- sampling and preparation ------------------------------------------------------------------

def test_small_frames_are_not_sampled(reference: pd.DataFrame):
    assert sample_for_drift(reference, ROWS, seed=0) is reference


def test_sample_keeps_size_and_class_shares():
    frame = pd.DataFrame({"x": range(10_000), "prediction": ["a"] * 7001 + ["b"] * 2990 +
                          ["c"] * 9})
    sample = sample_for_drift(frame, 1000, seed=3)
    assert len(sample) == 1000
    assert sample["prediction"].value_counts().to_dict() == {"a": 700, "b": 299, "c": 1}
    assert sample.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(sample, sample_for_drift(frame, 1000, seed=3))
    assert not sample.equals(sample_for_drift(frame, 1000, seed=4))


def test_sample_without_predictions_is_uniform():
    frame = pd.DataFrame({"x": range(5000)})
    assert len(sample_for_drift(frame, 100, seed=0)) == 100


def test_prepare_frame_drops_infinity_and_log_scales():
    frame = pd.DataFrame({"a": [0.0, np.e - 1, -(np.e - 1), np.inf, -np.inf, np.nan],
                          "prediction": ["x"] * 6})
    prepared = prepare_frame(frame, ["a"], FeatureScale.LOG1P, with_labels=False)
    assert list(prepared.columns) == ["log1p(a)", "prediction"]
    labelled = prepare_frame(frame.assign(label="y"), ["a"], FeatureScale.RAW, with_labels=True)
    assert labelled[OUTCOME_COLUMN].tolist() == ["y → x"] * 6
    np.testing.assert_allclose(prepared["log1p(a)"], [0, 1, -1, np.nan, np.nan, np.nan])
    raw = prepare_frame(frame, ["a"], FeatureScale.RAW, with_labels=False)
    assert raw["a"].isna().sum() == 3


@pytest.mark.parametrize(("labels", "expected"), [
    (None, False), ([np.nan, np.nan], False), (["BENIGN", "DDoS"], True),
])
def test_has_labels(labels: list | None, expected: bool):
    frame = pd.DataFrame({"x": [1, 2]})
    if labels is not None:
        frame["label"] = labels
    assert has_labels(frame, "current") is expected


def test_partial_labels_are_an_error():
    with pytest.raises(ValueError, match="only partly filled"):
        has_labels(pd.DataFrame({"label": ["BENIGN", None]}), "current")


@pytest.mark.parametrize("missing", ["flow_duration", "prediction"])
def test_missing_columns_are_named(reference: pd.DataFrame, missing: str):
    current = make_frame(5).drop(columns=missing)
    with pytest.raises(ValueError, match=f"current frame lacks columns \\['{missing}'\\]"):
        run_drift_report(reference, current, FEATURES, DriftSettings())


# --- report and summary ------------------------------------------------------------------------

def test_same_distribution_shows_no_drift(same_snapshot: Run):
    summary = summarize_snapshot(same_snapshot)
    assert [c.column for c in summary.columns] == FEATURES
    assert summary.drifted_share == 0
    assert not summary.prediction_drift.drifted
    assert summary.prediction_drift.method == "jensenshannon"
    assert summary.macro_f1 is None and summary.accuracy is None  # batch without labels
    assert all(c.method == "wasserstein" and c.threshold == 0.1 for c in summary.columns)


def test_shift_is_detected_per_column_and_in_predictions(shifted_snapshot: Run):
    summary = summarize_snapshot(shifted_snapshot)
    by_name = {c.column: c for c in summary.columns}
    for name in ("flow_duration", "total_fwd_packets", "flow_bytes_s"):
        assert by_name[name].drifted and by_name[name].score >= 0.1
    assert not by_name["syn_flag_count"].drifted
    assert summary.drifted_share == pytest.approx(len(summary.drifted_columns) / 5)
    assert summary.prediction_drift.drifted and summary.prediction_drift.score >= 0.1


def test_quality_matches_sklearn_on_classes_in_the_labels(shifted_snapshot: Run):
    current = make_frame(2, scale=8.0, attack_share=0.7)
    summary = summarize_snapshot(shifted_snapshot)
    assert summary.macro_f1 == pytest.approx(
        f1_score(current["label"], current["prediction"], average="macro"))
    assert summary.accuracy == pytest.approx(
        accuracy_score(current["label"], current["prediction"]))
    assert set(summary.f1_by_label) == set(CLASSES)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.parametrize("classes", [["BENIGN"], ["BENIGN", "DDoS"]])
def test_quality_of_batches_with_one_or_two_classes(reference: pd.DataFrame, classes: list):
    # Evidently's F1Score/Accuracy raise KeyError on exactly two classes; ours must not.
    current = make_frame(6)
    current["label"] = np.resize(classes, ROWS)
    current["prediction"] = current["label"]
    current.loc[:3, "prediction"] = "PortScan"  # predicted, absent from the labels
    summary = summarize_snapshot(run_drift_report(reference, current, FEATURES, DriftSettings()))
    assert summary.macro_f1 == pytest.approx(f1_score(
        current["label"], current["prediction"], labels=classes, average="macro"))
    assert summary.accuracy == pytest.approx((ROWS - 4) / ROWS)


def test_classes_the_reference_never_saw_keep_quality_and_drift(
    reference: pd.DataFrame, caplog: pytest.LogCaptureFixture
):
    # Evidently 0.7 raises KeyError('PortScan') when it shows the batch's per-class quality
    # next to a reference without that class: a champion meeting a new attack. Quality then
    # comes from the outcome counts alone.
    seen = reference[reference["label"] != "PortScan"].assign(
        prediction=lambda f: f["prediction"].replace("PortScan", "BENIGN"))
    current = make_frame(2, scale=8.0, attack_share=0.7)
    summary = summarize_snapshot(run_drift_report(seen, current, FEATURES, DriftSettings()))
    assert summary.macro_f1 == pytest.approx(
        f1_score(current["label"], current["prediction"], average="macro"))
    assert set(summary.f1_by_label) == set(CLASSES)
    assert summary.prediction_drift.drifted and summary.drifted_columns
    assert "classes ['PortScan'] that the reference never holds" in caplog.text


@pytest.mark.parametrize(("outcomes", "expected"), [
    ({}, {}),
    ({"a → a": 0.0}, {}),  # pairs seen only in the reference
    ({"a → a": 2, "a → b": 1, "b → b": 2, "b → a": 0, "c → a": 1},
     # a: 2 hits, 1 miss, 1 false alarm (c); b: 2 hits, 1 false alarm (a); c: 1 miss
     {"f1_by_label": {"a": 4 / 6, "b": 4 / 5, "c": 0.0}, "macro_f1": (4 / 6 + 4 / 5) / 3,
      "accuracy": 4 / 6}),
    ({"BENIGN → BENIGN": 9, "BENIGN → Web Attack - XSS": 1},  # predicted, never true
     {"f1_by_label": {"BENIGN": 18 / 19}, "macro_f1": 18 / 19, "accuracy": 0.9}),
])
def test_quality_from_outcomes(outcomes: dict, expected: dict):
    quality = quality_from_outcomes(outcomes)
    assert quality.keys() == expected.keys()
    for key, value in expected.items():
        assert quality[key] == pytest.approx(value)


def test_overrides_and_prediction_method_reach_the_report(reference: pd.DataFrame):
    settings = DriftSettings(
        column_overrides={"destination_port": ColumnTest(method=NumericalMethod.KS,
                                                         threshold=0.01)},
        prediction_method=CategoricalMethod.CHISQUARE, prediction_threshold=0.05,
    )
    summary = summarize_snapshot(run_drift_report(reference, make_frame(7), FEATURES, settings))
    port = next(c for c in summary.columns if c.column == "destination_port")
    assert (port.method, port.threshold) == ("ks", 0.01)
    assert (summary.prediction_drift.method, summary.prediction_drift.threshold) == (
        "chisquare", 0.05)
    assert not port.drifted and port.score > 0.01  # a p-value: drift would be below


def test_infinity_and_empty_columns_are_handled(reference: pd.DataFrame):
    current = make_frame(8, labels=False)
    current["flow_bytes_s"] = np.inf  # all +Infinity: nothing left to test
    current.loc[:5, "flow_duration"] = np.inf
    current["syn_flag_count"] = np.nan
    summary = summarize_snapshot(run_drift_report(reference, current, FEATURES,
                                                  DriftSettings()))
    assert summary.untestable_columns == ["flow_bytes_s", "syn_flag_count"]
    assert [c.column for c in summary.columns] == [
        "flow_duration", "total_fwd_packets", "destination_port"]
    assert summary.drifted_share == 0


def test_no_feature_columns_is_an_error(reference: pd.DataFrame):
    with pytest.raises(ValueError, match="no feature columns"):
        run_drift_report(reference, make_frame(1), [], DriftSettings())


def test_override_of_an_untested_column_is_logged(reference: pd.DataFrame,
                                                  caplog: pytest.LogCaptureFixture):
    settings = DriftSettings(column_overrides={
        "idle_max": ColumnTest(method=NumericalMethod.KS, threshold=0.05)})
    run_drift_report(reference, make_frame(1), FEATURES[:2], settings)
    assert "column_overrides for columns the report does not test: ['idle_max']" in caplog.text


def test_all_columns_empty_is_an_error(reference: pd.DataFrame):
    current = make_frame(9)
    current[FEATURES] = np.nan
    with pytest.raises(ValueError, match="every feature column is empty"):
        run_drift_report(reference, current, FEATURES, DriftSettings())


def _run(metrics: list, reference: pd.DataFrame, current: pd.DataFrame) -> Run:
    """A report of our metrics in any order or selection, without run_drift_report."""
    frames = [prepare_frame(f, FEATURES, FeatureScale.LOG1P, with_labels=False)
              for f in (current, reference)]
    definition = DataDefinition(numerical_columns=[c for c in frames[0] if c != "prediction"],
                                categorical_columns=["prediction"])
    return Report(metrics, include_tests=True).run(
        *(Dataset.from_pandas(f, data_definition=definition) for f in frames))


def test_summary_does_not_depend_on_metric_order(reference: pd.DataFrame):
    current = make_frame(2, scale=8.0, labels=False)
    metrics = build_metrics(FEATURES, DriftSettings(), with_labels=False)
    forward = summarize_snapshot(_run(metrics, reference, current))
    backward = summarize_snapshot(_run(list(reversed(metrics)), reference, current))
    assert sorted(forward.columns, key=lambda c: c.column) == sorted(
        backward.columns, key=lambda c: c.column)
    assert forward.model_dump(exclude={"columns"}) == backward.model_dump(exclude={"columns"})


@pytest.mark.parametrize("scale", [1.0, 8.0])
def test_share_counts_the_column_verdicts_as_evidently_does(reference: pd.DataFrame,
                                                             scale: float):
    settings = DriftSettings(column_overrides={"syn_flag_count": {"method": "psi",
                                                                  "threshold": 0.2}})
    tests = {f"log1p({c})": settings.test_for(c) for c in FEATURES}
    evidently_count = DriftedColumnsCount(
        columns=list(tests), drift_share=settings.drifted_share_threshold,
        per_column_method={name: test.method.value for name, test in tests.items()},
        per_column_threshold={name: test.threshold for name, test in tests.items()})
    metrics = build_metrics(FEATURES, settings, with_labels=False)
    run = _run([evidently_count, *metrics], reference, make_frame(2, scale=scale, labels=False))
    summary = summarize_snapshot(run)
    counted = next(r for r in run.metric_results.values() if hasattr(r, "share"))
    assert summary.drifted_share == len(summary.drifted_columns) / len(FEATURES)
    assert summary.drifted_share == pytest.approx(float(counted.share.value))


def test_snapshot_without_prediction_drift_is_an_error(reference: pd.DataFrame):
    metrics = [m for m in build_metrics(FEATURES, DriftSettings(), with_labels=False)
               if getattr(m, "column", None) != "prediction"]
    with pytest.raises(ValueError, match="no ValueDrift on column 'prediction'"):
        summarize_snapshot(_run(metrics, reference, make_frame(1)))


def test_summary_survives_a_snapshot_round_trip(same_snapshot: Run):
    reloaded = Run.loads(same_snapshot.dumps())
    assert summarize_snapshot(reloaded) == summarize_snapshot(same_snapshot)


# --- saving ------------------------------------------------------------------------------------

class Entry(BaseModel):
    batch: str


def test_save_report_writes_html_and_json(tmp_path: Path, same_snapshot: Run):
    html_path, json_path = tmp_path / "drift" / "r.html", tmp_path / "drift" / "r.json"
    save_report(same_snapshot, html_path, json_path, Entry(batch="b1"))  # Paths, not str
    assert html_path.stat().st_size > 10_000
    assert "drawDashboard" in html_path.read_text(encoding="utf-8")
    assert json.loads(json_path.read_text(encoding="utf-8")) == {"batch": "b1"}
    assert sorted(p.name for p in html_path.parent.iterdir()) == ["js", "r.html", "r.json"]
    assert (html_path.parent / "js" / LIB_NAME).is_file()  # the library the report loads


class BrokenSnapshot:
    """A snapshot that cannot be rendered."""

    def to_snapshot_model(self) -> None:
        raise RuntimeError("cannot render the snapshot")


def test_failed_html_keeps_the_previous_report(tmp_path: Path):
    html_path, json_path = tmp_path / "r.html", tmp_path / "r.json"
    html_path.write_text("previous report")
    with pytest.raises(RuntimeError, match="cannot render"):
        save_report(BrokenSnapshot(), html_path, json_path, Entry(batch="b1"))
    assert html_path.read_text() == "previous report"
    assert not json_path.exists()
    # no temporary file left, and no js/ either: the page is rendered before anything is written
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_the_report_runs_on_one_blas_thread_and_gives_the_others_back(
        reference: pd.DataFrame, monkeypatch: pytest.MonkeyPatch):
    seen: list[list[int]] = []
    wasserstein = scipy.stats.wasserstein_distance

    def recording(*args, **kwargs):
        seen.append(_blas_threads())
        return wasserstein(*args, **kwargs)

    monkeypatch.setattr(scipy.stats, "wasserstein_distance", recording)
    before = _blas_threads()
    assert before, "numpy's BLAS is loaded"
    summarize_snapshot(run_drift_report(reference, make_frame(3), FEATURES, DriftSettings()))
    assert len(seen) == len(FEATURES)     # each column's Wasserstein test ran under the limit
    assert all(threads == [1] * len(before) for threads in seen)
    assert _blas_threads() == before
