"""The open Gmail message's metadata, read through the add-on's per-message token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from addon.google.addresses import addresses
from addon.google.client import GoogleApis

PLAUSIBLE_YEARS = (1971, 2200)


@dataclass(frozen=True)
class Person:
    email: str
    name: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class MessageMetadata:
    message_id: str
    subject: str
    sent_at: datetime | None
    senders: tuple[Person, ...]
    to: tuple[Person, ...]
    cc: tuple[Person, ...]

    def participants(self, excluding: str) -> list[Person]:
        """Everyone on the message once, From then To then Cc, without the given user."""
        seen = {excluding.lower()}
        people = []
        for person in (*self.senders, *self.to, *self.cc):
            if person.email.lower() not in seen:
                seen.add(person.email.lower())
                people.append(person)
        return people


def read_message_metadata(apis: GoogleApis, user_token: str, message_token: str, message_id: str) -> MessageMetadata:
    """Headers only (format=metadata): the body is never requested."""
    # format=metadata, with the headers GMAIL_METADATA_HEADERS names (addon/google/client.py).
    request = apis.gmail_metadata(id=message_id)
    message = apis.execute(request, user_token, {"X-Goog-Gmail-Access-Token": message_token})
    headers: dict[str, list[str]] = {}
    for header in message.get("payload", {}).get("headers", []):
        headers.setdefault(str(header.get("name", "")).lower(), []).append(str(header.get("value", "")))
    return MessageMetadata(
        message_id=message_id,
        subject=(headers.get("subject") or [""])[0].strip(),
        sent_at=_sent_at(headers.get("date"), message.get("internalDate")),
        senders=_people(headers.get("from", [])),
        to=_people(headers.get("to", [])),
        cc=_people(headers.get("cc", [])),
    )


def _people(values: list[str]) -> tuple[Person, ...]:
    # As getaddresses reads them: display names may hold quoted commas, "Doe, Jane" <jane@x>.
    return tuple(
        Person(email=address.strip(), name=name.strip() or None)
        for name, address in addresses(values)
        if "@" in address
    )


def _sent_at(date_headers: list[str] | None, internal_date: object) -> datetime | None:
    # A sender writes the Date header; one far in the past or future must not break the card.
    if date_headers:
        try:
            sent = parsedate_to_datetime(date_headers[0])
            sent = (sent if sent.tzinfo else sent.replace(tzinfo=UTC)).astimezone(UTC)
            if PLAUSIBLE_YEARS[0] <= sent.year <= PLAUSIBLE_YEARS[1]:
                return sent
        except (TypeError, ValueError, OverflowError):
            pass
    if isinstance(internal_date, str | int) and str(internal_date).isascii() and str(internal_date).isdigit():
        try:
            return datetime.fromtimestamp(int(internal_date) / 1000, UTC)
        except (ValueError, OverflowError, OSError):
            return None
    return None
