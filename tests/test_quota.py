"""Google saying "slow down": clicks wait a moment within their budget and then get a card that says so,
background sync keeps its place and backs off per calendar, and every quota answer is counted in the logs.

Quota answers come from the fake Google as Google sends them (tests/fakes/google.py `quota_error`): 403 with
a usageLimits reason, or 429 RESOURCE_EXHAUSTED, for Gmail and Calendar alike.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from addon.google.delegation import OfflineAccess
from addon.google.runtime import RuntimeIdentity
from addon.join_details import BLOCK_START
from addon.logs import JsonFormatter
from addon.services import Services
from addon.store import CalendarSync, MeetingLink
from addon.sync import CalendarSyncer
from addon.tasks import CloudTasks
from tests.card_schema import action_cards, card_text, trigger_cards
from tests.fakes.google import FakeGoogle, quota_error
from tests.fakes.http_server import WsgiServer
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller
from tests.pauses import Pauses
from tests.scenarios import (
    EVENT_ID,
    arrange_event,
    event_action,
    meeting_on_event,
    notification,
    schedule_body,
    settle,
    stored_event,
    the_meeting,
    use,
)
from tests.test_gmail import MESSAGE

CALENDAR = ALICE.email
KEY = f"{CALENDAR}/{EVENT_ID}"
EVENT_PATH = f"/calendar/v3/calendars/{CALENDAR}/events/{EVENT_ID}"
LIST_PATH = f"/calendar/v3/calendars/{CALENDAR}/events"
BUSY = "Google is busy right now"
LIMIT = "A Google usage limit was reached"
PERMISSION = "The add-on lacks a permission"
INVOKER = "addon-tasks@test-project.iam.gserviceaccount.com"


@pytest.fixture
def quota_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The `googleQuota` fields of the JSON log lines written meanwhile (every thread's)."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.WARNING)
    logging.getLogger().addHandler(handler)

    def read() -> list[dict[str, Any]]:
        entries = [json.loads(line) for line in lines.getvalue().splitlines()]
        counted = [entry for entry in entries if "googleQuota" in entry]
        assert all(entry["severity"] == "WARNING" for entry in counted)
        return [entry["googleQuota"] for entry in counted]

    yield read
    logging.getLogger().removeHandler(handler)


def open_message(caller: GoogleCaller, google: FakeGoogle) -> Any:
    google.add_message(MESSAGE)
    return caller.post("/gmail/message", caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token))


def only_card(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    (card,) = action_cards(body) if "renderActions" in body else trigger_cards(body)
    return card


# Opening an email -----------------------------------------------------------------------------


def test_an_email_opened_while_gmail_says_slow_down_once_is_read_after_a_pause(
    caller: GoogleCaller, google: FakeGoogle, quota_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    google.fail("/gmail/", 403, body=quota_error(403, "userRateLimitExceeded", api="gmail"))

    card = only_card(open_message(caller, google))

    assert "Q3 budget review" in card_text(card)
    assert len(google.requests_to("/gmail/")) == 2
    assert quota_lines() == [
        {
            "api": "gmail",
            "method": "gmail.users.messages.get",
            "reason": "userRateLimitExceeded",
            "status": 403,
            "limit": "rate",
            "mode": "interactive",
            "retrying": True,
            "retryAfterSeconds": None,
        }
    ]


@pytest.mark.parametrize(
    ("status", "reason"), [(403, "rateLimitExceeded"), (403, "userRateLimitExceeded"), (429, "rateLimitExceeded")]
)
def test_an_email_opened_while_gmail_keeps_saying_slow_down_gets_a_busy_card(
    caller: GoogleCaller,
    google: FakeGoogle,
    quota_lines: Callable[[], list[dict[str, Any]]],
    status: int,
    reason: str,
) -> None:
    google.fail("/gmail/", status, times=10, body=quota_error(status, reason, api="gmail"))

    response = open_message(caller, google)

    text = card_text(only_card(response))
    assert BUSY in text and "try again in a moment" in text
    assert PERMISSION not in text
    assert response.headers["X-Request-Id"] in text
    assert len(google.requests_to("/gmail/")) == 3  # the budget's one try and two retries
    counted = quota_lines()
    assert [(line["reason"], line["status"], line["retrying"]) for line in counted] == [
        (reason, status, True),
        (reason, status, True),
        (reason, status, False),
    ]


def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    caller: GoogleCaller, google: FakeGoogle, quota_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    google.fail("/gmail/", 429, times=10, body=quota_error(429, api="gmail"), headers={"Retry-After": "30"})

    text = card_text(only_card(open_message(caller, google)))

    assert BUSY in text
    assert len(google.requests_to("/gmail/")) == 1
    (line,) = quota_lines()
    assert (line["retryAfterSeconds"], line["retrying"]) == (30.0, False)


def test_a_retry_after_that_fits_the_budget_is_waited_for(
    caller: GoogleCaller, google: FakeGoogle, quota_lines: Callable[[], list[dict[str, Any]]], pauses: Pauses
) -> None:
    google.fail("/gmail/", 429, body=quota_error(429, api="gmail"), headers={"Retry-After": "1"})

    card = only_card(open_message(caller, google))

    assert "Q3 budget review" in card_text(card)
    assert len(google.requests_to("/gmail/")) == 2
    (line,) = quota_lines()
    assert (line["retryAfterSeconds"], line["retrying"]) == (1.0, True)
    (waited,) = pauses.seconds
    assert waited >= 1.0


# Opening an event: a slow-down is not a refusal ------------------------------------------------

ERROR_INFO_ONLY = {
    "error": {
        "code": 403,
        "message": "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'.",
        "status": "PERMISSION_DENIED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED", "domain": "x"}
        ],
    }
}


def refusal(reason: str, message: str, domain: str = "global") -> dict[str, Any]:
    detail = {"domain": domain, "reason": reason, "message": message}
    return {"error": {"code": 403, "message": message, "errors": [detail], "status": "PERMISSION_DENIED"}}


@pytest.mark.parametrize(
    ("status", "body", "title", "tries"),
    [
        (403, quota_error(403, "rateLimitExceeded"), BUSY, 3),
        (403, quota_error(403, "userRateLimitExceeded"), BUSY, 3),
        (429, quota_error(429), BUSY, 3),
        (403, ERROR_INFO_ONLY, BUSY, 3),
        # Daily and usage limits do not pass within seconds: no retry, and a card that says so.
        (403, quota_error(403, "dailyLimitExceeded"), LIMIT, 1),
        (403, quota_error(403, "quotaExceeded"), LIMIT, 1),
        (403, refusal("insufficientPermissions", "Request had insufficient authentication scopes."), PERMISSION, 1),
        (403, refusal("forbidden", "Forbidden"), PERMISSION, 1),
        # The API switched off for the project: usageLimits is its domain too, but it is no quota.
        (403, refusal("accessNotConfigured", "Calendar API has not been used.", "usageLimits"), PERMISSION, 1),
    ],
)
def test_an_opened_event_tells_google_slowing_down_from_google_refusing(
    caller: GoogleCaller, google: FakeGoogle, status: int, body: dict[str, Any], title: str, tries: int
) -> None:
    arrange_event(google)
    google.fail("/calendar/", status, times=10, body=body)

    card = only_card(event_action(caller, "/calendar/event-open"))

    assert card["header"]["title"] == title
    assert len(google.requests_to("/calendar/")) == tries


# Adding, removing and scheduling a meeting --------------------------------------------------------


def test_add_meeting_that_meets_a_quota_answer_once_adds_the_meeting_after_a_pause(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    quota_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    google.fail(EVENT_PATH, 403, body=quota_error(), method="PATCH")

    response = event_action(caller, "/actions/add-meeting")

    assert "Zoom meeting added to the event" in notification(response)
    (meeting,) = zoom.meetings.values()
    assert stored_event(google)["location"] == meeting.data["join_url"]
    link = services.store.get(MeetingLink, KEY)
    assert link is not None and link.state == "ready"
    assert [(line["method"], line["mode"]) for line in quota_lines()] == [("calendar.events.patch", "interactive")]


def test_add_meeting_past_the_budget_deletes_the_meeting_again_and_says_google_is_busy(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    quota_lines: Callable[[], list[dict[str, Any]]],
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    google.fail(EVENT_PATH, 403, times=10, body=quota_error(), method="PATCH")

    text = card_text(only_card(event_action(caller, "/actions/add-meeting")))

    assert BUSY in text
    assert "could not be added to the event, so it was deleted again" in text and "try again in a moment" in text
    assert zoom.meetings == {}
    assert services.store.get(MeetingLink, KEY) is None
    assert BLOCK_START not in stored_event(google).get("description", "")
    assert len(quota_lines()) == 3


def test_add_meeting_that_cannot_even_look_keeps_the_meeting_and_the_next_click_uses_it(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    google.fail(EVENT_PATH, 403, times=3, body=quota_error(), method="PATCH")
    # Then the look at the event, to see whether an earlier try landed, is refused as well.
    google.fail(EVENT_PATH, 429, times=3, body=quota_error(429), method="GET")

    text = card_text(only_card(event_action(caller, "/actions/add-meeting")))

    assert BUSY in text and "The meeting is kept for your next try" in text
    (meeting_id,) = zoom.meetings
    link = services.store.get(MeetingLink, KEY)
    assert link is not None and link.meeting_id == meeting_id and link.state != "ready"

    response = event_action(caller, "/actions/add-meeting")

    assert "Zoom meeting added to the event" in notification(response)
    assert list(zoom.meetings) == [meeting_id]
    assert stored_event(google)["location"] == link.join_url


def test_remove_meeting_while_calendar_says_slow_down_keeps_the_meeting(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    event_action(caller, "/actions/add-meeting")
    google.fail(EVENT_PATH, 403, times=10, body=quota_error(403, "userRateLimitExceeded"), method="PATCH")

    text = card_text(only_card(event_action(caller, "/actions/remove-meeting")))

    assert BUSY in text and "so the meeting was kept" in text
    assert len(zoom.meetings) == 1
    assert services.store.get(MeetingLink, KEY) is not None
    assert BLOCK_START in stored_event(google)["description"]


def test_scheduling_from_an_email_past_the_budget_leaves_no_meeting_and_no_event(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    google.add_message(MESSAGE)
    google.fail(LIST_PATH, 429, times=10, body=quota_error(429), method="POST")

    text = card_text(only_card(caller.post("/actions/schedule-from-email", schedule_body(caller))))

    assert BUSY in text and "deleted again" in text
    assert zoom.meetings == {}
    assert [key for key in google.state.events if key[0] == CALENDAR] == []


def test_a_daily_limit_while_adding_says_so_and_keeps_nothing(
    caller: GoogleCaller, google: FakeGoogle, services: Services, zoom: FakeZoom, webex: FakeWebex
) -> None:
    use(services, "zoom", zoom, webex)
    arrange_event(google)
    google.fail(EVENT_PATH, 403, times=10, body=quota_error(403, "dailyLimitExceeded"), method="PATCH")

    text = card_text(only_card(event_action(caller, "/actions/add-meeting")))

    assert LIMIT in text and "try again in a few hours" in text and "deleted again" in text
    assert zoom.meetings == {}
    assert len([r for r in google.requests_to(EVENT_PATH) if r.method == "PATCH"]) == 1


# Background sync --------------------------------------------------------------------------------


@pytest.fixture
def background(app: Flask, google: FakeGoogle, services: Services, tmp_path: Path) -> Iterator[Services]:
    """Background sync as an admin sets it up (tests/test_sync.py): delegation, and the app where Calendar pushes."""
    key_file = google.service_account_key_file(tmp_path)
    google.state.delegation_users = {ALICE.email}
    services.offline = OfflineAccess(json.loads(key_file.read_text()))
    services.settings = dataclasses.replace(services.settings, sync_delete_grace_seconds=0)
    server = WsgiServer(app)
    server.start()
    google.push_target = f"http://127.0.0.1:{server.server_port}"
    yield services
    server.stop()


def sync_record(services: Services) -> CalendarSync:
    record = services.store.get(CalendarSync, CalendarSync.id_for(ALICE.sub, CALENDAR))
    assert record is not None
    return record


def lists(google: FakeGoogle) -> int:
    """How often the calendar's changes were read."""
    return len([r for r in google.requests_to(LIST_PATH) if r.method == "GET" and r.path == LIST_PATH])


def backoff_over(services: Services) -> None:
    """The backoff ends (as it does with time)."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    services.store.put(dataclasses.replace(sync_record(services), quota_backoff_until=past))


def test_a_quota_answer_in_background_keeps_the_calendars_place_and_signals_meanwhile_cost_no_calls(
    caller: GoogleCaller,
    google: FakeGoogle,
    background: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    quota_lines: Callable[[], list[dict[str, Any]]],
    syncer: CalendarSyncer,
) -> None:
    services = background
    syncer.quota_backoff_seconds = 3600.0
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    before = sync_record(services)
    google.fail(LIST_PATH, 403, body=quota_error(), method="GET")

    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Renamed while Google was busy"})
    settle(google, services)

    record = sync_record(services)
    assert record.sync_token == before.sync_token  # its place is kept
    assert record.suspended is None  # a slow-down is not a refusal
    assert record.quota_strikes == 1 and record.backing_off()
    assert the_meeting("zoom", zoom, webex).data["topic"] == "Quarterly review"
    assert [(line["method"], line["mode"], line["retrying"]) for line in quota_lines()] == [
        ("calendar.events.list", "background", False)
    ]
    read = lists(google)

    (channel,) = [c for c in google.channels_of(CALENDAR) if c.live]
    assert [google.deliver(channel.channel_id) for _ in range(3)] == [200] * 3
    settle(google, services)
    assert syncer.reconcile_all(deadline=float("inf")) == 0

    assert lists(google) == read  # Calendar was not asked again while the calendar backs off

    backoff_over(services)
    assert syncer.reconcile_all(deadline=float("inf")) == 1

    assert the_meeting("zoom", zoom, webex).data["topic"] == "Renamed while Google was busy"
    record = sync_record(services)
    assert record.sync_token != before.sync_token and record.suspended is None
    assert (record.quota_strikes, record.quota_backoff_until) == (0, None)
    assert len(quota_lines()) == 1


def test_the_change_is_applied_by_a_sync_waiting_for_the_end_of_the_backoff(
    caller: GoogleCaller,
    google: FakeGoogle,
    background: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    quota_lines: Callable[[], list[dict[str, Any]]],
    syncer: CalendarSyncer,
) -> None:
    services = background
    syncer.quota_backoff_seconds = 0.05
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    google.fail(LIST_PATH, 429, body=quota_error(429), method="GET")

    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Applied after the backoff"})
    settle(google, services)
    assert services.tasks.wait_idle(20, delayed=True)
    settle(google, services)

    assert the_meeting("zoom", zoom, webex).data["topic"] == "Applied after the backoff"
    record = sync_record(services)
    assert (record.quota_strikes, record.quota_backoff_until, record.suspended) == (0, None, None)
    assert [(line["status"], line["reason"]) for line in quota_lines()] == [(429, "rateLimitExceeded")]


def test_repeated_quota_answers_make_the_backoff_grow_and_a_sync_that_gets_through_resets_it(
    caller: GoogleCaller,
    google: FakeGoogle,
    background: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    syncer: CalendarSyncer,
) -> None:
    services = background
    syncer.quota_backoff_seconds = 600.0
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    sync_id = CalendarSync.id_for(ALICE.sub, CALENDAR)
    google.fail(LIST_PATH, 403, times=2, body=quota_error(403, "userRateLimitExceeded"), method="GET")

    report = syncer.sync(sync_id)
    first_done = datetime.now(UTC)
    first = sync_record(services)
    backoff_over(services)
    second_started = datetime.now(UTC)
    syncer.sync(sync_id)
    second = sync_record(services)

    assert report is not None and report.outcome == "backing off (userRateLimitExceeded)"
    assert first.quota_strikes == 1 and first.quota_backoff_until is not None
    assert first.quota_backoff_until <= first_done + timedelta(seconds=600)
    assert second.quota_strikes == 2 and second.quota_backoff_until is not None
    assert second.quota_backoff_until >= second_started + timedelta(seconds=600)
    assert second.suspended is None

    backoff_over(services)
    syncer.sync(sync_id)

    record = sync_record(services)
    assert (record.quota_strikes, record.quota_backoff_until) == (0, None)


def test_a_daily_limit_in_background_waits_hours_and_suspends_nothing(
    caller: GoogleCaller,
    google: FakeGoogle,
    background: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    syncer: CalendarSyncer,
) -> None:
    services = background
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    google.fail(LIST_PATH, 403, body=quota_error(403, "dailyLimitExceeded"), method="GET")
    started = datetime.now(UTC)

    syncer.sync(CalendarSync.id_for(ALICE.sub, CALENDAR))

    record = sync_record(services)
    assert record.suspended is None
    assert record.quota_backoff_until is not None
    assert record.quota_backoff_until >= started + timedelta(minutes=30)
    (home,) = trigger_cards(caller.post("/calendar/home", caller.event("CALENDAR")).get_json())
    assert "Paused" not in card_text(home)


def test_with_cloud_tasks_the_sync_after_a_backoff_is_a_task_for_its_end(
    caller: GoogleCaller,
    google: FakeGoogle,
    background: Services,
    zoom: FakeZoom,
    webex: FakeWebex,
    monkeypatch: pytest.MonkeyPatch,
    syncer: CalendarSyncer,
) -> None:
    services = background
    monkeypatch.setenv("GCE_METADATA_HOST", google.url.removeprefix("http://"))
    settings = dataclasses.replace(services.settings, cron_service_account=INVOKER)
    services.settings = settings
    queue = "projects/test-project/locations/europe-west6/queues/calendar-sync"
    services.cloud_tasks = CloudTasks(
        queue, settings.base_url, INVOKER, RuntimeIdentity(), settings.google_api_endpoint, window_seconds=1.0
    )
    syncer.quota_backoff_seconds = 1.0
    meeting_on_event(caller, google, services, "zoom", zoom, webex)
    queued = len(google.state.cloud_tasks)
    google.fail(LIST_PATH, 403, body=quota_error(), method="GET")

    google.edit_event(CALENDAR, EVENT_ID, {"summary": "Through a task after the backoff"})
    settle(google, services)

    assert the_meeting("zoom", zoom, webex).data["topic"] == "Through a task after the backoff"
    assert len(google.state.cloud_tasks) - queued == 2  # the notification's task, and the one after the backoff
    dispatched = google.state.task_dispatches
    assert dispatched and all(d.status == 200 for d in dispatched)
    record = sync_record(services)
    assert (record.quota_strikes, record.suspended) == (0, None)
