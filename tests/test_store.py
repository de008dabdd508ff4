"""The Store contract, run identically against SQLite and the real Datastore emulator."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest

from addon.store import MeetingLink, Store, UserSettings, open_store
from addon.store.records import Record

THREADS = 20


@dataclass(frozen=True)
class Lease(Record):
    """A record that expires: the dataclass field overrides the base `expires_at` property."""

    KIND: ClassVar[str] = "Lease"
    KEY_FIELD: ClassVar[str] = "name"

    name: str
    holder: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Counter(Record):
    """A count that concurrent updates increment."""

    KIND: ClassVar[str] = "Counter"
    KEY_FIELD: ClassVar[str] = "name"

    name: str
    count: int = 0


@dataclass(frozen=True)
class Claim(Record):
    """A slot that the first of many contenders takes."""

    KIND: ClassVar[str] = "Claim"
    KEY_FIELD: ClassVar[str] = "name"

    name: str
    owner: str


@dataclass(frozen=True)
class UserSettingsFromLaterVersion(UserSettings):
    """UserSettings as a later release might store it, with a property this version does not know."""

    calendar_color: str = "tomato"


@pytest.fixture(params=["sqlite", pytest.param("datastore", marks=pytest.mark.datastore)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'addon.db'}")
    else:
        request.getfixturevalue("datastore_emulator")
        opened = open_store("datastore", namespace=f"test-{uuid.uuid4().hex}")
    yield opened
    opened.close()


def user_settings(user_id: str = "sub-1", **fields: Any) -> UserSettings:
    """UserSettings for `user_id`, defaults except for `fields`."""
    return UserSettings(user_id=user_id, **fields)


def in_parallel(work: Callable[[int], object]) -> list[object]:
    """Run work(0..THREADS-1) on THREADS threads released at the same moment."""
    start = threading.Barrier(THREADS)

    def run(index: int) -> object:
        start.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_get_of_an_absent_record_is_none(store: Store) -> None:
    assert store.get(UserSettings, "nobody") is None


@pytest.mark.parametrize(
    "stored",
    [
        UserSettings(
            user_id="sub-ünïcødé-用户",
            provider="webex",
            duration_minutes=45,
            webex_site="zürich-会议.webex.com",
            updated_at=datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        UserSettings(user_id="sub-defaults", webex_site=None, updated_at=None),
    ],
    ids=["every-field-set", "none-values"],
)
def test_put_then_get_round_trips_every_field(store: Store, stored: UserSettings) -> None:
    store.put(stored)

    loaded = store.get(UserSettings, stored.user_id)

    assert loaded == stored
    if stored.updated_at is not None:
        assert loaded is not None and loaded.updated_at is not None
        assert loaded.updated_at.utcoffset() is not None


def test_second_put_replaces_the_first(store: Store) -> None:
    store.put(user_settings(provider="jitsi", webex_site="first.webex.com"))
    store.put(user_settings(provider="webex", webex_site=None))

    assert store.get(UserSettings, "sub-1") == user_settings(provider="webex", webex_site=None)


def test_delete_removes_the_record(store: Store) -> None:
    store.put(user_settings())

    store.delete(UserSettings, "sub-1")

    assert store.get(UserSettings, "sub-1") is None


def test_deleting_an_absent_record_is_not_an_error(store: Store) -> None:
    store.delete(UserSettings, "nobody")

    assert store.get(UserSettings, "nobody") is None


def test_records_of_different_kinds_and_keys_do_not_collide(store: Store) -> None:
    store.put(user_settings("same", provider="webex"))
    store.put(user_settings("other", provider="meet"))
    store.put(Lease("same", holder="worker-1"))

    store.delete(UserSettings, "other")

    assert store.get(UserSettings, "same") == user_settings("same", provider="webex")
    assert store.get(Lease, "same") == Lease("same", holder="worker-1")
    assert store.get(UserSettings, "other") is None


def test_an_expired_record_is_never_returned(store: Store) -> None:
    store.put(Lease("job", holder="worker-1", expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    assert store.get(Lease, "job") is None


def test_update_sees_an_expired_record_as_absent(store: Store) -> None:
    store.put(Lease("job", holder="worker-1", expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    seen: list[Lease | None] = []
    renewed = Lease("job", holder="worker-2", expires_at=datetime.now(UTC) + timedelta(minutes=5))

    def take_over(current: Lease | None) -> Lease:
        seen.append(current)
        return renewed

    result = store.update(Lease, "job", take_over)

    assert seen == [None]
    assert result == renewed
    assert store.get(Lease, "job") == renewed


def test_a_record_with_a_future_expiry_is_returned(store: Store) -> None:
    lease = Lease("job", holder="worker-1", expires_at=datetime.now(UTC) + timedelta(minutes=5))
    store.put(lease)

    assert store.get(Lease, "job") == lease


def test_update_creates_an_absent_record(store: Store) -> None:
    result = store.update(UserSettings, "sub-1", lambda current: current or user_settings(provider="webex"))

    assert result == user_settings(provider="webex")
    assert store.get(UserSettings, "sub-1") == user_settings(provider="webex")


def test_update_changes_a_present_record(store: Store) -> None:
    store.put(user_settings(duration_minutes=30))

    def lengthen(current: UserSettings | None) -> UserSettings:
        assert current is not None
        return replace(current, duration_minutes=current.duration_minutes + 15)

    result = store.update(UserSettings, "sub-1", lengthen)

    assert result == user_settings(duration_minutes=45)
    assert store.get(UserSettings, "sub-1") == user_settings(duration_minutes=45)


def test_update_returning_none_leaves_the_record_and_returns_it(store: Store) -> None:
    store.put(user_settings(provider="webex"))

    result = store.update(UserSettings, "sub-1", lambda current: None)

    assert result == user_settings(provider="webex")
    assert store.get(UserSettings, "sub-1") == user_settings(provider="webex")


def test_update_returning_none_for_an_absent_record_stores_nothing(store: Store) -> None:
    assert store.update(UserSettings, "sub-1", lambda current: None) is None
    assert store.get(UserSettings, "sub-1") is None


def test_update_that_raises_leaves_the_store_unchanged(store: Store) -> None:
    store.put(user_settings(provider="webex"))

    def fail(current: UserSettings | None) -> UserSettings:
        raise LookupError("no such provider")

    with pytest.raises(LookupError, match="no such provider"):
        store.update(UserSettings, "sub-1", fail)

    assert store.get(UserSettings, "sub-1") == user_settings(provider="webex")


def test_update_that_changes_the_key_raises_and_writes_nothing(store: Store) -> None:
    store.put(user_settings("sub-1", provider="webex"))

    with pytest.raises(ValueError, match="kind and key"):
        store.update(UserSettings, "sub-1", lambda current: user_settings("sub-2", provider="meet"))

    assert store.get(UserSettings, "sub-1") == user_settings("sub-1", provider="webex")
    assert store.get(UserSettings, "sub-2") is None


def test_concurrent_updates_all_land(store: Store) -> None:
    def increment(index: int) -> object:
        return store.update(Counter, "hits", lambda current: Counter("hits", (current.count if current else 0) + 1))

    in_parallel(increment)

    assert store.get(Counter, "hits") == Counter("hits", THREADS)


def test_concurrent_create_if_absent_creates_once(store: Store) -> None:
    def claim(index: int) -> object:
        return store.update(Claim, "slot", lambda current: None if current else Claim("slot", owner=f"thread-{index}"))

    results = in_parallel(claim)

    stored = store.get(Claim, "slot")
    assert stored is not None
    assert results == [stored] * THREADS


def test_a_record_with_a_property_this_version_does_not_know_still_loads(store: Store) -> None:
    store.put(UserSettingsFromLaterVersion(user_id="sub-1", provider="webex", calendar_color="sage"))

    assert store.get(UserSettings, "sub-1") == user_settings(provider="webex")


def test_records_are_listed_by_key_prefix_in_key_order_without_expired_ones(store: Store) -> None:
    now = datetime.now(UTC)
    for name, expires in [
        ("ann@corp.example/2026-01-02", None),
        ("ann@corp.example/2026-01-01", None),
        ("ann@corp.example/2025-12-31", now - timedelta(seconds=1)),
        ("ann@corp.example.evil/2026-01-01", None),
        ("bob@corp.example/2026-01-01", None),
    ]:
        store.put(Lease(name=name, holder="x", expires_at=expires))

    listed = [lease.name for lease in store.with_prefix(Lease, "ann@corp.example/")]

    assert listed == ["ann@corp.example/2026-01-01", "ann@corp.example/2026-01-02"]
    assert [lease.name for lease in store.with_prefix(Lease, "ann@corp.example/", limit=1)] == [listed[0]]
    assert store.with_prefix(Lease, "nobody/") == []


def test_listing_pages_on_after_the_last_key_seen(store: Store) -> None:
    for name in ("c", "a", "d", "b", "e"):
        store.put(Lease(name=name))

    first = store.with_prefix(Lease, "", limit=2)
    second = store.with_prefix(Lease, "", limit=2, after=first[-1].name)
    third = store.with_prefix(Lease, "", limit=2, after=second[-1].name)

    assert [lease.name for lease in (*first, *second, *third)] == ["a", "b", "c", "d", "e"]
    assert store.with_prefix(Lease, "", after="e") == []


def test_purge_deletes_only_expired_records_of_the_kind(store: Store) -> None:
    now = datetime.now(UTC)
    store.put(Lease(name="old-1", expires_at=now - timedelta(days=2)))
    store.put(Lease(name="old-2", expires_at=now - timedelta(seconds=1)))
    store.put(Lease(name="current", expires_at=now + timedelta(days=1)))
    store.put(Lease(name="forever"))
    store.put(Counter(name="old-1"))

    assert store.purge_expired(Lease, limit=1) == 1
    assert store.purge_expired(Lease) == 1
    assert store.purge_expired(Lease) == 0

    assert [lease.name for lease in store.with_prefix(Lease, "")] == ["current", "forever"]
    assert store.get(Counter, "old-1") == Counter(name="old-1")


def test_get_many_answers_in_the_order_asked_across_kinds(store: Store) -> None:
    store.put(user_settings(provider="zoom"))
    store.put(MeetingLink(link_id="cal/evt", user_id="sub-1", provider="zoom"))
    store.put(
        MeetingLink(
            link_id="cal/old", user_id="sub-1", provider="zoom", expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
    )

    found = store.get_many(
        [(MeetingLink, "cal/evt"), (UserSettings, "absent"), (MeetingLink, "cal/old"), (UserSettings, "sub-1")]
    )

    assert found == [
        MeetingLink(link_id="cal/evt", user_id="sub-1", provider="zoom"),
        None,
        None,  # expired
        user_settings(provider="zoom"),
    ]
    assert store.get_many([]) == []
