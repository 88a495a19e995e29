"""An answer the provider's own parser rejects is a bad answer, not an outage.

With ``structured=json_schema`` on ``openai:`` (the README's setting for
llama.cpp), langchain-openai parses the answer inside the model call and
raises there: a ``ValidationError`` for JSON in a fence or the wrong shape, a
``LengthFinishReasonError`` for an answer cut off at ``max_tokens``. The
router took those for a provider that is down: it sent the same prompt again
with backoff and no feedback, then escalated "the supervisor's model is not
answering". It now tells the model what was wrong, as for any refused answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel

from switchboard.agents.card import Team
from switchboard.graph.routing import Router
from switchboard.testing import ScriptedChatModel, route


class LengthFinishReasonError(Exception):
    """Stands in for ``openai.LengthFinishReasonError`` (the router knows it by name: openai is optional)."""


class _Shape(BaseModel):
    action: str


def _raises(error: Callable[[], Exception]) -> Callable[[Sequence[BaseMessage], list[str]], AIMessage]:
    def step(messages: Sequence[BaseMessage], tools: list[str]) -> AIMessage:
        raise error()

    return step


def _validation_error() -> Exception:
    try:
        _Shape.model_validate_json('```json\n{"action": "route"}\n```')
    except Exception as exc:
        return exc
    raise AssertionError("a fenced answer parsed")


def _router(team: Team, model: ScriptedChatModel) -> Router:
    return Router(team, model, team.load_policy(), retries=2, backoff=0.0)


async def test_an_answer_that_failed_the_providers_parser_is_sent_back_with_the_reason(desk: Team) -> None:
    model = ScriptedChatModel(steps=[_raises(_validation_error), route("alpha", "Answer the apple question")])
    result = await _router(desk, model).decide("apples", [], {})
    model.assert_complete()  # one bad answer, one good one: no identical retries
    assert result.decision.action == "route" and result.attempts == 2
    feedback = model.calls[1].text.split("<feedback>")[1]
    assert "did not parse" in feedback and "ValidationError" in feedback


async def test_an_answer_cut_off_at_the_token_cap_is_asked_again_briefly(desk: Team) -> None:
    cut = _raises(lambda: LengthFinishReasonError("Could not parse response content as the length limit was reached"))
    model = ScriptedChatModel(steps=[cut, cut])
    result: Any = await _router(desk, model).decide("apples", [], {})
    model.assert_complete()
    assert "cut off at the token cap" in model.calls[1].text.split("<feedback>")[1]
    assert result.decision.action == "escalate" and "not answering" not in result.decision.reason
    assert "cut off at the token cap" in result.decision.reason
