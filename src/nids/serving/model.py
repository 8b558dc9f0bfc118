"""The model being served, and following its registry alias.

Requests read `ModelHolder.current` once and use that object to the end, so swapping in a new
version (loaded and prepared completely beforehand) is one reference assignment: requests in
flight finish with the version they started with, and none is dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from nids.serving.explain import Explainer, build_explainer
from nids.tracking import registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedModel:
    """A loaded model version with its explainer and when it was swapped in."""

    bundle: registry.ModelBundle
    model_name: str
    alias: str
    loaded_at: datetime
    explainer: Explainer

    @property
    def version(self) -> str:
        return self.bundle.version


def load_served_model(model_name: str, alias: str) -> ServedModel | None:
    """The version `alias` points at, ready to score and explain; None when there is none."""
    bundle = registry.load_bundle(model_name, alias)
    if bundle is None:
        return None
    explainer = build_explainer(bundle.model, bundle.features, len(bundle.classes))
    return ServedModel(bundle, model_name, alias, datetime.now(UTC), explainer)


class ModelHolder:
    """Holds the served model; `refresh` re-resolves the alias and swaps on a new version."""

    def __init__(self, model_name: str, alias: str,
                 on_swap: Callable[[ServedModel | None, ServedModel], None] | None = None):
        self.model_name = model_name
        self.alias = alias
        self.current: ServedModel | None = None
        self._on_swap = on_swap
        self._refreshing = threading.Lock()

    def refresh(self) -> bool:
        """Load the version the alias points at if it is not the one served; True on a swap.

        When the alias is gone the current version keeps serving (logged), so deleting an
        alias by mistake does not take the service down.
        """
        with self._refreshing:
            pointed = registry.version_by_alias(self.model_name, self.alias)
            if pointed is None:
                if self.current is not None:
                    logger.warning("models:/%s@%s no longer exists; still serving version %s",
                                   self.model_name, self.alias, self.current.version)
                return False
            if self.current is not None and str(pointed.version) == self.current.version:
                return False
            served = load_served_model(self.model_name, self.alias)
            if served is None:
                return False
            previous, self.current = self.current, served
        logger.info("Serving %s version %s (@%s)%s", self.model_name, served.version, self.alias,
                    f", swapped from version {previous.version}" if previous else "")
        if self._on_swap is not None:
            self._on_swap(previous, served)
        return True
