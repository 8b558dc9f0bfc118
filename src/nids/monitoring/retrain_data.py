"""No pointless retrains: a retrain whose training data would be the champion's exact data.

The training flow tags every model version with the fingerprint of what it trained on (the
input files, the label policy and the corpus partitions read, `nids.data.sources`). A retrain
that would read data of the same fingerprint can only train the champion again, so the
monitoring flow skips it and says why.
"""

from __future__ import annotations

import logging

from mlflow.exceptions import MlflowException

from nids.config import TrainingConfig
from nids.data.sources import training_fingerprint
from nids.tracking import registry

logger = logging.getLogger(__name__)

FINGERPRINT_TAG = "data_fingerprint"


def champion_fingerprint(model_name: str) -> str | None:
    """The data fingerprint the champion was trained on; None without a champion or tag."""
    registry.use_tracking_store()
    champion = registry.version_by_alias(model_name, registry.CHAMPION)
    return None if champion is None else (champion.tags or {}).get(FINGERPRINT_TAG)


def same_data_as_champion(training: TrainingConfig) -> str | None:
    """Why a retrain with `training` would learn nothing new (its data's fingerprint is the
    champion's), or None: the data differ, or cannot be compared (then the retrain goes on
    and the training run reports any problem with its data itself)."""
    try:
        fingerprint = training_fingerprint(training.data)
        champion = champion_fingerprint(training.registry.model_name)
    except (OSError, ValueError, MlflowException, ConnectionError) as error:
        logger.warning("Cannot compare the retrain's data with the champion's (%s); "
                       "retraining anyway", error)
        return None
    if champion is None or champion != fingerprint:
        return None
    return (f"the training data would be the champion's exact data (fingerprint "
            f"{fingerprint[:12]}): no labelled batch joined the corpus since "
            f"{training.data.raw_dir} and the corpus window were last trained on, so a new "
            "model could only repeat it. Labels for the batch (data/labels/) start a retrain.")
