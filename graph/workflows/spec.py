"""Workflow files: declared steps, validated once, when the file loads.

A workflow is a YAML file of steps. Each step names the agent or skill that
does it, the steps it ``needs``, an optional ``when`` condition on earlier
results, what a failure means (``on_failure``) and an optional
``compensate`` step that undoes or mitigates it when a later step fails.
Steps whose needs are met run together; nothing else declares parallelism.

Mistakes are reported before anything runs, and each message names the file
and the step, because a workflow that fails halfway through a customer's
return is far more expensive than one that refuses to load.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from switchboard.agents.card import AgentCard, Skill
from switchboard.errors import ConfigError
from switchboard.graph.workflows.conditions import Condition, required_status_tests, steps_named
from switchboard.policies.yaml_source import load_yaml, refuse_duplicate_keys

_ID = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
"""A step id or workflow name, matched with ``fullmatch`` (``$`` would let a trailing newline through)."""
WORKFLOWS_DIR = Path(str(resources.files("switchboard.agents") / "workflows"))
"""The shipped workflows (``agents/workflows``), beside the team files they sequence."""


class Action(BaseModel):
    """Who does a piece of work, and what they are told."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: str | None = None
    """The agent to run; when omitted, the first agent of the team with ``skill``."""
    skill: str | None = None
    """The skill asked for; routed to an agent that has it."""
    instruction: str = Field(min_length=1)
    """What the agent is asked to do; the task and the facts so far go with it."""

    @model_validator(mode="after")
    def _someone(self) -> Action:
        if self.agent is None and self.skill is None:
            raise ValueError("name an `agent`, a `skill`, or both")
        return self


class Step(Action):
    """One step of a workflow."""

    id: str
    """Unique in the workflow, lower_snake_case; the node name in the graph."""
    needs: tuple[str, ...] = ()
    """Steps that must finish first; each must be defined above this one."""
    when: Condition | None = None
    """Run only if this holds; by default, only if every need finished ``done``.
    It may read only steps this one (directly or indirectly) needs."""
    on_failure: Literal["stop", "continue"] = "stop"
    """``stop``: a failure ends the workflow, compensations run, and the
    supervisor takes over. ``continue``: the failure is handled here: later
    steps may branch on it with ``{step: ID, status: failed}``."""
    compensate: Action | None = None
    """Run, after this step finished ``done``, if a later step stops the workflow."""

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError(f"step id {value!r} must be lower_snake_case: letters and digits joined by single _")
        return value


class Workflow(BaseModel):
    """A validated workflow: steps in dependency order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """lower_snake_case; the supervisor runs it as node ``workflow_<name>``."""
    description: str = ""
    """What it does, in a sentence; the supervisor's offer shows it."""
    examples: tuple[str, ...] = ()
    """Typical requests it serves; routing matches against them as against a card's."""
    team: str | None = None
    """The team whose agents it sequences, for readers and checks."""
    steps: tuple[Step, ...] = Field(min_length=1)
    source: Path | None = None
    """Where it was loaded from, for messages."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError(f"workflow name {value!r} must be lower_snake_case")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        above: dict[str, set[str]] = {}  # step -> every step it needs, directly or not
        for step in self.steps:
            if step.id in above:
                raise ValueError(f"step {step.id!r} is defined twice; give each step its own id")
            if len(set(step.needs)) != len(step.needs) or step.id in step.needs:
                raise ValueError(f"step {step.id!r}: `needs` repeats a step or names the step itself")
            for need in step.needs:
                if need not in above:
                    where = "is defined below it" if any(s.id == need for s in self.steps) else "does not exist"
                    raise ValueError(
                        f"step {step.id!r} needs {need!r}, which {where}; list steps in the order they can "
                        "run (this also rules out cycles)"
                    )
            ancestors = set(step.needs).union(*(above[n] for n in step.needs))
            if step.when is not None:
                unknown = steps_named(step.when) - ancestors
                if unknown:
                    raise ValueError(
                        f"step {step.id!r}: its `when` reads {sorted(unknown)}, which it does not need; "
                        "add them to `needs` so their results exist when the condition is decided"
                    )
                self._reachable(step)
            above[step.id] = ancestors
        return self

    def _reachable(self, step: Step) -> None:
        """Refuse a condition that can never hold: it requires a failure the workflow never goes on after."""
        assert step.when is not None
        for test in required_status_tests(step.when):
            ended = {test.status} if isinstance(test.status, str) else set(test.status)
            failures = sorted(ended)
            if "done" not in ended and self.step(test.step).on_failure == "stop":
                raise ValueError(
                    f"step {step.id!r}: its `when` waits for {test.step!r} to end {' or '.join(failures)}, but a "
                    f"failure of {test.step!r} stops the workflow; give {test.step!r} `on_failure: continue` to "
                    "branch on it"
                )

    @property
    def node_name(self) -> str:
        """The node that runs this workflow inside the supervisor graph."""
        return f"workflow_{self.name}"

    def card(self) -> AgentCard:
        """The workflow as the supervisor's offer shows it: a card named after its node.

        Its one skill is the workflow itself, so shortlisting, pinned routing
        rules and the routing model treat it as they treat an agent.
        """
        skill = Skill(
            id=self.name,
            description=self.description or f"Run the {self.name} workflow.",
            examples=self.examples,
        )
        return AgentCard(
            name=self.node_name,
            description=f"Runs the declared workflow {self.name}: {', '.join(s.id for s in self.steps)}.",
            skills=(skill,),
        )

    def step(self, step_id: str) -> Step:
        """The step named ``step_id``."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise ConfigError(f"workflow {self.name!r} has no step {step_id!r}; steps: {[s.id for s in self.steps]}")

    def dependents(self, step_id: str) -> tuple[Step, ...]:
        """Steps that list ``step_id`` in their needs, in file order."""
        return tuple(s for s in self.steps if step_id in s.needs)


def load_workflow(path: str | Path) -> Workflow:
    """Load and validate a workflow file.

    Args:
        path: A YAML file, or the name of a workflow shipped in
            ``agents/workflows`` (``retail_return``).

    Raises:
        ConfigError: The file is missing or invalid; the message names the
            file and, for a step's mistake, the step.
    """
    file = _resolve(path)
    try:
        text = file.read_text(encoding="utf-8")
        raw = load_yaml(text)  # clock-style numbers as YAML 1.2: `2:00` is text, not 120
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read workflow file {file}: {exc}") from exc
    refuse_duplicate_keys(text, file, "workflow file")  # YAML would keep the last value silently
    if not isinstance(raw, dict):
        raise ConfigError(f"workflow file {file} must hold a mapping with `name` and `steps`")
    try:
        return Workflow.model_validate({**raw, "source": file})
    except ValidationError as exc:
        raise ConfigError(f"workflow file {file} is invalid:\n{_explain(exc, raw)}") from exc


def _resolve(path: str | Path) -> Path:
    candidate = Path(path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        if not candidate.is_file():
            raise ConfigError(f"workflow file {candidate} does not exist")
        return candidate
    shipped = WORKFLOWS_DIR / f"{path}.yaml"
    if not shipped.is_file():
        known = ", ".join(sorted(p.stem for p in WORKFLOWS_DIR.glob("*.yaml")))
        raise ConfigError(f"no workflow named {path!r}; shipped workflows: {known}, or give a YAML path")
    return shipped


def _explain(exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line per error, naming the step by its id rather than its index."""
    listed = raw.get("steps")
    steps: list[Any] = listed if isinstance(listed, list) else []
    lines = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        where = ".".join(str(part) for part in loc) or "workflow"
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int) and loc[1] < len(steps):
            entry = steps[loc[1]]
            name = entry.get("id", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
            rest = ".".join(str(part) for part in loc[2:])
            where = f"step {name!r}" + (f", field {rest}" if rest else "")
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)
