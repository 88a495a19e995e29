"""The simulated customers."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from switchboard.evaluation import InstructionUser, ModelUser, ScriptedUser, TauTask, UserSimulator
from switchboard.evaluation.users import AGENT_GREETING, UserScriptExhaustedError
from switchboard.testing import ScriptedChatModel

TASK = TauTask(user_id="ana_1", instruction="You are Ana (ana@example.com). Cancel order #W0000001.")


async def test_a_model_user_plays_the_instruction_and_keeps_the_conversation() -> None:
    model = ScriptedChatModel(
        steps=[AIMessage("Hi, I'm Ana, ana@example.com; cancel #W0000001."), AIMessage("No longer needed. ###STOP###")]
    )
    user = ModelUser(model, TASK)
    assert isinstance(user, UserSimulator)
    assert await user.opening() == "Hi, I'm Ana, ana@example.com; cancel #W0000001."
    assert await user.reply("Why do you want to cancel?") == "No longer needed."
    model.assert_complete()
    first, second = model.calls[0].messages, model.calls[1].messages
    assert isinstance(first[0], SystemMessage) and TASK.instruction in str(first[0].content)
    assert "a little at a time" in str(first[0].content)  # agents ask for details: τ-bench's own setting
    assert isinstance(first[1], HumanMessage) and first[1].content == AGENT_GREETING
    assert [type(m) for m in second] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert second[-1].content == "Why do you want to cancel?"


async def test_a_model_user_can_say_everything_at_once_for_single_shot_runs() -> None:
    model = ScriptedChatModel(steps=[AIMessage("I'm Ana, ana@example.com; cancel #W0000001, no longer needed.")])
    assert (await ModelUser(model, TASK, reveal="at once").opening()).startswith("I'm Ana")
    assert "first message" in model.calls[0].text and "a little at a time" not in model.calls[0].text


async def test_a_scripted_user_fails_loudly_when_asked_one_question_too_many() -> None:
    user = ScriptedUser("Cancel #W0000001", ["no longer needed"])
    assert await user.opening() == "Cancel #W0000001"
    assert await user.reply("Why?") == "no longer needed"
    with pytest.raises(UserScriptExhaustedError, match="Sure\\?"):
        await user.reply("Sure?")
    assert user.questions == ["Why?", "Sure?"]


async def test_the_instruction_user_says_everything_it_knows_every_time() -> None:
    user = InstructionUser(TASK)
    assert await user.opening() == TASK.instruction == await user.reply("Which order?")
