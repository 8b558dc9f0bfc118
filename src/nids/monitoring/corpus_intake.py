"""After monitoring, a labelled batch joins the corpus of labelled traffic that training reads.

The corpus is the one of the training configuration the monitoring flow retrains with
(`retrain.training_config`, else config/training.yaml), so the retrain a batch starts reads
that batch. Unlabelled batches stay out: their labels come back through a label request.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from nids.config import MonitoringConfig, load_training_config, project_path
from nids.data import corpus
from nids.data.corpus import Partition
from nids.data.schema import LABEL_COLUMN
from nids.monitoring.workspace import batch_time

logger = logging.getLogger(__name__)


def corpus_dir(config: MonitoringConfig) -> Path:
    """The corpus folder of the training the monitoring flow starts."""
    training = config.retrain.training_config or load_training_config()
    return project_path(training.data.corpus.dir)


def unlabelled_rows(frame: pd.DataFrame) -> int:
    """Rows without a label (every row when the batch has no label column)."""
    if LABEL_COLUMN not in frame.columns:
        return len(frame)
    return int(frame[LABEL_COLUMN].isna().sum())


def keep_labelled(frame: pd.DataFrame, batch: Path, config: MonitoringConfig) -> Partition | None:
    """Add a checked batch whose every row is labelled to the corpus, as a partition named by
    its arrival time (`workspace.batch_time`) and name; None for a batch with unlabelled rows."""
    missing = unlabelled_rows(frame)
    if missing:
        logger.info("%s: %d of %d rows unlabelled; the batch does not join the corpus",
                    batch.name, missing, len(frame))
        return None
    try:
        folder = corpus_dir(config)
    except ValueError as error:   # a broken config/training.yaml must not stop monitoring
        logger.error("%s does not join the corpus: %s. Fix the training config; the batch "
                     "stays in done/ and can be monitored again to add it.", batch.name, error)
        return None
    return corpus.append_batch(frame, batch.name, batch_time(batch), folder)
