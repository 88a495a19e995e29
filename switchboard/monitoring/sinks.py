"""Where alerts go: the log, a command, a webhook.

Sinks are called from a background thread, never on the run's event loop,
and a failing sink is logged, never raised: an alert that cannot be
delivered must not stop the run it is about.
"""

from __future__ import annotations

import json
import logging
import subprocess
import urllib.request
from collections.abc import Callable, Sequence

from switchboard.monitoring.alerts import Alert
from switchboard.monitoring.config import CommandSinkConfig, LogSinkConfig, SinkConfig, WebhookSinkConfig

log = logging.getLogger("switchboard.monitoring.alerts")

Sink = Callable[[Alert], None]
"""Anything that takes an alert: the configured sinks, or the CLI's printer."""


def log_sink(alert: Alert) -> None:
    """Log the alert at WARNING (ERROR when critical)."""
    level = logging.ERROR if alert.severity == "critical" else logging.WARNING
    log.log(level, "[%s] %s (thread %s)", alert.detector, alert.message, alert.thread_id)


def command_sink(config: CommandSinkConfig) -> Sink:
    """A sink that runs ``config.command`` with the alert's JSON on standard input."""

    def send(alert: Alert) -> None:
        payload = json.dumps(alert.to_json(), default=str)
        try:
            done = subprocess.run(
                list(config.command),
                input=payload,
                text=True,
                capture_output=True,
                timeout=config.timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("alert command %s failed: %s", config.command[0], exc)
            return
        if done.returncode:
            log.error("alert command %s exited %d: %s", config.command[0], done.returncode, done.stderr.strip()[-500:])

    return send


def webhook_sink(config: WebhookSinkConfig) -> Sink:
    """A sink that POSTs the alert's JSON to ``config.url``."""

    def send(alert: Alert) -> None:
        body = json.dumps(alert.to_json(), default=str).encode("utf-8")
        headers = {"content-type": "application/json", **config.headers}
        request = urllib.request.Request(config.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=config.timeout_s) as response:
                response.read()
        except OSError as exc:  # URLError and HTTPError are OSErrors
            log.error("alert webhook %s failed: %s", config.url, exc)

    return send


def build_sinks(configs: Sequence[SinkConfig]) -> list[Sink]:
    """The configured sinks, ready to call."""
    sinks: list[Sink] = []
    for config in configs:
        if isinstance(config, LogSinkConfig):
            sinks.append(log_sink)
        elif isinstance(config, CommandSinkConfig):
            sinks.append(command_sink(config))
        elif isinstance(config, WebhookSinkConfig):
            sinks.append(webhook_sink(config))
    return sinks
