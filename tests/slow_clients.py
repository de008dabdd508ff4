"""Idle connections and slow senders held against a server on 127.0.0.1, for the tests and the benchmarks."""

from __future__ import annotations

import selectors
import socket
import threading
from dataclasses import dataclass, field

HOST = "127.0.0.1"  # loopback only
CONNECT_SECONDS = 5.0
TICK_SECONDS = 1.0
# A request a byte a second takes this long: far past any server's patience.
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: a byte a second, for over a minute\r\n\r\n"
SLOW_BODY = b'{"commonEventObject": {"hostApp": "GMAIL"}, "padding": "' + b"x" * 60 + b'"}'
SLOW_BODY_HEAD = (
    b"POST /gmail/home HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(SLOW_BODY)
)


@dataclass
class Client:
    """One connection: what it sends at once, then a byte a second; what the server sent back; whether it closed."""

    port: int
    at_once: bytes
    dribble: bytes
    sock: socket.socket | None = None
    left: bytearray = field(default_factory=bytearray)
    received: bytearray = field(default_factory=bytearray)
    closed_by_server: bool = False

    def open(self) -> None:
        self.sock = socket.create_connection((HOST, self.port), timeout=CONNECT_SECONDS)
        self.sock.sendall(self.at_once)
        self.sock.setblocking(False)
        self.left = bytearray(self.dribble)
        self.received = bytearray()
        self.closed_by_server = False


class SlowClients:
    """`idle` connections that send nothing, and slow ones sending a head, or a head then a body, a byte a second.

    One thread keeps them: each second it reads what the server sent each, then sends each slow client that has no
    answer yet its next byte. With `reopen`, a connection the server closed is opened again, as an attacker would.
    """

    def __init__(self, port: int, *, idle: int, slow_heads: int, slow_bodies: int, reopen: bool = False) -> None:
        self.reopen = reopen
        self.reopened = 0
        self.ticks = 0
        self.idle = [Client(port, b"", b"") for _ in range(idle)]
        self.slow = [Client(port, b"", SLOW_HEAD) for _ in range(slow_heads)]
        self.slow += [Client(port, SLOW_BODY_HEAD, SLOW_BODY) for _ in range(slow_bodies)]
        self._selector = selectors.DefaultSelector()  # epoll: select() stops at descriptor 1023
        for client in self.idle + self.slow:
            self._open(client)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, name="slow-clients", daemon=True)
        self._thread.start()

    def all_closed_by_server(self) -> bool:
        return all(client.closed_by_server for client in self.idle + self.slow)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for client in self.idle + self.slow:
            if client.sock is not None:
                client.sock.close()
        self._selector.close()

    def _open(self, client: Client) -> None:
        client.open()
        self._selector.register(client.sock, selectors.EVENT_READ, client)  # type: ignore[arg-type]

    def _keep(self) -> None:
        while True:
            for key, _ in self._selector.select(0):
                self._read(key.data)
            for client in self.slow:
                if client.left and not client.received and not client.closed_by_server:
                    self._send_a_byte(client)
            self.ticks += 1
            if self._stop.wait(TICK_SECONDS):
                return

    def _read(self, client: Client) -> None:
        assert client.sock is not None
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        client.received += data
        if data:
            return
        client.closed_by_server = True
        self._selector.unregister(client.sock)
        if self.reopen:
            client.sock.close()
            self._open(client)
            self.reopened += 1

    def _send_a_byte(self, client: Client) -> None:
        assert client.sock is not None
        try:
            client.sock.send(client.left[:1])
        except BlockingIOError:
            return
        except OSError:
            return  # reset: the next read sees it
        del client.left[:1]
