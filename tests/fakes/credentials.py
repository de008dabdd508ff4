"""Credentials for the meeting-provider tests, with tokens from a fake of Webex or Zoom."""

from __future__ import annotations

from typing import Any

from addon.meetings import oauth
from addon.meetings.model import GrantRevoked
from addon.meetings.oauth import OAuthApp


class TokenCredentials:
    """The Credentials a provider uses in tests: tokens from a fake, renewed through the real oauth.refresh.

    The newest refresh token is kept (Zoom rotates them: only the newest one works from then on).
    """

    def __init__(self, app: OAuthApp, tokens: dict[str, Any]) -> None:
        self.app = app
        self.access = tokens["access_token"]
        self.refresh = tokens["refresh_token"]
        self.revoked: list[str] = []

    def access_token(self) -> str:
        return self.access

    def refreshed_token(self, rejected: str) -> str:
        if self.access != rejected:
            return self.access
        try:
            fresh = oauth.refresh(self.app, self.refresh)
        except GrantRevoked as error:
            self.mark_revoked(error.message)
            raise
        self.access, self.refresh = fresh.access_token, fresh.refresh_token or self.refresh
        return self.access

    def mark_revoked(self, reason: str) -> None:
        self.revoked.append(reason)
