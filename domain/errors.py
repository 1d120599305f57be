"""Domain errors: a rejected command raises one of these and appends nothing."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a business rule; the message says which and why."""


class InvalidAmountError(DomainError):
    """An amount that is not a positive CNY figure with at most two decimal places."""
