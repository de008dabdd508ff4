"""gunicorn's gthread worker, reading each request whole in its event loop before a thread serves it.

A slow or idle client then holds a socket and a few bytes, never one of the threads. A request must have arrived
whole within REQUEST_SECONDS (or is answered 408), a body over MAX_BODY_BYTES is answered 413 before it is read,
and past `worker_connections` the connections waiting longest, and not being served, are closed to make room.
It overrides gthread's internals, so it is written for the gunicorn pinned in requirements.txt.
"""

from __future__ import annotations

import errno
import json
import math
import resource
import selectors
import socket
import sys
import time
from collections import OrderedDict
from concurrent.futures import Future
from contextlib import suppress
from functools import partial
from typing import Any

from gunicorn import http, util
from gunicorn.http.errors import NoMoreData
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

from addon.serving import MAX_BODY_BYTES, MAX_HEAD_BYTES, REQUEST_SECONDS
from addon.serving.framing import RequestFraming, RequestRefused

RECV_BYTES = 64 * 1024
# After our last answer, what the client still sends is read and dropped for a while before the socket closes: a
# close with unread bytes makes the kernel reset the connection, and the client may lose the answer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024
# A descriptor for each client, and as many kept for everything else: calls out, gRPC, logs.
DESCRIPTORS_PER_CLIENT = 2
# Each status's reason phrase, and the short reason the body gives, as the app's own error answers do.
REFUSALS = {
    408: ("Request Timeout", f"the request did not arrive whole within {REQUEST_SECONDS:g} s"),
    413: ("Request Entity Too Large", f"the body is larger than {MAX_BODY_BYTES} bytes"),
    431: ("Request Header Fields Too Large", f"the request's head is larger than {MAX_HEAD_BYTES} bytes"),
}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def error_response(status: int) -> bytes:
    """A whole answer, closing the connection, with a JSON body as the app's: `{"error": "<short reason>"}`."""
    phrase, reason = REFUSALS[status]
    body = json.dumps({"error": reason}).encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nDate: {util.http_date()}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def connection_cap(configured: int) -> int:
    """`worker_connections`, raising the process's descriptor limit for it; fewer if the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = configured * DESCRIPTORS_PER_CLIENT
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, soft // DESCRIPTORS_PER_CLIENT))


class DeadlineUnreader(SocketUnreader):
    """Reads the socket only until the request's deadline.

    The loop hands a thread whole requests, so a thread reads the socket only for one the framing could not follow;
    it waits no longer than the loop would have.
    """

    deadline = math.inf

    def chunk(self, size_hint: int | None = None) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise NoMoreData()
        self.sock.settimeout(remaining)
        try:
            return super().chunk(size_hint)
        except TimeoutError:
            raise NoMoreData() from None
        finally:
            self.sock.settimeout(None)


class BufferedConn(TConn):
    """A client's connection, with what it has sent of its next request."""

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any) -> None:
        super().__init__(cfg, sock, client, server)
        self.parser = http.get_parser(cfg, sock, client)
        self.parser.unreader = DeadlineUnreader(sock)
        self.initialized = True  # TConn.init, in the thread, keeps this parser
        self.received = bytearray()
        self.framing = RequestFraming(max_head=MAX_HEAD_BYTES, max_body=MAX_BODY_BYTES)
        self.deadline = math.inf
        self.continued = False
        self.drained = 0
        # False once closed: an event the poller reported before may still be dispatched after.
        self.open = True


class BufferingWorker(ThreadWorker):
    """ThreadWorker whose threads get only requests that have arrived whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Both in deadline order: connections join them at now + a constant.
        self.reading: OrderedDict[BufferedConn, None] = OrderedDict()
        self.lingering: OrderedDict[BufferedConn, float] = OrderedDict()
        self.max_connections = self.cfg.worker_connections

    def init_process(self) -> None:
        # Here, in the worker's own process: the worker object is made in the master, before the fork.
        self.max_connections = connection_cap(self.cfg.worker_connections)
        if self.max_connections < self.cfg.worker_connections:
            self.log.warning(
                "At most %d connections per worker, not worker_connections %d: the file descriptor limit is %d.",
                self.max_connections,
                self.cfg.worker_connections,
                resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            )
        # run() stops accepting at worker_connections: one past the cap, so only when nothing could make room.
        self.worker_connections = self.max_connections + 1
        self.max_keepalived = self.max_connections - self.cfg.threads
        super().init_process()

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        super().check_config(cfg, log)
        unsupported = [
            name
            for name, used in (
                ("TLS (certfile, keyfile)", cfg.is_ssl),
                ("HTTP/2 (http2_cleartext)", cfg.http2_cleartext != "off"),
                ("the PROXY protocol", cfg.proxy_protocol != "off"),
                ("the uwsgi protocol", cfg.protocol != "http"),
            )
            if used
        ]
        if unsupported:
            log.error(
                "%s.%s reads plain HTTP/1.x, not %s: terminate it in front of gunicorn.",
                cls.__module__,
                cls.__name__,
                ", ".join(unsupported),
            )
            sys.exit(1)

    # New connections, and kept-alive ones with a new request -----------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno in (errno.EMFILE, errno.ENFILE) and self.close_longest_waiting():
                return
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        while self.nr_conns >= self.max_connections and self.close_longest_waiting():
            pass
        self.nr_conns += 1
        self.read_request(BufferedConn(self.cfg, sock, client, listener.getsockname()))

    def on_client_socket_readable(self, conn: BufferedConn, client: socket.socket) -> None:
        if not conn.open:
            return
        self.keepalived_conns.remove(conn)
        self.read_request(conn, registered=True)
        self.on_readable(conn, client)

    def read_request(self, conn: BufferedConn, received: bytes = b"", *, registered: bool = False) -> None:
        """Wait in the poller for the connection's next request, starting from bytes already `received`."""
        conn.received = bytearray(received)
        conn.framing = RequestFraming(max_head=MAX_HEAD_BYTES, max_body=MAX_BODY_BYTES)
        conn.continued = False
        conn.deadline = time.monotonic() + REQUEST_SECONDS
        conn.sock.setblocking(False)
        self.reading[conn] = None
        if registered:
            self.poller.modify(conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn))
        else:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn))
        if received:
            self.advance(conn)

    def on_readable(self, conn: BufferedConn, _sock: socket.socket) -> None:
        if not conn.open:
            return
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop(conn)  # gone before its request was whole: nobody to answer
            return
        conn.received += data
        self.advance(conn)

    def advance(self, conn: BufferedConn) -> None:
        try:
            whole = conn.framing.complete(conn.received)
        except RequestRefused as refused:
            self.refuse(conn, refused.status)
            return
        if whole:
            self.stop_reading(conn)
            unreader = conn.parser.unreader
            unreader.unread(bytes(conn.received))
            unreader.deadline = conn.deadline
            conn.received = bytearray()
            self.enqueue_req(conn)
        elif conn.framing.expects_continue and not conn.continued:
            # The head is here and the client waits for leave to send the body.
            conn.continued = True
            self.send_now(conn, CONTINUE)

    def handle_request(self, req: Any, conn: BufferedConn) -> bool:
        # The body is here already: a 100 Continue now would only be noise.
        req._expected_100_continue = False
        return super().handle_request(req, conn)

    def finish_request(self, conn: BufferedConn, fs: Future) -> None:
        keep_alive = not fs.cancelled() and fs.exception() is None and fs.result()
        if not keep_alive:
            self.linger(conn)
            return
        pipelined = conn.parser.unreader.take_buffered()
        if pipelined:
            self.read_request(conn, pipelined)
        else:
            super().finish_request(conn, fs)  # back to the poller, kept alive

    # Deadlines, refusals and closing ----------------------------------------------------------------------

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.reading and (conn := next(iter(self.reading))).deadline <= now:
            if conn.received:
                self.refuse(conn, 408)
            else:
                self.drop(conn)  # never sent a byte: nothing to answer
        while self.lingering and next(iter(self.lingering.values())) <= now:
            self.drop(next(iter(self.lingering)))

    def _cap_keepalive(self, deadline: float) -> None:
        """On a graceful stop, connections that have sent nothing yet wait no longer than kept-alive ones."""
        super()._cap_keepalive(deadline)
        for conn in self.reading:
            if not conn.received:
                conn.deadline = min(conn.deadline, deadline)
        self.reading = OrderedDict(sorted(self.reading.items(), key=lambda item: item[0].deadline))

    def close_longest_waiting(self) -> bool:
        """Close the connection that no thread serves and has waited longest: lingering, kept alive, or reading."""
        if self.lingering:
            self.drop(next(iter(self.lingering)))
        elif self.keepalived_conns:
            conn = self.keepalived_conns.popleft()
            with suppress(KeyError, ValueError):
                self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            conn.open = False
            conn.close()
        elif self.reading:
            self.drop(next(iter(self.reading)))
        else:
            return False
        return True

    def refuse(self, conn: BufferedConn, status: int) -> None:
        self.log.debug("Answered %d to %s before its request was whole.", status, conn.client)
        self.stop_reading(conn)
        self.send_now(conn, error_response(status))
        self.linger(conn)

    def stop_reading(self, conn: BufferedConn) -> None:
        del self.reading[conn]
        self.poller.unregister(conn.sock)

    def send_now(self, conn: BufferedConn, data: bytes) -> None:
        """Send a few bytes without waiting: an empty send buffer takes them whole, and a full one means no reader."""
        with suppress(OSError):
            conn.sock.send(data)

    def linger(self, conn: BufferedConn) -> None:
        """Close after our last answer: no more writes, and what the client still sends read and dropped."""
        try:
            conn.sock.setblocking(False)
            conn.sock.shutdown(socket.SHUT_WR)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_lingering_readable, conn))
        except (OSError, ValueError):
            self.drop(conn)
            return
        conn.drained = 0
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS

    def on_lingering_readable(self, conn: BufferedConn, _sock: socket.socket) -> None:
        if not conn.open:
            return
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.drained += len(data)
        if not data or conn.drained > LINGER_BYTES:
            self.drop(conn)

    def drop(self, conn: BufferedConn) -> None:
        self.reading.pop(conn, None)
        self.lingering.pop(conn, None)
        with suppress(KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.open = False
        conn.close()
