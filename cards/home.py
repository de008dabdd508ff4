"""The homepage card in Gmail and Calendar: who is signed in, their defaults, where to start."""

from __future__ import annotations

from dataclasses import dataclass

from cards.i18n import Text, Translator
from cards.timefmt import minutes
from cards.widgets import Json, action, button, buttons, card, labeled, open_link, paragraph, section

# As in deployment.json: a name, not translated.
PRODUCT_NAME = "Meeting Scheduler"
START_HINTS = {
    "GMAIL": Text("Open an email to schedule a meeting with the people on it."),
    "CALENDAR": Text("Open an event, or create one and save it, to add a video meeting to it."),
}
SERVICE_STATES = {
    "connected": Text("Account connected"),
    "missing": Text("Account not connected yet: open Settings to connect it"),
    "revoked": Text("Needs reconnecting: open Settings to sign in again"),
    "unavailable": Text("Not offered here any more: choose another in Settings"),
}


@dataclass(frozen=True)
class HomeDefaults:
    service: str
    # "not_needed" | "connected" | "missing" | "revoked" | "unavailable"
    service_state: str
    duration_minutes: int
    time_zone: str | None
    # How changes in Calendar reach meetings.
    sync_status: Text | None = None
    # (service name, sign-in URL) when a service's refusal paused the sync: one click to carry on.
    reconnect: tuple[str, str] | None = None


def home_card(tr: Translator, host_app: str, email: str, defaults: HomeDefaults, settings_url: str) -> Json:
    """Shown when the add-on is opened with no message or event selected."""
    state = SERVICE_STATES.get(defaults.service_state)
    widgets = [
        labeled(tr("Signed in as"), email, icon="PERSON"),
        labeled(tr("Meeting service"), defaults.service, bottom=tr.text(state) if state else None, icon="VIDEO_CAMERA"),
        labeled(tr("Default length"), minutes(tr, defaults.duration_minutes), icon="CLOCK"),
    ]
    if defaults.time_zone:
        widgets.append(labeled(tr("Time zone"), defaults.time_zone, icon="CLOCK"))
    if defaults.sync_status:
        widgets.append(labeled(tr("Calendar changes"), tr.text(defaults.sync_status), icon="CLOCK"))
    if defaults.reconnect:
        name, url = defaults.reconnect
        reconnect = tr("Reconnect {service}", service=name)
        widgets.append(buttons(button(reconnect, open_link(url, overlay=True, reload_on_close=True))))
    widgets.append(buttons(button(tr("Settings"), action(settings_url))))
    hint = START_HINTS.get(host_app, START_HINTS["GMAIL"])
    return card(
        PRODUCT_NAME,
        [section([paragraph(tr.text(hint))]), section(widgets, header=tr("Your defaults"))],
        subtitle=tr("Video meetings from Gmail and Calendar"),
        name="home",
    )
