"""`python -m ingest alerts` (current states) and `python -m ingest silence add|list|expire`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, select

from domain.eventstore.engine import WRITE, make_engine
from domain.settings import database_url
from ingest.alerts import tables as st
from ingest.alerts.hours import duration_seconds
from ingest.alerts.silences import add_silence, expire_silence, list_silences
from ingest.readmodel import create_read_model
from ingest.settings import Settings


def fallback_settings(path: Path) -> Settings | None:
    """Just where the databases are, read leniently from a file that fails validation, so
    `status` and `alerts` still show the running ingest (and its refusal of that file)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        raw = None
    raw = raw if isinstance(raw, dict) else {}
    read_model: Any = raw.get("read_model")
    read_model = read_model if isinstance(read_model, dict) else {}
    document = {"database": {"url": database_url(None, raw)},
                "read_model": {"url": read_model.get("url")}}  # fmt: skip
    try:
        return Settings.model_validate(document)
    except ValidationError:
        return None


def add_parsers(commands: Any) -> None:
    alerts = commands.add_parser("alerts", help="every alert rule's current state")
    alerts.add_argument("--json", action="store_true")
    silence = commands.add_parser("silence", help="mute an alert's notifications for a while")
    actions = silence.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="silence RULE (optionally only alerts with labels)")
    add.add_argument("rule")
    add.add_argument("--labels", nargs="*", default=[], metavar="K=V")
    add.add_argument("--for", dest="duration", required=True, help="30m, 2h, 1d ...")
    add.add_argument("--reason", required=True)
    listing = actions.add_parser("list", help="running silences (--all: ended ones too)")
    listing.add_argument("--all", action="store_true")
    listing.add_argument("--json", action="store_true")
    expire = actions.add_parser("expire", help="end a silence now")
    expire.add_argument("id", type=int)


@contextmanager
def _database(settings: Settings, *, write: bool) -> Iterator[Connection]:
    engine: Engine = make_engine(
        settings.read_model_url, pool_size=2, application_name="ledgerlens-alerts-cli"
    )
    try:
        create_read_model(engine, st.metadata)
        with engine.connect() as conn:
            if write:
                conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn
    finally:
        engine.dispose()


def show_alerts(settings: Settings, args: argparse.Namespace) -> int:
    with _database(settings, write=False) as conn:
        rows = [
            dict(r) for r in conn.execute(select(st.states).order_by(st.states.c.rule)).mappings()
        ]
    if args.json:
        print(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
        return 0
    if not rows:
        print("no alert has been evaluated yet: start `python -m ingest run`")
    for row in rows:
        flags = "".join(f" [{f}]" for f in ("stale", "silenced") if row[f])
        since = row["since"].isoformat() if row["since"] else "-"
        print(f"{row['rule']:<32} {row['state']:<10} since {since}{flags}  {row['summary']}")
        if row["detail"]:
            print(f"{'':<32} {row['detail']}")
    return 0


def silence(settings: Settings, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if args.action == "add":
        return _add(settings, args, now)
    if args.action == "expire":
        with _database(settings, write=True) as conn:
            ended = expire_silence(conn, args.id, now)
        print(f"silence #{args.id} expired" if ended else f"no running silence #{args.id}")
        return 0 if ended else 1
    with _database(settings, write=False) as conn:
        found = list_silences(conn, now, include_ended=args.all)
    if args.json:
        print(json.dumps([s.__dict__ for s in found], indent=2, default=str, ensure_ascii=False))
    elif not found:
        print("no running silence" if not args.all else "no silence")
    for s in [] if args.json else found:
        labels = " ".join(f"{k}={v}" for k, v in s.matchers.items())
        state = "running" if s.active(now) else "ended"
        print(
            f"#{s.id} {s.rule} {labels} {state} until {s.ends_at.isoformat()} "
            f"by {s.created_by}: {s.reason}"
        )
    return 0


def _add(settings: Settings, args: argparse.Namespace, now: datetime) -> int:
    try:
        settings.alerts.rule(args.rule)
        seconds = duration_seconds(args.duration)
        matchers = dict(_pair(text) for text in args.labels)
    except (KeyError, ValueError) as exc:
        print(f"silence: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    try:
        with _database(settings, write=True) as conn:
            silence_id = add_silence(
                conn, args.rule, matchers, timedelta(seconds=seconds), args.reason, now
            )
    except ValueError as exc:
        print(f"silence: {exc}", file=sys.stderr)
        return 2
    until = (now + timedelta(seconds=seconds)).isoformat()
    print(f"silence #{silence_id}: {args.rule} muted until {until}")
    return 0


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"--labels takes K=V pairs, not {text!r}")
    return key, value
