"""The Calendar side of the fake Google: a change log behind events.list, page and sync tokens, and push channels."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

DEFAULT_PAGE_SIZE = 250
MAX_PAGE_SIZE = 2500
DEFAULT_CHANNEL_TTL_SECONDS = 604_800
PUSH_TIMEOUT_SECONDS = 5.0
# What Google's push notifications carry as User-Agent.
PUSH_USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"
# Filters Google refuses next to a syncToken (the sync guide lists them).
NOT_WITH_SYNC_TOKEN = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
FULL_SYNC_REQUIRED = "Sync token is no longer valid, a full sync is required."


class FeedError(Exception):
    """A request Calendar refuses: answered as Google's error body with `status` and `reason`."""

    def __init__(self, status: int, message: str, reason: str, domain: str = "global") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.domain = domain


# The change log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """What one events.list asks for; a page token carries it to the following pages."""

    calendar_id: str
    since: int | None  # the sync token's change number; None for a full list
    show_deleted: bool
    time_min: datetime | None = None
    time_max: datetime | None = None
    updated_min: datetime | None = None
    private: tuple[tuple[str, str], ...] = ()
    shared: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SyncPoint:
    calendar_id: str
    change: int
    epoch: int


@dataclass(frozen=True)
class PageCursor:
    query: ListQuery
    after: int  # the change number of the last item already listed
    epoch: int


@dataclass
class ChangeLog:
    """Change numbers of every event write, and the opaque page and sync tokens handed out for them."""

    counter: int = 0
    changes: dict[tuple[str, str], int] = field(default_factory=dict)
    last_ms: int = 0
    calendar_updated_ms: dict[str, int] = field(default_factory=dict)
    # A calendar's epoch moves on when its tokens are invalidated; older tokens then answer 410.
    epochs: dict[str, int] = field(default_factory=dict)
    sync_tokens: dict[str, SyncPoint] = field(default_factory=dict)
    page_tokens: dict[str, PageCursor] = field(default_factory=dict)

    def stamp(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """The event as written now: a new change number, `updated` and `etag`."""
        self.counter += 1
        # Strictly increasing, so `updated` orders writes even within one millisecond.
        self.last_ms = max(int(time.time() * 1000), self.last_ms + 1)
        self.changes[(calendar_id, event["id"])] = self.counter
        self.calendar_updated_ms[calendar_id] = self.last_ms
        stamped = {**event, "updated": rfc3339_ms(self.last_ms), "etag": f'"{self.last_ms * 1000}"'}
        if event.get("status") != "cancelled":
            stamped.setdefault("created", stamped["updated"])
        return stamped

    def invalidate(self, calendar_id: str) -> None:
        self.epochs[calendar_id] = self.epochs.get(calendar_id, 0) + 1

    def sync_token(self, calendar_id: str) -> str:
        token = "CP" + secrets.token_urlsafe(24)
        self.sync_tokens[token] = SyncPoint(calendar_id, self.counter, self.epochs.get(calendar_id, 0))
        return token

    def page_token(self, query: ListQuery, after: int) -> str:
        token = "EjY" + secrets.token_urlsafe(24)
        self.page_tokens[token] = PageCursor(query, after, self.epochs.get(query.calendar_id, 0))
        return token

    def resume(self, calendar_id: str, sync_token: str) -> int:
        """The change number a sync token stands for; 410 once the calendar's tokens were invalidated."""
        point = self.sync_tokens.get(sync_token)
        # Unknown tokens, and tokens of another calendar, are malformed requests (400), not expired ones.
        if point is None or point.calendar_id != calendar_id:
            raise FeedError(400, "Invalid sync token value.", "invalid")
        if point.epoch != self.epochs.get(calendar_id, 0):
            raise FeedError(410, FULL_SYNC_REQUIRED, "fullSyncRequired", "calendar")
        return point.change

    def cursor(self, calendar_id: str, page_token: str) -> PageCursor:
        cursor = self.page_tokens.get(page_token)
        if cursor is None or cursor.query.calendar_id != calendar_id:
            raise FeedError(400, "Invalid page token value.", "invalid")
        if cursor.epoch != self.epochs.get(calendar_id, 0):
            raise FeedError(410, FULL_SYNC_REQUIRED, "fullSyncRequired", "calendar")
        return cursor


def list_query(
    calendar_id: str, args: Mapping[str, str], multi: Callable[[str], list[str]], log: ChangeLog
) -> ListQuery:
    """The query of a first page, checked as Calendar checks it."""
    sync_token = args.get("syncToken")
    show_deleted = _flag(args, "showDeleted")
    if _flag(args, "singleEvents"):
        raise FeedError(400, "The fake does not expand recurring events (singleEvents=true).", "invalid")
    if args.get("iCalUID") or args.get("q"):
        raise FeedError(400, "The fake does not search events (q, iCalUID).", "invalid")
    if sync_token:
        for name in NOT_WITH_SYNC_TOKEN:
            if name in args:
                raise FeedError(400, f"Invalid combination of syncToken and {name}.", "invalid")
        # Deleted events always come with a sync token; asking to leave them out is refused.
        if args.get("showDeleted") == "false":
            raise FeedError(400, "Invalid combination of syncToken and showDeleted=false.", "invalid")
        return ListQuery(calendar_id, log.resume(calendar_id, sync_token), show_deleted=True)
    if args.get("orderBy") not in (None, "updated"):
        raise FeedError(400, "The requested ordering is not available for the particular query.", "invalid")
    time_min, time_max = _instant(args, "timeMin"), _instant(args, "timeMax")
    if time_min and time_max and time_min >= time_max:
        raise FeedError(400, "The specified time range is empty.", "timeRangeEmpty")
    return ListQuery(
        calendar_id,
        since=None,
        show_deleted=show_deleted,
        time_min=time_min,
        time_max=time_max,
        updated_min=_instant(args, "updatedMin"),
        private=_properties(multi("privateExtendedProperty")),
        shared=_properties(multi("sharedExtendedProperty")),
    )


def page_size(args: Mapping[str, str]) -> int:
    raw = args.get("maxResults", str(DEFAULT_PAGE_SIZE))
    if not raw.isdigit() or int(raw) < 1:
        raise FeedError(400, f"Invalid value '{raw}'. Values must be within the range: [1, 2500]", "invalid")
    # Larger pages are not refused, only cut (the page size "can never be larger than 2500").
    return min(int(raw), MAX_PAGE_SIZE)


def list_page(
    events: Mapping[tuple[str, str], dict[str, Any]],
    log: ChangeLog,
    query: ListQuery,
    after: int,
    size: int,
    zone: str,
) -> dict[str, Any]:
    """One page of events.list: items ordered by change number, then a page token or, last, a sync token."""
    floor = max(after, query.since or 0)
    mine = {key[1]: event for key, event in events.items() if key[0] == query.calendar_id}
    live = {event_id for event_id, event in mine.items() if event.get("status") != "cancelled"}
    changed = sorted(
        (
            (log.changes.get((query.calendar_id, event_id), 0), event)
            for event_id, event in mine.items()
            if log.changes.get((query.calendar_id, event_id), 0) > floor and _wanted(event, query, zone, live)
        ),
        key=lambda pair: pair[0],
    )
    page = changed[:size]
    body: dict[str, Any] = {
        "kind": "calendar#events",
        "etag": f'"{log.calendar_updated_ms.get(query.calendar_id, 0) * 1000}"',
        "summary": query.calendar_id,
        "updated": rfc3339_ms(log.calendar_updated_ms.get(query.calendar_id) or int(time.time() * 1000)),
        "timeZone": zone,
        "accessRole": "owner",
        "defaultReminders": [],
    }
    if len(changed) > size:
        body["nextPageToken"] = log.page_token(query, page[-1][0])
    else:
        body["nextSyncToken"] = log.sync_token(query.calendar_id)
    body["items"] = [listed(event) for _, event in page]
    return body


def listed(event: dict[str, Any]) -> dict[str, Any]:
    """An event as the API returns it; a tombstone keeps only what Google keeps of a deleted event."""
    if event.get("status") == "cancelled":
        kept = ("id", "etag", "updated", "status", "recurringEventId", "originalStartTime")
        return {"kind": "calendar#event", **{k: event[k] for k in kept if k in event}}
    return {"kind": "calendar#event", "status": "confirmed", **event}


def tombstone(event: dict[str, Any]) -> dict[str, Any]:
    kept = ("id", "recurringEventId", "originalStartTime")
    return {**{k: event[k] for k in kept if k in event}, "status": "cancelled"}


def _wanted(event: dict[str, Any], query: ListQuery, zone: str, live: set[str]) -> bool:
    if event.get("status") == "cancelled" and not _deletion_listed(event, query, live):
        return False
    if query.updated_min and datetime.fromisoformat(event["updated"]) < query.updated_min:
        return False
    if not _has_properties(event, "private", query.private) or not _has_properties(event, "shared", query.shared):
        return False
    start, end = _span(event, zone)
    if query.time_max and start and start >= query.time_max:
        return False
    # A series may recur past any bound; without expanding it, only its first start is checked.
    return not (query.time_min and end and not event.get("recurrence") and end <= query.time_min)


def _deletion_listed(event: dict[str, Any], query: ListQuery, live: set[str]) -> bool:
    """Deletions come with showDeleted, a sync token or updatedMin; and, as Google documents for
    singleEvents=false, cancelled occurrences of a series that still exists come even without."""
    if query.show_deleted or query.since is not None or query.updated_min is not None:
        return True
    return event.get("recurringEventId") in live


def _has_properties(event: dict[str, Any], scope: str, wanted: tuple[tuple[str, str], ...]) -> bool:
    have = (event.get("extendedProperties") or {}).get(scope) or {}
    return all(have.get(name) == value for name, value in wanted)


def _span(event: dict[str, Any], zone: str) -> tuple[datetime | None, datetime | None]:
    # A cancelled occurrence has no start of its own any more, only the one the series gave it.
    start = _moment(event.get("start") or event.get("originalStartTime"), zone)
    end = _moment(event.get("end"), zone)
    return start, end or start


def _moment(value: Any, zone: str) -> datetime | None:
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("dateTime"), str):
        moment = datetime.fromisoformat(value["dateTime"])
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(value.get("timeZone") or zone))
    if isinstance(value.get("date"), str):
        return datetime.combine(date.fromisoformat(value["date"]), datetime.min.time(), ZoneInfo(zone))
    return None


def _flag(args: Mapping[str, str], name: str) -> bool:
    raw = args.get(name, "false")
    if raw not in ("true", "false"):
        raise FeedError(400, f"Invalid boolean value: '{raw}'.", "invalid")
    return raw == "true"


def _instant(args: Mapping[str, str], name: str) -> datetime | None:
    raw = args.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    # Calendar wants an RFC3339 timestamp with its offset.
    if moment is None or moment.tzinfo is None:
        raise FeedError(400, f"Bad Request: {name}", "badRequest")
    return moment


def _properties(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        name, equals, wanted = value.partition("=")
        if not equals:
            raise FeedError(400, "Invalid extended property constraint.", "invalid")
        pairs.append((name, wanted))
    return tuple(pairs)


def rfc3339_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Recurring events ---------------------------------------------------------------------------------


def occurrence_id(series_id: str, original_start: str) -> str:
    """Google's id of one occurrence: the series id and the original start in UTC (a date for all-day series)."""
    if len(original_start) == 10:
        return f"{series_id}_{original_start.replace('-', '')}"
    return f"{series_id}_{_utc(original_start):%Y%m%dT%H%M%SZ}"


def original_start_time(series: dict[str, Any], original_start: str) -> dict[str, str]:
    if len(original_start) == 10:
        return {"date": original_start}
    zone = series_zone(series)
    return {"dateTime": _utc(original_start).astimezone(ZoneInfo(zone)).isoformat(), "timeZone": zone}


def series_zone(series: dict[str, Any]) -> str:
    return (series.get("start") or {}).get("timeZone") or "UTC"


def moved_occurrence(series: dict[str, Any], event_id: str, original_start: str) -> dict[str, Any]:
    """An occurrence as its own event: the series' fields, starting at `original_start`, as long as the series."""
    skipped = {"id", "recurrence", "etag", "updated", "htmlLink", "status"}
    instance = {k: v for k, v in series.items() if k not in skipped}
    start = original_start_time(series, original_start)
    instance.update(
        id=event_id,
        recurringEventId=series["id"],
        originalStartTime=start,
        start=start,
        end=_shifted_end(series, start),
        htmlLink=f"https://www.google.com/calendar/event?eid={event_id}",
    )
    return instance


def _shifted_end(series: dict[str, Any], start: dict[str, str]) -> dict[str, str]:
    first_start, first_end = _span(series, series_zone(series))
    length = (first_end - first_start) if first_start and first_end else timedelta(hours=1)
    if "date" in start:
        return {"date": (date.fromisoformat(start["date"]) + timedelta(days=max(length.days, 1))).isoformat()}
    return {"dateTime": (datetime.fromisoformat(start["dateTime"]) + length).isoformat(), "timeZone": start["timeZone"]}


def _utc(moment: str) -> datetime:
    parsed = datetime.fromisoformat(moment)
    if parsed.tzinfo is None:
        raise ValueError(f"original_start needs an offset: {moment}")
    return parsed.astimezone(UTC)


# Partial responses --------------------------------------------------------------------------------


def select_fields(body: Any, fields: str) -> Any:
    """The `fields` partial response: "items(id,status),nextSyncToken" keeps only those parts."""
    return _select(body, _field_tree(fields))


FieldTree = dict[str, "FieldTree | None"]


def _field_tree(text: str) -> FieldTree:
    tree, _ = _parse_fields(text.replace(" ", ""), 0)
    return tree


def _parse_fields(text: str, i: int) -> tuple[FieldTree, int]:
    tree: FieldTree = {}
    name = ""
    while i < len(text):
        char = text[i]
        i += 1
        if char == "(":
            sub, i = _parse_fields(text, i)
            _add_field(tree, name, sub)
            name = ""
        elif char == ")":
            break
        elif char == ",":
            _add_field(tree, name, None)
            name = ""
        else:
            name += char
    _add_field(tree, name, None)
    return tree, i


def _add_field(tree: FieldTree, path: str, sub: FieldTree | None) -> None:
    if not path:
        return
    *parents, last = path.split("/")
    node = tree
    for part in parents:
        child = node.setdefault(part, {})
        if child is None:
            return  # the whole of `part` is already selected
        node = child
    if sub is None or node.get(last, {}) is None:
        node[last] = None
    else:
        node[last] = {**(node.get(last) or {}), **sub}


def _select(value: Any, tree: FieldTree | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [_select(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: _select(v, tree[k]) for k, v in value.items() if k in tree}
    return value


# Push channels ------------------------------------------------------------------------------------


@dataclass
class Channel:
    """A notification channel made by events.watch on one calendar."""

    channel_id: str
    calendar_id: str
    resource_id: str
    resource_uri: str
    address: str
    token: str | None
    expiration_ms: int
    message_number: int = 0
    stopped: bool = False

    @property
    def live(self) -> bool:
        return not self.stopped and self.expiration_ms > time.time() * 1000

    def next_message_number(self) -> int:
        # Numbers only grow; after the first (sync) they skip, as Google's do.
        self.message_number = 1 if self.message_number == 0 else self.message_number + 1 + secrets.randbelow(5)
        return self.message_number


@dataclass(frozen=True)
class Delivery:
    """One notification POSTed to the add-on; `status` is None when it got no answer (or had nowhere to go)."""

    channel_id: str
    resource_state: str
    message_number: int
    status: int | None
    elapsed: float
    url: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class Notification:
    """A notification ready to send: where, with which headers, and which reset generation it belongs to."""

    delivery: Delivery
    headers: dict[str, str]
    generation: int


def notification(
    channel: Channel,
    state: str,
    number: int,
    token: str | None,
    push_target: str | None,
    generation: int,
) -> Notification:
    headers = {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Message-Number": str(number),
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": state,
        "X-Goog-Resource-URI": channel.resource_uri,
        "X-Goog-Channel-Expiration": formatdate(channel.expiration_ms / 1000, usegmt=True),
        "User-Agent": PUSH_USER_AGENT,
    }
    if token is not None:
        headers["X-Goog-Channel-Token"] = token
    url = _push_url(channel.address, push_target)
    return Notification(Delivery(channel.channel_id, state, number, None, 0.0, url, token), headers, generation)


def _push_url(address: str, push_target: str | None) -> str | None:
    """The add-on's public address, served in tests at `push_target` (no target: nowhere to deliver)."""
    if push_target is None:
        return None
    parts = urlsplit(address)
    return push_target.rstrip("/") + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def send(note: Notification) -> Delivery:
    """POST the notification with an empty body; never raises, a failure is a Delivery with status None."""
    if note.delivery.url is None:
        return note.delivery
    started = time.monotonic()
    try:
        answer = requests.post(
            note.delivery.url,
            data=b"",
            headers=note.headers,
            timeout=PUSH_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        status: int | None = answer.status_code
    except requests.RequestException:
        status = None
    return replace(note.delivery, status=status, elapsed=time.monotonic() - started)


class Outbox:
    """Notifications for changes made through the API, sent one at a time from a background thread, in order."""

    def __init__(self, deliver: Callable[[Notification], Any]) -> None:
        self._deliver = deliver
        self._pending: deque[Notification] = deque()
        self._busy = False
        self._closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="fake-google-push", daemon=True)
        self._thread.start()

    def post(self, notes: Iterable[Notification]) -> None:
        with self._changed:
            self._pending.extend(notes)
            self._changed.notify_all()

    def settle(self, timeout: float = PUSH_TIMEOUT_SECONDS * 2) -> bool:
        """Wait until everything posted so far has been answered (or has failed)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(timeout=PUSH_TIMEOUT_SECONDS)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return
                note = self._pending.popleft()
                self._busy = True
            try:
                self._deliver(note)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
