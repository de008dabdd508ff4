"""Calendar triggers: the homepage, an opened event, and an event saved with the add-on open."""

from __future__ import annotations

import dataclasses
import logging

from flask import Blueprint

from addon import scopes
from addon.events import BadEvent, CalendarContext
from addon.google.calendar import CalendarEvent, read_event
from addon.google.client import GoogleNotFound
from addon.meeting_links import event_key, fingerprint
from addon.meetings.catalog import display_name, keeps_occurrences
from addon.meetings.model import GrantRevoked, MeetingServiceError, NotConnected
from addon.policy import EffectiveSettings
from addon.scheduling import CalendarBusy, SchedulingError
from addon.store import MeetingLink
from addon.web.context import effective_settings_for, scheduler, sync_status_for
from addon.web.gmail import home
from addon.web.guard import AddonRequest, Notified, card_action, trigger
from addon.web.signin import require_account
from cards import problems
from cards.event import EventView, Guest, JoinPoint, MeetingPanel, event_card, unsaved_event_card
from cards.i18n import Translator
from cards.widgets import Json

bp = Blueprint("calendar", __name__)
log = logging.getLogger(__name__)


@bp.post("/calendar/home")
@trigger(scopes.CALENDAR_HOME, needs_zone=False)
def calendar_home(req: AddonRequest) -> Json:
    return home(req)


@bp.post("/calendar/event-open")
@trigger(scopes.CALENDAR_EVENT)
def event_open(req: AddonRequest) -> Json:
    defaults = effective_settings_for(req)
    require_account(req.services, req.user.sub, defaults.provider, req.known)
    context = req.event.calendar
    if defaults.auto_add and context is not None and context.event_id and context.capabilities.can_set_conference_data:
        written = auto_add(req, defaults, context.calendar_id, context.event_id)
        if written is not None:
            return event_details(req, defaults, written)
    return event_details(req, defaults)


def auto_add(req: AddonRequest, defaults: EffectiveSettings, calendar_id: str, event_id: str) -> CalendarEvent | None:
    """The user asked for a meeting on every event they open; one that cannot get one simply shows the offer.

    The event as the add-on left it, when this request wrote it."""
    try:
        # Opening an event is not a reason to email its guests; they see the link when it next changes.
        done = scheduler(req, defaults).add_to_event(calendar_id, event_id, send_updates="none")
        return as_opened(done.event, event_id)
    except (SchedulingError, MeetingServiceError, CalendarBusy) as error:
        if isinstance(error, NotConnected | GrantRevoked):
            raise
        log.info("no automatic meeting for this event: %s", type(error).__name__)
        return None


@bp.post("/calendar/event-update")
@card_action(scopes.CALENDAR_EVENT)
def event_update(req: AddonRequest) -> Json | Notified:
    """The user saved the event with the add-on open: its meeting follows at once, then the card shows it."""
    context = req.event.calendar
    if context is not None and context.event_id:
        try:
            event = read_event(req.services.google, req.user_token, context.calendar_id, context.event_id)
        except GoogleNotFound:
            return problems.event_gone(req.tr, req.request_id)
        defaults = effective_settings_for(req)
        followed = req.syncer.follow_now(req.user.sub, req.user.email, req.user_token, event)
        req.known.link_changed(event_key(context.calendar_id, event.series_id))  # the sync wrote it, not this request
        if followed:
            return Notified(event_details(req, defaults, event), req.tr("The meeting now matches the event."))
        return event_details(req, defaults, event)
    return event_details(req, effective_settings_for(req))


def as_opened(written: CalendarEvent | None, event_id: str) -> CalendarEvent | None:
    """The event a use case wrote, if it is the one the user opened: an opened occurrence is its own event,
    while the use case acted on its series."""
    return written if written is not None and written.event_id == event_id else None


def open_event_ids(req: AddonRequest) -> tuple[str, str]:
    """The open event's calendar and id; an action on an unsaved event is a bad request."""
    context = req.event.calendar
    if context is None or not context.event_id:
        raise BadEvent("calendar.calendarId and calendar.id are required")
    return context.calendar_id, context.event_id


def event_details(req: AddonRequest, defaults: EffectiveSettings, event: CalendarEvent | None = None) -> Json:
    """The open event's card; `event` if the caller has just read (or written) it."""
    context = req.event.calendar
    if context is None:
        raise BadEvent("calendar is required")
    if context.event_id is None:
        return unsaved_event_card(req.tr, len(context.attendees))
    if event is None:
        try:
            event = read_event(req.services.google, req.user_token, context.calendar_id, context.event_id)
        except GoogleNotFound:
            return problems.event_gone(req.tr, req.request_id)
    view = dataclasses.replace(event_view(context, event, req), meeting=meeting_panel(req, defaults, context, event))
    return event_card(req.tr, view)


def meeting_panel(
    req: AddonRequest, defaults: EffectiveSettings, context: CalendarContext, event: CalendarEvent
) -> MeetingPanel:
    """The add-on's meeting on this event (read ahead, or as the use case left it), or the offer to add one."""
    key = event_key(context.calendar_id, event.series_id)
    link = req.known.link(key) if req.known.has_link(key) else req.services.store.get(MeetingLink, key)
    ready = link is not None and link.state == "ready"
    provider = link.provider if ready and link else defaults.provider
    base = req.services.settings.base_url
    return MeetingPanel(
        service=display_name(provider),
        join_url=link.join_url if ready and link else None,
        add_url=base + "/actions/add-meeting",
        update_url=base + "/actions/update-meeting",
        remove_url=base + "/actions/remove-meeting",
        # An instance of a series differs from the series by design; only the series itself is compared.
        outdated=bool(ready and link and not event.recurring_event_id and link.fingerprint != fingerprint(event)),
        can_edit=context.capabilities.can_set_conference_data or context.capabilities.can_add_attendees,
        sync_status=sync_status_for(req, req.syncer.refused_by(req.user.sub)) if ready else None,
        series_note=series_note(req.tr, link, display_name(provider)) if ready and link and event.is_series else None,
    )


def series_note(tr: Translator, link: MeetingLink, service: str) -> str:
    """How the occurrences of a repeating event map onto its meeting."""
    if link.no_fixed_time:
        return tr(
            "{service} cannot repeat a meeting the way this event repeats, so all occurrences share this meeting.",
            service=service,
        )
    if not keeps_occurrences(link.provider):
        return tr("Every occurrence uses this one {service} room.", service=service)
    return tr(
        "Moving or cancelling one occurrence in Calendar changes just that occurrence on {service}.", service=service
    )


def event_view(context: CalendarContext, event: CalendarEvent, req: AddonRequest) -> EventView:
    """What the card shows, limited by what Calendar says this user may see."""
    # The event object reflects the open editor; the API reflects the last save.
    attendees = context.attendees or event.attendees
    conference = context.conference or event.conference
    can_see_conference = context.capabilities.can_see_conference_data
    return EventView(
        title=event.title,
        start=event.start,
        end=event.end,
        all_day=event.all_day,
        zone=req.zone,
        can_see_guests=context.capabilities.can_see_attendees,
        guests=[
            Guest(a.email, a.display_name, a.response_status, organizer=a.organizer, optional=a.optional)
            for a in attendees
            if not a.resource
        ],
        can_see_conference=can_see_conference,
        conference_name=conference.solution_name if conference else None,
        join_points=[
            JoinPoint(p.entry_point_type, p.uri, p.label, linkable=req.services.links.permits(p.uri))
            for p in conference.entry_points
        ]
        if conference and can_see_conference
        else [],
    )
