"""Keys derived from ADDON_SECRET_KEY: AES-GCM sealing of stored secrets, and HMAC-signed short-lived tickets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value cannot be opened: unknown key id, tampered, or sealed for another record."""


class TicketError(ValueError):
    """A ticket is forged, malformed or expired."""


def derive_key(secret: str, purpose: bytes) -> bytes:
    """32 bytes for one purpose, so no two uses of ADDON_SECRET_KEY share a key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())


@dataclass(frozen=True)
class Sealed:
    key_id: str
    ciphertext: str  # base64 of nonce + AES-GCM ciphertext and tag


class SecretBox:
    """Encrypts with the current key; opens with any key in the ring, so keys can rotate without losing data."""

    def __init__(self, secret_key: str, previous_keys: tuple[str, ...] = ()) -> None:
        self._keys: dict[str, AESGCM] = {}
        self._signing: list[bytes] = []
        for index, secret in enumerate((secret_key, *previous_keys)):
            key = derive_key(secret, b"addon: stored secrets v1")
            key_id = hashlib.sha256(key).hexdigest()[:12]
            self._keys.setdefault(key_id, AESGCM(key))
            if index == 0:
                self.current_key_id = key_id
            self._signing.append(derive_key(secret, b"addon: signed tickets v1"))
        # Keys the hash of user ids in logs, so log lines cannot be joined to anything outside this install.
        self.log_key = derive_key(secret_key, b"addon: log user hash v1")

    def seal(self, plaintext: bytes, context: str) -> Sealed:
        """Encrypt `plaintext` bound to `context` (e.g. the record key), so it cannot be moved to another record."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current_key_id].encrypt(nonce, plaintext, context.encode())
        return Sealed(self.current_key_id, base64.b64encode(nonce + sealed).decode("ascii"))

    def open(self, sealed: Sealed, context: str) -> bytes:
        aead = self._keys.get(sealed.key_id)
        if aead is None:
            raise SealError(
                f"no key with id {sealed.key_id}; was ADDON_SECRET_KEY changed without keeping the old one?"
            )
        try:
            raw = base64.b64decode(sealed.ciphertext)
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError) as error:
            raise SealError("sealed value does not open") from error

    def sign_ticket(self, purpose: str, claims: dict[str, Any], ttl_seconds: int) -> str:
        """A compact, URL-safe, signed and expiring token carrying `claims` for one `purpose`."""
        body = {**claims, "purpose": purpose, "exp": int(time.time()) + ttl_seconds}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{_b64(self._mac(self._signing[0], payload))}"

    def open_ticket(self, purpose: str, ticket: str) -> dict[str, Any]:
        payload, _, signature = ticket.partition(".")
        if not (payload.isascii() and signature.isascii()):
            raise TicketError("malformed ticket")
        try:
            given = _unb64(signature)
            body = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError) as error:
            raise TicketError("malformed ticket") from error
        if not any(hmac.compare_digest(given, self._mac(key, payload)) for key in self._signing):
            raise TicketError("bad signature")
        if not isinstance(body, dict) or body.get("purpose") != purpose:
            raise TicketError("ticket for another purpose")
        if not isinstance(body.get("exp"), int) or body["exp"] < time.time():
            raise TicketError("expired ticket")
        return body

    @staticmethod
    def _mac(key: bytes, payload: str) -> bytes:
        return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
