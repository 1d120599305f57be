"""The Audit page: an aggregate's events in order, and its state at a chosen moment."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dashboard.loaders import audit
from domain.eventstore.schema import events
from domain.repository import state_at
from tests.integration.dashboard.apptest import RANGE, app, open_page, run, texts
from tests.integration.dashboard.world import World

INJECTIONS = ["' OR 1=1 --", "U000001' OR '1'='1", "x'; DROP TABLE events; --", '"; --']


def busiest(world: World, kind: str) -> str:
    with world.engine.connect() as conn:
        return str(
            conn.execute(
                select(events.c.stream_id)
                .where(events.c.stream_type == kind)
                .group_by(events.c.stream_id)
                .order_by(func.count().desc(), events.c.stream_id)
                .limit(1)
            ).scalar_one()
        )


def audit_page(**query: str):
    return open_page(run(app(**RANGE, **query)), "audit")


def test_an_id_shows_its_streams_events_in_order(world: World):
    stream = busiest(world, "wallet")
    kind, _, typed = stream.partition("-")
    test = audit_page(kind=kind, id=typed)
    recorded = world.store.load_stream(stream)
    assert f"{stream}: {len(recorded):,} events" in texts(test.subheader)
    table = test.dataframe[0].value
    assert list(table["version"]) == list(range(1, len(recorded) + 1))
    assert list(table["event_type"]) == [r.event_type for r in recorded]
    assert json.loads(table["payload"].iloc[0]) == json.loads(json.dumps(recorded[0].payload))


def test_the_state_is_rebuilt_from_the_events_up_to_the_chosen_moment(world: World):
    stream = busiest(world, "loan")
    recorded = world.store.load_stream(stream)
    test = audit_page(id=stream)  # a full stream id is taken as it is
    latest = state_at(world.store, stream, recorded[-1].occurred_at).as_dict()
    assert json.loads(test.json[-1].value) == json.loads(json.dumps(latest))
    middle = recorded[len(recorded) // 2]
    test.select_slider(key="as_of").set_value(middle.version)
    run(test)
    then = state_at(world.store, stream, middle.occurred_at).as_dict()
    assert then["version"] < latest["version"]
    assert json.loads(test.json[-1].value) == json.loads(json.dumps(then))
    local = middle.occurred_at.astimezone(ZoneInfo(world.settings.business_timezone))
    said = f"occurred by {local:%Y-%m-%d %H:%M:%S} ({world.settings.business_timezone}; "
    assert any(said in caption for caption in texts(test.caption))  # business time, as above


@pytest.mark.parametrize("typed", INJECTIONS)
def test_an_id_written_as_sql_finds_nothing_and_breaks_nothing(world: World, typed: str):
    head = world.store.head()
    test = audit_page(kind="user", id=typed)
    assert any("No events for" in text for text in texts(test.info))
    assert audit.history(world.store, audit.stream_id("user", typed)).found is False
    assert world.store.head() == head and len(world.store.read_all(limit=10**6)) == head.position


def test_an_empty_or_overlong_id_gets_a_message(world: World):
    assert not audit_page(id=" ").dataframe
    test = audit_page(id="U" * 201)
    assert any("at most 200 characters" in text for text in texts(test.warning))


def test_typed_ids_become_stream_ids_of_the_chosen_kind():
    assert audit.stream_id("wallet", " U000001 ") == "wallet-U000001"
    assert audit.stream_id("user", "loan-L000007") == "loan-L000007"
    assert audit.stream_id("user", "' OR 1=1 --") == "user-' OR 1=1 --"
    with pytest.raises(audit.BadIdError, match="unknown kind"):
        audit.stream_id("account", "A1")
