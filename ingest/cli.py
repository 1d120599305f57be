"""`python -m ingest …`: run, status, replay, dead-letters, query, alerts, silence,
check-config."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from domain.eventstore.engine import WRITE, make_engine
from ingest import dead_letters as dl
from ingest.alerts import cli as alerts_cli
from ingest.alerts.config_status import format_config_status, read_config_status
from ingest.config_loader import ConfigError, load_settings
from ingest.metrics import jsonout
from ingest.metrics.query import MetricsQuery, QueryError
from ingest.metrics.windows import WindowError
from ingest.projection import load_projection
from ingest.rebuild import replay_requested, request_replay
from ingest.redelivery import lock_group, retry_dead_letters
from ingest.report import format_report, group_report
from ingest.runtime import Runtime, bootstrap
from ingest.settings import Settings
from ingest.status import is_alive, read_status_rows

CONFIG_ENV = "LEDGERLENS_CONFIG"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LEDGERLENS_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "check-config":
        return _check_config(Path(args.file or args.config))
    try:
        settings = load_settings(Path(args.config))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        fallback = alerts_cli.fallback_settings(Path(args.config))
        if args.command not in ("status", "alerts") or fallback is None:
            return 2
        print("showing the running ingest anyway (it keeps the last good config)", file=sys.stderr)
        {"status": _status, "alerts": alerts_cli.show_alerts}[args.command](fallback, args)
        return 2
    handler = {
        "run": _run,
        "status": _status,
        "replay": _replay,
        "dead-letters": _dead_letters,
        "query": _query,
        "alerts": alerts_cli.show_alerts,
        "silence": alerts_cli.silence,
    }[args.command]
    return handler(settings, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("--config", default=os.environ.get(CONFIG_ENV, "config.yaml"))
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every processing group")
    run.add_argument("--once", action="store_true", help="exit when every group is caught up")
    run.add_argument("--group", action="append", help="run only this group (repeatable)")
    status = commands.add_parser("status", help="position, lag and state of every group")
    status.add_argument("--json", action="store_true")
    replay = commands.add_parser("replay", help="rebuild a group's read model from position 0")
    replay.add_argument("--group", required=True)
    replay.add_argument("--no-wait", action="store_true", help="request it and return")
    letters = commands.add_parser("dead-letters", help="list, retry or discard dead letters")
    letters.add_argument("action", choices=["list", "retry", "discard"])
    letters.add_argument("--group")
    letters.add_argument("--id", type=int, action="append", dest="ids")
    letters.add_argument("--stream")
    letters.add_argument("--json", action="store_true")
    query = commands.add_parser("query", help="a metric's value over a window, or a series")
    query.add_argument("metric")
    query.add_argument("--window", help="5m, 1h, 24h, 7d, today, yesterday, this_week ...")
    query.add_argument("--at", type=_timestamp, help="window end (ISO-8601; default now)")
    query.add_argument("--from", dest="start", type=_timestamp, help="series start (ISO-8601)")
    query.add_argument("--to", dest="end", type=_timestamp, help="series end (default now)")
    query.add_argument("--step", default="1h", help="series step: 1m, 5m, 1h, 1d ...")
    query.add_argument("--by", help="split a series by the metric's dimension")
    query.add_argument("--dim", help="a window value for one value of the dimension")
    query.add_argument("--json", action="store_true")
    alerts_cli.add_parsers(commands)
    check = commands.add_parser("check-config", help="validate a config file offline")
    check.add_argument("file", nargs="?")
    return parser


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _query(settings: Settings, args: argparse.Namespace) -> int:
    if (args.window is None) == (args.start is None):
        print("query needs either --window W or --from T [--to T] [--step S]", file=sys.stderr)
        return 2
    engine = make_engine(
        settings.read_model_url, pool_size=2, application_name="ledgerlens-query", read_only=True
    )
    try:
        metrics = MetricsQuery.from_settings(engine, settings)
        if args.window is not None:
            value = metrics.value(args.metric, args.window, args.at, dim=args.dim)
            document: dict[str, Any] = {"metric": args.metric, "window": args.window,
                                        "value": value}  # fmt: skip
            print(jsonout.dumps(document) if args.json else f"{args.metric} {args.window}: {value}")
            return 0
        points = metrics.series(
            args.metric, args.start, args.end or datetime.now(UTC), args.step, by=args.by
        )
        if args.json:
            rows = [{"start": p.start, "value": p.value, "by": p.by} for p in points]
            print(jsonout.dumps({"metric": args.metric, "points": rows}))
        else:
            for point in points:
                label = f" {point.by}" if point.by is not None else ""
                print(f"{point.start.isoformat()}{label}  {point.value}")
        return 0
    except (QueryError, WindowError) as exc:
        print(f"query: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _check_config(path: Path) -> int:
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"{path}: OK ({len(settings.groups)} processing groups, {len(settings.metrics)} metrics, "
        f"{len(settings.alerts.rules)} alert rules)"
    )
    for sink in settings.alerts.notify.sinks:
        if sink.url_env is not None and not os.environ.get(sink.url_env):
            print(f"  note: sink {sink.label}: ${sink.url_env} is not set here (it sends nothing)")
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    runtime = bootstrap(settings, only=args.group, config_path=Path(args.config))
    _stop_on_signals(runtime)
    try:
        ok = runtime.run(once=args.once)
    finally:
        runtime.close()
    for name, exc in runtime.failures.items():
        print(f"group {name} gave up: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 0 if ok else 1


def _stop_on_signals(runtime: Runtime) -> None:
    def stop(_signum: int, _frame: object) -> None:
        runtime.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _status(settings: Settings, args: argparse.Namespace) -> int:
    runtime = bootstrap(settings)
    try:
        report = group_report(runtime.store, runtime.engine)
        with runtime.engine.connect() as conn:
            config = read_config_status(conn)
    finally:
        runtime.close()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    elif not report:
        print("no processing group has run yet: start `python -m ingest run`")
    else:
        print(format_report(report))
    if not args.json:
        print(format_config_status(config))
    return 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    runtime = bootstrap(settings, only=[args.group])
    try:
        with runtime.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                request_replay(conn, args.group)
            rows = {row["group_name"]: row for row in read_status_rows(conn)}
        running_elsewhere = args.group in rows and is_alive(rows[args.group])
        if args.no_wait:
            print(f"replay of {args.group} requested")
            return 0
        if not running_elsewhere:
            print(f"no running ingest owns {args.group}: replaying in this process")
        elif _follow_replay(runtime, args.group):
            return 0
        else:
            print(f"the ingest running {args.group} stopped: replaying in this process")
        _stop_on_signals(runtime)
        return 0 if runtime.run(once=True) else 1
    finally:
        runtime.close()


def _follow_replay(runtime: Runtime, group: str) -> bool:
    """Show the owning ingest's progress; True when done, False if that ingest went away."""
    head = runtime.store.head().position
    with tqdm(total=head, desc=f"replay {group}", unit="pos") as bar:
        while True:
            with runtime.engine.connect() as conn:
                pending = replay_requested(conn, group)
                row = next((r for r in read_status_rows(conn) if r["group_name"] == group), None)
            progress = (row or {}).get("replay") or {}
            bar.total = max(bar.total or 0, int(progress.get("live_position", head)))
            bar.n = int(progress.get("position", bar.n))
            bar.refresh()
            if not pending:
                bar.n = bar.total or 0
                bar.refresh()
                return True
            if row is None or not is_alive(row):
                return False
            time.sleep(0.5)


def _dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    runtime = bootstrap(settings, only=[args.group] if args.group else None)
    try:
        if args.action == "list":
            with runtime.engine.connect() as conn:
                letters = dl.list_dead_letters(conn, args.group)
            _print_letters(letters, as_json=args.json)
            return 0
        if not args.group:
            print("--group is required to retry or discard", file=sys.stderr)
            return 2
        if args.action == "retry":
            group = settings.group(args.group)
            projection = load_projection(
                group.handler, group.options, settings=settings, group=group
            )
            result = retry_dead_letters(
                runtime.store, runtime.engine, args.group, projection,
                ids=args.ids, stream_id=args.stream,
            )  # fmt: skip
            print(f"retried {len(result.retried)}, still failing {len(result.failed)}")
            for letter_id, error in result.failed.items():
                print(f"  #{letter_id}: {error}")
            return 0 if not result.failed else 1
        if not (args.ids or args.stream):
            print("discard needs --id N (repeatable) or --stream S", file=sys.stderr)
            return 2
        with runtime.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                lock_group(conn, args.group)  # so a running batch cannot park one more meanwhile
                chosen = [
                    letter.id
                    for letter in dl.list_dead_letters(conn, args.group)
                    if (args.ids and letter.id in args.ids) or letter.stream_id == args.stream
                ]
                discarded = dl.resolve(conn, chosen, dl.DISCARDED)
        print(f"discarded {discarded}")
        return 0
    finally:
        runtime.close()


def _print_letters(letters: list[dl.DeadLetter], *, as_json: bool) -> None:
    if as_json:
        documents: list[dict[str, Any]] = [letter.__dict__ for letter in letters]
        print(json.dumps(documents, indent=2, default=str))
        return
    if not letters:
        print("no dead letters")
    for letter in letters:
        print(
            f"#{letter.id} {letter.group_name} {letter.state} position {letter.position} "
            f"{letter.stream_id} v{letter.version} {letter.event_type}: {letter.reason}"
            + (f" — {letter.error}" if letter.error else "")
        )
