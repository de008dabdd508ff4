"""The homepage card in Gmail and Calendar: who is signed in, their defaults, where to start."""

from __future__ import annotations

from dataclasses import dataclass

from cards.widgets import Json, action, button, buttons, card, labeled, open_link, paragraph, section

START_HINTS = {
    "GMAIL": "Open an email to schedule a meeting with the people on it.",
    "CALENDAR": "Open an event, or create one and save it, to add a video meeting to it.",
}
SERVICE_STATES = {
    "connected": "Account connected",
    "missing": "Account not connected yet: open Settings to connect it",
    "revoked": "Needs reconnecting: open Settings to sign in again",
    "unavailable": "Not offered here any more: choose another in Settings",
}


@dataclass(frozen=True)
class HomeDefaults:
    service: str
    # "not_needed" | "connected" | "missing" | "revoked" | "unavailable"
    service_state: str
    duration_minutes: int
    time_zone: str | None
    # How changes in Calendar reach meetings.
    sync_status: str | None = None
    # (service name, sign-in URL) when a service's refusal paused the sync: one click to carry on.
    reconnect: tuple[str, str] | None = None


def home_card(host_app: str, email: str, defaults: HomeDefaults, settings_url: str) -> Json:
    """Shown when the add-on is opened with no message or event selected."""
    widgets = [
        labeled("Signed in as", email, icon="PERSON"),
        labeled(
            "Meeting service", defaults.service, bottom=SERVICE_STATES.get(defaults.service_state), icon="VIDEO_CAMERA"
        ),
        labeled("Default length", f"{defaults.duration_minutes} minutes", icon="CLOCK"),
    ]
    if defaults.time_zone:
        widgets.append(labeled("Time zone", defaults.time_zone, icon="CLOCK"))
    if defaults.sync_status:
        widgets.append(labeled("Calendar changes", defaults.sync_status, icon="CLOCK"))
    if defaults.reconnect:
        name, url = defaults.reconnect
        widgets.append(buttons(button(f"Reconnect {name}", open_link(url, overlay=True, reload_on_close=True))))
    widgets.append(buttons(button("Settings", action(settings_url))))
    hint = START_HINTS.get(host_app, START_HINTS["GMAIL"])
    return card(
        "Meeting Scheduler",
        [section([paragraph(hint)]), section(widgets, header="Your defaults")],
        subtitle="Video meetings from Gmail and Calendar",
        name="home",
    )
