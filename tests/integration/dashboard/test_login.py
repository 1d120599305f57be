"""Login: who may open which page, in the real app."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest

from dashboard.session import DEMO_BANNER
from ingest.cli import CONFIG_ENV
from tests.integration.dashboard.apptest import RANGE, app, open_page, run, texts
from tests.integration.dashboard.world import World, config_document, write_config

PASSWORDS = {"wang": "yuan-2024", "li": "ops-pass"}


def hashed(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


@pytest.fixture
def with_login(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = [{"name": "wang", "role": "business", "password_hash": hashed(PASSWORDS["wang"])}]
    document = config_document(world.url, auth={"users": users})
    monkeypatch.setenv(CONFIG_ENV, str(write_config(tmp_path / "config.yaml", document)))
    monkeypatch.setenv("LEDGERLENS_DASHBOARD_USERS", f"li:ops:{hashed(PASSWORDS['li'])}")


def log_in(name: str, password: str):
    test = run(app(**RANGE))
    test.text_input(key="login_name").input(name)
    test.text_input(key="login_password").input(password)
    test.button[0].click()
    return run(test)


def pages(test) -> list[str]:
    """The pages the router registered in the last run (["app"]: none, only the script)."""
    return [Path(page["script_path"]).stem for page in test._registered_pages.values()]


@pytest.mark.usefixtures("with_login")
def test_without_login_only_the_login_form_shows():
    test = run(app(**RANGE))
    assert texts(test.title) == ["LedgerLens"]
    assert not test.metric and pages(test) == ["app"]
    assert DEMO_BANNER not in texts(test.warning)


@pytest.mark.usefixtures("with_login")
def test_a_wrong_password_is_refused():
    test = log_in("wang", "yuan-2025")
    assert "Wrong user name or password." in texts(test.error)
    assert not test.metric and pages(test) == ["app"]


@pytest.mark.usefixtures("with_login")
def test_an_unknown_user_is_refused():
    test = log_in("zhang", PASSWORDS["wang"])
    assert "Wrong user name or password." in texts(test.error)


@pytest.mark.usefixtures("with_login")
def test_a_business_user_sees_overview_and_alerts_and_cannot_open_pipeline_or_audit():
    test = log_in("wang", PASSWORDS["wang"])
    assert "Overview" in texts(test.title) and len(test.metric) == 8
    assert sorted(pages(test)) == ["alerts", "overview"]
    for page in ("pipeline", "audit"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            open_page(test, page)
    open_page(test, "alerts")
    assert "Alerts" in texts(test.title)


@pytest.mark.usefixtures("with_login")
def test_an_ops_user_from_the_environment_opens_every_page():
    test = log_in("li", PASSWORDS["li"])
    assert sorted(pages(test)) == ["alerts", "audit", "overview", "pipeline"]
    assert "Pipeline" in texts(open_page(test, "pipeline").title)
    assert "Audit" in texts(open_page(test, "audit").title)


@pytest.mark.usefixtures("with_login")
def test_logging_out_returns_to_the_login_form():
    test = log_in("li", PASSWORDS["li"])
    test.sidebar.button(key="logout").click()
    run(test)
    assert texts(test.title) == ["LedgerLens"] and pages(test) == ["app"]


def test_without_an_auth_section_every_page_opens_under_a_demo_mode_banner():
    test = run(app(**RANGE))
    assert DEMO_BANNER in texts(test.warning)
    assert sorted(pages(test)) == ["alerts", "audit", "overview", "pipeline"]
