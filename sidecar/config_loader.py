"""Reading the configuration file: YAML, environment overrides, and errors that name the
key and the line, so an operator finds a mistake without guessing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sidecar.config import ENV_PREFIX, Config


class ConfigError(Exception):
    """A configuration that must stop start-up; the message names the key and the line."""


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, override from the environment, and validate a config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(text, str(path), environ if environ is not None else os.environ)


def parse_config(text: str, source: str, environ: Mapping[str, str]) -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML{_yaml_where(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    _apply_env_overrides(data, environ)
    return validate_config(data, source, node)


def validate_config(data: Any, source: str, node: yaml.Node | None = None) -> Config:
    """Validate a config document; errors name the key, and the line when `node` (the
    document's YAML) is given."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, node, source)) from None


def _yaml_where(exc: yaml.YAMLError) -> str:
    """Where and what, without PyYAML's excerpt of the file: the message reaches logs and
    `/readyz`, and a line of the file may hold a header value an operator put there."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{where}: {problem}" if problem else where


def _apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k for k in name[len(ENV_PREFIX) :].split("__") if k]
        if not keys:
            continue
        target = data
        for key in keys[:-1]:
            nxt = target.setdefault(key, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"environment {name}: {key} is not a mapping")
            target = nxt
        target[keys[-1]] = yaml.safe_load(raw)


def _describe(exc: ValidationError, root: yaml.Node | None, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for err in exc.errors():
        loc = [p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-")]
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(root, loc)
        where = f" (line {line})" if line else ""
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"  {dotted}{where}: {message}")
    return "\n".join(lines)


def _line_of(node: yaml.Node | None, loc: list[int | str]) -> int | None:
    """Line (1-based) of the deepest YAML node along `loc` that exists in the file."""
    best = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            return best
        if node is None:
            return best
        best = node.start_mark.line + 1
    return best
