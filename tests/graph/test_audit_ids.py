"""Two runs that share a thread id are both on the audit record (outside review).

The README's bring-your-own example runs two tasks with no thread id, and
the notebook runs its threads again over a fresh ``InMemorySaver`` with the
same data directory. Trail entries were keyed by thread and position, so the
second run's routing decisions and handoffs were taken for the first's and
silently dropped. They are keyed by the thread's first message id too now; a re-run after a
resume still records nothing twice (the durability tests cover that).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from switchboard.agents.spec import AgentSpec
from switchboard.checkpoints.audit import open_audit
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route


def convert(amount: float, currency: str) -> str:
    """Convert euros into dollars."""
    return f"{amount:g} EUR = {amount * 1.1:.2f} {currency}"


def _graph(home: Path, checkpointer: Any) -> Any:
    model = ScriptedChatModel(
        steps=[route("money", "convert it"), finish("done")],
        agents={"money": [call("convert", amount=100, currency="USD"), handoff("100 EUR is 110.00 USD.")]},
    )
    spec = AgentSpec(name="money", description="Converts euros.", tools=[convert], model=model)
    return build_graph(
        [spec], model=model, checkpointer=checkpointer, policy=PolicyFile(name="open"), audit=open_audit(home)
    )


def _kinds(home: Path, thread: str) -> Counter[str]:
    log = open_audit(home)
    try:
        return Counter(e.kind for e in log.entries(thread))
    finally:
        log.close()


async def test_a_thread_id_used_again_over_fresh_checkpoints_is_recorded_again(tmp_path: Path) -> None:
    config: Any = {"configurable": {"thread_id": "w"}}
    await _graph(tmp_path, InMemorySaver()).ainvoke({"task": "Convert 100 euros to dollars."}, config)
    once = _kinds(tmp_path, "w")
    assert once["routing"] == 2 and once["handoff"] == 1
    await _graph(tmp_path, InMemorySaver()).ainvoke({"task": "Convert 100 euros to dollars."}, config)
    twice = _kinds(tmp_path, "w")
    assert twice["routing"] == 4 and twice["handoff"] == 2 and twice["tool_call"] == 2


async def test_runs_without_a_thread_id_are_each_recorded(tmp_path: Path) -> None:
    for _ in range(2):
        await _graph(tmp_path, None).ainvoke({"task": "Convert 100 euros to dollars."})
    assert _kinds(tmp_path, "-")["routing"] == 4
