"""Scheduled MLOps flows for network intrusion detection on CICIDS2017."""

import logging

__version__ = "0.1.0"

# The project's own INFO lines ("Reusing parsed data", "Started deployment ...") belong in a
# run's log. Prefect's `logging.extra_loggers` setting (PREFECT_LOGGING_EXTRA_LOGGERS=nids, set
# by the Makefile, `make serve` and the tests) gives the `nids` loggers its API handler but no
# level, and under Prefect's logging config the root logger is at WARNING: without a level of
# their own, the INFO lines would be dropped before reaching any handler.
logging.getLogger(__name__).setLevel(logging.INFO)
