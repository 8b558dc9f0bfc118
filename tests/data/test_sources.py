"""Where training data comes from: real files only unless generated data are asked for; a run
with no real data fails naming the folder and what it holds; skipped entries are listed; rows
the generator wrote count as generated wherever they are read from."""

import logging
from pathlib import Path

import pytest

from nids.config import DataConfig, DataSource
from nids.data import sources
from nids.data.generate import generate_dataset
from tests.support.builders import ml_csv


@pytest.fixture
def data_config(tmp_path: Path) -> DataConfig:
    """The default data settings (real data only) with every folder, the corpus too, under
    tmp_path (the project's corpus holds what `make run` monitored)."""
    return DataConfig(raw_dir=str(tmp_path / "raw"), generated_dir=str(tmp_path / "generated"),
                      interim_dir=str(tmp_path / "interim"), generated_rows=1_000,
                      corpus={"dir": str(tmp_path / "corpus")})


def test_real_data_is_the_default():
    assert DataConfig().source == DataSource.REAL


def skipped_entries(raw: Path) -> None:
    (raw / "x.csv").mkdir()
    (raw / "gone.csv").symlink_to(raw / "nowhere.csv")
    (raw / "notes.txt").write_text("the data are on the other volume")


@pytest.mark.parametrize(("fill", "fragments"), [
    (lambda raw: None, ["it is empty"]),
    (skipped_entries, ["only entries the loader skips", "gone.csv (a dangling symlink)",
                       "notes.txt (not a .csv, .csv.gz or .zip file)", "x.csv (a folder)"]),
], ids=["empty", "only-skipped-entries"])
def test_no_real_data_fails_naming_the_folder_and_what_it_holds(data_config, fill, fragments):
    raw = Path(data_config.raw_dir)
    raw.mkdir()
    fill(raw)
    with pytest.raises(FileNotFoundError) as error:
        sources.load_training_data(data_config)
    message = str(error.value)
    assert message.startswith(f"No CICIDS2017 input file in {raw}/")
    assert "data.source: generated" in message
    for fragment in fragments:
        assert fragment in message
    assert not Path(data_config.generated_dir).exists()   # nothing was generated


def test_skipped_entries_beside_real_files_are_listed_in_a_warning(data_config, caplog):
    raw = Path(data_config.raw_dir)
    raw.mkdir()
    skipped_entries(raw)
    (raw / "Monday.csv").write_bytes(ml_csv(["BENIGN", "BENIGN"]))
    with caplog.at_level(logging.WARNING, logger="nids.data.sources"):
        loaded = sources.load_training_data(data_config)
    assert len(loaded.frame) == 2 and loaded.data_source == DataSource.REAL
    assert caplog.messages == [
        f"{raw}: skipped 3 entries the loader does not read: gone.csv (a dangling symlink); "
        "notes.txt (not a .csv, .csv.gz or .zip file); x.csv (a folder)"]


def test_generated_data_only_when_asked_for(data_config):
    data_config.source = DataSource.GENERATED
    loaded = sources.load_training_data(data_config)
    assert loaded.data_source == DataSource.GENERATED and len(loaded.frame) >= 1_000
    assert not Path(data_config.raw_dir).exists()


def test_files_the_generator_wrote_count_as_generated_in_the_raw_folder(data_config, tmp_path):
    paths = generate_dataset(tmp_path / "elsewhere", 1_000, seed=3, days=["Monday"])
    raw = Path(data_config.raw_dir)
    raw.mkdir()
    (raw / paths[0].name).symlink_to(paths[0])   # as the drift tour lands its day files
    assert sources.load_training_data(data_config).data_source == DataSource.GENERATED


def test_a_demo_asks_for_generated_data_only_on_a_fresh_clone(data_config):
    assert sources.demo_data(data_config).source == DataSource.GENERATED   # empty raw folder
    assert data_config.source == DataSource.REAL   # the settings given are left alone
    Path(data_config.raw_dir).mkdir()
    (Path(data_config.raw_dir) / "Monday.csv").write_bytes(ml_csv(["BENIGN"]))
    assert sources.demo_data(data_config).source == DataSource.REAL
