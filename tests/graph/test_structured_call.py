"""The supervisor's structured call: LangChain's ``include_raw`` result, in one model run (issue 8).

``StructuredCall`` replaces ``with_structured_output(include_raw=True)``,
whose wrapper runs cost the supervisor more CPU than its decision. These
tests hold it to the same answers as LangChain's chain, for a good answer,
an unparseable one and one outside the schema, and show the runs it saves.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils import function_calling

from switchboard.graph.decision import RoutingDecision, decision_schema
from switchboard.graph.structured import StructuredCall
from switchboard.testing import ScriptedChatModel, call, garbage, route

SCHEMA = decision_schema(("alpha", "beta"))
ASK = [HumanMessage("who should check the parcel?")]
ANSWERS = (
    route("alpha", "check the parcel", reason="alpha tracks parcels"),
    garbage(),
    call("RoutingDecision", action="route", agent="zeta", instruction="x", reason="r"),
)


class _Runs(AsyncCallbackHandler):
    """Counts the runs a call starts, by kind."""

    def __init__(self) -> None:
        self.chains: list[str] = []
        self.models = 0
        self.formats: list[Any] = []

    async def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.chains.append(str(kwargs.get("name")))

    async def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.models += 1
        self.formats.append((kwargs.get("options") or {}).get("ls_structured_output_format"))


def _same(ours: dict[str, Any], langchains: dict[str, Any]) -> None:
    assert ours["raw"] == langchains["raw"]
    assert ours["parsed"] == langchains["parsed"]
    assert (ours["parsing_error"] is None) == (langchains["parsing_error"] is None)
    if ours["parsing_error"] is not None:
        assert str(ours["parsing_error"]) == str(langchains["parsing_error"])


async def test_answers_match_langchains_include_raw_chain() -> None:
    ours = StructuredCall.bind(ScriptedChatModel(steps=list(ANSWERS)), SCHEMA, "function_calling")
    theirs = ScriptedChatModel(steps=list(ANSWERS)).with_structured_output(
        SCHEMA, include_raw=True, method="function_calling"
    )
    results = [(await ours.ainvoke(ASK), await theirs.ainvoke(ASK)) for _ in ANSWERS]
    for mine, langchains in results:
        _same(dict(mine), langchains)
    good, unparseable, outside = (mine for mine, _ in results)
    assert isinstance(good["parsed"], RoutingDecision) and good["parsed"].agent == "alpha"
    assert unparseable["parsed"] is None and unparseable["parsing_error"] is None  # no tool call: nothing to parse
    assert outside["parsed"] is None and outside["parsing_error"] is not None  # "zeta" is not on offer


async def test_a_decision_is_one_model_run_and_no_wrapper_runs() -> None:
    ours, theirs = _Runs(), _Runs()
    structured = StructuredCall.bind(ScriptedChatModel(steps=[ANSWERS[0]]), SCHEMA, "function_calling")
    await structured.ainvoke(ASK, {"callbacks": [ours]})
    chain = ScriptedChatModel(steps=[ANSWERS[0]]).with_structured_output(SCHEMA, include_raw=True)
    await chain.ainvoke(ASK, {"callbacks": [theirs]})
    assert (ours.models, ours.chains) == (1, [])
    assert theirs.models == 1 and len(theirs.chains) >= 5  # what it replaces: LangChain's wrappers, each a run


async def test_the_trace_gets_langchains_output_format_without_converting_the_schema_per_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LangSmith's ``ls_structured_output_format`` is the same; the schema class is converted once, at bind."""
    ours, theirs = _Runs(), _Runs()
    structured = StructuredCall.bind(ScriptedChatModel(steps=[ANSWERS[0]] * 3), SCHEMA, "function_calling")
    chain = ScriptedChatModel(steps=[ANSWERS[0]]).with_structured_output(SCHEMA, include_raw=True)
    await chain.ainvoke(ASK, {"callbacks": [theirs]})
    converted: list[Any] = []
    real = function_calling.convert_to_openai_tool
    monkeypatch.setattr(
        function_calling, "convert_to_openai_tool", lambda tool, **kw: converted.append(tool) or real(tool, **kw)
    )
    for _ in range(3):
        await structured.ainvoke(ASK, {"callbacks": [ours]})
    assert theirs.formats[0]["schema"]["title"] == SCHEMA.__name__
    assert ours.formats == theirs.formats * 3
    assert not [tool for tool in converted if tool is SCHEMA]  # the class itself is never converted again


class _OwnStructuredOutput(ScriptedChatModel):
    """A provider whose structured output is its own runnable, not model-then-parser."""

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable[Any, Any]:
        def answer(messages: list[BaseMessage]) -> Any:
            raw = AIMessage("", tool_calls=[{"name": "RoutingDecision", "args": {}, "id": "1"}])
            parsed = schema(action="finish", reason="native", confidence=1.0)
            return {"raw": raw, "parsed": parsed, "parsing_error": None} if include_raw else parsed

        return RunnableLambda(answer)


async def test_a_model_with_its_own_structured_output_keeps_its_include_raw_result() -> None:
    structured = StructuredCall.bind(_OwnStructuredOutput(steps=[]), SCHEMA, "function_calling")
    answer = await structured.ainvoke(ASK)
    assert structured.parser is None
    assert answer["parsed"].reason == "native" and answer["parsing_error"] is None
    assert isinstance(answer["raw"], AIMessage)
