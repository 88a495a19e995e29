"""The embedded default model: deterministic, transparent, offline.

With no API key and no network, Switchboard's "LLM" is this rule-based engine.
It plugs in as a LangChain chat model (:class:`EmbeddedChatModel`), so the
graph cannot tell it from a real one; a real LLM is one setting away.

The engine is domain-free. A domain teaches it through a :class:`Playbook`:
intents (example phrasings and a plan of skill ids), skills (a recipe per
skill id) and a slot extractor. See ``domains/retail/playbook.py``.
"""

from __future__ import annotations

from switchboard.engine.model import EmbeddedChatModel
from switchboard.engine.playbook import (
    ASK_CUSTOMER,
    EMPTY_PLAYBOOK,
    Brief,
    Call,
    Handoff,
    Intent,
    Playbook,
    Recipe,
    Skill,
    Step,
    Turn,
    load_playbook,
)

__all__ = [
    "ASK_CUSTOMER",
    "EMPTY_PLAYBOOK",
    "Brief",
    "Call",
    "EmbeddedChatModel",
    "Handoff",
    "Intent",
    "Playbook",
    "Recipe",
    "Skill",
    "Step",
    "Turn",
    "load_playbook",
]
