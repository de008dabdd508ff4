"""The production store: records as entities in Firestore in Datastore mode."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import TypeVar

from google.api_core import exceptions
from google.api_core.retry import Retry
from google.auth import exceptions as auth_exceptions
from google.cloud import datastore
from google.cloud.datastore.query import PropertyFilter

from addon.store.availability import CALL_BUDGET_SECONDS, CircuitBreaker, StoreUnavailable
from addon.store.records import Record

R = TypeVar("R", bound=Record)
T = TypeVar("T")

TRANSACTION_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 1.0
# Datastore's TTL policy deletes entities by this property (index.yaml / README); code checks it too.
EXPIRY_PROPERTY = "expires_at"
NEVER_BEFORE = datetime(1970, 1, 1, tzinfo=UTC)

# The sidebar waits on us: a call's tries share CALL_BUDGET_SECONDS (availability.py), not the library's minute.
# Each try waits at most this long for an answer, and one starts only while MIN_TRY_SECONDS of the budget is left.
TRY_TIMEOUT_SECONDS = 2.0
MIN_TRY_SECONDS = 0.25
FIRST_PAUSE_SECONDS = 0.1
MAX_PAUSE_SECONDS = 0.8
# Our loop makes the tries: the library's own retry counts its timeout per try, and restarts it when less than a
# second is left, so a call could outlast any budget.
ONE_TRY = Retry(predicate=lambda _error: False)
# No answer this time; a later try may get one (what Datastore's error guide says to retry, with backoff).
UNANSWERED: tuple[type[Exception], ...] = (
    exceptions.ServiceUnavailable,
    exceptions.DeadlineExceeded,
    exceptions.InternalServerError,
    exceptions.TooManyRequests,
    # The token for the call could not be fetched (the metadata server did not answer).
    auth_exceptions.TransportError,
)
# The library's own retries ran out (none are asked for; kept for calls that use its defaults).
GAVE_UP: tuple[type[Exception], ...] = (exceptions.RetryError,)
# Readiness looks this up; nothing is ever stored under it.
READINESS_KIND = "Readiness"


class DatastoreStore:
    """Store adapter on google-cloud-datastore; honours DATASTORE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT."""

    def __init__(self, namespace: str | None = None, project: str | None = None) -> None:
        self._namespace = namespace
        self._project = project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        self._client: datastore.Client | None = None
        self._lock = threading.Lock()
        self.breaker = CircuitBreaker()

    @property
    def client(self) -> datastore.Client:
        # Built on first use, after gunicorn forks: gRPC channels do not survive a fork.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = datastore.Client(project=self._project, namespace=self._namespace)
        return self._client

    def get(self, kind: type[R], key: str) -> R | None:
        key_ = self.client.key(kind.KIND, key)
        return _record(kind, self._call(lambda timeout: self.client.get(key_, retry=ONE_TRY, timeout=timeout)))

    def get_many(self, wanted: Sequence[tuple[type[Record], str]]) -> list[Record | None]:
        keys = [self.client.key(kind.KIND, key) for kind, key in wanted]
        entities = self._call(lambda timeout: self.client.get_multi(keys, retry=ONE_TRY, timeout=timeout))
        # One lookup for all; Datastore answers in no particular order, so match the entities by key.
        found = {entity.key.flat_path: entity for entity in entities}
        return [_record(kind, found.get(key.flat_path)) for (kind, _), key in zip(wanted, keys, strict=True)]

    def put(self, record: Record) -> None:
        entity = self._entity(record)
        self._call(lambda timeout: self.client.put(entity, retry=ONE_TRY, timeout=timeout))

    def delete(self, kind: type[Record], key: str) -> None:
        key_ = self.client.key(kind.KIND, key)
        self._call(lambda timeout: self.client.delete(key_, retry=ONE_TRY, timeout=timeout))

    def update(self, kind: type[R], key: str, change: Callable[[R | None], R | None]) -> R | None:
        def contended(timeout: float) -> R | None:
            for attempt in range(TRANSACTION_ATTEMPTS):
                try:
                    return self._transaction(kind, key, change, timeout)
                except (exceptions.Aborted, exceptions.Conflict):
                    # Contention invalidates the whole transaction: read and run it again.
                    if attempt == TRANSACTION_ATTEMPTS - 1:
                        raise
                    # Full jitter: contenders that all back off equally collide again on every retry.
                    time.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.05 * 2**attempt)))  # noqa: S311
            raise AssertionError("unreachable")

        return self._call(contended)

    def _transaction(self, kind: type[R], key: str, change: Callable[[R | None], R | None], timeout: float) -> R | None:
        entity_key = self.client.key(kind.KIND, key)
        transaction = self.client.transaction()
        transaction.begin(retry=ONE_TRY, timeout=timeout)
        try:
            current = _record(
                kind, self.client.get(entity_key, transaction=transaction, retry=ONE_TRY, timeout=timeout)
            )
            changed = change(current)
            if changed is not None:
                if changed.KIND != kind.KIND or changed.key != key:
                    raise ValueError("update must keep the record's kind and key")
                transaction.put(self._entity(changed))
        except UNANSWERED:
            # Not waited on again for a rollback: the transaction expires on its own.
            raise
        except BaseException:
            # Releases the read's lock at once.
            with suppress(exceptions.GoogleAPIError, auth_exceptions.TransportError):
                transaction.rollback(retry=ONE_TRY, timeout=timeout)
            raise
        try:
            transaction.commit(retry=ONE_TRY, timeout=timeout)
        except UNANSWERED as error:
            # The commit may have landed: running the change again could apply it twice.
            raise StoreUnavailable(f"Datastore did not confirm a commit: {_said(error)}") from error
        return changed if changed is not None else current

    def with_prefix(self, kind: type[R], prefix: str, limit: int = 100, after: str = "") -> list[R]:
        # A range on the key uses Datastore's built-in key index; the properties stay unindexed.
        query = self.client.query(kind=kind.KIND)
        # A key name cannot be empty, so "" (no prefix, no page yet) adds no lower bound.
        if after and after >= prefix:
            query.add_filter(filter=PropertyFilter("__key__", ">", self.client.key(kind.KIND, after)))
        elif prefix:
            query.add_filter(filter=PropertyFilter("__key__", ">=", self.client.key(kind.KIND, prefix)))
        query.add_filter(filter=PropertyFilter("__key__", "<", self.client.key(kind.KIND, prefix + "\U0010ffff")))
        query.order = ["__key__"]

        def page(timeout: float) -> list[R]:
            found = []
            for entity in query.fetch(retry=ONE_TRY, timeout=timeout):
                record = _record(kind, entity)
                if record is not None:
                    found.append(record)
                    if len(found) >= limit:
                        break
            return found

        return self._call(page)

    def purge_expired(self, kind: type[Record], limit: int = 500) -> int:
        # expires_at is the one indexed property (the TTL policy uses it too); keys only, nothing is read.
        query = self.client.query(kind=kind.KIND)
        # Null sorts before every date, so records that never expire need the lower bound to stay out.
        query.add_filter(filter=PropertyFilter(EXPIRY_PROPERTY, ">", NEVER_BEFORE))
        query.add_filter(filter=PropertyFilter(EXPIRY_PROPERTY, "<=", datetime.now(UTC)))
        query.keys_only()

        def purge(timeout: float) -> int:
            keys = [entity.key for entity in query.fetch(limit=limit, retry=ONE_TRY, timeout=timeout)]
            if keys:
                self.client.delete_multi(keys, retry=ONE_TRY, timeout=timeout)
            return len(keys)

        return self._call(purge)

    def ready(self) -> bool:
        """Whether the store answers: from its recent calls, else one lookup of a key never written."""
        probe = self.client.key(READINESS_KIND, "probe")
        return self.breaker.ready(
            lambda: self._call(lambda timeout: self.client.get(probe, retry=ONE_TRY, timeout=timeout))
        )

    def _call(self, operation: Callable[[float], T]) -> T:
        """Run `operation(timeout)`, trying again while the store does not answer, within CALL_BUDGET_SECONDS."""
        self.breaker.check()
        deadline = time.monotonic() + CALL_BUDGET_SECONDS
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                result = operation(min(TRY_TIMEOUT_SECONDS, deadline - time.monotonic()))
            except UNANSWERED as error:
                wait = random.uniform(pause / 2, pause)  # noqa: S311 - jitter, not secrecy
                if time.monotonic() + wait + MIN_TRY_SECONDS > deadline:
                    self.breaker.failed()
                    raise StoreUnavailable(f"Datastore did not answer: {_said(error)}") from error
                time.sleep(wait)
                pause = min(MAX_PAUSE_SECONDS, pause * 2)
                continue
            except GAVE_UP as error:
                self.breaker.failed()
                raise StoreUnavailable(f"Datastore did not answer: {_said(error)}") from error
            except StoreUnavailable:
                self.breaker.failed()
                raise
            except exceptions.GoogleAPIError:
                # It answered, with a refusal or a conflict.
                self.breaker.succeeded()
                raise
            except BaseException:
                # The caller's own code, or the credentials, failed: that says nothing about the store.
                self.breaker.settled()
                raise
            self.breaker.succeeded()
            return result

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _entity(self, record: Record) -> datastore.Entity:
        properties = record.properties()
        entity = datastore.Entity(
            self.client.key(record.KIND, record.key),
            exclude_from_indexes=tuple(name for name in properties if name != EXPIRY_PROPERTY),
        )
        entity.update({name: list(v) if isinstance(v, tuple) else v for name, v in properties.items()})
        if record.expires_at is not None:
            entity[EXPIRY_PROPERTY] = record.expires_at
        return entity


def _record(kind: type[R], entity: datastore.Entity | None) -> R | None:
    if entity is None:
        return None
    expires_at = entity.get(EXPIRY_PROPERTY)
    if isinstance(expires_at, datetime) and expires_at <= datetime.now(UTC):
        return None
    return kind.from_properties(dict(entity))


def _said(error: BaseException) -> str:
    """The error's kind and first line, for a log line (a gRPC message can run to many lines)."""
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0][:200]}"
