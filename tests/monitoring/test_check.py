"""The per-batch check: validate, score with the champion, report drift, decide, save."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from nids.config import MonitoringConfig
from nids.data import claims
from nids.data.generate import write_official_csv
from nids.data.schema import LABEL_COLUMN, PREDICTION_COLUMN
from nids.monitoring import actions, check
from nids.monitoring.outcomes import RetrainOutcome
from nids.monitoring.reports import ReportEntry

ROWS = 2_000  # the rows of a `tiny_traffic` batch


@pytest.fixture(scope="module")
def config() -> MonitoringConfig:
    return MonitoringConfig()


def test_a_batch_like_the_reference_is_ok_with_its_scores(tiny_traffic, tiny_champion, config):
    checked = check.check_frame(tiny_traffic(seed=2), "monday.csv", tiny_champion, config)
    assert checked.batch == "monday.csv"
    assert checked.decision.verdict == "ok" and not checked.decision.crossed
    assert list(checked.scores.columns) == [PREDICTION_COLUMN, "probability", LABEL_COLUMN]
    assert len(checked.scores) == ROWS
    assert set(checked.predicted) <= set(tiny_champion.bundle.classes)
    assert sum(checked.predicted.values()) == ROWS
    assert checked.drift.summary.macro_f1 > 0.9  # the model separates the classes
    assert {c.column for c in checked.drift.summary.columns} == set(tiny_champion.bundle.features)


def test_a_shifted_batch_asks_for_a_retrain(tiny_traffic, tiny_champion, config):
    checked = check.check_frame(tiny_traffic(seed=3, scale=20.0), "shifted.csv", tiny_champion,
                                config)
    assert checked.decision.verdict == "retrain" and checked.decision.drift_detected
    assert "drifted_share" in {c.check for c in checked.decision.crossed}


def test_a_large_batch_is_reported_on_a_uniform_sample_scored_like_the_batch(
        tiny_traffic, tiny_champion):
    config = MonitoringConfig(drift={"sample_rows": 1_000, "min_rows": 1_500})
    batch = tiny_traffic(seed=2)
    features = check.clean_features(batch, tiny_champion.bundle.features)
    sample = check.drift_sample(batch, features, tiny_champion, config.drift)
    checked = check.check_frame(batch, "big.csv", tiny_champion, config)
    assert len(sample) == 1_000 and sample.index.is_monotonic_increasing
    assert (sample[PREDICTION_COLUMN].to_numpy()
            == checked.scores[PREDICTION_COLUMN].to_numpy()[sample.index]).all()
    assert checked.decision.judged and checked.decision.verdict == "ok"   # 2,000 rows, not 1,000


def test_a_batch_file_is_loaded_like_training_data(tiny_traffic, tiny_champion, config,
                                                   tmp_path: Path):
    path = tmp_path / "tuesday.csv"
    write_official_csv(tiny_traffic(seed=4).astype({LABEL_COLUMN: str}), path)
    checked = check.check_batch(path, tiny_champion, config)
    assert checked.batch == "tuesday.csv" and checked.decision.verdict == "ok"
    assert len(checked.scores) == ROWS


def test_a_batch_with_too_many_missing_values_is_refused(tiny_traffic, tiny_champion, config):
    batch = tiny_traffic(seed=5)
    batch.loc[: ROWS // 2, "flow_iat_min"] = np.nan
    with pytest.raises(ValueError, match=r"holes\.csv: column 'flow_iat_min' has 50% missing"):
        check.check_frame(batch, "holes.csv", tiny_champion, config)


def test_save_check_writes_the_report_its_entry_and_the_index(tiny_traffic, tiny_champion, config,
                                                              tmp_path):
    checked = check.check_frame(tiny_traffic(seed=3, scale=20.0), "03-friday.csv", tiny_champion,
                                config)
    created_at = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)
    html_path = check.save_check(checked, tiny_champion, tmp_path, created_at)
    assert html_path == tmp_path / "drift" / "2026-11-22T183000Z_03-friday.html"
    assert "<html" in html_path.read_text(encoding="utf-8")[:2000].lower()
    entry = ReportEntry.model_validate_json(html_path.with_suffix(".json").read_text())
    assert (entry.batch, entry.model_name, entry.model_version) == ("03-friday.csv", "tiny", "7")
    assert entry.verdict == "retrain" and entry.report_html == html_path.name
    assert entry.crossed == [c.message for c in checked.decision.crossed]
    assert entry.summary == json.loads(checked.drift.summary.model_dump_json())
    assert "03-friday.csv" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_the_outcome_names_the_batch_the_version_and_the_retrain(tiny_traffic, tiny_champion,
                                                                 config):
    checked = check.check_frame(tiny_traffic(seed=3, scale=20.0), "03-friday.csv", tiny_champion,
                                config)
    retrain = RetrainOutcome(started=False, why="within the cooldown")
    outcome = actions.outcome_of(checked, tiny_champion, retrain)
    assert (outcome.batch, outcome.model_version, outcome.verdict) == (
        "03-friday.csv", "7", "retrain")
    assert outcome.crossed == [c.message for c in checked.decision.crossed]
    assert outcome.retrain == retrain
    assert actions.outcome_of(checked, tiny_champion, None).retrain is None


def test_a_small_batch_is_reported_but_never_judged(tiny_traffic, tiny_champion, config):
    """Issue 10: a one-row batch got verdict retrain (drifted share 0.98) and a retraining."""
    for rows in (1, 50, config.drift.min_rows - 1):
        small = tiny_traffic(seed=3, scale=20.0).iloc[:rows]
        checked = check.check_frame(small, "small.csv", tiny_champion, config)
        decision = checked.decision
        assert decision.verdict == "too small" and not decision.judged
        assert not decision.retrain and not decision.alert
        assert f"{rows:,} rows < {config.drift.min_rows:,}" in decision.markdown
        assert len(checked.scores) == rows  # still scored
    judged = check.check_frame(tiny_traffic(seed=3, scale=20.0).iloc[: config.drift.min_rows],
                               "enough.csv", tiny_champion, config)
    assert judged.decision.verdict == "retrain" and judged.decision.alert


def test_a_rerun_replaces_the_report_of_the_same_batch(tiny_traffic, tiny_champion, config,
                                                       tmp_path):
    """Issue 10: predictions failed after the report was written; the rerun wrote a second
    report and a second index row for the same batch."""
    checked = check.check_frame(tiny_traffic(seed=3, scale=20.0), "03-friday.csv", tiny_champion,
                                config)
    first = check.save_check(checked, tiny_champion, tmp_path,
                             datetime(2026, 11, 22, 18, 30, tzinfo=UTC), batch_sha256="f" * 64)
    again = check.save_check(checked, tiny_champion, tmp_path,
                             datetime(2026, 11, 22, 19, 30, tzinfo=UTC), batch_sha256="f" * 64)
    reports = [path for path in (tmp_path / "drift").iterdir() if path.is_file()]  # not js/
    assert sorted(reports) == sorted([again, again.with_suffix(".json")])
    assert not first.exists()
    assert (tmp_path / "index.html").read_text(encoding="utf-8").count("03-friday.csv") == 1


@pytest.fixture
def claim_of(tmp_path):
    """Claims a batch file written into tmp_path (as a monitoring run does)."""
    def claim(name: str, content: bytes) -> claims.Claim:
        path = tmp_path / name
        path.write_bytes(content)
        [taken] = claims.claim_named(path, "run")
        return taken
    return claim


def test_a_claimed_batch_is_read_and_validated(tiny_traffic, claim_of, config, tmp_path):
    path = tmp_path / "source.csv"
    write_official_csv(tiny_traffic(seed=4).astype({LABEL_COLUMN: str}), path)
    reading = check.read_claimed(claim_of("good.csv", path.read_bytes()), config.validation)
    assert reading.problem is None and not reading.changing and len(reading.frame) == ROWS


@pytest.mark.parametrize(("content", "problem"), [
    (b"", r"bad\.csv: the file is empty"),
    (b"a,b\n1,2\n", r"bad\.csv"),
    (b"\x00\x01binary", r"bad\.csv"),
])
def test_a_bad_batch_is_read_as_a_problem_naming_the_file(claim_of, config, content, problem):
    reading = check.read_claimed(claim_of("bad.csv", content), config.validation)
    assert reading.frame is None and not reading.changing
    assert re.search(problem, reading.problem)


def test_a_batch_that_changes_while_read_is_still_being_written(tiny_traffic, claim_of, config,
                                                                 tmp_path):
    path = tmp_path / "source.csv"
    write_official_csv(tiny_traffic(seed=4).astype({LABEL_COLUMN: str}), path)
    half = path.read_bytes()[: path.stat().st_size // 2]  # cut mid-line, as a writer leaves it
    taken = claim_of("growing.csv", half)
    with taken.path.open("ab") as writer:  # the writer goes on after the claim
        writer.write(b"0" * 10)
    reading = check.read_claimed(taken, config.validation)
    assert reading.changing and reading.problem is None and reading.frame is None
