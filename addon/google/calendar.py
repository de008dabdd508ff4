"""Calendar events read with the user's token."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
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
            return None
        found = zone if isinstance(zone, str) else None
        with self._lock:
            if len(self._zones) > 10_000:
                self._zones.clear()
            self._zones[user_id] = (now, found)
        return found
