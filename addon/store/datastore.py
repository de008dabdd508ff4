"""The production store: records as entities in Firestore in Datastore mode."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.api_core import exceptions
from google.api_core.retry import Retry
from google.cloud import datastore
from google.cloud.datastore.query import PropertyFilter

from addon.store.records import Record

R = TypeVar("R", bound=Record)

TRANSACTION_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 1.0
# Datastore's TTL policy deletes entities by this property (index.yaml / README); code checks it too.
EXPIRY_PROPERTY = "expires_at"
NEVER_BEFORE = datetime(1970, 1, 1, tzinfo=UTC)

# The sidebar waits on us: each call gets a short timeout and a few quick retries, not the library's minute.
CALL_LIMITS: dict[str, Any] = {
    "timeout": 5.0,
    "retry": Retry(initial=0.1, maximum=1.0, multiplier=2.0, timeout=8.0),
}


class DatastoreStore:
    """Store adapter on google-cloud-datastore; honours DATASTORE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT."""

    def __init__(self, namespace: str | None = None, project: str | None = None) -> None:
        self._namespace = namespace
        self._project = project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        self._client: datastore.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> datastore.Client:
        # Built on first use, after gunicorn forks: gRPC channels do not survive a fork.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = datastore.Client(project=self._project, namespace=self._namespace)
        return self._client

    def get(self, kind: type[R], key: str) -> R | None:
        return _record(kind, self.client.get(self.client.key(kind.KIND, key), **CALL_LIMITS))

    def get_many(self, wanted: Sequence[tuple[type[Record], str]]) -> list[Record | None]:
        keys = [self.client.key(kind.KIND, key) for kind, key in wanted]
        # One lookup for all; Datastore answers in no particular order, so match the entities by key.
        found = {entity.key.flat_path: entity for entity in self.client.get_multi(keys, **CALL_LIMITS)}
        return [_record(kind, found.get(key.flat_path)) for (kind, _), key in zip(wanted, keys, strict=True)]

    def put(self, record: Record) -> None:
        self.client.put(self._entity(record), **CALL_LIMITS)

    def delete(self, kind: type[Record], key: str) -> None:
        self.client.delete(self.client.key(kind.KIND, key), **CALL_LIMITS)

    def update(self, kind: type[R], key: str, change: Callable[[R | None], R | None]) -> R | None:
        entity_key = self.client.key(kind.KIND, key)
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                with self.client.transaction():
                    current = _record(kind, self.client.get(entity_key, **CALL_LIMITS))
                    changed = change(current)
                    if changed is not None:
                        if changed.KIND != kind.KIND or changed.key != key:
                            raise ValueError("update must keep the record's kind and key")
                        self.client.put(self._entity(changed))
                return changed if changed is not None else current
            except (exceptions.Aborted, exceptions.Conflict):
                # Contention invalidates the whole transaction: read and run it again.
                if attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
                # Full jitter: contenders that all back off equally collide again on every retry.
                time.sleep(random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.05 * 2**attempt)))  # noqa: S311
        raise AssertionError("unreachable")

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
        found = []
        for entity in query.fetch(**CALL_LIMITS):
            record = _record(kind, entity)
            if record is not None:
                found.append(record)
                if len(found) >= limit:
                    break
        return found

    def purge_expired(self, kind: type[Record], limit: int = 500) -> int:
        # expires_at is the one indexed property (the TTL policy uses it too); keys only, nothing is read.
        query = self.client.query(kind=kind.KIND)
        # Null sorts before every date, so records that never expire need the lower bound to stay out.
        query.add_filter(filter=PropertyFilter(EXPIRY_PROPERTY, ">", NEVER_BEFORE))
        query.add_filter(filter=PropertyFilter(EXPIRY_PROPERTY, "<=", datetime.now(UTC)))
        query.keys_only()
        keys = [entity.key for entity in query.fetch(limit=limit, **CALL_LIMITS)]
        if keys:
            self.client.delete_multi(keys, **CALL_LIMITS)
        return len(keys)

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
