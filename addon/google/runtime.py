"""The app's own Google identity on Google Cloud (App Engine, Cloud Run), from the metadata server.

Used where the app acts as itself rather than as a user: signing delegation assertions through IAM, queueing
Cloud Tasks, reading secrets at start. GCE_METADATA_HOST moves the metadata server, as google-auth honours it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Protocol

import httplib2
from google.auth import credentials, exceptions

from addon.google.client import GoogleUnavailable

METADATA_HOST = "metadata.google.internal"
TIMEOUT_SECONDS = 10.0
# A token is used only while it has this long left.
SPARE_SECONDS = 300


class AccessTokenSource(Protocol):
    """An identity that hands out a current access token of its own."""

    def token(self) -> str: ...


class RuntimeIdentity:
    """The runtime service account's access token, fetched from the metadata server and kept until near expiry."""

    def __init__(self, metadata_host: str | None = None) -> None:
        # None: GCE_METADATA_HOST as it is when a token is fetched, else the real metadata server.
        self._metadata_host = metadata_host
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        now = time.monotonic()
        with self._lock:
            if self._token and self._token[1] > now:
                return self._token[0]
        host = self._metadata_host or os.environ.get("GCE_METADATA_HOST") or METADATA_HOST
        url = f"http://{host}/computeMetadata/v1/instance/service-accounts/default/token"
        status, answer = call_json(url, "GET", None, {"Metadata-Flavor": "Google"})
        token = answer.get("access_token")
        if status != 200 or not isinstance(token, str):
            raise GoogleUnavailable(f"no runtime identity from the metadata server ({status})", status)
        with self._lock:
            self._token = (token, now + float(answer.get("expires_in") or 0) - SPARE_SECONDS)
        return token


class RuntimeCredentials(credentials.Credentials):
    """The runtime identity as google-auth credentials, for Google's client libraries."""

    def __init__(self, identity: AccessTokenSource) -> None:
        super().__init__()
        self._identity = identity

    def refresh(self, request: object) -> None:
        try:
            self.token = self._identity.token()
        except GoogleUnavailable as error:
            raise exceptions.RefreshError(str(error)) from error

    def before_request(self, request: object, method: str, url: str, headers: dict[str, str]) -> None:
        # The identity keeps its token until near expiry, so asking it before each request costs nothing.
        self.refresh(request)
        self.apply(headers)


def call_json(url: str, method: str, body: str | None, headers: dict[str, str]) -> tuple[int, dict]:
    """One request on a connection of its own (these calls are rare); (status, JSON object or {})."""
    http = httplib2.Http(timeout=TIMEOUT_SECONDS)
    try:
        response, content = http.request(url, method, body=body, headers=headers)
    except (OSError, httplib2.HttpLib2Error) as error:
        raise GoogleUnavailable(f"{url.split('/')[2]} did not answer: {type(error).__name__}") from error
    finally:
        http.close()
    try:
        parsed = json.loads(content or b"{}")
    except ValueError:
        parsed = {}
    return response.status, parsed if isinstance(parsed, dict) else {}
