"""Writes a meeting's join details onto Calendar events, as a conference too where Calendar keeps one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from addon.google.calendar import CalendarEvent, patch_event
from addon.google.client import GoogleApis, GoogleConflict, GoogleRejected
from addon.join_details.fields import ConferenceSupport, conference_kept, event_fields, fields_taking_off
from addon.meetings.catalog import display_name
from addon.meetings.model import Meeting

log = logging.getLogger(__name__)


class JoinDetailsWriter:
    """The description block, location and private properties always; conferenceData as a bonus.

    Calendar may refuse a third-party conference (400) or take the write and drop it silently; either
    way the description and location already carry the join details, and the conference is not sent
    again for the rest of this process (`support`).
    """

    def __init__(self, google: GoogleApis, support: ConferenceSupport, icon_url: str) -> None:
        self.google = google
        self.support = support
        self.icon_url = icon_url

    def write(
        self, meeting: Meeting, event: CalendarEvent, key: str, *, token: str, send_updates: str
    ) -> CalendarEvent:
        """Put the meeting's details onto an existing event (replacing an older block of ours)."""

        def patch(with_conference: bool) -> CalendarEvent:
            fields = self.fields(meeting, event, key, with_conference)
            return patch_event(self.google, token, event.calendar_id, event.event_id, fields, send_updates)

        return self.with_conference_if_kept(meeting, patch)

    def fields(self, meeting: Meeting, event: CalendarEvent | None, key: str, with_conference: bool) -> dict[str, Any]:
        """The fields to write; never replacing a conference that is not ours (a Meet the organiser added, say)."""
        conference = event.conference if event is not None else None
        theirs = conference is not None and conference.conference_id not in (None, meeting.meeting_id)
        return event_fields(
            meeting,
            service_name=display_name(meeting.provider),
            description=event.description if event else "",
            location=event.location if event else "",
            event_key=key,
            icon_url=self.icon_url,
            with_conference=with_conference and not theirs,
        )

    def take_off(
        self,
        event: CalendarEvent,
        *,
        token: str,
        join_url: str | None,
        meeting_id: str | None,
        send_updates: str = "all",
    ) -> CalendarEvent:
        """Take exactly our additions off the event again; what the user wrote stays."""
        fields = fields_taking_off(event, join_url, meeting_id)
        return patch_event(self.google, token, event.calendar_id, event.event_id, fields, send_updates)

    def with_conference_if_kept(self, meeting: Meeting, write: Callable[[bool], CalendarEvent]) -> CalendarEvent:
        """`write(True)` while Calendar may keep our conference, else (and after a refusal) `write(False)`."""
        if self.support.accepted is not False:
            try:
                event = write(True)
            except GoogleRejected as error:
                # Only a refusal of the conference itself says anything about conferences.
                if isinstance(error, GoogleConflict) or "conference" not in str(error).lower():
                    raise
                log.info("Calendar refused third-party conferenceData (%s); writing without it", error.status)
                self.support.accepted = False
            else:
                kept = conference_kept(event, meeting)
                if kept is False and self.support.accepted is not False:
                    log.info("Calendar dropped third-party conferenceData silently; writing without it from now on")
                self.support.accepted = kept if kept is not None else self.support.accepted
                return event
        return write(False)
