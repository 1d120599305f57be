"""Records read from the table decode their JSON and text timestamps on first access, and
otherwise behave exactly like the RecordedEvent they stand for."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import orjson

from domain.eventstore import RecordedEvent
from domain.eventstore.sql_rows import LazyRecordedEvent, decode_rows

OCCURRED = datetime(2024, 5, 1, 9, 30, 15, 250000, tzinfo=UTC)
RECORDED = datetime(2024, 5, 1, 9, 30, 16, tzinfo=UTC)
PAYLOAD = {"user_id": "U1", "amount": "100.00", "channel": "alipay"}
METADATA = {"command_id": "c-1", "actor": "U1"}


def stored_row(*, text_times: bool) -> tuple[object, ...]:
    occurred: object = OCCURRED.isoformat() if text_times else OCCURRED
    recorded: object = RECORDED.isoformat() if text_times else RECORDED
    return (7, 3, "wallet-U1", "wallet", 2, "FundsDeposited", 2, occurred, recorded,
            orjson.dumps(PAYLOAD).decode(), orjson.dumps(METADATA).decode())  # fmt: skip


def eager() -> RecordedEvent:
    return RecordedEvent(7, 3, "wallet-U1", "wallet", 2, "FundsDeposited", 2, OCCURRED, RECORDED,
                         dict(PAYLOAD), dict(METADATA))  # fmt: skip


def test_a_read_record_equals_the_record_that_was_appended_on_both_timestamp_kinds() -> None:
    for text_times in (True, False):
        [record] = decode_rows([stored_row(text_times=text_times)], timestamps_are_text=text_times)
        assert isinstance(record, LazyRecordedEvent)
        assert record == eager() and eager() == record
        assert record.occurred_at == OCCURRED and record.occurred_at.tzinfo is not None
        assert record.payload == PAYLOAD and record.metadata == METADATA


def test_nothing_is_decoded_until_read_and_a_field_is_decoded_once() -> None:
    [record] = decode_rows([stored_row(text_times=True)], timestamps_are_text=True)
    first = record.payload
    assert record.payload is first  # cached, not decoded again
    assert record.checkpoint.position == 7 and record.event_type == "FundsDeposited"


def test_asdict_and_replace_work_as_on_any_recorded_event() -> None:
    [record] = decode_rows([stored_row(text_times=True)], timestamps_are_text=True)
    assert dataclasses.asdict(record) == dataclasses.asdict(eager())
    lifted = dataclasses.replace(record, payload={"amount": "1.00"}, schema_version=3)
    assert lifted.payload == {"amount": "1.00"} and lifted.schema_version == 3
    assert lifted.metadata == METADATA and lifted.occurred_at == OCCURRED
    assert record.payload == PAYLOAD  # the original is untouched


def test_a_record_differs_from_one_with_another_payload() -> None:
    [record] = decode_rows([stored_row(text_times=False)], timestamps_are_text=False)
    other = dataclasses.replace(eager(), payload={"amount": "2.00"})
    assert record != other and other != record


def test_an_upcast_copy_has_the_new_payload_and_every_other_field_of_the_original() -> None:
    for text_times in (True, False):
        [record] = decode_rows([stored_row(text_times=text_times)], timestamps_are_text=text_times)
        if text_times:
            assert record.metadata == METADATA  # one lazy field decoded before the copy
        lifted = record.with_payload({"amount": "1.00"}, 3)
        expected = dataclasses.replace(eager(), payload={"amount": "1.00"}, schema_version=3)
        assert lifted == expected
        assert record == eager()  # the original is untouched


def test_the_occurred_minute_is_the_same_from_stored_text_from_a_datetime_and_eagerly() -> None:
    minute = int(datetime(2024, 5, 1, 9, 30, tzinfo=UTC).timestamp())
    for text_times in (True, False):
        [record] = decode_rows([stored_row(text_times=text_times)], timestamps_are_text=text_times)
        assert record.occurred_minute() == minute
    assert eager().occurred_minute() == minute


def test_an_occurred_time_in_another_form_or_offset_gives_its_utc_minute() -> None:
    forms = {
        "2024-05-01T09:30:59.999999+00:00": (9, 30),  # the last microsecond of the minute
        "2024-05-01 09:31:00+00:00": (9, 31),  # a space instead of the T, no fraction
        "2024-05-01T17:30:15+08:00": (9, 30),  # another offset: parsed whole, to UTC
        "2024-05-01T09:30:15Z": (9, 30),
    }
    for text, (hour, minute) in forms.items():
        row = list(stored_row(text_times=True))
        row[7] = text
        [record] = decode_rows([tuple(row)], timestamps_are_text=True)
        expected = int(datetime(2024, 5, 1, hour, minute, tzinfo=UTC).timestamp())
        assert record.occurred_minute() == expected, text
        assert int(record.occurred_at.timestamp()) // 60 * 60 == expected, text
