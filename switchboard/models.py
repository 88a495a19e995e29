"""Choosing the model: one setting for the supervisor and every agent."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from switchboard.agents.card import Team
from switchboard.errors import ConfigError

EMBEDDED = "embedded"


def resolve_model(spec: str | None, team: Team) -> BaseChatModel:
    """Turn a model spec into a chat model.

    Args:
        spec: ``embedded`` (or ``None``) for the offline engine, else
            ``provider:model`` as LangChain's ``init_chat_model`` reads it
            (``openai:gpt-4.1-mini``, ``anthropic:claude-sonnet-4-5``,
            ``ollama:qwen2.5:7b``). Providers are optional extras.
        team: The team, whose playbook the embedded engine uses.

    Raises:
        ConfigError: The spec is malformed, or its provider is not installed.
    """
    spec = (spec or EMBEDDED).strip()
    if spec == EMBEDDED:
        from switchboard.engine import EmbeddedChatModel, load_playbook

        if not team.engine:
            raise ConfigError(
                f"team {team.name!r} has no `engine` playbook, so the embedded model cannot "
                "serve it; add one to the team file or choose a provider with --model"
            )
        return EmbeddedChatModel(playbook=load_playbook(team.engine))
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
