"""One seeded, projected history shared by the dashboard's integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.settings import DATABASE_URL_ENV
from ingest.cli import CONFIG_ENV
from tests.integration.dashboard.world import World, build


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(DATABASE_URL_ENV, raising=False)
        built = build(tmp_path_factory.mktemp("dashboard"))
    try:
        yield built
    finally:
        built.store.close()


@pytest.fixture(autouse=True)
def _the_app_reads_the_world_config(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(CONFIG_ENV, str(world.config))
