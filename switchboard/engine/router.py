"""The supervisor's decisions: which agent acts next, or finish, or escalate.

The router reads the routing prompt, matches the task to a playbook intent
(or, failing that, to a skill of the agents on offer), walks the intent's
plan past the steps already done, and routes the next step to the first agent
that offers it. Progress decides the rest: a failed step escalates (unless
the facts it found call for another intent's plan), a rejected one finishes,
a human's answer either closes the run or, when it adds information, lets the
plan go on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from switchboard.engine.classify import capability_match, intent_matcher
from switchboard.engine.parse import RoutingPrompt
from switchboard.engine.playbook import Brief, Intent, Playbook

_MIN_CAPABILITY = 0.1
"""Below this, no skill on offer resembles the task: ask a human."""
_RETRY = re.compile(r"\b(retry|try again|go ahead|proceed anyway)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    """One routing decision, with the fields of the ``RoutingDecision`` tool."""

    action: Literal["route", "finish", "escalate"]
    reason: str
    confidence: float
    agent: str | None = None
    skill: str | None = None
    instruction: str = ""
    plan: tuple[dict[str, Any], ...] = ()
    """The rest of the intent's plan, ``{agent, skill, instruction}`` per step."""

    def args(self) -> dict[str, Any]:
        """The arguments of the ``RoutingDecision`` tool call."""
        return {
            "action": self.action,
            "agent": self.agent,
            "skill": self.skill,
            "instruction": self.instruction,
            "plan": list(self.plan),
            "reason": self.reason,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class _Plan:
    intent: str | None
    skills: tuple[str, ...]
    why: str
    confidence: float


def decide(playbook: Playbook, prompt: RoutingPrompt) -> Decision:
    """Decide the next move of the run described by ``prompt``."""
    decision = _decide(playbook, prompt)
    return _reconsider(decision, prompt) if prompt.feedback else decision


def _decide(playbook: Playbook, prompt: RoutingPrompt) -> Decision:
    settled = _settle_progress(playbook, prompt)
    if settled is not None:
        return settled
    plan = _choose_plan(playbook, prompt.task, prompt)
    if isinstance(plan, Decision):
        return plan
    done = _done_skills(prompt.progress)
    pending = [s for s in plan.skills if s not in done]
    if not pending:
        steps = ", ".join(plan.skills)
        return Decision("finish", f"Every step of the plan is done ({steps}). {plan.why}", 0.9)
    skill = pending[0]
    position = f"step {plan.skills.index(skill) + 1} of {len(plan.skills)}"
    agent = _first_offering(prompt.agents, skill)
    if agent is None:
        offered = sorted({str(a.get("name")) for a in prompt.agents})
        return Decision(
            "escalate",
            f"The next step is '{skill}' ({position}), but no agent on offer ({offered}) has "
            f"that skill. {plan.why} Who should do it?",
            0.8,
        )
    slots = _slots(playbook, prompt)
    brief = Brief(prompt.task, skill, plan.intent, slots, prompt.context)
    return Decision(
        "route",
        f"{plan.why} Next is {position}: '{skill}'; {agent} is the first agent on offer with it.",
        plan.confidence,
        agent=agent,
        skill=skill,
        instruction=_instruction(playbook, brief),
        plan=_rest(playbook, prompt, plan, pending[1:], slots),
    )


def _rest(
    playbook: Playbook, prompt: RoutingPrompt, plan: _Plan, skills: Sequence[str], slots: Mapping[str, Any]
) -> tuple[dict[str, Any], ...]:
    """The steps after the next one, as far as an agent on offer has each skill.

    Their instructions are written with what is known now; each agent also
    reads the facts its colleagues reported by then in its ``<context>``.
    """
    rest: list[dict[str, Any]] = []
    for skill in skills:
        agent = _first_offering(prompt.agents, skill)
        if agent is None:
            break  # the supervisor is asked again there, and escalates
        brief = Brief(prompt.task, skill, plan.intent, dict(slots), prompt.context)
        rest.append({"agent": agent, "skill": skill, "instruction": _instruction(playbook, brief)})
    return tuple(rest)


def _settle_progress(playbook: Playbook, prompt: RoutingPrompt) -> Decision | None:
    """Finish or escalate when the latest progress entry calls for it."""
    if not prompt.progress:
        return None
    latest = prompt.progress[-1]
    if latest.get("kind") == "human":
        note = str(latest.get("note") or "").strip()
        if not latest.get("approved"):
            return Decision("finish", f"A human declined to go on{_quoted(note)}.", 0.95)
        if _adds_information(playbook, prompt.task, note) or not _asked_by_me(playbook, prompt):
            return None  # go on: with the new values, or past someone else's check
        return Decision("finish", f"Handed over to a human{_quoted(note)}.", 0.9)
    agent, skill = latest.get("agent"), latest.get("skill")
    summary = str(latest.get("summary") or "no summary").strip()
    step = f"'{skill}'" if skill else "its step"  # a pinned rule's or a workflow's step may name no skill
    if latest.get("status") == "failed" and not _failure_redirects(playbook, prompt, str(skill)):
        return Decision("escalate", f"{agent} could not complete {step}: {summary} How should we proceed?", 0.9)
    if latest.get("status") == "rejected":
        return Decision("finish", f"The {f'{step} step' if skill else 'step'} of {agent} was rejected: {summary}", 0.9)
    return None


def _failure_redirects(playbook: Playbook, prompt: RoutingPrompt, skill: str) -> bool:
    """Whether a failed step's facts call for another intent whose plan does not include it.

    An owner that finds the order in a state its intent does not accept (an
    exchange of an order that turns out to be pending) fails before changing
    anything, but reports what it found; the intent's ``otherwise`` then takes
    over instead of a human being asked.
    """
    match = intent_matcher(playbook).best(prompt.task) if playbook.intents else None
    intent = playbook.intent(match.label) if match is not None and match.score >= playbook.min_score else None
    if intent is None:
        return False
    checked = _check_requirements(playbook, intent, prompt.progress)
    return isinstance(checked, Intent) and checked is not intent and skill not in checked.plan


def _asked_by_me(playbook: Playbook, prompt: RoutingPrompt) -> bool:
    """Whether the engine itself escalated just before the human's answer.

    The graph also asks humans (a hop limit, a refused decision). Approving
    those means "carry on"; approving one of the engine's own questions
    without adding anything means the human has taken the matter over.
    """
    before = list(prompt.progress)
    while before and before[-1].get("kind") == "human":
        before.pop()
    earlier = _decide(playbook, replace(prompt, progress=before, feedback=None))
    return earlier.action == "escalate"


def _quoted(note: str) -> str:
    return f' (note: "{note}")' if note else ""


def _adds_information(playbook: Playbook, task: str, note: str) -> bool:
    """Whether a human's note carries something new: a value, or a request to retry."""
    if not note:
        return False
    if _RETRY.search(note):
        return True
    known = playbook.extract_slots(task)
    return any(
        value and known.get(key) != value and _is_key(playbook, key)
        for key, value in playbook.extract_slots(note).items()
    )


def _is_key(playbook: Playbook, slot: str) -> bool:
    return slot in playbook.key_slots or not playbook.key_slots


def _slots(playbook: Playbook, prompt: RoutingPrompt) -> dict[str, Any]:
    """Slots of the task, overridden by values in humans' approving notes.

    Notes only contribute values (a corrected email, a missing order id); they
    never change the intent, so an approval note cannot re-plan a run.
    """
    slots = dict(playbook.extract_slots(prompt.task))
    for entry in prompt.progress:
        if entry.get("kind") == "human" and entry.get("approved") and entry.get("note"):
            found = playbook.extract_slots(str(entry["note"])).items()
            slots.update({k: v for k, v in found if v and _is_key(playbook, k)})
    return slots


def _done_skills(progress: Sequence[Mapping[str, Any]]) -> set[str]:
    return {
        str(p.get("skill")) for p in progress if p.get("kind", "handoff") == "handoff" and p.get("status") == "done"
    }


def _first_fact(progress: Sequence[Mapping[str, Any]], key: str) -> tuple[Any, str | None]:
    """The first value a handoff reported for a fact, and who reported it.

    A failed handoff counts too: an agent that refused to act on what it found
    (an order in the wrong state) still found it.
    """
    for p in progress:
        facts = p.get("facts") or {}
        if p.get("status") in ("done", "failed") and isinstance(facts, Mapping) and key in facts:
            return facts[key], p.get("agent")
    return None, None


def _choose_plan(playbook: Playbook, text: str, prompt: RoutingPrompt) -> _Plan | Decision:
    match = intent_matcher(playbook).best(text) if playbook.intents else None
    if match is not None and match.score >= playbook.min_score:
        intent = playbook.intent(match.label)
        assert intent is not None  # the matcher only knows the playbook's intents
        versus = f"; next best '{match.runner_up}' {match.runner_up_score:.2f}"
        why = f"The task matches intent '{intent.name}' (score {match.score:.2f}{versus})."
        checked = _check_requirements(playbook, intent, prompt.progress)
        if isinstance(checked, str):
            return Decision("escalate", f"{why} {checked}", 0.8)
        if checked is not intent:
            why += f" The facts so far call for '{checked.name}' instead."
        return _Plan(checked.name, checked.plan, why, match.confidence)
    capability = capability_match(text, prompt.agents, playbook.synonyms)
    if capability is None or capability.score < _MIN_CAPABILITY:
        best = f" (best intent score {match.score:.2f})" if match else ""
        return Decision(
            "escalate",
            f"I cannot tell who should handle this task: it matches no known intent{best} and "
            "no skill on offer. Which agent should act, or can the task be rephrased?",
            0.3,
        )
    skill = capability.label.split("/", 1)[1]
    lead = "No intent matched well, so I" if playbook.intents else "With no playbook, I"
    why = f"{lead} matched the task to the skills on offer: '{skill}' scores {capability.score:.2f}."
    return _Plan(None, (skill,), why, round(min(0.6, capability.confidence), 2))


def _check_requirements(playbook: Playbook, intent: Intent, progress: Sequence[Mapping[str, Any]]) -> Intent | str:
    """The intent whose requirements the reported facts meet, or why none does."""
    seen = {intent.name}
    while True:
        broken = None
        for key, allowed in intent.requires.items():
            value, agent = _first_fact(progress, key)
            if value is not None and value not in allowed:
                broken = (key, value, agent, allowed)
                break
        if broken is None:
            return intent
        nxt = playbook.intent(intent.otherwise) if intent.otherwise else None
        if nxt is None or nxt.name in seen:
            key, value, agent, allowed = broken
            return (
                f"But {agent} reported {key} = {value!r}, and '{intent.name}' needs one of "
                f"{list(allowed)}. How should we proceed?"
            )
        seen.add(nxt.name)
        intent = nxt


def _first_offering(agents: Sequence[Mapping[str, Any]], skill: str) -> str | None:
    for card in agents:
        if any(s.get("id") == skill for s in card.get("skills") or [] if isinstance(s, Mapping)):
            return str(card.get("name"))
    return None


def _instruction(playbook: Playbook, brief: Brief) -> str:
    skill = playbook.skill(brief.skill)
    if skill is not None and skill.instruct is not None:
        return skill.instruct(brief)
    facts = ", ".join(f"{k}={v}" for k, v in brief.context.items() if not isinstance(v, dict))
    known = f" Known facts: {facts}." if facts else ""
    if skill is None:
        # A skill the playbook does not know (a team with no playbook, an
        # agent brought from outside): the agent reads the task as written.
        return f"{brief.task}{known}"
    what = skill.description or brief.skill.replace("_", " ")
    return f"{what.rstrip('.')} for this task: {brief.task}{known}"


def _reconsider(decision: Decision, prompt: RoutingPrompt) -> Decision:
    """Take the graph's feedback into account: never repeat a refused choice.

    The engine is deterministic, so the refused decision was most likely this
    one. If the feedback names the chosen agent (and is not just listing every
    agent), choose the next agent offering the skill, or escalate.
    """
    feedback = prompt.feedback or ""
    note = f" Retried after feedback: {feedback}"
    if decision.action != "route":
        return replace(decision, reason=decision.reason + note)
    names = [str(a.get("name")) for a in prompt.agents]
    named = {n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", feedback, re.I)}
    if decision.agent not in named or (len(names) > 1 and len(named) == len(names)):
        return replace(decision, reason=decision.reason + note)
    others = [
        n for n in names if n not in named and decision.skill and _first_offering(_cards(prompt, n), decision.skill)
    ]
    if others:
        return replace(
            decision,
            agent=others[0],
            reason=f"{decision.reason} The feedback refused {decision.agent}, so I chose "
            f"{others[0]}, which also offers '{decision.skill}'.{note}",
            confidence=round(decision.confidence * 0.8, 2),
        )
    return Decision(
        "escalate",
        f"Routing '{decision.skill}' to {decision.agent} was refused ({feedback}) and no other "
        "agent on offer has that skill. Who should do it?",
        0.7,
    )


def _cards(prompt: RoutingPrompt, name: str) -> list[Mapping[str, Any]]:
    return [a for a in prompt.agents if a.get("name") == name]
