"""Alerts: a Prefect notification block or a webhook when configured, the log otherwise.

A webhook URL usually carries a token, so it never travels as a flow parameter: it comes from
the run's environment (NIDS_ALERT_WEBHOOK_URL) or a Prefect Secret block named in the config,
and only its scheme and host are ever shown (in errors, logs and outcomes).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx
from prefect.blocks.core import Block
from prefect.blocks.system import Secret

from nids.config import AlertConfig

logger = logging.getLogger(__name__)

WEBHOOK_VARIABLE = "NIDS_ALERT_WEBHOOK_URL"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def masked(url: str) -> str:
    """'https://hooks.example.org/…': the scheme and host of a URL, nothing of its path,
    query or credentials, where tokens live."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}/…"


def mask_urls(text: str) -> str:
    """`text` with every URL in it masked."""
    return _URL.sub(lambda match: masked(match.group(0)), text)


def webhook_url(config: AlertConfig, env: Mapping[str, str] | None = None) -> str | None:
    """The webhook URL: from the Secret block named in the config, else the environment."""
    if config.webhook_secret_block:
        return str(Secret.load(config.webhook_secret_block).get())
    return (os.environ if env is None else env).get(WEBHOOK_VARIABLE) or None


def channel(config: AlertConfig, env: Mapping[str, str] | None = None) -> str:
    """The channel an alert goes to, as shown in logs and outcomes (URLs masked)."""
    if config.notification_block:
        return f"block {config.notification_block}"
    url = webhook_url(config, env)
    return f"webhook {masked(url)}" if url else "log"


class _MaskedUrls(logging.Filter):
    """Masks given URLs in a logger's records: httpx logs every request's full URL at INFO."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(url in message for url in self.urls):
            for url in self.urls:
                message = message.replace(url, masked(url))
            record.msg, record.args = message, ()
        return True


_HTTPX_MASK = _MaskedUrls()


def hide_in_logs(url: str) -> None:
    """Mask `url` in httpx's request log lines from now on."""
    httpx_logger = logging.getLogger("httpx")
    if _HTTPX_MASK not in httpx_logger.filters:
        httpx_logger.addFilter(_HTTPX_MASK)
    _HTTPX_MASK.urls.add(url)


def post_webhook(url: str, subject: str, body: str, timeout: float = 10) -> None:
    """POST the alert as JSON; raises RuntimeError naming only the masked URL."""
    hide_in_logs(url)
    try:
        response = httpx.post(url, json={"subject": subject, "text": body}, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPStatusError as error:
        raise RuntimeError(f"webhook {masked(url)} answered HTTP "
                           f"{error.response.status_code}") from None
    except httpx.HTTPError as error:  # the original names the URL: not chained
        detail = mask_urls(str(error).replace(url, masked(url)))
        raise RuntimeError(f"webhook {masked(url)} failed: {type(error).__name__}: "
                           f"{detail}") from None


def notify_block(name: str, subject: str, body: str) -> None:
    """Send through a Prefect notification block, raising when it fails (URLs masked)."""
    block = Block.load(name)  # e.g. "slack-webhook/nids-alerts"
    try:
        with block.raise_on_failure():
            block.notify(body, subject=subject)
    except Exception as error:  # apprise and httpx errors may quote the block's URL
        raise RuntimeError(f"notification block {name} failed: {type(error).__name__}: "
                           f"{mask_urls(str(error))}") from None


def send_alert(subject: str, body: str, config: AlertConfig,
               env: Mapping[str, str] | None = None) -> str:
    """Send the alert through the configured channel once; returns the channel's name.

    Raises RuntimeError when the channel fails (the flow retries and reports it).
    """
    if config.notification_block:
        notify_block(config.notification_block, subject, body)
        return channel(config, env)
    url = webhook_url(config, env)
    if url:
        post_webhook(url, subject, body)
        return channel(config, env)
    logger.warning("ALERT %s\n%s", subject, body)
    return "log"
