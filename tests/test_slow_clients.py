"""Slow and idle clients against gunicorn as deployed: they hold no thread, so everyone else is still answered."""

from __future__ import annotations

import http.client
import json
import resource
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from addon.serving import MAX_BODY_BYTES, REQUEST_SECONDS
from addon.settings import Settings
from tests.card_schema import trigger_cards
from tests.conftest import BASE_URL, OAUTH_CLIENT_ID, SERVICE_ACCOUNT
from tests.fakes.google import FakeGoogle
from tests.google_caller import GoogleCaller
from tests.live_server import Gunicorn, served_by_gunicorn
from tests.slow_clients import SlowClients
from tests.test_server import server_env

IDLE = 500
SLOW = 40
# Generous, so a starved request fails the test instead of hanging it; answers come in milliseconds.
ANSWER_SECONDS = 5.0
# The server ends slow and idle clients REQUEST_SECONDS after they connected; this much later the test gives up.
ENDED_SECONDS = REQUEST_SECONDS + 10


def enough_descriptors(needed: int) -> None:
    """Raise this process's descriptor limit (gunicorn inherits it) to hold `needed` sockets with room to spare."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else hard, hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= needed, "raise `ulimit -Hn` to run this test"


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=ANSWER_SECONDS)


def status_of(port: int, method: str, path: str, connection: http.client.HTTPConnection | None = None) -> int:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_SECONDS)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        if connection is None:
            conn.close()


class FreshConnections:
    """What GoogleCaller needs of a client: each POST on a new connection, with a timeout it cannot outwait."""

    def __init__(self, root: str) -> None:
        self.root = root

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.post(self.root + path, json=json, headers=headers, timeout=ANSWER_SECONDS)


@pytest.fixture(scope="module")
def deployed(fake_google_server: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """gunicorn with the README's production serving settings: 2 workers x 8 threads, no other option."""
    enough_descriptors(IDLE + SLOW + 500)
    tmp = tmp_path_factory.mktemp("slow-clients")
    env = server_env(fake_google_server, tmp, WEB_CONCURRENCY="2", GUNICORN_THREADS="8")
    log = tmp / "gunicorn.log"
    with served_by_gunicorn(env, log) as (server, _):
        yield server
    assert "Traceback" not in log.read_text(), log.read_text()


def caller_for(server: Gunicorn, google: FakeGoogle) -> GoogleCaller:
    settings = Settings(
        environment="production",
        base_url=BASE_URL,
        service_account_email=SERVICE_ACCOUNT,
        oauth_client_id=OAUTH_CLIENT_ID,
        secret_key="unused-here-0123456789abcdef0123456789",
    )
    return GoogleCaller(FreshConnections(server.root), google, settings)  # type: ignore[arg-type]


def test_idle_and_slow_clients_leave_every_other_request_answered(deployed: Gunicorn, google: FakeGoogle) -> None:
    port = deployed.port
    clients = SlowClients(port, idle=IDLE, slow_heads=SLOW // 2, slow_bodies=SLOW // 2)
    try:
        wait_until(lambda: clients.ticks >= 3, 10, "the slow clients sent their first bytes")

        healthz = [status_of(port, "GET", "/healthz") for _ in range(20)]
        kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_SECONDS)
        on_one_connection = [status_of(port, "GET", "/healthz", kept_alive) for _ in range(5)]
        kept_alive.close()
        caller = caller_for(deployed, google)
        trigger = caller.post("/gmail/home", caller.event("GMAIL"))

        assert healthz == [200] * 20
        assert on_one_connection == [200] * 5
        assert trigger.status_code == 200, trigger.text
        assert trigger_cards(trigger.json())[0]["header"]["title"]

        # Once their time is up, each slow client is answered 408 and each idle one closed.
        wait_until(clients.all_closed_by_server, ENDED_SECONDS, "the server ended the slow and idle clients")
        assert [bytes(client.received[:13]) for client in clients.slow] == [b"HTTP/1.1 408 "] * SLOW
        assert json.loads(clients.slow[0].received.partition(b"\r\n\r\n")[2]) == {
            "error": "the request did not arrive whole within 10 s"
        }
        assert [client.received for client in clients.idle] == [b""] * IDLE
    finally:
        clients.stop()


def test_a_body_over_the_limit_is_refused_before_it_is_sent(deployed: Gunicorn) -> None:
    with connect(deployed.port) as sock:
        sock.sendall(b"POST /gmail/home HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY_BYTES + 1))
        answer = sock.makefile("rb").read()

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in head
    assert json.loads(body) == {"error": f"the body is larger than {MAX_BODY_BYTES} bytes"}


def test_a_client_waiting_for_100_continue_gets_it_then_its_answer(deployed: Gunicorn) -> None:
    with connect(deployed.port) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        answers = sock.makefile("rb")
        interim = answers.readline()
        answers.readline()
        sock.sendall(b"{}")
        final = answers.readline()

    assert interim == b"HTTP/1.1 100 Continue\r\n"
    assert final.startswith(b"HTTP/1.1 405 ")  # /healthz is GET only: what matters is that an answer came


def test_pipelined_and_chunked_requests_are_answered(deployed: Gunicorn, google: FakeGoogle) -> None:
    with connect(deployed.port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n" * 2 + b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
        sock.sendall(b"Connection: close\r\n\r\n")
        answers = sock.makefile("rb").read()
    caller = caller_for(deployed, google)
    path = "/gmail/home"
    body = json.dumps(caller.event("GMAIL")).encode()
    chunked = http.client.HTTPConnection("127.0.0.1", deployed.port, timeout=ANSWER_SECONDS)
    chunked.request(
        "POST",
        path,
        iter([body[:100], body[100:]]),
        {"Authorization": f"Bearer {caller.system_token(path)}", "Content-Type": "application/json"},
    )
    trigger = chunked.getresponse()
    card = json.loads(trigger.read())
    chunked.close()

    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 3
    assert trigger.status == 200
    assert trigger_cards(card)[0]["header"]["title"]


def test_past_the_connection_cap_the_longest_waiting_connections_make_room(
    fake_google_server: FakeGoogle, tmp_path: Path
) -> None:
    env = server_env(fake_google_server, tmp_path)
    with served_by_gunicorn(env, tmp_path / "gunicorn.log", "-w", "1", "--worker-connections", "50") as (server, _):
        clients = SlowClients(server.port, idle=80, slow_heads=0, slow_bodies=0)
        try:
            answered = status_of(server.port, "GET", "/healthz")
            oldest = clients.idle[:30]
            wait_until(lambda: all(c.closed_by_server for c in oldest), ANSWER_SECONDS, "the oldest were closed")
        finally:
            clients.stop()

    assert answered == 200
