"""Config errors name the file, the line and the key; a valid file loads with its defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.settings import DATABASE_URL_ENV
from ingest.cli import main
from ingest.config_loader import ConfigError, load_settings, parse_settings
from ingest.settings import APPLICATION_NAME

FILE = Path("conf.yaml")


@pytest.fixture(autouse=True)
def _no_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, FILE)
    assert str(caught.value).startswith(f"invalid configuration {FILE}:\n")
    return caught.value.problems


def test_an_empty_file_gives_the_defaults_with_the_kpis_group() -> None:
    settings = parse_settings("", FILE)
    assert settings.database.url == "sqlite:///data/ledgerlens.db"
    assert settings.database.application_name == APPLICATION_NAME == "ledgerlens-ingest"
    assert [(g.name, g.handler, g.error_policy) for g in settings.groups] == [
        ("kpis", "builtin:kpis", "retry")
    ]
    assert settings.ingest.batch_size == 10_000


def test_a_misspelt_key_is_reported_with_its_line_and_full_key() -> None:
    text = "database:\n  url: sqlite:///x.db\ningest:\n  batch_size: 10\n  bach_size: 5\n"
    assert problems(text) == ["conf.yaml:5: ingest.bach_size: Extra inputs are not permitted"]


def test_a_wrong_type_is_reported_with_its_line_and_key() -> None:
    [problem] = problems("ingest:\n  batch_size: many\n")
    assert problem.startswith("conf.yaml:2: ingest.batch_size: Input should be a valid integer")


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = "ingest:\n  batch_size: 0\n  idle_wait_s: -1\ngroups:\n  - name: kpis\n    handler: x\n"
    found = problems(text)
    assert [p.split(": ")[0:2] for p in found] == [
        ["conf.yaml:2", "ingest.batch_size"],
        ["conf.yaml:3", "ingest.idle_wait_s"],
        ["conf.yaml:6", "groups.0.handler"],
    ]


def test_a_group_is_named_by_its_index_and_its_bad_field() -> None:
    text = (
        "groups:\n  - name: kpis\n    handler: builtin:kpis\n"
        "  - name: marketing\n    handler: a.b:C\n    error_policy: explode\n"
    )
    assert problems(text) == [
        "conf.yaml:6: groups.1.error_policy: Input should be 'retry', 'dead_letter' or 'skip'"
    ]


def test_a_handler_reference_must_name_a_module_and_a_class() -> None:
    assert problems("groups:\n  - name: kpis\n    handler: nonsense\n") == [
        "conf.yaml:3: groups.0.handler: handler 'nonsense' must be 'builtin:NAME' or "
        "'module.path:Class'"
    ]


def test_duplicate_group_names_are_refused_by_name() -> None:
    text = "groups:\n  - name: a\n    handler: builtin:kpis\n  - name: a\n    handler: a.b:C\n"
    [problem] = problems(text)
    assert problem.startswith("conf.yaml:")
    assert problem.endswith("processing group names must be unique: a")


def test_an_unsupported_database_url_mentions_the_environment_override() -> None:
    assert problems("database:\n  url: mysql://x\n") == [
        "conf.yaml:2: database.url: unsupported URL 'mysql://x': use sqlite:///path or "
        f"postgresql+psycopg:// (set in the file or by ${DATABASE_URL_ENV})"
    ]


def test_the_environment_overrides_the_files_database_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "postgresql+psycopg://u@db:5432/ledger")
    settings = parse_settings("database:\n  url: sqlite:///x.db\n", FILE)
    assert settings.database.url == "postgresql+psycopg://u@db:5432/ledger"


def test_an_application_name_longer_than_postgresql_keeps_is_refused() -> None:
    [problem] = problems(f"database:\n  application_name: {'x' * 64}\n")
    assert problem.startswith("conf.yaml:2: database.application_name: String should have at")


def test_an_unknown_time_zone_is_refused_with_a_hint() -> None:
    assert problems("business_timezone: Mars/Olympus\n") == [
        "conf.yaml:1: business_timezone: unknown time zone 'Mars/Olympus' "
        "(use an IANA name like Asia/Shanghai)"
    ]


def test_a_yaml_syntax_error_names_a_line() -> None:
    [problem] = problems("ingest:\n  batch_size: [1\n")
    assert problem.startswith("conf.yaml:3: YAML syntax error: expected ',' or ']'")


def test_the_top_level_must_be_a_mapping() -> None:
    assert problems("- a\n- b\n") == ["conf.yaml:1: the top level must be a mapping of sections"]


def test_a_missing_file_is_reported_not_raised_as_an_os_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_settings(missing)
    assert caught.value.problems == [f"{missing}: cannot read: No such file or directory"]


def test_check_config_prints_ok_or_the_problems_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("ingest:\n  batch_size: 100\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("ingest:\n  batch_size: -5\n", encoding="utf-8")

    assert main(["check-config", str(good)]) == 0
    assert capsys.readouterr().out.startswith(f"{good}: OK (1 processing groups")
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: ingest.batch_size: Input should be greater than or equal to 1" in err
