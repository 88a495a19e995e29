"""``switchboard trace`` shows a step that did not succeed as such, not as ``ok``.

The operator review's finding 6: the tree read ``customer_service ok 134 ms``
for a step whose handoff was ``failed`` (only its last child line said so).
The step's node ran without raising, so its telemetry outcome is ``ok``; what
the step came to is its handoff's status, made precise by its tool calls
when the thread's checkpoint has them (a write that may have happened is
``uncertain``, a step that was only refused is ``refused``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from switchboard.monitoring import Monitor, MonitoringConfig, recording
from switchboard.monitoring.labels import handoff_outcome, step_label
from switchboard.monitoring.store import read_rows
from switchboard.monitoring.trace import build_tree
from switchboard.runs import start_run
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, finish, handoff, route


def _text(tree: Any) -> str:
    console = Console(width=200, record=True)
    console.print(tree)
    return console.export_text()


def _line(text: str, start: str) -> str:
    """The first node of the tree that starts with ``start``, without the tree's lines."""
    return next(node for line in text.splitlines() if (node := line.lstrip(" ─│├└")).startswith(start))


def event(kind: str, id_: str, name: str, agent: str | None, outcome: str | None, **more: Any) -> dict[str, Any]:
    row = {"kind": kind, "id": id_, "run_id": "r1", "thread_id": "b3", "name": name, "agent": agent,
           "outcome": outcome, "reason": None, "started": 1.0, "ended": 2.0, "duration_ms": 134.0, "tokens_in": 0,
           "tokens_out": 0, "cost": 0.0, "parent_id": "r1", "metadata": "{}"}  # fmt: skip
    return {**row, **more}


def step_that_handed_back(status: str, summary: str = "get_order_details failed: Connection closed") -> list[dict]:
    """A thread whose one agent step ran to its end (telemetry ``ok``) and handed back ``status``."""
    meta = json.dumps({"assignment": "a1", "retryable": False, "tool_calls": 1})
    return [
        event("run", "r1", "run", None, "paused", parent_id=None, reason="What is the status of my order?"),
        event("step", "s1", "supervisor", "supervisor", "ok"),
        event("step", "s2", "customer_service", "customer_service", "ok"),
        event("tool", "t1", "get_order_details", "customer_service", "error", parent_id="s2"),
        event(
            "handoff",
            "h1",
            "identify_customer",
            "customer_service",
            status,
            parent_id="s2",
            reason=summary,
            metadata=meta,
        ),
    ]


def trail_handoff(status: str, *calls: str, retryable: bool = False) -> dict[str, Any]:
    return {"kind": "handoff", "agent": "customer_service", "assignment": "a1", "skill": "identify_customer",
            "status": status, "retryable": retryable, "summary": "get_order_details failed: Connection closed",
            "tool_calls": [{"tool": "get_order_details", "args": {}, "outcome": o, "result": "", "policy": None}
                           for o in calls]}  # fmt: skip


@pytest.mark.parametrize("status", ["failed", "rejected"])
def test_a_step_that_handed_back_a_failure_shows_it(status: str) -> None:
    text = _text(build_tree(step_that_handed_back(status), {"thread_id": "b3", "status": "paused"}))
    assert f"customer_service {status} 134 ms" in _line(text, "customer_service"), text
    assert "supervisor ok" in text  # the supervisor's own step did succeed


def test_a_done_step_is_still_ok() -> None:
    text = _text(build_tree(step_that_handed_back("done", "Looked the customer up.")))
    assert "customer_service ok 134 ms" in _line(text, "customer_service"), text


@pytest.mark.parametrize(
    ("calls", "retryable", "shown"),
    [(("ok", "uncertain"), False, "uncertain"), (("refused",), False, "refused"), (("crashed",), True, "failed")],
)
def test_the_checkpoint_makes_a_failed_step_precise(calls: tuple[str, ...], retryable: bool, shown: str) -> None:
    thread = {"thread_id": "b3", "status": "paused", "trail": [trail_handoff("failed", *calls, retryable=retryable)]}
    text = _text(build_tree(step_that_handed_back("failed"), thread))
    assert f"customer_service {shown} 134 ms" in _line(text, "customer_service"), text


def test_the_langsmith_label_says_the_same() -> None:
    entry = trail_handoff("failed", "ok", "uncertain")
    assert handoff_outcome(entry) == "uncertain" and handoff_outcome(trail_handoff("done", "ok")) == "done"
    assert step_label("customer_service", {"trail": [entry]}).name == "customer_service (identify_customer): uncertain"


async def test_a_recorded_failed_step_is_not_shown_ok(settings: Settings, tmp_path: Path) -> None:
    config = MonitoringConfig(telemetry_db=tmp_path / "telemetry.sqlite", sinks=())
    model = ScriptedChatModel(
        steps=[route("customer_service", "read order #W1"), finish("could not read the order")],
        agents={"customer_service": [handoff("The order could not be read.", status="failed")]},
    )
    monitor = Monitor(config)
    try:
        with recording(monitor):
            await start_run("Where is order #W1?", thread_id="b3", settings=settings, model=model)
    finally:
        monitor.close()
    events = read_rows(config.database(), "SELECT * FROM events WHERE thread_id = 'b3' ORDER BY started")
    text = _text(build_tree(events, {"thread_id": "b3", "status": "completed"}))
    assert _line(text, "customer_service").split()[:2] == ["customer_service", "failed"], text
    assert "customer_service ok" not in text, text


def test_a_workflow_node_shows_what_the_workflow_came_to() -> None:
    """A workflow's node hands back each step's handoff, then its own: the last one is the node's outcome."""
    inner, whole = step_that_handed_back("failed"), step_that_handed_back("done", "Workflow completed.")[-1]
    text = _text(build_tree([*inner, {**whole, "id": "h2", "started": 3.0}]))
    assert "customer_service ok 134 ms" in _line(text, "customer_service"), text
    text = _text(build_tree([*step_that_handed_back("done", "Identified."), {**inner[-1], "id": "h2"}]))
    assert "customer_service failed 134 ms" in _line(text, "customer_service"), text
