"""Where the event store lives: ``database.url`` in config.yaml, overridden by the environment.

Layered like every LedgerLens setting: built-in default -> config file -> environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG = Path("config.yaml")
DEFAULT_DATABASE_URL = "sqlite:///data/ledgerlens.db"
DATABASE_URL_ENV = "LEDGERLENS_DATABASE_URL"


def database_url(config: Path | None = DEFAULT_CONFIG, raw: dict[str, Any] | None = None) -> str:
    """The event store URL: $LEDGERLENS_DATABASE_URL, else config's database.url, else SQLite."""
    from_env = os.environ.get(DATABASE_URL_ENV)
    if from_env:
        return from_env
    if raw is None and config is not None and config.exists():
        raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    database = (raw or {}).get("database") or {}
    url = database.get("url") if isinstance(database, dict) else None
    return str(url) if url else DEFAULT_DATABASE_URL
