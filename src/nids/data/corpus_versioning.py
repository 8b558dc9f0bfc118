"""The corpus versioned with DVC as it grows: each new partition updates data/corpus.dvc.

`version_corpus` is `dvc add data/corpus` through DVC's Python API, in the DVC repository that
holds the folder, when DVC tracks it (a `corpus.dvc` beside it). DVC hashes only files it has
not seen (its state database keeps the others' hashes) and copies the new one into its cache;
`dvc push` backs it up, and committing the .dvc file records the version in git. Outside a DVC
repository, or for a folder DVC does not track (the tour's and the tests' corpora), nothing is
versioned and a log line says so. A DVC failure never loses the partition: it is logged with
the command that finishes the job.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

logger = logging.getLogger(__name__)


def dvc_file_of(folder: Path) -> Path:
    """`dvc add data/corpus` writes data/corpus.dvc next to the folder (data/raw.dvc too)."""
    return folder.with_name(f"{folder.name}.dvc")


def dvc_root(folder: Path) -> Path | None:
    """The root of the DVC repository holding `folder`, or None outside one."""
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        return Path(Repo.find_root(str(folder.parent))).resolve()
    except NotDvcRepoError:
        return None


def dvc_add(root: Path, folder: Path):
    """`dvc add <folder>` in the repository at `root`; without git there (the container image
    has .dvc/ but no .git), as in a `dvc init --no-scm` repository. The stage DVC wrote."""
    from dvc.repo import Repo
    from dvc.scm import SCMError

    try:
        with Repo(str(root)) as repo:
            [stage] = repo.add([str(folder.resolve())])
    except SCMError:   # "not a git repository"
        with Repo(str(root), config={"core": {"no_scm": True}}) as repo:
            [stage] = repo.add([str(folder.resolve())])
    return stage


def version_corpus(corpus_dir: Path) -> str | None:
    """Update the .dvc file of the corpus folder to its content now; its new md5, or None
    (logged) when DVC does not track the folder or could not update it."""
    from dvc.exceptions import DvcException

    dvc_file, root = dvc_file_of(corpus_dir), dvc_root(corpus_dir)
    if root is None or not dvc_file.is_file():
        logger.info("%s is not versioned by DVC (%s); to version it, run `dvc add %s` in the "
                    "DVC repository and commit %s", corpus_dir,
                    "not in a DVC repository" if root is None else f"no {dvc_file.name}",
                    corpus_dir, dvc_file.name)
        return None
    started = time.perf_counter()
    try:
        out = dvc_add(root, corpus_dir).outs[0]
        md5, files = out.hash_info.value, out.meta.nfiles
    except (DvcException, OSError, ValueError) as error:
        logger.warning("The partition is in %s, but %s was not updated (%s); run `dvc add %s` "
                       "to version it", corpus_dir, dvc_file, error, corpus_dir)
        return None
    logger.info("Corpus versioned: %s md5 %s (%s files) in %.2f s; `dvc push` backs it up",
                dvc_file.name, md5, files, time.perf_counter() - started)
    return md5
