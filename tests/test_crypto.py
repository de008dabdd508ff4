"""Sealing stored secrets and signing tickets with keys derived from ADDON_SECRET_KEY."""

from __future__ import annotations

import time

import pytest

from addon.crypto import Sealed, SealError, SecretBox, TicketError

KEY = "k" * 40
OLD_KEY = "o" * 40


def test_a_sealed_secret_opens_only_for_its_own_record() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(b"refresh-token-123", "user-1/zoom")

    assert b"refresh-token-123" not in sealed.ciphertext.encode()
    assert box.open(sealed, "user-1/zoom") == b"refresh-token-123"
    with pytest.raises(SealError):
        box.open(sealed, "user-2/zoom")  # a ciphertext copied onto another user's record


def test_tampered_or_foreign_ciphertexts_do_not_open() -> None:
    box = SecretBox(KEY)
    sealed = box.seal(b"secret", "ctx")
    flipped = sealed.ciphertext[:-4] + ("AAAA" if sealed.ciphertext[-4:] != "AAAA" else "BBBB")

    with pytest.raises(SealError):
        box.open(Sealed(sealed.key_id, flipped), "ctx")
    with pytest.raises(SealError):
        SecretBox("x" * 40).open(sealed, "ctx")


def test_after_a_key_rotation_old_secrets_still_open_and_new_ones_use_the_new_key() -> None:
    sealed_before = SecretBox(OLD_KEY).seal(b"old grant", "ctx")
    rotated = SecretBox(KEY, previous_keys=(OLD_KEY,))

    assert rotated.open(sealed_before, "ctx") == b"old grant"
    sealed_after = rotated.seal(b"new grant", "ctx")
    assert sealed_after.key_id != sealed_before.key_id
    assert SecretBox(KEY).open(sealed_after, "ctx") == b"new grant"


def test_tickets_carry_claims_for_one_purpose_until_they_expire() -> None:
    box = SecretBox(KEY)
    ticket = box.sign_ticket("connect", {"sub": "108", "provider": "zoom"}, ttl_seconds=60)

    assert box.open_ticket("connect", ticket)["sub"] == "108"
    with pytest.raises(TicketError):
        box.open_ticket("oauth-state", ticket)
    expired = box.sign_ticket("connect", {"sub": "108"}, ttl_seconds=-1)
    with pytest.raises(TicketError):
        box.open_ticket("connect", expired)


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "garbage",
        "a.b",
        "é.ü",
        "eyJzdWIiOiIxMDgifQ.AAAA",
    ],
)
def test_forged_tickets_are_refused(forged: str) -> None:
    with pytest.raises(TicketError):
        SecretBox(KEY).open_ticket("connect", forged)


def test_a_ticket_signed_with_another_key_or_edited_is_refused() -> None:
    ticket = SecretBox("x" * 40).sign_ticket("connect", {"sub": "attacker"}, 60)
    with pytest.raises(TicketError):
        SecretBox(KEY).open_ticket("connect", ticket)

    mine = SecretBox(KEY).sign_ticket("connect", {"sub": "108"}, 60)
    signature = mine.split(".")[1]
    other_payload = SecretBox(KEY).sign_ticket("connect", {"sub": "999"}, 60).split(".")[0]
    with pytest.raises(TicketError):
        SecretBox(KEY).open_ticket("connect", f"{other_payload}.{signature}")
    assert time.time() < SecretBox(KEY).open_ticket("connect", mine)["exp"]
