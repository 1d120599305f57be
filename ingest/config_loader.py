"""Load config.yaml into validated settings; errors name the file, the line and the key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domain.settings import DATABASE_URL_ENV, database_url
from ingest.settings import Settings


class ConfigError(ValueError):
    """An invalid configuration: every problem with its file, line and key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"invalid configuration {path}:\n" + "\n".join(f"  {p}" for p in problems))


def load_settings(path: Path) -> Settings:
    """Read and validate ``path``; raise ConfigError, never return a half-valid config."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    return parse_settings(text, path)


def parse_settings(text: str, path: Path) -> Settings:
    try:
        raw = yaml.safe_load(text)
        lines = dict(_key_lines(yaml.compose(text))) if raw is not None else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, [f"{where}: YAML syntax error: {problem}"]) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(path, [f"{path}:1: the top level must be a mapping of sections"])
    raw.setdefault("database", {})
    if isinstance(raw["database"], dict):
        raw["database"]["url"] = database_url(None, raw)
    try:
        return Settings.model_validate(raw, context={"lines": lines, "path": str(path)})
    except ValidationError as exc:
        raise ConfigError(path, [_describe(error, lines, path) for error in exc.errors()]) from exc


def _describe(error: Any, lines: dict[tuple[Any, ...], int], path: Path) -> str:
    loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
    line = _nearest_line(loc, lines)
    key = ".".join(str(part) for part in loc) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if key == "database.url" and DATABASE_URL_ENV:
        message += f" (set in the file or by ${DATABASE_URL_ENV})"
    return f"{path}:{line}: {key}: {message}"


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _nearest_line(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _key_lines(
    node: yaml.Node, prefix: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], int]]:
    """Map every key path (("groups", 0, "name")) to its 1-based line number."""
    yield prefix, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            yield (*prefix, key), key_node.start_mark.line + 1
            for path, line in _key_lines(value_node, (*prefix, key)):
                if path != (*prefix, key):
                    yield path, line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _key_lines(item, (*prefix, index))
