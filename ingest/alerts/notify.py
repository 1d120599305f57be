"""Notification sinks: a JSON log line, a webhook (HTTP POST of JSON), apprise URLs.

A sink's ``send`` raises when the receiver did not accept the message; the sender then
retries with back-off. URLs come from environment variables, never from config.yaml.
"""

from __future__ import annotations

import abc
import json
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from ingest.alerts.section import SinkSettings

NOTIFICATIONS = logging.getLogger("ledgerlens.alerts")
log = logging.getLogger(__name__)
Message = dict[str, Any]


class SinkError(RuntimeError):
    """The receiver did not accept a notification (it will be retried)."""


class SinkUnavailableError(RuntimeError):
    """A sink that cannot run here (its URL variable is unset, apprise is not installed)."""


class Sink(abc.ABC):
    def __init__(self, settings: SinkSettings) -> None:
        self.settings = settings
        self.name = settings.label

    @abc.abstractmethod
    def send(self, message: Message) -> None:
        """Deliver ``message``; return only once the receiver accepted it."""


class LogSink(Sink):
    """One JSON line per notification on the ``ledgerlens.alerts`` logger."""

    def send(self, message: Message) -> None:
        level = logging.WARNING if message.get("status") == "firing" else logging.INFO
        NOTIFICATIONS.log(level, "%s", json.dumps(message, ensure_ascii=False, sort_keys=True))


class WebhookSink(Sink):
    """POST the message as JSON; any 2xx answer within ``timeout_s`` is an acceptance."""

    def __init__(self, settings: SinkSettings, url: str) -> None:
        super().__init__(settings)
        self.url = url

    def send(self, message: Message) -> None:
        body = json.dumps(message, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "LedgerLens-alerts",
                "Idempotency-Key": str(message.get("notification_id", "")),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SinkError(f"webhook {self.name}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:  # refused, timed out, DNS ...
            reason = getattr(exc, "reason", exc)
            raise SinkError(f"webhook {self.name}: {type(exc).__name__}: {reason}") from None
        if not 200 <= status < 300:
            raise SinkError(f"webhook {self.name}: HTTP {status}")


class AppriseSink(Sink):
    """DingTalk, WeCom, email, Slack ... through apprise (optional: ``pip install apprise``)."""

    def __init__(self, settings: SinkSettings, urls: list[str]) -> None:
        super().__init__(settings)
        try:
            import apprise
        except ImportError:
            raise SinkUnavailableError(
                f"sink {self.name}: apprise is not installed; `pip install apprise` to send "
                "to DingTalk, WeCom, email, Slack ... (other sinks go on without it)"
            ) from None
        self.apprise = apprise.Apprise()
        for url in urls:
            if not self.apprise.add(url):
                raise SinkUnavailableError(
                    f"sink {self.name}: apprise does not understand a URL of ${settings.url_env}"
                )

    def send(self, message: Message) -> None:
        title, body = as_text(message)
        if not self.apprise.notify(title=title, body=body):
            raise SinkError(f"apprise {self.name}: no service accepted the notification")


def as_text(message: Message) -> tuple[str, str]:
    """A title and a plain-text body for chat and mail."""
    alerts = message.get("alerts", [])
    firing = sum(1 for a in alerts if a["status"] == "firing")
    title = f"[{message.get('status', '').upper()}] {message.get('group_key', '')}"
    if firing:
        title += f" ({firing} firing)"
    lines = [f"{a['status']}: {a['summary']}" for a in alerts]
    return title, "\n".join(lines)


def build_sinks(
    configured: list[SinkSettings], environ: Mapping[str, str] | None = None
) -> tuple[list[Sink], list[str]]:
    """The sinks that can run here, and why the others cannot."""
    env = os.environ if environ is None else environ
    sinks: list[Sink] = []
    problems: list[str] = []
    for settings in configured:
        try:
            sinks.append(_build(settings, env))
        except SinkUnavailableError as exc:
            problems.append(str(exc))
    return sinks, problems


def _build(settings: SinkSettings, env: Mapping[str, str]) -> Sink:
    if settings.kind == "log":
        return LogSink(settings)
    value = env.get(settings.url_env or "", "").strip()
    if not value:
        raise SinkUnavailableError(
            f"sink {settings.label}: ${settings.url_env} is not set; it sends nothing"
        )
    if settings.kind == "webhook":
        if not value.startswith(("http://", "https://")):
            raise SinkUnavailableError(
                f"sink {settings.label}: ${settings.url_env} is not an http:// or https:// URL"
            )
        return WebhookSink(settings, value)
    return AppriseSink(settings, [u for u in re.split(r"[\s,]+", value) if u])
