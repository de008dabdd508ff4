"""Calendar events read with the user's token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from addon.events import Attendee, Conference, parse_conference
from addon.google.client import GoogleApis, GoogleNotFound


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


def read_event(apis: GoogleApis, user_token: str, calendar_id: str, event_id: str) -> CalendarEvent:
    """The event as Calendar has it now; a deleted or cancelled event is GoogleNotFound."""
    request = apis.calendar_events.get(calendarId=calendar_id, eventId=event_id)
    event = apis.execute(request, user_token)
    if event.get("status") == "cancelled":
        raise GoogleNotFound("event was cancelled", 410)
    start, all_day = _when(event.get("start"))
    end, _ = _when(event.get("end"))
    conference = event.get("conferenceData")
    return CalendarEvent(
        calendar_id=calendar_id,
        event_id=event_id,
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
