"""A fake from tests/fakes served from a child process, arranged there and asked questions over a pipe.

Its threaded server then does not compete for the load generator's GIL; it still shares the CPUs.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bench.harness.tls import server_context

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from tests.fakes.http_server import ServedFake

START_SECONDS = 30.0
STOP_SECONDS = 5.0

Fake = TypeVar("Fake", bound="ServedFake")
Answer = TypeVar("Answer")


def _serve(
    conn: Connection, fake_type: type[Fake], arrange: Callable[[Fake], Any], tls_certificate: Path | None
) -> None:
    """Child process: start the fake (over https when given a certificate), send what `arrange` returns, answer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this stops
    fake = fake_type()
    if tls_certificate is not None:
        fake.use_tls(server_context(tls_certificate))  # type: ignore[attr-defined]
    fake.start()
    try:
        conn.send(arrange(fake))
        while (question := conn.recv()) is not None:
            conn.send(question(fake))
    except EOFError:
        pass  # the parent went away
    finally:
        fake.stop()


class FakeProcess(Generic[Fake]):
    """The parent's handle on a fake in its child process: what arranging it returned, its pid, its answers."""

    def __init__(
        self, fake_type: type[Fake], arrange: Callable[[Fake], Any], tls_certificate: Path | None = None
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_serve,
            args=(child_conn, fake_type, arrange, tls_certificate),
            name=f"{fake_type.__name__}-process",
            daemon=True,
        )
        self.process.start()
        child_conn.close()
        if not self._conn.poll(START_SECONDS):
            self.stop()
            raise RuntimeError(f"{fake_type.__name__} did not start in its process")
        self.arranged: Any = self._conn.recv()

    @property
    def pid(self) -> int:
        return self.process.pid  # type: ignore[return-value]

    def ask(self, question: Callable[[Fake], Answer]) -> Answer:
        """Run `question` (a module-level function, so it can be pickled) on the fake; return its answer."""
        self._conn.send(question)
        return self._conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            with suppress(OSError):
                self._conn.send(None)
            self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._conn.close()


@contextmanager
def fake_in_process(
    fake_type: type[Fake], arrange: Callable[[Fake], Any], tls_certificate: Path | None = None
) -> Iterator[FakeProcess[Fake]]:
    """A `FakeProcess`, stopped afterwards; `arrange` and the questions must be module-level functions."""
    fake = FakeProcess(fake_type, arrange, tls_certificate)
    try:
        yield fake
    finally:
        fake.stop()
