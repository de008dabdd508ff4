"""Calendar access for users who are not at their screen: a service account with domain-wide delegation."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import google_auth_httplib2
import httplib2
from google.auth.exceptions import GoogleAuthError, TransportError
from google.oauth2 import service_account

from addon.google.client import GoogleUnauthorized, GoogleUnavailable

log = logging.getLogger(__name__)

# The only scope background work asks for; the admin authorises exactly this one for the client ID.
SYNC_SCOPE = "https://www.googleapis.com/auth/calendar.events"
TOKEN_TIMEOUT_SECONDS = 10.0


class OfflineAccess:
    """Short-lived Calendar tokens for any user of a domain that delegated access to the service account.

    Without a key file (ADDON_SYNC_CREDENTIALS) it is unavailable, and sync waits for a user's own token.
    """

    def __init__(self, key_file: str | None) -> None:
        self._base: service_account.Credentials | None = None
        if key_file:
            info = json.loads(Path(key_file).read_text())
            self._base = service_account.Credentials.from_service_account_info(info, scopes=[SYNC_SCOPE])
        self._tokens: dict[str, service_account.Credentials] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self._base is not None

    @property
    def client_email(self) -> str | None:
        return self._base.service_account_email if self._base else None

    def token_for(self, email: str) -> str:
        """An access token acting as `email`; GoogleUnauthorized if the domain does not (or no longer) delegate."""
        if self._base is None:
            raise GoogleUnauthorized("no service account is configured for background sync")
        with self._lock:
            credentials = self._tokens.get(email)
            if credentials is None:
                if len(self._tokens) > 10_000:
                    self._tokens.clear()
                credentials = self._tokens[email] = self._base.with_subject(email)
        if not credentials.valid:
            # Two threads may both refresh one user's token; both tokens are valid, so that costs only a call.
            # Once an hour per user at most: a connection of its own, closed right after.
            http = httplib2.Http(timeout=TOKEN_TIMEOUT_SECONDS)
            try:
                credentials.refresh(google_auth_httplib2.Request(http))
            except GoogleAuthError as error:
                # A 5xx or a lost connection is Google's trouble, not a refusal: nothing gets suspended for it.
                if isinstance(error, TransportError) or getattr(error, "retryable", False):
                    raise GoogleUnavailable(f"Google's token endpoint failed: {type(error).__name__}") from error
                log.warning("domain-wide delegation refused for a user: %s", type(error).__name__)
                raise GoogleUnauthorized("the service account may not act for this user", 401) from error
            except (OSError, httplib2.HttpLib2Error) as error:
                raise GoogleUnavailable(f"Google's token endpoint did not answer: {type(error).__name__}") from error
            finally:
                http.close()
        assert credentials.token is not None  # set by a successful refresh
        return credentials.token
