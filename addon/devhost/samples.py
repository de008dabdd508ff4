"""The preview user's sample mailbox and calendar, kept in memory for as long as the process runs."""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PREVIEW_SUB = "preview-user-0001"
PREVIEW_EMAIL = "alex@example.com"
PREVIEW_NAME = "Alex Example"
# Not a secret: the sample APIs accept it, and only in development mode.
PREVIEW_OAUTH_TOKEN = "development-preview-oauth-token"  # noqa: S105


@dataclass(frozen=True)
class SampleMessage:
    message_id: str
    access_token: str
    subject: str
    sender: str
    to: str
    cc: str
    sent: datetime

    def headers(self) -> list[dict[str, str]]:
        found = [
            ("Subject", self.subject),
            ("From", self.sender),
            ("To", self.to),
            ("Cc", self.cc),
            ("Date", self.sent.strftime("%a, %d %b %Y %H:%M:%S +0000")),
        ]
        return [{"name": name, "value": value} for name, value in found if value]


class SampleWorkspace:
    """A mailbox of a few emails and a calendar of a few events, changed by the add-on like the real ones."""

    def __init__(self, zone: str = "Europe/Zurich") -> None:
        self.zone = zone
        self._lock = threading.Lock()
        self._changes = itertools.count(1)
        self.messages = {m.message_id: m for m in _messages()}
        # calendar id -> event id -> (change number, event)
        self._events: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {}
        for event in _events(ZoneInfo(zone)):
            self.write(PREVIEW_EMAIL, event)

    def write(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._store(calendar_id, event)

    def edit(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Apply `changes` to an event with patch semantics; None if the calendar has no such event."""
        with self._lock:
            # One lock for read and write, so two edits at once cannot lose either.
            found = self._events.get(calendar_id, {}).get(event_id)
            return self._store(calendar_id, _merge_patch(found[1], changes)) if found else None

    def _store(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Save under the next change number, as every write does, so sync tokens see it (lock held)."""
        stored = copy.deepcopy(event)
        stored.setdefault("id", secrets.token_hex(13))
        stored.setdefault("status", "confirmed")
        stored["htmlLink"] = f"https://calendar.google.com/calendar/event?eid={stored['id']}"
        stored["updated"] = datetime.now(UTC).isoformat()
        self._events.setdefault(calendar_id, {})[stored["id"]] = (next(self._changes), stored)
        return copy.deepcopy(stored)

    def event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._events.get(calendar_id, {}).get(event_id)
            return copy.deepcopy(found[1]) if found else None

    def changed_since(self, calendar_id: str, change: int) -> tuple[list[dict[str, Any]], int]:
        """Events written after change number `change`, oldest first, and the newest change number."""
        with self._lock:
            rows = sorted(self._events.get(calendar_id, {}).values(), key=lambda row: row[0])
            newest = rows[-1][0] if rows else change
            return [copy.deepcopy(event) for number, event in rows if number > change], newest

    def upcoming(self, calendar_id: str) -> list[dict[str, Any]]:
        """The calendar's events that are not cancelled, by start."""
        events, _ = self.changed_since(calendar_id, 0)
        live = [e for e in events if e.get("status") != "cancelled"]
        return sorted(live, key=lambda e: (e.get("start") or {}).get("dateTime", ""))


def _merge_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Google's patch semantics: objects merge, arrays and values replace, null removes."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def _messages() -> list[SampleMessage]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        SampleMessage(
            "sample-kickoff",
            "development-message-token-1",
            "Project kickoff",
            "Sam Lee <sam@partner.example>",
            f"{PREVIEW_NAME} <{PREVIEW_EMAIL}>",
            "Kim Park <kim@partner.example>",
            now - timedelta(hours=3),
        ),
        SampleMessage(
            "sample-budget",
            "development-message-token-2",
            "Re: Budget review for Q3",
            '"Nair, Priya" <priya@finance.example>',
            f"{PREVIEW_EMAIL}, jordan@finance.example",
            "",
            now - timedelta(days=1, hours=2),
        ),
        SampleMessage(
            "sample-lunch",
            "development-message-token-3",
            "Lunch next week?",
            "Taylor Brooks <taylor@example.org>",
            PREVIEW_EMAIL,
            "",
            now - timedelta(days=2),
        ),
    ]


def _events(zone: ZoneInfo) -> list[dict[str, Any]]:
    tomorrow = datetime.now(zone).date() + timedelta(days=1)

    def at(day_offset: int, hour: int) -> datetime:
        return datetime.combine(tomorrow + timedelta(days=day_offset), time(hour), zone)

    def times(start: datetime, minutes: int) -> dict[str, Any]:
        return {
            "start": {"dateTime": start.isoformat(), "timeZone": zone.key},
            "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat(), "timeZone": zone.key},
        }

    me = {"email": PREVIEW_EMAIL, "displayName": PREVIEW_NAME, "self": True, "organizer": True}
    return [
        {
            "id": "sampledesignreview",
            "summary": "Design review",
            "description": "Walk through the new onboarding screens.",
            "organizer": {"email": PREVIEW_EMAIL, "self": True},
            "attendees": [
                me,
                {"email": "kim@partner.example", "displayName": "Kim Park", "responseStatus": "accepted"},
                {"email": "sam@partner.example", "displayName": "Sam Lee", "responseStatus": "needsAction"},
            ],
            **times(at(0, 10), 60),
        },
        {
            "id": "sampleweeklysync",
            "summary": "Weekly team sync",
            "organizer": {"email": PREVIEW_EMAIL, "self": True},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=10"],
            "attendees": [me, {"email": "jordan@finance.example", "responseStatus": "tentative"}],
            **times(at(1, 9), 30),
        },
        {
            "id": "samplefocustime",
            "summary": "Focus time",
            "organizer": {"email": PREVIEW_EMAIL, "self": True},
            **times(at(2, 14), 90),
        },
    ]
