"""Aggregates: state rebuilt from events, and pure decisions that return new events."""

from domain.aggregates.base import Aggregate
from domain.aggregates.loan import Loan
from domain.aggregates.user import User
from domain.aggregates.wallet import Wallet

AGGREGATE_TYPES: dict[str, type[Aggregate]] = {cls.stream_type: cls for cls in (User, Wallet, Loan)}

__all__ = ["AGGREGATE_TYPES", "Aggregate", "Loan", "User", "Wallet"]
