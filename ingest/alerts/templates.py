"""Summary templates: python ``str.format`` over a fixed set of names, checked at load time."""

from __future__ import annotations

import re
from string import Formatter
from typing import Any

PLACEHOLDERS = (
    "value",
    "threshold",
    "recovery",
    "metric",
    "window",
    "labels",
    "rule",
    "severity",
    "current",
    "base",
    "dim",
    "condition",
)
DEFAULT_SUMMARY = "{rule}: {metric} over {window} is {value} ({condition})"
FORMAT_ERRORS = (ValueError, KeyError, IndexError, TypeError, AttributeError)


def placeholders(template: str) -> list[str]:
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"bad summary template {template!r}: {exc}") from None
    return [field for _, field, _, _ in parsed if field is not None]


def check_template(template: str, sample: dict[str, Any]) -> None:
    """Refuse unknown names and formats that cannot apply to the rule's values."""
    for field in placeholders(template):
        root = re.split(r"[.\[]", field, maxsplit=1)[0]
        if root not in PLACEHOLDERS:
            shown = "{" + field + "}"
            raise ValueError(
                f"unknown placeholder {shown} in summary (use {', '.join(PLACEHOLDERS)})"
            )
    try:
        template.format(**sample)
    except FORMAT_ERRORS as exc:
        raise ValueError(
            f"summary {template!r} cannot be formatted with value={sample['value']!r}, "
            f"threshold={sample['threshold']!r}: {type(exc).__name__}: {exc}"
        ) from None


def render(template: str | None, context: dict[str, Any]) -> str:
    """The summary; without a value (no data, error) a plain one, never an exception."""
    if template is not None and context.get("value") is not None:
        try:
            return template.format(**context)
        except FORMAT_ERRORS:
            pass
    shown = "no data" if context.get("value") is None else context["value"]
    return DEFAULT_SUMMARY.format(**{**context, "value": shown})
