"""The development signing key: Google's role in tokens, played for the preview and trusted nowhere else.

Development mode points ADDON_GOOGLE_CERTS_URL at this key's certificate, so requests from the preview go
through the same verification as Google's; production reads Google's certificates and refuses these tokens.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

TOKEN_SECONDS = 3600


class DevIdentity:
    """A fresh RSA key per process, its certificate in Google's v1 certs format, and ID tokens signed with it."""

    def __init__(self) -> None:
        self.kid = "development-" + secrets.token_hex(8)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meeting-scheduler development only")])
        now = dt.datetime.now(dt.UTC)
        self.certificate_pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self._key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
            .decode()
        )

    def certs(self) -> dict[str, str]:
        return {self.kid: self.certificate_pem}

    def system_token(self, audience: str, service_account: str) -> str:
        """What Google sends in the Authorization header of every add-on request."""
        return self._sign({"aud": audience, "email": service_account, "email_verified": True, "sub": "development"})

    def user_token(self, client_id: str, sub: str, email: str) -> str:
        """The user's ID token (authorizationEventObject.userIdToken)."""
        return self._sign({"aud": client_id, "azp": client_id, "sub": sub, "email": email, "email_verified": True})

    def _sign(self, claims: dict[str, Any]) -> str:
        now = int(time.time())
        body = {"iss": "https://accounts.google.com", "iat": now, "exp": now + TOKEN_SECONDS, **claims}
        head = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        signing_input = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(body).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
