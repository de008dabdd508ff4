"""A Webex meeting as the event describes it: title, times, rule and options within Webex's limits, and its invitees."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from addon.meetings.model import MeetingSpec, aware_time

TITLE_LIMIT = 128
AGENDA_LIMIT = 1300
INVITEE_LIMIT = 1000
SHORTEST_MEETING = timedelta(minutes=10)
LONGEST_MEETING = timedelta(hours=23, minutes=59)
# A start at least this far ahead is one Webex takes as it is, so an update need not look what it was.
START_AHEAD = timedelta(minutes=5)
# Symbols every site accepts in a meeting password (Webex refuses space \ ` " / & < > = [ ]).
SAFE_SYMBOLS = "@#$*"


def schedule(spec: MeetingSpec, clearing: bool = False) -> dict[str, Any]:
    """Title, times and options as Webex names them; `clearing` sends null for what the event no longer has."""
    options = spec.options
    body: dict[str, Any] = {
        "title": (spec.title.strip() or "Meeting")[:TITLE_LIMIT],
        **times(spec),
        "enabledJoinBeforeHost": not options.waiting_room,
        "sendEmail": False,
    }
    agenda = spec.agenda[:AGENDA_LIMIT]
    recurrence = options.recurrence.removeprefix("RRULE:") if options.recurrence else None
    if agenda or clearing:
        body["agenda"] = agenda or None
    if recurrence or clearing:
        body["recurrence"] = recurrence
    if options.passcode:
        body["password"] = options.passcode
    return body


def schedule_taken_as_sent(spec: MeetingSpec) -> bool:
    """Whether a PATCH may carry the spec's times and rule unread: a one-off that starts well ahead.

    What the meeting had need not be known: Webex takes a start ahead, and where the meeting was a series,
    a spec without a rule ends it, which cancels its exceptions whatever else is sent.
    """
    return not spec.options.recurrence and spec.start > datetime.now(UTC) + START_AHEAD


def unchanged_schedule_left_out(body: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Send times and rule only when they change: Webex refuses a start in the past (a series under way),
    and a changed start, end or rule cancels every exception in the series."""
    same_times = all(
        aware_time(body.get(name)) is not None and aware_time(body.get(name)) == aware_time(current.get(name))
        for name in ("start", "end")
    ) and body.get("timezone", "UTC") == current.get("timezone", "UTC")
    kept = dict(body)
    if same_times:
        for name in ("start", "end", "timezone"):
            kept.pop(name, None)
    if (body.get("recurrence") or None) == (current.get("recurrence") or None):
        kept.pop("recurrence", None)
    return kept


def times(spec: MeetingSpec) -> dict[str, str]:
    """Start and end in the event's zone with that zone's offset: Webex refuses an offset that does not match."""
    # Webex takes 10 minutes to 23 h 59 min; a meeting may still run past its scheduled end.
    end = min(max(spec.end, spec.start + SHORTEST_MEETING), spec.start + LONGEST_MEETING)
    try:
        zone = ZoneInfo(spec.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return {"start": utc(spec.start), "end": utc(end)}
    return {
        "start": spec.start.astimezone(zone).isoformat(timespec="seconds"),
        "end": end.astimezone(zone).isoformat(timespec="seconds"),
        "timezone": spec.time_zone,
    }


def invitees(spec: MeetingSpec) -> list[dict[str, Any]]:
    """The alternative hosts (as co-hosts), then the guests, each once, as many as Webex takes."""
    co_hosts = {email.strip().lower() for email in spec.options.alternative_hosts}
    seen: set[str] = set()
    chosen: list[dict[str, Any]] = []
    for email in (*spec.options.alternative_hosts, *spec.invitees):
        address = email.strip()
        if not address or address.lower() in seen:
            continue
        seen.add(address.lower())
        invitee: dict[str, Any] = {"email": address}
        if address.lower() in co_hosts:
            invitee["coHost"] = True
        chosen.append(invitee)
    return chosen[:INVITEE_LIMIT]


def addresses(emails: tuple[str, ...]) -> set[str]:
    """Email addresses as Webex compares them."""
    return {email.strip().lower() for email in emails if email.strip()}


def webex_password() -> str:
    """A 12-character password for the strict site rules: capitals, small letters, digits and a symbol.

    It begins and ends with a letter or digit and has none of the characters Webex refuses.
    """
    alphanumeric = string.ascii_letters + string.digits
    middle = [
        *(secrets.choice(string.ascii_uppercase) for _ in range(2)),
        *(secrets.choice(string.ascii_lowercase) for _ in range(2)),
        *(secrets.choice(string.digits) for _ in range(2)),
        secrets.choice(SAFE_SYMBOLS),
        *(secrets.choice(alphanumeric) for _ in range(3)),
    ]
    secrets.SystemRandom().shuffle(middle)
    return secrets.choice(alphanumeric) + "".join(middle) + secrets.choice(alphanumeric)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
