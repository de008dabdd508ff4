"""The card after a meeting was scheduled from an email: how to join, and where the event is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cards.i18n import Translator
from cards.timefmt import span, zone_label
from cards.widgets import Json, button, buttons, card, labeled, link_text, open_link, section


@dataclass(frozen=True)
class ScheduledView:
    title: str
    service: str
    join_url: str
    start: datetime | None
    end: datetime | None
    zone: ZoneInfo
    attendees: Sequence[str]
    meeting_code: str | None = None
    passcode: str | None = None
    dial_in: Sequence[tuple[str, str]] = ()
    calendar_url: str | None = None


def scheduled_card(tr: Translator, view: ScheduledView) -> Json:
    widgets = [link_text(tr("{service} meeting", service=view.service), tr("Join"), view.join_url)]
    if view.start:
        zone = zone_label(view.zone, view.start, tr)
        widgets.append(labeled(tr("When"), span(view.start, view.end, view.zone, tr), bottom=zone, icon="CLOCK"))
    if view.attendees:
        widgets.append(labeled(tr("Invited"), ", ".join(view.attendees), icon="PERSON"))
    if view.meeting_code:
        widgets.append(labeled(tr("Meeting number"), view.meeting_code))
    if view.passcode:
        widgets.append(labeled(tr("Passcode"), view.passcode))
    for label, number in view.dial_in[:5]:
        # The service names its numbers ("Switzerland toll"); those names stay as it sent them.
        dial_in = tr("Dial in · {label}", label=label) if label else tr("Dial in")
        widgets.append(labeled(dial_in, number, icon="PHONE"))
    if view.calendar_url:
        widgets.append(buttons(button(tr("Open in Calendar"), open_link(view.calendar_url))))
    return card(view.title, [section(widgets)], subtitle=tr("Meeting scheduled"), name="scheduled")
