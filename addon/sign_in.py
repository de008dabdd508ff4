"""Connecting a meeting-service account: a signed, single-use state and a PKCE verifier kept for the browser's
round trip to the service, bound to the browser that started it; the code traded for a sealed grant."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from addon.crypto import Sealed, SealError, TicketError
from addon.meetings import oauth
from addon.meetings.model import GrantRevoked, MeetingServiceError
from addon.meetings.oauth import Pkce
from addon.services import Services
from addon.store import OAuthState, UserSettings

log = logging.getLogger(__name__)

# Signed by the card's link (addon/web/signin.py): which Google user is connecting which service.
CONNECT_TICKET = "connect"
STATE_TICKET = "oauth-state"
STATE_LIFETIME = timedelta(minutes=10)


class Refusal(Enum):
    """Why a sign-in step stops; the web layer says each in its own words."""

    NOT_OFFERED = "not offered"
    LINK_EXPIRED = "link expired"
    LINK_INVALID = "link invalid"
    STATE_EXPIRED = "state expired"
    OTHER_BROWSER = "started in another browser"
    ALREADY_USED = "already used"
    DECLINED = "declined on the service"
    NO_CODE = "no code"
    CODE_REFUSED = "code refused"
    SERVICE_FAILED = "service failed"


@dataclass(frozen=True)
class Started:
    """Where to send the browser, the secret its cookie must carry back, and whose account this connects."""

    authorize_url: str
    browser_secret: str
    email: str | None


@dataclass(frozen=True)
class Connected:
    user_id: str
    provider: str


class SignIn:
    """The two steps of connecting an account, for one meeting service's OAuth app."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def start(self, provider: str, ticket: str) -> Started | Refusal:
        """The card's Sign in link was opened: remember who is connecting, then send them to the service."""
        services = self.services
        if not services.meetings.needs_account(provider):
            return Refusal.NOT_OFFERED
        try:
            claims = services.box.open_ticket(CONNECT_TICKET, ticket)
        except TicketError:
            return Refusal.LINK_EXPIRED
        if claims.get("provider") != provider or not isinstance(claims.get("sub"), str):
            return Refusal.LINK_INVALID
        # Bind the sign-in to this browser: the callback must come back to the browser that started it.
        browser_secret = secrets.token_urlsafe(24)
        pkce = Pkce.new()
        state_id = secrets.token_urlsafe(24)
        sealed = services.box.seal(pkce.verifier.encode(), f"oauth-state/{state_id}")
        services.store.put(
            OAuthState(
                state_id=state_id,
                user_id=claims["sub"],
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
            services.meetings.oauth_app(provider), self.redirect_uri(provider), state, pkce
        )
        email = claims.get("email")
        return Started(target, browser_secret, email if isinstance(email, str) else None)

    def finish(
        self, provider: str, *, state: str, browser_secret: str, code: str, declined: bool
    ) -> Connected | Refusal:
        """The service sent the browser back: check the state, trade the code, keep the grant sealed."""
        services = self.services
        if not services.meetings.needs_account(provider):
            return Refusal.NOT_OFFERED
        try:
            claims = services.box.open_ticket(STATE_TICKET, state)
        except TicketError:
            return Refusal.STATE_EXPIRED
        state_id = str(claims.get("sid", ""))
        pending = services.store.get(OAuthState, state_id)
        if pending is not None and not hmac.compare_digest(pending.browser_hash or "", _digest(browser_secret)):
            return Refusal.OTHER_BROWSER
        used = self._consume(state_id)
        if used is None or used.provider != provider or claims.get("provider") != provider:
            return Refusal.ALREADY_USED
        if declined:
            return Refusal.DECLINED
        if not code:
            return Refusal.NO_CODE
        try:
            verifier = services.box.open(Sealed(used.key_id, used.sealed_verifier), f"oauth-state/{used.state_id}")
        except SealError:
            return Refusal.STATE_EXPIRED
        app = services.meetings.oauth_app(provider)
        try:
            tokens = oauth.exchange_code(app, code, Pkce(verifier.decode()), self.redirect_uri(provider))
        except GrantRevoked:
            return Refusal.CODE_REFUSED
        except MeetingServiceError as error:
            log.warning("code exchange with %s failed: %s", provider, type(error).__name__)
            return Refusal.SERVICE_FAILED
        services.meetings.grants.save(used.user_id, provider, tokens)
        choose_provider(services, used.user_id, provider)
        return Connected(used.user_id, provider)

    def redirect_uri(self, provider: str) -> str:
        """Only ever built from ADDON_BASE_URL: the service redirects nowhere else."""
        return oauth.callback_url(self.services.settings.base_url, provider)

    def _consume(self, state_id: str) -> OAuthState | None:
        """The stored state if this request is the first and only one to use it."""
        if not state_id:
            return None
        mark = secrets.token_hex(8)

        def use(state: OAuthState | None) -> OAuthState | None:
            if state is None or state.used_by is not None:
                return None
            return dataclasses.replace(state, used_by=mark)

        used = self.services.store.update(OAuthState, state_id, use)
        if used is None or used.used_by != mark:
            return None
        self.services.store.delete(OAuthState, state_id)
        return used


def choose_provider(services: Services, user_id: str, provider: str) -> UserSettings | None:
    """The user's service from now on (their other settings stay); the settings as stored."""

    def choose(current: UserSettings | None) -> UserSettings:
        base = current or UserSettings(user_id=user_id)
        return dataclasses.replace(base, provider=provider, updated_at=datetime.now(UTC))

    return services.store.update(UserSettings, user_id, choose)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
