"""What ties a meeting to its event: the link's key, what the meeting copies from the event, whom it is for."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

from addon.google.calendar import CalendarEvent
from addon.meetings.model import MeetingOptions, MeetingSpec


def event_key(calendar_id: str, event_id: str) -> str:
    """The MeetingLink key of an event (of the series, for an occurrence)."""
    return f"{calendar_id}/{event_id}"


def fingerprint(event: CalendarEvent) -> str:
    """What a meeting copies from its event; a different value means the meeting needs updating."""
    parts = [event.title, _iso(event.start), _iso(event.end), *sorted(event.recurrence), *guests(event)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def guests(event: CalendarEvent) -> tuple[str, ...]:
    """The people a meeting is for: the event's guests, without rooms and without the organiser's own entry."""
    return tuple(sorted({a.email.lower() for a in event.attendees if not a.resource and not a.is_self}))


def link_expiry(event: CalendarEvent, retention_days: int) -> datetime:
    """The retention, counted from the meeting's end (a series: from now, renewed on each change)."""
    now = datetime.now(UTC)
    last = event.end if event.end is not None and not event.recurrence else now
    return max(last, now) + timedelta(days=retention_days)


def meeting_spec(event: CalendarEvent, *, zone: str, options: MeetingOptions) -> MeetingSpec:
    """The meeting an event describes (its times must have been checked); `zone` where the event has none."""
    if event.start is None or event.end is None:
        raise ValueError("an event without a start and an end describes no meeting")
    rule = next((r.removeprefix("RRULE:") for r in event.recurrence if r.startswith("RRULE:")), None)
    return MeetingSpec(
        title=event.title or "Meeting",
        start=event.start,
        end=event.end,
        time_zone=event.time_zone or zone,
        invitees=guests(event),
        options=dataclasses.replace(options, recurrence=rule),
    )


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""
