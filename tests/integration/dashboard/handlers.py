"""A projection that refuses rejected KYC checks, so its `dead_letter` group parks them
(and the later events of their streams): real dead letters for the Pipeline page."""

from __future__ import annotations

from sqlalchemy import Connection

from domain.eventstore import RecordedEvent
from ingest.projection import EventHandler

HANDLER = "tests.integration.dashboard.handlers:RefusesKycRejections"


class KycRejectionRefusedError(ValueError):
    pass


class RefusesKycRejections(EventHandler):
    def handle(self, event: RecordedEvent, conn: Connection, generation: int) -> None:
        if event.event_type == "KycRejected":
            raise KycRejectionRefusedError(f"cannot file the rejection of {event.stream_id}")
