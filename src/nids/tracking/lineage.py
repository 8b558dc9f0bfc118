"""Where a model came from: the DVC md5 of the data it trained on and the git commit of the code.

The training flow tags its MLflow run and model version with `DataVersion.tags()`;
`python -m nids.tracking.lineage show <model-name> <version>` reads them back and prints the
commands that restore that code and data:

    python -m nids.tracking.lineage show cicids2017-xgboost 3
    python -m nids.tracking.lineage show cicids2017-xgboost champion
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
from dvc.exceptions import DvcException
from dvc.repo import Repo
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from nids.data.corpus_versioning import dvc_file_of
from nids.data.ingest import find_input_files
from nids.paths import PROJECT_ROOT
from nids.tracking.registry import REFERENCE_ARTIFACT, tracking_uri

logger = logging.getLogger(__name__)

DVC, FINGERPRINT = "dvc", "fingerprint"
CORPUS_ARTIFACT = "corpus/partitions.json"   # the corpus partitions a run trained on
CORPUS_PARTITIONS_TAG = "corpus_partitions"  # how many
CORPUS_MD5_TAG = "corpus_dvc_md5"            # the corpus folder's md5 in data/corpus.dvc
DATASET_DIGEST_LIMIT = 36  # MLflow's datasets.digest column is String(36)
UNKNOWN_COMMIT = "unknown"


@dataclass(frozen=True)
class GitState:
    commit: str   # UNKNOWN_COMMIT outside a git checkout (e.g. in the container image)
    dirty: bool   # tracked files differed from the commit (untracked files and .dvc files,
                  # whose md5s the run records, do not count)


@dataclass(frozen=True)
class DataVersion:
    """What a run trained on: the DVC md5 of the raw folder, or else the ingest fingerprint."""

    digest: str
    source: str              # DVC or FINGERPRINT
    dvc_file: str | None     # e.g. "data/raw.dvc", relative to the repository root
    git: GitState

    @property
    def dataset_digest(self) -> str:
        """The digest of the MLflow dataset input (a DVC directory md5 is exactly 36 chars)."""
        return self.digest[:DATASET_DIGEST_LIMIT]

    def tags(self) -> dict[str, str]:
        """MLflow tags of the training run and of the registered model version."""
        tags = {"data_version": self.digest, "data_version_source": self.source,
                "git_commit": self.git.commit, "git_dirty": str(self.git.dirty).lower()}
        if self.source == DVC:
            tags |= {"dvc_md5": self.digest, "dvc_file": self.dvc_file or ""}
        return tags


def _git(folder: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                                timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def git_state(folder: Path) -> GitState:
    """HEAD of the git checkout holding `folder`, and whether tracked files were changed.
    The .dvc files do not count: the corpus's changes with every labelled batch
    (nids.data.corpus_versioning), and the run records the data's md5s itself."""
    commit = _git(folder, "rev-parse", "HEAD")
    if not commit:
        return GitState(UNKNOWN_COMMIT, False)
    changed = _git(folder, "status", "--porcelain", "--untracked-files=no", "--", ".",
                   ":(exclude)*.dvc")
    return GitState(commit, bool(changed))


def tracked_md5(raw_dir: Path,
                instead: str = "the ingest fingerprint") -> tuple[str, Path] | None:
    """(md5 in the .dvc file, repository root) when DVC tracks `raw_dir` and it is unchanged.

    None, with the reason logged, when there is no .dvc file, DVC cannot read it, or the
    folder differs from it (new files not yet `dvc add`-ed); `instead`: what the run records
    then.
    """
    dvc_file = dvc_file_of(raw_dir)
    if not dvc_file.is_file():
        logger.info("%s is not tracked by DVC (no %s)", raw_dir, dvc_file.name)
        return None
    try:
        root = Path(Repo.find_root(str(dvc_file.parent))).resolve()
        # no_scm: reading needs no git, so this also works in the container image.
        with Repo(str(root), config={"core": {"no_scm": True}}) as repo:
            stage = repo.stage.load_one(path=str(dvc_file))
            out = next(o for o in stage.outs if Path(o.fs_path).resolve() == raw_dir.resolve())
            md5, changes = out.hash_info.value, out.workspace_status()
    except (DvcException, OSError, StopIteration) as error:
        logger.warning("Cannot read %s (%s); recording %s instead",
                       dvc_file, error or f"it does not track {raw_dir}", instead)
        return None
    if changes or not md5:
        logger.warning(
            "%s differs from %s (%s): the run is recorded with %s. To version this data, run "
            "`dvc add %s && dvc push` and commit %s.", raw_dir, dvc_file.name,
            ", ".join(changes.values()) or "no md5", instead, raw_dir.resolve().relative_to(root),
            dvc_file.resolve().relative_to(root))
        return None
    return md5, root


def data_version(raw_dir: Path, fingerprint: str, generated: bool = False) -> DataVersion:
    """The version of the data a run trained on, with the git state of the code.

    The training flow reads `raw_dir`, or generated data when its config asks for them
    (`nids.data.sources.select_inputs`); generated data and data DVC does not match are
    identified by the ingest fingerprint.
    """
    tracked = tracked_md5(raw_dir) if not generated and find_input_files(raw_dir) else None
    if tracked is None:
        return DataVersion(fingerprint, FINGERPRINT, None, git_state(PROJECT_ROOT))
    md5, root = tracked
    dvc_file = dvc_file_of(raw_dir).resolve().relative_to(root).as_posix()
    return DataVersion(md5, DVC, dvc_file, git_state(root))


def corpus_md5(corpus_dir: Path) -> str | None:
    """The md5 of the corpus folder in its .dvc file (`nids.data.corpus_versioning` keeps it
    up to date), or None when DVC does not track the folder as it is."""
    tracked = tracked_md5(corpus_dir, instead="the corpus partitions' names only")
    return tracked[0] if tracked else None


@dataclass(frozen=True)
class ModelLineage:
    """A registered model version traced back to its training run, code and data."""

    model_name: str
    version: str
    run_id: str
    data: DataVersion
    corpus_partitions: tuple[str, ...] | None = None   # None: not recorded (older versions)
    corpus_md5: str | None = None   # the corpus folder's DVC md5, when DVC tracked it


def lineage_of(model_version: ModelVersion) -> ModelLineage:
    """Read the lineage tags the training flow set on a model version."""
    tags = dict(model_version.tags or {})
    if "git_commit" not in tags or not ({"data_version", "data_fingerprint"} & tags.keys()):
        raise ValueError(
            f"Version {model_version.version} of {model_version.name} has no lineage tags "
            "(git_commit, data_version); it was not registered by this project's training flow."
        )
    # Versions registered before DVC tracking carry only the ingest fingerprint.
    digest = tags.get("data_version") or tags["data_fingerprint"]
    source = tags.get("data_version_source", FINGERPRINT)
    git = GitState(tags["git_commit"], tags.get("git_dirty") == "true")
    data = DataVersion(digest, source, tags.get("dvc_file") or None, git)
    return ModelLineage(model_version.name, str(model_version.version),
                        model_version.run_id, data, corpus_md5=tags.get(CORPUS_MD5_TAG))


def corpus_of(run_id: str) -> tuple[str, ...] | None:
    """The corpus partitions a training run read (its CORPUS_ARTIFACT); None when the run
    recorded none (it predates the corpus)."""
    try:
        recorded = mlflow.artifacts.load_dict(f"runs:/{run_id}/{CORPUS_ARTIFACT}")
    except (MlflowException, OSError):
        return None
    return tuple(recorded["partitions"])


def with_corpus(lineage: ModelLineage) -> ModelLineage:
    return replace(lineage, corpus_partitions=corpus_of(lineage.run_id))


def find_version(model_name: str, version_or_alias: str) -> ModelVersion:
    """A model version by number ("3") or alias ("champion")."""
    client = MlflowClient()
    if version_or_alias.isdigit():
        return client.get_model_version(model_name, version_or_alias)
    return client.get_model_version_by_alias(model_name, version_or_alias)


def restore_commands(lineage: ModelLineage) -> list[str]:
    """Shell commands, run in the repository root, that bring back the code and the data."""
    commit = lineage.data.git.commit
    commands = [f"git checkout {commit}"] if commit != UNKNOWN_COMMIT else []
    if lineage.data.source == DVC:
        commands.append(f"dvc pull {lineage.data.dvc_file}")
    return commands


def corpus_lines(partitions: tuple[str, ...] | None, md5: str | None = None) -> list[str]:
    """The corpus partitions of `show` (append-only files: their names are the version), and
    the corpus folder's DVC md5 when DVC tracked it."""
    if partitions is None:
        return ["corpus:      not recorded (trained before the corpus existed)"]
    version = f", DVC md5 {md5}" if md5 else ""
    return [f"corpus:      {len(partitions)} partition(s){version} (dvc pull data/corpus.dvc)",
            *[f"  {name}" for name in partitions]]


def describe(lineage: ModelLineage, mlflow_env: str = "") -> str:
    """What `show` prints: the commit, the data version and how to restore them.

    `mlflow_env` prefixes the `mlflow` command, e.g. "MLFLOW_TRACKING_URI=sqlite:///... ".
    """
    data, git = lineage.data, lineage.data.git
    lines = [f"{lineage.model_name} version {lineage.version} (training run {lineage.run_id})",
             f"git commit:  {git.commit}" + (" (plus uncommitted changes)" if git.dirty else "")]
    if data.source == DVC:
        lines.append(f"data:        {data.dvc_file}, DVC md5 {data.digest}")
    else:
        lines.append(f"data:        not versioned by DVC; ingest fingerprint {data.digest}")
    lines += corpus_lines(lineage.corpus_partitions, lineage.corpus_md5)
    lines += ["", "Restore the code and the data (in the repository root):"]
    lines += [f"  {command}" for command in restore_commands(lineage)]
    if data.source == DVC:
        lines.append(f"  (or `dvc checkout {data.dvc_file}` when the local DVC cache has it)")
    else:
        lines.append("  the data are not in DVC: train on the same files again; generated data "
                     "come back from the data settings of the run's Prefect parameters")
    if git.commit == UNKNOWN_COMMIT or git.dirty:
        lines.append("  warning: the code that trained it was not exactly a commit")
    lines += ["", "The monitoring reference sample of this version:",
              f"  {mlflow_env}mlflow artifacts download --run-id {lineage.run_id} "
              f"--artifact-path {REFERENCE_ARTIFACT}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nids.tracking.lineage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="the commit and data of a registered model version")
    show.add_argument("model_name")
    show.add_argument("version", help="version number, or an alias such as champion")
    args = parser.parse_args(argv)
    # The default store is the project's mlflow.db; the `mlflow` CLI needs to be told so.
    mlflow_env = "" if os.environ.get("MLFLOW_TRACKING_URI") else (
        f"MLFLOW_TRACKING_URI={tracking_uri()} ")
    mlflow.set_tracking_uri(tracking_uri())
    try:
        lineage = with_corpus(lineage_of(find_version(args.model_name, args.version)))
    except (MlflowException, ValueError) as error:
        sys.stderr.write(f"{error}\n")
        return 1
    sys.stdout.write(describe(lineage, mlflow_env) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
