"""Human-readable output: live steps while a run streams, and whole trails.

Only presentation lives here; every fact shown comes from the graph's stream
or the thread's trail, so what the console says is what the checkpoint holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape

MAX_RESULT = 160
_VERB = {"finish": "finishes", "escalate": "escalates", "route": "routes"}


def _short(value: Any, limit: int = MAX_RESULT) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LiveView:
    """Prints each step of a run as the graph streams it."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)

    def __call__(self, namespace: tuple[str, ...], update: Mapping[str, Any]) -> None:
        """Render one ``(namespace, update)`` pair from ``astream(subgraphs=True)``."""
        agent = namespace[-1].split(":")[0] if namespace else None
        for node, values in update.items():
            if node == "__interrupt__":
                if not namespace:
                    for item in values:
                        self.pending(item.value)
                continue
            if not isinstance(values, Mapping):
                continue
            if agent and node == "act":
                for record in values.get("calls") or []:
                    self.tool_call(agent, record)
            elif agent and node == "think":
                for message in values.get("messages") or []:
                    text = str(getattr(message, "content", "") or "").strip()
                    if text:
                        self.console.print(f"    [dim]{escape(agent)} thinks: {escape(_short(text))}[/dim]")
            elif not agent:
                for event in values.get("trail") or []:
                    self.event(event)

    def event(self, event: Mapping[str, Any]) -> None:
        """Render one trail event."""
        kind = event["kind"]
        if kind == "decision":
            self.decision(event)
        elif kind == "handoff":
            self.handoff(event)
        elif kind == "escalation":
            verdict = "[green]approved[/green]" if event["approved"] else "[red]rejected[/red]"
            note = f" — {escape(event['note'])}" if event.get("note") else ""
            who = f" by {escape(event['approver'])}" if event.get("approver") else ""
            self.console.print(f"  [magenta]human[/magenta] {verdict}{who}: {escape(event['question'])}{note}")
        elif kind == "report":
            self.console.rule(f"report: {event['outcome']}")
            self.console.print(escape(event["summary"]))

    def decision(self, event: Mapping[str, Any]) -> None:
        """Render a routing decision."""
        confidence = f"{event['confidence']:.2f}"
        source = event.get("source", "model")
        by = f", by {source}" + (f" {event['rule']}" if event.get("rule") else "") if source != "model" else ""
        retried = (
            f" [yellow](after a refused answer: {escape(event['error'] or '')})[/yellow]" if event.get("error") else ""
        )
        for agent, why in (event.get("unavailable") or {}).items():
            self.console.print(f"  [yellow]{escape(agent)} not offered: {escape(why)}[/yellow]")
        if event["action"] == "route":
            steps = event.get("assignments") or [
                {"agent": event["agent"], "skill": event.get("skill"), "instruction": event["instruction"]}
            ]
            parallel = " [magenta](in parallel)[/magenta]" if len(steps) > 1 else ""
            self.console.print(
                f"[bold cyan]supervisor[/bold cyan] (confidence {confidence}{escape(by)}){retried}{parallel}\n"
                f"  why: {escape(event['reason'])}"
            )
            for step in steps:
                skill = escape(f" [{step['skill']}]" if step.get("skill") else "")
                instruction = escape(_short(step["instruction"], 300))
                self.console.print(f"  → [bold]{escape(step['agent'])}[/bold]{skill}: {instruction}")
        else:
            self.console.print(
                f"[bold cyan]supervisor[/bold cyan] {_VERB[event['action']]} (confidence {confidence}{escape(by)})"
                f"{retried}: {escape(event['reason'])}"
            )

    def tool_call(self, agent: str, record: Mapping[str, Any]) -> None:
        """Render one tool call and its result."""
        mark = "[green]ok[/green]" if record["ok"] else "[red]error[/red]"
        policy = f" [magenta]({escape(record['policy'])})[/magenta]" if record.get("policy") else ""
        self.console.print(
            f"    {escape(agent)} ⚙ {escape(record['tool'])}({escape(_short(record['args'], 100))}){policy}\n"
            f"      → {mark} {escape(_short(record['result']))}"
        )

    def handoff(self, event: Mapping[str, Any]) -> None:
        """Render what an agent handed back."""
        color = {"done": "green", "failed": "red", "rejected": "yellow"}[event["status"]]
        self.console.print(
            f"  [{color}]{escape(event['agent'])} {event['status']}[/{color}] "
            f"(confidence {event['confidence']:.2f}): {escape(event['summary'])}"
        )
        if event.get("facts"):
            self.console.print(f"    [dim]facts: {escape(_short(event['facts'], 200))}[/dim]")

    def pending(self, value: Mapping[str, Any]) -> None:
        """Render the question a paused thread waits on."""
        self.console.print(f"[bold yellow]⏸ waiting for a human:[/bold yellow] {escape(str(value.get('question')))}")


def print_trail(thread: Mapping[str, Any], console: Console | None = None) -> None:
    """Render a whole thread, as ``switchboard show`` prints it."""
    view = LiveView(console)
    out = view.console
    out.rule(f"thread {thread['thread_id']} — {thread['status']}")
    out.print(f"[bold]task:[/bold] {escape(str(thread.get('task')))}")
    held: list[Mapping[str, Any]] = []  # policy questions, shown among their agent's tool calls
    for event in thread.get("trail") or []:
        if event["kind"] == "escalation" and event.get("source") == "policy":
            held.append(event)
            continue
        if event["kind"] == "handoff":
            mine = [e for e in held if e.get("agent") == event["agent"]]
            held = [e for e in held if e.get("agent") != event["agent"]]
            _calls_with_questions(view, event["agent"], event.get("tool_calls") or [], mine)
        view.event(event)
    for step in thread.get("in_progress") or []:
        out.print(f"  [yellow]{escape(step['agent'])} is mid-step:[/yellow]")
        for record in step["tool_calls"]:
            view.tool_call(step["agent"], record)
    if thread.get("pending"):
        view.pending(thread["pending"])


def _calls_with_questions(
    view: LiveView, agent: str, calls: list[Mapping[str, Any]], questions: list[Mapping[str, Any]]
) -> None:
    """Print an agent's tool calls with each approval at the point it was asked."""
    for index, record in enumerate(calls):
        for question in questions:
            if question.get("at_call", 0) == index:
                view.event(question)
        view.tool_call(agent, record)
    for question in questions:
        if question.get("at_call", 0) >= len(calls):
            view.event(question)
