"""The routing lab scores any file of {task, agent} lines, and refuses bad ones clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.errors import DataError
from switchboard.lab import evaluate_routing, make_router, route_once


async def test_eval_reports_accuracy_confusion_and_misses(tmp_path: Path) -> None:
    rows = [
        {"task": "Please cancel order #W0627403, I ordered it by mistake. mia.chen@example.com", "agent": "finance"},
        {"task": "Which colours does the water bottle come in?", "agent": "inventory"},
        {"task": "Which colours does the water bottle come in?", "agent": "analytics"},  # deliberately wrong label
    ]
    file = tmp_path / "tasks.jsonl"
    file.write_text("\ufeff" + "\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")  # BOM, blank line
    report = await evaluate_routing(file, make_router())
    assert len(report.cases) == 3
    assert report.accuracy == pytest.approx(2 / 3)
    assert [c.expected for c in report.wrong] == ["analytics"]
    assert report.confusion["inventory"] == {"inventory": 1}


async def test_route_once_explains_itself() -> None:
    decision = await route_once("Where is my parcel? omar.haddad@example.com", make_router())
    assert decision["action"] == "route" and decision["agent"] == "logistics"
    assert decision["reason"] and 0 < decision["confidence"] <= 1 and decision["shortlist"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"task": "x"}\n', r"tasks\.jsonl:1: expected"),
        ("not json\n", r"tasks\.jsonl:1: expected"),
        ("", "holds no labelled tasks"),
        ('{"task": "x", "agent": "wizard"}\n', "labels name agents the team does not have: wizard"),
    ],
)
async def test_bad_files_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "tasks.jsonl"
    file.write_text(content)
    with pytest.raises(DataError, match=message):
        await evaluate_routing(file, make_router())
