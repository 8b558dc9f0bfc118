"""The corpus versioned with real DVC as partitions join it: data/corpus.dvc follows the folder
in a DVC repository that tracks it; elsewhere nothing is versioned and a log line says so."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from dvc.repo import Repo

from nids.data import corpus
from nids.data.corpus_versioning import version_corpus
from tests.data.conftest import ARRIVED
from tests.support.builders import flow_frame
from tests.support.data_repos import dvc, git, md5_in


def nfiles_in(dvc_file: Path) -> int:
    import yaml

    return yaml.safe_load(dvc_file.read_text())["outs"][0]["nfiles"]


def tracked(repo: Path, with_git: bool = False) -> Path:
    """data/corpus tracked by DVC (`dvc add` of the empty folder) in a fresh repository,
    without git (`dvc init --no-scm`) or with it."""
    (repo / "data" / "corpus").mkdir(parents=True)
    if with_git:
        git(repo, "init", "-q")
        dvc(repo, "init", "-q")
    else:
        dvc(repo, "init", "-q", "--no-scm")
    dvc(repo, "add", "-q", "data/corpus")
    return repo / "data" / "corpus"


@pytest.fixture
def tracked_corpus(tmp_path: Path) -> Path:
    return tracked(tmp_path / "repo")


def test_each_new_partition_updates_the_dvc_file(tracked_corpus: Path):
    dvc_file = tracked_corpus.with_name("corpus.dvc")
    empty = md5_in(dvc_file)
    first = corpus.append_batch(flow_frame(["BENIGN", "DDoS"]), "a.csv", ARRIVED, tracked_corpus)
    after_first = md5_in(dvc_file)
    corpus.append_batch(flow_frame(["PortScan"], seed=1), "b.csv", ARRIVED + timedelta(hours=1),
                        tracked_corpus)
    assert len({empty, md5_in(dvc_file), after_first}) == 3 and nfiles_in(dvc_file) == 2
    root = tracked_corpus.parent.parent
    with Repo(str(root)) as repo:
        assert repo.status() == {}   # the .dvc file matches the folder: nothing to `dvc add`
    # the partition is in DVC's cache: deleted, it comes back byte for byte
    content = first.path.read_bytes()
    first.path.unlink()
    dvc(root, "checkout", "-q", "data/corpus.dvc")
    assert first.path.read_bytes() == content


def test_in_a_git_repository_too(tmp_path: Path):
    folder = tracked(tmp_path / "repo", with_git=True)
    dvc_file = folder.with_name("corpus.dvc")
    empty = md5_in(dvc_file)
    corpus.append_batch(flow_frame(["DDoS"]), "a.csv", ARRIVED, folder)
    assert md5_in(dvc_file) != empty and nfiles_in(dvc_file) == 1
    assert "/corpus" in (folder.parent / ".gitignore").read_text().split()
    # the .dvc file is git's to commit; the partition itself stays out of git
    status = git(tmp_path / "repo", "status", "--porcelain", "--untracked-files=all")
    assert "data/corpus.dvc" in status and "parquet" not in status


def test_a_repository_whose_git_is_gone_still_versions(tmp_path: Path):
    """The container image holds .dvc/ of a git-initialised repository but no .git."""
    folder = tracked(tmp_path / "repo", with_git=True)
    shutil.rmtree(tmp_path / "repo" / ".git")
    empty = md5_in(folder.with_name("corpus.dvc"))
    corpus.append_batch(flow_frame(["DDoS"]), "a.csv", ARRIVED, folder)
    assert md5_in(folder.with_name("corpus.dvc")) != empty


def test_adding_the_same_batch_again_leaves_the_version(tracked_corpus: Path):
    dvc_file = tracked_corpus.with_name("corpus.dvc")
    corpus.append_batch(flow_frame(["DDoS"]), "a.csv", ARRIVED, tracked_corpus)
    written = dvc_file.stat().st_mtime_ns
    corpus.append_batch(flow_frame(["DDoS"]), "a.csv", ARRIVED, tracked_corpus)
    assert dvc_file.stat().st_mtime_ns == written


def test_outside_a_dvc_repository_nothing_is_versioned(corpus_dir: Path, caplog):
    with caplog.at_level(logging.INFO, logger="nids.data.corpus_versioning"):
        corpus.append_batch(flow_frame(["DDoS"]), "a.csv", ARRIVED, corpus_dir)
    assert "is not versioned by DVC (not in a DVC repository)" in caplog.text
    assert f"dvc add {corpus_dir}" in caplog.text
    assert not corpus_dir.with_name("corpus.dvc").exists()


def test_a_folder_dvc_does_not_track_is_left_alone(tmp_path: Path, caplog):
    dvc(tmp_path, "init", "-q", "--no-scm")
    folder = tmp_path / "scenario" / "corpus"
    with caplog.at_level(logging.INFO, logger="nids.data.corpus_versioning"):
        corpus.append_batch(flow_frame(["DDoS"]), "a.csv", ARRIVED, folder)
    assert "is not versioned by DVC (no corpus.dvc)" in caplog.text
    assert sorted(p.name for p in folder.parent.iterdir()) == ["corpus"]


def test_a_dvc_failure_keeps_the_partition_and_says_what_to_run(tracked_corpus: Path, caplog):
    dvc_file = tracked_corpus.with_name("corpus.dvc")
    dvc_file.write_text("outs: [this is not a dvc file\n")
    with caplog.at_level(logging.WARNING, logger="nids.data.corpus_versioning"):
        partition = corpus.append_batch(flow_frame(["DDoS"]), "a.csv", ARRIVED, tracked_corpus)
    assert partition.path.is_file()
    assert "corpus.dvc was not updated" in caplog.text
    assert f"run `dvc add {tracked_corpus}`" in caplog.text
    assert version_corpus(tracked_corpus) is None
