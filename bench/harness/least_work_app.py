"""The least-work comparison target: the Gmail-open trigger doing only what it cannot skip.

Both ID tokens are checked (RS256 against certs fetched once per worker; issuer, audience, expiry, the service
account's email, a verified user email), the message's headers are read with one Gmail call on a kept connection,
exactly as the add-on asks for them, and a fixed card is answered. No store, no card building, no logging, no
client library: what is left is what any implementation pays on top of Flask and gunicorn.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, Response, request

from bench.harness.bare_app import BODY_FILE_ENV, PATH_ENV

SPEC = "bench.harness.least_work_app:create_least_work_app()"
ISSUERS = ("accounts.google.com", "https://accounts.google.com")
# The headers addon/google/gmail.py asks for, in its order.
METADATA_HEADERS = ("Subject", "Date", "From", "To", "Cc")
TIMEOUT_SECONDS = 4.0


class Refused(Exception):
    """A token that does not verify."""


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verified_claims(token: str, keys: dict[str, rsa.RSAPublicKey], audiences: frozenset[str]) -> dict:
    """The claims of a Google RS256 ID token with a known key, Google's issuer, one of our audiences, not expired."""
    try:
        head, body, signature = token.split(".")
        header, claims = json.loads(_b64(head)), json.loads(_b64(body))
        key = keys[header["kid"]]
        if header["alg"] != "RS256":
            raise Refused("alg")
        key.verify(_b64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except Refused:
        raise
    except Exception as error:  # any malformed token or bad signature is one refusal
        raise Refused(type(error).__name__) from error
    if claims.get("iss") not in ISSUERS or claims.get("aud") not in audiences or claims.get("exp", 0) < time.time():
        raise Refused("claims")
    return claims


class KeptConnections:
    """One keep-alive connection to Google per thread: the cheapest pooling there is (plain http.client)."""

    def __init__(self, url: str, ca_bundle: str | None) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._tls = ssl.create_default_context(cafile=ca_bundle) if self._https else None
        self._local = threading.local()

    def get(self, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        try:
            connection.request("GET", target, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            self._local.connection = None
            connection.close()
            raise

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=TIMEOUT_SECONDS, context=self._tls)
        return http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT_SECONDS)


def _signing_keys(url: str, ca_bundle: str | None) -> dict[str, rsa.RSAPublicKey]:
    """Google's v1 certs ({kid: PEM}) as public keys, fetched once when the worker builds the app."""
    parts = urlsplit(url)
    _, body = KeptConnections(url, ca_bundle).get(parts.path + (f"?{parts.query}" if parts.query else ""), {})
    return {kid: x509.load_pem_x509_certificate(pem.encode()).public_key() for kid, pem in json.loads(body).items()}


def create_least_work_app() -> Flask:
    """Gunicorn entry point, configured by the same ADDON_* variables as the add-on, and the bare body file."""
    env = os.environ
    base_url = env["ADDON_BASE_URL"].rstrip("/")
    path = env[PATH_ENV]
    service_account = env["ADDON_SERVICE_ACCOUNT_EMAIL"]
    system_audiences = frozenset({base_url, base_url + "/", base_url + path})
    user_audiences = frozenset({env["ADDON_OAUTH_CLIENT_ID"]})
    ca_bundle = env.get("HTTPLIB2_CA_CERTS")  # set by --google-tls, as for the add-on
    google = KeptConnections(env["ADDON_GOOGLE_API_ENDPOINT"], ca_bundle)
    keys = _signing_keys(env["ADDON_GOOGLE_CERTS_URL"], ca_bundle)
    query = urlencode([("format", "metadata"), *(("metadataHeaders", h) for h in METADATA_HEADERS), ("alt", "json")])
    card = Path(env[BODY_FILE_ENV]).read_bytes()
    app = Flask("least_work")

    @app.post(path)
    def gmail_message() -> Response:
        try:
            scheme, _, system_token = request.headers.get("Authorization", "").partition(" ")
            system = verified_claims(system_token, keys, system_audiences)
            if scheme != "Bearer" or system.get("email") != service_account or not system.get("email_verified"):
                raise Refused("not the add-on's service account")
            event = request.get_json()
            authorization = event["authorizationEventObject"]
            user = verified_claims(authorization["userIdToken"], keys, user_audiences)
            if not user.get("email_verified"):
                raise Refused("user email not verified")
        except (Refused, KeyError, TypeError):
            return Response(b'{"error":"unauthorized"}', 401, mimetype="application/json")
        gmail = event["gmail"]
        status, body = google.get(
            f"/gmail/v1/users/me/messages/{quote(gmail['messageId'], safe='')}?{query}",
            {
                "Authorization": f"Bearer {authorization['userOAuthToken']}",
                "X-Goog-Gmail-Access-Token": gmail["accessToken"],
                "Accept": "application/json",
            },
        )
        if status != 200 or "payload" not in json.loads(body):
            return Response(b'{"error":"gmail"}', 502, mimetype="application/json")
        return Response(card, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
