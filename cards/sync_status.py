"""One line for the user's cards: how their meetings follow Calendar, and what to do when they do not."""

from __future__ import annotations

from cards.i18n import Text


def sync_status(stopped_by: str | None, service_name: str | None, *, in_background: bool) -> Text:
    """`stopped_by` is who refused access ("google" or a meeting service, whose display name is
    `service_name`), None while sync runs; `in_background` whether it runs while the user is away."""
    if stopped_by == "google":
        return Text(
            "Paused: Google refused background access to your calendar. Changes reach your meetings "
            "when you open the add-on; ask your administrator about domain-wide delegation."
        )
    if stopped_by:
        return Text(
            "Paused: {service} refused access. Reconnect {service} in Settings and your meetings catch up.",
            service=service_name or stopped_by,
        )
    if in_background:
        return Text("Automatic: changes in Calendar reach the meeting within a minute.")
    return Text("Limited: changes in Calendar reach the meeting when you next open the add-on.")
