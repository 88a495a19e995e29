"""The A2A SDK is optional: one place checks for it and says how to install it."""

from __future__ import annotations

from switchboard.errors import ConfigError

INSTALL = "A2A agents need the A2A SDK: pip install 'switchboard[a2a]'"
SERVE = "serving a graph over A2A needs the SDK's HTTP server (Starlette): pip install 'switchboard[a2a]'"


def require() -> None:
    """Fail with the install command when the A2A SDK is missing.

    Raises:
        ConfigError: ``a2a-sdk`` is not installed.
    """
    try:
        import a2a.client  # noqa: F401
    except ImportError as exc:
        raise ConfigError(INSTALL) from exc


def require_server() -> None:
    """Fail with the install command when the SDK's server extra (Starlette) is missing.

    Raises:
        ConfigError: ``a2a-sdk`` or its ``http-server`` extra is not installed.
    """
    require()
    try:
        import sse_starlette  # noqa: F401
        import starlette  # noqa: F401
    except ImportError as exc:
        raise ConfigError(SERVE) from exc
