"""The dashboard's Overview, built server-side as the page builds it (the same loaders,
alert marks and Plotly figures, no Streamlit cache): 20 tiles and the 8 default charts, over
24 h, 7 d and 30 d, on 30 days and on 7 days of simulated history: the median time, and the
ratio between the two histories (roll-ups keep it flat). ``--memory-minutes N`` then runs
the auto-refresh soak of ``bench/dashboard_memory.py``.

    .venv/bin/python -m bench.dashboard [--events 1000000] [--runs 25] [--memory-minutes 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plotly.io
import yaml

from bench import stores
from bench.common import machine_note, median, print_table, timed, verdict
from dashboard import charts
from dashboard.loaders import alerts, marks, overview
from dashboard.tiles import DEFAULT_CHARTS as CHARTS
from dashboard.timerange import TimeRange, preset
from domain.eventstore import EventStore
from domain.eventstore.engine import make_engine
from ingest.alerts.rules import AlertRule
from ingest.checkpoints import load_checkpoint
from ingest.config_loader import load_settings
from ingest.metrics.query import MetricsQuery
from ingest.metrics.windows import parse_duration
from ingest.runtime import bootstrap

OVERVIEW = ["deposits", "deposit_count", "withdrawals", "net_inflow", "investment_volume",
            "investment_count", "average_ticket", "active_investors", "new_users",
            "kyc_pass_rate", "loans_applied", "approval_rate", "loans_disbursed", "repayments",
            "overdue_count", "days_past_due_p95", "withdrawal_failure_rate",
            "settlement_time_p95", "outstanding_principal", "aum"]  # fmt: skip
RANGES = ("24h", "7d", "30d")
TARGET_MS = 300.0
ROOT = Path(__file__).resolve().parents[1]


def bench_config(url: str, name: str) -> Path:
    document = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    document["database"]["url"] = url
    document["dashboard"] = {"overview": OVERVIEW}
    path = stores.sqlite_path(name).with_suffix(".yaml")
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def project(config: Path) -> float:
    """Run the `kpis` group until it is caught up (nothing to do when it already is)."""
    settings = load_settings(config)
    store = EventStore.from_url(settings.database.url)
    try:
        with store.engine.connect() as conn:  # type: ignore[attr-defined]
            done = load_checkpoint(conn, "kpis") >= store.head()
    except Exception:  # no read model yet
        done = False
    finally:
        store.close()
    if done:
        return 0.0
    runtime = bootstrap(settings, only=["kpis"])
    try:
        seconds, ok = timed(lambda: runtime.run(once=True))
    finally:
        runtime.close()
    if not ok:
        raise RuntimeError(f"projection failed: {runtime.failures}")
    return seconds


def build_overview(query: MetricsQuery, span: TimeRange, rules: tuple[AlertRule, ...]) -> int:
    """What dashboard/views/overview.py asks for, uncached: 20 tiles, the default 8 charts,
    each figure serialised as ``st.plotly_chart`` does; returns the charts built."""
    names = tuple(OVERVIEW)
    overview.dimension_values(query, names)
    tiles = overview.tiles(query, names, span, ())
    alerts.tile_states(query.engine, rules)
    start, end = span.datetimes()
    firing = alerts.active_by_metric(
        alerts.transitions(query.engine, start, end), rules, start, end
    )
    step = parse_duration(span.step)
    for tile in tiles[:CHARTS]:
        figure = charts.metric_chart(
            tile.series, title=tile.label, unit=tile.unit, zone=query.zone, level=tile.level,
            thresholds=marks.thresholds(query, rules, tile.name, tile.dim, step),
            firing=firing.get(tile.name, []),
            window=(start, end),
        )  # fmt: skip
        plotly.io.to_json(figure.to_dict(), validate=False)
    return min(len(tiles), CHARTS)


def measure(histories: dict[str, tuple[Path, datetime]], runs: int) -> dict[str, dict[str, float]]:
    """Median milliseconds per history and range, each Overview as of its history's end.
    Runs interleave the histories and ranges, so a change in the machine's load hits all."""
    sources = {}
    for label, (config, _) in histories.items():
        settings = load_settings(config)
        engine = make_engine(settings.read_model_url, pool_size=4, read_only=True)
        sources[label] = (
            MetricsQuery(engine, settings.metrics, settings.business_timezone),
            tuple(settings.alerts.rules),
        )
    spans = {(label, name): preset(name, at) for label, (_, at) in histories.items()
             for name in RANGES}  # fmt: skip
    times: dict[tuple[str, str], list[float]] = {key: [] for key in spans}
    cpu_times: dict[tuple[str, str], list[float]] = {key: [] for key in spans}
    try:
        for (label, _), span in spans.items():  # warm the database's page cache once
            build_overview(sources[label][0], span, sources[label][1])
        for _ in range(runs):
            for (label, name), span in spans.items():
                query, rules = sources[label]
                started, cpu = time.perf_counter(), time.process_time()
                build_overview(query, span, rules)
                times[(label, name)].append(time.perf_counter() - started)
                cpu_times[(label, name)].append(time.process_time() - cpu)
    finally:
        for query, _ in sources.values():
            query.engine.dispose()
    found: dict[str, dict[str, float]] = {label: {} for label in histories}
    for (label, name), taken in times.items():
        found[label][name] = median(taken) * 1000
        found[label][f"{name} cpu"] = median(cpu_times[(label, name)]) * 1000
    return found


def history_end(info: stores.StoreInfo) -> datetime:
    last = datetime.fromisoformat(info.last.replace(" ", "T"))
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    return last.astimezone(UTC) - timedelta(seconds=1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="events in 30 days")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--memory-minutes", type=float, default=0, help="0: no soak")
    args = parser.parse_args(argv)
    print(f"machine: {machine_note()}", flush=True)
    full = stores.generated_store("sqlite", args.events, args.seed)
    histories = {
        "30 d": stores.prefix_store("sqlite", full, full.events, f"dash30_{full.name}"),
        "7 d": stores.prefix_store("sqlite", full, full.events * 7 // 30, f"dash7_{full.name}"),
    }
    prepared = {}
    for label, info in histories.items():
        config = bench_config(info.url, info.name)
        print(f"{label}: {info.events:,} events, {info.first} .. {info.last}; projected in "
              f"{project(config):.0f} s", flush=True)  # fmt: skip
        prepared[label] = (config, history_end(info))
    results = measure(prepared, args.runs)
    rows = []
    for name in RANGES:
        long, short = results["30 d"][name], results["7 d"][name]
        cpu = results["30 d"][f"{name} cpu"]
        rows.append([name, f"{long:.0f} ms", f"{cpu:.0f} ms", f"{short:.0f} ms",
                     f"{long / short:.2f}", f"< {TARGET_MS:.0f} ms",
                     verdict(long < TARGET_MS)])  # fmt: skip
    print_table(
        f"bench/dashboard.py: Overview of {len(OVERVIEW)} metrics, server side, median of "
        f"{args.runs} (load now {os.getloadavg()[0]:.2f})",
        [
            "range",
            "30 d of history",
            "its CPU time",
            "7 d of history",
            "ratio 30 d / 7 d",
            "target",
            "met?",
        ],
        rows,
    )
    if args.memory_minutes > 0:
        from bench.dashboard_memory import soak

        soak(args.memory_minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
