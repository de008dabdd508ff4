"""Zoom: what only Zoom does (recurrence types, passcode rules, SIP, daily quota, rotating and revoked grants,
occurrences named by their start); what it shares with Webex is in test_meeting_services.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from addon.meetings import oauth
from addon.meetings.model import (
    DialIn,
    GrantRevoked,
    Meeting,
    MeetingGone,
    MeetingOptions,
    MeetingRejected,
    MeetingSpec,
    RateLimited,
)
from addon.meetings.oauth import OAuthApp, Pkce
from addon.meetings.zoom import ZoomProvider, agenda_marker
from tests.fakes.credentials import TokenCredentials
from tests.fakes.zoom import FakeZoom
from tests.meeting_services import (
    ALICE,
    KEY,
    WEEKLY,
    ZOOM,
    MeetingService,
    a_spec,
    at,
    authorize,
    calls_since,
    known,
)

LATER = datetime.now(UTC).year + 2


@pytest.fixture
def meeting_service() -> MeetingService:
    return ZOOM


# Creating ----------------------------------------------------------------------------------


def test_create_returns_what_invitees_need_to_join(zoom: FakeZoom, provider: ZoomProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    stored = zoom.meetings[meeting.meeting_id].data
    assert meeting.provider == "zoom"
    assert meeting.meeting_id == str(stored["id"])
    assert meeting.meeting_code == str(stored["id"])
    assert meeting.join_url == stored["join_url"]
    assert meeting.join_url.startswith(f"https://zoom.us/j/{stored['id']}")
    assert meeting.passcode == stored["password"]
    assert meeting.sip_address is None  # it takes a call of its own: completed() makes it, off the user's way
    assert provider.completed(meeting).sip_address == f"{stored['id']}@zoomcrc.com"
    assert meeting.dial_in == (
        DialIn("US (New York)", "+1 6465588656", toll_free=False),
        DialIn("US", "+1 8774369236", toll_free=True),
        DialIn("Germany (Frankfurt)", "+49 69 7104 9922", toll_free=False),
    )
    assert stored["start_url"] not in repr(meeting)  # it signs in as the host
    assert stored["topic"] == "Design review"
    assert stored["agenda"] == f"Review the Q3 design\n\n{agenda_marker(KEY)}"
    assert stored["settings"]["meeting_invitees"] == [
        {"email": "bob@corp.example"},
        {"email": "carol@partner.example"},
    ]


def nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


@pytest.mark.parametrize(
    ("month", "nth", "utc_hour", "real_minutes"),
    [
        (3, 2, 6, 60),  # 01:30 EST to 03:30 EDT: the clock jumps an hour ahead
        (11, 1, 4, 180),  # 00:30 EDT to 02:30 EST: the clock goes an hour back
    ],
    ids=["spring-forward", "fall-back"],
)
def test_times_go_out_in_utc_with_the_real_duration_across_a_dst_change(
    zoom: FakeZoom, provider: ZoomProvider, month: int, nth: int, utc_hour: int, real_minutes: int
) -> None:
    new_york = ZoneInfo("America/New_York")
    day = nth_sunday(datetime.now(UTC).year + 1, month, nth)
    start_utc = datetime(day.year, day.month, day.day, utc_hour, 30, tzinfo=UTC)
    start, end = start_utc.astimezone(new_york), (start_utc + timedelta(minutes=real_minutes)).astimezone(new_york)
    assert end.replace(tzinfo=None) - start.replace(tzinfo=None) == timedelta(hours=2)  # on the wall clock

    meeting = provider.create(MeetingSpec("Night shift", start, end, "America/New_York"), KEY)

    (body,) = ZOOM.posted(zoom)
    assert body["start_time"] == start_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["duration"] == real_minutes
    assert body["timezone"] == "America/New_York"
    stored = zoom.meetings[meeting.meeting_id]
    assert stored.starts_at == start_utc
    assert stored.data["duration"] == real_minutes


@pytest.mark.parametrize(
    ("rule", "recurrence"),
    [
        ("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6", {"type": 2, "weekly_days": "2,4", "repeat_interval": 1, "end_times": 6}),
        (
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10",
            {"type": 2, "weekly_days": "2,3,4,5,6", "repeat_interval": 1, "end_times": 10},
        ),
        (
            f"FREQ=DAILY;INTERVAL=2;UNTIL={LATER}1231T230000Z",
            {"type": 1, "repeat_interval": 2, "end_date_time": f"{LATER}-12-31T23:00:00Z"},
        ),
        (
            f"RRULE:FREQ=WEEKLY;WKST=MO;BYDAY=FR;UNTIL={LATER}0630",  # through the end of that day in Berlin
            {"type": 2, "weekly_days": "6", "repeat_interval": 1, "end_date_time": f"{LATER}-06-30T21:59:59Z"},
        ),
        (
            "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15;COUNT=4",
            {"type": 3, "monthly_day": 15, "repeat_interval": 3, "end_times": 4},
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=12",
            {"type": 3, "monthly_week": -1, "monthly_week_day": 6, "repeat_interval": 1, "end_times": 12},
        ),
        (
            "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2;COUNT=3",
            {"type": 3, "monthly_week": 2, "monthly_week_day": 3, "repeat_interval": 1, "end_times": 3},
        ),
    ],
)
def test_repeating_events_become_recurring_zoom_meetings(
    zoom: FakeZoom, provider: ZoomProvider, rule: str, recurrence: dict
) -> None:
    meeting = provider.create(a_spec(options=MeetingOptions(recurrence=rule)), KEY)

    (body,) = ZOOM.posted(zoom)
    assert body["type"] == 8
    assert body["recurrence"] == recurrence
    assert zoom.meetings[meeting.meeting_id].data["recurrence"] == recurrence


def test_a_rule_without_days_repeats_on_the_events_own_day_in_its_zone(zoom: FakeZoom, provider: ZoomProvider) -> None:
    # Monday 00:30 in Berlin is still Sunday in UTC.
    start = at(days=30, hour=0).replace(minute=30)
    start += timedelta(days=(7 - start.weekday()) % 7)

    provider.create(a_spec(start, options=MeetingOptions(recurrence="FREQ=WEEKLY;COUNT=4")), KEY)
    provider.create(a_spec(start, options=MeetingOptions(recurrence="FREQ=MONTHLY;COUNT=4")), KEY + "-monthly")

    weekly, monthly = (body["recurrence"] for body in ZOOM.posted(zoom))
    assert weekly["weekly_days"] == "2"
    assert monthly["monthly_day"] == start.day


def test_an_endless_series_gets_one_link_without_a_fixed_time(zoom: FakeZoom, provider: ZoomProvider) -> None:
    options = MeetingOptions(recurrence="FREQ=WEEKLY;BYDAY=TU")

    meeting = provider.create(a_spec(options=options), KEY)

    (body,) = ZOOM.posted(zoom)
    assert body["type"] == 3
    assert "recurrence" not in body
    assert provider.create(a_spec(options=options), KEY) == meeting
    assert len(ZOOM.posted(zoom)) == 1


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=YEARLY;COUNT=5",
        "FREQ=HOURLY;COUNT=3",
        "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3",
        "FREQ=MONTHLY;BYDAY=5FR;COUNT=3",
        "FREQ=DAILY;INTERVAL=2;BYDAY=MO,FR;COUNT=3",
        "FREQ=WEEKLY;BYMONTH=1;COUNT=3",
    ],
)
def test_a_series_zoom_cannot_repeat_gets_one_meeting_with_no_fixed_time(
    zoom: FakeZoom, provider: ZoomProvider, rule: str
) -> None:
    meeting = provider.create(a_spec(options=MeetingOptions(recurrence=rule)), KEY)

    (body,) = ZOOM.posted(zoom)
    assert body["type"] == 3 and "recurrence" not in body
    assert meeting.no_fixed_time and meeting.join_url.startswith("https://")


@pytest.mark.parametrize("passcode", ["12345678901", "pass word", "pässwort", "abc#1", "a/b"])
def test_a_passcode_zoom_would_refuse_is_refused_before_any_call(
    zoom: FakeZoom, provider: ZoomProvider, passcode: str
) -> None:
    with pytest.raises(MeetingRejected, match="1 to 10 characters"):
        provider.create(a_spec(options=MeetingOptions(passcode=passcode)), KEY)

    assert zoom.state.requests == []


def test_options_and_long_text_reach_zoom(zoom: FakeZoom, provider: ZoomProvider) -> None:
    options = MeetingOptions(
        passcode="Tr0ub@d_*",
        waiting_room=True,
        alternative_hosts=("dana@corp.example", "erin@corp.example", "Dana@corp.example"),
        template_id="tmpl-1",
    )

    meeting = provider.create(a_spec(title="T" * 300, agenda="A" * 2500, options=options), KEY)

    stored = zoom.meetings[meeting.meeting_id]
    assert meeting.passcode == "Tr0ub@d_*"
    assert stored.data["settings"]["waiting_room"] is True
    assert stored.data["settings"]["join_before_host"] is False
    assert stored.data["settings"]["alternative_hosts"] == "dana@corp.example;erin@corp.example"
    assert stored.template_id == "tmpl-1"
    assert stored.data["topic"] == "T" * 200
    assert len(stored.data["agenda"]) <= 2000
    assert stored.data["agenda"].endswith(agenda_marker(KEY))
    assert provider.create(a_spec(title="T" * 300, agenda="A" * 2500, options=options), KEY) == meeting


def test_sip_address_is_best_effort(zoom: FakeZoom, provider: ZoomProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    zoom.fail("/v2/meetings/", 403, method="POST", body={"code": 200, "message": "No Cloud Room Connector plan."})

    completed = provider.completed(meeting)

    assert completed == meeting
    assert len(zoom.requests_to("POST", f"/v2/meetings/{meeting.meeting_id}/sip_dialing")) == 1
    assert completed.join_url == zoom.meetings[meeting.meeting_id].data["join_url"]


def test_a_sip_address_zoom_is_slow_to_give_is_asked_for_again(zoom: FakeZoom, provider: ZoomProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    zoom.fail("/v2/meetings/", 503, method="POST")

    completed = provider.completed(meeting)

    assert completed.sip_address == f"{meeting.meeting_id}@zoomcrc.com"
    assert len(zoom.requests_to("POST", f"/v2/meetings/{meeting.meeting_id}/sip_dialing")) == 2


# Updating, reading, deleting ---------------------------------------------------------------


def test_update_changes_the_meeting_and_keeps_its_marker(zoom: FakeZoom, provider: ZoomProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    later = at(days=31, hour=15)
    moved = a_spec(
        later,
        minutes=60,
        title="Design review (moved)",
        agenda="New agenda",
        invitees=("bob@corp.example",),
        options=MeetingOptions(passcode="n3w-pass"),
    )

    updated = provider.update(meeting.meeting_id, moved)

    stored = zoom.meetings[meeting.meeting_id].data
    assert updated == provider.get(meeting.meeting_id)
    assert updated.passcode == "n3w-pass"
    assert updated.join_url == meeting.join_url
    assert stored["topic"] == "Design review (moved)"
    assert (stored["start_time"], stored["duration"]) == (later.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), 60)
    assert stored["settings"]["meeting_invitees"] == [{"email": "bob@corp.example"}]
    assert stored["agenda"] == f"New agenda\n\n{agenda_marker(KEY)}"
    assert provider.create(moved, KEY).meeting_id == meeting.meeting_id
    assert len(ZOOM.posted(zoom)) == 1


def test_an_update_with_what_the_record_knows_is_one_patch_and_keeps_the_marker(
    zoom: FakeZoom, provider: ZoomProvider
) -> None:
    spec = a_spec()
    meeting = provider.create(spec, KEY, maybe_made=False)
    seen = len(zoom.state.requests)
    moved = a_spec(at(days=31, hour=15), title="Design review (moved)", agenda="New agenda", invitees=())

    updated = provider.update(meeting.meeting_id, moved, known=known(meeting, spec))

    assert calls_since(zoom, seen) == [("PATCH", f"/v2/meetings/{meeting.meeting_id}")]
    assert updated == Meeting("zoom", meeting.meeting_id, meeting.join_url)
    stored = zoom.meetings[meeting.meeting_id].data
    assert stored["join_url"] == meeting.join_url and stored["password"] == meeting.passcode
    assert (stored["topic"], stored["agenda"]) == ("Design review (moved)", f"New agenda\n\n{agenda_marker(KEY)}")
    assert provider.create(moved, KEY) == provider.get(meeting.meeting_id)  # a retried create finds it
    assert len(ZOOM.posted(zoom)) == 1


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (MeetingOptions(), MeetingOptions(recurrence="FREQ=WEEKLY;BYDAY=TU")),  # one link with no fixed time
        (MeetingOptions(), MeetingOptions(passcode="n3w-pass")),
    ],
    ids=["no-fixed-time", "passcode"],
)
def test_an_update_that_may_change_the_join_details_reads_them_again(
    zoom: FakeZoom, provider: ZoomProvider, before: MeetingOptions, after: MeetingOptions
) -> None:
    spec = a_spec(options=before)
    meeting = provider.create(spec, KEY, maybe_made=False)
    seen = len(zoom.state.requests)

    updated = provider.update(meeting.meeting_id, a_spec(options=after), known=known(meeting, spec))

    path = f"/v2/meetings/{meeting.meeting_id}"
    assert calls_since(zoom, seen) == [("PATCH", path), ("GET", path)]
    assert updated == provider.get(meeting.meeting_id)
    assert updated.no_fixed_time is bool(after.recurrence)
    assert updated.passcode == (after.passcode or meeting.passcode)


# Failures ----------------------------------------------------------------------------------


def test_past_the_daily_quota_the_user_waits_until_midnight_utc(zoom: FakeZoom, provider: ZoomProvider) -> None:
    zoom.daily_limit = 1
    provider.create(a_spec(), KEY)

    with pytest.raises(RateLimited) as raised:
        provider.create(a_spec(), KEY + "-2")

    now = datetime.now(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    assert raised.value.retry_after == pytest.approx((midnight - now).total_seconds(), abs=2)
    assert len(zoom.meetings) == 1


def test_a_user_deleted_on_zoom_must_reconnect(zoom: FakeZoom, provider: ZoomProvider, grant: TokenCredentials) -> None:
    meeting = provider.create(a_spec(), KEY)
    zoom.delete_user_on_zoom(ALICE)

    for act in (
        lambda: provider.get(meeting.meeting_id),
        lambda: provider.delete(meeting.meeting_id),
        lambda: provider.create(a_spec(), KEY + "-2"),
    ):
        with pytest.raises(GrantRevoked):
            act()

    assert len(grant.revoked) == 3
    assert len(ZOOM.posted(zoom)) == 1


# Connecting ---------------------------------------------------------------------------------


def test_connecting_again_ends_the_earlier_grant(
    zoom: FakeZoom, oauth_app: OAuthApp, provider: ZoomProvider, grant: TokenCredentials
) -> None:
    pkce = Pkce.new()
    oauth.exchange_code(oauth_app, authorize(oauth_app, pkce, ZOOM.redirect_uri)["code"][0], pkce, ZOOM.redirect_uri)

    with pytest.raises(GrantRevoked):
        provider.create(a_spec(), KEY)

    assert grant.revoked == ["Invalid Token!"]


def test_revoking_ends_the_grant(
    zoom: FakeZoom, oauth_app: OAuthApp, provider: ZoomProvider, grant: TokenCredentials
) -> None:
    assert oauth.revoke(oauth_app, grant.refresh) is True

    with pytest.raises(GrantRevoked):
        provider.create(a_spec(), KEY)

    assert grant.revoked == ["Invalid Token!"]
    assert oauth.revoke(oauth_app, grant.refresh) is False
    (revoke_request, _) = zoom.requests_to("POST", "/oauth/revoke")
    assert revoke_request.authorization is not None
    assert revoke_request.authorization.username == zoom.client_id


# Following the event: invitees -------------------------------------------------------------


def test_update_makes_invitees_and_alternative_hosts_exactly_the_events(zoom: FakeZoom, provider: ZoomProvider) -> None:
    meeting = provider.create(a_spec(options=MeetingOptions(alternative_hosts=("dana@corp.example",))), KEY)
    guests = ("carol@partner.example", "dave@corp.example")

    provider.update(
        meeting.meeting_id, a_spec(invitees=guests, options=MeetingOptions(alternative_hosts=("erin@x.example",)))
    )
    settings = zoom.meetings[meeting.meeting_id].data["settings"]
    assert settings["meeting_invitees"] == [{"email": "carol@partner.example"}, {"email": "dave@corp.example"}]
    assert settings["alternative_hosts"] == "erin@x.example"

    provider.update(meeting.meeting_id, a_spec(invitees=()))
    assert settings["meeting_invitees"] == []
    assert settings["alternative_hosts"] == ""
    assert zoom.emails_sent == []


# Rotating the passcode ---------------------------------------------------------------------


def test_rotating_the_passcode_changes_only_the_passcode(zoom: FakeZoom, provider: ZoomProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    rotated = provider.rotate_passcode(meeting.meeting_id)

    stored = zoom.meetings[meeting.meeting_id].data
    assert rotated.passcode == stored["password"] != meeting.passcode
    assert rotated.passcode is not None and len(rotated.passcode) == 10 and rotated.passcode.isalnum()
    (patch,) = zoom.requests_to("PATCH", f"/v2/meetings/{meeting.meeting_id}")
    assert patch.get_json() == {"password": rotated.passcode}
    assert rotated.join_url == stored["join_url"]
    assert rotated.sip_address == f"{meeting.meeting_id}@zoomcrc.com"  # read again: it carries the passcode
    assert stored["topic"] == "Design review"
    assert provider.can_rotate_passcode is True


# Single occurrences of a series ------------------------------------------------------------


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def millis(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def test_one_occurrence_is_moved_alone(zoom: FakeZoom, provider: ZoomProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)
    moved = second + timedelta(hours=3)

    provider.update_occurrence(meeting.meeting_id, second, a_spec(moved, minutes=60, title="Design review (moved)"))

    occurrences = zoom.occurrences(meeting.meeting_id)
    assert [(o["start_time"], o["duration"]) for o in occurrences] == [
        (utc(first), 30),
        (utc(moved), 60),
        (utc(first + timedelta(days=14)), 30),
        (utc(first + timedelta(days=21)), 30),
    ]
    assert occurrences[1]["occurrence_id"] == millis(second)  # it keeps the name of its original start
    (patch,) = zoom.requests_to("PATCH", f"/v2/meetings/{meeting.meeting_id}")
    assert patch.args["occurrence_id"] == millis(second)
    assert patch.get_json() == {"start_time": utc(moved), "duration": 60}  # Zoom takes no topic for one occurrence
    stored = zoom.meetings[meeting.meeting_id].data
    assert (stored["topic"], stored["start_time"]) == ("Design review", utc(first))
    assert provider.series_occurrences is True


def test_a_moved_occurrence_can_be_moved_again(zoom: FakeZoom, provider: ZoomProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)

    provider.update_occurrence(meeting.meeting_id, second, a_spec(second + timedelta(days=3)))
    provider.update_occurrence(meeting.meeting_id, second, a_spec(second + timedelta(days=4)))

    assert zoom.occurrences(meeting.meeting_id)[1]["start_time"] == utc(second + timedelta(days=4))


def test_zoom_takes_no_topic_for_one_occurrence(zoom: FakeZoom, provider: ZoomProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)

    answer = requests.patch(
        f"{zoom.api_base}/meetings/{meeting.meeting_id}",
        params={"occurrence_id": millis(first)},
        json={"topic": "Renamed"},
        headers={"Authorization": f"Bearer {provider.credentials.access_token()}"},
        timeout=5,
    )

    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"field": "topic", "message": "topic cannot be changed for one occurrence."}]


def test_cancelling_an_occurrence_removes_only_that_one(zoom: FakeZoom, provider: ZoomProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)

    provider.cancel_occurrence(meeting.meeting_id, second)
    provider.cancel_occurrence(meeting.meeting_id, second)  # already gone is fine

    assert [o["status"] for o in zoom.occurrences(meeting.meeting_id)] == ["available", "deleted", *["available"] * 2]
    (cancel,) = zoom.requests_to("DELETE", "/v2/meetings/")
    assert cancel.args.to_dict() == {"occurrence_id": millis(second), "schedule_for_reminder": "false"}
    assert meeting.meeting_id in zoom.meetings
    assert zoom.emails_sent == []
    with pytest.raises(MeetingGone):
        provider.update_occurrence(meeting.meeting_id, second, a_spec(second))


def test_a_daily_meeting_ends_at_its_end_date_time(zoom: FakeZoom, provider: ZoomProvider) -> None:
    first = at()
    last = first + timedelta(days=2)
    options = MeetingOptions(recurrence=f"FREQ=DAILY;UNTIL={utc(last).replace('-', '').replace(':', '')}")
    meeting = provider.create(a_spec(first, options=options), KEY)

    assert [o["start_time"] for o in zoom.occurrences(meeting.meeting_id)] == [
        utc(first + timedelta(days=n)) for n in range(3)
    ]
    with pytest.raises(MeetingGone):
        provider.update_occurrence(meeting.meeting_id, last + timedelta(days=1), a_spec(last + timedelta(days=1)))


def test_a_meeting_that_does_not_repeat_has_no_occurrence_to_change(zoom: FakeZoom, provider: ZoomProvider) -> None:
    first = at()
    single = provider.create(a_spec(first), KEY)

    with pytest.raises(MeetingGone):
        provider.update_occurrence(single.meeting_id, first, a_spec(first))
    provider.cancel_occurrence(single.meeting_id, first)

    assert zoom.requests_to("PATCH", "/v2/meetings/") == zoom.requests_to("DELETE", "/v2/meetings/") == []


def test_a_series_without_fixed_times_has_no_occurrence_to_change(zoom: FakeZoom, provider: ZoomProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=MeetingOptions(recurrence="FREQ=WEEKLY;BYDAY=TU")), KEY)

    provider.update_occurrence(meeting.meeting_id, first, a_spec(first + timedelta(hours=1)))
    provider.cancel_occurrence(meeting.meeting_id, first)

    assert zoom.requests_to("PATCH", "/v2/meetings/") == zoom.requests_to("DELETE", "/v2/meetings/") == []
    assert meeting.meeting_id in zoom.meetings
