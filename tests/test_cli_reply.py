"""``switchboard reply``: the customer answers an agent's question from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard.cli import main

TASK = (
    "Hi, I'm Mia Chen, mia.chen@example.com. I want to return my delivered order, it arrived damaged. "
    "Refund the payment method I used."
)


def test_run_pauses_on_a_question_and_reply_answers_it(
    retail_db: Path, capsys: pytest.CaptureFixture[str], mia: Any
) -> None:
    assert main(["run", TASK, "--thread", "cli-q"]) == 3
    out = capsys.readouterr().out
    assert "asks the customer" in out and "Which order do you mean?" in out
    assert 'answer with: switchboard reply cli-q "TEXT"' in out

    assert main(["resume", "cli-q", "--approve", "--as", "alice"]) == 1
    assert "waits for the customer's reply" in capsys.readouterr().err

    under = mia.orders["delivered_under_500"]
    assert main(["reply", "cli-q", f"It is {under}", "--json"]) == 0
    assert '"status": "completed"' in capsys.readouterr().out

    assert main(["reply", "cli-q", "hello?"]) == 1
    assert "is not waiting for anyone" in capsys.readouterr().err
