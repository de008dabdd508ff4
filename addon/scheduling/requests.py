"""What the use cases are asked and what they answer: the acting user, an email's form, a meeting on an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from addon.google.calendar import CalendarEvent
from addon.meetings.model import Meeting
from addon.store import MeetingLink


@dataclass(frozen=True)
class Actor:
    """The verified user a use case acts for, with their Google token and time zone."""

    user_id: str
    email: str
    google_token: str
    zone: ZoneInfo


@dataclass(frozen=True)
class EmailMeetingRequest:
    message_id: str
    title: str
    attendees: tuple[str, ...]
    start: datetime
    duration_minutes: int
    send_invitations: bool = True
    # Whether the form listed anyone: an email with nobody else on it may be scheduled alone.
    participants_offered: bool = True


@dataclass(frozen=True)
class MeetingOnEvent:
    """A use case's answer: the meeting's link, and the meeting and event as this request saw them.

    `meeting` is None when another request made it (the link has its join URL)."""

    link: MeetingLink
    meeting: Meeting | None
    event: CalendarEvent | None


class CalendarTracker(Protocol):
    """Keeps a calendar's events and their meetings in step once a meeting is on it (addon/sync)."""

    def track(self, user_id: str, email: str, calendar_id: str, google_token: str | None) -> None: ...
