"""The drift scenario: batches sampled from chosen days, written in the official format."""

import numpy as np
import pandas as pd
import pytest

from nids.config import MonitoringConfig, TrainingConfig
from nids.data import batches
from nids.data.schema import FEATURE_COLUMNS, LABEL_COLUMN, MACHINE_LEARNING_HEADER
from nids.data.sources import InputSelection
from nids.monitoring import scenario
from tests.support.builders import days_frame

LABELS_BY_DAY = {
    "Monday": ["BENIGN"] * 4,
    "Tuesday": ["BENIGN", "FTP-Patator", "SSH-Patator"],
    "Wednesday": ["BENIGN", "DoS Hulk", "Heartbleed"],
    "Thursday": ["BENIGN", "Web Attack - XSS", "Infiltration", "Web Attack - Sql Injection"],
    "Friday": ["BENIGN", "PortScan", "DDoS", "Bot", "DDoS"],
}


@pytest.fixture(scope="module")
def week():
    """Nineteen flows over the five days, each day with the attacks it has in CICIDS2017."""
    return days_frame(LABELS_BY_DAY, seed=5)


def rows_of(frame: pd.DataFrame) -> set[tuple]:
    """Each flow as its tuple of feature values (float32) and label."""
    values = frame[list(FEATURE_COLUMNS)].to_numpy(dtype=np.float32)
    return {(*row, label) for row, label in zip(map(tuple, values),
                                                frame[LABEL_COLUMN].astype(str), strict=True)}


def labels_of(days) -> set[str]:
    return {label for day in days for label in LABELS_BY_DAY[day]}


# --- sampling ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("days", "rows", "expected_rows"),
    [
        (("Friday",), 3, 3),
        (("Monday", "Tuesday", "Wednesday"), 5, 5),
        (("Thursday",), 50, 4),  # fewer flows than asked: all of them
    ],
)
def test_sample_days_draws_only_from_the_requested_days(week, days, rows, expected_rows):
    sample = scenario.sample_days(week, days, rows, np.random.default_rng(0))
    assert list(sample.columns) == [*FEATURE_COLUMNS, LABEL_COLUMN]
    assert len(sample) == expected_rows
    assert set(week.loc[sample.index, "day"]) <= set(days)
    assert sample.index.is_unique and sample.index.is_monotonic_increasing
    assert rows_of(sample) <= rows_of(week[week["day"].isin(days)])


def test_sample_days_is_deterministic_by_seed(week):
    days = ("Monday", "Friday")
    first = scenario.sample_days(week, days, 4, np.random.default_rng(1))
    again = scenario.sample_days(week, days, 4, np.random.default_rng(1))
    pd.testing.assert_frame_equal(first, again)


@pytest.mark.parametrize("days", [("Saturday",), ("Saturday", "Sunday"), ()])
def test_sample_days_without_traffic_from_those_days_is_an_error(week, days):
    with pytest.raises(ValueError, match=r"No traffic from .* named like the official ones"):
        scenario.sample_days(week, days, 3, np.random.default_rng(0))


def test_a_burst_batch_is_mostly_its_attack_in_file_order_and_the_rest_benign():
    frame = days_frame({"Wednesday": ["BENIGN"] * 20 + ["DoS Hulk"] * 20})
    plan = scenario.BatchPlan("02-burst", ("Wednesday",), shifted=False, burst="DoS Hulk",
                              burst_share=0.6)
    sample = scenario.sample_burst(frame, plan, 10, np.random.default_rng(0))
    assert sample[LABEL_COLUMN].astype(str).value_counts().to_dict() == {"DoS Hulk": 6,
                                                                          "BENIGN": 4}
    attack = sample.index[sample[LABEL_COLUMN].astype(str) == "DoS Hulk"]
    assert list(attack) == list(range(attack[0], attack[0] + 6))  # consecutive: a burst
    assert sample.index.is_monotonic_increasing


def test_a_burst_of_a_class_absent_from_those_days_is_an_error(week):
    plan = scenario.BatchPlan("02-burst", ("Monday",), shifted=False, burst="DoS Hulk")
    with pytest.raises(ValueError, match=r"No 'DoS Hulk' flows on \('Monday',\) for batch "
                                         r"02-burst"):
        scenario.sample_burst(week, plan, 4, np.random.default_rng(0))


def test_the_tour_plan_replays_ok_an_incident_an_unseen_attack_and_its_aftermath():
    names = [plan.name for plan in scenario.TOUR_PLAN]
    assert names == sorted(names)  # replay order
    burst = [plan for plan in scenario.TOUR_PLAN if plan.burst]
    assert [(p.burst, p.days) for p in burst] == [("DoS Hulk", ("Wednesday",))]
    assert set(scenario.TOUR_PLAN[0].days) <= set(scenario.REFERENCE_DAYS)
    assert [p.days for p in scenario.TOUR_PLAN[-2:]] == [("Friday",), ("Friday",)]
    # the unseen attacks arrive first without labels (a label request), then labelled
    assert [p.labelled for p in scenario.TOUR_PLAN] == [True, True, False, True]


def test_an_unlabelled_batch_is_written_without_labels_which_are_kept_aside(week, tmp_path):
    plan = (scenario.BatchPlan("03-friday", ("Friday",), shifted=True),)
    [labelled] = scenario.write_batches(week, tmp_path / "a" / "incoming", 4, seed=7, plan=plan)
    blind = (scenario.BatchPlan("03-friday", ("Friday",), shifted=True, labelled=False),)
    [unlabelled] = scenario.write_batches(week, tmp_path / "b" / "incoming", 4, seed=7,
                                          plan=blind)
    expected = batches.load_batch(labelled)
    loaded = batches.load_batch(unlabelled)
    assert LABEL_COLUMN not in loaded.columns
    pd.testing.assert_frame_equal(loaded, expected.drop(columns=[LABEL_COLUMN]))
    truth = pd.read_csv(tmp_path / "b" / scenario.TRUTH_DIR / "03-friday.csv")
    assert truth["flow_key"].tolist() == [f"03-friday.csv#{row}" for row in range(4)]
    assert truth[LABEL_COLUMN].tolist() == expected[LABEL_COLUMN].astype(str).tolist()
    assert not (tmp_path / "a" / scenario.TRUTH_DIR).exists()


# --- writing batches -------------------------------------------------------------------------

def test_write_batches_writes_official_csvs_that_load_back_with_their_days(week, tmp_path):
    folder = tmp_path / "scenario" / "incoming"
    paths = scenario.write_batches(week, folder, rows=3, seed=7)
    assert paths == [folder / f"{plan.name}.csv" for plan in scenario.DEFAULT_PLAN]
    assert batches.pending_batches(folder) == paths  # replay order
    for plan, path in zip(scenario.DEFAULT_PLAN, paths, strict=True):
        assert path.read_bytes().startswith(",".join(MACHINE_LEARNING_HEADER).encode() + b"\r\n")
        loaded = batches.load_batch(path)
        assert len(loaded) == 3
        assert set(loaded[LABEL_COLUMN].astype(str)) <= labels_of(plan.days)
        assert rows_of(loaded) <= rows_of(week[week["day"].isin(plan.days)])


def test_write_batches_keeps_the_web_attack_dash_of_the_official_files(tmp_path):
    frame = days_frame({"Thursday": ["Web Attack - XSS"] * 2})
    plan = (scenario.BatchPlan("02-thursday", ("Thursday",), shifted=True),)
    [path] = scenario.write_batches(frame, tmp_path, rows=2, seed=0, plan=plan)
    assert "Web Attack \ufffd XSS" in path.read_text(encoding="utf-8")
    assert batches.load_batch(path)[LABEL_COLUMN].tolist() == ["Web Attack - XSS"] * 2


def test_write_batches_is_deterministic_by_seed(week, tmp_path):
    first = scenario.write_batches(week, tmp_path / "a", rows=3, seed=7)
    again = scenario.write_batches(week, tmp_path / "b", rows=3, seed=7)
    other = scenario.write_batches(week, tmp_path / "c", rows=3, seed=8)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]


def test_write_batches_stops_at_a_planned_day_missing_from_the_data(tmp_path):
    no_friday = days_frame({day: LABELS_BY_DAY[day] for day in ("Monday", "Thursday")})
    with pytest.raises(ValueError, match=r"No traffic from \('Friday',\)"):
        scenario.write_batches(no_friday, tmp_path, rows=3, seed=7)


def test_write_demo_batch_samples_every_day(week, tmp_path):
    path = scenario.write_demo_batch(week, tmp_path / "incoming", rows=12, seed=3, name="demo")
    assert path == tmp_path / "incoming" / "demo.csv"
    loaded = batches.load_batch(path)
    assert len(loaded) == 12
    assert rows_of(loaded) <= rows_of(week)
    everything = scenario.write_demo_batch(week, tmp_path, rows=100, seed=3, name="all")
    assert rows_of(batches.load_batch(everything)) == rows_of(week)


# --- landing day files ---------------------------------------------------------------------

@pytest.fixture
def raw_files(tmp_path):
    """Official-looking day files (their content does not matter here)."""
    folder = tmp_path / "raw"
    folder.mkdir()
    names = ["Monday-WorkingHours.pcap_ISCX.csv", "Tuesday-WorkingHours.pcap_ISCX.csv",
             "Wednesday-workingHours.pcap_ISCX.csv",
             "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv",
             "Friday-WorkingHours-Morning.pcap_ISCX.csv"]
    for name in names:
        (folder / name).write_text(name)
    return [folder / name for name in names]


def test_land_day_files_links_only_the_requested_days(raw_files, tmp_path):
    folder = tmp_path / "scenario" / "raw"
    landed = scenario.land_day_files(raw_files, ("Wednesday", "Friday"), folder)
    assert [p.name for p in landed] == [
        "Wednesday-workingHours.pcap_ISCX.csv",
        "Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.csv",
        "Friday-WorkingHours-Morning.pcap_ISCX.csv",
    ]
    assert sorted(folder.iterdir()) == sorted(landed)
    for link in landed:
        assert link.is_symlink()
        assert link.resolve() == raw_files[0].parent / link.name
        assert link.read_text() == link.name


def test_land_day_files_is_idempotent_and_adds_later_days(raw_files, tmp_path):
    folder = tmp_path / "landed"
    first = scenario.land_day_files(raw_files, scenario.REFERENCE_DAYS, folder)
    assert scenario.land_day_files(raw_files, scenario.REFERENCE_DAYS, folder) == first
    friday = scenario.land_day_files(raw_files, ("Friday",), folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in first + friday)
    assert len(first) == 3 and len(friday) == 2


# --- the tour's set-up -----------------------------------------------------------------------

def test_start_tour_empties_its_folder_and_lands_the_reference_days(raw_files, tmp_path):
    folder = tmp_path / "scenario"
    (folder / "incoming").mkdir(parents=True)
    (folder / "incoming" / "stale.csv").write_text("from the last tour")
    raw = scenario.start_tour(folder, InputSelection(raw_files, generated=False), "data/raw")
    assert raw == folder / "raw"
    assert sorted(p.name for p in folder.iterdir()) == ["raw"]
    assert sorted(p.name for p in raw.iterdir()) == sorted(p.name for p in raw_files[:3])


def test_start_tour_without_day_files_says_where_to_put_them(tmp_path):
    source = InputSelection([tmp_path / "MachineLearningCSV.zip"], generated=False)
    with pytest.raises(ValueError, match=r"per-day CICIDS2017 CSVs .* in data/raw; extract"):
        scenario.start_tour(tmp_path / "scenario", source, "data/raw")


def test_the_tour_trains_and_monitors_a_model_of_its_own(tmp_path):
    project = TrainingConfig()
    training = scenario.tour_training(project, tmp_path / "raw", generated=True,
                                      model_name="tour-model")
    assert training.data.raw_dir == str(tmp_path / "raw")
    assert not training.data.verify_checksums
    assert training.registry.model_name == "tour-model"
    assert training.data.corpus.dir == str(tmp_path / "corpus")  # not the project's corpus
    assert project == TrainingConfig()  # the project's settings are left alone
    monitoring = scenario.tour_monitoring(MonitoringConfig(), training)
    assert monitoring.model_name == "tour-model"
    assert monitoring.retrain.cooldown_hours == 0
    assert monitoring.retrain.training_config == training
    # label requests, labels files and batches in the tour's folder, not the project's
    assert monitoring.labels.requests_dir == str(tmp_path / "label_requests")
    assert monitoring.labels.labels_dir == str(tmp_path / "labels")
    assert monitoring.incoming_dir == str(tmp_path / "incoming")
