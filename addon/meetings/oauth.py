"""OAuth 2.0 authorization code with PKCE against a meeting service: the URL, code exchange, refresh, revoke."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from addon.meetings.model import ClientRejected, GrantRevoked, MeetingRejected, ServiceUnavailable

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 6.0


@dataclass(frozen=True)
class OAuthApp:
    """One service's OAuth integration, as registered by whoever runs the add-on."""

    provider: str
    display_name: str
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ()
    # Zoom wants the client credentials as HTTP Basic; Webex takes them in the form body.
    basic_auth: bool = False
    revoke_url: str | None = None


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    access_expires_at: datetime
    scope: str = ""


@dataclass(frozen=True)
class Pkce:
    verifier: str

    @classmethod
    def new(cls) -> Pkce:
        return cls(secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def callback_url(base_url: str, provider: str) -> str:
    """Where the service sends the browser back; only ever built from ADDON_BASE_URL."""
    return f"{base_url}/connect/{provider}/callback"


def authorization_url(app: OAuthApp, redirect_uri: str, state: str, pkce: Pkce) -> str:
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    if app.scopes:
        query["scope"] = " ".join(app.scopes)
    return f"{app.authorize_url}?{urlencode(query)}"


def exchange_code(app: OAuthApp, code: str, pkce: Pkce, redirect_uri: str) -> TokenSet:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pkce.verifier,
    }
    return _token_request(app, form, previous_refresh_token=None)


def refresh(app: OAuthApp, refresh_token: str) -> TokenSet:
    """New tokens; keeps the old refresh token when the service does not send one back."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(app, form, previous_refresh_token=refresh_token)


def revoke(app: OAuthApp, token: str) -> bool:
    """Ask the service to forget the grant, where it offers that; False if it could not be done."""
    if not app.revoke_url:
        return False
    try:
        response = _post(
            app.revoke_url, data={"token": token}, auth=(app.client_id, app.client_secret) if app.basic_auth else None
        )
    except requests.RequestException as error:
        log.warning("%s revoke failed: %s", app.provider, type(error).__name__)
        return False
    return response.status_code < 300


def _token_request(app: OAuthApp, form: dict[str, str], previous_refresh_token: str | None) -> TokenSet:
    if app.basic_auth:
        auth: tuple[str, str] | None = (app.client_id, app.client_secret)
    else:
        auth = None
        form = {**form, "client_id": app.client_id, "client_secret": app.client_secret}
    try:
        response = _post(app.token_url, data=form, auth=auth)
    except requests.RequestException as error:
        raise ServiceUnavailable(app.provider, f"token endpoint did not answer ({type(error).__name__})") from error
    body = _json(response)
    if response.status_code >= 500:
        raise ServiceUnavailable(app.provider, f"token endpoint answered {response.status_code}")
    if response.status_code >= 300 or "access_token" not in body:
        error = str(body.get("error") or "")
        reason = str(body.get("error_description") or body.get("reason") or body.get("message") or error)
        # Zoom answers a rotated-out or revoked refresh token with invalid_grant ("Invalid Token!"), and a spent
        # or unknown sign-in code with invalid_request ("Invalid authorization code ..."): both are dead grants.
        spent_code = form.get("grant_type") == "authorization_code" and "authorization code" in reason.lower()
        if error == "invalid_grant" or (error == "invalid_request" and spent_code):
            raise GrantRevoked(app.provider, reason or "the authorization is no longer valid")
        if error == "invalid_client" or response.status_code == 401:
            # Our client id or secret is wrong: an install problem, not the user's, so no grant is revoked.
            log.error("%s refused the add-on's client credentials; check its CLIENT_ID and CLIENT_SECRET", app.provider)
            raise ClientRejected(
                app.provider,
                f"the meeting service refused the add-on's own credentials ({error or response.status_code})",
            )
        raise MeetingRejected(app.provider, reason or f"token endpoint answered {response.status_code}", error or None)
    lifetime = _seconds(body.get("expires_in"), default=3600)
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=str(body.get("refresh_token") or previous_refresh_token or "") or None,
        access_expires_at=datetime.now(UTC) + timedelta(seconds=lifetime),
        scope=str(body.get("scope") or ""),
    )


def _post(url: str, data: dict[str, str], auth: tuple[str, str] | None) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False  # no proxy or .netrc credentials from the environment near our secrets
        return session.post(
            url,
            data=data,
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,  # never carry client secrets or codes to another host
        )


def _seconds(value: Any, default: int) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
