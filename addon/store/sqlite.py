"""The embedded store for one machine: records as JSON rows in a SQLite file."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from addon.store.availability import CALL_BUDGET_SECONDS, CircuitBreaker, StoreUnavailable
from addon.store.records import Record

R = TypeVar("R", bound=Record)
T = TypeVar("T")

# Primary result codes (an error's extended code holds one in its low byte) of a database that does not answer:
# another connection holds the lock past the budget, or the disk failed. Others (a full disk, a read-only file,
# a wrong path) need someone to act, and are raised as they are.
UNANSWERED_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR})

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    properties TEXT NOT NULL,
    expires_at REAL,
    PRIMARY KEY (kind, key)
)
"""


class SqliteStore:
    """Store adapter on SQLite; one connection per thread, writers serialized by the database."""

    def __init__(self, path: str, busy_timeout_seconds: float = CALL_BUDGET_SECONDS) -> None:
        """`busy_timeout_seconds`: how long a call waits for another connection's lock before giving up."""
        self._path = path
        self._busy_timeout = busy_timeout_seconds
        self.breaker = CircuitBreaker()
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._connection() as db:
            db.execute(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def get(self, kind: type[R], key: str) -> R | None:
        row = self._call(
            lambda db: db.execute(
                "SELECT properties, expires_at FROM records WHERE kind = ? AND key = ?", (kind.KIND, key)
            ).fetchone()
        )
        return _record(kind, row)

    def get_many(self, wanted: Sequence[tuple[type[Record], str]]) -> list[Record | None]:
        if not wanted:
            return []
        pairs = " OR ".join("(kind = ? AND key = ?)" for _ in wanted)
        params = [value for kind, key in wanted for value in (kind.KIND, key)]
        rows = self._call(
            lambda db: db.execute(
                f"SELECT kind, key, properties, expires_at FROM records WHERE {pairs}",  # noqa: S608 - placeholders only
                params,
            ).fetchall()
        )
        found = {(kind, key): (properties, expires_at) for kind, key, properties, expires_at in rows}
        return [_record(kind, found.get((kind.KIND, key))) for kind, key in wanted]

    def put(self, record: Record) -> None:
        row = _row(record)
        self._call(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO records (kind, key, properties, expires_at) VALUES (?, ?, ?, ?)", row
            )
        )

    def delete(self, kind: type[Record], key: str) -> None:
        self._call(lambda db: db.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind.KIND, key)))

    def update(self, kind: type[R], key: str, change: Callable[[R | None], R | None]) -> R | None:
        def transact(db: sqlite3.Connection) -> R | None:
            # IMMEDIATE takes the write lock before reading, so concurrent updates serialize.
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT properties, expires_at FROM records WHERE kind = ? AND key = ?", (kind.KIND, key)
                ).fetchone()
                current = _record(kind, row)
                changed = change(current)
                if changed is not None:
                    if changed.KIND != kind.KIND or changed.key != key:
                        raise ValueError("update must keep the record's kind and key")
                    db.execute(
                        "INSERT OR REPLACE INTO records (kind, key, properties, expires_at) VALUES (?, ?, ?, ?)",
                        _row(changed),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return changed if changed is not None else current

        return self._call(transact)

    def with_prefix(self, kind: type[R], prefix: str, limit: int = 100, after: str = "") -> list[R]:
        now = datetime.now(UTC).timestamp()
        rows = self._call(
            lambda db: db.execute(
                "SELECT properties, expires_at FROM records WHERE kind = ? AND key >= ? AND key > ? AND key < ?"
                " AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?",
                (kind.KIND, prefix, after, prefix + "\U0010ffff", now, limit),
            ).fetchall()
        )
        return [record for record in (_record(kind, row) for row in rows) if record is not None]

    def purge_expired(self, kind: type[Record], limit: int = 500) -> int:
        now = datetime.now(UTC).timestamp()
        cursor = self._call(
            lambda db: db.execute(
                "DELETE FROM records WHERE rowid IN "
                "(SELECT rowid FROM records WHERE kind = ? AND expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)",
                (kind.KIND, now, limit),
            )
        )
        return cursor.rowcount

    def ready(self) -> bool:
        """Whether the database answers: from its recent calls, else one read of the table."""
        return self.breaker.ready(lambda: self._call(lambda db: db.execute("SELECT 1 FROM records LIMIT 1").fetchall()))

    def _call(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run `operation` on this thread's connection; a lock held past the budget or a failed disk is
        StoreUnavailable."""
        self.breaker.check()
        try:
            result = operation(self._connection())
        except sqlite3.Error as error:
            # Errors the sqlite3 module raises itself carry no code.
            if (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF in UNANSWERED_CODES:
                self.breaker.failed()
                raise StoreUnavailable(f"SQLite did not answer: {type(error).__name__}: {error}") from error
            self.breaker.succeeded()
            raise
        except BaseException:
            self.breaker.settled()
            raise
        self.breaker.succeeded()
        return result

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()


def _row(record: Record) -> tuple[str, str, str, float | None]:
    expires_at = record.expires_at
    properties = json.dumps(record.properties(), default=_encode, ensure_ascii=False)
    return record.KIND, record.key, properties, expires_at.timestamp() if expires_at else None


def _record(kind: type[R], row: tuple[str, float | None] | None) -> R | None:
    if row is None:
        return None
    properties, expires_at = row
    if expires_at is not None and expires_at <= datetime.now(UTC).timestamp():
        return None
    return kind.from_properties(json.loads(properties, object_hook=_decode))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.astimezone(UTC).isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if obj.keys() == {"$datetime"}:
        return datetime.fromisoformat(obj["$datetime"])
    if obj.keys() == {"$bytes"}:
        return base64.b64decode(obj["$bytes"])
    return obj
