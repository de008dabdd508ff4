"""Verification of Google's requests: ID tokens checked against Google's cached signing keys."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

log = logging.getLogger(__name__)

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
CLOCK_SKEW_SECONDS = 60
UNKNOWN_KID_REFRESH_SECONDS = 60
DEFAULT_CERTS_MAX_AGE_SECONDS = 600
CERTS_FETCH_TIMEOUT_SECONDS = 5
FAILED_FETCH_BACKOFF_SECONDS = 5
# Google ID tokens are about 1 kB; anything far larger is not one.
MAX_TOKEN_CHARS = 8192
_MAX_AGE = re.compile(r"max-age=(\d+)")


class Unauthorized(Exception):
    """A token failed verification. The reason is for logs only, never for the caller."""


class CertsUnavailable(Exception):
    """Google's signing keys could not be fetched and none are cached."""


@dataclass(frozen=True)
class GoogleUser:
    """The user a request acts for, as a verified user ID token names them."""

    sub: str
    email: str


class GoogleCerts:
    """Google's token-signing public keys, fetched once and kept for as long as Cache-Control allows."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self._url = url
        self._clock = clock
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._expires_at = 0.0
        self._last_fetch = float("-inf")
        self._lock = threading.Lock()
        self._failed_until = float("-inf")
        self.fetches = 0

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of the keys fetched so far."""
        return tuple(self._keys)

    def key(self, kid: str) -> rsa.RSAPublicKey | None:
        """The key for `kid`; refreshes when the cache expired, or for an unknown kid once a minute."""
        now = self._clock()
        keys = self._keys
        if now < self._expires_at and kid in keys:
            return keys[kid]
        with self._lock:
            now = self._clock()
            if not self._keys and now < self._failed_until:
                raise CertsUnavailable("Google's signing keys could not be fetched a moment ago")
            stale = now >= self._expires_at
            unknown = kid not in self._keys and now - self._last_fetch >= UNKNOWN_KID_REFRESH_SECONDS
            if stale or unknown:
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        self._last_fetch = now
        try:
            response = requests.get(self._url, timeout=CERTS_FETCH_TIMEOUT_SECONDS, allow_redirects=False)
            response.raise_for_status()
            keys = _parse_keys(response.json())
        except (requests.RequestException, ValueError) as error:
            if not self._keys:
                # Nothing cached: answer 503 at once for a few seconds rather than queue every request on Google.
                self._failed_until = now + FAILED_FETCH_BACKOFF_SECONDS
                raise CertsUnavailable(f"cannot fetch Google's signing keys: {error}") from error
            # Keep serving the keys we have; Google rotates keys over days, not minutes.
            log.warning("refreshing Google's signing keys failed, keeping cached ones: %s", error)
            self._expires_at = now + UNKNOWN_KID_REFRESH_SECONDS
            return
        self.fetches += 1
        self._keys = keys
        match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
        self._expires_at = now + (int(match.group(1)) if match else DEFAULT_CERTS_MAX_AGE_SECONDS)


def _parse_keys(document: object) -> dict[str, rsa.RSAPublicKey]:
    """Read either Google's v1 format ({kid: PEM certificate}) or a JWK set ({"keys": [...]})."""
    if not isinstance(document, dict):
        raise ValueError("signing keys document is not a JSON object")
    keys: dict[str, rsa.RSAPublicKey] = {}
    if isinstance(document.get("keys"), list):
        for jwk in document["keys"]:
            if isinstance(jwk, dict) and jwk.get("kty") == "RSA" and isinstance(jwk.get("kid"), str):
                numbers = rsa.RSAPublicNumbers(_b64_int(jwk["e"]), _b64_int(jwk["n"]))
                keys[jwk["kid"]] = numbers.public_key()
        return keys
    for kid, pem in document.items():
        public_key = x509.load_pem_x509_certificate(str(pem).encode()).public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            keys[str(kid)] = public_key
    return keys


def _b64_int(value: str) -> int:
    return int.from_bytes(_b64decode(value), "big")


def _b64decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise Unauthorized("token segment is not base64url") from error


def verify_id_token(
    token: str,
    certs: GoogleCerts,
    audiences: Collection[str],
    clock: Callable[[], float] = time.time,
) -> dict:
    """Check a Google ID token's RS256 signature, issuer, audience and lifetime; return its claims."""
    if len(token) > MAX_TOKEN_CHARS:
        raise Unauthorized("token is too long to be a Google ID token")
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("token is not a JWT")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise Unauthorized("token header or payload is not JSON") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthorized("token header or payload is not an object")
    if header.get("alg") != "RS256":
        raise Unauthorized(f"algorithm {header.get('alg')!r} is not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise Unauthorized("token has no key id")
    key = certs.key(kid)
    if key is None:
        raise Unauthorized(f"no Google key with id {kid!r}")
    try:
        key.verify(_b64decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as error:
        raise Unauthorized("bad signature") from error

    if not isinstance(claims.get("iss"), str) or claims["iss"] not in GOOGLE_ISSUERS:
        raise Unauthorized(f"issuer {claims.get('iss')!r} is not Google")
    if not isinstance(claims.get("aud"), str) or claims["aud"] not in audiences:
        raise Unauthorized(f"audience {claims.get('aud')!r} is not ours")
    _check_lifetime(claims, clock())
    return claims


def _check_lifetime(claims: dict, now: float) -> None:
    """Refuse a token past its exp, or before its nbf or iat, with the same clock skew allowance each way."""
    times = {name: claims[name] for name in ("exp", "nbf", "iat") if name in claims}
    for name, value in times.items():
        if not _is_numeric_date(value):
            raise Unauthorized(f"{name} is not a time")
    if "exp" not in times or times["exp"] < now - CLOCK_SKEW_SECONDS:
        raise Unauthorized("token expired")
    if times.get("nbf", now) > now + CLOCK_SKEW_SECONDS:
        raise Unauthorized("token not valid yet")
    if times.get("iat", now) > now + CLOCK_SKEW_SECONDS:
        raise Unauthorized("token issued in the future")


def _is_numeric_date(value: object) -> bool:
    """Seconds since the epoch: not a bool (an int to Python), nor NaN (false in every comparison) or Infinity."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer ...` header."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("no bearer token")
    return token.strip()


def verify_system_token(token: str, certs: GoogleCerts, audiences: Collection[str], service_account_email: str) -> None:
    """Check that a request was sent by the add-on's own Google service account."""
    claims = verify_id_token(token, certs, audiences)
    if claims.get("email") != service_account_email:
        raise Unauthorized(f"signed for {claims.get('email')!r}, not the add-on service account")
    if claims.get("email_verified") not in (True, "true"):
        raise Unauthorized("service account email is not verified")


def verify_user_token(token: object, certs: GoogleCerts, oauth_client_id: str) -> GoogleUser:
    """The user a verified `userIdToken` names."""
    if not isinstance(token, str) or not token:
        raise Unauthorized("no user ID token")
    claims = verify_id_token(token, certs, (oauth_client_id,))
    sub, email = claims.get("sub"), claims.get("email")
    if not isinstance(sub, str) or not sub or not isinstance(email, str) or not email:
        raise Unauthorized("user ID token lacks sub or email")
    if claims.get("email_verified") not in (True, "true"):
        raise Unauthorized("user email is not verified")
    return GoogleUser(sub=sub, email=email.lower())


def request_audiences(base_url: str, path: str, query: str) -> frozenset[str]:
    """The audiences Google may put on a request to `path`: the URL it called, with or without query, or the origin."""
    audiences = {base_url, base_url + "/", base_url + path}
    if query:
        audiences.add(f"{base_url}{path}?{query}")
    return frozenset(audiences)
