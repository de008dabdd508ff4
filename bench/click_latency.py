"""How long each user action takes when every outside call is slow, next to the least time its unavoidable calls need.

Run from the repository root: `.venv/bin/python bench/click_latency.py` (bench/README.md says more).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from addon import scopes  # noqa: E402 - after the path is set
from addon.meetings.oauth import TokenSet  # noqa: E402
from addon.services import build_services  # noqa: E402
from addon.settings import Settings  # noqa: E402
from addon.store import UserSettings  # noqa: E402
from addon.sync import HOOK_PATH  # noqa: E402
from bench.harness.logs import log_problems  # noqa: E402
from bench.harness.report import table  # noqa: E402
from tests.fakes.google import FakeGoogle, FakeMessage  # noqa: E402
from tests.fakes.webex import FakeWebex  # noqa: E402
from tests.fakes.zoom import FakeZoom  # noqa: E402
from tests.google_caller import ALICE, GoogleCaller  # noqa: E402
from tests.live_server import served_by_gunicorn  # noqa: E402

BASE_URL = "https://addon.bench"
SERVICE_ACCOUNT = "service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
OAUTH_CLIENT_ID = "123456789-bench.apps.googleusercontent.com"
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
# The production serving settings (app.yaml), read by gunicorn.conf.py.
SERVING_ENV = {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "8"}
APP_SPEC = "bench.harness.delayed_store:create_app()"
REQUEST_TIMEOUT_SECONDS = 30.0
PUSH_TIMEOUT_SECONDS = 20.0
# Between actions, outside calls must have stopped this long, so background work is not charged to the next one.
QUIET_SECONDS = 0.6
QUIET_CEILING_SECONDS = 15.0
ZURICH = ZoneInfo("Europe/Zurich")
MESSAGE = FakeMessage(
    "msg-f:13",
    "per-message-13",
    [
        ("Subject", "Re: Launch plan"),
        ("From", '"Doe, Jane" <jane@partner.example>'),
        ("To", "alice@corp.example, bob@corp.example"),
    ],
)
PROVIDERS = ("jitsi", "zoom", "webex")


# Outside calls, timed where they are answered ---------------------------------------------------


@dataclass(frozen=True)
class OutsideCall:
    service: str  # google, zoom, webex or store
    name: str
    start: float  # CLOCK_MONOTONIC seconds: the same clock in every process of this machine
    end: float


class TimedCalls:
    """A fake's answers, recorded with when each began and ended (the fakes' own records have no times)."""

    service = ""
    calls: list[OutsideCall]

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        start = time.monotonic()
        try:
            return super()._wsgi(environ, start_response)  # type: ignore[misc]
        finally:
            name = call_name(self.service, environ["REQUEST_METHOD"], environ["PATH_INFO"])
            self.calls.append(OutsideCall(self.service, name, start, time.monotonic()))


class TimedGoogle(TimedCalls, FakeGoogle):
    service = "google"

    def __init__(self) -> None:
        self.calls = []
        super().__init__()


class TimedZoom(TimedCalls, FakeZoom):
    service = "zoom"

    def __init__(self) -> None:
        self.calls = []
        super().__init__()


class TimedWebex(TimedCalls, FakeWebex):
    service = "webex"

    def __init__(self) -> None:
        self.calls = []
        super().__init__()


GOOGLE_NAMES = (
    (r"GET /gmail/v1/users/[^/]+/messages/[^/]+", "gmail messages.get"),
    (r"POST /calendar/v3/calendars/[^/]+/events", "calendar events.insert"),
    (r"GET /calendar/v3/calendars/[^/]+/events", "calendar events.list"),
    (r"POST /calendar/v3/calendars/[^/]+/events/watch", "calendar events.watch"),
    (r"GET /calendar/v3/calendars/[^/]+/events/[^/]+", "calendar events.get"),
    (r"PATCH /calendar/v3/calendars/[^/]+/events/[^/]+", "calendar events.patch"),
    (r"DELETE /calendar/v3/calendars/[^/]+/events/[^/]+", "calendar events.delete"),
    (r"POST /calendar/v3/channels/stop", "calendar channels.stop"),
    (r"GET /admin/directory/v1/users/[^/]+", "directory users.get"),
    (r"GET /oauth2/v1/certs", "certs"),
    (r"POST /token", "oauth token (delegation)"),
)
MEETING_NAMES = (
    (r"POST /v2/users/[^/]+/meetings", "meetings.create"),
    (r"GET /v2/users/[^/]+/meetings", "meetings.list"),
    (r"POST /v2/meetings/[^/]+/sip_dialing", "sip_dialing"),
    (r"(GET|PATCH|DELETE) /v2/meetings/[^/]+", None),
    (r"POST /oauth/token", "oauth token"),
    (r"POST /v1/access_token", "oauth token"),
    (r"GET /v1/meetingPreferences/sites", "sites"),
    (r"POST /v1/meetings", "meetings.create"),
    (r"GET /v1/meetings", "meetings.list"),
    (r"(GET|PATCH|PUT|DELETE) /v1/meetings/[^/]+", None),
    (r"GET /v1/meetingInvitees", "meetingInvitees.list"),
    (r"POST /v1/meetingInvitees", "meetingInvitees.create"),
    (r"(GET|PUT|DELETE) /v1/meetingInvitees/[^/]+", None),
)
VERBS = {"GET": "get", "PATCH": "update", "PUT": "update", "DELETE": "delete"}


def call_name(service: str, method: str, path: str) -> str:
    """A short name for a call as its API documents it; the method and path when it is none of those."""
    names = GOOGLE_NAMES if service == "google" else MEETING_NAMES
    for pattern, name in names:
        if re.fullmatch(pattern, f"{method} {path}"):
            resource = "meetingInvitees" if "/meetingInvitees/" in path else "meetings"
            return name or f"{resource}.{VERBS[method]}"
    return f"{method} {path}"


def store_calls(log_path: Path) -> list[OutsideCall]:
    """The store operations the workers logged (bench/harness/delayed_store.py)."""
    if not log_path.exists():
        return []
    calls = []
    for line in log_path.read_text().splitlines():
        op = json.loads(line)
        calls.append(OutsideCall("store", f"{op['op']} {op['kind']}", op["start"], op["end"]))
    return calls


# The least an action can cost: the calls the table calls unavoidable -----------------------


def least_calls(action: str) -> list[str]:
    """Each unavoidable call as `service:name`, one after another (the issue's table, and its analogues).

    Besides the outside calls of the issue's table, the store operations no action can do without: one
    lookup of what the store holds for the user (settings, grants, the event's link) before anything is
    chosen; the claim that makes a Zoom or Webex meeting once only, before its create; and the one write
    that records the outcome (the link, the settings) before the answer says it is done."""
    kind, _, provider = action.rpartition(" ")
    if provider in ("email", "event", "settings"):
        kind, provider = action, ""
    meeting = {"zoom": "zoom", "webex": "webex"}.get(provider)
    read, claim, record = "store:read the user's records", "store:claim", "store:record the outcome"
    created = [claim, f"{meeting}:create"] if meeting else []
    table_of: dict[str, list[str]] = {
        "open email": [read, "google:gmail read"],
        "open event": [read, "google:calendar read"],
        "save settings": [read, record],
        "schedule": [read, *created, "google:calendar insert", record],
        "add": [read, "google:calendar read", *created, "google:calendar patch", record],
        # A Jitsi room has no time to move; a Zoom or Webex meeting is moved, and the event keeps its link.
        "update": [read, "google:calendar read", *([f"{meeting}:update"] if meeting else []), record],
        "remove": [
            read,
            "google:calendar read",
            *([f"{meeting}:delete"] if meeting else []),
            "google:calendar patch",
            record,
        ],
        # The channel's record names the calendar; the changed event's link and its owner's grant come next,
        # and the lease that keeps one sync at a time per calendar, across instances.
        "push": ["store:read the channel", "store:lease", "google:calendar list", read, f"{meeting}:update"],
    }
    return table_of[kind]


# Requests as Google sends them ---------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    seconds: float
    status: int
    body: bytes
    started: float
    ended: float


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> Timed:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        started = time.monotonic()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        answer = response.read()
        ended = time.monotonic()
    finally:
        connection.close()
    return Timed(ended - started, response.status, answer, started, ended)


class User:
    """Alice in Gmail and Calendar: each click becomes the signed request Google would send."""

    def __init__(self, caller: GoogleCaller, port: int) -> None:
        self.caller = caller
        self.port = port

    def send(self, path: str, event: dict[str, Any]) -> Timed:
        token = self.caller.system_token(path)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return post(self.port, path, json.dumps(event).encode(), headers)

    def verified_only(self) -> Timed:
        """A request the server verifies in full (both tokens) and answers with a card, calling nothing:
        Gmail's message trigger without the Gmail scopes, answered with the card that asks for them."""
        event = self.caller.event("GMAIL", granted=frozenset({scopes.USERINFO_EMAIL}))
        return self.send("/gmail/message", event)

    def open_email(self) -> Timed:
        return self.send("/gmail/message", self.caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token))

    def schedule(self, start: datetime, title: str) -> Timed:
        event = self.caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token)
        form = {
            "title": [title],
            "participants": ["jane@partner.example", "bob@corp.example"],
            "duration": ["45"],
            "send_invitations": ["yes"],
        }
        inputs: dict[str, Any] = {name: {"stringInputs": {"value": values}} for name, values in form.items()}
        inputs["start"] = {"dateTimeInput": {"msSinceEpoch": int(start.timestamp() * 1000)}}
        event["commonEventObject"]["formInputs"] = inputs
        return self.send("/actions/schedule-from-email", event)

    def on_event(self, path: str, event_id: str) -> Timed:
        return self.send(path, self.caller.calendar_event(ALICE.email, event_id))

    def save_settings(self, provider: str) -> Timed:
        event = self.caller.event("GMAIL")
        event["commonEventObject"]["formInputs"] = {
            "provider": {"stringInputs": {"value": [provider]}},
            "duration_minutes": {"stringInputs": {"value": ["30"]}},
        }
        return self.send("/actions/settings/save", event)


# One action, repeated ------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    status: int
    calls: list[OutsideCall]
    started: float
    problem: str = ""
    answer: str = ""


def answer_of(body: bytes) -> str:
    """What the user saw: the notification's text, or that a card came back."""
    try:
        answer = json.loads(body)
    except ValueError:
        return "not JSON"
    text = answer.get("renderActions", {}).get("action", {}).get("notification", {}).get("text")
    return repr(text) if text else "a card"


@dataclass
class Bench:
    google: TimedGoogle
    zoom: TimedZoom
    webex: TimedWebex
    store_log: Path
    user: User
    grants_for: Callable[[str], None]
    delays: dict[str, float]
    start: datetime
    # When the bench arranged something through the app without timing it (the meeting a push then moves).
    arranging: list[tuple[float, float]] = field(default_factory=list)

    def all_calls(self) -> list[OutsideCall]:
        return [*self.google.calls, *self.zoom.calls, *self.webex.calls, *store_calls(self.store_log)]

    def outside_calls(self, since: float, until: float) -> list[OutsideCall]:
        fakes = [*self.google.calls, *self.zoom.calls, *self.webex.calls, *store_calls(self.store_log)]
        return sorted((c for c in fakes if since <= c.start <= until), key=lambda c: c.start)

    def last_call_end(self) -> float:
        ends = [c.end for c in (*self.google.calls, *self.zoom.calls, *self.webex.calls, *store_calls(self.store_log))]
        return max(ends, default=0.0)

    def quiet(self) -> None:
        """Wait until no outside call has happened for QUIET_SECONDS (a background sync ends first)."""
        deadline = time.monotonic() + QUIET_CEILING_SECONDS
        while time.monotonic() < deadline and time.monotonic() - self.last_call_end() < QUIET_SECONDS:
            time.sleep(0.1)

    def event_at(self, event_id: str, hours: int) -> None:
        start = self.start + timedelta(hours=hours)
        self.google.add_event(
            ALICE.email,
            {
                "id": event_id,
                "summary": "Quarterly review",
                "description": "Agenda: numbers.",
                "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Zurich"},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "Europe/Zurich"},
                "attendees": [{"email": ALICE.email, "self": True, "organizer": True}, {"email": "bob@corp.example"}],
            },
        )

    def move(self, event_id: str, hours: int) -> None:
        start = self.start + timedelta(hours=hours)
        times = {
            "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Zurich"},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "Europe/Zurich"},
        }
        self.google.edit_event(ALICE.email, event_id, times)

    def timed(self, answer: Timed) -> Run:
        calls = self.outside_calls(answer.started, answer.ended)
        problem = "" if answer.status == 200 else f"HTTP {answer.status}: {answer.body[:200]!r}"
        return Run(answer.seconds, answer.status, calls, answer.started, problem, answer_of(answer.body))

    def push(self, provider: str, event_id: str, hours: int) -> Run:
        """Move the event in Calendar, POST the notification Calendar would send, and wait for the provider's update."""
        fake = {"zoom": self.zoom, "webex": self.webex}[provider]
        self.move(event_id, hours)
        channel = next(c for c in self.google.channels_of(ALICE.email) if c.live)
        headers = {
            "X-Goog-Channel-ID": channel.channel_id,
            "X-Goog-Channel-Token": channel.token or "",
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": str(channel.next_message_number()),
        }
        seen = len(fake.calls)
        answer = post(self.user.port, HOOK_PATH, b"", headers)
        deadline = answer.started + PUSH_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            updates = [c for c in fake.calls[seen:] if c.name == "meetings.update"]
            if updates:
                end = updates[0].end
                calls = self.outside_calls(answer.started, end)
                return Run(end - answer.started, answer.status, calls, answer.started, answer=f"hook {answer.status}")
            time.sleep(0.005)
        calls = self.outside_calls(answer.started, time.monotonic())
        return Run(PUSH_TIMEOUT_SECONDS, answer.status, calls, answer.started, "the provider never got the update")


def use(bench: Bench, store: Any, provider: str) -> None:
    store.put(UserSettings(user_id=ALICE.sub, provider=provider))


def actions(bench: Bench, store: Any, reps: int) -> Iterator[tuple[str, Callable[[int], Run]]]:
    """(name, run of repetition n): every action of the issue, in the order a user could take them."""
    user = bench.user
    yield "open email", lambda n: bench.timed(user.open_email())
    for provider in PROVIDERS:

        def schedule(n: int, provider: str = provider) -> Run:
            use(bench, store, provider)
            start = bench.start + timedelta(days=1, hours=n)
            return bench.timed(user.schedule(start, f"Launch plan {provider} {n}"))

        yield f"schedule {provider}", schedule

    def open_event(n: int) -> Run:
        bench.event_at(f"evtopen{n}", n)
        return bench.timed(user.on_event("/calendar/event-open", f"evtopen{n}"))

    yield "open event", open_event
    for provider in PROVIDERS:
        ids = [f"evt{provider}{n}" for n in range(reps + 1)]

        def add(n: int, provider: str = provider, ids: list[str] = ids) -> Run:
            use(bench, store, provider)
            bench.event_at(ids[n], n)
            return bench.timed(user.on_event("/actions/add-meeting", ids[n]))

        def update(n: int, ids: list[str] = ids) -> Run:
            bench.move(ids[n], n + 2)
            return bench.timed(user.on_event("/actions/update-meeting", ids[n]))

        def remove(n: int, ids: list[str] = ids) -> Run:
            return bench.timed(user.on_event("/actions/remove-meeting", ids[n]))

        yield f"add {provider}", add
        yield f"update {provider}", update
        yield f"remove {provider}", remove
    yield "save settings", lambda n: bench.timed(user.save_settings("jitsi"))
    for provider in ("zoom", "webex"):
        event_id = f"evtpush{provider}"

        def push(n: int, provider: str = provider, event_id: str = event_id) -> Run:
            if n == 0:
                use(bench, store, provider)
                bench.event_at(event_id, 0)
                added = user.on_event("/actions/add-meeting", event_id)
                if added.status != 200:
                    return Run(0.0, added.status, [], added.started, f"adding the meeting: HTTP {added.status}")
                bench.quiet()
                bench.arranging.append((added.started, time.monotonic()))
            return bench.push(provider, event_id, 3 + n)

        yield f"push {provider}", push


# Report ------------------------------------------------------------------------------------


@dataclass
class Measured:
    action: str
    runs: list[Run]  # the first (cold) run, then the measured ones
    least_seconds: float
    least: list[str]

    @property
    def measured(self) -> list[Run]:
        return self.runs[1:]

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.measured)

    @property
    def typical(self) -> Run:
        """The measured run nearest the median: its calls are the ones printed."""
        return min(self.measured, key=lambda r: abs(r.seconds - self.median))


def least_seconds(calls: list[str], delays: dict[str, float]) -> float:
    return sum(delays[call.split(":")[0]] for call in calls)


def overlapping(calls: list[OutsideCall]) -> set[int]:
    """The calls that ran at the same time as another one of the list."""
    return {
        i for i, a in enumerate(calls) for j, b in enumerate(calls) if i != j and a.start < b.end and b.start < a.end
    }


def call_lines(run: Run) -> list[str]:
    """One line a call, from the request's start: runs of the same call one after another are one line."""
    both = overlapping(run.calls)
    groups: list[list[int]] = []
    for i, call in enumerate(run.calls):
        last = groups[-1][-1] if groups else None
        if last is not None and run.calls[last].name == call.name and i not in both and last not in both:
            groups[-1].append(i)
        else:
            groups.append([i])
    lines = []
    for group in groups:
        first, last = run.calls[group[0]], run.calls[group[-1]]
        mark = "*" if group[0] in both else " "
        times = f"{(first.start - run.started) * 1000:7.1f} {(last.end - run.started) * 1000:7.1f}"
        count = f" x{len(group)}" if len(group) > 1 else ""
        lines.append(f"    {mark} {times}  {first.service:<6} {first.name}{count}")
    return lines


def call_summary(calls: list[OutsideCall]) -> str:
    outside = [c for c in calls if c.service != "store"]
    stores = len(calls) - len(outside)
    return f"{len(outside)} + {stores} store"


COLUMNS = (
    ("action", 15),
    ("median ms", 10),
    ("first ms", 9),
    ("least ms", 9),
    ("least/actual", 13),
    ("calls", 14),
)


def report(results: list[Measured], args: argparse.Namespace, store_delay: str, floor: float) -> str:
    rows = []
    for m in results:
        rows.append(
            [
                m.action,
                f"{m.median * 1000:.0f}",
                f"{m.runs[0].seconds * 1000:.0f}",
                f"{m.least_seconds * 1000:.0f}",
                f"{m.least_seconds / m.median:.2f}" if m.median else "-",
                call_summary(m.typical.calls),
            ]
        )
    lines = [
        "",
        f"Click latency: each action alone, median of {args.repetitions} after one cold run; delay per call: "
        f"Google {args.google_ms:g} ms, Zoom/Webex {args.meeting_ms:g} ms, store {store_delay}",
        "server: gunicorn as deployed (gunicorn.conf.py), WEB_CONCURRENCY=2 x GUNICORN_THREADS=8, "
        f"ADDON_ENV=production, SQLite store; {os.cpu_count()} CPUs",
        f"least ms: the server's own floor ({floor * 1000:.1f} ms, the fastest answer to a request verified in full "
        "that calls nothing) plus the unavoidable calls below, one after another",
        "",
        *table(COLUMNS, rows),
        "",
        "Calls of the run nearest the median (ms from the request's start; * overlapped another call):",
    ]
    for m in results:
        run = m.typical
        least = ", ".join(m.least) or "no outside call"
        lines.append(f"  {m.action}  ({run.seconds * 1000:.0f} ms, answer {run.answer}; unavoidable: {least})")
        lines += call_lines(run)
    lines += ["", "Cold runs (the first of each action) whose calls differ from the run above:"]
    for m in results:
        cold, names = m.runs[0], [c.name for c in m.typical.calls]
        if [c.name for c in cold.calls] == names:
            continue
        lines.append(f"  {m.action}  ({cold.seconds * 1000:.0f} ms)")
        lines += call_lines(cold)
    problems = [f"{m.action} run {i}: {r.problem}" for m in results for i, r in enumerate(m.runs) if r.problem]
    lines.append("")
    lines += [f"PROBLEM: {p}" for p in problems] or ["Every action answered 200 (push: the provider got its update)."]
    return "\n".join(lines)


def background_report(background: list[OutsideCall]) -> str:
    """The calls no timed action waited for: work the app left to the background (the bench's waits let it end)."""
    counts: dict[str, int] = {}
    for call in background:
        key = f"{call.service} {call.name}"
        counts[key] = counts.get(key, 0) + 1
    listed = ", ".join(f"{name} x{count}" for name, count in sorted(counts.items())) or "none"
    return f"Calls after the answers, which no user waited for (background syncs): {listed}"


# Main --------------------------------------------------------------------------------------


def settings_for(google: FakeGoogle, zoom: FakeZoom, webex: FakeWebex, directory: Path) -> Settings:
    return Settings(
        environment="production",
        base_url=BASE_URL,
        service_account_email=SERVICE_ACCOUNT,
        oauth_client_id=OAUTH_CLIENT_ID,
        secret_key=SECRET_KEY,
        store=f"sqlite:///{directory / 'addon.db'}",
        google_certs_url=google.certs_url,
        google_api_endpoint=google.url,
        zoom_api_base=zoom.api_base,
        zoom_oauth_base=zoom.oauth_base,
        zoom_client_id=zoom.client_id,
        zoom_client_secret=zoom.client_secret,
        webex_api_base=webex.api_base,
        webex_client_id=webex.client_id,
        webex_client_secret=webex.client_secret,
    )


def server_env(settings: Settings, sync_key: Path, store_log: Path, store_delay_ms: float) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ADDON_", "BENCH_"))}
    env.update(
        ADDON_ENV="production",
        ADDON_BASE_URL=settings.base_url,
        ADDON_SERVICE_ACCOUNT_EMAIL=settings.service_account_email,
        ADDON_OAUTH_CLIENT_ID=settings.oauth_client_id,
        ADDON_SECRET_KEY=SECRET_KEY,
        ADDON_STORE=settings.store,
        ADDON_GOOGLE_CERTS_URL=settings.google_certs_url,
        ADDON_GOOGLE_API_ENDPOINT=settings.google_api_endpoint,
        ADDON_SYNC_CREDENTIALS=str(sync_key),
        ZOOM_API_BASE=settings.zoom_api_base,
        ZOOM_OAUTH_BASE=settings.zoom_oauth_base,
        ZOOM_CLIENT_ID=settings.zoom_client_id or "",
        ZOOM_CLIENT_SECRET=settings.zoom_client_secret or "",
        WEBEX_API_BASE=settings.webex_api_base,
        WEBEX_CLIENT_ID=settings.webex_client_id or "",
        WEBEX_CLIENT_SECRET=settings.webex_client_secret or "",
        BENCH_STORE_DELAY_MS=f"{store_delay_ms:g}",
        BENCH_STORE_LOG=str(store_log),
        **SERVING_ENV,
    )
    return env


@contextmanager
def started(fake: Any) -> Iterator[Any]:
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def run(args: argparse.Namespace) -> tuple[list[Measured], list[OutsideCall], list[str], float]:
    delays = {
        "google": args.google_ms / 1000,
        "zoom": args.meeting_ms / 1000,
        "webex": args.meeting_ms / 1000,
        "store": args.store_ms / 1000,
    }
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="click-bench-")))
        google = stack.enter_context(started(TimedGoogle()))
        zoom = stack.enter_context(started(TimedZoom()))
        webex = stack.enter_context(started(TimedWebex()))
        google.push_target = None  # the bench sends the one notification it times, nothing else arrives
        google.state.delegation_users = {ALICE.email}
        google.add_message(MESSAGE)
        settings = settings_for(google, zoom, webex, directory)
        services = build_services(settings)
        stack.callback(services.close)
        for provider, fake in (("zoom", zoom), ("webex", webex)):
            tokens = fake.connect(ALICE.email)
            expiry = datetime.now(UTC) + timedelta(hours=12)
            services.meetings.grants.save(
                ALICE.sub, provider, TokenSet(tokens["access_token"], tokens["refresh_token"], expiry)
            )
        for fake, seconds in ((google, delays["google"]), (zoom, delays["zoom"]), (webex, delays["webex"])):
            fake.stall("/", seconds)
        store_log = directory / "store.jsonl"
        env = server_env(settings, google.service_account_key_file(directory), store_log, args.store_ms)
        log_path = directory / "gunicorn.log"
        start = (datetime.now(UTC) + timedelta(days=5)).astimezone(ZURICH).replace(hour=9, minute=0, second=0)
        start = start.replace(microsecond=0)
        with served_by_gunicorn(env, log_path, app=APP_SPEC) as (server, _):
            caller = GoogleCaller(None, google, settings)  # type: ignore[arg-type] - only builds events and tokens
            user = User(caller, server.port)
            bench = Bench(google, zoom, webex, store_log, user, lambda p: None, delays, start)
            floor = server_floor(user)
            results = []
            for action, once in actions(bench, services.store, args.repetitions):
                print(f"{action} ...", flush=True)
                runs = []
                for n in range(args.repetitions + 1):
                    bench.quiet()
                    runs.append(once(n))
                least = least_calls(action)
                results.append(Measured(action, runs, floor + least_seconds(least, delays), least))
            bench.quiet()
            windows = [(r.started, r.started + r.seconds) for m in results for r in m.runs] + bench.arranging
            background = [c for c in bench.all_calls() if not any(a <= c.start <= b for a, b in windows)]
        problems = log_problems(log_path)
    return results, background, problems, floor


def server_floor(user: User, samples: int = 21) -> float:
    """What any request costs before its first outside call: the fastest of requests that make none (a floor;
    a median would count whatever else the machine was doing)."""
    times = []
    for _ in range(samples):
        answer = user.verified_only()
        if answer.status != 200:
            raise RuntimeError(f"the floor request answered {answer.status}")
        times.append(answer.seconds)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5, help="measured runs per action (default 5)")
    parser.add_argument("--google-ms", type=float, default=100.0, help="delay of every Google call (default 100)")
    parser.add_argument("--meeting-ms", type=float, default=250.0, help="delay of every Zoom/Webex call (default 250)")
    parser.add_argument("--store-ms", type=float, default=10.0, help="delay of every store operation (default 10)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        results, background, log_lines, floor = run(args)
    except KeyboardInterrupt:
        print("interrupted; the server and the fakes are stopped", file=sys.stderr)
        return 130
    store_delay = f"{args.store_ms:g} ms (applied by a store wrapper, bench/harness/delayed_store.py)"
    print(report(results, args, store_delay, floor))
    print(background_report(background))
    for line in log_lines[:5]:
        print(f"LOG: {line[:300]}")
    failed = any(r.problem for m in results for r in m.runs)
    return 1 if failed or log_lines else 0


if __name__ == "__main__":
    sys.exit(main())
