"""The store stops answering mid-test (the real Datastore emulator behind a link the test cuts): the sidebar says
so at once, readiness says 503, Google's retried work gets a 503, and all of it mends by itself, nothing lost."""

from __future__ import annotations

import dataclasses
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from addon import create_app
from addon.services import Services
from addon.settings import Settings
from addon.store import StoreUnavailable, UserSettings, WatchChannel
from addon.store.availability import CircuitBreaker
from addon.store.sqlite import SqliteStore
from tests.card_schema import card_text, trigger_cards
from tests.google_caller import ALICE, GoogleCaller
from tests.pauses import Pauses
from tests.relay import TcpRelay

T = TypeVar("T")

# Far beyond the store's budget (a few seconds): reached only if a request hangs, so no test can.
HANG_SECONDS = 30.0
STORAGE_TITLE = "The add-on's storage is not answering"


def within(seconds: float, work: Callable[[], T]) -> T:
    """work(), or a failed test if it has not returned after `seconds`."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(work).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


def wait_until(condition: Callable[[], bool], seconds: float = HANG_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not so after {seconds:.0f} s"
        time.sleep(0.05)


def storage_card_of(response: TestResponse) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    (card,) = trigger_cards(response.get_json())
    return card_text(card)


# On the Datastore emulator, through a relay --------------------------------------------------------


@pytest.fixture
def relay(datastore_emulator: str) -> Iterator[TcpRelay]:
    relay = TcpRelay(datastore_emulator)
    yield relay
    relay.close()


@pytest.fixture
def app(settings: Settings, relay: TcpRelay, pauses: Pauses, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app on Datastore, reached through the relay."""
    monkeypatch.setenv("DATASTORE_EMULATOR_HOST", relay.address)
    app = create_app(dataclasses.replace(settings, store="datastore", datastore_namespace=f"test-{uuid.uuid4().hex}"))
    services: Services = app.extensions["addon"]
    services.google.sleep = pauses
    # Production's counts and waits shortened: the breaker opens after two failures and closes within a second.
    services.store.breaker = CircuitBreaker(failures_to_open=2, open_seconds=0.2, ready_fresh_seconds=0.2)
    yield app
    services.close()


def ready(client: FlaskClient) -> int:
    return client.get("/readyz").status_code


@pytest.mark.datastore
@pytest.mark.parametrize("outage", ["refuse", "stall"])
def test_a_trigger_while_the_store_is_down_says_so_and_the_next_after_it_is_back_shows_what_was_kept(
    caller: GoogleCaller, client: FlaskClient, services: Services, relay: TcpRelay, outage: str
) -> None:
    services.store.put(UserSettings(user_id=ALICE.sub, provider="zoom", duration_minutes=45))
    getattr(relay, outage)()

    response = within(HANG_SECONDS, lambda: caller.post("/gmail/home", caller.event("GMAIL")))

    text = storage_card_of(response)
    assert STORAGE_TITLE in text and "Try again in a minute" in text
    assert response.headers["X-Request-Id"] in text

    relay.restore()
    wait_until(lambda: ready(client) == 200)
    text = storage_card_of(caller.post("/gmail/home", caller.event("GMAIL")))
    assert STORAGE_TITLE not in text
    assert "Zoom" in text and "45 minutes" in text


@pytest.mark.datastore
def test_readiness_is_503_while_the_store_is_down_and_200_once_it_is_back_without_a_restart(
    client: FlaskClient, services: Services, relay: TcpRelay
) -> None:
    services.store.put(UserSettings(user_id=ALICE.sub, duration_minutes=50))
    assert ready(client) == 200

    relay.refuse()
    wait_until(lambda: within(HANG_SECONDS, lambda: ready(client)) == 503)
    down = client.get("/readyz")
    assert down.status_code == 503 and down.headers["Retry-After"]
    assert client.get("/healthz").status_code == 200  # liveness never asks the store

    relay.restore()
    wait_until(lambda: ready(client) == 200)
    stored = services.store.get(UserSettings, ALICE.sub)
    assert stored is not None and stored.duration_minutes == 50


@pytest.mark.datastore
def test_once_the_store_failed_repeatedly_requests_fail_at_once_until_a_probe_finds_it_back(
    caller: GoogleCaller, client: FlaskClient, services: Services, relay: TcpRelay
) -> None:
    breaker = services.store.breaker
    breaker.open_seconds = 60.0  # no probe during this test's outage
    relay.stall()
    for _ in range(breaker.failures_to_open):
        assert STORAGE_TITLE in storage_card_of(
            within(HANG_SECONDS, lambda: caller.post("/gmail/home", caller.event("GMAIL")))
        )

    # Back, but not asked while the breaker is open: were it asked, this would be the homepage.
    relay.restore()
    assert STORAGE_TITLE in storage_card_of(caller.post("/gmail/home", caller.event("GMAIL")))

    breaker.open_seconds = 0.0  # time for the probe
    wait_until(lambda: ready(client) == 200)
    assert STORAGE_TITLE not in storage_card_of(caller.post("/gmail/home", caller.event("GMAIL")))


@pytest.mark.datastore
def test_a_push_notification_while_the_store_is_down_is_a_503_that_calendar_retries(
    client: FlaskClient, relay: TcpRelay
) -> None:
    relay.refuse()

    response = within(
        HANG_SECONDS,
        lambda: client.post(
            "/hooks/calendar",
            headers={
                "X-Goog-Channel-ID": "chan-1",
                "X-Goog-Channel-Token": "channel-secret",
                "X-Goog-Resource-ID": "res-1",
                "X-Goog-Resource-State": "exists",
            },
        ),
    )

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.datastore
def test_a_sign_in_window_opened_while_the_store_is_down_says_so(
    client: FlaskClient, services: Services, settings: Settings, relay: TcpRelay
) -> None:
    from addon.web.signin import sign_in_url

    link = sign_in_url(services, ALICE.sub, "zoom")
    relay.refuse()

    response = within(HANG_SECONDS, lambda: client.get(link.removeprefix(settings.base_url)))

    assert response.status_code == 503
    assert "storage is not answering" in response.get_data(as_text=True)


@pytest.mark.datastore
def test_a_store_call_that_finds_no_emulator_listening_fails_within_its_budget(
    datastore_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from addon.store.datastore import DatastoreStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{probe.getsockname()[1]}"  # nobody listens there once this closes
    monkeypatch.setenv("DATASTORE_EMULATOR_HOST", nowhere)
    store = DatastoreStore(namespace=f"test-{uuid.uuid4().hex}")
    try:
        with pytest.raises(StoreUnavailable, match="Datastore did not answer"):
            within(HANG_SECONDS, lambda: store.get(WatchChannel, "chan-1"))
    finally:
        store.close()


# On SQLite -----------------------------------------------------------------------------------------


def test_sqlite_held_locked_by_another_process_is_storage_not_answering_and_then_answers_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "addon.db"
    store = SqliteStore(str(path), busy_timeout_seconds=0.2)
    store.put(UserSettings(user_id=ALICE.sub, duration_minutes=45))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # an admin's command, a backup: whatever holds the write lock
    try:
        with pytest.raises(StoreUnavailable, match="database is locked"):
            within(HANG_SECONDS, lambda: store.put(UserSettings(user_id=ALICE.sub, duration_minutes=60)))
    finally:
        other.execute("ROLLBACK")
        other.close()

    stored = store.get(UserSettings, ALICE.sub)
    assert stored is not None and stored.duration_minutes == 45
    store.put(UserSettings(user_id=ALICE.sub, duration_minutes=60))
    assert store.ready()
    store.close()


# The breaker on its own, on a clock the test moves ------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_repeated_failures_lets_one_probe_through_and_closes_when_it_answers() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=3, open_seconds=5.0, clock=clock)
    for _ in range(2):
        breaker.check()
        breaker.failed()
    breaker.check()  # two failures in a row: still asking
    breaker.failed()

    with pytest.raises(StoreUnavailable):
        breaker.check()
    clock.now += 5.0
    breaker.check()  # the probe
    with pytest.raises(StoreUnavailable):
        breaker.check()  # others wait for the probe's outcome
    breaker.failed()
    with pytest.raises(StoreUnavailable):
        breaker.check()  # the probe failed: open again for the whole time

    clock.now += 5.0
    breaker.check()
    breaker.succeeded()
    breaker.check()
    breaker.check()  # closed: everyone is let through


def test_an_answer_between_failures_keeps_the_breaker_closed() -> None:
    breaker = CircuitBreaker(failures_to_open=3, clock=Clock())
    for _ in range(5):
        breaker.failed()
        breaker.failed()
        breaker.succeeded()

    breaker.check()
    breaker.check()


def test_readiness_reads_the_store_at_most_once_in_its_interval_and_not_while_calls_show_it_answers() -> None:
    clock = Clock()
    breaker = CircuitBreaker(ready_fresh_seconds=10.0, clock=clock)
    probes: list[float] = []

    def probe() -> None:
        probes.append(clock.now)
        raise StoreUnavailable("no answer")

    assert not breaker.ready(probe)
    clock.now += 9.0
    assert not breaker.ready(probe)  # the last outcome, not another read
    clock.now += 1.0
    assert not breaker.ready(probe)
    assert probes == [1000.0, 1010.0]

    breaker.succeeded()  # a request's call answered
    clock.now += 5.0
    assert breaker.ready(probe)
    assert probes == [1000.0, 1010.0]
