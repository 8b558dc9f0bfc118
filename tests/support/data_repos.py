"""Throwaway git + DVC repositories for the lineage tests: a data/raw folder tracked by DVC,
pushed to a local remote next to the repository, committed with git."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

GIT = ["git", "-c", "user.name=nids tests", "-c", "user.email=tests@example.invalid",
       "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]
# This interpreter's DVC, whatever `dvc` is on PATH.
DVC = [sys.executable, "-m", "dvc"]
TOOL_ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_TERMINAL_PROMPT": "0"}


def run(folder: Path, *command: str) -> str:
    result = subprocess.run(command, cwd=folder, env=TOOL_ENV, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, f"{shlex.join(command)} failed:\n{result.stderr}"
    return result.stdout.strip()


def git(folder: Path, *args: str) -> str:
    return run(folder, *GIT, *args)


def dvc(folder: Path, *args: str) -> str:
    return run(folder, *DVC, *args)


def md5_in(dvc_file: Path) -> str:
    """The md5 `dvc add` wrote, read straight from the YAML."""
    return yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"]


def commit_data(repo: Path, message: str) -> str:
    """`dvc add data/raw`, `dvc push`, commit everything; returns the commit."""
    dvc(repo, "add", "-q", "data/raw")
    dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def init_data_repo(repo: Path) -> Path:
    """git init + dvc init in `repo` (data/raw already filled), then the first data commit."""
    git(repo, "init", "-q")
    dvc(repo, "init", "-q")
    dvc(repo, "remote", "add", "-d", "local", str(repo.parent / f"{repo.name}-dvc-remote"))
    commit_data(repo, "first data")
    return repo
