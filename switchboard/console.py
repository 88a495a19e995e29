"""Human-readable output: live steps while a run streams, and whole trails.

Only presentation lives here; every fact shown comes from the graph's stream
or the thread's trail, so what the console says is what the checkpoint holds.
Updates are read by the typed records they carry (trail events, tool-call
records, model messages), never by the name of the node that sent them, so
renaming a node changes nothing here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage
from rich.console import Console
from rich.markup import escape as escape_markup

from switchboard.errors import SwitchboardError
from switchboard.graph import backpressure
from switchboard.graph import trail as query
from switchboard.text import visible

MAX_RESULT = 160
_INTERRUPT = "__interrupt__"
"""The key under which LangGraph's update stream reports a pause."""
_VERB = {"finish": "finishes", "escalate": "escalates", "route": "routes"}
_OUTCOME = {
    "ok": "[green]ok[/green]",
    "refused": "[red]refused[/red]",
    "crashed": "[red]crashed[/red]",
    "uncertain": "[yellow]outcome unknown[/yellow]",
}


def escape(text: str) -> str:
    """Text from a thread made safe to print: control characters written out (``\\x1b``), rich markup escaped.

    Notes, names, tasks and tool results come from outside, and an entry
    written before answers were checked may hold escape sequences: printed
    raw, they would repaint the operator's terminal (hide "(unsigned)", fake
    "approved by alice"). Line breaks and tabs are kept.
    """
    return escape_markup(visible(text, keep="\n\t"))


def _short(value: Any, limit: int = MAX_RESULT) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


StepAgents = Mapping[str, Mapping[str, str]]
"""Workflow node name -> node of its graph (a step, or ``undo__<step>``) -> the agent that runs it."""


class LiveView:
    """Prints each step of a run as the graph streams it.

    Args:
        console: Where to print.
        workflows: Who runs each workflow step (see :data:`StepAgents`); by
            default read from the configured team's workflows the first time
            a workflow step streams, since the stream names the step's node
            and not its agent.
    """

    def __init__(self, console: Console | None = None, workflows: StepAgents | None = None) -> None:
        self.console = console or Console(highlight=False)
        self._workflows = workflows

    def __call__(self, namespace: tuple[str, ...], update: Mapping[str, Any]) -> None:
        """Render one ``(namespace, update)`` pair from ``astream(subgraphs=True)``.

        Top-level updates carry trail records; updates from inside an agent's
        step (a namespace under the agent's node) carry its tool-call records
        and its model's messages.
        """
        agent = self.agent_of(namespace) if namespace else None
        for key, values in update.items():
            if key == _INTERRUPT:
                if not namespace:
                    for item in values:
                        self.pending(item.value)
                continue
            if not isinstance(values, Mapping):
                continue
            if agent is None:
                for event in values.get("trail") or []:
                    self.event(event)
                continue
            for record in values.get("calls") or []:
                self.tool_call(agent, record)
            for message in values.get("messages") or []:
                text = str(message.content or "").strip() if isinstance(message, AIMessage) else ""
                if text:
                    self.console.print(f"    [dim]{escape(agent)} thinks: {escape(_short(text))}[/dim]")

    def agent_of(self, namespace: tuple[str, ...]) -> str:
        """Who works in ``namespace``: the agent whose node it is under, or the agent of a workflow's step.

        Inside a workflow (``workflow_x:…|step:…``) the outer node is the
        workflow, not an agent; the step's agent is credited, or, if the
        team does not say, ``workflow/step``. Deeper namespaces under an
        agent (a brought graph's own subgraphs) are still that agent's.
        """
        outer = _node(namespace[0])
        if len(namespace) < 2:
            return outer
        steps = self._step_agents().get(outer)
        if steps is None:
            return outer
        step = _node(namespace[1])
        return steps.get(step) or f"{outer}/{step}"

    def _step_agents(self) -> StepAgents:
        if self._workflows is None:
            self._workflows = configured_step_agents()
        return self._workflows

    def event(self, event: Mapping[str, Any]) -> None:
        """Render one trail event."""
        if query.is_decision(event):
            self.decision(event)
        elif query.is_handoff(event):
            self.handoff(event)
        elif query.is_escalation(event):
            verdict = "[green]approved[/green]" if event["approved"] else "[red]rejected[/red]"
            note = f" — {escape(event['note'])}" if event.get("note") else ""
            who = f" by {escape(approver)}" if (approver := event["approver"]) else ""
            self.console.print(f"  [magenta]human[/magenta] {verdict}{who}: {escape(event['question'])}{note}")
        elif query.is_report(event):
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
        wait = event.get("capacity_wait")
        for agent, why in (event.get("unavailable") or {}).items():
            if not wait or agent != wait["agent"]:
                self.console.print(f"  [yellow]{escape(agent)} not offered: {escape(why)}[/yellow]")
        if wait:
            self.console.print(f"  [yellow]{escape(backpressure.describe(wait))}[/yellow]")
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
        mark = _OUTCOME[record["outcome"]]
        policy = f" [magenta]({escape(record['policy'])})[/magenta]" if record.get("policy") else ""
        self.console.print(
            f"    {escape(agent)} ⚙ {escape(record['tool'])}({escape(_short(record['args'], 100))}){policy}\n"
            f"      → {mark} {escape(_short(record['result']))}"
        )

    def handoff(self, event: Mapping[str, Any]) -> None:
        """Render what an agent handed back."""
        color = {"done": "green", "failed": "red", "rejected": "yellow"}[event["status"]]
        if wait := event.get("slot_wait"):
            self.console.print(
                f"  [yellow]{escape(event['agent'])} waited {wait['waited_s']:.1f}s for a slot "
                f"({escape(wait['why'])})[/yellow]"
            )
        self.console.print(
            f"  [{color}]{escape(event['agent'])} {event['status']}[/{color}] "
            f"(confidence {event['confidence']:.2f}): {escape(event['summary'])}"
        )
        if event.get("facts"):
            self.console.print(f"    [dim]facts: {escape(_short(event['facts'], 200))}[/dim]")

    def pending(self, value: Mapping[str, Any]) -> None:
        """Render the question a paused thread waits on, and who may answer it."""
        if value.get("error"):
            self.console.print(f"[bold red]answer refused:[/bold red] {escape(str(value['error']))}")
        who = "the customer" if value.get("kind") == "question" else "a human"
        self.console.print(f"[bold yellow]⏸ waiting for {who}:[/bold yellow] {escape(str(value.get('question')))}")
        if value.get("roles"):
            self.console.print(f"  may answer: a principal with role {escape(' or '.join(value['roles']))}")


def configured_step_agents() -> dict[str, dict[str, str]]:
    """Who runs each step of the configured team's workflows, as :class:`LiveView` credits calls.

    The team is the one runs build their graph from (``SWITCHBOARD_TEAM``).
    A team that cannot be read gives nothing: the view then names steps,
    and the run itself reports the error.
    """
    from switchboard.agents.card import load_team
    from switchboard.graph.workflows import step_agents
    from switchboard.settings import Settings

    try:
        team = load_team(Settings().team)
        return {w.node_name: step_agents(w, team) for w in team.load_workflows()}
    except SwitchboardError:
        return {}


def _node(segment: str) -> str:
    """The node name of one namespace segment (``name:task_id``)."""
    return segment.split(":", 1)[0]


def print_trail(thread: Mapping[str, Any], console: Console | None = None) -> None:
    """Render a whole thread, as ``switchboard show`` prints it."""
    view = LiveView(console)
    out = view.console
    out.rule(f"thread {escape(str(thread['thread_id']))} — {thread['status']}")
    out.print(f"[bold]task:[/bold] {escape(str(thread.get('task')))}")
    held: list[Mapping[str, Any]] = []  # policy questions, shown among their agent's tool calls
    for event in thread.get("trail") or []:
        if query.is_escalation(event) and event["source"] == "policy":
            held.append(event)
            continue
        if query.is_handoff(event):
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
    view: LiveView, agent: str, calls: Sequence[Mapping[str, Any]], questions: list[Mapping[str, Any]]
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
