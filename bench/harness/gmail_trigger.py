"""The Gmail message-open trigger as Google sends it: one message on the fake Google, users with signed tokens,
and the production settings that point the add-on at that fake."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from addon.settings import Settings
from bench.harness.load import Call
from tests.fakes.google import FakeGoogle, FakeMessage
from tests.google_caller import ALICE, GoogleCaller, TestUser

TRIGGER_PATH = "/gmail/message"
BASE_URL = "https://addon.bench"
SERVICE_ACCOUNT = "service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
OAUTH_CLIENT_ID = "123456789-bench.apps.googleusercontent.com"
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
TOKEN_LIFETIME_SECONDS = 24 * 3600
MESSAGE_ID = "msg-f:1786543210987654321"
MESSAGE_TOKEN = "per-message-token-bench"
# Only a card built from the Gmail read names this sender; problem cards (also 200) do not.
CARD_MARKER = b"jane.doe@partner.example"
# gunicorn as deployed: its worker from gunicorn.conf.py, with app.yaml's processes and threads.
SERVING_ENV = {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "8"}
SERVING = "gunicorn as deployed (gunicorn.conf.py's worker), WEB_CONCURRENCY=2 x GUNICORN_THREADS=8"


@dataclass(frozen=True)
class ArrangedGoogle:
    url: str
    certs_url: str
    system_token: str
    # One event object per user, each with that user's tokens.
    event_bodies: tuple[bytes, ...]

    def call(self, user: int = 0) -> Call:
        """The trigger as Google sends it for the `user`th user."""
        headers = {"Authorization": f"Bearer {self.system_token}", "Content-Type": "application/json"}
        return Call("POST", TRIGGER_PATH, self.event_bodies[user % len(self.event_bodies)], headers)


@dataclass(frozen=True)
class GoogleCounts:
    cert_fetches: int
    gmail_reads: int
    requests: int


def bench_user(number: int) -> TestUser:
    """The first is the tests' Alice (whom the message is to); the others are her colleagues."""
    if number == 0:
        return ALICE
    return TestUser(sub=f"2{number:020d}", email=f"user{number}@corp.example", oauth_token=f"ya29.user-{number}")


def arrange_google(fake: FakeGoogle, users: int = 1) -> ArrangedGoogle:
    """One message, and `users` users whose events and tokens are minted once, long-lived, and reused.

    Run in the fake's process (bench/harness/fake_process.py); with functools.partial for more users.
    """
    fake.add_message(
        FakeMessage(
            message_id=MESSAGE_ID,
            access_token=MESSAGE_TOKEN,
            headers=[
                ("Subject", "Re: Fwd: Q3 budget review"),
                ("Date", "Mon, 23 Nov 2026 09:15:00 +0000"),
                ("From", '"Doe, Jane" <jane.doe@partner.example>'),
                ("To", "Alice Example <ALICE@corp.example>, bob@corp.example"),
                ("Cc", '"Chen, Wei (Finance)" <wei.chen@corp.example>, jane.doe@partner.example'),
            ],
        )
    )
    settings = Settings(
        environment="production",
        base_url=BASE_URL,
        service_account_email=SERVICE_ACCOUNT,
        oauth_client_id=OAUTH_CLIENT_ID,
        secret_key=SECRET_KEY,
    )
    # The caller only builds the events and tokens here; its Flask client is never used.
    caller = GoogleCaller(None, fake, settings)  # type: ignore[arg-type]
    expires = int(time.time()) + TOKEN_LIFETIME_SECONDS
    bodies = []
    for number in range(users):
        user = bench_user(number)
        event = caller.gmail_event(MESSAGE_ID, MESSAGE_TOKEN, user=user)
        event["authorizationEventObject"]["userIdToken"] = caller.user_token(user, exp=expires)
        event["authorizationEventObject"]["systemIdToken"] = caller.system_token("/", exp=expires)
        bodies.append(json.dumps(event).encode())
    return ArrangedGoogle(
        url=fake.url,
        certs_url=fake.certs_url,
        system_token=caller.system_token(TRIGGER_PATH, exp=expires),
        event_bodies=tuple(bodies),
    )


def google_counts(fake: FakeGoogle) -> GoogleCounts:
    return GoogleCounts(
        cert_fetches=fake.state.cert_fetches,
        gmail_reads=len(fake.requests_to("/gmail/v1/users/me/messages/")),
        requests=len(fake.state.requests),
    )


def is_the_card(body: bytes) -> bool:
    return CARD_MARKER in body


class GoogleEndpoints(Protocol):
    """Where a fake Google answers: its API root and its signing keys."""

    @property
    def url(self) -> str: ...

    @property
    def certs_url(self) -> str: ...


def addon_env(google: GoogleEndpoints, store: Path) -> dict[str, str]:
    """This process's environment without its ADDON_* variables, plus production settings on the fake Google,
    served as deployed."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ADDON_")}
    env.update(
        ADDON_ENV="production",
        ADDON_BASE_URL=BASE_URL,
        ADDON_SERVICE_ACCOUNT_EMAIL=SERVICE_ACCOUNT,
        ADDON_OAUTH_CLIENT_ID=OAUTH_CLIENT_ID,
        ADDON_SECRET_KEY=SECRET_KEY,
        ADDON_STORE=f"sqlite:///{store}",
        ADDON_GOOGLE_CERTS_URL=google.certs_url,
        ADDON_GOOGLE_API_ENDPOINT=google.url,
        **SERVING_ENV,
    )
    return env
