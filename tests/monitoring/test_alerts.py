"""Drift alerts: to the log when nothing is configured, or to a webhook (a real local server)."""

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from nids.monitoring.alerts import send_alert
from nids.services import free_ports

SUBJECT = "Drift in 03-friday.csv: drift"
BODY = "**share of drifted features** 0.62 > 0.30\n- flow_bytes_s"


@dataclass
class Webhook:
    """A webhook receiver on 127.0.0.1: what it was sent, and the status it answers with."""

    url: str
    status: int = 200
    received: list[dict] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            hook.received.append({
                "path": self.path,
                "content_type": self.headers["Content-Type"],
                "json": json.loads(self.rfile.read(length)),
            })
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/nids"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_without_a_channel_the_alert_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="nids.monitoring.alerts"):
        assert send_alert(SUBJECT, BODY) == "log"
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert SUBJECT in record.getMessage() and BODY in record.getMessage()


def test_webhook_receives_subject_and_text_as_json(webhook, caplog):
    with caplog.at_level(logging.WARNING, logger="nids.monitoring.alerts"):
        assert send_alert(SUBJECT, BODY, webhook_url=webhook.url) == "webhook"
    assert webhook.received == [{
        "path": "/hooks/nids",
        "content_type": "application/json",
        "json": {"subject": SUBJECT, "text": BODY},
    }]
    assert caplog.records == []  # sent, so not also logged as an alert


@pytest.mark.parametrize("status", [404, 500])
def test_webhook_error_status_raises(webhook, status):
    webhook.status = status
    with pytest.raises(httpx.HTTPStatusError, match=str(status)):
        send_alert(SUBJECT, BODY, webhook_url=webhook.url)
    assert len(webhook.received) == 1


def test_unreachable_webhook_raises():
    [port] = free_ports(1)  # free: nothing listens there
    with pytest.raises(httpx.ConnectError):
        send_alert(SUBJECT, BODY, webhook_url=f"http://127.0.0.1:{port}/hooks/nids")


@pytest.mark.services
def test_notification_block_sends_through_prefect(webhook):
    """A Prefect notification block saved on a (temporary) Prefect API is loaded by name."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        CustomWebhookNotificationBlock(
            name="nids-alerts", url=webhook.url, allow_private_urls=True,
            json_data={"title": "{{subject}}", "text": "{{body}}"},
        ).save("nids-alerts")
        channel = send_alert(SUBJECT, BODY,
                             block_name="custom-webhook/nids-alerts", webhook_url=webhook.url)

    assert channel == "block custom-webhook/nids-alerts"
    [request] = webhook.received  # the block was used, not the plain webhook
    assert request["json"] == {"title": SUBJECT, "text": BODY}
