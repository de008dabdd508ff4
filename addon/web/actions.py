"""Card actions that schedule: from an email's form, and add, update or remove an open event's meeting."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint

from addon import scopes
from addon.events import schedule_form
from addon.google.calendar import CalendarEvent
from addon.google.client import GoogleApiError
from addon.meetings.catalog import display_name
from addon.scheduling import EmailMeetingRequest, InvalidRequest, Scheduler, SchedulingError
from addon.web.calendar import as_opened, event_details, open_event_ids
from addon.web.context import effective_settings_for, scheduler
from addon.web.gmail import SCHEDULE_PATH, next_half_hour, participants, read_open_message
from addon.web.guard import AddonRequest, Notified, card_action
from cards import problems
from cards.i18n import Text
from cards.message import ScheduleForm, message_card
from cards.scheduled import ScheduledView, scheduled_card
from cards.widgets import Json

log = logging.getLogger(__name__)

bp = Blueprint("actions", __name__)

ADD_PATH = "/actions/add-meeting"
UPDATE_PATH = "/actions/update-meeting"
REMOVE_PATH = "/actions/remove-meeting"
# Scheduling from Gmail writes an event to the user's calendar.
SCHEDULE_SCOPES = scopes.GMAIL_MESSAGE | {scopes.CALENDAR_EVENTS}


@bp.post(SCHEDULE_PATH)
@card_action(SCHEDULE_SCOPES)
def schedule_from_email(req: AddonRequest) -> Json | Notified:
    form = schedule_form(req.event)
    request = EmailMeetingRequest(
        message_id=form.message_id,
        title=form.title,
        attendees=form.attendees,
        start=form.start or next_half_hour(datetime.now(UTC), req.zone),
        duration_minutes=form.duration_minutes,
        send_invitations=form.send_invitations,
        participants_offered=form.participants_offered,
    )
    if form.start is None:
        # The picker was cleared: the form comes back with a time to start from, and says so.
        return _form_again(req, request, "start", Text("Choose when the meeting starts."))
    planner = scheduler(req, effective_settings_for(req))
    try:
        done = planner.schedule_from_email(request)
    except InvalidRequest as error:
        return _form_again(req, request, error.field, error.message)
    except SchedulingError as error:
        return _form_again(req, request, None, error.message)
    service = display_name(done.link.provider)
    meeting, event = done.meeting, done.event
    view = ScheduledView(
        title=request.title.strip() or req.tr("Meeting"),
        service=service,
        join_url=done.link.join_url or "",
        start=event.start if event else None,
        end=event.end if event else None,
        zone=req.zone,
        attendees=request.attendees,
        meeting_code=meeting.meeting_code if meeting else None,
        passcode=meeting.passcode if meeting else None,
        dial_in=[(d.label, d.number) for d in meeting.dial_in] if meeting else [],
        calendar_url=done.link.html_link,
    )
    notice = req.tr("{service} meeting scheduled and added to your calendar", service=service)
    return Notified(scheduled_card(req.tr, view), notice)


def _form_again(req: AddonRequest, request: EmailMeetingRequest, field: str | None, error: Text) -> Json | Notified:
    """The form as the user filled it in, with the problem next to the field it is about."""
    message = read_open_message(req)
    if message is None:
        return problems.message_unreadable(req.tr, req.request_id)
    people = participants(req, message)
    form = ScheduleForm(
        title=request.title,
        participants=people,
        chosen=frozenset(a.lower() for a in request.attendees),
        start=request.start.astimezone(req.zone),
        duration_minutes=request.duration_minutes,
        zone=req.zone,
        submit_url=req.services.settings.base_url + SCHEDULE_PATH,
        send_invitations=request.send_invitations,
        error_field=field,
        error=error,
    )
    return Notified(message_card(req.tr, message.subject, message.sent_at, form), req.tr.text(error))


@bp.post(ADD_PATH)
@card_action(scopes.CALENDAR_EVENT)
def add_meeting(req: AddonRequest) -> Notified:
    def add(planner: Scheduler, calendar_id: str, event_id: str) -> tuple[str, CalendarEvent | None]:
        done = planner.add_to_event(calendar_id, event_id)
        return req.tr("{service} meeting added to the event", service=display_name(done.link.provider)), done.event

    return on_open_event(req, add)


@bp.post(UPDATE_PATH)
@card_action(scopes.CALENDAR_EVENT)
def update_meeting(req: AddonRequest) -> Notified:
    def update(planner: Scheduler, calendar_id: str, event_id: str) -> tuple[str, CalendarEvent | None]:
        done = planner.update_meeting(calendar_id, event_id)
        return req.tr("{service} meeting updated", service=display_name(done.link.provider)), done.event

    return on_open_event(req, update)


@bp.post(REMOVE_PATH)
@card_action(scopes.CALENDAR_EVENT)
def remove_meeting(req: AddonRequest) -> Notified:
    def remove(planner: Scheduler, calendar_id: str, event_id: str) -> tuple[str, CalendarEvent | None]:
        written = planner.remove_from_event(calendar_id, event_id)
        return req.tr("Meeting removed from the event and deleted"), written

    return on_open_event(req, remove)


Action = Callable[[Scheduler, str, str], tuple[str, CalendarEvent | None]]


def on_open_event(req: AddonRequest, act: Action) -> Notified:
    """Run a use case on the open event; the event card comes back with what happened as a notification.

    The card shows the event as the use case wrote it; it reads the event again when the use case wrote
    nothing (another request made the meeting, or it failed) or wrote the series of an opened occurrence."""
    calendar_id, event_id = open_event_ids(req)
    defaults = effective_settings_for(req)
    try:
        notice, event = act(scheduler(req, defaults), calendar_id, event_id)
    except SchedulingError as error:
        notice, event = req.tr.text(error.message), None
    try:
        card = event_details(req, defaults, as_opened(event, event_id))
    except GoogleApiError as error:
        # What the use case did stands even when the card's own read of the event fails afterwards.
        log.warning("the event could not be read again for its card: %s", type(error).__name__)
        card = problems.event_not_shown(req.tr, req.request_id)
    return Notified(card, notice)
