"""Hostile bodies, signed as Google signs them, at every add-on endpoint: never a 5xx, every 200 a valid card.

Seeded and bounded: the same few thousand cases run every time, each a real event object mutated (deep
nesting, huge strings, lone surrogates, invalid UTF-8, wrong types, missing fields, nulls)."""

from __future__ import annotations

import copy
import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from addon import MAX_BODY_BYTES
from addon.sync import HOOK_PATH
from tests.card_schema import action_cards, requested_scopes, trigger_cards, validate_card
from tests.fakes.google import FakeGoogle
from tests.google_caller import ALICE, GoogleCaller
from tests.link_allowlist import refused_links
from tests.scenarios import EVENT_ID, MESSAGE, arrange_event, schedule_body

SEED = 14
CASES_PER_PATH = 250
ENDPOINTS = (
    "/gmail/home",
    "/gmail/message",
    "/calendar/home",
    "/calendar/event-open",
    "/calendar/event-update",
    "/actions/schedule-from-email",
    "/actions/add-meeting",
    "/actions/update-meeting",
    "/actions/remove-meeting",
    "/actions/settings",
    "/actions/settings/save",
    "/actions/settings/disconnect",
    "/actions/use-provider",
)
# The answers Google renders as a pushed card; every other endpoint is a card action (renderActions).
TRIGGERS = frozenset({"/gmail/home", "/gmail/message", "/calendar/home", "/calendar/event-open"})

Body = dict[str, Any]


def real_bodies(caller: GoogleCaller) -> dict[str, Body]:
    """What Google sends to each endpoint when a user gets there, as the other tests send it."""

    def on_event() -> Body:
        return caller.calendar_event(ALICE.email, EVENT_ID, organizer={"email": ALICE.email})

    def with_form(host: str, inputs: dict[str, list[str]], **parameters: str) -> Body:
        body = caller.event(host)
        body["commonEventObject"]["formInputs"] = {k: {"stringInputs": {"value": v}} for k, v in inputs.items()}
        body["commonEventObject"]["parameters"] = parameters
        return body

    return {
        "/gmail/home": caller.event("GMAIL"),
        "/gmail/message": caller.gmail_event(MESSAGE.message_id, MESSAGE.access_token),
        "/calendar/home": caller.event("CALENDAR"),
        "/calendar/event-open": on_event(),
        "/calendar/event-update": on_event(),
        "/actions/schedule-from-email": schedule_body(caller),
        "/actions/add-meeting": on_event(),
        "/actions/update-meeting": on_event(),
        "/actions/remove-meeting": on_event(),
        "/actions/settings": caller.event("GMAIL"),
        "/actions/settings/save": with_form(
            "GMAIL",
            {"provider": ["jitsi"], "duration_minutes": ["45"], "options": ["waiting_room"], "template_id": [""]},
        ),
        "/actions/settings/disconnect": with_form("GMAIL", {}, provider="zoom"),
        "/actions/use-provider": with_form("GMAIL", {}, provider="jitsi"),
    }


def addon_endpoints(app: Flask) -> set[str]:
    """Every POST route Google calls with an event object: all but the scheduler's tasks and Calendar's pushes."""
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.rule.startswith("/tasks/") and rule.rule != HOOK_PATH
    }


# Mutations ---------------------------------------------------------------------------------------

# Put in a body as a string, swapped for raw bytes once it is serialised (what json.dumps cannot write).
RAW_MARK = "@@raw-{}@@"
RAW_PIECES: list[bytes] = [
    b"[" * 5000 + b"]" * 5000,
    b"[" * 100_000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b"[" * 65 + b"]" * 65,
    b'"\xff\xfe"',
    b'"caf\xc3"',
    b'"\xc0\xaf"',
    b'"\xed\xa0\x80"',
    b'"\xf4\x90\x80\x80"',
    b'"\\ud800"',
    b'"\\udc00\\ud800"',
    b'"a\x00b"',
    b"NaN",
    b"-Infinity",
    b"1" * 5000,
    b"1e999999",
    b"-0",
]
# Strings the app must carry safely (to a card, to Google, to a meeting service), whatever they say.
ODD_STRINGS: list[str] = [
    "",
    " ",
    "\n\t",
    "😀",
    "\u202eevil",
    "\x00",
    "null",
    "0",
    "-1",
    "<b>bold</b>",
    "https://evil.example/",
    "../../x",
    "%2e%2e/x?y#z",
    "9" * 5000,
    "x" * 300_000,
    "é" * 60_000,
    "x" * MAX_BODY_BYTES,
]
# Text JSON can carry but UTF-8 cannot: what json.dumps writes as \ud800 escapes.
LONE_SURROGATES: list[Any] = ["\ud800", "x\udc00y", "\udfff\ud800", ["\ud800"], {"\ud800": "x"}, {"value": ["\ud800"]}]
WRONG_TYPES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    10**30,
    2**63,
    1e308,
    [],
    {},
    [None],
    [[]],
    {"": ""},
    [0] * 5000,
    {"k" * 100_000: 5},
    {"k" * 100_000: {"stringInputs": {"value": ["x"]}}},
]
HUGE_KEY = "k" * 100_000


def nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The paths of every value in a JSON document, the root's children first."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield (*path, key)
        yield from nodes(child, (*path, key))


def parent(body: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        body = body[key]
    return body


class Mutator:
    """Mutations of one real body, all drawn from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.raw: list[bytes] = []

    def hostile(self, current: Any) -> Any:
        """A value to put where `current` was: an odd string where a string was, else anything."""
        if isinstance(current, str) and self.rng.random() < 0.5:
            return self.rng.choice(ODD_STRINGS)
        kind = self.rng.choices(["odd", "surrogate", "type", "raw"], [15, 20, 40, 25])[0]
        if kind == "raw":
            self.raw.append(self.rng.choice(RAW_PIECES))
            return RAW_MARK.format(len(self.raw) - 1)
        return copy.deepcopy(self.rng.choice({"odd": ODD_STRINGS, "surrogate": LONE_SURROGATES}.get(kind, WRONG_TYPES)))

    def tree(self, body: Any) -> str:
        """Change one value or key somewhere in the body; say what changed."""
        paths = list(nodes(body))
        if not paths:
            return "nothing to change"
        path = self.rng.choice(paths)
        holder, key = parent(body, path), path[-1]
        where = ".".join(map(str, path))
        kind = self.rng.choice(["replace", "replace", "replace", "delete", "wrap", "rename"])
        if kind == "delete":
            del holder[key]
        elif kind == "wrap":
            holder[key] = self.rng.choice([[holder[key]], {"value": holder[key]}])
        elif kind == "rename" and isinstance(holder, dict):
            holder[self.rng.choice(["\ud800", "", key.upper(), key + "\udfff", HUGE_KEY])] = holder.pop(key)
        else:
            holder[key] = self.hostile(holder[key])
            return f"{where} = {_short(holder[key])}"
        return f"{kind} {where}"

    def serialise(self, body: Any) -> tuple[bytes, str]:
        """The body as bytes, in UTF-8 or (rarely) in what Google never sends; raw pieces put in."""
        ascii_only = self.rng.random() < 0.7
        data = json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
        for index, piece in enumerate(self.raw):
            data = data.replace(json.dumps(RAW_MARK.format(index)).encode(), piece)
        kind = self.rng.choices(["as is", "utf-16", "bom", "truncated", "byte"], [80, 3, 3, 7, 7])[0]
        if kind == "utf-16":
            data = data.decode("utf-8", "replace").encode("utf-16")
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "truncated":
            data = data[: self.rng.randrange(len(data))]
        elif kind == "byte" and data:
            at = self.rng.randrange(len(data))
            data = data[:at] + bytes([self.rng.randrange(256)]) + data[at + 1 :]
        return data, kind

    def case(self, real: Body) -> tuple[bytes, str]:
        """One hostile body from a real one, and how it was made."""
        if self.rng.random() < 0.03:
            body: Any = copy.deepcopy(self.rng.choice([[], "event", 1, None, [real]]))
            steps = [f"root {_short(body)}"]
        else:
            body = copy.deepcopy(real)
            steps = [self.tree(body) for _ in range(self.rng.choice([1, 1, 1, 2, 3]))]
        data, encoding = self.serialise(body)
        self.raw.clear()
        return data, "; ".join(steps) + f" ({encoding}, {len(data)} bytes)"


def _short(value: Any) -> str:
    text = ascii(value)
    return text if len(text) < 40 else text[:37] + "..."


# Judging the answers -----------------------------------------------------------------------------


def problem_with(path: str, response: TestResponse, prefixes: list[str]) -> str | None:
    """What Google would refuse, or a user would see broken, in this answer; None when it is fine."""
    status = response.status_code
    if status >= 500:
        return f"HTTP {status}: {response.get_data(as_text=True)[:200]}"
    try:
        answer = json.loads(response.get_data())
        _all_text_is_utf8(answer)
    except (ValueError, UnicodeEncodeError) as error:
        return f"HTTP {status} answer that Google cannot read: {error}"
    if status != 200:
        reason = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(reason, str) or not 0 < len(reason) < 200 or "Traceback" in reason:
            return f"HTTP {status} without a short reason: {answer!r:.200}"
        return None
    try:
        _valid_answer(path, answer)
    except Exception as error:  # any schema or envelope failure is what the test reports
        return f"200 that Google refuses: {type(error).__name__}: {error!s:.300}"
    refused = refused_links(answer, prefixes)
    return f"links outside openLinkUrlPrefixes: {refused}" if refused else None


def _valid_answer(path: str, answer: Any) -> None:
    if "requesting_google_scopes" in answer:
        requested_scopes(answer)
    elif "custom_authorization_prompt" in answer:
        assert path in TRIGGERS
        (navigation,) = answer["custom_authorization_prompt"]["action"]["navigations"]
        validate_card(navigation["pushCard"])
    elif path in TRIGGERS:
        trigger_cards(answer)
    else:
        action_cards(answer)


def _all_text_is_utf8(value: Any) -> None:
    """Lone surrogates pass json.dumps as \\ud800 escapes, but Google's parser (and its card schema) refuses them."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# The fuzz ----------------------------------------------------------------------------------------


@pytest.fixture
def fuzzed(caller: GoogleCaller, google: FakeGoogle) -> dict[str, Body]:
    """Alice's mailbox has the message and her calendar the event that the real bodies name."""
    google.add_message(MESSAGE)
    arrange_event(google)
    return real_bodies(caller)


def test_every_add_on_endpoint_is_fuzzed(app: Flask, caller: GoogleCaller) -> None:
    assert addon_endpoints(app) == set(ENDPOINTS) == set(real_bodies(caller))


def test_the_real_bodies_are_answered_with_cards(caller: GoogleCaller, fuzzed: dict[str, Body]) -> None:
    for path in ENDPOINTS:
        response = caller.post(path, fuzzed[path])

        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        assert problem_with(path, response, caller.link_prefixes) is None


@pytest.mark.parametrize("path", ENDPOINTS)
def test_hostile_bodies_get_a_card_or_a_4xx_never_a_5xx(
    caller: GoogleCaller, fuzzed: dict[str, Body], caplog: pytest.LogCaptureFixture, path: str
) -> None:
    mutate = Mutator(random.Random(f"{SEED}:{path}"))
    headers = {"Authorization": f"Bearer {caller.system_token(path)}", "Content-Type": "application/json"}
    problems, cards = [], 0

    with caplog.at_level(logging.INFO):
        for number in range(CASES_PER_PATH):
            data, how = mutate.case(fuzzed[path])
            response = caller.client.post(path, data=data, headers=headers)
            problem = problem_with(path, response, caller.link_prefixes)
            if problem:
                problems.append(f"case {number}: {how}: {problem}")
            cards += response.status_code == 200

    assert not problems, f"{len(problems)} of {CASES_PER_PATH} cases failed:\n" + "\n".join(problems[:15])
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()[:200]}" for r in errors[:5]]
    # Cases that all stop at the parser would test only the parser.
    assert cards >= CASES_PER_PATH // 10
