"""No pointless retrains: a retrain whose training data would be the champion's (or the
challenger's) exact data.

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


def trained_fingerprints(model_name: str) -> dict[str, str]:
    """The data fingerprint of the champion and the challenger, by alias (those with one)."""
    registry.use_tracking_store()
    found = {}
    for alias in (registry.CHAMPION, registry.CHALLENGER):
        version = registry.version_by_alias(model_name, alias)
        if version is not None and (version.tags or {}).get(FINGERPRINT_TAG):
            found[alias] = version.tags[FINGERPRINT_TAG]
    return found


def same_data_as_champion(training: TrainingConfig) -> str | None:
    """Why a retrain with `training` would learn nothing new (its data's fingerprint is the
    champion's, or the challenger's: that model exists already), or None: the data differ, or
    cannot be compared (then the retrain goes on and the training run reports any problem
    with its data itself)."""
    try:
        fingerprint = training_fingerprint(training.data)
        trained = trained_fingerprints(training.registry.model_name)
    except (OSError, ValueError, MlflowException, ConnectionError) as error:
        logger.warning("Cannot compare the retrain's data with the champion's (%s); "
                       "retraining anyway", error)
        return None
    alias = next((a for a, known in trained.items() if known == fingerprint), None)
    if alias is None:
        return None
    return (f"the training data would be the {alias}'s exact data (fingerprint "
            f"{fingerprint[:12]}): nothing new was labelled since it was trained on "
            f"{training.data.raw_dir} and the corpus window, so a new model could only repeat "
            "it. Labelled batches, or labels files in data/labels/, start a retrain.")
