"""Lineage: the DVC md5 and git commit of a run, and the way back from a model version.

Each test builds a throwaway git + DVC repository with a local DVC remote; the round trip logs
a tiny run the way `flows/training.py` does, then restores its data in a fresh clone with the
commands `python -m nids.tracking.lineage show` prints.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from nids.config import XGBoostConfig
from nids.data import corpus
from nids.data.schema import LABEL_COLUMN
from nids.paths import PROJECT_ROOT
from nids.tracking import lineage, registry
from nids.tracking.runs import RunOrigin
from nids.training.train import train_model
from tests.data.conftest import ARRIVED
from tests.support.builders import flow_frame, ml_csv
from tests.support.data_repos import DVC, commit_data, dvc, git, init_data_repo, md5_in, run

MODEL_NAME = "test-lineage"
FINGERPRINT = "f" * 64


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository whose data/raw (one CSV) is tracked by DVC and pushed to a remote."""
    repo = tmp_path_factory.mktemp("lineage") / "repo"
    (repo / "data" / "raw").mkdir(parents=True)
    (repo / "README.md").write_text("data repository of a test\n")
    (repo / "data" / "raw" / "monday.csv").write_bytes(ml_csv(["BENIGN", "DDoS"]))
    init_data_repo(repo)
    return repo


@pytest.fixture
def data_repo(template_repo: Path, tmp_path: Path) -> Path:
    """A copy of the template repository for one test (the DVC CLI takes a second a call)."""
    repo = tmp_path / "repo"
    shutil.copytree(template_repo, repo, symlinks=True)
    return repo


def test_tracked_unchanged_data_is_versioned_by_its_dvc_md5(data_repo):
    version = lineage.data_version(data_repo / "data" / "raw", FINGERPRINT)
    assert version.source == lineage.DVC
    assert version.digest == md5_in(data_repo / "data" / "raw.dvc")
    assert version.digest.endswith(".dir") and len(version.dataset_digest) <= 36
    assert version.dvc_file == "data/raw.dvc"
    assert version.git == lineage.GitState(git(data_repo, "rev-parse", "HEAD"), dirty=False)
    assert version.tags() == {
        "data_version": version.digest, "data_version_source": "dvc",
        "dvc_md5": version.digest, "dvc_file": "data/raw.dvc",
        "git_commit": version.git.commit, "git_dirty": "false",
    }


def _add_file(raw: Path) -> None:
    (raw / "tuesday.csv").write_bytes(ml_csv(["BENIGN"]))


def _edit_file(raw: Path) -> None:
    (raw / "monday.csv").write_bytes(ml_csv(["BENIGN", "PortScan"]))


def _forget_dvc_file(raw: Path) -> None:
    (raw.parent / "raw.dvc").unlink()


def _empty_folder(raw: Path) -> None:
    """What the flow sees when data/raw is empty: it trains on generated data instead."""
    (raw / "monday.csv").unlink()
    commit_data(raw.parents[1], "no data")


@pytest.mark.parametrize(("change", "warning"), [
    (_add_file, "dvc add data/raw"),
    (_edit_file, "differs from raw.dvc (modified)"),
    (_forget_dvc_file, None),
    (_empty_folder, None),
])
def test_data_dvc_does_not_describe_falls_back_to_the_fingerprint(data_repo, caplog, change,
                                                                  warning):
    raw = data_repo / "data" / "raw"
    change(raw)
    version = lineage.data_version(raw, FINGERPRINT)
    assert (version.source, version.digest, version.dvc_file) == ("fingerprint", FINGERPRINT, None)
    assert "dvc_md5" not in version.tags()
    assert version.dataset_digest == FINGERPRINT[:36]
    if warning:
        assert warning in caplog.text


def test_a_dvc_file_updated_by_new_data_leaves_the_tree_clean(data_repo):
    (data_repo / "data" / "raw" / "tuesday.csv").write_bytes(ml_csv(["BENIGN"]))
    dvc(data_repo, "add", "-q", "data/raw")   # as each corpus partition does to corpus.dvc
    assert "data/raw.dvc" in git(data_repo, "status", "--porcelain")
    version = lineage.data_version(data_repo / "data" / "raw", FINGERPRINT)
    assert version.source == lineage.DVC and not version.git.dirty


def test_changed_tracked_files_make_the_tree_dirty(data_repo):
    (data_repo / "README.md").write_text("edited\n")
    (data_repo / "untracked.txt").write_text("does not count\n")
    version = lineage.data_version(data_repo / "data" / "raw", FINGERPRINT)
    assert version.git.dirty and version.tags()["git_dirty"] == "true"


def test_without_git_the_dvc_md5_is_still_read(tmp_path):
    """The container image has .dvc/ but no .git: the data version survives, the commit not."""
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "monday.csv").write_bytes(ml_csv(["BENIGN"]))
    dvc(tmp_path, "init", "-q", "--no-scm")
    dvc(tmp_path, "add", "-q", "data/raw")
    version = lineage.data_version(tmp_path / "data" / "raw", FINGERPRINT)
    assert version.digest == md5_in(tmp_path / "data" / "raw.dvc")
    assert version.git == lineage.GitState(lineage.UNKNOWN_COMMIT, dirty=False)


def test_the_project_data_folder_is_tracked_by_dvc_and_ignored_by_git():
    dvc_file = PROJECT_ROOT / "data" / "raw.dvc"
    assert [out["path"] for out in yaml.safe_load(dvc_file.read_text())["outs"]] == ["raw"]
    assert git(PROJECT_ROOT, "ls-files", "data/raw") == ""
    assert git(PROJECT_ROOT, "check-ignore", "data/raw/Monday-WorkingHours.pcap_ISCX.csv")
    assert subprocess.run(["git", "check-ignore", "-q", "data/raw.dvc"],
                          cwd=PROJECT_ROOT).returncode == 1


def log_training_run(raw_dir: Path) -> str:
    """Log and register a tiny model with the calls `flows/training.py` makes; its version."""
    classes, features = ["BENIGN", "DDoS"], ["flow_duration"]
    frame = pd.DataFrame({"flow_duration": np.arange(40, dtype=np.float32),
                          LABEL_COLUMN: np.repeat(classes, 20)})
    model = train_model(frame[features], frame[LABEL_COLUMN], frame[features],
                        frame[LABEL_COLUMN], classes, XGBoostConfig(n_estimators=2, n_jobs=1))
    data_version = lineage.data_version(raw_dir, FINGERPRINT)
    with mlflow.start_run() as run:
        mlflow.log_input(mlflow.data.from_pandas(
            frame, name="cicids2017-train", targets=LABEL_COLUMN,
            digest=data_version.dataset_digest, source=str(raw_dir)), context="training")
        mlflow.set_tags({"data_fingerprint": FINGERPRINT, **data_version.tags()})
        model_uri = registry.log_model(model, frame[features], classes, features)
        version = registry.register_version(model_uri, MODEL_NAME, {
            "data_fingerprint": FINGERPRINT, **data_version.tags(),
            "training_run_id": run.info.run_id,
        })
    registry.set_alias(MODEL_NAME, registry.CHAMPION, version.version)
    return str(version.version)


def restore(clone: Path, commands: list[str]) -> None:
    """Run the printed commands; `dvc` is this interpreter's DVC, whatever is on PATH."""
    for command in commands:
        program, *args = shlex.split(command)
        run(clone, *(DVC if program == "dvc" else [program]), *args)


@pytest.mark.slow
def test_round_trip_from_a_model_version_back_to_its_code_and_data(data_repo, tmp_path,
                                                                   mlflow_store, capsys):
    raw = data_repo / "data" / "raw"
    trained_commit = git(data_repo, "rev-parse", "HEAD")
    trained_md5 = md5_in(raw.parent / "raw.dvc")
    trained_bytes = (raw / "monday.csv").read_bytes()
    number = log_training_run(raw)
    _edit_file(raw)  # the data move on after training
    commit_data(data_repo, "newer data")

    found = lineage.lineage_of(lineage.find_version(MODEL_NAME, number))
    assert found == lineage.ModelLineage(
        MODEL_NAME, number, found.run_id,
        lineage.DataVersion(trained_md5, "dvc", "data/raw.dvc",
                            lineage.GitState(trained_commit, dirty=False)))
    assert str(lineage.find_version(MODEL_NAME, "champion").version) == number
    run_inputs = mlflow.get_run(found.run_id).inputs.dataset_inputs
    assert [item.dataset.digest for item in run_inputs] == [trained_md5]

    assert lineage.main(["show", MODEL_NAME, number]) == 0
    shown = capsys.readouterr().out
    commands = lineage.restore_commands(found)
    assert commands == [f"git checkout {trained_commit}", "dvc pull data/raw.dvc"]
    assert all(command in shown for command in commands)
    assert f"--run-id {found.run_id} --artifact-path reference/reference.parquet" in shown

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(data_repo), str(clone))
    restore(clone, commands)
    assert (clone / "data" / "raw" / "monday.csv").read_bytes() == trained_bytes
    assert lineage.data_version(clone / "data" / "raw", FINGERPRINT).digest == trained_md5


def test_show_names_a_version_without_lineage_tags(mlflow_store, capsys):
    client = mlflow.MlflowClient()
    client.create_registered_model("not-from-the-flow")
    with mlflow.start_run() as run:
        pass
    client.create_model_version("not-from-the-flow", f"runs:/{run.info.run_id}/model",
                                run.info.run_id)
    assert lineage.main(["show", "not-from-the-flow", "1"]) == 1
    assert "has no lineage tags" in capsys.readouterr().err


def test_show_lists_the_corpus_partitions_a_run_trained_on(mlflow_store):
    with mlflow.start_run() as with_corpus:
        mlflow.log_dict({"corpus_dir": "data/corpus",
                         "partitions": ["20261129T180000Z--a.parquet"]}, lineage.CORPUS_ARTIFACT)
    with mlflow.start_run() as before_corpus:
        pass
    assert lineage.corpus_of(with_corpus.info.run_id) == ("20261129T180000Z--a.parquet",)
    assert lineage.corpus_of(before_corpus.info.run_id) is None
    assert lineage.corpus_lines(("20261129T180000Z--a.parquet",)) == [
        "corpus:      1 partition(s) (dvc pull data/corpus.dvc)",
        "  20261129T180000Z--a.parquet"]
    assert "not recorded" in lineage.corpus_lines(None)[0]


def test_the_corpus_a_run_read_is_versioned_by_its_dvc_md5(data_repo, caplog):
    folder = data_repo / "data" / "corpus"
    folder.mkdir()
    dvc(data_repo, "add", "-q", "data/corpus")
    partition = corpus.append_batch(flow_frame(["DDoS"]), "a.csv", ARRIVED, folder)  # dvc add
    origin = RunOrigin.of("test", None, data_repo / "data" / "raw", FINGERPRINT,
                          corpus_partitions=[partition.name], corpus_dir=folder)
    assert origin.corpus_md5 == md5_in(data_repo / "data" / "corpus.dvc")
    assert origin.data_tags()[lineage.CORPUS_MD5_TAG] == origin.corpus_md5
    assert lineage.corpus_lines((partition.name,), origin.corpus_md5)[0] == (
        f"corpus:      1 partition(s), DVC md5 {origin.corpus_md5} (dvc pull data/corpus.dvc)")
    # a corpus changed behind DVC's back has no version: the partition names remain
    (folder / "stray.parquet").write_bytes(partition.path.read_bytes())
    assert lineage.corpus_md5(folder) is None
    assert "the corpus partitions' names only" in caplog.text
    unversioned = RunOrigin.of("test", None, data_repo / "data" / "raw", FINGERPRINT,
                               corpus_partitions=[partition.name], corpus_dir=folder)
    assert lineage.CORPUS_MD5_TAG not in unversioned.data_tags()
