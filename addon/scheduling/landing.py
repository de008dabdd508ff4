"""Landing a new meeting on Calendar: the event written, or the meeting undone, never one without the other."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from addon.google.calendar import CalendarEvent, read_event
from addon.google.client import GoogleApiError, GoogleQuota, GoogleUnavailable
from addon.join_details import MEETING_PROPERTY
from addon.meetings.model import Meeting, MeetingServiceError
from addon.scheduling.errors import CalendarBusy, CalendarNotUpdated
from addon.store import MeetingLink
from cards.i18n import Text

if TYPE_CHECKING:
    from addon.scheduling.scheduler import Scheduler

log = logging.getLogger(__name__)

KEPT_FOR_NEXT_TRY = Text("The meeting is kept for your next try, but the event does not show it yet.")
NOT_KEPT = Text("The meeting could not be added to Google Calendar, so it was not kept. Try again.")


def write_or_undo(
    scheduler: Scheduler,
    key: str,
    mark: str,
    meeting: Meeting,
    write: Callable[[bool], CalendarEvent],
    confirm: Callable[[], CalendarEvent | None],
) -> CalendarEvent:
    """Write the join details; never leave a meeting on the service that no event and no link records."""
    try:
        return scheduler.writer.with_conference_if_kept(meeting, write)
    except (GoogleUnavailable, GoogleQuota) as error:
        # The write may have landed with its answer lost (after a quota answer: an earlier try of it),
        # so look before undoing anything.
        busy = error if isinstance(error, GoogleQuota) else None
        try:
            event = confirm()
        except GoogleApiError:
            event, landed_unknown = None, True
        else:
            landed_unknown = False
        if event is not None and event.private_properties.get(MEETING_PROPERTY) == meeting.meeting_id:
            return event
        if landed_unknown:
            scheduler.claims.release(key, mark, meeting=meeting)  # the link keeps the meeting for the retry
            scheduler.left_behind(key, meeting.provider)
            if busy is not None:
                raise CalendarBusy(KEPT_FOR_NEXT_TRY, busy) from error
            raise CalendarNotUpdated(
                Text("Google Calendar is not answering. The meeting is kept; try again in a minute.")
            ) from error
        undone = undo(scheduler, key, mark, meeting)
        if busy is not None:
            deleted = Text("The meeting could not be added to the event, so it was deleted again.")
            raise CalendarBusy(deleted if undone else KEPT_FOR_NEXT_TRY, busy) from error
        raise CalendarNotUpdated(NOT_KEPT if undone else KEPT_FOR_NEXT_TRY) from error
    except GoogleApiError as error:
        log.warning("writing the meeting to Calendar failed: %s", type(error).__name__)
        # Say what became of the meeting: deleted again, or (its delete failed too) kept for the next try.
        undone = undo(scheduler, key, mark, meeting)
        raise CalendarNotUpdated(NOT_KEPT if undone else KEPT_FOR_NEXT_TRY) from error


def undo(scheduler: Scheduler, key: str, mark: str, meeting: Meeting) -> bool:
    """No orphans: delete the meeting again; if even that fails, keep the link so a retry reuses it.

    True if the meeting is gone."""
    try:
        scheduler.service(meeting.provider).delete(meeting.meeting_id)
    except MeetingServiceError as error:
        log.warning("could not delete meeting after a Calendar failure: %s", type(error).__name__)
        scheduler.claims.release(key, mark, meeting=meeting)
        scheduler.left_behind(key, meeting.provider)
        scheduler.audit("delete", key, meeting, "failed; kept for a retry")
        return False
    scheduler.audit("delete", key, meeting, "undone after a Calendar failure")
    scheduler.services.store.delete(MeetingLink, key)
    scheduler.link_seen(key, None)
    return True


def complete_later(scheduler: Scheduler, key: str, meeting: Meeting, event: CalendarEvent) -> None:
    """Join details that take a call of their own (Zoom's SIP address) reach the event after the answer, so
    the user does not wait for them; the guests' copies follow without another email."""
    service = scheduler.service(meeting.provider)
    google, token = scheduler.services.google, scheduler.actor.google_token

    def complete() -> None:
        fuller = service.completed(meeting)
        if fuller == meeting:
            return
        try:
            current = read_event(google, token, event.calendar_id, event.event_id)
            if current.private_properties.get(MEETING_PROPERTY) != meeting.meeting_id:
                return  # removed or replaced meanwhile
            scheduler.writer.write(fuller, current, key, token=token, send_updates="none")
        except GoogleApiError as error:
            # The event has the join link; only the video system's address is missing.
            log.warning("the SIP address could not be added to the event: %s", type(error).__name__)

    if scheduler.user_waiting:
        scheduler.services.after_answer.submit("complete:" + key, complete)
    else:
        complete()
