"""The real app with its store wrapped from outside: each operation waits a set time and is logged with its times.

gunicorn serves `bench.harness.delayed_store:create_app()`, which builds `addon.create_app()` with
`addon.services.open_store` replaced, so the product code knows nothing of it. Read at start:
`BENCH_STORE_DELAY_MS` (default 0) and `BENCH_STORE_LOG`, a file each operation is appended to as a JSON line
(`pid`, `op`, `kind`, `start`, `end`; CLOCK_MONOTONIC seconds, comparable across processes on one machine).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

import addon
import addon.services
from addon.store import Store

_real_open_store = addon.services.open_store


class DelayedStore:
    """A Store whose every operation of `inner` takes at least `delay_seconds` in all, logged with when it ran."""

    def __init__(self, inner: Store, delay_seconds: float, log_path: str | None) -> None:
        self.inner = inner
        self.delay_seconds = delay_seconds
        self._log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115 - open for the app's life
        self._lock = threading.Lock()

    def _timed(self, op: str, kind: str, call: Callable[[], Any]) -> Any:
        start = time.monotonic()
        try:
            return call()
        finally:
            # The delay is the whole operation's time, as Datastore's ~10 ms includes its own work.
            left = self.delay_seconds - (time.monotonic() - start)
            if left > 0:
                time.sleep(left)
            if self._log is not None:
                line = {"pid": os.getpid(), "op": op, "kind": kind, "start": start, "end": time.monotonic()}
                with self._lock:
                    self._log.write(json.dumps(line) + "\n")

    def get(self, kind: type, key: str) -> Any:
        return self._timed("get", kind.__name__, lambda: self.inner.get(kind, key))

    def get_many(self, wanted: Any) -> list[Any]:
        kinds = "+".join(sorted({kind.__name__ for kind, _ in wanted}))
        return self._timed("get_many", kinds, lambda: self.inner.get_many(wanted))

    def put(self, record: Any) -> None:
        self._timed("put", type(record).__name__, lambda: self.inner.put(record))

    def delete(self, kind: type, key: str) -> None:
        self._timed("delete", kind.__name__, lambda: self.inner.delete(kind, key))

    def update(self, kind: type, key: str, change: Callable[[Any], Any]) -> Any:
        return self._timed("update", kind.__name__, lambda: self.inner.update(kind, key, change))

    def with_prefix(self, kind: type, prefix: str, limit: int = 100, after: str = "") -> list[Any]:
        return self._timed("with_prefix", kind.__name__, lambda: self.inner.with_prefix(kind, prefix, limit, after))

    def purge_expired(self, kind: type, limit: int = 500) -> int:
        return self._timed("purge_expired", kind.__name__, lambda: self.inner.purge_expired(kind, limit))

    def ready(self) -> bool:
        return self.inner.ready()

    def close(self) -> None:
        self.inner.close()
        if self._log is not None:
            self._log.close()


def _delayed_open_store(url: str, namespace: str | None = None) -> Store:
    delay = float(os.environ.get("BENCH_STORE_DELAY_MS", "0")) / 1000
    return DelayedStore(_real_open_store(url, namespace), delay, os.environ.get("BENCH_STORE_LOG"))  # type: ignore[return-value]


def create_app() -> Flask:
    addon.services.open_store = _delayed_open_store
    return addon.create_app()
