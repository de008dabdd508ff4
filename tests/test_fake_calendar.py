"""The fake Calendar behaves as Google's does where the add-on relies on it: sync tokens, push channels, delegation."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import google.auth.transport.requests
import google_auth_httplib2
import httplib2
import pytest
import requests
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest
from werkzeug.wrappers import Request, Response

from addon.google.client import GoogleApis
from tests.fakes.google import FakeGoogle
from tests.fakes.http_server import WsgiServer

TOKEN = "ya29.user-token"
ALICE = "alice@corp.example"
BOB = "bob@corp.example"
CALENDAR_EVENTS = "https://www.googleapis.com/auth/calendar.events"
ADDRESS = "https://addon.test/calendar/push?v=1"


class Receiver:
    """The add-on's push endpoint, stood in for: records each notification and answers `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[Request] = []
        self._server = WsgiServer(self._app)
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def _app(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        request.get_data()
        self.received.append(request)
        return Response(status=self.status)(environ, start_response)

    def __enter__(self) -> Receiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


@pytest.fixture(scope="module")
def apis(fake_google_server: FakeGoogle) -> GoogleApis:
    return GoogleApis(endpoint=fake_google_server.url)


@pytest.fixture
def calendar(google: FakeGoogle) -> FakeGoogle:
    google.add_user_token(TOKEN)
    google.state.calendar_zones[ALICE] = "Europe/Zurich"
    return google


@pytest.fixture
def receiver(calendar: FakeGoogle) -> Iterator[Receiver]:
    with Receiver() as receiver:
        calendar.push_target = receiver.url
        yield receiver


def call(request: HttpRequest, token: str = TOKEN) -> dict[str, Any]:
    http = httplib2.Http(timeout=5)
    try:
        return request.execute(http=google_auth_httplib2.AuthorizedHttp(Credentials(token), http=http))
    finally:
        http.close()


def refusal(request: HttpRequest) -> tuple[int, dict[str, Any]]:
    with pytest.raises(HttpError) as error:
        call(request)
    return error.value.resp.status, json.loads(error.value.content)


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "summary": f"Meeting {event_id}",
        "start": {"dateTime": "2026-11-23T10:00:00+01:00", "timeZone": "Europe/Zurich"},
        "end": {"dateTime": "2026-11-23T11:00:00+01:00", "timeZone": "Europe/Zurich"},
        **fields,
    }


def list_all(apis: GoogleApis, calendar_id: str = ALICE, **query: Any) -> tuple[list[dict[str, Any]], str]:
    """Every page of a list: the items and the sync token of the last page."""
    items: list[dict[str, Any]] = []
    page_token = None
    while True:
        page = call(apis.calendar_events.list(calendarId=calendar_id, pageToken=page_token, **query))
        items.extend(page["items"])
        page_token = page.get("nextPageToken")
        if page_token is None:
            return items, page["nextSyncToken"]
        assert "nextSyncToken" not in page


def watch(apis: GoogleApis, channel_id: str = "channel-1", **body: Any) -> dict[str, Any]:
    channel = {"id": channel_id, "type": "web_hook", "address": ADDRESS, "token": "secret-1", **body}
    return call(apis.calendar_events.watch(calendarId=ALICE, body=channel))


# events.list and the change log ---------------------------------------------------------------


def test_pages_follow_the_order_of_writes_and_only_the_last_has_a_sync_token(
    apis: GoogleApis, calendar: FakeGoogle
) -> None:
    for name in ("aaaaa", "bbbbb", "ccccc", "ddddd", "eeeee"):
        calendar.add_event(ALICE, event(name))
    calendar.edit_event(ALICE, "aaaaa", {"summary": "Moved to the end"})

    first = call(apis.calendar_events.list(calendarId=ALICE, maxResults=2))
    items, sync_token = list_all(apis, maxResults=2)

    assert (first["kind"], first["timeZone"]) == ("calendar#events", "Europe/Zurich")
    assert first["updated"].endswith("Z") and "nextSyncToken" not in first
    assert [e["id"] for e in items] == ["bbbbb", "ccccc", "ddddd", "eeeee", "aaaaa"]
    assert {e["status"] for e in items} == {"confirmed"} and all(e["etag"] and e["updated"] for e in items)
    assert sync_token


def test_fields_give_just_the_calendar_zone(apis: GoogleApis, calendar: FakeGoogle) -> None:
    calendar.add_event(ALICE, event("aaaaa"))

    answer = call(apis.calendar_events.list(calendarId=ALICE, maxResults=1, fields="timeZone"))

    assert answer == {"timeZone": "Europe/Zurich"}


def test_a_sync_token_brings_every_change_since_including_tombstones(apis: GoogleApis, calendar: FakeGoogle) -> None:
    private = {"private": {"meeting": "zoom-1"}}
    calendar.add_event(ALICE, event("kept1", extendedProperties=private))
    calendar.add_event(ALICE, event("gone1"))
    calendar.add_event(ALICE, event("moved", extendedProperties=private))
    calendar.add_event(ALICE, event("same1"))
    _, sync_token = list_all(apis)

    calendar.edit_event(ALICE, "kept1", {"summary": "Renamed"})
    calendar.delete_event(ALICE, "gone1")
    calendar.move_event(ALICE, "moved", BOB)
    duplicate = calendar.copy_event(ALICE, "kept1")
    changes, next_token = list_all(apis, syncToken=sync_token, showDeleted=True)

    assert [(e["id"], e["status"]) for e in changes] == [
        ("kept1", "confirmed"),
        ("gone1", "cancelled"),
        ("moved", "cancelled"),
        (duplicate, "confirmed"),
    ]
    assert changes[0]["summary"] == "Renamed"
    assert set(changes[1]) <= {"kind", "id", "status", "etag", "updated"}
    assert changes[3]["extendedProperties"] == private and "recurringEventId" not in changes[3]
    assert calendar.event(BOB, "moved")["extendedProperties"] == private  # type: ignore[index]
    assert list_all(apis, syncToken=next_token)[0] == []


def test_deleted_events_are_listed_in_full_only_with_show_deleted(apis: GoogleApis, calendar: FakeGoogle) -> None:
    calendar.add_event(ALICE, event("aaaaa"))
    calendar.add_event(ALICE, event("bbbbb"))
    calendar.delete_event(ALICE, "bbbbb")

    assert [e["id"] for e in list_all(apis)[0]] == ["aaaaa"]
    assert [e["id"] for e in list_all(apis, showDeleted=True)[0]] == ["aaaaa", "bbbbb"]
    assert call(apis.calendar_events.get(calendarId=ALICE, eventId="bbbbb"))["status"] == "cancelled"
    assert [e["id"] for e in calendar.events_of(ALICE)] == ["aaaaa"]


def test_a_full_list_can_start_at_time_min(apis: GoogleApis, calendar: FakeGoogle) -> None:
    calendar.add_event(ALICE, event("early", end={"dateTime": "2026-11-01T11:00:00+01:00"}))
    calendar.add_event(ALICE, event("later"))

    items, _ = list_all(apis, timeMin="2026-11-20T00:00:00Z")

    assert [e["id"] for e in items] == ["later"]


def test_one_changed_and_one_cancelled_occurrence_are_exceptions_of_the_series(
    apis: GoogleApis, calendar: FakeGoogle
) -> None:
    series = event("series1", recurrence=["RRULE:FREQ=WEEKLY;COUNT=5"], extendedProperties={"private": {"m": "1"}})
    calendar.add_event(ALICE, series)
    _, sync_token = list_all(apis)

    calendar.edit_occurrence(ALICE, "series1", "2026-11-30T10:00:00+01:00", {"summary": "Just this once"})
    calendar.cancel_occurrence(ALICE, "series1", "2026-12-07T10:00:00+01:00")
    changed, cancelled = list_all(apis, syncToken=sync_token)[0]

    assert changed["id"] == "series1_20261130T090000Z" and changed["recurringEventId"] == "series1"
    assert changed["originalStartTime"] == {"dateTime": "2026-11-30T10:00:00+01:00", "timeZone": "Europe/Zurich"}
    assert changed["summary"] == "Just this once" and changed["extendedProperties"] == {"private": {"m": "1"}}
    assert changed["end"]["dateTime"] == "2026-11-30T11:00:00+01:00" and "recurrence" not in changed
    assert cancelled == {
        "kind": "calendar#event",
        "id": "series1_20261207T090000Z",
        "status": "cancelled",
        "recurringEventId": "series1",
        "originalStartTime": {"dateTime": "2026-12-07T10:00:00+01:00", "timeZone": "Europe/Zurich"},
        "etag": cancelled["etag"],
        "updated": cancelled["updated"],
    }
    # As Google documents for singleEvents=false: cancelled occurrences of a live series come even without showDeleted.
    assert [e["id"] for e in list_all(apis)[0]] == ["series1", changed["id"], cancelled["id"]]
    calendar.delete_event(ALICE, "series1")
    assert list_all(apis)[0] == []


def test_invalidated_sync_tokens_answer_410_full_sync_required(apis: GoogleApis, calendar: FakeGoogle) -> None:
    calendar.add_event(ALICE, event("aaaaa"))
    _, sync_token = list_all(apis)
    calendar.invalidate_sync_tokens(ALICE)

    status, body = refusal(apis.calendar_events.list(calendarId=ALICE, syncToken=sync_token))

    assert status == 410
    assert body["error"]["errors"][0]["reason"] == "fullSyncRequired"
    assert list_all(apis)[0]  # a full list works again


@pytest.mark.parametrize(
    "query",
    [{"timeMin": "2026-11-01T00:00:00Z"}, {"timeMax": "2026-11-01T00:00:00Z"}, {"showDeleted": False}],
)
def test_a_sync_token_does_not_combine_with_filters(apis: GoogleApis, calendar: FakeGoogle, query: dict) -> None:
    _, sync_token = list_all(apis)

    status, _ = refusal(apis.calendar_events.list(calendarId=ALICE, syncToken=sync_token, **query))

    assert status == 400


def test_a_sync_token_of_another_calendar_is_refused(apis: GoogleApis, calendar: FakeGoogle) -> None:
    _, bobs_token = list_all(apis, BOB)

    status, _ = refusal(apis.calendar_events.list(calendarId=ALICE, syncToken=bobs_token))

    assert status == 400


# events.watch and push notifications -----------------------------------------------------------


def test_watch_answers_the_channel_and_sends_sync_first(
    apis: GoogleApis, calendar: FakeGoogle, receiver: Receiver
) -> None:
    started = time.time()
    channel = watch(apis, params={"ttl": "3600"})
    assert calendar.settle_deliveries()

    assert set(channel) == {"kind", "id", "resourceId", "resourceUri", "token", "expiration"}
    assert (channel["kind"], channel["id"], channel["token"]) == ("api#channel", "channel-1", "secret-1")
    assert int(started) + 3600 <= int(channel["expiration"]) / 1000 <= time.time() + 3600
    (sync,) = receiver.received
    assert (sync.method, sync.full_path, sync.get_data()) == ("POST", "/calendar/push?v=1", b"")
    assert sync.headers["X-Goog-Resource-State"] == "sync" and sync.headers["X-Goog-Message-Number"] == "1"
    assert sync.headers["X-Goog-Channel-ID"] == "channel-1" and sync.headers["X-Goog-Channel-Token"] == "secret-1"
    assert sync.headers["X-Goog-Resource-ID"] == channel["resourceId"]
    assert sync.headers["X-Goog-Resource-URI"] == channel["resourceUri"]
    assert sync.headers["User-Agent"].startswith("APIs-Google")
    expires = parsedate_to_datetime(sync.headers["X-Goog-Channel-Expiration"]).timestamp()
    assert expires == int(channel["expiration"]) // 1000


def test_each_change_is_told_to_the_calendars_channels(
    apis: GoogleApis, calendar: FakeGoogle, receiver: Receiver
) -> None:
    calendar.add_event(ALICE, event("aaaaa"))
    second = watch(apis, "channel-2", token=None)
    watch(apis, "channel-1")
    calendar.settle_deliveries()

    calendar.edit_event(ALICE, "aaaaa", {"summary": "New title"})
    assert len(receiver.received) == 4  # both channels were told before edit_event returned
    call(apis.calendar_events.patch(calendarId=ALICE, eventId="aaaaa", body={"location": "Room 1"}))
    calendar.settle_deliveries()

    told = [(r.headers["X-Goog-Channel-ID"], r.headers["X-Goog-Resource-State"]) for r in receiver.received[2:]]
    assert told == [("channel-2", "exists"), ("channel-1", "exists")] * 2
    numbers = [
        int(r.headers["X-Goog-Message-Number"])
        for r in receiver.received
        if r.headers["X-Goog-Channel-ID"] == "channel-1"
    ]
    assert numbers[0] == 1 and numbers == sorted(set(numbers))
    assert "X-Goog-Channel-Token" not in receiver.received[-2].headers
    assert second["resourceId"] == calendar.channels_of(ALICE)[1].resource_id
    assert [d.status for d in calendar.state.deliveries] == [200] * 6


def test_a_forged_notification_gets_the_add_ons_answer(
    calendar: FakeGoogle, receiver: Receiver, apis: GoogleApis
) -> None:
    watch(apis)
    calendar.settle_deliveries()
    receiver.status = 403

    assert calendar.deliver("channel-1", token="forged") == 403
    assert receiver.received[-1].headers["X-Goog-Channel-Token"] == "forged"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"address": "http://addon.test/calendar/push"}, "push.webhookUrlNotHttps"),
        ({"id": "not a valid id"}, "invalid"),
        ({"id": "x" * 65}, "invalid"),
        ({"type": "email"}, "invalid"),
    ],
)
def test_watch_refuses_what_google_refuses(
    apis: GoogleApis, calendar: FakeGoogle, body: dict[str, Any], reason: str
) -> None:
    channel = {"id": "channel-1", "type": "web_hook", "address": ADDRESS, **body}

    status, answer = refusal(apis.calendar_events.watch(calendarId=ALICE, body=channel))

    assert (status, answer["error"]["errors"][0]["reason"]) == (400, reason)


def test_a_channel_id_is_used_once_and_lives_no_longer_than_google_allows(
    apis: GoogleApis, calendar: FakeGoogle
) -> None:
    calendar.state.max_channel_ttl_seconds = 60
    channel = watch(apis, expiration=str(int(time.time() * 1000) + 86_400_000))

    again = {"id": channel["id"], "type": "web_hook", "address": ADDRESS}
    status, answer = refusal(apis.calendar_events.watch(calendarId=ALICE, body=again))

    assert int(channel["expiration"]) <= time.time() * 1000 + 60_000
    assert (status, answer["error"]["errors"][0]["reason"]) == (400, "channelIdNotUnique")


def test_stopped_and_expired_channels_hear_nothing(apis: GoogleApis, calendar: FakeGoogle, receiver: Receiver) -> None:
    calendar.add_event(ALICE, event("aaaaa"))
    first, second = watch(apis, "channel-1"), watch(apis, "channel-2")
    calendar.settle_deliveries()
    stop = {"id": first["id"], "resourceId": first["resourceId"]}

    assert call(apis.calendar.channels().stop(body=stop)) == ""  # 204, no body
    assert refusal(apis.calendar.channels().stop(body=stop))[0] == 404
    assert refusal(apis.calendar.channels().stop(body={"id": "channel-2", "resourceId": "other"}))[0] == 404
    calendar.expire_channel(second["id"])
    calendar.edit_event(ALICE, "aaaaa", {"summary": "Unheard"})

    assert len(receiver.received) == 2  # the two sync messages
    assert [(c.channel_id, c.stopped, c.live) for c in calendar.channels_of(ALICE)] == [
        ("channel-1", True, False),
        ("channel-2", False, False),
    ]


# Domain-wide delegation -----------------------------------------------------------------------


def delegated(key_file: Path, subject: str, scopes: list[str] | None = None) -> service_account.Credentials:
    credentials = service_account.Credentials.from_service_account_file(
        str(key_file), scopes=scopes or [CALENDAR_EVENTS], subject=subject
    )
    credentials.refresh(google.auth.transport.requests.Request())
    return credentials


def test_a_delegated_token_acts_as_the_user(apis: GoogleApis, calendar: FakeGoogle, tmp_path: Path) -> None:
    calendar.state.delegation_users.add(ALICE)
    calendar.add_event(ALICE, event("aaaaa"))

    credentials = delegated(calendar.service_account_key_file(tmp_path), ALICE)
    token = credentials.token
    assert token is not None

    assert [e["id"] for e in call(apis.calendar_events.list(calendarId="primary"), token)["items"]] == ["aaaaa"]
    assert calendar.state.delegated_tokens[token] == ALICE
    assert [(r.sub, r.scopes, r.status) for r in calendar.state.token_requests] == [(ALICE, (CALENDAR_EVENTS,), 200)]
    calendar.revoke_token(token)
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        requests.get(f"{calendar.url}/calendar/v3/calendars/primary/events", headers=headers, timeout=5).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("arrange", "subject", "scopes", "error", "status"),
    [
        ("unknown key", ALICE, [CALENDAR_EVENTS], "invalid_grant: Invalid JWT Signature.", 400),
        ("", ALICE, ["https://www.googleapis.com/auth/calendar"], "unauthorized_client: Client is unauthorized", 401),
        ("delegation off", ALICE, [CALENDAR_EVENTS], "unauthorized_client: Client is unauthorized", 401),
        ("", "mallory@elsewhere.example", [CALENDAR_EVENTS], "invalid_grant: Invalid email or User ID", 400),
    ],
)
def test_delegation_refusals_are_googles(
    calendar: FakeGoogle, tmp_path: Path, arrange: str, subject: str, scopes: list[str], error: str, status: int
) -> None:
    calendar.state.delegation_users.add(ALICE)
    key_file = calendar.service_account_key_file(tmp_path)
    if arrange == "unknown key":
        calendar.state.service_account_keys.clear()
    if arrange == "delegation off":
        calendar.state.delegation_enabled = False

    with pytest.raises(RefreshError) as refused:
        delegated(key_file, subject, scopes)

    assert str(refused.value.args[0]).startswith(error)
    assert calendar.state.token_requests[-1].status == status
