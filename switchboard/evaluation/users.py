"""Simulated customers: who opens the conversation and answers the agents' questions.

τ-bench plays the customer with a model given the task's instruction. Here
that is :class:`ModelUser`; :class:`ScriptedUser` plays fixed lines for tests,
and :class:`InstructionUser` sends the instruction itself, single-shot, which
is how the embedded engine's baseline was measured.

A simulator is asked twice over: :meth:`UserSimulator.opening` gives the
task a run starts with, and :meth:`UserSimulator.reply` answers a question an
agent asks the customer mid-run (``ask_customer``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Protocol, runtime_checkable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from switchboard.evaluation.tasks import TauTask

STOP = "###STOP###"
"""What a model user writes when its goal is met (τ-bench's convention); stripped from replies."""

AGENT_GREETING = "Hi! How can I help you today?"


@runtime_checkable
class UserSimulator(Protocol):
    """The customer side of a trial."""

    async def opening(self) -> str:
        """The customer's first message: the task the run starts with."""
        ...

    async def reply(self, question: str) -> str:
        """The customer's answer to an agent's question."""
        ...


UserFactory = Callable[[TauTask], UserSimulator]
"""Makes a fresh simulator for each trial of a task."""


class UserScriptExhaustedError(AssertionError):
    """A scripted user was asked more questions than it has replies for."""


class ScriptedUser:
    """Fixed lines: an opening and one reply per expected question, in order."""

    def __init__(self, opening: str, replies: Sequence[str] = ()) -> None:
        """Play ``opening``, then ``replies`` one by one."""
        self._opening = opening
        self._replies = list(replies)
        self.questions: list[str] = []
        """Every question the user was asked, in order."""

    async def opening(self) -> str:
        """The scripted opening."""
        return self._opening

    async def reply(self, question: str) -> str:
        """The next scripted reply.

        Raises:
            UserScriptExhaustedError: No reply is left for this question.
        """
        self.questions.append(question)
        if not self._replies:
            raise UserScriptExhaustedError(f"the scripted user has no reply left for {question!r}")
        return self._replies.pop(0)


class InstructionUser:
    """The task's instruction as the opening, and as every answer.

    A user that says everything it knows at once: the single-shot baseline.
    """

    def __init__(self, task: TauTask) -> None:
        """Speak from ``task``'s instruction."""
        self._instruction = task.instruction

    async def opening(self) -> str:
        """The instruction, verbatim."""
        return self._instruction

    async def reply(self, question: str) -> str:
        """The instruction again: all this user knows."""
        return self._instruction


_RULES = {
    "gradually": ("Reveal details only when the agent needs them, a little at a time, as a real customer would."),
    "at once": (
        "The agent cannot always ask you back, so state your whole request and every detail it needs "
        "(name, email or zip code, order ids, items, preferences) in your first message."
    ),
}


class ModelUser:
    """A chat model plays the customer from the task's instruction, as τ-bench does."""

    def __init__(self, model: BaseChatModel, task: TauTask, *, reveal: Literal["gradually", "at once"] = "gradually"):
        """Play ``task``'s customer with ``model``.

        Args:
            model: Any chat model; it writes the customer's lines.
            task: The task whose instruction the customer follows.
            reveal: ``gradually``, τ-bench's own setting: details come as
                the agents ask for them. ``at once`` for runs where the
                agents cannot ask (no question channel): the opening must
                then carry everything.
        """
        self._model = model
        self._messages: list[BaseMessage] = [
            SystemMessage(
                "You play a customer writing to a shop's customer service. Stay in character and write only "
                "the customer's next message, in plain sentences, with no explanations. Never invent facts "
                "that your instruction does not give; if asked for something you do not know, say so. "
                f"{_RULES[reveal]} When your goal is met, or cannot be met, write {STOP}.\n\n"
                f"Your instruction:\n{task.instruction}"
            )
        ]

    async def opening(self) -> str:
        """The customer's first message, answering the agent's greeting."""
        return await self._say(AGENT_GREETING)

    async def reply(self, question: str) -> str:
        """The customer's answer to an agent's question."""
        return await self._say(question)

    async def _say(self, agent_text: str) -> str:
        # The roles are mirrored: to the user model, the agent is the "human".
        self._messages.append(HumanMessage(agent_text))
        answer = await self._model.ainvoke(self._messages)
        text = answer.text if isinstance(answer, AIMessage) else str(answer.content)
        self._messages.append(AIMessage(text))
        return text.replace(STOP, "").strip() or "That is all, thank you."
