"""What the HTTP routes do, without HTTP: score a body, describe health, follow the alias."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from nids.data.schema import FEATURE_COLUMNS
from nids.serving import inputs
from nids.serving.batch_writer import BatchWriter, ScoredFlows
from nids.serving.metrics import ServingMetrics
from nids.serving.model import ModelHolder, ServedModel
from nids.serving.scoring import (
    ContributionMethod,
    ExplainMode,
    Scores,
    response_body,
    score_flows,
)
from nids.serving.settings import ServingSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictOptions:
    explain: ExplainMode = ExplainMode.FLAGGED
    contributions: ContributionMethod = ContributionMethod.AUTO
    top_k: int = 5


def parse_flows(body: bytes, flow_format: str) -> pd.DataFrame:
    """The flows of a request body ('csv' or 'json'); ValueError names what is wrong."""
    if flow_format == "csv":
        return inputs.read_csv_flows(body)
    return inputs.read_json_flows(body)


def scored_flows(flows: pd.DataFrame, scores: Scores, served: ServedModel) -> ScoredFlows:
    """What a batch keeps of the scored flows: features as received, class and model."""
    if list(flows.columns) != list(FEATURE_COLUMNS):  # parse_flows gives them in this order
        flows = flows[list(FEATURE_COLUMNS)]
    return ScoredFlows(flows.to_numpy(dtype=np.float32),
                       scores.predictions, scores.probabilities, served.version)


class ScoringService:
    """The served model, its metrics and the batches of scored flows."""

    def __init__(self, settings: ServingSettings):
        self.settings = settings
        self.metrics = ServingMetrics()
        self.holder = ModelHolder(settings.model_name, settings.alias,
                                  on_swap=self.metrics.model_swapped)
        self.writer = (BatchWriter(settings.incoming_path, settings.bucket_seconds,
                                   settings.flush_rows) if settings.write_batches else None)

    def predict(self, served: ServedModel, flows: pd.DataFrame,
                options: PredictOptions) -> tuple[bytes, bool]:
        """The JSON answer, and whether the batch writer asks for a flush."""
        scores = score_flows(served, flows, options.explain, options.contributions,
                             self.settings.exact_max_flows)
        explained = scores.explanations
        self.metrics.observe_flows(scores.class_counts(),
                                   0 if explained is None else len(explained.rows),
                                   None if explained is None else explained.method)
        flush_due = False
        if self.writer is not None:
            flush_due = self.writer.append(scored_flows(flows, scores, served))
            self.metrics.buffered_flows.set(self.writer.buffered_rows)
        return orjson.dumps(response_body(scores, served, options.top_k)), flush_due

    def health(self) -> dict[str, Any]:
        served = self.holder.current
        if served is None:
            return {"status": "no model",
                    "detail": f"models:/{self.settings.model_name}@{self.settings.alias} does "
                              "not exist yet; train and register one (make run).",
                    "model": None}
        return {"status": "ok", "model": {
            "name": served.model_name, "version": served.version, "alias": served.alias,
            "run_id": served.bundle.run_id, "loaded_since": served.loaded_at.isoformat(),
            "classes": served.bundle.classes, "features": len(served.bundle.features)}}

    def refresh_model(self) -> None:
        """Re-resolve the alias; a failure is logged and counted, the current model stays."""
        try:
            self.holder.refresh()
        except Exception as error:  # MLflow raises many types (HTTP, SQL, file, parse)
            self.metrics.refresh_errors.inc()
            logger.warning("Could not refresh models:/%s@%s (still serving %s): %s",
                           self.settings.model_name, self.settings.alias,
                           getattr(self.holder.current, "version", "nothing"), error)

    def flush_batches(self, closing: bool = False) -> None:
        """Spool buffered flows and write ended buckets (all buckets when closing)."""
        if self.writer is None:
            return
        try:
            written = self.writer.close() if closing else self.writer.flush()
        except Exception:  # a full disk must not stop the service; the flows stay buffered
            logger.exception("Could not write scored flows to %s (kept for the next try)",
                             self.writer.folder)
            return
        self.metrics.batches.inc(len(written))
        self.metrics.buffered_flows.set(self.writer.buffered_rows)
