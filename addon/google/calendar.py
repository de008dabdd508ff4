"""Calendar events read with the user's token."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from addon.events import Attendee, Conference, parse_conference
from addon.google.client import GoogleApiError, GoogleApis, GoogleNotFound


@dataclass(frozen=True)
class CalendarEvent:
    calendar_id: str
    event_id: str
    title: str
    start: datetime | None
    end: datetime | None
    all_day: bool
    attendees: tuple[Attendee, ...]
    conference: Conference | None
    html_link: str | None
    description: str = ""
    location: str = ""
    time_zone: str | None = None
    recurring_event_id: str | None = None
    recurrence: tuple[str, ...] = ()
    private_properties: Mapping[str, str] = field(default_factory=dict)
    # Only in a list of changes: a deleted event (or a cancelled occurrence) is still listed, as cancelled.
    cancelled: bool = False
    # For an occurrence of a series: when the series had it start.
    original_start: datetime | None = None

    @property
    def is_series(self) -> bool:
        """A repeating event, or one occurrence of one."""
        return bool(self.recurrence or self.recurring_event_id)

    @property
    def series_id(self) -> str:
        """The event a meeting belongs to: the series for an instance of a recurring event."""
        return self.recurring_event_id or self.event_id


def read_event(apis: GoogleApis, user_token: str, calendar_id: str, event_id: str) -> CalendarEvent:
    """The event as Calendar has it now; a deleted or cancelled event is GoogleNotFound."""
    request = apis.calendar_events.get(calendarId=calendar_id, eventId=event_id)
    event = apis.execute(request, user_token)
    if event.get("status") == "cancelled":
        raise GoogleNotFound("event was cancelled", 410)
    return event_from_api(calendar_id, event)


def insert_event(
    apis: GoogleApis, user_token: str, calendar_id: str, body: Mapping[str, Any], send_updates: str
) -> CalendarEvent:
    """Create an event; with a client-chosen id a repeat raises GoogleConflict instead of making a second one."""
    request = apis.calendar_events.insert(
        calendarId=calendar_id, body=dict(body), conferenceDataVersion=1, sendUpdates=send_updates
    )
    return event_from_api(calendar_id, apis.execute(request, user_token))


def patch_event(
    apis: GoogleApis, user_token: str, calendar_id: str, event_id: str, body: Mapping[str, Any], send_updates: str
) -> CalendarEvent:
    """Change only the given fields (arrays given replace the old ones)."""
    request = apis.calendar_events.patch(
        calendarId=calendar_id, eventId=event_id, body=dict(body), conferenceDataVersion=1, sendUpdates=send_updates
    )
    return event_from_api(calendar_id, apis.execute(request, user_token))


class SyncTokenExpired(Exception):
    """Calendar no longer honours the sync token (410 Gone): list the calendar in full again."""


@dataclass(frozen=True)
class Changes:
    events: tuple[CalendarEvent, ...]
    next_sync_token: str
    full: bool


def changed_events(
    apis: GoogleApis, token: str, calendar_id: str, sync_token: str | None, window_start: datetime, max_pages: int = 50
) -> Changes:
    """Every event changed since `sync_token`, deleted ones included; without a token, every event from
    `window_start` on. Pages are followed to the end, where Calendar hands out the next sync token."""
    # The same parameters every time: Calendar refuses filters it cannot combine with a sync token.
    query: dict[str, Any] = {"calendarId": calendar_id, "showDeleted": True, "maxResults": 250}
    if sync_token:
        query["syncToken"] = sync_token
    else:
        query["timeMin"] = window_start.isoformat()
    events: list[CalendarEvent] = []
    page_token: str | None = None
    for _ in range(max_pages):
        request = apis.calendar_events.list(**query, **({"pageToken": page_token} if page_token else {}))
        try:
            page = apis.execute(request, token)
        except GoogleNotFound as error:
            if sync_token and error.status == 410:
                raise SyncTokenExpired(calendar_id) from error
            raise
        events.extend(event_from_api(calendar_id, item) for item in page.get("items") or [] if isinstance(item, dict))
        page_token = page.get("nextPageToken")
        if not page_token:
            next_token = page.get("nextSyncToken")
            if not isinstance(next_token, str) or not next_token:
                raise GoogleApiError("Calendar listed events without a sync token")
            return Changes(tuple(events), next_token, full=sync_token is None)
    raise GoogleApiError(f"more than {max_pages} pages of changes in one calendar")


@dataclass(frozen=True)
class Channel:
    channel_id: str
    resource_id: str
    expires_at: datetime


def watch_events(
    apis: GoogleApis, token: str, calendar_id: str, *, channel_id: str, address: str, secret: str, ttl_seconds: int
) -> Channel:
    """Ask Calendar to POST to `address` whenever the calendar's events change, carrying `secret`."""
    body = {
        "id": channel_id,
        "type": "web_hook",
        "address": address,
        "token": secret,
        "params": {"ttl": str(ttl_seconds)},
    }
    answer = apis.execute(apis.calendar_events.watch(calendarId=calendar_id, body=body), token)
    try:
        expires_at = datetime.fromtimestamp(int(answer["expiration"]) / 1000, UTC)
        return Channel(str(answer["id"]), str(answer["resourceId"]), expires_at)
    except (KeyError, TypeError, ValueError) as error:
        raise GoogleApiError("Calendar answered a watch without its channel") from error


def stop_channel(apis: GoogleApis, token: str, channel_id: str, resource_id: str) -> None:
    """Stop a push channel; one that is already gone is fine."""
    with contextlib.suppress(GoogleNotFound):
        apis.execute(apis.calendar_channels.stop(body={"id": channel_id, "resourceId": resource_id}), token)


def event_from_api(calendar_id: str, event: Mapping[str, Any]) -> CalendarEvent:
    start, all_day = _when(event.get("start"))
    end, _ = _when(event.get("end"))
    conference = event.get("conferenceData")
    properties = (event.get("extendedProperties") or {}).get("private") or {}
    start_part = event.get("start") if isinstance(event.get("start"), dict) else {}
    return CalendarEvent(
        calendar_id=calendar_id,
        event_id=str(event.get("id") or ""),
        title=str(event.get("summary") or "").strip(),
        start=start,
        end=end,
        all_day=all_day,
        attendees=tuple(
            Attendee(
                email=a["email"],
                display_name=a.get("displayName"),
                response_status=a.get("responseStatus"),
                optional=a.get("optional") is True,
                organizer=a.get("organizer") is True,
                is_self=a.get("self") is True,
                resource=a.get("resource") is True,
            )
            for a in event.get("attendees", [])
            if isinstance(a, dict) and isinstance(a.get("email"), str)
        ),
        conference=parse_conference(conference) if isinstance(conference, dict) else None,
        html_link=event.get("htmlLink") if isinstance(event.get("htmlLink"), str) else None,
        description=str(event.get("description") or ""),
        location=str(event.get("location") or ""),
        time_zone=start_part.get("timeZone") if isinstance(start_part.get("timeZone"), str) else None,
        recurring_event_id=event.get("recurringEventId") if isinstance(event.get("recurringEventId"), str) else None,
        recurrence=tuple(r for r in event.get("recurrence") or [] if isinstance(r, str)),
        private_properties={str(k): str(v) for k, v in properties.items()} if isinstance(properties, dict) else {},
        cancelled=event.get("status") == "cancelled",
        original_start=_when(event.get("originalStartTime"))[0],
    )


def _when(value: Any) -> tuple[datetime | None, bool]:
    """A start or end: dateTime with offset, or an all-day date (midnight in the event's zone)."""
    if not isinstance(value, dict):
        return None, False
    try:
        if isinstance(value.get("dateTime"), str):
            return datetime.fromisoformat(value["dateTime"]), False
        if isinstance(value.get("date"), str):
            zone = ZoneInfo(value["timeZone"]) if isinstance(value.get("timeZone"), str) else None
            return datetime.combine(date.fromisoformat(value["date"]), time(), zone), True
    except (ValueError, KeyError):
        pass
    return None, False


# After a failed lookup, how long a user's zone is taken as unknown before Calendar is asked again.
ZONE_RETRY_SECONDS = 60.0


class CalendarZones:
    """Users' calendar time zones, for requests that arrive without one (the locale scope was declined)."""

    def __init__(self, ttl_seconds: float = 3600.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._zones: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def zone_of(self, apis: GoogleApis, user_id: str, user_token: str) -> str | None:
        """The primary calendar's IANA zone; None if Calendar cannot tell. Cached per user for an hour."""
        now = monotonic()
        with self._lock:
            cached = self._zones.get(user_id)
        if cached and now - cached[0] < self.ttl_seconds:
            return cached[1]
        # events.list carries the calendar's zone and needs no scope beyond calendar.events.
        request = apis.calendar_events.list(calendarId="primary", maxResults=1, fields="timeZone")
        try:
            zone = apis.execute(request, user_token).get("timeZone")
        except GoogleApiError:
            # Not asked again for a minute: a Calendar in trouble should not cost every request a wait.
            with self._lock:
                self._zones[user_id] = (now - self.ttl_seconds + ZONE_RETRY_SECONDS, None)
            return None
        found = zone if isinstance(zone, str) else None
        with self._lock:
            if len(self._zones) > 10_000:
                self._zones.clear()
            self._zones[user_id] = (now, found)
        return found
