"""The meeting services this install offers, and a Provider acting for one user on one of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from addon.crypto import SecretBox, derive_key
from addon.meetings.grants import Grants
from addon.meetings.http import ServiceClient
from addon.meetings.jitsi import JitsiProvider
from addon.meetings.model import NotConnected, Provider
from addon.meetings.oauth import OAuthApp
from addon.meetings.webex import WebexProvider, webex_oauth_app
from addon.meetings.webex_sites import DefaultSites
from addon.meetings.zoom import ZoomProvider, zoom_oauth_app
from addon.settings import Settings
from addon.store import Store
from addon.user_state import UserState

DISPLAY_NAMES = {"jitsi": "Jitsi Meet", "webex": "Webex", "zoom": "Zoom"}


ConnectionState = Literal["not_needed", "connected", "missing", "revoked", "unavailable"]


@dataclass(frozen=True)
class Connection:
    """Whether a user can use a service now: no account needed, connected, never connected, or revoked."""

    provider: str
    state: ConnectionState

    @property
    def usable(self) -> bool:
        return self.state in ("not_needed", "connected")


class MeetingServices:
    """Built once per process from Settings; only services with credentials configured are offered."""

    def __init__(self, settings: Settings, store: Store, box: SecretBox) -> None:
        self.settings = settings
        self.jitsi = JitsiProvider(
            settings.jitsi_base_url,
            derive_key(settings.secret_key, b"addon: jitsi rooms v1"),
            settings.jitsi_app_id,
            settings.jitsi_app_secret,
        )
        apps: dict[str, OAuthApp] = {}
        self.clients: dict[str, ServiceClient] = {}
        if settings.webex_client_id and settings.webex_client_secret:
            apps["webex"] = webex_oauth_app(
                settings.webex_api_base, settings.webex_client_id, settings.webex_client_secret
            )
            self.clients["webex"] = ServiceClient("webex", settings.webex_api_base)
        if settings.zoom_client_id and settings.zoom_client_secret:
            apps["zoom"] = zoom_oauth_app(
                settings.zoom_oauth_base, settings.zoom_client_id, settings.zoom_client_secret
            )
            self.clients["zoom"] = ServiceClient("zoom", settings.zoom_api_base)
        self.grants = Grants(store, box, apps)
        # A provider lives for one request; what it learns of a user's sites is kept here, for the next one.
        self.webex_sites = DefaultSites()

    @property
    def offered(self) -> list[str]:
        return ["jitsi", *self.grants.apps]

    def is_offered(self, name: str) -> bool:
        return name in self.offered

    def needs_account(self, name: str) -> bool:
        return name in self.grants.apps

    def oauth_app(self, name: str) -> OAuthApp:
        """The OAuth integration of an account-based service; KeyError if this install does not offer it."""
        return self.grants.apps[name]

    def connection(self, user_id: str, name: str, known: UserState | None = None) -> Connection:
        """Whether the user can use `name` now; from `known` when this request has read their grants already."""
        if not self.is_offered(name):
            return Connection(name, "unavailable")
        if not self.needs_account(name):
            return Connection(name, "not_needed")
        grant = known.grant(name) if known is not None else self.grants.get(user_id, name)
        if grant is None:
            return Connection(name, "missing")
        return Connection(name, "connected" if grant.status == "active" else "revoked")

    def provider(
        self, user_id: str, name: str, webex_site: str | None = None, known: UserState | None = None
    ) -> Provider:
        """The service acting as this user; NotConnected for a service this install does not offer.

        With `known`, its first call uses the grant this request has read already."""
        if name == "jitsi":
            return self.jitsi
        if name not in self.clients:
            raise NotConnected(name, "this meeting service is not available here")
        credentials = self.grants.credentials(user_id, name, known.grant(name) if known is not None else None)
        if name == "webex":
            return WebexProvider(self.clients[name], credentials, webex_site, sites=self.webex_sites, user_id=user_id)
        return ZoomProvider(self.clients[name], credentials)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def display_name(provider: str) -> str:
    return DISPLAY_NAMES.get(provider, provider)


def keeps_occurrences(provider: str) -> bool:
    """Whether the service keeps each occurrence of a series apart, so that one alone can move or go."""
    kind = {"jitsi": JitsiProvider, "webex": WebexProvider, "zoom": ZoomProvider}.get(provider)
    return bool(kind and kind.series_occurrences)
