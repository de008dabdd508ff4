"""Google saying "slow down": clicks wait a moment within their budget and then get a card that says so,
background sync keeps its place and backs off per calendar, and every quota answer is counted in the logs.

Quota answers come from the fake Google as Google sends them (tests/fakes/google.py `quota_error`): 403 with
a usageLimits reason, or 429 RESOURCE_EXHAUSTED, for Gmail and Calendar alike.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from addon.join_details import BLOCK_START
from addon.logs import JsonFormatter
from addon.services import Services
from addon.store import MeetingLink
from tests.card_schema import action_cards, card_text, trigger_cards
from tests.fakes.google import FakeGoogle, quota_error
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller
from tests.test_gmail import MESSAGE
from tests.test_scheduling import EVENT_ID, arrange_event, event_action, notification, schedule_body, stored_event, use

CALENDAR = ALICE.email
KEY = f"{CALENDAR}/{EVENT_ID}"
EVENT_PATH = f"/calendar/v3/calendars/{CALENDAR}/events/{EVENT_ID}"
LIST_PATH = f"/calendar/v3/calendars/{CALENDAR}/events"
BUSY = "Google is busy right now"
LIMIT = "A Google usage limit was reached"
PERMISSION = "The add-on lacks a permission"


@pytest.fixture
def services(app: Flask) -> Services:
    return app.extensions["addon"]


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
    caller: GoogleCaller, google: FakeGoogle, quota_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    google.fail("/gmail/", 429, body=quota_error(429, api="gmail"), headers={"Retry-After": "1"})

    card = only_card(open_message(caller, google))

    assert "Q3 budget review" in card_text(card)
    assert len(google.requests_to("/gmail/")) == 2
    (line,) = quota_lines()
    assert (line["retryAfterSeconds"], line["retrying"]) == (1.0, True)


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
