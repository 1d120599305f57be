"""Issue 7: ``MetricsQuery.series_many`` over 30 days (step 1h) for 20 metrics (one read)
vs one direct ``GROUP BY`` over the events table answering the same 20 series (checked
equal)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import median, timed
from bench.databases import connect
from domain.eventstore.engine import make_engine
from ingest.config_loader import load_settings
from ingest.metrics.query import MetricsQuery

WINDOW = timedelta(days=30)
HOUR = 3600
# metric -> (event types, payload field or None for a count); derived ones combine these
DIRECT: dict[str, tuple[tuple[str, ...], str | None]] = {
    "deposits": (("FundsDeposited",), "amount"),
    "deposit_count": (("FundsDeposited",), None),
    "withdrawals": (("WithdrawalCompleted",), "amount"),
    "investment_volume": (("InvestmentReceived",), "amount"),
    "investment_count": (("InvestmentReceived",), None),
    "new_users": (("UserRegistered",), None),
    "kyc_passed": (("KycVerified",), None),
    "kyc_decisions": (("KycVerified", "KycRejected"), None),
    "loans_applied": (("LoanApplied",), None),
    "loans_approved": (("LoanApproved",), None),
    "loan_decisions": (("LoanApproved", "LoanRejected"), None),
    "loans_disbursed": (("LoanDisbursed",), "amount"),
    "repayments": (("RepaymentReceived",), "principal"),
    "repayment_interest": (("RepaymentReceived",), "interest"),
    "overdue_count": (("RepaymentOverdue",), None),
    "withdrawals_requested": (("WithdrawalRequested",), None),
}
DERIVED = ("net_inflow", "average_ticket", "kyc_pass_rate", "approval_rate")
METRICS = (*DIRECT, *DERIVED)  # 20
EVENT_TYPES = sorted({t for types, _ in DIRECT.values() for t in types})


@dataclass(frozen=True)
class QueryResult:
    series_s: float
    direct_s: float
    points: int
    rows_in_window: int


def window_end(last_occurred: str) -> datetime:
    last = datetime.fromisoformat(last_occurred).astimezone(UTC)
    return last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def run_series(query: MetricsQuery, start: datetime, end: datetime) -> dict[str, list[Any]]:
    return query.series_many(METRICS, start, end, "1h")


def _fen_sql(postgres: bool, field: str) -> str:
    if postgres:
        return f"sum(round((payload->>'{field}')::numeric * 100))::bigint"
    return f"sum(CAST(round(CAST(json_extract(payload, '$.{field}') AS REAL) * 100) AS INTEGER))"


def direct(conn: Any, postgres: bool, start: datetime, end: datetime) -> dict[str, dict[int, Any]]:
    """The same 20 hourly series from one GROUP BY over the events."""
    if postgres:
        hour = "(floor(extract(epoch FROM occurred_at) / 3600) * 3600)::bigint"
        bounds: tuple[Any, ...] = (start, end)
        mark = "%s"
    else:
        hour = "CAST(strftime('%s', substr(occurred_at, 1, 19)) AS INTEGER) / 3600 * 3600"
        bounds = tuple(m.isoformat(timespec="microseconds") for m in (start, end))
        mark = "?"
    types = ", ".join(f"'{t}'" for t in EVENT_TYPES)
    sql = (
        f"SELECT event_type, {hour} AS hour, count(*), {_fen_sql(postgres, 'amount')}, "
        f"{_fen_sql(postgres, 'principal')}, {_fen_sql(postgres, 'interest')} FROM events "
        f"WHERE occurred_at >= {mark} AND occurred_at < {mark} AND event_type IN ({types}) "
        "GROUP BY 1, 2"
    )
    grouped = {(r[0], int(r[1])): r[2:] for r in conn.execute(sql, bounds).fetchall()}
    out: dict[str, dict[int, Any]] = {}
    column = {None: 0, "amount": 1, "principal": 2, "interest": 3}
    for metric, (event_types, field) in DIRECT.items():
        series: dict[int, Any] = defaultdict(int)
        for (event_type, at), values in grouped.items():
            if event_type in event_types:
                series[at] += int(values[column[field]] or 0)
        out[metric] = (
            dict(series) if field is None
            else {at: Decimal(v).scaleb(-2) for at, v in series.items()}
        )  # fmt: skip
    hours = range(int(start.timestamp()), int(end.timestamp()), HOUR)
    dep, wd = out["deposits"], out["withdrawals"]
    out["net_inflow"] = {h: dep.get(h, 0) - wd.get(h, 0) for h in hours}
    vol, cnt = out["investment_volume"], out["investment_count"]
    out["average_ticket"] = {h: vol[h] / cnt[h] for h in cnt}
    out["kyc_pass_rate"] = _ratio(out["kyc_passed"], out["kyc_decisions"])
    out["approval_rate"] = _ratio(out["loans_approved"], out["loan_decisions"])
    return out


def _ratio(a: dict[int, Any], b: dict[int, Any]) -> dict[int, float]:
    return {h: float(Decimal(a.get(h, 0)) / Decimal(v)) for h, v in b.items() if v}


def check_same(series: dict[str, list[Any]], expected: dict[str, dict[int, Any]]) -> None:
    """Every count and sum series must equal the direct answer hour by hour."""
    for metric in DIRECT:
        got = {int(p.start.timestamp()): p.value or 0 for p in series[metric]}
        want = expected[metric]
        wrong = [h for h in got if got[h] != want.get(h, 0)]
        if wrong or set(want) - set(got):
            raise AssertionError(f"{metric}: MetricsQuery and GROUP BY differ at {wrong[:3]}")


def measure(
    url: str, last_occurred: str, config: Path, runs: int, window: timedelta = WINDOW
) -> QueryResult:
    """Median times of both ways over the ``window`` ending at the store's last hour."""
    settings = load_settings(config)
    end = window_end(last_occurred)
    start = end - window
    postgres = not url.startswith("sqlite")
    engine = make_engine(url, pool_size=2, application_name="bench-query")
    query = MetricsQuery.from_settings(engine, settings)
    try:
        with connect(url) as conn:
            series = run_series(query, start, end)
            check_same(series, direct(conn, postgres, start, end))
            series_times, direct_times = [], []
            for _ in range(runs):  # interleaved: a change in the machine's load hits both
                series_times.append(timed(lambda: run_series(query, start, end))[0])
                direct_times.append(timed(lambda: direct(conn, postgres, start, end))[0])
            mark = "%s" if postgres else "?"
            bounds = (start, end) if postgres else tuple(
                m.isoformat(timespec="microseconds") for m in (start, end))  # fmt: skip
            in_window = conn.execute(
                f"SELECT count(*) FROM events WHERE occurred_at >= {mark} AND occurred_at < {mark}",
                bounds,
            ).fetchone()[0]
    finally:
        engine.dispose()
    points = sum(len(v) for v in series.values())
    return QueryResult(median(series_times), median(direct_times), points, int(in_window))
