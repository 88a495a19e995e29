"""``switchboard trace THREAD``: the chain behind an outcome as a tree in the terminal.

Each start or resume of the thread is a branch; under it, each step of the
supervisor graph in order, with what happened inside it (model calls with
tokens and cost, tool calls, refusals, questions to a human) and what it
decided or handed back, with the reason. Timings, tokens and cost come from
the telemetry database; the thread's status, task and pending question come
from its checkpoint, so a paused thread says what it waits for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.markup import escape
from rich.tree import Tree

from switchboard.monitoring.labels import handoff_outcome

_STYLE = {
    "decision": "bold cyan",
    "handoff": "green",
    "tool": "white",
    "llm": "dim",
    "denial": "red",
    "escalation": "magenta",
    "alert": "bold red",
    "report": "bold",
}
_NESTED = {"tool", "llm", "denial", "escalation"}
"""Kinds shown inside the step they happened in."""


def build_tree(events: Sequence[Mapping[str, Any]], thread: Mapping[str, Any] | None = None) -> Tree:
    """The tree of one thread from its telemetry rows (``events`` table, in order).

    Args:
        events: Rows of the thread, ordered by ``started``.
        thread: What ``switchboard.runs.read_thread`` returns, if the
            checkpoint could be read.
    """
    thread = thread or {}
    thread_id = thread.get("thread_id") or next((e["thread_id"] for e in events), "?")
    status = thread.get("status") or "unknown"
    llm = [e for e in events if e["kind"] == "llm"]
    totals = _money(sum(e["tokens_in"] + e["tokens_out"] for e in llm), sum(e["cost"] for e in llm), llm)
    root = Tree(f"[bold]thread {escape(str(thread_id))}[/bold] — {escape(status)} — {totals}")
    if thread.get("task"):
        root.add(f"task: {escape(str(thread['task']))}")
    runs = [e for e in events if e["kind"] == "run"]
    for run in runs:
        mine = [e for e in events if e["run_id"] == run["run_id"] and e["kind"] != "run"]
        label = "resume" if run.get("reason") == "resume" else "start"
        branch = root.add(f"[bold]{label}[/bold] {escape(_run_outcome(run, status))} {_ms(run)}")
        _add_steps(branch, mine, thread.get("trail") or ())
    if not runs and thread.get("trail"):
        root.add("[yellow]no telemetry for this thread; the trail from its checkpoint:[/yellow]")
        for entry in thread["trail"]:
            root.add(escape(_trail_line(entry)))
    pending = thread.get("pending")
    if pending:
        root.add(f"[bold yellow]⏸ waiting for a human:[/bold yellow] {escape(str(pending.get('question')))}")
    return root


def _run_outcome(run: Mapping[str, Any], status: str) -> str:
    """How a run ended; one with no end yet runs on only while its thread does, else its process died."""
    if run.get("outcome"):
        return str(run["outcome"])
    return "running" if status in {"running", "unknown"} else "stopped mid-run"


def _add_steps(branch: Tree, events: Sequence[Mapping[str, Any]], trail: Sequence[Mapping[str, Any]] = ()) -> None:
    steps = [e for e in events if e["kind"] == "step"]
    nodes: dict[str, Tree] = {}
    for step in steps:
        shown = {**step, "outcome": _step_outcome(step, events, trail)}
        nodes[step["id"]] = branch.add(f"[bold]{escape(step['name'])}[/bold] {_outcome(shown)} {_ms(step)}")
    for event in events:
        if event["kind"] in {"step", "substep"}:
            continue
        home = nodes.get(event.get("parent_id") or "") or _enclosing(event, steps, nodes)
        (home or branch).add(_line(event))


def _step_outcome(
    step: Mapping[str, Any], events: Sequence[Mapping[str, Any]], trail: Sequence[Mapping[str, Any]]
) -> str | None:
    """What a step came to: its node's own outcome, unless the node ran fine and its agent handed back a failure.

    A node that ends without raising is ``ok`` in the telemetry, whatever
    its agent handed back; the step's last handoff says what the step came
    to (``failed``, ``rejected``; a workflow's node hands back its steps'
    and then its own), and the thread's checkpoint, when it was read, makes
    a failure precise (``uncertain``, ``refused``: see
    :func:`~switchboard.monitoring.labels.handoff_outcome`).
    """
    handed = [e for e in events if e["kind"] == "handoff" and e.get("parent_id") == step["id"]]
    status = handed[-1].get("outcome") if handed else None
    if step.get("outcome") != "ok" or status in (None, "done"):
        return step.get("outcome")
    entry = _trail_entry(handed[-1], trail)
    return handoff_outcome(entry) if entry is not None else str(status)


def _trail_entry(handoff: Mapping[str, Any], trail: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The checkpoint's record of a handoff event: same agent, step id and status, and its summary if one agrees."""
    assignment = _meta(handoff).get("assignment")
    same = [
        e
        for e in trail
        if e.get("kind") == "handoff"
        and e.get("agent") == handoff.get("agent")
        and e.get("assignment") == assignment
        and e.get("status") == handoff.get("outcome")
    ]
    told = [e for e in same if e.get("summary") == handoff.get("reason")]
    found = told or same
    return found[-1] if found else None


def _enclosing(event: Mapping[str, Any], steps: Sequence[Mapping[str, Any]], nodes: dict[str, Tree]) -> Tree | None:
    """The step of the same agent that was running when ``event`` started."""
    if event["kind"] not in _NESTED:
        return None
    for step in reversed(steps):
        end = step.get("ended") or float("inf")
        if step["agent"] == event["agent"] and step["started"] <= event["started"] <= end:
            return nodes[step["id"]]
    return None


def _line(event: Mapping[str, Any]) -> str:
    kind = event["kind"]
    style = _STYLE.get(kind, "white")
    meta = _meta(event)
    why = f": {escape(str(event['reason']))}" if event.get("reason") else ""
    if kind == "llm":
        usage = _money(event["tokens_in"] + event["tokens_out"], event["cost"], [event])
        return f"[{style}]model {escape(event['name'])} {usage} {_ms(event)}[/{style}]"
    if kind == "decision":
        to = ", ".join(meta.get("to") or []) if event["outcome"] == "route" else ""
        confidence = meta.get("confidence")
        conf = f" (confidence {confidence:.2f}, by {meta.get('source')})" if isinstance(confidence, int | float) else ""
        return (
            f"[{style}]→ {escape(str(event['outcome']))}{escape(' ' + to if to else '')}[/{style}]{escape(conf)}{why}"
        )
    if kind == "tool":
        return f"[{style}]⚙ {escape(event['name'])}[/{style}] {_outcome(event)} {_ms(event)}{why}"
    if kind == "escalation":
        who = f" by {meta['approver']}" if meta.get("approver") else ""
        return f"[{style}]? {escape(event['name'])} {escape(str(event['outcome']))}{escape(who)}[/{style}]{why}"
    if kind == "alert":
        return f"[{style}]⚠ {escape(event['name'])} {escape(str(event['outcome']))}[/{style}]{why}"
    label = f"{event['agent']} {event['outcome']}" if kind == "handoff" else f"{kind} {event['name']}"
    return f"[{style}]{escape(label)}[/{style}]{why}"


def _meta(event: Mapping[str, Any]) -> dict[str, Any]:
    raw = event.get("metadata")
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _outcome(event: Mapping[str, Any]) -> str:
    outcome = str(event.get("outcome") or "")
    color = {
        "ok": "green",
        "error": "red",
        "failed": "red",
        "uncertain": "red",
        "paused": "yellow",
        "rejected": "yellow",
        "refused": "yellow",
    }.get(outcome, "white")
    return f"[{color}]{escape(outcome)}[/{color}]"


def _ms(event: Mapping[str, Any]) -> str:
    ms = event.get("duration_ms")
    return "" if ms is None else f"[dim]{ms:.0f} ms[/dim]"


def _money(tokens: int, cost: float, llm: Sequence[Mapping[str, Any]]) -> str:
    estimated = "~" if any(e.get("tokens_estimated") for e in llm) else ""
    return f"{estimated}{tokens} tokens, ${cost:.4f}"


def _trail_line(entry: Mapping[str, Any]) -> str:
    kind = entry.get("kind")
    if kind == "decision":
        return f"supervisor {entry.get('action')} {entry.get('agent') or ''}: {entry.get('reason')}"
    if kind == "handoff":
        return f"{entry.get('agent')} {entry.get('status')}: {entry.get('summary')}"
    if kind == "escalation":
        return f"human {'approved' if entry.get('approved') else 'rejected'}: {entry.get('question')}"
    return f"{kind}: {entry.get('summary') or entry.get('outcome')}"
