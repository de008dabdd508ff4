"""Jitsi rooms: no account, stable per event, unguessable, optionally token-protected."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from addon.meetings.jitsi import JitsiProvider
from addon.meetings.model import KnownMeeting, MeetingOptions, MeetingRejected, MeetingSpec

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SPEC = MeetingSpec("Design review", START, START + timedelta(minutes=30), "Europe/Zurich")


def test_the_same_event_always_gets_the_same_room_and_other_events_other_rooms() -> None:
    jitsi = JitsiProvider("https://meet.jit.si", b"secret-1")

    first = jitsi.create(SPEC, "primary/event-1")
    again = jitsi.create(SPEC, "primary/event-1")
    other = jitsi.create(SPEC, "primary/event-2")

    assert first == again
    assert other.join_url != first.join_url
    assert first.join_url == f"https://meet.jit.si/{first.meeting_id}"


def test_room_names_depend_on_the_installs_secret_so_nobody_can_derive_them() -> None:
    ours = JitsiProvider("https://meet.jit.si", b"secret-1").create(SPEC, "primary/event-1")
    theirs = JitsiProvider("https://meet.jit.si", b"secret-2").create(SPEC, "primary/event-1")

    assert ours.meeting_id != theirs.meeting_id
    assert len(ours.meeting_id) == 26 and ours.meeting_id.isalnum() and ours.meeting_id == ours.meeting_id.lower()
    assert "event" not in ours.meeting_id


def test_a_self_hosted_server_gets_the_rooms() -> None:
    jitsi = JitsiProvider("https://video.corp.example/", b"s")

    assert jitsi.create(SPEC, "k").join_url.startswith("https://video.corp.example/")


def test_a_token_server_gets_a_link_carrying_a_token_for_that_room_only() -> None:
    jitsi = JitsiProvider("https://video.corp.example", b"s", app_id="scheduler", app_secret="jwt-secret")

    meeting = jitsi.create(SPEC, "primary/event-1")
    room_url, _, token = meeting.join_url.partition("?jwt=")
    header, claims, signature = token.split(".")
    expected = hmac.new(b"jwt-secret", f"{header}.{claims}".encode(), hashlib.sha256).digest()
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))

    assert room_url == f"https://video.corp.example/{meeting.meeting_id}"
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
    assert decoded["iss"] == "scheduler"
    assert decoded["room"] == meeting.meeting_id
    assert decoded["sub"] == "video.corp.example"
    assert decoded["exp"] > SPEC.end.timestamp()


def test_a_recurring_series_gets_a_token_that_outlives_the_first_occurrence() -> None:
    jitsi = JitsiProvider("https://video.corp.example", b"s", app_id="a", app_secret="b")
    series = MeetingSpec(
        "Weekly", START, START + timedelta(minutes=30), "UTC", options=MeetingOptions(recurrence="FREQ=WEEKLY")
    )

    token = jitsi.create(series, "k").join_url.split("?jwt=")[1].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))

    assert claims["exp"] > (START + timedelta(days=300)).timestamp()


def test_update_keeps_the_room_and_delete_has_nothing_to_do() -> None:
    jitsi = JitsiProvider("https://meet.jit.si", b"s")
    meeting = jitsi.create(SPEC, "k")
    record = KnownMeeting("k", meeting.join_url, SPEC.invitees, no_fixed_time=False)

    moved = MeetingSpec("Moved", START + timedelta(days=1), START + timedelta(days=1, hours=1), "UTC")
    assert jitsi.update(meeting.meeting_id, moved).join_url == meeting.join_url
    assert jitsi.update(meeting.meeting_id, moved, known=record) == jitsi.update(meeting.meeting_id, moved)
    jitsi.delete(meeting.meeting_id)
    assert jitsi.get(meeting.meeting_id).join_url == meeting.join_url


def test_a_room_needs_nothing_more_to_be_complete() -> None:
    jitsi = JitsiProvider("https://video.corp.example", b"s", app_id="scheduler", app_secret="jwt-secret")
    meeting = jitsi.create(SPEC, "k")

    assert jitsi.completed(meeting) == meeting


def test_ids_that_are_not_our_rooms_are_refused() -> None:
    with pytest.raises(MeetingRejected):
        JitsiProvider("https://meet.jit.si", b"s").get("../../admin")


def test_a_room_has_no_passcode_to_rotate_and_no_occurrences_of_its_own() -> None:
    jitsi = JitsiProvider("https://meet.jit.si", b"s")
    meeting = jitsi.create(SPEC, "k")
    later = START + timedelta(days=7)

    assert jitsi.can_rotate_passcode is False
    assert jitsi.series_occurrences is False
    assert jitsi.rotate_passcode(meeting.meeting_id) == meeting
    jitsi.update_occurrence(meeting.meeting_id, later, MeetingSpec("Moved", later, later + timedelta(hours=1), "UTC"))
    jitsi.cancel_occurrence(meeting.meeting_id, later)
    assert jitsi.get(meeting.meeting_id) == meeting


@pytest.mark.parametrize(
    "act",
    [
        lambda jitsi: jitsi.rotate_passcode("../../admin"),
        lambda jitsi: jitsi.update_occurrence("../../admin", START, SPEC),
        lambda jitsi: jitsi.cancel_occurrence("../../admin", START),
    ],
    ids=["rotate", "update-occurrence", "cancel-occurrence"],
)
def test_occurrence_and_passcode_calls_refuse_rooms_that_are_not_ours(act: Callable[[JitsiProvider], object]) -> None:
    with pytest.raises(MeetingRejected):
        act(JitsiProvider("https://meet.jit.si", b"s"))


def test_an_original_start_without_a_time_zone_is_refused() -> None:
    jitsi = JitsiProvider("https://meet.jit.si", b"s")
    room = jitsi.create(SPEC, "k").meeting_id

    with pytest.raises(ValueError, match="time zone"):
        jitsi.cancel_occurrence(room, datetime(2026, 12, 8, 9))
