"""The reference sample: training rows, scored by the new model, that monitoring compares
new traffic with. It is logged with the training run and read back by the monitoring flow."""

from __future__ import annotations

import pandas as pd

from nids.data.schema import PREDICTION_COLUMN
from nids.tracking.registry import ModelBundle, predict_classes

PROBABILITY_COLUMN = "probability"   # the probability of the predicted class


def reference_sample(train_split: pd.DataFrame, bundle: ModelBundle, rows: int,
                     seed: int) -> pd.DataFrame:
    """At most `rows` training rows, drawn with `seed`, with the model's predictions."""
    sample = train_split.sample(min(rows, len(train_split)), random_state=seed)
    sample[PREDICTION_COLUMN], sample[PROBABILITY_COLUMN] = predict_classes(bundle, sample)
    return sample.reset_index(drop=True)
