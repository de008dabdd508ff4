"""Meeting-service accounts: the browser sign-in (start, callback) and the Settings card's actions."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from html import escape

from flask import Blueprint, Response, request

from addon import scopes
from addon.crypto import Sealed, SealError, TicketError
from addon.events import BadEvent
from addon.meetings import oauth
from addon.meetings.catalog import display_name
from addon.meetings.model import GrantRevoked, MeetingServiceError
from addon.meetings.oauth import Pkce
from addon.services import Services
from addon.store import OAuthState, UserSettings
from addon.web.context import effective_settings_for
from addon.web.current import current_services, current_syncer
from addon.web.guard import AddonRequest, Notified, google_request
from addon.web.signin import CONNECT_TICKET, SETTINGS_PATH, USE_PROVIDER_PATH, sign_in_url
from cards.accounts import ServiceChoice, SettingsForm, settings_card
from cards.home import HomeDefaults, home_card
from cards.i18n import Translator, available_languages, translator_for
from cards.widgets import Json

bp = Blueprint("accounts", __name__)
log = logging.getLogger(__name__)

STATE_TICKET = "oauth-state"
BROWSER_COOKIE = "addon_connect"
STATE_LIFETIME = timedelta(minutes=10)
SAVE_PATH = "/actions/settings/save"
DISCONNECT_PATH = "/actions/settings/disconnect"
MIN_DURATION, MAX_DURATION = 5, 480
MAX_TEMPLATE_ID = 200
IDENTITY = frozenset({scopes.USERINFO_EMAIL})
WEBEX_SITE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


# The browser side of sign-in -----------------------------------------------------------------


@bp.get("/connect/<provider>/start")
def connect_start(provider: str) -> Response:
    """Opened from the card's Sign in button: remember who is connecting, then go to the service."""
    services = current_services()
    tr = browser_language()
    if not services.meetings.needs_account(provider):
        return page(tr, tr("Not available"), tr("This meeting service is not available here. Close this window."), 404)
    try:
        ticket = services.box.open_ticket(CONNECT_TICKET, request.args.get("ticket", ""))
    except TicketError:
        return page(tr, tr("This link has expired"), _click_sign_in_again(tr), 400)
    if ticket.get("provider") != provider or not isinstance(ticket.get("sub"), str):
        return page(tr, tr("This link is not valid"), _click_sign_in_again(tr), 400)

    # Bind the sign-in to this browser: the callback must come back to the browser that started it.
    browser_secret = secrets.token_urlsafe(24)
    pkce = Pkce.new()
    state_id = secrets.token_urlsafe(24)
    sealed = services.box.seal(pkce.verifier.encode(), f"oauth-state/{state_id}")
    services.store.put(
        OAuthState(
            state_id=state_id,
            user_id=ticket["sub"],
            provider=provider,
            key_id=sealed.key_id,
            sealed_verifier=sealed.ciphertext,
            browser_hash=_digest(browser_secret),
            expires_at=datetime.now(UTC) + STATE_LIFETIME,
        )
    )
    state = services.box.sign_ticket(
        STATE_TICKET, {"sid": state_id, "provider": provider}, int(STATE_LIFETIME.total_seconds())
    )
    target = oauth.authorization_url(
        services.meetings.oauth_app(provider), redirect_uri(services, provider), state, pkce
    )
    # Say whose account this connects before leaving, so a link sent by someone else is not followed blindly.
    name = display_name(provider)
    who = str(ticket.get("email") or tr("your Google account"))
    response = page(
        tr,
        tr("Connect {service}", service=name),
        tr(
            "This connects your {service} account to the Meeting Scheduler add-on for {who}. "
            "Continue only if that is you.",
            service=name,
            who=who,
        ),
        200,
        link=(tr("Continue to {service}", service=name), target),
    )
    response.set_cookie(
        BROWSER_COOKIE,
        browser_secret,
        max_age=int(STATE_LIFETIME.total_seconds()),
        path="/connect/",
        secure=not services.settings.development,
        httponly=True,
        samesite="Lax",  # sent on the service's top-level redirect back to us
    )
    return response


@bp.get("/connect/<provider>/callback")
def connect_callback(provider: str) -> Response:
    """Where the service sends the browser back: check the state, trade the code, keep the grant sealed."""
    services = current_services()
    tr = browser_language()
    name = display_name(provider)
    if not services.meetings.needs_account(provider):
        return page(tr, tr("Not available"), tr("This meeting service is not available here. Close this window."), 404)
    try:
        claims = services.box.open_ticket(STATE_TICKET, request.args.get("state", ""))
    except TicketError:
        return page(tr, tr("Sign-in expired"), _click_sign_in_again(tr), 400)
    pending = services.store.get(OAuthState, str(claims.get("sid", "")))
    cookie = request.cookies.get(BROWSER_COOKIE, "")
    if pending is not None and not hmac.compare_digest(pending.browser_hash or "", _digest(cookie)):
        return page(
            tr,
            tr("Sign-in started elsewhere"),
            tr("This sign-in was started in another browser. Close this window and click Sign in on the card again."),
            400,
        )
    state = consume_state(services, str(claims.get("sid", "")))
    if state is None or state.provider != provider or claims.get("provider") != provider:
        return page(tr, tr("Sign-in already used"), _click_sign_in_again(tr), 400)
    if request.args.get("error"):
        return page(
            tr,
            tr("{service} was not connected", service=name),
            tr("You did not allow access. Close this window to go back."),
            200,
        )
    code = request.args.get("code", "")
    if not code:
        return page(
            tr,
            tr("Sign-in incomplete"),
            tr("{service} did not send a sign-in code. Close this window and try again.", service=name),
            400,
        )

    try:
        verifier = services.box.open(Sealed(state.key_id, state.sealed_verifier), f"oauth-state/{state.state_id}")
    except SealError:
        return page(tr, tr("Sign-in expired"), _click_sign_in_again(tr), 400)
    try:
        tokens = oauth.exchange_code(
            services.meetings.oauth_app(provider), code, Pkce(verifier.decode()), redirect_uri(services, provider)
        )
    except GrantRevoked:
        return page(
            tr,
            tr("Sign-in expired"),
            tr("{service} refused the sign-in code. Close this window and try again.", service=name),
            400,
        )
    except MeetingServiceError as error:
        log.warning("code exchange with %s failed: %s", provider, type(error).__name__)
        return page(
            tr,
            tr("{service} did not finish the sign-in", service=name),
            tr("Close this window and try again in a few minutes."),
            502,
        )
    services.meetings.grants.save(state.user_id, provider, tokens)
    # Calendars whose sync stopped on this service's refusal catch up now.
    current_syncer().resume(state.user_id, provider)
    choose_provider(services, state.user_id, provider)
    done = page(
        tr,
        tr("{service} is connected", service=name),
        tr("You can close this window and go back to Gmail or Calendar."),
        200,
        close=True,
    )
    done.delete_cookie(BROWSER_COOKIE, path="/connect/")
    return done


def browser_language() -> Translator:
    """Sign-in pages open in a browser window, with no event object: its Accept-Language picks the language."""
    return translator_for(request.accept_languages.best_match(sorted(available_languages())))


def _click_sign_in_again(tr: Translator) -> str:
    return tr("Close this window, then click Sign in on the add-on's card again.")


def redirect_uri(services: Services, provider: str) -> str:
    """Only ever built from ADDON_BASE_URL: the service redirects nowhere else."""
    return oauth.callback_url(services.settings.base_url, provider)


def consume_state(services: Services, state_id: str) -> OAuthState | None:
    """The stored state if this request is the first and only one to use it."""
    if not state_id:
        return None
    mark = secrets.token_hex(8)

    def use(state: OAuthState | None) -> OAuthState | None:
        if state is None or state.used_by is not None:
            return None
        return dataclasses.replace(state, used_by=mark)

    used = services.store.update(OAuthState, state_id, use)
    if used is None or used.used_by != mark:
        return None
    services.store.delete(OAuthState, state_id)
    return used


def choose_provider(services: Services, user_id: str, provider: str) -> None:
    def choose(current: UserSettings | None) -> UserSettings:
        base = current or UserSettings(user_id=user_id)
        return dataclasses.replace(base, provider=provider, updated_at=datetime.now(UTC))

    services.store.update(UserSettings, user_id, choose)


# CSP: nothing loads; the one inline script (closing the window) is allowed by its nonce.
def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def page(
    tr: Translator, title: str, message: str, status: int, close: bool = False, link: tuple[str, str] | None = None
) -> Response:
    nonce = secrets.token_urlsafe(16)
    extra = f'<script nonce="{nonce}">setTimeout(function () {{ window.close(); }}, 1500);</script>' if close else ""
    if link is not None:
        label, url = link
        extra += f'<p><a id="continue" href="{escape(url, quote=True)}">{escape(label)}</a></p>'

    body = (
        f"<!doctype html><html lang={tr.language}><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#202124}"
        "h1{font-size:1.4rem}</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p>{extra}</body></html>"
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return no_store(response)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# The Settings card --------------------------------------------------------------------------


@bp.post(SETTINGS_PATH)
@google_request(IDENTITY, answer="push_action")
def open_settings(req: AddonRequest) -> Json:
    return settings_view(req)


@bp.post(SAVE_PATH)
@google_request(IDENTITY, answer="update")
def save_settings(req: AddonRequest) -> Notified:
    inputs = req.event.common.form_inputs
    current = effective_settings_for(req)
    provider = inputs["provider"].first if "provider" in inputs else current.provider
    duration_text = inputs["duration_minutes"].first if "duration_minutes" in inputs else str(current.duration_minutes)
    site = inputs["webex_site"].first if "webex_site" in inputs else current.webex_site
    options = set(inputs["options"].strings) if "options" in inputs else set()
    template = (inputs["template_id"].first or "").strip() if "template_id" in inputs else (current.template_id or "")
    if len(template) > MAX_TEMPLATE_ID or not template.isprintable():
        return with_notice(
            settings_view(req), req.tr("That template ID does not look right: copy it from your meeting service")
        )
    if not provider or provider not in current.allowed_providers:
        raise BadEvent("provider must be one of the meeting services your domain allows")
    if "provider" in current.locked and provider != current.provider:
        raise BadEvent("your administrator sets the meeting service")
    try:
        duration = int(duration_text or "")
    except ValueError as error:
        raise BadEvent("duration_minutes must be a whole number") from error
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise BadEvent(f"duration_minutes must be between {MIN_DURATION} and {MAX_DURATION}")
    site = (site or "").strip().lower().removeprefix("https://").strip("/") or None
    if site is not None and not WEBEX_SITE.match(site):
        notice = req.tr("That Webex site does not look right: use a name like acme.webex.com")
        return with_notice(settings_view(req), notice)

    def save(stored: UserSettings | None) -> UserSettings:
        base = stored or UserSettings(user_id=req.user.sub)
        return dataclasses.replace(
            base,
            # What the administrator sets is kept as the user had it, so it returns if the policy is lifted.
            provider=base.provider if "provider" in current.locked else provider,
            duration_minutes=base.duration_minutes if "duration_minutes" in current.locked else duration,
            webex_site=base.webex_site if "webex_site" in current.locked else site,
            waiting_room="waiting_room" in options,
            auto_add="auto_add" in options,
            template_id=template or None,
            updated_at=datetime.now(UTC),
        )

    req.services.store.update(UserSettings, req.user.sub, save)
    state = req.services.meetings.connection(req.user.sub, provider).state
    if state in ("missing", "revoked"):
        notice = req.tr("Saved. Connect your {service} account to use it.", service=display_name(provider))
        return with_notice(settings_view(req), notice)
    return with_notice(settings_view(req), req.tr("Settings saved"))


@bp.post(DISCONNECT_PATH)
@google_request(IDENTITY, answer="update")
def disconnect(req: AddonRequest) -> Notified:
    provider = req.event.common.parameters.get("provider", "")
    if not req.services.meetings.needs_account(provider):
        raise BadEvent("provider must be an account-based meeting service")
    req.services.meetings.grants.disconnect(req.user.sub, provider)
    if effective_settings_for(req).provider == provider:
        choose_provider(req.services, req.user.sub, "jitsi")
        notice = req.tr(
            "Disconnected from {service}. New meetings will use Jitsi Meet.", service=display_name(provider)
        )
    else:
        notice = req.tr("Disconnected from {service}.", service=display_name(provider))
    return with_notice(settings_view(req), notice)


@bp.post(USE_PROVIDER_PATH)
@google_request(IDENTITY, answer="update")
def use_provider(req: AddonRequest) -> Notified:
    """From the sign-in card: switch to a service that needs no account, then show the homepage."""
    provider = req.event.common.parameters.get("provider", "")
    defaults = effective_settings_for(req)
    if provider not in defaults.allowed_providers or req.services.meetings.needs_account(provider):
        raise BadEvent("provider must be a service that needs no account and that your domain allows")
    if "provider" in defaults.locked:
        raise BadEvent("your administrator sets the meeting service")
    choose_provider(req.services, req.user.sub, provider)
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
        state = meetings.connection(req.user.sub, provider).state
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


def with_notice(card: Json, text: str) -> Notified:
    return Notified(card, text)
