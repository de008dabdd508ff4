"""Links that start a sign-in to a meeting service, and the card that offers one."""

from __future__ import annotations

from urllib.parse import quote

from addon.meetings.catalog import display_name
from addon.meetings.model import GrantRevoked, NotConnected
from addon.services import Services
from addon.sign_in import CONNECT_TICKET
from addon.user_state import UserState
from cards import problems
from cards.accounts import connect_card
from cards.i18n import Translator
from cards.widgets import Json

# Long enough to read the card and click; short enough that a leaked link is soon useless.
TICKET_SECONDS = 15 * 60

USE_PROVIDER_PATH = "/actions/use-provider"
SETTINGS_PATH = "/actions/settings"


def sign_in_url(services: Services, user_id: str, provider: str, email: str | None = None) -> str:
    """Our own start URL, carrying a signed ticket that says which Google user is connecting."""
    claims = {"sub": user_id, "provider": provider, **({"email": email} if email else {})}
    ticket = services.box.sign_ticket(CONNECT_TICKET, claims, TICKET_SECONDS)
    return f"{services.settings.base_url}/connect/{quote(provider, safe='')}/start?ticket={ticket}"


def connect_prompt(
    services: Services, tr: Translator, user_id: str, provider: str, revoked: bool, email: str | None = None
) -> Json:
    """The card asking the user to (re)connect `provider`, or a problem card if it is not offered here."""
    if not services.meetings.needs_account(provider):
        return problems.service_not_offered(tr, display_name(provider))
    return connect_card(
        tr,
        display_name(provider),
        sign_in_url(services, user_id, provider, email),
        revoked=revoked,
        use_jitsi_url=services.settings.base_url + USE_PROVIDER_PATH,
    )


def require_account(services: Services, user_id: str, provider: str, known: UserState | None = None) -> None:
    """Raise NotConnected or GrantRevoked (answered with the sign-in card) unless `provider` is usable now."""
    state = services.meetings.connection(user_id, provider, known).state
    if state == "missing":
        raise NotConnected(provider, "no account connected")
    if state == "revoked":
        raise GrantRevoked(provider, "the authorization was revoked")
