"""What a thread's tool calls established: the facts the policy's data scopes decide with.

The guard asks before every batch of tool calls, and the supervisor before
every decision (for its guardians), each time with one more record than the
last; so the fold over the records remembers its prefixes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from switchboard.agents.idempotency import call_identity
from switchboard.agents.records import ToolCallRecord
from switchboard.policies import Facts, PolicyFile, learn
from switchboard.policies.scopes import Scopes

__all__ = ["parse_result", "thread_facts"]


def thread_facts(policy: PolicyFile, records: Iterable[ToolCallRecord]) -> Facts:
    """What a thread's successful governed tool calls established (its customer, who owns what).

    Only calls the guard decided and ran teach: an ``observed`` record (a
    tool call a brought or remote agent reports, with the result it claims)
    is skipped, or an agent governed only at its handoff could name the
    thread's customer or the owner of an order by saying so.

    A fold over the thread's records, asked again before every guarded batch
    and every decision with one more record each time; each prefix's facts
    are remembered (by the records' content, not their identity, since a
    checkpoint hands back copies), so each result is parsed and learnt once.
    """
    facts = Facts()
    scopes = policy.scopes
    if scopes is None:
        return facts
    teaching = _teaching(scopes)  # the rest teaches nothing
    chain: tuple[Any, ...] = (id(scopes),)
    for record in records:
        if record.get("outcome") != "ok" or record.get("observed") or record["tool"] not in teaching:
            continue
        chain = (chain, call_identity(record["tool"], record["args"]), record["result"])
        known = _FOLDS.get(chain)
        if known is not None and known[0] is scopes:
            facts = known[1]
            continue
        facts = learn(scopes, facts, record["tool"], record["args"], parse_result(record["result"]))
        if len(_FOLDS) >= _FOLDS_MAX:
            _FOLDS.clear()
        _FOLDS[chain] = (scopes, facts)
    return facts


_FOLDS: dict[tuple[Any, ...], tuple[Scopes, Facts]] = {}
"""Facts after a prefix of records (keyed by the scopes' id and the prefix), for :func:`thread_facts`."""
_FOLDS_MAX = 4096


def _teaching(scopes: Scopes) -> frozenset[str]:
    return frozenset({rule.tool for rule in scopes.learn} | set(scopes.customer_from))


def parse_result(text: str) -> Any:
    """A tool's text result as JSON where it is JSON, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()
