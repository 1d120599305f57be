"""Whether the read model is there to be read: a fresh database, before ingest has created
its tables (or before the file exists at all), gets a message instead of an error."""

from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError

from ingest.event_counts import event_counts
from ingest.metrics.storage import buckets, rollups
from ingest.readmodel import status

REQUIRED = (status.name, buckets.name, rollups.name, event_counts.name)


def not_ready(engine: Engine) -> str | None:
    """None when every table the pages read exists; otherwise what is missing."""
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
    except DBAPIError as exc:
        return f"cannot open the read-model database: {exc.orig or exc}"
    missing = [table for table in REQUIRED if table not in present]
    if missing:
        return f"the read model has no {', '.join(missing)} yet"
    return None
