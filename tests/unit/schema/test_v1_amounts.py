"""A version 1 deposit's amount, in every form v1 writers used, lifts to the exact 2-place
decimal that ``Decimal`` gives, and lifting never changes the stored payload."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.upcasting import UPCASTERS, upcast

LIFT = UPCASTERS[("FundsDeposited", 1)]


def by_decimal(raw: object) -> str:
    text = str(raw).replace(",", "").replace("¥", "").replace("元", "").strip()
    return str(Decimal(text).quantize(Decimal("0.01")))


@pytest.mark.parametrize(
    "raw",
    ["1,234.50", "1234.50", "0.50", "00.50", "012.34", "¥12", "12元", "12.5", 12.5, 7, "1e3",
     "-1.00", "+1.00", "1.005", " 7.10 ", "١٢.٣٤", "10.00", "1,000,000.00"],
)  # fmt: skip
def test_every_v1_amount_form_lifts_to_what_decimal_gives(raw: object) -> None:
    lifted = LIFT({"user_id": "U1", "amount": raw, "source": "alipay"})
    assert lifted["amount"] == by_decimal(raw)
    assert lifted["channel"] == "alipay" and lifted["currency"] == "CNY"
    assert "source" not in lifted


def test_a_v1_amount_that_is_no_number_is_refused() -> None:
    with pytest.raises(ArithmeticError):
        LIFT({"user_id": "U1", "amount": "12.3x", "source": "alipay"})


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [("FundsDeposited", {"user_id": "U1", "amount": "1,234.50", "source": "alipay"}),
     ("UserRegistered", {"user_id": "U1", "channel": "app"})],
)  # fmt: skip
def test_lifting_leaves_the_stored_payload_as_it_was(event_type: str, payload: dict) -> None:
    stored = dict(payload)
    lifted = upcast(event_type, 1, payload, 2)
    assert payload == stored
    assert lifted is not payload


def test_a_payload_at_its_version_comes_back_as_a_dict_of_its_own() -> None:
    payload = {"user_id": "U1", "channel": "app", "referrer": None}
    copied = upcast("UserRegistered", 2, payload, 2)
    assert copied == payload and copied is not payload
