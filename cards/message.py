"""The card for an open email: its subject, date and people, and a form to schedule with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from cards.i18n import Text, Translator
from cards.timefmt import minutes, when, zone_label
from cards.widgets import (
    Json,
    action,
    button,
    card,
    checkboxes,
    date_time_picker,
    dropdown,
    labeled,
    paragraph,
    section,
    text_input,
)

DURATIONS = (15, 30, 45, 60, 90, 120)


@dataclass(frozen=True)
class Participant:
    email: str
    name: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class ScheduleForm:
    """What the form shows; it is re-rendered with the user's values and an error after a failed submit."""

    title: str
    participants: Sequence[Participant]
    chosen: frozenset[str]
    start: datetime
    duration_minutes: int
    zone: ZoneInfo
    submit_url: str
    send_invitations: bool = True
    # A message shown right under the field it is about, after a submit that could not be scheduled.
    error_field: str | None = None
    error: Text | str | None = None


def message_card(tr: Translator, subject: str, sent_at: datetime | None, form: ScheduleForm) -> Json:
    """Shown when the user opens a message in Gmail."""
    about = [labeled(tr("Subject"), subject or tr("(no subject)"), icon="EMAIL")]
    if sent_at:
        about.append(labeled(tr("Sent"), when(sent_at, form.zone, tr)))
    return card(
        tr("Schedule a meeting"),
        [section(about), schedule_section(tr, form)],
        subtitle=tr("With the people on this email"),
        name="message",
        footer=button(
            tr("Schedule meeting"),
            action(
                form.submit_url,
                {"participants_offered": "yes" if form.participants else "no"},
                spinner=True,
                required=("title",),
            ),
        ),
    )


def schedule_section(tr: Translator, form: ScheduleForm) -> Json:
    widgets = [text_input("title", tr("Title"), form.title), *_error(tr, form, "title")]
    if form.participants:
        items = [(p.label, p.email, p.email in form.chosen) for p in form.participants]
        widgets.append(checkboxes("participants", tr("Invite"), items))
    else:
        widgets.append(paragraph(tr("Nobody else is on this email; you can add guests in Calendar afterwards.")))
    widgets.extend(_error(tr, form, "participants"))
    widgets.append(date_time_picker("start", tr("Starts"), form.start))
    widgets.extend(_error(tr, form, "start"))
    durations = sorted({*DURATIONS, form.duration_minutes})
    lengths = [(minutes(tr, m), str(m), m == form.duration_minutes) for m in durations]
    widgets.append(dropdown("duration", tr("Length"), lengths))
    widgets.extend(_error(tr, form, "duration"))
    invitations = [(tr("Email the invitation to guests"), "yes", form.send_invitations)]
    widgets.append(checkboxes("send_invitations", tr("Invitations"), invitations))
    zone = tr("Times are in {zone}.", zone=zone_label(form.zone, form.start, tr))
    widgets.append(paragraph(f"<i>{escape(zone)}</i>"))
    if form.error and form.error_field not in ("title", "participants", "start", "duration"):
        widgets.insert(0, _error_paragraph(tr, form.error))
    return section(widgets, header=tr("Meeting"))


def _error(tr: Translator, form: ScheduleForm, field: str) -> list[Json]:
    return [_error_paragraph(tr, form.error)] if form.error and form.error_field == field else []


def _error_paragraph(tr: Translator, text: Text | str) -> Json:
    return paragraph(f'<font color="#d93025">{escape(tr.text(text))}</font>')
