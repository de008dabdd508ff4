"""Logs are JSON lines Cloud Logging reads, and no token, code or ticket survives into them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from addon.crypto import SecretBox
from addon.logs import JsonFormatter, scrub, user_hash
from addon.settings import Settings
from tests.fakes.google import FakeGoogle
from tests.google_caller import ALICE, GoogleCaller
from tests.scenarios import arrange_event, event_action


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Authorization: Bearer abc.def-123", "abc.def-123"),
        ("token ya29.a0AfH6SMB-secret", "ya29.a0AfH6SMB-secret"),
        ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "eyJzdWIiOiIxIn0"),
        ('"GET /connect/zoom/callback?code=4/0AX-secret&state=s.t HTTP/1.1" 200', "4/0AX-secret"),
        ("GET /connect/zoom/start?ticket=eyJzdWIi.sig HTTP/1.1", "eyJzdWIi.sig"),
        ("https://video.corp.example/room?jwt=e30.e30.sig", "e30.e30.sig"),
    ],
)
def test_secrets_are_scrubbed_from_every_line(line: str, secret: str) -> None:
    assert secret not in scrub(line)
    assert "[redacted]" in scrub(line)


@pytest.mark.parametrize("word", ["k", "a.", "a-", "eyJ", "eyJa."])
def test_a_long_word_is_left_as_it_is(word: str) -> None:
    # Tried at every position of the run, these patterns took minutes on a line this long (the suite's time
    # shows a return of that; this test holds what the scrubber must still do with such a line).
    line = word * (200_000 // len(word))

    scrubbed = scrub(line + " alice@corp.example")

    assert scrubbed.endswith(" [email]")
    # Only runs shaped like a JWT (eyJ….….…) go; any other word stays as it was.
    if word == "eyJa.":
        assert scrubbed.startswith("[redacted].[redacted]")
    else:
        assert scrubbed == line + " [email]"


def test_a_record_is_one_json_object_with_severity_message_and_audit() -> None:
    record = logging.LogRecord("addon.scheduling", logging.INFO, __file__, 1, "meeting %s", ("create",), None)
    record.audit = {"user_email": "alice@corp.example", "meeting_id": "123"}

    entry = json.loads(JsonFormatter().format(record))

    assert entry["severity"] == "INFO"
    assert entry["message"] == "meeting create"
    assert entry["audit"]["meeting_id"] == "123"


def test_request_logs_name_the_user_by_a_hash_and_never_by_address(
    caller: GoogleCaller, google: FakeGoogle, settings: Settings
) -> None:
    arrange_event(google)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        response = event_action(caller, "/actions/add-meeting")
    finally:
        logging.getLogger().removeHandler(handler)

    assert response.status_code == 200
    entries = [json.loads(line) for line in lines.getvalue().splitlines()]
    (created,) = [e for e in entries if e["message"] == "meeting create: ok"]
    assert created["user"] == user_hash(ALICE.sub, SecretBox(settings.secret_key).log_key)
    assert created["trigger"] == "add_meeting" and created["requestId"] == response.headers["X-Request-Id"]
    assert ALICE.email not in lines.getvalue()
