"""Running the real app (dashboard/app.py) under Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[3] / "dashboard" / "app.py"
VIEWS = APP.parent / "views"
# 08:00-14:00 in Shanghai on the last day of the seeded history
RANGE = {"range": "custom", "from": "2024-06-30T08:00", "to": "2024-06-30T14:00"}


def app(**query: str) -> AppTest:
    test = AppTest.from_file(str(APP), default_timeout=90)
    test.query_params.update(query)
    return test


def run(test: AppTest) -> AppTest:
    test.run()
    assert not test.exception, [e.value for e in test.exception]
    return test


def open_page(test: AppTest, page: str) -> AppTest:
    test.switch_page(str(VIEWS / f"{page}.py"))
    return run(test)


def texts(elements: Any) -> list[str]:
    return [str(element.value) for element in elements]
