"""The card for an open Calendar event: title, time, guests and their answers, any conference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cards.i18n import Text, Translator
from cards.timefmt import span, zone_label
from cards.widgets import Json, action, button, buttons, card, labeled, link_text, paragraph, section

# Google drops widgets past 100 per card; the rest of the card needs room too.
MAX_GUESTS_SHOWN = 50

RESPONSES = {
    "accepted": Text("Accepted"),
    "declined": Text("Declined"),
    "tentative": Text("Maybe"),
    "needsAction": Text("Awaiting reply"),
}
# Calendar's entry point types; one it adds later is shown as it comes.
JOIN_KINDS = {
    "video": Text("video"),
    "phone": Text("phone"),
    "sip": Text("sip"),
    "more": Text("more"),
    "link": Text("link"),
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
    # Only a link Google will open becomes one (https on the deployment's allowlist, tel:); the rest is text.
    linkable: bool = False


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
    sync_status: Text | None = None
    # For a repeating event: how its occurrences map onto the meeting.
    series_note: str | None = None


def event_card(tr: Translator, view: EventView) -> Json:
    """Shown when the user opens a saved event in Calendar."""
    when = (
        [
            labeled(
                tr("When"),
                span(view.start, view.end, view.zone, tr, view.all_day),
                bottom=None if view.all_day else zone_label(view.zone, view.start, tr),
                icon="CLOCK",
            )
        ]
        if view.start
        else []
    )
    return card(
        view.title or tr("(no title)"),
        [
            section(when),
            _meeting_section(tr, view.meeting),
            _guests_section(tr, view),
            _conference_section(tr, view),
        ],
        subtitle=tr("Calendar event"),
        name="event",
    )


def unsaved_event_card(tr: Translator, guest_count: int) -> Json:
    """A new event Calendar has not saved yet has no id, so nothing can be attached to it."""
    text = tr("Save the event first, then open the add-on again to add a meeting to it.")
    if guest_count:
        text += " " + tr.plural("It has {count} guest so far.", "It has {count} guests so far.", guest_count)
    return card(tr("New event"), [section([paragraph(text)])], subtitle=tr("Not saved yet"), name="event")


def _guests_section(tr: Translator, view: EventView) -> Json:
    if not view.can_see_guests:
        return section([paragraph(tr("The guest list of this event is hidden from you."))], header=tr("Guests"))
    if not view.guests:
        return section([paragraph(tr("No guests yet."))], header=tr("Guests"))
    widgets = []
    for guest in view.guests[:MAX_GUESTS_SHOWN]:
        notes = [tr.text(RESPONSES.get(guest.response or "", RESPONSES["needsAction"]))]
        if guest.organizer:
            notes.append(tr("organizer"))
        if guest.optional:
            notes.append(tr("optional"))
        # A guest without a name is their address alone, not the address twice.
        widgets.append(labeled(guest.name or "", guest.email, bottom=", ".join(notes), icon="PERSON"))
    hidden = len(view.guests) - MAX_GUESTS_SHOWN
    if hidden > 0:
        widgets.append(paragraph(tr.plural("and {count} more", "and {count} more", hidden)))
    return section(widgets, header=tr("Guests ({count})", count=len(view.guests)))


def _meeting_section(tr: Translator, panel: MeetingPanel | None) -> Json:
    if panel is None:
        return section([])
    if not panel.join_url:
        if not panel.can_edit:
            return section([paragraph(tr("You cannot change this event, so a meeting cannot be added to it."))])
        add = button(tr("Add {service} meeting", service=panel.service), action(panel.add_url, spinner=True))
        return section([buttons(add)], header=tr("Video meeting"))
    widgets = [link_text(tr("{service} meeting", service=panel.service), tr("Join"), panel.join_url)]
    if panel.outdated:
        widgets.append(paragraph(tr("The event changed since the meeting was made.")))
    if panel.series_note:
        widgets.append(paragraph(panel.series_note))
    if panel.sync_status:
        widgets.append(labeled(tr("Calendar changes"), tr.text(panel.sync_status), icon="CLOCK"))
    controls = []
    if panel.outdated and panel.can_edit:
        controls.append(button(tr("Update meeting"), action(panel.update_url, spinner=True)))
    if panel.can_edit:
        controls.append(button(tr("Remove meeting"), action(panel.remove_url, spinner=True)))
    if controls:
        widgets.append(buttons(*controls))
    return section(widgets, header=tr("Video meeting"))


def _conference_section(tr: Translator, view: EventView) -> Json:
    if not view.can_see_conference:
        return section([])
    if not view.join_points:
        return section([paragraph(tr("No video meeting on this event yet."))], header=tr("Conference"))
    name = view.conference_name or tr("Conference")
    widgets = []
    for point in view.join_points:
        kind = tr.text(JOIN_KINDS.get(point.kind or "link", point.kind))
        label = f"{name} · {kind}"
        if point.linkable:
            widgets.append(link_text(label, point.label or point.uri, point.uri))
        else:
            # Not a link Google opens: the address itself, to copy.
            widgets.append(labeled(label, point.uri, bottom=point.label if point.label != point.uri else None))
    return section(widgets, header=tr("Conference"))
