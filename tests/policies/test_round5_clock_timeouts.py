"""An escalation timeout written like a clock is refused, not read as base-60 seconds (red team round 5, F6).

YAML 1.1 reads a plain ``4:00`` as the integer 240 and ``24:00`` as 1440, so
the shipped ``money`` path written ``timeout: 4:00`` let a store manager
approve after 4 minutes and auto-rejected after 28 minutes instead of 28
hours, without a word. Policy and principals files are read YAML 1.2 style:
``4:00`` stays text, and text that is not ``90s``, ``30m``, ``4h`` or ``2d``
is not a duration.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from switchboard.errors import ConfigError
from switchboard.policies import load_policy
from switchboard.policies.escalations import parse_duration

SHIPPED = Path(__file__).resolve().parents[2] / "policies"


def _retail_with(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copy(SHIPPED / "principals.yaml", tmp_path / "principals.yaml")
    text = (SHIPPED / "retail.yaml").read_text()
    assert old in text
    file = tmp_path / "retail.yaml"
    file.write_text(text.replace(old, new))
    return file


@pytest.mark.parametrize("clock", ["4:00", "24:00", "1:30:00", "4:00.5", "-4:00"])
def test_a_clock_timeout_is_refused_naming_the_file_line_field_and_the_accepted_forms(
    tmp_path: Path, clock: str
) -> None:
    file = _retail_with(tmp_path, "timeout: 4h,", f"timeout: {clock},")
    with pytest.raises(ConfigError) as caught:
        load_policy(file)
    message = str(caught.value)
    line = next(n for n, text in enumerate(file.read_text().splitlines(), 1) if f"timeout: {clock}," in text)
    assert f"{file}:{line}: escalations.0.steps.0.timeout: " in message
    assert repr(clock) in message and "4h" in message and "30m" in message


def test_the_shipped_timeouts_still_load_in_hours(tmp_path: Path) -> None:
    money = load_policy(_retail_with(tmp_path, "timeout: 4h,", "timeout: 4h,")).find_escalation("money")
    assert money is not None and [s.timeout for s in money.steps] == [4 * 3600, 24 * 3600]


def test_plain_seconds_still_load(tmp_path: Path) -> None:
    money = load_policy(_retail_with(tmp_path, "timeout: 4h,", "timeout: 14400,")).find_escalation("money")
    assert money is not None and money.steps[0].timeout == 14400


@pytest.mark.parametrize("clock", ["4:00", "24:00", "0:30", "4:00:00"])
def test_parse_duration_refuses_a_clock_time(clock: str) -> None:
    with pytest.raises(ValueError, match=r"4h"):
        parse_duration(clock)


def test_the_policy_reader_keeps_base_60_text_and_every_other_number() -> None:
    from switchboard.policies.yaml_source import load_yaml  # new in round 5

    data = load_yaml("a: 4:00\nb: 1:30:00.5\nc: 1_000\nd: 0x10\ne: 1.5\nf: 017\ng: '4:00'\nh: 10:61\n")
    assert data == {"a": "4:00", "b": "1:30:00.5", "c": 1000, "d": 16, "e": 1.5, "f": 15, "g": "4:00", "h": "10:61"}


def test_a_key_that_yaml_11_reads_as_base_60_is_text() -> None:
    """Keys are read the same way, so ``1:00`` and ``60`` are two keys, not a duplicate."""
    from switchboard.policies.yaml_source import load_yaml  # new in round 5

    assert load_yaml("{1:00: a, 60: b}") == {"1:00": "a", 60: "b"}
