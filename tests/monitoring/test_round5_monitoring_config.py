"""monitoring.yaml refuses what it used to ignore (red team round 5, F8).

A misspelt detector in ``pause_on`` (``routing-loop``, ``pingpong``) was kept
and matched no alert, so a routing loop never paused the run; a key given
twice (``budgets:``) silently kept the last value. Both are now refused with
a ConfigError naming the file.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from switchboard.errors import ConfigError
from switchboard.monitoring import detectors
from switchboard.monitoring.config import MonitoringConfig


def _write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "monitoring.yaml"
    file.write_text(text)
    return file


@pytest.mark.parametrize(("typo", "meant"), [("routing-loop", "routing_loop"), ("pingpong", "ping_pong")])
def test_a_misspelt_detector_in_pause_on_is_refused_with_the_closest_name(
    tmp_path: Path, typo: str, meant: str
) -> None:
    file = _write(tmp_path, f"thresholds: {{loop_repeats: 3}}\npause_on: [routing_loop, {typo}]\n")
    with pytest.raises(ConfigError) as caught:
        MonitoringConfig.load(file)
    message = str(caught.value)
    assert f"{file}:2: pause_on" in message and repr(typo) in message and f"did you mean {meant!r}" in message


def test_an_unknown_detector_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'everything'.*routing_loop.*ping_pong"):
        MonitoringConfig.load(_write(tmp_path, "pause_on: [everything]\n"))


def test_a_misspelt_detector_is_refused_in_code_too() -> None:
    with pytest.raises(ValidationError, match="pingpong"):
        MonitoringConfig(pause_on=frozenset({"pingpong"}))


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    file = _write(
        tmp_path,
        "pause_on: [routing_loop]\nbudgets: {run_cost: 1.0, pause_when_spent: true}\nbudgets: {run_cost: 1000.0}\n",
    )
    with pytest.raises(ConfigError, match=rf"{file}:3: budgets: given twice, on lines 2 and 3"):
        MonitoringConfig.load(file)


def test_a_nested_key_given_twice_is_refused(tmp_path: Path) -> None:
    file = _write(tmp_path, "thresholds:\n  loop_repeats: 3\n  loop_repeats: 30\n")
    with pytest.raises(ConfigError, match=rf"{file}:3: thresholds\.loop_repeats: given twice"):
        MonitoringConfig.load(file)


def test_every_detector_may_pause_and_a_valid_file_still_loads(tmp_path: Path) -> None:
    names = "[routing_loop, ping_pong, error_burst, latency, denial_burst, budget, escalation_wait]"
    config = MonitoringConfig.load(_write(tmp_path, f"pause_on: {names}\nbudgets: {{run_cost: 1.0}}\n"))
    assert "routing_loop" in config.pause_on and len(config.pause_on) == 7 and config.budgets.run_cost == 1.0


def test_a_bad_field_names_the_file_and_line(tmp_path: Path) -> None:
    file = _write(tmp_path, "enabled: true\nthresholds: {error_burst: zero}\n")
    with pytest.raises(ConfigError, match=rf"{file}:2: thresholds\.error_burst"):
        MonitoringConfig.load(file)


def test_the_known_detectors_are_the_ones_that_raise_alerts() -> None:
    """Every detector name an alert is raised with may be named in ``pause_on`` (guards against drift)."""
    from switchboard.monitoring.config import DETECTORS

    tree = ast.parse(Path(detectors.__file__).read_text())
    raised = {
        call.args[0].value
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id in {"_alert", "Alert"}
        and call.args
        and isinstance(call.args[0], ast.Constant)
    }
    assert raised == set(DETECTORS)
