"""``python -m domain simulate``: drive the platform through commands, like real clients."""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Sequence
from pathlib import Path

from domain.eventstore import EventStore
from domain.settings import DEFAULT_CONFIG, database_url
from domain.simulator.scenario import (
    DEFAULT_BACKFILL_RATE,
    DEFAULT_LIVE_CYCLE,
    DEFAULT_LIVE_RATE,
    Scenario,
    ScenarioError,
    business_timezone,
    parse_duration,
    parse_incident,
    parse_time,
)
from domain.simulator.session import Simulation


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m domain simulate",
        description="Simulated clients drive the platform through commands only: "
        "registrations, KYC, deposits, investments, loans, repayments, withdrawals.",
    )
    add = parser.add_argument
    add(
        "--rate",
        type=float,
        default=DEFAULT_LIVE_RATE,
        metavar="EVENTS_PER_S",
        help="live: events per wall-clock second (daily mean; default 20)",
    )
    add(
        "--duration",
        default=None,
        metavar="DURATION",
        help="live phase length, e.g. 10m (default: until Ctrl-C; 0: no live phase)",
    )
    add(
        "--backfill",
        default=None,
        metavar="DURATION",
        help="first write this much history with past timestamps, e.g. 7d",
    )
    add(
        "--backfill-rate",
        type=float,
        default=DEFAULT_BACKFILL_RATE,
        metavar="EVENTS_PER_S",
        help="backfill density in events per simulated second (default: ~200k per 7 days)",
    )
    add(
        "--backfill-until",
        default=None,
        metavar="ISO_TIME",
        help="end the backfill here instead of now (reproducible histories); no catch-up",
    )
    add("--seed", type=int, default=None, help="random seed (default: a random one, printed)")
    add(
        "--incident",
        action="append",
        default=[],
        metavar="KIND@START:LENGTH",
        help="payment-outage[:CHANNEL] or marketing-campaign, e.g. payment-outage@+5m:10m; "
        "START is +DURATION (after the live start), -DURATION (before now) or an ISO time; "
        "repeatable",
    )
    add(
        "--live-cycle",
        type=float,
        default=DEFAULT_LIVE_CYCLE,
        metavar="STRENGTH",
        help="live: how strongly the daily cycle shapes the rate, 0 (flat, e.g. for a load "
        f"test) to 1 (the full curve); default {DEFAULT_LIVE_CYCLE}",
    )
    add(
        "--installment-every",
        default="1d",
        metavar="DURATION",
        help="simulated time per loan installment (a compressed loan month; default 1d)",
    )
    add(
        "--config",
        default=str(DEFAULT_CONFIG),
        metavar="PATH",
        help="config file: database.url and business_timezone (default config.yaml)",
    )
    add(
        "--chunk",
        type=int,
        default=2_000,
        metavar="COMMANDS",
        help="backfill: commands per transaction (default 2000)",
    )
    add(
        "--report-every",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="live: seconds between progress lines (default 5)",
    )
    add("--no-progress", action="store_true", help="no backfill progress bar")
    return parser


def parse_options(argv: Sequence[str]) -> tuple[argparse.Namespace, Scenario]:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.chunk < 1:
            raise ScenarioError(f"--chunk must be at least 1, got {args.chunk}")
        timezone = business_timezone(Path(args.config))
        args.duration = (
            None if args.duration is None else parse_duration(args.duration, "--duration")
        )
        args.backfill = (
            None if args.backfill is None else parse_duration(args.backfill, "--backfill")
        )
        scenario = Scenario(
            seed=secrets.randbelow(2**31) if args.seed is None else args.seed,
            rate=args.rate,
            backfill_rate=args.backfill_rate,
            installment_every=parse_duration(args.installment_every, "--installment-every"),
            incidents=tuple(parse_incident(text, timezone) for text in args.incident),
            timezone=timezone,
            live_cycle=args.live_cycle,
        )
        if args.backfill_until is not None:
            args.backfill_until = parse_time(
                args.backfill_until, "--backfill-until is not an ISO time", timezone
            )
    except ScenarioError as exc:
        parser.error(str(exc))
    return args, scenario


def main(argv: Sequence[str]) -> int:
    args, scenario = parse_options(argv)
    url = database_url(Path(args.config))
    print(f"simulating into {url} with --seed {scenario.seed}")
    store = EventStore.from_url(url, application_name="ledgerlens-simulator")
    simulation = Simulation(
        store,
        scenario,
        now=args.backfill_until,
        chunk=args.chunk,
        progress=not args.no_progress,
        report_every=args.report_every,
    )
    try:
        simulation.run(backfill=args.backfill, duration=args.duration)
    except KeyboardInterrupt:
        print("\ninterrupted; every completed transaction is kept")
    finally:
        summary = simulation.summary()
        if summary:
            print(summary)
        store.close()
    return 0
