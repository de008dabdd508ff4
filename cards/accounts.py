"""Cards about meeting-service accounts: sign in, reconnect after a revoked grant, and the settings card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from cards.i18n import Text, Translator
from cards.timefmt import minutes
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


def custom_authorization_prompt(prompt: Json) -> Json:
    """The envelope that makes Google show our sign-in card instead of the trigger's card."""
    return {"custom_authorization_prompt": {"action": {"navigations": [{"pushCard": prompt}]}}}


def connect_card(
    tr: Translator, display_name: str, sign_in_url: str, revoked: bool, use_jitsi_url: str | None = None
) -> Json:
    """Sign in to a meeting service; after a revoked grant, the same card says why it is back."""
    if revoked:
        title = tr("Reconnect {service}", service=display_name)
        intro = tr(
            "{service} no longer accepts the add-on's access to your account: it was revoked, "
            "it expired, or you signed in somewhere else. Your settings and meetings are kept; "
            "sign in again to carry on.",
            service=display_name,
        )
    else:
        title = tr("Connect {service}", service=display_name)
        intro = tr(
            "Your meeting service is {service}. Sign in once to let the add-on schedule meetings there.",
            service=display_name,
        )
    what_we_do = tr(
        "The add-on will create {service} meetings for the events you schedule with it, and change or delete "
        "them when you change or delete those events. It does not read your other meetings or recordings.",
        service=display_name,
    )
    widgets = [
        paragraph(escape(intro)),
        paragraph(escape(what_we_do)),
        buttons(
            button(
                tr("Sign in to {service}", service=display_name),
                open_link(sign_in_url, overlay=True, reload_on_close=True),
            )
        ),
    ]
    if use_jitsi_url:
        widgets.append(
            paragraph(escape(tr("No account? Jitsi Meet needs none."))),
        )
        use_jitsi = button(tr("Use Jitsi Meet instead"), action(use_jitsi_url, {"provider": "jitsi"}))
        widgets.append(buttons(use_jitsi))
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
STATE_TEXT = {
    "not_needed": Text("No account needed"),
    "connected": Text("Connected"),
    "missing": Text("Not connected"),
    "revoked": Text("Needs reconnecting"),
}


def settings_card(tr: Translator, form: SettingsForm) -> Json:
    """Choose the meeting service and default length; connect or disconnect accounts."""
    durations = sorted({*DURATIONS, form.duration_minutes})
    chosen_name = next((s.display_name for s in form.services if s.provider == form.chosen), form.chosen)
    set_by_admin = tr("Set by your administrator")
    choices: list[Json] = []
    if "provider" in form.locked:
        choices.append(labeled(tr("Meeting service"), chosen_name, bottom=set_by_admin))
    else:
        services = [(s.display_name, s.provider, s.provider == form.chosen) for s in form.services]
        choices.append(dropdown("provider", tr("Meeting service"), services))
    if "duration_minutes" in form.locked:
        length = minutes(tr, form.duration_minutes)
        choices.append(labeled(tr("Default length"), length, bottom=set_by_admin))
    else:
        lengths = [(minutes(tr, m), str(m), m == form.duration_minutes) for m in durations]
        choices.append(dropdown("duration_minutes", tr("Default length"), lengths))
    if any(s.provider == "webex" for s in form.services):
        if "webex_site" in form.locked:
            choices.append(labeled(tr("Webex site"), form.webex_site or "—", bottom=set_by_admin))
        else:
            hint = tr("e.g. acme.webex.com; empty uses your preferred site")
            choices.append(text_input("webex_site", tr("Webex site (optional)"), form.webex_site or "", hint=hint))
    if any(s.provider in ("webex", "zoom") for s in form.services):
        hint = tr("Optional: a template ID from your meeting service")
        choices.append(text_input("template_id", tr("Meeting template"), form.template_id or "", hint=hint))
    options = [
        (tr("Waiting room: let people in myself"), "waiting_room", form.waiting_room),
        (tr("Add a meeting to each event I open that has none"), "auto_add", form.auto_add),
    ]
    choices.append(checkboxes("options", tr("Options"), options))
    choices.append(buttons(button(tr("Save"), action(form.save_url, spinner=True))))
    accounts = [
        _account_row(tr, service, form.disconnect_url) for service in form.services if service.state != "not_needed"
    ]
    return card(
        tr("Settings"),
        [section(choices, header=tr("Defaults")), section(accounts, header=tr("Accounts"))],
        name="settings",
    )


def _account_row(tr: Translator, service: ServiceChoice, disconnect_url: str) -> Json:
    if service.state == "connected":
        control = button(tr("Disconnect"), action(disconnect_url, {"provider": service.provider}, spinner=True))
    else:
        label = tr("Reconnect") if service.state == "revoked" else tr("Connect")
        control = button(label, open_link(service.sign_in_url or "", overlay=True, reload_on_close=True))
    return labeled(service.display_name, tr.text(STATE_TEXT[service.state]), button=control)
