"""The homepage card in Gmail and Calendar: who is signed in, their defaults, where to start."""

from __future__ import annotations

from cards.widgets import Json, card, labeled, paragraph, section

PROVIDER_NAMES = {"jitsi": "Jitsi Meet", "webex": "Webex", "zoom": "Zoom"}

START_HINTS = {
    "GMAIL": "Open an email to schedule a meeting with the people on it.",
    "CALENDAR": "Open an event, or create one and save it, to add a video meeting to it.",
}


def home_card(host_app: str, email: str, provider: str, duration_minutes: int, time_zone: str | None) -> Json:
    """Shown when the add-on is opened with no message or event selected."""
    defaults = [
        labeled("Signed in as", email, icon="PERSON"),
        labeled("Meeting service", PROVIDER_NAMES.get(provider, provider), icon="VIDEO_CAMERA"),
        labeled("Default length", f"{duration_minutes} minutes", icon="CLOCK"),
    ]
    if time_zone:
        defaults.append(labeled("Time zone", time_zone, icon="CLOCK"))
    hint = START_HINTS.get(host_app, START_HINTS["GMAIL"])
    return card(
        "Meeting Scheduler",
        [section([paragraph(hint)]), section(defaults, header="Your defaults")],
        subtitle="Video meetings from Gmail and Calendar",
        name="home",
    )
