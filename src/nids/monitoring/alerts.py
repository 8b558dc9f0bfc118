"""Drift alerts: a Prefect notification block or a webhook when configured, a log otherwise."""

from __future__ import annotations

import logging

import httpx
from prefect.blocks.core import Block

logger = logging.getLogger(__name__)


def send_alert(subject: str, body: str, block_name: str | None = None,
               webhook_url: str | None = None) -> str:
    """Send the alert through the configured channel; returns which channel was used."""
    if block_name:
        block = Block.load(block_name)  # e.g. "slack-webhook/nids-alerts"
        block.notify(body, subject=subject)
        return f"block {block_name}"
    if webhook_url:
        response = httpx.post(webhook_url, json={"subject": subject, "text": body}, timeout=10)
        response.raise_for_status()
        return "webhook"
    logger.warning("ALERT %s\n%s", subject, body)
    return "log"
