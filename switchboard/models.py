"""Choosing a model: one setting by default, per agent when a card names one.

``SWITCHBOARD_MODEL`` (or ``--model``) picks the model for the supervisor and
every agent; an agent's card may name its own (``model:``), and
``build_graph(supervisor_model=...)`` sets the supervisor's apart.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from switchboard.agents.card import Team
from switchboard.errors import ConfigError

EMBEDDED = "embedded"


def resolve_model(spec: str | None, team: Team | None = None) -> BaseChatModel:
    """Turn a model spec into a chat model.

    Args:
        spec: ``embedded`` (or ``None``) for the offline engine, else
            ``provider:model`` as LangChain's ``init_chat_model`` reads it
            (``openai:gpt-4.1-mini``, ``anthropic:claude-sonnet-4-5``,
            ``ollama:qwen2.5:7b``). Providers are optional extras.
        team: The team, whose playbook the embedded engine uses. With no
            team or no playbook the engine routes by the agents' cards alone
            and cannot act for agents (see the README, "Models").

    Raises:
        ConfigError: The spec is malformed, or its provider is not installed.
    """
    spec = (spec or EMBEDDED).strip()
    if spec == EMBEDDED:
        from switchboard.engine import EMPTY_PLAYBOOK, EmbeddedChatModel, load_playbook

        playbook = load_playbook(team.engine) if team and team.engine else EMPTY_PLAYBOOK
        return EmbeddedChatModel(playbook=playbook)
    provider, _, name = spec.partition(":")
    if not provider or not name:
        raise ConfigError(f"model {spec!r} is not `embedded` or `provider:model` (e.g. openai:gpt-4.1-mini)")
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise ConfigError(
            f"model {spec!r} needs a provider integration; install it with `pip install 'switchboard[{provider}]'`"
        ) from exc
    try:
        return init_chat_model(spec)
    except ImportError as exc:
        raise ConfigError(f"provider {provider!r} is not installed: pip install 'switchboard[{provider}]'") from exc
    except ValueError as exc:
        raise ConfigError(f"model {spec!r} is not usable: {exc}") from exc
