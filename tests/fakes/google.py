"""A fake of the Google endpoints the add-on calls, served over real HTTP on 127.0.0.1.

It insists on what the real APIs insist on: a known bearer token, the per-message Gmail token,
format=metadata for a metadata-scoped read, sync tokens that expire, signed service-account assertions;
and it can be told to fail or stall. Calendar changes are pushed to watching channels as Google pushes them.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from werkzeug.wrappers import Request, Response

from tests.fakes.calendar_feed import (
    DEFAULT_CHANNEL_TTL_SECONDS,
    ChangeLog,
    Channel,
    Delivery,
    FeedError,
    Notification,
    Outbox,
    list_page,
    list_query,
    listed,
    moved_occurrence,
    notification,
    occurrence_id,
    original_start_time,
    page_size,
    select_fields,
    send,
    tombstone,
)
from tests.fakes.google_cloud import FakeGoogleCloud
from tests.fakes.http_server import json_response
from tests.fakes.identity import SigningKey, system_claims
from tests.fakes.scripting import ScriptedFake, ScriptedState

CALENDAR_EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The audiences Google's token endpoint accepts in an assertion (google-auth always sends the first),
# whatever token_uri the key file names.
TOKEN_AUDIENCES = frozenset(
    {
        "https://oauth2.googleapis.com/token",
        "https://accounts.google.com/o/oauth2/token",
        "https://www.googleapis.com/oauth2/v4/token",
    }
)
SERVICE_ACCOUNT_EMAIL = "addon-sync@test-project.iam.gserviceaccount.com"
# What App Engine's metadata server says the app runs as.
RUNTIME_IDENTITY = "test-project@appspot.gserviceaccount.com"
CHANNEL_ID = re.compile(r"[A-Za-z0-9\-_+/=]{1,64}")
UNAUTHORIZED_CLIENT = (
    "Client is unauthorized to retrieve access tokens using this method, "
    "or client not authorized for any of the scopes requested."
)
SHORT_LIVED = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)


@dataclass
class FakeMessage:
    message_id: str
    access_token: str
    headers: list[tuple[str, str]]
    internal_date_ms: int = 1_767_261_600_000


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    client_id: str
    public_key: rsa.RSAPublicKey


@dataclass(frozen=True)
class TaskDispatch:
    """One Cloud Tasks HTTP call to the add-on: which task, where it went, and the status it got (None: none)."""

    name: str
    url: str | None
    status: int | None


@dataclass(frozen=True)
class TokenRequest:
    """One JWT-bearer token request: for whom (`sub`, None for the service account itself) and how it ended."""

    sub: str | None
    scopes: tuple[str, ...]
    status: int


# A compact JWT taken apart: header, claims, signing input, signature.
DecodedJwt = tuple[dict[str, Any], dict[str, Any], bytes, bytes]


class ChannelToken(Enum):
    """`deliver` sends the channel's own token unless told otherwise."""

    OWN = "own"


@dataclass
class FakeGoogleState(ScriptedState):
    messages: dict[str, FakeMessage] = field(default_factory=dict)
    # Every event ever written, by (calendar, id); deleted ones stay as tombstones with status "cancelled".
    events: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    user_tokens: set[str] = field(default_factory=set)
    cert_fetches: int = 0
    certs_max_age: int = 3600
    certs_status: int = 200
    # What Calendar does with conferenceData of type addOn from this client; field reports differ
    # (shared/reference/platform-2026-12.md, 1.2): refuse it with a 400, accept it, or answer 200 and drop it.
    addon_conferences: Literal["refuse", "accept", "drop"] = "refuse"
    addon_conference_refusal: str = "Invalid conference type value."
    # Each calendar's own zone, as events.list reports it ("primary" is the user's main calendar).
    calendar_zones: dict[str, str] = field(default_factory=dict)
    # Custom-schema fields of directory users, by email: {"Webex": {"SiteURL": "acme.webex.com"}}.
    directory: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    # Change numbers, page and sync tokens behind events.list.
    log: ChangeLog = field(default_factory=ChangeLog)
    # Push channels by id (stopped and expired ones stay, so their ids stay taken).
    channels: dict[str, Channel] = field(default_factory=dict)
    max_channel_ttl_seconds: int = DEFAULT_CHANNEL_TTL_SECONDS
    deliveries: list[Delivery] = field(default_factory=list)
    # Where the add-on's public https address is served in tests ("http://127.0.0.1:PORT"); None: nowhere.
    push_target: str | None = None
    # Domain-wide delegation: service-account keys by private_key_id, and what the admin authorised.
    service_account_keys: dict[str, ServiceAccountKey] = field(default_factory=dict)
    delegation_enabled: bool = True
    delegated_scopes: set[str] = field(default_factory=lambda: {CALENDAR_EVENTS_SCOPE})
    delegation_users: set[str] = field(default_factory=set)
    # Tokens from the token endpoint, and the user (or service account) each acts as.
    delegated_tokens: dict[str, str] = field(default_factory=dict)
    token_requests: list[TokenRequest] = field(default_factory=list)
    # Keyless delegation: the app's runtime identity (metadata server), and who may sign as which account.
    runtime_identity: str = RUNTIME_IDENTITY
    runtime_tokens: set[str] = field(default_factory=set)
    token_creators: dict[str, set[str]] = field(default_factory=dict)
    signing_keys: dict[str, SigningKey] = field(default_factory=dict)
    sign_requests: list[tuple[str, str | None]] = field(default_factory=list)
    # Cloud Tasks: every task name ever created (names are never reused), and each call made for a task.
    cloud_tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    task_dispatches: list[TaskDispatch] = field(default_factory=list)


class FakeGoogle(ScriptedFake):
    """Gmail messages.get, Calendar events and push channels, Directory users.get, OAuth2 certs and token."""

    def __init__(self) -> None:
        self.key = SigningKey("fake-key-1")
        self.extra_keys: list[SigningKey] = []
        self.state = FakeGoogleState()
        # Reentrant: arranging helpers write through the same steps the endpoints use.
        self._lock = threading.RLock()
        # Deliveries made before a reset are not recorded in the state that follows it.
        self._generation = 0
        self._outbox = Outbox(self._send)
        self._task_threads: list[threading.Thread] = []
        # The admin APIs `python -m addon doctor` reads (tests/fakes/google_cloud.py).
        self.cloud = FakeGoogleCloud(self.state_identity, lambda: self.state.runtime_identity)
        super().__init__()

    @property
    def certs_url(self) -> str:
        return self.url + "/oauth2/v1/certs"

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    @property
    def push_target(self) -> str | None:
        return self.state.push_target

    @push_target.setter
    def push_target(self, target: str | None) -> None:
        self.state.push_target = target

    def use_tls(self, context: ssl.SSLContext) -> None:
        """Serve https instead of http (call before start)."""
        self._server.use_tls(context)
        self.url = self.url.replace("http://", "https://", 1)

    def stop(self) -> None:
        super().stop()
        self._outbox.close()

    def reset(self) -> None:
        self._outbox.settle()
        self._task_threads = [thread for thread in self._task_threads if thread.is_alive()]
        with self._lock:
            self._generation += 1
            self.state = FakeGoogleState()
            self.extra_keys = []
            self.cloud.reset()

    # Arranging -----------------------------------------------------------------------------

    def add_user_token(self, token: str) -> None:
        self.state.user_tokens.add(token)

    def add_message(self, message: FakeMessage) -> None:
        self.state.messages[message.message_id] = message

    def add_event(self, calendar_id: str, event: dict[str, Any]) -> None:
        """The event exists as given (a new write in the change log); watching channels are told."""
        with self._lock:
            self._write(calendar_id, event)
        self._announce({calendar_id})

    def edit_event(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """The user edits the event in Calendar (patch semantics); returns it as stored."""
        with self._lock:
            edited = self._write(calendar_id, _merge(self._live(calendar_id, event_id), changes))
        self._announce({calendar_id})
        return edited

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        """The user deletes the event (a series with its changed occurrences); tombstones stay."""
        with self._lock:
            for event in [self._live(calendar_id, event_id), *self._exceptions(calendar_id, event_id)]:
                self._write(calendar_id, tombstone(event))
        self._announce({calendar_id})

    def move_event(self, calendar_id: str, event_id: str, destination_id: str) -> None:
        """events.move: the same id with every field in the destination, a tombstone in the source."""
        with self._lock:
            for event in [self._live(calendar_id, event_id), *self._exceptions(calendar_id, event_id)]:
                self._write(destination_id, {**event, "organizer": {"email": destination_id, "self": True}})
                self._write(calendar_id, tombstone(event))
        self._announce({calendar_id, destination_id})

    def copy_event(self, calendar_id: str, event_id: str, new_id: str | None = None) -> str:
        """The Calendar UI's Duplicate: every field (private properties too) under a new id; returns the id."""
        copy_id = new_id or uuid.uuid4().hex
        skipped = {"id", "recurringEventId", "originalStartTime", "etag", "updated", "created", "iCalUID", "htmlLink"}
        with self._lock:
            source = self._live(calendar_id, event_id)
            if (calendar_id, copy_id) in self.state.events:
                raise ValueError(f"event {copy_id} exists already in {calendar_id}")
            duplicate = {k: v for k, v in source.items() if k not in skipped}
            self._write(calendar_id, {**duplicate, "id": copy_id, "htmlLink": _html_link(copy_id)})
        self._announce({calendar_id})
        return copy_id

    def edit_occurrence(
        self, calendar_id: str, series_id: str, original_start: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """The user changes one occurrence of a series: an exception instance; returns it as stored."""
        with self._lock:
            series = self._series(calendar_id, series_id)
            instance_id = occurrence_id(series_id, original_start)
            current = self.state.events.get((calendar_id, instance_id))
            if current is None or current.get("status") == "cancelled":
                current = moved_occurrence(series, instance_id, original_start)
            edited = self._write(calendar_id, _merge(current, changes))
        self._announce({calendar_id})
        return edited

    def cancel_occurrence(self, calendar_id: str, series_id: str, original_start: str) -> str:
        """The user deletes one occurrence of a series: a cancelled exception instance; returns its id."""
        with self._lock:
            series = self._series(calendar_id, series_id)
            instance_id = occurrence_id(series_id, original_start)
            cancelled = {
                "id": instance_id,
                "status": "cancelled",
                "recurringEventId": series_id,
                "originalStartTime": original_start_time(series, original_start),
            }
            self._write(calendar_id, cancelled)
        self._announce({calendar_id})
        return instance_id

    def invalidate_sync_tokens(self, calendar_id: str) -> None:
        """Every sync and page token handed out so far for the calendar answers 410 from now on."""
        with self._lock:
            self.state.log.invalidate(calendar_id)

    # Push channels ---------------------------------------------------------------------------

    def notify(self, calendar_id: str) -> None:
        """Tell the calendar's live channels that something changed, though nothing did."""
        self._announce({calendar_id})

    def deliver(
        self,
        channel_id: str,
        *,
        token: str | ChannelToken | None = ChannelToken.OWN,
        state: str = "exists",
        message_number: int | None = None,
    ) -> int | None:
        """Send one hand-made notification (even on a stopped channel); the add-on's HTTP status, or None."""
        with self._lock:
            channel = self.state.channels[channel_id]
            number = message_number if message_number is not None else channel.next_message_number()
            sent_token = channel.token if token is ChannelToken.OWN else token
            note = self._notification(channel, state, number, sent_token)
        self._outbox.settle()
        return self._send(note).status

    def channels_of(self, calendar_id: str) -> list[Channel]:
        with self._lock:
            return [c for c in self.state.channels.values() if c.calendar_id == calendar_id]

    def expire_channel(self, channel_id: str) -> None:
        with self._lock:
            self.state.channels[channel_id].expiration_ms = int(time.time() * 1000) - 1

    def settle_deliveries(self, timeout: float = 10.0) -> bool:
        """Wait until notifications of changes made through the API, and queued tasks, have been answered."""
        deadline = time.monotonic() + timeout
        settled = self._outbox.settle(timeout)
        # A task may queue another (a sync that backs off queues the one after): wait for those too.
        while (alive := [t for t in self._task_threads if t.is_alive()]) and time.monotonic() < deadline:
            alive[0].join(max(0.0, deadline - time.monotonic()))
        return settled and not any(thread.is_alive() for thread in self._task_threads)

    # Domain-wide delegation ------------------------------------------------------------------

    def service_account_key_file(self, directory: Path, client_email: str = SERVICE_ACCOUNT_EMAIL) -> Path:
        """A JSON key in Google's format whose token_uri is this fake; its public key is registered here."""
        key_id = secrets.token_hex(20)
        private_key = SigningKey(key_id).private_key
        project = client_email.split("@", 1)[1].split(".", 1)[0]
        client_id = str(10**20 + secrets.randbelow(10**20))
        info = {
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "private_key": private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode(),
            "client_email": client_email,
            "client_id": client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_url,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{quote(client_email)}",
            "universe_domain": "googleapis.com",
        }
        path = directory / f"{project}-{key_id[:12]}.json"
        path.write_text(json.dumps(info, indent=2))
        with self._lock:
            self.state.service_account_keys[key_id] = ServiceAccountKey(
                client_email, client_id, private_key.public_key()
            )
        return path

    def keyless_service_account(self, client_email: str = SERVICE_ACCOUNT_EMAIL, token_creator: bool = True) -> str:
        """A service account with no key file: IAM signs as it for the runtime identity if `token_creator`."""
        key = SigningKey("keyless-" + secrets.token_hex(8))
        with self._lock:
            self.state.signing_keys[client_email] = key
            self.state.service_account_keys[key.kid] = ServiceAccountKey(
                client_email, str(10**20 + secrets.randbelow(10**20)), key.private_key.public_key()
            )
            if token_creator:
                self.state.token_creators.setdefault(client_email, set()).add(self.state.runtime_identity)
        return client_email

    def state_identity(self, token: str) -> str | None:
        """Whom an access token from this fake stands for: the runtime, a delegated user or a service account."""
        if token in self.state.runtime_tokens:
            return self.state.runtime_identity
        return self.state.delegated_tokens.get(token)

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self.state.user_tokens.discard(token)
            self.state.delegated_tokens.pop(token, None)

    # Assertions ------------------------------------------------------------------------------

    def events_of(self, calendar_id: str) -> list[dict[str, Any]]:
        """The calendar's events as its user sees them (no tombstones), oldest write first."""
        with self._lock:
            changes = self.state.log.changes
            found = [
                (changes.get(key, 0), event)
                for key, event in self.state.events.items()
                if key[0] == calendar_id and event.get("status") != "cancelled"
            ]
        return [event for _, event in sorted(found, key=lambda pair: pair[0])]

    def event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        """The event as stored (a tombstone once deleted); None if it never existed."""
        with self._lock:
            return self.state.events.get((calendar_id, event_id))

    # Writing and telling ---------------------------------------------------------------------

    def _write(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Store a new version of the event under the next change number (hold the lock)."""
        stored = copy.deepcopy(event)
        if stored.get("status") != "cancelled":
            stored.setdefault("iCalUID", f"{stored['id']}@google.com")
        stored = self.state.log.stamp(calendar_id, stored)
        self.state.events[(calendar_id, stored["id"])] = stored
        return stored

    def _live(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        event = self.state.events.get((calendar_id, event_id))
        if event is None or event.get("status") == "cancelled":
            raise LookupError(f"no event {event_id} in {calendar_id}")
        return event

    def _series(self, calendar_id: str, series_id: str) -> dict[str, Any]:
        series = self._live(calendar_id, series_id)
        if not series.get("recurrence"):
            raise ValueError(f"event {series_id} is not a recurring series")
        return series

    def _exceptions(self, calendar_id: str, series_id: str) -> list[dict[str, Any]]:
        return [
            e
            for (calendar, _), e in self.state.events.items()
            if calendar == calendar_id and e.get("recurringEventId") == series_id and e.get("status") != "cancelled"
        ]

    def _announce(self, calendar_ids: set[str], *, in_background: bool = False) -> None:
        """Tell every live channel of these calendars "exists".

        Changes made by tests are told before the helper returns, so the add-on has answered by then;
        changes made through the API are told from the background (the add-on's own call is still open).
        """
        with self._lock:
            notes = [
                self._notification(c, "exists", c.next_message_number(), c.token)
                for c in self.state.channels.values()
                if c.calendar_id in calendar_ids and c.live
            ]
        if in_background:
            self._outbox.post(notes)
            return
        self._outbox.settle()
        for note in notes:
            self._send(note)

    def _notification(self, channel: Channel, state: str, number: int, token: str | None) -> Notification:
        return notification(channel, state, number, token, self.state.push_target, self._generation)

    def _send(self, note: Notification) -> Delivery:
        if note.generation != self._generation:
            return note.delivery  # left over from before a reset: meant for another test's add-on
        delivery = send(note)
        with self._lock:
            if note.generation == self._generation:
                self.state.deliveries.append(delivery)
        return delivery

    # Serving -------------------------------------------------------------------------------

    def _failure_response(self, status: int, body: dict[str, Any] | None) -> Response:
        return json_response(
            body if body is not None else _error_body(status, "scripted failure", "backendError"), status
        )

    def _route(self, request: Request) -> Response:
        if request.path == "/oauth2/v1/certs":
            return self._certs()
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        answer = self.cloud.handle(request, parts)
        if answer is not None:
            return answer
        if parts == ["token"] and request.method == "POST":
            return self._token(request)
        if parts == ["computeMetadata", "v1", "instance", "service-accounts", "default", "token"]:
            return self._metadata_token(request)
        if parts[:2] == ["v2", "projects"] and parts[-1] == "tasks" and request.method == "POST":
            return self._create_task(request, "/".join(parts[1:-1]))
        if parts[:4] == ["v1", "projects", "-", "serviceAccounts"] and len(parts) == 5 and request.method == "POST":
            return self._sign_jwt(request, parts[4].removesuffix(":signJwt"))
        if parts[:3] == ["gmail", "v1", "users"] and len(parts) == 6 and parts[4] == "messages":
            return self._authorized(request) or self._gmail_message(request, parts[3], parts[5])
        if parts[:4] == ["admin", "directory", "v1", "users"] and len(parts) == 5 and request.method == "GET":
            return self._authorized(request) or self._directory_user(request, parts[4])
        if parts == ["calendar", "v3", "channels", "stop"] and request.method == "POST":
            return self._authorized(request) or self._stop_channel(request)
        if parts[:3] == ["calendar", "v3", "calendars"] and len(parts) in (5, 6) and parts[4] == "events":
            denied = self._authorized(request) or self._foreign_calendar(request, parts[3])
            if denied is not None:
                return denied
            return _partial(request, self._calendar_events(request, self._calendar_id(request, parts[3]), parts))
        return _error(404, "Not Found", "notFound")

    def _calendar_events(self, request: Request, calendar_id: str, parts: list[str]) -> Response:
        if len(parts) == 5 and request.method == "POST":
            return self._insert_event(request, calendar_id)
        if len(parts) == 5 and request.method == "GET":
            return self._list_events(request, calendar_id)
        if len(parts) == 6 and parts[5] == "watch" and request.method == "POST":
            return self._watch(request, calendar_id, parts[3])
        if len(parts) == 6 and request.method == "PATCH":
            return self._patch_event(request, calendar_id, parts[5])
        if len(parts) == 6 and request.method == "GET":
            return self._calendar_event(calendar_id, parts[5])
        if len(parts) == 6 and request.method == "DELETE":
            return self._delete_event(calendar_id, parts[5])
        return _error(405, "Method not allowed", "badRequest")

    def _directory_user(self, request: Request, user_key: str) -> Response:
        """users.get as a domain user may call it: only the domain_public view, custom fields by schema."""
        record = self.state.directory.get(user_key.lower())
        if record is None:
            return _error(404, "Resource Not Found: userKey", "notFound")
        if request.args.get("viewType") != "domain_public":
            return _error(403, "Not Authorized to access this resource/api", "forbidden")
        answer = {"primaryEmail": user_key.lower()}
        if request.args.get("projection") == "custom":
            wanted = set(request.args.get("customFieldMask", "").split(","))
            answer["customSchemas"] = {k: v for k, v in record.items() if k in wanted}
        return json_response(answer)

    def _list_events(self, request: Request, calendar_id: str) -> Response:
        """events.list: a full list or the changes since a sync token, paged, the last page with nextSyncToken."""
        zone = self.state.calendar_zones.get(calendar_id, "UTC")
        try:
            size = page_size(request.args)
            with self._lock:
                log = self.state.log
                page_token = request.args.get("pageToken")
                if page_token:
                    cursor = log.cursor(calendar_id, page_token)
                    query, after = cursor.query, cursor.after
                else:
                    query, after = list_query(calendar_id, request.args, request.args.getlist, log), 0
                body = list_page(self.state.events, log, query, after, size, zone)
        except FeedError as refused:
            return _feed_error(refused)
        return json_response(body)

    def _insert_event(self, request: Request, calendar_id: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), dict) for k in ("start", "end")):
            return _error(400, "Missing start or end time.", "required")
        event_id = body.get("id") or uuid.uuid4().hex
        # Client-chosen ids are base32hex: lowercase a-v and digits, 5 to 1024 characters.
        if not re.fullmatch(r"[a-v0-9]{5,1024}", str(event_id)):
            return _error(400, "Invalid resource id value.", "invalid")
        problem = self._conference_problem(request, body)
        if problem is not None:
            return problem
        with self._lock:
            # Ids of deleted events stay taken.
            if (calendar_id, event_id) in self.state.events:
                return _error(409, "The requested identifier already exists.", "duplicate")
            event = self._write(
                calendar_id,
                {
                    **self._as_kept(request, body),
                    "id": event_id,
                    "htmlLink": _html_link(event_id),
                    "organizer": {"email": calendar_id, "self": True},
                },
            )
        self._announce({calendar_id}, in_background=True)
        return json_response(listed(event))

    def _patch_event(self, request: Request, calendar_id: str, event_id: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "Parse Error", "parseError")
        problem = self._conference_problem(request, body)
        if problem is not None:
            return problem
        with self._lock:
            event = self.state.events.get((calendar_id, event_id))
            # Google lets a deleted event be patched back; the add-on never does, so the fake refuses it.
            if event is None or event.get("status") == "cancelled":
                return _error(404, "Not Found", "notFound")
            merged = self._write(calendar_id, _merge(event, self._as_kept(request, body)))
        self._announce({calendar_id}, in_background=True)
        return json_response(listed(merged))

    def _delete_event(self, calendar_id: str, event_id: str) -> Response:
        with self._lock:
            event = self.state.events.get((calendar_id, event_id))
            if event is None:
                return _error(404, "Not Found", "notFound")
            if event.get("status") == "cancelled":
                return _error(410, "Resource has been deleted", "deleted")
            for gone in [event, *self._exceptions(calendar_id, event_id)]:
                self._write(calendar_id, tombstone(gone))
        self._announce({calendar_id}, in_background=True)
        return Response(status=204)

    def _calendar_event(self, calendar_id: str, event_id: str) -> Response:
        event = self.state.events.get((calendar_id, event_id))
        if event is None:
            return _error(404, "Not Found", "notFound")
        return json_response(listed(event))

    def _watch(self, request: Request, calendar_id: str, requested_id: str) -> Response:
        """events.watch: a channel that hears of every change to the calendar, told `sync` at once."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "Parse Error", "parseError")
        problem = _channel_problem(body)
        if problem is not None:
            return problem
        lifetime = _channel_lifetime_ms(body, self.state.max_channel_ttl_seconds)
        if lifetime is None:
            return _error(400, "Invalid channel expiration or params.ttl.", "invalid")
        with self._lock:
            if body["id"] in self.state.channels:
                return _error(400, f"Channel id {body['id']} not unique", "channelIdNotUnique")
            channel = Channel(
                channel_id=body["id"],
                calendar_id=calendar_id,
                resource_id=_resource_id(calendar_id),
                resource_uri=f"https://www.googleapis.com/calendar/v3/calendars/{quote(requested_id)}/events?alt=json",
                address=body["address"],
                token=body.get("token"),
                expiration_ms=int(time.time() * 1000) + lifetime,
            )
            self.state.channels[channel.channel_id] = channel
            sync = self._notification(channel, "sync", channel.next_message_number(), channel.token)
        # Google may send `sync` before the watch call has returned.
        self._outbox.post([sync])
        answer = {
            "kind": "api#channel",
            "id": channel.channel_id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
            "expiration": str(channel.expiration_ms),
        }
        if channel.token is not None:
            answer["token"] = channel.token
        return json_response(answer)

    def _stop_channel(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        channel_id = body.get("id") if isinstance(body, dict) else None
        with self._lock:
            channel = self.state.channels.get(str(channel_id))
            if channel is None or channel.stopped or channel.resource_id != body.get("resourceId"):
                return _error(404, f"Channel '{channel_id}' not found for project 'test-project'", "notFound")
            channel.stopped = True
        return Response(status=204)

    def _conference_problem(self, request: Request, body: dict[str, Any]) -> Response | None:
        """Third-party conferences: Calendar accepts `addOn` solutions only from add-ons allowed to make them."""
        conference = body.get("conferenceData")
        if request.args.get("conferenceDataVersion") != "1" or not isinstance(conference, dict):
            return None
        kind = ((conference.get("conferenceSolution") or {}).get("key") or {}).get("type")
        if kind == "addOn" and self.state.addon_conferences == "refuse":
            return _error(400, self.state.addon_conference_refusal, "invalid")
        return None

    def _as_kept(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """The write as Calendar applies it: conferenceData only with conferenceDataVersion=1, and in "drop"
        mode never a third-party one, though the answer is 200 all the same."""
        conference = body.get("conferenceData")
        kind = ((conference.get("conferenceSolution") or {}).get("key") or {}).get("type") if conference else None
        if request.args.get("conferenceDataVersion") != "1" or (
            kind == "addOn" and self.state.addon_conferences == "drop"
        ):
            return {k: v for k, v in body.items() if k != "conferenceData"}
        return body

    def _certs(self) -> Response:
        with self._lock:
            self.state.cert_fetches += 1
        if self.state.certs_status != 200:
            return _error(self.state.certs_status, "unavailable", "backendError")
        keys = {k.kid: k.certificate_pem for k in (self.key, *self.extra_keys)}
        response = json_response(keys)
        response.headers["Cache-Control"] = f"public, max-age={self.state.certs_max_age}, must-revalidate, no-transform"
        return response

    def _authorized(self, request: Request) -> Response | None:
        if _bearer(request) not in self.state.user_tokens:
            return _error(401, "Request had invalid authentication credentials.", "authError")
        return None

    def _calendar_id(self, request: Request, calendar_id: str) -> str:
        """A delegated token's "primary" is its user's own calendar."""
        user = self.state.delegated_tokens.get(_bearer(request) or "")
        return user if user is not None and calendar_id == "primary" else calendar_id

    def _foreign_calendar(self, request: Request, calendar_id: str) -> Response | None:
        """A token got by delegation does not see another user's own calendar (Google hides unshared ones).

        Calendars that are no user's (team and group calendars) count as shared with everyone.
        """
        user = self.state.delegated_tokens.get(_bearer(request) or "")
        wanted = calendar_id.lower()
        if user is None or wanted in ("primary", user):
            return None
        if wanted in {u.lower() for u in self.state.delegation_users}:
            return _error(404, "Not Found", "notFound")
        return None

    def _gmail_message(self, request: Request, user_id: str, message_id: str) -> Response:
        message = self.state.messages.get(message_id)
        if user_id != "me" or message is None:
            return _error(404, "Requested entity was not found.", "notFound")
        # Without the per-message token the add-on scopes grant nothing.
        if request.headers.get("X-Goog-Gmail-Access-Token") != message.access_token:
            return _error(403, "Request had insufficient authentication scopes.", "insufficientPermissions")
        if request.args.get("format") != "metadata":
            return _error(403, "Metadata scope doesn't allow format FULL", "forbidden")
        wanted = {h.lower() for h in request.args.getlist("metadataHeaders")}
        headers = [{"name": n, "value": v} for n, v in message.headers if not wanted or n.lower() in wanted]
        return json_response(
            {
                "id": message_id,
                "threadId": "thread-" + message_id,
                "labelIds": ["INBOX"],
                "internalDate": str(message.internal_date_ms),
                "payload": {"mimeType": "multipart/alternative", "headers": headers},
                "sizeEstimate": 1234,
            }
        )

    # The metadata server and IAM Credentials ---------------------------------------------------

    def _metadata_token(self, request: Request) -> Response:
        """The runtime's own access token, only to callers that say they mean the metadata server."""
        if request.headers.get("Metadata-Flavor") != "Google":
            return json_response({"error": "Missing required header: Metadata-Flavor"}, 403)
        token = "ya29.runtime-" + secrets.token_urlsafe(24)
        with self._lock:
            self.state.runtime_tokens.add(token)
        return json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _sign_jwt(self, request: Request, client_email: str) -> Response:
        """serviceAccounts.signJwt: the payload signed with the account's Google-held key, for a Token Creator."""
        caller = self.state_identity(_bearer(request) or "")
        if caller is None:
            return _error(401, "Request had invalid authentication credentials.", "authError")
        key = self.state.signing_keys.get(client_email)
        if key is None or caller not in self.state.token_creators.get(client_email, set()):
            message = "Permission 'iam.serviceAccounts.signJwt' denied on resource (or it may not exist)."
            return _error(403, message, "forbidden")
        body = request.get_json(silent=True)
        try:
            claims = json.loads(body["payload"])
        except (TypeError, KeyError, ValueError):
            return _error(400, "Invalid JWT payload.", "invalid")
        with self._lock:
            self.state.sign_requests.append((client_email, claims.get("sub")))
        return json_response({"keyId": key.kid, "signedJwt": key.sign(claims)})

    # Cloud Tasks ---------------------------------------------------------------------------------

    def _create_task(self, request: Request, queue: str) -> Response:
        """tasks.create: a named HTTP task, refused if the name was used; called at its scheduleTime."""
        if _bearer(request) not in self.state.runtime_tokens:
            return _error(401, "Request had invalid authentication credentials.", "authError")
        body = request.get_json(silent=True)
        task = body.get("task") if isinstance(body, dict) else None
        http = task.get("httpRequest") if isinstance(task, dict) else None
        if not isinstance(http, dict) or not str(task.get("name", "")).startswith(queue + "/tasks/"):
            return _error(400, "Invalid task.", "invalid")
        with self._lock:
            if task["name"] in self.state.cloud_tasks:
                return json_response({"error": {"code": 409, "status": "ALREADY_EXISTS"}}, 409)
            self.state.cloud_tasks[task["name"]] = task
            generation = self._generation
        run_at = datetime.fromisoformat(str(task.get("scheduleTime") or "1970-01-01T00:00:00Z").replace("Z", "+00:00"))
        delay = max(0.0, (run_at - datetime.now(UTC)).total_seconds())
        thread = threading.Thread(target=self._dispatch_task, args=(task, delay, generation), daemon=True)
        self._task_threads.append(thread)
        thread.start()
        return json_response(task)

    def _dispatch_task(self, task: dict[str, Any], delay: float, generation: int) -> None:
        """Call the task's URL as Cloud Tasks does: POST, with a Google-signed OIDC token for the invoker."""
        time.sleep(delay)
        http = task["httpRequest"]
        oidc = http.get("oidcToken") or {}
        token = self.key.sign(system_claims(oidc.get("audience", ""), oidc.get("serviceAccountEmail", "")))
        target = self.state.push_target
        parts = urlsplit(http["url"])
        url = f"{target}{parts.path}?{parts.query}" if target else None
        status = None
        if url is not None:
            try:
                answer = requests.post(
                    url, headers={"Authorization": f"Bearer {token}", "User-Agent": "Google-Cloud-Tasks"}, timeout=20
                )
                status = answer.status_code
            except requests.RequestException:
                status = None
        with self._lock:
            if generation == self._generation:
                self.state.task_dispatches.append(TaskDispatch(task["name"], url, status))

    # The token endpoint ----------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        """The JWT-bearer grant a service account uses, with domain-wide delegation when the JWT has `sub`."""
        grant_type = request.form.get("grant_type", "")
        if grant_type != JWT_BEARER:
            return _oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        decoded = _decoded_jwt(request.form.get("assertion", ""))
        claims = decoded[1] if decoded else {}
        sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
        scopes = tuple(str(claims.get("scope") or "").split())
        with self._lock:
            answer = self._grant(decoded)
            self.state.token_requests.append(TokenRequest(sub, scopes, answer.status_code))
        return answer

    def _grant(self, decoded: DecodedJwt | None) -> Response:
        """Google's answer to an assertion: checked as Google checks it, then a new access token."""
        key = self.state.service_account_keys.get(str(decoded[0].get("kid"))) if decoded else None
        if decoded is None or key is None or decoded[1].get("iss") != key.client_email:
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        header, claims, signing_input, signature = decoded
        try:
            key.public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        if header.get("alg") != "RS256":
            return _oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        iat, exp, now = claims.get("iat"), claims.get("exp"), time.time()
        if not _seconds(iat) or not _seconds(exp) or not (now < exp <= iat + 3600 and iat <= now + 300):
            return _oauth_error(400, "invalid_grant", SHORT_LIVED)
        if claims.get("aud") not in TOKEN_AUDIENCES:
            return _oauth_error(400, "invalid_grant", "Invalid JWT: Failed audience check.")
        scopes = str(claims.get("scope") or "").split()
        if not scopes:
            return _oauth_error(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
        refusal = self._delegation_refusal(sub, scopes)
        if refusal is not None:
            return refusal
        token = "ya29.fake-" + secrets.token_urlsafe(32)
        self.state.user_tokens.add(token)
        self.state.delegated_tokens[token] = (sub or key.client_email).lower()
        return json_response({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _delegation_refusal(self, sub: str | None, scopes: list[str]) -> Response | None:
        if sub is None:
            return None  # the service account's own token
        if not self.state.delegation_enabled or not set(scopes) <= self.state.delegated_scopes:
            return _oauth_error(401, "unauthorized_client", UNAUTHORIZED_CLIENT)
        if sub.lower() not in {u.lower() for u in self.state.delegation_users}:
            return _oauth_error(400, "invalid_grant", "Invalid email or User ID")
        return None


def _channel_problem(body: dict[str, Any]) -> Response | None:
    """What Google refuses in a watch request's channel."""
    channel_id, address, token = body.get("id"), body.get("address"), body.get("token")
    if not channel_id or not address:
        return _error(400, "Required", "required")
    if not isinstance(channel_id, str) or not CHANNEL_ID.fullmatch(channel_id):
        return _error(400, f"Invalid channel id: {channel_id}", "invalid")
    if body.get("type") not in ("web_hook", "webhook"):
        return _error(400, f"Invalid value for: {body.get('type')} is not a valid value", "invalid")
    if not isinstance(address, str) or not address.startswith("https://"):
        return _error(400, f"WebHook callback must be HTTPS: {address}", "push.webhookUrlNotHttps")
    if token is not None and (not isinstance(token, str) or len(token) > 256):
        return _error(400, "Invalid channel token.", "invalid")
    return None


def _channel_lifetime_ms(body: dict[str, Any], max_ttl_seconds: int) -> int | None:
    """The stricter of the requested expiration, the requested ttl (7 days unless given) and Google's limit."""
    now_ms = int(time.time() * 1000)
    limits = [max_ttl_seconds * 1000]
    expiration = body.get("expiration")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        return None
    ttl = params.get("ttl")
    try:
        if expiration is not None:
            limits.append(int(expiration) - now_ms)
        if ttl is not None:
            if not str(ttl).isdigit():
                return None
            limits.append(int(ttl) * 1000)
    except (TypeError, ValueError):
        return None
    if expiration is None and ttl is None:
        limits.append(DEFAULT_CHANNEL_TTL_SECONDS * 1000)
    return min(limits)


def _resource_id(calendar_id: str) -> str:
    """Opaque, and the same for every channel on one calendar."""
    return base64.b32encode(hashlib.sha256(calendar_id.encode()).digest()).decode().lower()[:27]


def _html_link(event_id: str) -> str:
    return f"https://www.google.com/calendar/event?eid={event_id}"


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme == "Bearer" else None


def _decoded_jwt(assertion: str) -> DecodedJwt | None:
    """Header, claims, signing input and signature of a compact JWT; None if it is not one."""
    try:
        head, body, signature = assertion.split(".")
        header, claims = json.loads(_unb64(head)), json.loads(_unb64(body))
        return (header, claims, f"{head}.{body}".encode(), _unb64(signature)) if isinstance(claims, dict) else None
    except (ValueError, binascii.Error):
        return None


def _seconds(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _partial(request: Request, response: Response) -> Response:
    """Apply the `fields` parameter to a successful JSON answer, as every Google API does."""
    fields = request.args.get("fields")
    if not fields or response.status_code >= 300 or response.mimetype != "application/json":
        return response
    return json_response(select_fields(json.loads(response.get_data()), fields), response.status_code)


def _merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge field by field, arrays and plain values replace, null removes."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error_body(status: int, message: str, reason: str, domain: str | None = None) -> dict[str, Any]:
    detail = {"message": message, "reason": reason, **({"domain": domain} if domain else {})}
    return {"error": {"code": status, "message": message, "errors": [detail]}}


# What Gmail and Calendar say when they want a caller to slow down (for `fail`), by reason.
QUOTA_MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "dailyLimitExceeded": "Daily Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
}
QUOTA_SERVICES = {"calendar": "calendar-json.googleapis.com", "gmail": "gmail.googleapis.com"}


def quota_error(status: int = 403, reason: str = "rateLimitExceeded", api: str = "calendar") -> dict[str, Any]:
    """The body of Google's quota answer, for `fail`: a 403 in the classic usageLimits form, or a 429
    (RESOURCE_EXHAUSTED) in the newer one, whose ErrorInfo detail says RATE_LIMIT_EXCEEDED."""
    if status == 429:
        service = QUOTA_SERVICES[api]
        message = (
            f"Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service "
            f"'{service}' for consumer 'project_number:123456789'."
        )
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "service": service,
                "quota_limit": "defaultPerMinutePerUser",
                "consumer": "projects/123456789",
            },
        }
        detail = {"message": message, "domain": "global", "reason": reason}
        return {
            "error": {
                "code": 429,
                "message": message,
                "errors": [detail],
                "status": "RESOURCE_EXHAUSTED",
                "details": [info],
            }
        }
    message = QUOTA_MESSAGES[reason]
    detail = {"domain": "usageLimits", "reason": reason, "message": message}
    return {"error": {"code": status, "message": message, "errors": [detail], "status": "PERMISSION_DENIED"}}


def _error(status: int, message: str, reason: str, domain: str | None = None) -> Response:
    return json_response(_error_body(status, message, reason, domain), status)


def _feed_error(refused: FeedError) -> Response:
    return _error(refused.status, refused.message, refused.reason, refused.domain)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status)


@contextmanager
def running_fake_google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle().start()
    try:
        yield fake
    finally:
        fake.stop()
