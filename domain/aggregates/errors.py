"""Why a command was rejected: each error names the broken rule in its message.

Every error is a ``DomainError``; a command that raises one appends nothing.
"""

from __future__ import annotations

from domain.errors import DomainError, InvalidAmountError


class InvalidCommandError(DomainError):
    """A field outside its allowed values: a channel, product, term, rate, id or reason."""


class NotFoundError(DomainError):
    """The command names something that does not exist."""


class UnknownUserError(NotFoundError): ...


class UnknownLoanError(NotFoundError): ...


class UnknownWithdrawalError(NotFoundError): ...


class AlreadyExistsError(DomainError):
    """The command would create something that exists already."""


class DuplicateUserError(AlreadyExistsError): ...


class DuplicateLoanError(AlreadyExistsError): ...


class DuplicateWithdrawalError(AlreadyExistsError): ...


class InsufficientFundsError(DomainError):
    """The wallet's available balance (balance minus held withdrawals) is too small."""


class KycRequiredError(DomainError):
    """Only users whose KYC was verified may invest."""


class LoanOverfundedError(DomainError):
    """An investment larger than what the loan still needs."""


class InvalidTransitionError(DomainError):
    """The aggregate is not in a state where the command is allowed."""


class LoanClosedError(InvalidTransitionError):
    """The loan is settled, defaulted or rejected: nothing more can happen to it."""


class WithdrawalClosedError(InvalidTransitionError):
    """The withdrawal was already completed or failed."""


class KycAlreadyDecidedError(InvalidTransitionError):
    """KYC is decided once: verified or rejected."""


__all__ = [
    "AlreadyExistsError",
    "DomainError",
    "DuplicateLoanError",
    "DuplicateUserError",
    "DuplicateWithdrawalError",
    "InsufficientFundsError",
    "InvalidAmountError",
    "InvalidCommandError",
    "InvalidTransitionError",
    "KycAlreadyDecidedError",
    "KycRequiredError",
    "LoanClosedError",
    "LoanOverfundedError",
    "NotFoundError",
    "UnknownLoanError",
    "UnknownUserError",
    "UnknownWithdrawalError",
    "WithdrawalClosedError",
]
