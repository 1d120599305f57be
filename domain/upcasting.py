"""Upcasters: small pure functions that lift a stored payload one schema version.

They are chained by version, ``(event_type, v) -> payload of v+1``, and run whenever events
are read (aggregate loading, ingest, audit), so handlers only ever see the latest shape.
Deployment order: upcasters ship before (or with) the writers of a new version; old code
never reads new events, so downcasting is never needed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Payload = dict[str, Any]
Upcaster = Callable[[Mapping[str, Any]], Payload]  # returns a new dict, never changes its input

UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class UpcastError(ValueError):
    """A stored payload that no upcaster chain can bring to the current version."""


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(function: Upcaster) -> Upcaster:
        key = (event_type, from_version)
        if key in UPCASTERS:
            raise ValueError(f"two upcasters for {event_type} v{from_version}")
        UPCASTERS[key] = function
        return function

    return register


def upcast(
    event_type: str, schema_version: int, payload: Mapping[str, Any], target_version: int
) -> Payload:
    """Run the chain from ``schema_version`` up to ``target_version``. Each step returns a
    new mapping (upcasters are pure), so the stored record's payload is never changed."""
    current: Payload | None = None  # None until a step has made a new dict
    version = schema_version
    while version < target_version:
        step = UPCASTERS.get((event_type, version))
        if step is None:
            raise UpcastError(
                f"{event_type} v{version} has no upcaster to v{version + 1} "
                f"(current version is v{target_version})"
            )
        current = step(payload if current is None else current)
        version += 1
    if version > target_version:
        raise UpcastError(
            f"{event_type} v{version} is newer than this code knows (v{target_version}); "
            "deploy the newer code before reading its events"
        )
    return dict(payload) if current is None else current  # always a dict of its own


@upcaster("UserRegistered", 1)
def user_registered_gains_referrer(payload: Mapping[str, Any]) -> Payload:
    return {**payload, "referrer": payload.get("referrer")}


CENT = Decimal("0.01")


@upcaster("FundsDeposited", 1)
def funds_deposited_amount_becomes_decimal_and_source_becomes_channel(
    payload: Mapping[str, Any],
) -> Payload:
    lifted = dict(payload)
    lifted.pop("source", None)
    lifted["amount"] = _yuan(payload["amount"])
    lifted["currency"] = payload.get("currency", "CNY")
    lifted["channel"] = payload.get("channel", payload.get("source"))
    return lifted


def _yuan(raw: object) -> str:
    """A v1 amount ("1,234.50", "¥12", "12元", 12.5) as a 2-place decimal string."""
    text = str(raw).replace(",", "").replace("¥", "").replace("元", "").strip()
    return str(Decimal(text).quantize(CENT))
