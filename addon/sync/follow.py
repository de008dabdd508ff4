"""A meeting follows its event: title, time and guests; with the policy, a removed guest means a new passcode."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from addon.google.calendar import CalendarEvent
from addon.meeting_links import fingerprint, guests
from addon.meetings.model import Meeting
from addon.scheduling import Scheduler
from addon.scheduling.scheduler import known_meeting
from addon.store import MeetingLink


def follow_event(scheduler: Scheduler, link: MeetingLink, event: CalendarEvent, *, rotate: bool) -> Meeting:
    """The event changed in Calendar: the meeting takes its title, time and guests. With `rotate`, a removed
    guest also means a new passcode, written onto the event, so their old invitation stops working."""
    if link.meeting_id is None:
        raise ValueError("only a ready link has a meeting to follow its event")
    service = scheduler.service(link.provider)
    spec = scheduler.spec(event)
    meeting = service.update(link.meeting_id, spec, known=known_meeting(link))
    outcome = "followed the event in Calendar"
    if rotate and set(link.invitees) - set(spec.invitees) and service.can_rotate_passcode:
        meeting = service.rotate_passcode(link.meeting_id)
        scheduler.writer.write(meeting, event, link.link_id, token=scheduler.actor.google_token, send_updates="all")
        outcome += "; new passcode after a guest was removed"
    scheduler.audit("update", link.link_id, meeting, outcome)
    now = datetime.now(UTC)

    def followed(current: MeetingLink | None) -> MeetingLink | None:
        if current is None or current.meeting_id != link.meeting_id:
            return None
        return dataclasses.replace(
            current,
            join_url=meeting.join_url,
            fingerprint=fingerprint(event),
            invitees=guests(event),
            no_fixed_time=meeting.no_fixed_time,
            updated_at=now,
            expires_at=scheduler.expiry(event),
        )

    scheduler.services.store.update(MeetingLink, link.link_id, followed)
    return meeting
