"""Drift alerts: to the log when nothing is configured, or to a webhook (a real local server)
whose URL comes from the environment or a Secret block and never shows in errors."""

import logging

import pytest

from nids.config import AlertConfig, MonitoringConfig, load_config
from nids.monitoring import alerts
from nids.monitoring.alerts import WEBHOOK_VARIABLE, send_alert
from nids.services import free_ports

SUBJECT = "Drift in 03-friday.csv: drift"
BODY = "**share of drifted features** 0.62 > 0.30\n- flow_bytes_s"
NO_CHANNEL = AlertConfig()


def test_without_a_channel_the_alert_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="nids.monitoring.alerts"):
        assert send_alert(SUBJECT, BODY, NO_CHANNEL, env={}) == "log"
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert SUBJECT in record.getMessage() and BODY in record.getMessage()


def test_the_webhook_url_comes_from_the_environment(webhook, caplog):
    env = {WEBHOOK_VARIABLE: webhook.url}
    with caplog.at_level(logging.DEBUG):
        channel = send_alert(SUBJECT, BODY, NO_CHANNEL, env=env)
    assert channel == f"webhook http://127.0.0.1:{webhook.url.split(':')[2].split('/')[0]}/…"
    assert webhook.received == [{
        "path": f"/services/T0NIDS/{webhook.token}",
        "content_type": "application/json",
        "json": {"subject": SUBJECT, "text": BODY},
    }]
    assert webhook.token not in caplog.text


@pytest.mark.parametrize("status", [404, 500])
def test_a_webhook_error_names_the_status_and_the_host_not_the_token(webhook, status):
    webhook.status = status
    with pytest.raises(RuntimeError) as raised:
        send_alert(SUBJECT, BODY, NO_CHANNEL, env={WEBHOOK_VARIABLE: webhook.url})
    message = str(raised.value)
    assert f"answered HTTP {status}" in message and "http://127.0.0.1:" in message
    assert webhook.token not in message and "T0NIDS" not in message
    assert raised.value.__suppress_context__  # httpx's own error, which quotes the URL, hidden
    assert len(webhook.received) == 1


def test_an_unreachable_webhook_is_named_by_its_host_only():
    [port] = free_ports(1)  # free: nothing listens there
    url = f"http://127.0.0.1:{port}/services/T0NIDS/s3cr3t-t0ken"
    with pytest.raises(RuntimeError, match=rf"webhook http://127\.0\.0\.1:{port}/… failed: "
                                           r"ConnectError") as raised:
        send_alert(SUBJECT, BODY, NO_CHANNEL, env={WEBHOOK_VARIABLE: url})
    assert "s3cr3t" not in str(raised.value)


@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.slack.com/services/T0/B0/XyZ", "https://hooks.slack.com/…"),
    ("https://user:pass@example.org:8443/hook?token=abc", "https://example.org:8443/…"),
    ("http://127.0.0.1:9/x", "http://127.0.0.1:9/…"),
    ("not a url", "://?/…"),
])
def test_masked_shows_scheme_and_host_only(url, shown):
    assert alerts.masked(url) == shown


def test_mask_urls_masks_every_url_in_a_text():
    text = "POST https://hooks.slack.com/services/T0/B0/XyZ failed; retry 'http://a.b/c?k=1'"
    assert alerts.mask_urls(text) == ("POST https://hooks.slack.com/… failed; "
                                      "retry 'http://a.b/…'")


def test_a_webhook_url_in_the_config_is_refused_without_printing_it(tmp_path):
    """A URL with a token in config/monitoring.yaml would travel in every run's parameters."""
    path = tmp_path / "monitoring.yaml"
    path.write_text("alerts:\n  webhook_url: https://hooks.slack.com/services/T0/B0/s3cr3t\n")
    with pytest.raises(ValueError, match=r"NIDS_ALERT_WEBHOOK_URL") as raised:
        load_config(MonitoringConfig, path)
    assert "s3cr3t" not in str(raised.value)
    assert "webhook_url" not in MonitoringConfig.model_json_schema()["$defs"]["AlertConfig"][
        "properties"]


def test_an_empty_webhook_url_left_in_an_old_config_is_ignored():
    assert MonitoringConfig.model_validate({"alerts": {"webhook_url": None}}).alerts == NO_CHANNEL


@pytest.mark.services
def test_the_webhook_url_can_come_from_a_prefect_secret_block(webhook, prefect_api):
    """A Secret block (saved on a temporary Prefect API) holds the URL; the config names it."""
    from prefect.blocks.system import Secret

    Secret(value=webhook.url).save("nids-alert-webhook", overwrite=True)
    config = AlertConfig(webhook_secret_block="nids-alert-webhook")
    channel = send_alert(SUBJECT, BODY, config, env={WEBHOOK_VARIABLE: "http://127.0.0.1:9/x"})
    assert channel.startswith("webhook http://127.0.0.1:") and webhook.token not in channel
    assert [r["path"] for r in webhook.received] == [f"/services/T0NIDS/{webhook.token}"]


@pytest.mark.services
def test_notification_block_sends_through_prefect(webhook, prefect_api):
    """A Prefect notification block saved on a (temporary) Prefect API is loaded by name."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    CustomWebhookNotificationBlock(
        name="nids-alerts", url=webhook.url, allow_private_urls=True,
        json_data={"title": "{{subject}}", "text": "{{body}}"},
    ).save("nids-alerts", overwrite=True)
    config = AlertConfig(notification_block="custom-webhook/nids-alerts")
    channel = send_alert(SUBJECT, BODY, config, env={WEBHOOK_VARIABLE: webhook.url})

    assert channel == "block custom-webhook/nids-alerts"
    [request] = webhook.received  # the block was used, not the plain webhook
    assert request["json"] == {"title": SUBJECT, "text": BODY}


@pytest.mark.services
def test_a_failing_notification_block_raises_without_its_url(webhook, prefect_api):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    webhook.status = 500
    CustomWebhookNotificationBlock(
        name="nids-broken", url=webhook.url, allow_private_urls=True,
        json_data={"text": "{{body}}"},
    ).save("nids-broken", overwrite=True)
    with pytest.raises(RuntimeError, match="notification block custom-webhook/nids-broken "
                                           "failed") as raised:
        send_alert(SUBJECT, BODY, AlertConfig(notification_block="custom-webhook/nids-broken"))
    assert webhook.token not in str(raised.value)
