"""`python -m nids.serving`: run the scoring API with uvicorn (what `make serve` starts).

Settings come from config/serving.yaml and NIDS_SCORING_* environment variables; the MLflow
store from MLFLOW_TRACKING_URI (default: the project's mlflow.db).
"""

from __future__ import annotations

import logging
import sys

import uvicorn

from nids.serving.app import create_app
from nids.serving.settings import load_serving_settings

logger = logging.getLogger("nids.serving")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load_serving_settings()
    except ValueError as error:
        logger.error("%s", error)
        return 2
    logger.info("Scoring API on http://%s:%d serving models:/%s@%s", settings.host,
                settings.port, settings.model_name, settings.alias)
    # One process: the batch writer and the model holder live in it. Access logs are off
    # (GET /metrics counts every request); uvicorn's own log goes to the same handler.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                access_log=False, log_config=None, timeout_graceful_shutdown=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
