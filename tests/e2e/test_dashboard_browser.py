"""The dashboard in a real browser (fixtures in conftest.py): every page opened in headless
Chromium over a seeded database that a running ingest keeps; the KPI values shown equal the
query API's, the charts draw, and no page shows an exception. Screenshots go to each
test's tmp_path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from dashboard import format as fmt
from dashboard.timerange import custom
from domain.eventstore.sql import SqlEventStore
from ingest.alerts.tables import states
from ingest.config_loader import load_settings
from ingest.metrics.query import MetricsQuery
from tests.e2e.conftest import NOW, WAIT_S, Served, visit

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RANGE = "range=custom&from=2024-06-30T10:00&to=2024-06-30T14:00"  # Shanghai time
SPAN = custom(NOW - timedelta(hours=4), NOW)


def query_api(served: Served) -> tuple[MetricsQuery, SqlEventStore]:
    settings = load_settings(served.config)
    store = SqlEventStore.open(settings.database.url)
    return MetricsQuery(store.engine, settings.metrics, settings.business_timezone), store


def test_the_overview_shows_the_query_apis_figures_and_draws_its_charts(
    served: Served, browser: Browser, tmp_path: Path
):
    page = visit(browser, f"{served.url}/?{RANGE}", "svg.main-svg", tmp_path / "overview.png")
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    query, store = query_api(served)
    try:
        names = load_settings(served.config).dashboard.overview
        expected = {
            query.metric(name).title: fmt.figure(
                query.value_between(name, SPAN.start, SPAN.end), query.metric(name).unit
            )
            for name in names
        }
    finally:
        store.close()
    shown = {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}
    assert shown == expected
    assert len(shown) == 8 and fmt.NONE not in shown.values()
    page.wait_for_function(
        f"document.querySelectorAll('svg.main-svg').length >= {2 * len(expected)}",
        timeout=WAIT_S * 1000,
    )  # every chart drawn (a plotly chart is two svg layers)
    assert "Demo mode, no login" in page.inner_text("body")


def test_the_pipeline_page_shows_every_group_caught_up_and_the_dead_letters(
    served: Served, browser: Browser, tmp_path: Path
):
    page = visit(browser, f"{served.url}/pipeline?{RANGE}", "svg.main-svg",
                 tmp_path / "pipeline.png")  # fmt: skip
    _query, store = query_api(served)
    try:
        head = store.head().position
    finally:
        store.close()
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == f"{head:,}"
    assert "Dead letters" in page.inner_text("body")
    assert page.locator('[data-testid="stExpander"]').count() >= 1  # parked KYC rejections


def test_the_audit_page_rebuilds_an_aggregates_state(
    served: Served, browser: Browser, tmp_path: Path
):
    page = visit(browser, f"{served.url}/audit?{RANGE}&kind=wallet&id=U000001",
                 '[data-testid="stJson"]', tmp_path / "audit.png")  # fmt: skip
    assert "wallet-U000001:" in page.inner_text("body")
    assert page.locator('[data-testid="stSlider"]').count() == 1


def test_an_id_written_as_sql_finds_nothing_in_the_browser_either(
    served: Served, browser: Browser, tmp_path: Path
):
    typed = quote("' OR 1=1 --")
    page = visit(browser, f"{served.url}/audit?kind=user&id={typed}",
                 '[data-testid="stAlert"]', tmp_path / "injection.png")  # fmt: skip
    assert "No events for" in page.inner_text("body")


def test_the_alerts_page_shows_the_rules_states(served: Served, browser: Browser, tmp_path: Path):
    page = visit(browser, f"{served.url}/alerts?{RANGE}", '[data-testid="stDataFrame"]',
                 tmp_path / "alerts.png")  # fmt: skip
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert [label.strip() for label in labels] == ["Firing", "Pending", "Silenced"]
    values = [int(v) for v in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]
    _query, store = query_api(served)
    try:
        with store.engine.connect() as conn:
            stored = [row.state for row in conn.execute(select(states.c.state))]
    finally:
        store.close()
    assert len(stored) == len(load_settings(served.config).alerts.rules)  # all evaluated
    firing = sum(state in ("firing", "recovering") for state in stored)
    assert values[:2] == [firing, stored.count("pending")]
