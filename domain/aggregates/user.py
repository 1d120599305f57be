"""The user: registration through a channel, then one KYC decision."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.aggregates.base import Aggregate, require_choice, require_id, require_reason
from domain.aggregates.errors import (
    DuplicateUserError,
    InvalidCommandError,
    KycAlreadyDecidedError,
    KycRequiredError,
    UnknownUserError,
)
from domain.events import DomainEvent, KycRejected, KycVerified, UserRegistered

USER_CHANNELS = ("app", "web", "partner")
KYC_PENDING, KYC_VERIFIED, KYC_REJECTED = "pending", "verified", "rejected"


class User(Aggregate):
    stream_type: ClassVar[str] = "user"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.registered = False
        self.channel: str | None = None
        self.referrer: str | None = None
        self.kyc = KYC_PENDING
        self.kyc_reason: str | None = None

    # --- decisions ----------------------------------------------------------------------

    def register(self, channel: str, referrer: str | None) -> list[DomainEvent]:
        require_id(self.id, "user_id")
        if self.registered:
            raise DuplicateUserError(f"user {self.id} is already registered")
        require_choice(channel, USER_CHANNELS, "registration channel")
        if referrer is not None:
            require_id(referrer, "referrer")
            if referrer == self.id:
                raise InvalidCommandError(f"user {self.id} cannot refer themselves")
        return [UserRegistered(user_id=self.id, channel=channel, referrer=referrer)]

    def verify_kyc(self) -> list[DomainEvent]:
        self._require_kyc_pending()
        return [KycVerified(user_id=self.id)]

    def reject_kyc(self, reason: str) -> list[DomainEvent]:
        self._require_kyc_pending()
        return [KycRejected(user_id=self.id, reason=require_reason(reason))]

    def require_registered(self) -> None:
        if not self.registered:
            raise UnknownUserError(f"unknown user {self.id!r}")

    def require_kyc_verified(self) -> None:
        self.require_registered()
        if self.kyc != KYC_VERIFIED:
            raise KycRequiredError(f"user {self.id} cannot invest: KYC is {self.kyc}")

    def _require_kyc_pending(self) -> None:
        self.require_registered()
        if self.kyc != KYC_PENDING:
            raise KycAlreadyDecidedError(f"KYC of user {self.id} was already {self.kyc}")

    # --- state --------------------------------------------------------------------------

    def when(self, event: DomainEvent) -> None:
        match event:
            case UserRegistered():
                self.registered = True
                self.channel, self.referrer = event.channel, event.referrer
            case KycVerified():
                self.kyc, self.kyc_reason = KYC_VERIFIED, None
            case KycRejected():
                self.kyc, self.kyc_reason = KYC_REJECTED, event.reason
            case _:
                raise TypeError(f"User cannot apply {type(event).__name__}")

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "registered": self.registered,
            "channel": self.channel,
            "referrer": self.referrer,
            "kyc": self.kyc,
            "kyc_reason": self.kyc_reason,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.registered = bool(state["registered"])
        self.channel, self.referrer = state["channel"], state["referrer"]
        self.kyc, self.kyc_reason = state["kyc"], state["kyc_reason"]
