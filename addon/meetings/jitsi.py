"""Jitsi Meet, the default service: no account, a room per calendar event that nobody can guess."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from addon.meetings.model import KnownMeeting, Meeting, MeetingRejected, MeetingSpec, occurrence_start

# 26 base32 characters carry 130 bits: as hard to guess as a UUID, which Jitsi counts as a secure name.
ROOM_LENGTH = 26
ROOM_PATTERN = re.compile(r"^[a-z2-7]{26}$")
# A token-authenticated server lets people in until the token expires; leave room for overruns.
TOKEN_GRACE = timedelta(hours=12)
SERIES_TOKEN_LIFETIME = timedelta(days=400)


class JitsiProvider:
    """Rooms derived from the event key with a secret; the same key always gives the same room."""

    name = "jitsi"
    # A public room has no passcode, and a token travels in the one link everybody shares: nothing to rotate.
    can_rotate_passcode = False
    # False rather than True-with-no-ops: every occurrence meets in the series' room, so the engine has no
    # occurrence to move or cancel here and can say so instead of pretending it did something.
    series_occurrences = False

    def __init__(
        self, base_url: str, room_secret: bytes, app_id: str | None = None, app_secret: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._room_secret = room_secret
        self._app_id = app_id
        self._app_secret = app_secret

    def room_name(self, idempotency_key: str) -> str:
        digest = hmac.new(self._room_secret, idempotency_key.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii").lower()[:ROOM_LENGTH]

    def create(self, spec: MeetingSpec, idempotency_key: str, *, maybe_made: bool = True) -> Meeting:
        return self._meeting(self.room_name(idempotency_key), spec)

    def completed(self, meeting: Meeting) -> Meeting:
        """A room's link is all there is to join it."""
        return meeting

    def update(self, meeting_id: str, spec: MeetingSpec, *, known: KnownMeeting | None = None) -> Meeting:
        """Nothing to call: the room is the same, and a token server's link gets a token for the new times."""
        return self._meeting(self._checked(meeting_id), spec)

    def delete(self, meeting_id: str) -> None:
        """A Jitsi room exists only while people are in it; there is nothing to delete."""
        self._checked(meeting_id)

    def get(self, meeting_id: str) -> Meeting:
        return self._meeting(self._checked(meeting_id), None)

    def find(self, idempotency_key: str, start: datetime, end: datetime) -> Meeting | None:
        """A room is made by no call, so no create can leave one behind."""
        return None

    def rotate_passcode(self, meeting_id: str) -> Meeting:
        """The room as it is (see can_rotate_passcode); on a token server this link carries no token."""
        return self.get(meeting_id)

    def update_occurrence(self, meeting_id: str, original_start: datetime, spec: MeetingSpec) -> None:
        """Every occurrence uses the series' room; there is nothing to move."""
        self._checked(meeting_id)
        occurrence_start(original_start)

    def cancel_occurrence(self, meeting_id: str, original_start: datetime) -> None:
        """Every occurrence uses the series' room; there is nothing to cancel."""
        self._checked(meeting_id)
        occurrence_start(original_start)

    def _meeting(self, room: str, spec: MeetingSpec | None) -> Meeting:
        join_url = f"{self.base_url}/{room}"
        if self._app_id and self._app_secret and spec is not None:
            join_url += f"?jwt={self._room_token(room, spec)}"
        return Meeting(provider=self.name, meeting_id=room, join_url=join_url, meeting_code=room)

    def _room_token(self, room: str, spec: MeetingSpec) -> str:
        """An HS256 token for this room only (jitsi-meet-tokens); it travels in the link, so it names no user."""
        lifetime_end = spec.end + (SERIES_TOKEN_LIFETIME if spec.options.recurrence else TOKEN_GRACE)
        claims = {
            "iss": self._app_id,
            "aud": "jitsi",
            "sub": urlsplit(self.base_url).hostname or "*",
            "room": room,
            "nbf": int((spec.start - TOKEN_GRACE).timestamp()),
            "exp": int(lifetime_end.timestamp()),
        }
        header = {"alg": "HS256", "typ": "JWT"}
        signing_input = f"{_b64json(header)}.{_b64json(claims)}"
        signature = hmac.new(str(self._app_secret).encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def _checked(self, meeting_id: str) -> str:
        if not ROOM_PATTERN.match(meeting_id):
            raise MeetingRejected(self.name, "not a room this add-on created")
        return meeting_id


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64json(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())
