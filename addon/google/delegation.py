"""Calendar access for users who are not at their screen: a service account with domain-wide delegation.

Two ways to sign the delegation assertion (a JWT naming the user as `sub`):
- a key file (ADDON_SYNC_CREDENTIALS), signed here with its private key;
- keyless (ADDON_SYNC_SERVICE_ACCOUNT): the IAM Credentials API signs it as that account, for the app's own
  runtime identity from the metadata server (App Engine, Cloud Run). No key exists to leak or rotate.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import google_auth_httplib2
import httplib2
from google.auth.exceptions import GoogleAuthError, TransportError
from google.oauth2 import service_account

from addon.google.client import GoogleUnauthorized, GoogleUnavailable
from addon.google.runtime import AccessTokenSource, RuntimeIdentity, call_json

log = logging.getLogger(__name__)

# The only scope background work asks for; the admin authorises exactly this one for the client ID.
SYNC_SCOPE = "https://www.googleapis.com/auth/calendar.events"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - an address, not a secret
IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_TIMEOUT_SECONDS = 10.0
# A token is used only while it has this long left; Google's last an hour.
SPARE_SECONDS = 300
ASSERTION_SECONDS = 3600

# (access token, seconds it lasts)
Minted = tuple[str, float]


class SigningRefused(GoogleUnauthorized):
    """IAM would not sign as the sync account for the caller: it lacks roles/iam.serviceAccountTokenCreator there."""

    def __init__(self, message: str, status: int, error: dict) -> None:
        super().__init__(message, status)
        # Google's error object ({"code", "message", "status", "details"}), which says why.
        self.error = error


class DelegationRefused(GoogleUnauthorized):
    """Google's token endpoint would not let the service account act for the user."""

    def __init__(self, message: str, status: int, error: str, description: str) -> None:
        super().__init__(message, status)
        # The OAuth error code: unauthorized_client (no delegation for the client ID and scope), invalid_grant, ...
        self.error = error
        self.description = description


class OfflineAccess:
    """Short-lived Calendar tokens for any user of a domain that delegated access to the service account.

    Without a key file or a keyless service account it is unavailable, and sync waits for a user's own token.
    """

    def __init__(
        self,
        key: dict | None,
        service_account_email: str | None = None,
        api_endpoint: str | None = None,
        *,
        identity: AccessTokenSource | None = None,
    ) -> None:
        self._mint: Callable[[str], Minted] | None = None
        self.client_email: str | None = None
        if key:
            keyed = service_account.Credentials.from_service_account_info(key, scopes=[SYNC_SCOPE])
            self.client_email = keyed.service_account_email
            self._mint = KeyFileMinter(keyed).mint
        elif service_account_email:
            self.client_email = service_account_email
            self._mint = KeylessMinter(service_account_email, api_endpoint, identity).mint
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self._mint is not None

    def token_for(self, email: str) -> str:
        """An access token acting as `email`; GoogleUnauthorized if the domain does not (or no longer) delegate."""
        if self._mint is None:
            raise GoogleUnauthorized("no service account is configured for background sync")
        now = time.monotonic()
        with self._lock:
            cached = self._tokens.get(email)
        if cached and cached[1] > now:
            return cached[0]
        # Two threads may both mint one user's token; both are valid, so that costs only a call.
        token, lasts = self._mint(email)
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[email] = (token, now + lasts - SPARE_SECONDS)
        return token


class KeyFileMinter:
    """Assertions signed with the key file's private key, exchanged by google-auth."""

    def __init__(self, credentials: service_account.Credentials) -> None:
        self.credentials = credentials

    def mint(self, email: str) -> Minted:
        acting = self.credentials.with_subject(email)
        http = httplib2.Http(timeout=TOKEN_TIMEOUT_SECONDS)
        try:
            acting.refresh(google_auth_httplib2.Request(http))
        except GoogleAuthError as error:
            # A 5xx or a lost connection is Google's trouble, not a refusal: nothing gets suspended for it.
            if isinstance(error, TransportError) or getattr(error, "retryable", False):
                raise GoogleUnavailable(f"Google's token endpoint failed: {type(error).__name__}") from error
            log.warning("domain-wide delegation refused for a user: %s", type(error).__name__)
            answer = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], dict) else {}
            raise DelegationRefused(
                "the service account may not act for this user",
                401,
                str(answer.get("error") or type(error).__name__),
                str(answer.get("error_description") or ""),
            ) from error
        except (OSError, httplib2.HttpLib2Error) as error:
            raise GoogleUnavailable(f"Google's token endpoint did not answer: {type(error).__name__}") from error
        finally:
            http.close()
        if acting.token is None:  # a refresh that succeeds sets it
            raise GoogleUnavailable("Google's token endpoint answered without a token")
        expiry = acting.expiry.replace(tzinfo=UTC) if acting.expiry else None
        return acting.token, (expiry - datetime.now(UTC)).total_seconds() if expiry else ASSERTION_SECONDS


class KeylessMinter:
    """Assertions signed by IAM Credentials' signJwt for the app's runtime identity (metadata server)."""

    def __init__(
        self, service_account_email: str, api_endpoint: str | None, identity: AccessTokenSource | None = None
    ) -> None:
        self.service_account_email = service_account_email
        # ADDON_GOOGLE_API_ENDPOINT moves every Google API at once, these two included (tests, emulators).
        self.iam_url = api_endpoint or IAM_CREDENTIALS_URL
        self.token_url = f"{api_endpoint}/token" if api_endpoint else GOOGLE_TOKEN_URL
        # The app's own identity; `python -m addon doctor` off Google Cloud passes the admin's credentials instead.
        self.runtime = identity or RuntimeIdentity()

    def mint(self, email: str) -> Minted:
        now = int(time.time())
        claims = {
            "iss": self.service_account_email,
            "sub": email,
            "scope": SYNC_SCOPE,
            "aud": GOOGLE_TOKEN_URL,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
        }
        url = f"{self.iam_url}/v1/projects/-/serviceAccounts/{quote(self.service_account_email)}:signJwt"
        headers = {"Authorization": f"Bearer {self.runtime.token()}", "Content-Type": "application/json"}
        status, signed = call_json(url, "POST", json.dumps({"payload": json.dumps(claims)}), headers)
        if status in (401, 403):
            log.warning(
                "the app's own identity may not sign as %s: grant it roles/iam.serviceAccountTokenCreator there",
                self.service_account_email,
            )
            error = signed.get("error")
            raise SigningRefused(
                "IAM refused to sign the delegation assertion", status, error if isinstance(error, dict) else {}
            )
        assertion = signed.get("signedJwt")
        if status != 200 or not isinstance(assertion, str):
            raise GoogleUnavailable(f"IAM signJwt answered {status}", status)
        form = urlencode({"grant_type": JWT_BEARER, "assertion": assertion})
        status, answer = call_json(self.token_url, "POST", form, {"Content-Type": "application/x-www-form-urlencoded"})
        token = answer.get("access_token")
        if status in (400, 401, 403):
            log.warning("domain-wide delegation refused for a user: %s", answer.get("error"))
            raise DelegationRefused(
                "the service account may not act for this user",
                status,
                str(answer.get("error") or ""),
                str(answer.get("error_description") or ""),
            )
        if status != 200 or not isinstance(token, str):
            raise GoogleUnavailable(f"Google's token endpoint answered {status}", status)
        return token, float(answer.get("expires_in") or ASSERTION_SECONDS)
