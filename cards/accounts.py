"""Cards about meeting-service accounts: sign in, reconnect after a revoked grant, and the settings card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from cards.widgets import (
    Json,
    action,
    button,
    buttons,
    card,
    checkboxes,
    dropdown,
    labeled,
    open_link,
    paragraph,
    section,
    text_input,
)

WHAT_WE_DO = (
    "The add-on will create {name} meetings for the events you schedule with it, and change or delete "
    "them when you change or delete those events. It does not read your other meetings or recordings."
)


def custom_authorization_prompt(prompt: Json) -> Json:
    """The envelope that makes Google show our sign-in card instead of the trigger's card."""
    return {"custom_authorization_prompt": {"action": {"navigations": [{"pushCard": prompt}]}}}


def connect_card(display_name: str, sign_in_url: str, revoked: bool, use_jitsi_url: str | None = None) -> Json:
    """Sign in to a meeting service; after a revoked grant, the same card says why it is back."""
    if revoked:
        title = f"Reconnect {display_name}"
        intro = (
            f"{display_name} no longer accepts the add-on's access to your account: it was revoked, "
            "it expired, or you signed in somewhere else. Your settings and meetings are kept; "
            "sign in again to carry on."
        )
    else:
        title = f"Connect {display_name}"
        intro = f"Your meeting service is {display_name}. Sign in once to let the add-on schedule meetings there."
    widgets = [
        paragraph(escape(intro)),
        paragraph(escape(WHAT_WE_DO.format(name=display_name))),
        buttons(
            button(
                f"Sign in to {display_name}",
                open_link(sign_in_url, overlay=True, reload_on_close=True),
            )
        ),
    ]
    if use_jitsi_url:
        widgets.append(
            paragraph(escape("No account? Jitsi Meet needs none.")),
        )
        widgets.append(buttons(button("Use Jitsi Meet instead", action(use_jitsi_url, {"provider": "jitsi"}))))
    return card(title, [section(widgets)], name="connect")


@dataclass(frozen=True)
class ServiceChoice:
    provider: str
    display_name: str
    # "not_needed" | "connected" | "missing" | "revoked"
    state: str
    sign_in_url: str | None = None


@dataclass(frozen=True)
class SettingsForm:
    chosen: str
    services: Sequence[ServiceChoice]
    duration_minutes: int
    webex_site: str | None
    save_url: str
    disconnect_url: str
    waiting_room: bool = False
    auto_add: bool = False
    template_id: str | None = None
    # Settings the domain's administrator fixes; shown, not editable.
    locked: frozenset[str] = frozenset()


DURATIONS = (15, 25, 30, 45, 50, 60, 90)
SET_BY_ADMIN = "Set by your administrator"
STATE_TEXT = {
    "not_needed": "No account needed",
    "connected": "Connected",
    "missing": "Not connected",
    "revoked": "Needs reconnecting",
}


def settings_card(form: SettingsForm) -> Json:
    """Choose the meeting service and default length; connect or disconnect accounts."""
    durations = sorted({*DURATIONS, form.duration_minutes})
    chosen_name = next((s.display_name for s in form.services if s.provider == form.chosen), form.chosen)
    choices: list[Json] = []
    if "provider" in form.locked:
        choices.append(labeled("Meeting service", chosen_name, bottom=SET_BY_ADMIN))
    else:
        services = [(s.display_name, s.provider, s.provider == form.chosen) for s in form.services]
        choices.append(dropdown("provider", "Meeting service", services))
    if "duration_minutes" in form.locked:
        choices.append(labeled("Default length", f"{form.duration_minutes} minutes", bottom=SET_BY_ADMIN))
    else:
        lengths = [(f"{m} minutes", str(m), m == form.duration_minutes) for m in durations]
        choices.append(dropdown("duration_minutes", "Default length", lengths))
    if any(s.provider == "webex" for s in form.services):
        if "webex_site" in form.locked:
            choices.append(labeled("Webex site", form.webex_site or "—", bottom=SET_BY_ADMIN))
        else:
            hint = "e.g. acme.webex.com; empty uses your preferred site"
            choices.append(text_input("webex_site", "Webex site (optional)", form.webex_site or "", hint=hint))
    if any(s.provider in ("webex", "zoom") for s in form.services):
        hint = "Optional: a template ID from your meeting service"
        choices.append(text_input("template_id", "Meeting template", form.template_id or "", hint=hint))
    options = [
        ("Waiting room: let people in myself", "waiting_room", form.waiting_room),
        ("Add a meeting to each event I open that has none", "auto_add", form.auto_add),
    ]
    choices.append(checkboxes("options", "Options", options))
    choices.append(buttons(button("Save", action(form.save_url, spinner=True))))
    accounts = [
        _account_row(service, form.disconnect_url) for service in form.services if service.state != "not_needed"
    ]
    return card(
        "Settings", [section(choices, header="Defaults"), section(accounts, header="Accounts")], name="settings"
    )


def _account_row(service: ServiceChoice, disconnect_url: str) -> Json:
    if service.state == "connected":
        control = button("Disconnect", action(disconnect_url, {"provider": service.provider}, spinner=True))
    else:
        label = "Reconnect" if service.state == "revoked" else "Connect"
        control = button(label, open_link(service.sign_in_url or "", overlay=True, reload_on_close=True))
    return labeled(service.display_name, STATE_TEXT[service.state], button=control)
