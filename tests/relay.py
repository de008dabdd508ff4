"""A TCP relay on 127.0.0.1 between the app and a real server, whose link a test cuts and mends.

`refuse()`: every connection is reset, as when the server's process is gone. `stall()`: connections are taken
and never answered, as when the server's process is stopped or a network drops packets. `restore()`: bytes
flow again. Only the link changes; the server behind it keeps what it holds.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from contextlib import suppress
from typing import Literal

Mode = Literal["up", "refuse", "stall"]
POLL_SECONDS = 0.05


class TcpRelay:
    """Listens on `address`, forwarding to `target` while up."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL_SECONDS)
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._mode: Mode = "up"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._accept, name="relay-accept", daemon=True)]
        self._threads[0].start()

    def refuse(self) -> None:
        self._switch("refuse")

    def stall(self) -> None:
        self._switch("stall")

    def restore(self) -> None:
        self._switch("up")

    def close(self) -> None:
        self._stopped.set()
        self._switch("refuse")
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def _switch(self, mode: Mode) -> None:
        """Every connection open now ends with a reset; the next ones meet `mode`."""
        with self._lock:
            self._mode = mode
            doomed, self._open = self._open, set()
        for sock in doomed:
            _reset(sock)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                mode = self._mode
                if mode != "refuse":
                    self._open.add(client)
            if mode == "refuse":
                _reset(client)
            elif mode == "up":
                pump = threading.Thread(target=self._forward, args=(client,), name="relay-pump", daemon=True)
                self._threads.append(pump)
                pump.start()
            # "stall": held open, never read, until the next switch resets it.

    def _forward(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self._target, timeout=5)
        except OSError:
            _reset(client)
            return
        with self._lock:
            if client not in self._open:  # switched while connecting
                _reset(server)
                return
            self._open.add(server)
        peers = {client: server, server: client}
        try:
            while not self._stopped.is_set():
                readable, _, _ = select.select(list(peers), [], [], POLL_SECONDS)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return  # reset by a switch, or by either end
        finally:
            for sock in peers:
                _reset(sock)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (no orderly shutdown), as a dead peer's kernel answers."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
