"""The Settings card: the user's meeting service and defaults, and their accounts on each service."""

from __future__ import annotations

from flask import Blueprint

from addon import scopes
from addon.events import BadEvent
from addon.meetings.catalog import display_name
from addon.preferences import Choices, save_preferences
from addon.sign_in import choose_provider
from addon.store import UserSettings
from addon.web.context import effective_settings_for
from addon.web.guard import AddonRequest, Notified, card_action
from addon.web.signin import SETTINGS_PATH, USE_PROVIDER_PATH, sign_in_url
from cards.accounts import ServiceChoice, SettingsForm, settings_card
from cards.home import HomeDefaults, home_card
from cards.widgets import Json

bp = Blueprint("settings", __name__)

SAVE_PATH = "/actions/settings/save"
DISCONNECT_PATH = "/actions/settings/disconnect"
IDENTITY = frozenset({scopes.USERINFO_EMAIL})


@bp.post(SETTINGS_PATH)
@card_action(IDENTITY, opens_card=True, needs_zone=False)
def open_settings(req: AddonRequest) -> Json:
    return settings_view(req)


@bp.post(SAVE_PATH)
@card_action(IDENTITY, needs_zone=False)
def save_settings(req: AddonRequest) -> Notified:
    inputs = req.event.common.form_inputs
    current = effective_settings_for(req)
    provider = inputs["provider"].first if "provider" in inputs else current.provider
    choices = Choices(
        provider=provider,
        duration=inputs["duration_minutes"].first or ""
        if "duration_minutes" in inputs
        else str(current.duration_minutes),
        webex_site=inputs["webex_site"].first if "webex_site" in inputs else current.webex_site,
        options=frozenset(inputs["options"].strings) if "options" in inputs else frozenset(),
        template_id=(inputs["template_id"].first or "") if "template_id" in inputs else (current.template_id or ""),
    )
    saved = save_preferences(req.services.store, current, choices)
    if isinstance(saved, UserSettings):
        req.known.settings_saved(saved)
    if saved == "template":
        notice = req.tr("That template ID does not look right: copy it from your meeting service")
        return with_notice(settings_view(req), notice)
    if saved == "webex_site":
        notice = req.tr("That Webex site does not look right: use a name like acme.webex.com")
        return with_notice(settings_view(req), notice)
    state = req.services.meetings.connection(req.user.sub, provider, req.known).state
    if state in ("missing", "revoked"):
        notice = req.tr("Saved. Connect your {service} account to use it.", service=display_name(provider))
        return with_notice(settings_view(req), notice)
    return with_notice(settings_view(req), req.tr("Settings saved"))


@bp.post(DISCONNECT_PATH)
@card_action(IDENTITY, needs_zone=False)
def disconnect(req: AddonRequest) -> Notified:
    provider = req.event.common.parameters.get("provider", "")
    if not req.services.meetings.needs_account(provider):
        raise BadEvent("provider must be an account-based meeting service")
    req.services.meetings.grants.disconnect(req.user.sub, provider)
    req.known.grant_dropped(provider)
    if effective_settings_for(req).provider == provider:
        chosen(req, choose_provider(req.services, req.user.sub, "jitsi"))
        notice = req.tr(
            "Disconnected from {service}. New meetings will use Jitsi Meet.", service=display_name(provider)
        )
    else:
        notice = req.tr("Disconnected from {service}.", service=display_name(provider))
    return with_notice(settings_view(req), notice)


@bp.post(USE_PROVIDER_PATH)
@card_action(IDENTITY, needs_zone=False)
def use_provider(req: AddonRequest) -> Notified:
    """From the sign-in card: switch to a service that needs no account, then show the homepage."""
    provider = req.event.common.parameters.get("provider", "")
    defaults = effective_settings_for(req)
    if provider not in defaults.allowed_providers or req.services.meetings.needs_account(provider):
        raise BadEvent("provider must be a service that needs no account and that your domain allows")
    if "provider" in defaults.locked:
        raise BadEvent("your administrator sets the meeting service")
    chosen(req, choose_provider(req.services, req.user.sub, provider))
    defaults = effective_settings_for(req)
    card = home_card(
        req.tr,
        req.event.common.host_app,
        req.user.email,
        HomeDefaults(display_name(provider), "not_needed", defaults.duration_minutes, req.event.common.time_zone),
        settings_url=req.services.settings.base_url + SETTINGS_PATH,
    )
    notice = req.tr("New meetings will use {service}. Open the email or event again.", service=display_name(provider))
    return with_notice(card, notice)


def settings_view(req: AddonRequest) -> Json:
    defaults = effective_settings_for(req)
    meetings = req.services.meetings
    choices = []
    for provider in defaults.allowed_providers:
        state = meetings.connection(req.user.sub, provider, req.known).state
        needs_sign_in = state in ("missing", "revoked")
        url = sign_in_url(req.services, req.user.sub, provider, req.user.email) if needs_sign_in else None
        choices.append(ServiceChoice(provider, display_name(provider), state, url))
    base = req.services.settings.base_url
    return settings_card(
        req.tr,
        SettingsForm(
            chosen=defaults.provider,
            services=choices,
            duration_minutes=defaults.duration_minutes,
            webex_site=defaults.webex_site,
            save_url=base + SAVE_PATH,
            disconnect_url=base + DISCONNECT_PATH,
            waiting_room=defaults.waiting_room,
            auto_add=defaults.auto_add,
            template_id=defaults.template_id,
            locked=defaults.locked,
        ),
    )


def chosen(req: AddonRequest, saved: UserSettings | None) -> None:
    if saved is not None:
        req.known.settings_saved(saved)


def with_notice(card: Json, text: str) -> Notified:
    return Notified(card, text)
