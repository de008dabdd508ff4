"""Scenes many tests share: Alice on her chosen service, an email to schedule from, an event to add a meeting to,
and a calendar the app keeps in step (settled once every notification and sync it caused is done)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from addon.meetings.oauth import TokenSet
from addon.services import Services
from addon.store import MeetingLink, UserSettings
from tests.fakes.google import FakeGoogle, FakeMessage
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller

MESSAGE = FakeMessage(
    "msg-f:77",
    "per-message-77",
    [
        ("Subject", "Re: Launch plan"),
        ("From", '"Doe, Jane" <jane@partner.example>'),
        ("To", "alice@corp.example, bob@corp.example"),
    ],
)


ZURICH = ZoneInfo("Europe/Zurich")


START = (datetime.now(UTC) + timedelta(days=5)).astimezone(ZURICH).replace(hour=15, minute=0, second=0, microsecond=0)


EVENT_ID = "evt42"


def use(services: Services, provider: str, zoom: FakeZoom, webex: FakeWebex) -> None:
    """Alice's chosen service, with her account connected where it needs one."""
    services.store.put(UserSettings(user_id=ALICE.sub, provider=provider))
    fake = {"zoom": zoom, "webex": webex}.get(provider)
    if fake is not None:
        tokens = fake.connect("alice@corp.example")
        services.meetings.grants.save(
            ALICE.sub,
            provider,
            TokenSet(tokens["access_token"], tokens["refresh_token"], datetime.now(UTC) + timedelta(hours=1)),
        )


def schedule_body(caller: GoogleCaller, **inputs: Any) -> dict[str, Any]:
    form = {
        "title": ["Launch plan"],
        "participants": ["jane@partner.example", "bob@corp.example"],
        "duration": ["45"],
        "send_invitations": ["yes"],
        **inputs,
    }
    body = caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token)
    body["commonEventObject"]["formInputs"] = {
        name: {"stringInputs": {"value": values}} for name, values in form.items() if name != "start"
    }
    start = inputs.get("start", START)
    body["commonEventObject"]["formInputs"]["start"] = {
        "dateTimeInput": {"msSinceEpoch": int(start.timestamp() * 1000)}
    }
    return body


def inserted_events(google: FakeGoogle) -> list[dict[str, Any]]:
    return [e for (calendar, _), e in google.state.events.items() if calendar == ALICE.email]


def notification(response: Any) -> str:
    return response.get_json()["renderActions"]["action"]["notification"]["text"]


def arrange_event(google: FakeGoogle, **fields: Any) -> None:
    google.add_event(
        ALICE.email,
        {
            "id": EVENT_ID,
            "summary": "Quarterly review",
            "description": "Agenda: numbers.",
            "start": {"dateTime": START.isoformat(), "timeZone": "Europe/Zurich"},
            "end": {"dateTime": (START + timedelta(hours=1)).isoformat(), "timeZone": "Europe/Zurich"},
            "attendees": [
                {"email": ALICE.email, "self": True, "organizer": True},
                {"email": "bob@corp.example"},
                {"email": "room@resource.calendar.google.com", "resource": True},
            ],
            **fields,
        },
    )


def event_action(caller: GoogleCaller, path: str) -> Any:
    return caller.post(path, caller.calendar_event(ALICE.email, EVENT_ID))


def stored_event(google: FakeGoogle) -> dict[str, Any]:
    return google.state.events[(ALICE.email, EVENT_ID)]


CALENDAR = ALICE.email


KEY = f"{CALENDAR}/{EVENT_ID}"


def settle(google: FakeGoogle, services: Services) -> None:
    """Wait until every notification is answered and every sync it started is done (syncs write, and
    Calendar tells the app about its own writes too)."""
    for _ in range(10):
        seen = len(google.state.deliveries)
        assert google.settle_deliveries(10)
        assert services.tasks.wait_idle(20)
        if len(google.state.deliveries) == seen:
            return
    raise AssertionError("the calendar never settled")


def meeting_on_event(
    caller: GoogleCaller,
    google: FakeGoogle,
    services: Services,
    provider: str,
    zoom: FakeZoom,
    webex: FakeWebex,
    **fields: Any,
) -> MeetingLink:
    """Alice adds a meeting to her event; the app then watches her calendar."""
    use(services, provider, zoom, webex)
    arrange_event(google, **fields)
    response = event_action(caller, "/actions/add-meeting")
    assert response.status_code == 200, response.get_data(as_text=True)
    settle(google, services)
    link = services.store.get(MeetingLink, KEY)
    assert link is not None and link.state == "ready"
    assert any(channel.calendar_id == CALENDAR for channel in google.channels_of(CALENDAR))
    return link


def times(start: datetime, length: timedelta) -> dict[str, Any]:
    """An event's new start and end, as Calendar's editor saves them."""
    return {
        "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Zurich"},
        "end": {"dateTime": (start + length).isoformat(), "timeZone": "Europe/Zurich"},
    }


def service(provider: str, zoom: FakeZoom, webex: FakeWebex) -> FakeZoom | FakeWebex:
    return {"zoom": zoom, "webex": webex}[provider]


def the_meeting(provider: str, zoom: FakeZoom, webex: FakeWebex) -> Any:
    (meeting,) = service(provider, zoom, webex).meetings.values()
    return meeting
