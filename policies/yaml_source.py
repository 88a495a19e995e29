"""Validate a YAML file against a pydantic model, with errors at file and line.

An operations person editing a policy should read "retail.yaml:42: threshold:
Input should be a valid number", not a pydantic location tuple. YAML's
composed node tree keeps the position of every value, so each error's
location is walked down that tree to the nearest node that exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from switchboard.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def validate_yaml(model: type[M], file: Path, *, kind: str, extra: Mapping[str, Any] | None = None) -> M:
    """Read ``file`` and validate it as ``model``.

    Args:
        model: The pydantic model of the whole file.
        file: The YAML file.
        kind: What the file is, for messages ("policy file").
        extra: Fields added to the file's mapping before validation (its source path).

    Raises:
        ConfigError: The file is unreadable, not YAML, not a mapping, or
            invalid; each problem is given as ``FILE:LINE: field: message``.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {kind} {file}: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{kind} {file} is not valid YAML:\n{file}:{line}: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}:1: a {kind} must hold a mapping of fields")
    try:
        return model.model_validate({**data, **(extra or {})})
    except ValidationError as exc:
        problems = [
            f"{file}:{line_of(root, err['loc'])}: {'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigError(f"{kind} {file} is invalid:\n" + "\n".join(problems)) from exc


def line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int:
    """The 1-based line of the deepest node of ``loc`` present in the tree.

    Parts that name no node (a union's tag, a missing field) are skipped, so
    a missing field points at the mapping that lacks it.
    """
    if root is None:
        return 1
    node: yaml.Node = root
    for part in loc:
        child = _child(node, part)
        if child is not None:
            node = child
    return node.start_mark.line + 1


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None
