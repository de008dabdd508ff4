"""The card for an open Calendar event: title, time, guests and their answers, any conference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cards.timefmt import span, zone_label
from cards.widgets import Json, action, button, buttons, card, labeled, link_text, paragraph, section

# Google drops widgets past 100 per card; the rest of the card needs room too.
MAX_GUESTS_SHOWN = 50
# Only these become links; anything else (javascript:, data:) is shown as text.
SAFE_LINK_SCHEMES = ("https://", "http://", "tel:", "sip:")

RESPONSES = {
    "accepted": "Accepted",
    "declined": "Declined",
    "tentative": "Maybe",
    "needsAction": "Awaiting reply",
}
RESPONSE_ICONS = {"accepted": "CONFIRMATION_NUMBER_ICON", "declined": "INVITE", "tentative": "INVITE"}


@dataclass(frozen=True)
class Guest:
    email: str
    name: str | None
    response: str | None
    organizer: bool = False
    optional: bool = False


@dataclass(frozen=True)
class JoinPoint:
    kind: str
    uri: str
    label: str | None


@dataclass(frozen=True)
class EventView:
    title: str
    start: datetime | None
    end: datetime | None
    all_day: bool
    zone: ZoneInfo
    can_see_guests: bool
    guests: Sequence[Guest]
    can_see_conference: bool
    conference_name: str | None
    join_points: Sequence[JoinPoint]
    meeting: MeetingPanel | None = None


@dataclass(frozen=True)
class MeetingPanel:
    """The add-on's own meeting on this event, or the offer to add one."""

    service: str
    join_url: str | None
    add_url: str
    update_url: str
    remove_url: str
    outdated: bool = False
    can_edit: bool = True
    # How changes to the event reach the meeting (automatic, limited, or paused and what to do).
    sync_status: str | None = None
    # For a repeating event: how its occurrences map onto the meeting.
    series_note: str | None = None


def event_card(view: EventView) -> Json:
    """Shown when the user opens a saved event in Calendar."""
    when = (
        [
            labeled(
                "When",
                span(view.start, view.end, view.zone, view.all_day),
                bottom=None if view.all_day else zone_label(view.zone, view.start),
                icon="CLOCK",
            )
        ]
        if view.start
        else []
    )
    return card(
        view.title or "(no title)",
        [section(when), _meeting_section(view.meeting), _guests_section(view), _conference_section(view)],
        subtitle="Calendar event",
        name="event",
    )


def unsaved_event_card(guest_count: int) -> Json:
    """A new event Calendar has not saved yet has no id, so nothing can be attached to it."""
    guests = f" It has {guest_count} guest{'s' if guest_count != 1 else ''} so far." if guest_count else ""
    return card(
        "New event",
        [section([paragraph(f"Save the event first, then open the add-on again to add a meeting to it.{guests}")])],
        subtitle="Not saved yet",
        name="event",
    )


def _guests_section(view: EventView) -> Json:
    if not view.can_see_guests:
        return section([paragraph("The guest list of this event is hidden from you.")], header="Guests")
    if not view.guests:
        return section([paragraph("No guests yet.")], header="Guests")
    widgets = []
    for guest in view.guests[:MAX_GUESTS_SHOWN]:
        notes = [RESPONSES.get(guest.response or "", "Awaiting reply")]
        if guest.organizer:
            notes.append("organizer")
        if guest.optional:
            notes.append("optional")
        widgets.append(labeled(guest.name or guest.email, guest.email, bottom=", ".join(notes), icon="PERSON"))
    hidden = len(view.guests) - MAX_GUESTS_SHOWN
    if hidden > 0:
        widgets.append(paragraph(f"and {hidden} more"))
    return section(widgets, header=f"Guests ({len(view.guests)})")


def _meeting_section(panel: MeetingPanel | None) -> Json:
    if panel is None:
        return section([])
    if not panel.join_url:
        if not panel.can_edit:
            return section([paragraph("You cannot change this event, so a meeting cannot be added to it.")])
        add = button(f"Add {panel.service} meeting", action(panel.add_url, spinner=True))
        return section([buttons(add)], header="Video meeting")
    widgets = [link_text(f"{panel.service} meeting", "Join", panel.join_url)]
    if panel.outdated:
        widgets.append(paragraph("The event changed since the meeting was made."))
    if panel.series_note:
        widgets.append(paragraph(panel.series_note))
    if panel.sync_status:
        widgets.append(labeled("Calendar changes", panel.sync_status, icon="CLOCK"))
    controls = []
    if panel.outdated and panel.can_edit:
        controls.append(button("Update meeting", action(panel.update_url, spinner=True)))
    if panel.can_edit:
        controls.append(button("Remove meeting", action(panel.remove_url, spinner=True)))
    if controls:
        widgets.append(buttons(*controls))
    return section(widgets, header="Video meeting")


def _conference_section(view: EventView) -> Json:
    if not view.can_see_conference:
        return section([])
    if not view.join_points:
        return section([paragraph("No video meeting on this event yet.")], header="Conference")
    name = view.conference_name or "Conference"
    widgets = [
        link_text(f"{name} · {point.kind or 'link'}", point.label or point.uri, point.uri)
        if point.uri.lower().startswith(SAFE_LINK_SCHEMES)
        else labeled(f"{name} · {point.kind or 'link'}", point.label or point.uri)
        for point in view.join_points
    ]
    return section(widgets, header="Conference")
