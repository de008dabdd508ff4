"""End to end: `gunicorn 'addon:create_app()'`, configured only by environment, answers Google as deployed."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from addon.deployment import load_deployment, trigger_urls
from addon.settings import Settings
from tests.card_schema import action_cards, trigger_cards
from tests.conftest import BASE_URL, OAUTH_CLIENT_ID, SERVICE_ACCOUNT
from tests.fakes.google import FakeGoogle, FakeMessage
from tests.google_caller import GoogleCaller
from tests.live_server import GUNICORN, ROOT, free_port, running_gunicorn


class HttpClient:
    """The subset of Flask's test client GoogleCaller uses, over real HTTP."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.session = requests.Session()

    def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, data: bytes | None = None
    ) -> requests.Response:
        return self.session.post(self.root + path, json=json, data=data, headers=headers, timeout=10)


def server_env(google: FakeGoogle, tmp: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADDON_")}
    env.update(
        {
            "ADDON_ENV": "production",
            "ADDON_BASE_URL": BASE_URL,
            "ADDON_SERVICE_ACCOUNT_EMAIL": SERVICE_ACCOUNT,
            "ADDON_OAUTH_CLIENT_ID": OAUTH_CLIENT_ID,
            "ADDON_SECRET_KEY": "server-test-secret-key-0123456789abcdef",
            "ADDON_STORE": f"sqlite:///{tmp / 'server.db'}",
            "ADDON_GOOGLE_CERTS_URL": google.certs_url,
            "ADDON_GOOGLE_API_ENDPOINT": google.url,
        }
    )
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def server(fake_google_server: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("server")
    env = server_env(fake_google_server, tmp)
    with running_gunicorn(env, free_port(), tmp / "gunicorn.log", "-w", "2", "--threads", "4") as root:
        yield root


@pytest.fixture
def http_caller(server: str, google: FakeGoogle) -> GoogleCaller:
    settings = Settings(
        environment="production",
        base_url=BASE_URL,
        service_account_email=SERVICE_ACCOUNT,
        oauth_client_id=OAUTH_CLIENT_ID,
        secret_key="unused-here-0123456789abcdef0123456789",
    )
    return GoogleCaller(HttpClient(server), google, settings)  # type: ignore[arg-type]


def test_every_trigger_in_the_deployment_answers_with_valid_cards(
    http_caller: GoogleCaller, google: FakeGoogle
) -> None:
    google.add_message(FakeMessage("msg-f:1", "per-message", [("Subject", "Plan"), ("From", "bob@corp.example")]))
    google.add_event(
        "primary",
        {
            "id": "e1",
            "summary": "Plan review",
            "start": {"dateTime": "2026-11-23T10:00:00Z"},
            "end": {"dateTime": "2026-11-23T11:00:00Z"},
        },
    )
    bodies = http_caller.trigger_events(message=("msg-f:1", "per-message"), event=("primary", "e1"))

    for url in trigger_urls(load_deployment()):
        path = urlsplit(url).path
        response = http_caller.post(path, bodies[path])
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        cards = action_cards(body) if path.endswith("update") or path.startswith("/actions/") else trigger_cards(body)
        assert cards[0]["header"]["title"]

    assert len(google.requests_to("/gmail/v1/users/me/messages/")) == 1
    assert len(google.requests_to("/calendar/v3/calendars/primary/events/e1")) == 2


def test_forged_and_malformed_requests_are_refused(http_caller: GoogleCaller, google: FakeGoogle) -> None:
    forged = google.key.sign({"iss": "https://accounts.google.com", "aud": "https://evil.example", "exp": 2**31})
    assert http_caller.post("/gmail/home", http_caller.event("GMAIL"), token=forged).status_code == 401
    assert http_caller.post("/gmail/home", {"commonEventObject": {}}).status_code == 400
    assert (
        http_caller.client.post(
            "/gmail/home",
            data=b"{",
            headers={
                "Authorization": "Bearer " + http_caller.system_token("/gmail/home"),
                "Content-Type": "application/json",
            },
        ).status_code
        == 400
    )


def test_warmup_and_health(server: str) -> None:
    assert requests.get(server + "/_ah/warmup", timeout=5).json() == {"status": "warm"}
    assert requests.get(server + "/healthz", timeout=5).json() == {"status": "ok"}


@pytest.mark.parametrize("missing", ["ADDON_SECRET_KEY", "ADDON_SERVICE_ACCOUNT_EMAIL"])
def test_a_missing_setting_stops_the_server_with_a_message_naming_it(
    fake_google_server: FakeGoogle, tmp_path: Path, missing: str
) -> None:
    env = server_env(fake_google_server, tmp_path)
    del env[missing]

    result = subprocess.run(
        [GUNICORN, "-b", f"127.0.0.1:{free_port()}", "addon:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert f"Cannot start the add-on: missing setting: {missing}" in result.stderr
    assert "Traceback" not in result.stderr


def test_from_an_email_to_an_event_with_a_join_link_and_from_an_event_to_its_meeting(
    http_caller: GoogleCaller, google: FakeGoogle
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.google_caller import ALICE

    google.add_message(FakeMessage("msg-f:9", "tok-9", [("Subject", "Kickoff"), ("From", "bob@corp.example")]))
    body = http_caller.gmail_event("msg-f:9", "tok-9")
    start = datetime.now(UTC) + timedelta(days=2)
    body["commonEventObject"]["formInputs"] = {
        "title": {"stringInputs": {"value": ["Kickoff"]}},
        "participants": {"stringInputs": {"value": ["bob@corp.example"]}},
        "start": {"dateTimeInput": {"msSinceEpoch": int(start.timestamp() * 1000)}},
        "duration": {"stringInputs": {"value": ["30"]}},
    }

    scheduled = http_caller.post("/actions/schedule-from-email", body)

    assert scheduled.status_code == 200, scheduled.text
    (card,) = action_cards(scheduled.json())
    ((_, event),) = [(k, e) for k, e in google.state.events.items() if k[0] == ALICE.email]
    assert event["location"].startswith("https://meet.jit.si/")
    assert event["location"] in json.dumps(card)

    google.add_event(
        ALICE.email,
        {
            "id": "e2",
            "summary": "Design review",
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
        },
    )
    added = http_caller.post("/actions/add-meeting", http_caller.calendar_event(ALICE.email, "e2"))

    assert added.status_code == 200, added.text
    assert google.state.events[(ALICE.email, "e2")]["location"].startswith("https://meet.jit.si/")
