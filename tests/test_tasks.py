"""The periodic task and push-notification endpoints: only their rightful callers get in; the purge purges."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addon import create_app
from addon.google.delegation import OfflineAccess
from addon.services import Services
from addon.settings import Settings
from addon.store import AuditRecord, CalendarSync, MeetingLink, OAuthState, WatchChannel
from addon.sync import token_hash
from tests.fakes.google import FakeGoogle
from tests.fakes.identity import system_claims
from tests.google_caller import ALICE

SCHEDULER = "scheduler@test-project.iam.gserviceaccount.com"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, cron_service_account=SCHEDULER)


def scheduler_token(google: FakeGoogle, settings: Settings, path: str, **overrides: object) -> str:
    """What Cloud Scheduler sends: a Google-signed OIDC token for the task's URL, as its service account."""
    return google.key.sign(system_claims(settings.base_url + path, SCHEDULER, **overrides))


def run_task(client: FlaskClient, google: FakeGoogle, settings: Settings, path: str) -> dict:
    response = client.post(path, headers={"Authorization": f"Bearer {scheduler_token(google, settings, path)}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_tasks_called_by_the_scheduler_do_their_work(
    app: Flask, google: FakeGoogle, services: Services, settings: Settings, tmp_path: Path
) -> None:
    """On an install with background sync: a channel is opened for a calendar that has none, every calendar
    is read, and what has outlived its retention goes."""
    key_file = google.service_account_key_file(tmp_path)
    google.state.delegation_users = {ALICE.email}
    services.offline = OfflineAccess(json.loads(key_file.read_text()))
    sync_id = CalendarSync.id_for(ALICE.sub, ALICE.email)
    services.store.put(
        CalendarSync(sync_id=sync_id, user_id=ALICE.sub, user_email=ALICE.email, calendar_id=ALICE.email)
    )
    gone = datetime.now(UTC) - timedelta(days=1)
    services.store.put(MeetingLink(link_id="cal/old", user_id="u", provider="jitsi", expires_at=gone))
    client = app.test_client()

    renewed = run_task(client, google, settings, "/tasks/renew-channels")
    after_renewal = services.store.get(CalendarSync, sync_id)
    reconciled = run_task(client, google, settings, "/tasks/reconcile")
    after_reconcile = services.store.get(CalendarSync, sync_id)
    purged = run_task(client, google, settings, "/tasks/purge")

    assert renewed == {"renewed": 1}
    (channel,) = google.channels_of(ALICE.email)
    assert after_renewal is not None and after_renewal.channel_id == channel.channel_id
    assert after_renewal.sync_token is None
    assert reconciled == {"synced": 1, "deleted": 0, "left_behind_deleted": 0}
    assert after_reconcile is not None and after_reconcile.sync_token  # the calendar was read
    assert purged["purged"]["MeetingLink"] == 1 and services.store.get(MeetingLink, "cal/old") is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "someone-else@test-project.iam.gserviceaccount.com"},
        {"aud": "https://addon.test/tasks/somewhere-else"},
        {"email_verified": False},
        {"exp": 1_000_000},
    ],
    ids=["another account", "another audience", "unverified", "expired"],
)
def test_a_task_refuses_a_token_that_is_not_the_schedulers(
    client: FlaskClient, google: FakeGoogle, settings: Settings, overrides: dict
) -> None:
    token = scheduler_token(google, settings, "/tasks/purge", **overrides)

    response = client.post("/tasks/purge", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.get_json() == {"error": "unauthorized"}


def test_the_app_engine_cron_header_counts_only_on_app_engine(client: FlaskClient, settings: Settings) -> None:
    # Elsewhere anyone can send the header; only App Engine strips it from outside requests.
    assert client.get("/tasks/purge", headers={"X-Appengine-Cron": "true"}).status_code == 401
    assert client.get("/tasks/purge").status_code == 401

    on_app_engine = create_app(dataclasses.replace(settings, app_engine=True))
    try:
        answer = on_app_engine.test_client().get("/tasks/purge", headers={"X-Appengine-Cron": "true"})
    finally:
        on_app_engine.extensions["addon"].close()
    assert answer.status_code == 200


def test_the_purge_deletes_what_outlived_its_retention_and_keeps_the_rest(
    client: FlaskClient, google: FakeGoogle, settings: Settings, services: Services
) -> None:
    now = datetime.now(UTC)
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    store = services.store
    store.put(MeetingLink(link_id="cal/old", user_id="u", provider="jitsi", expires_at=past))
    store.put(MeetingLink(link_id="cal/current", user_id="u", provider="jitsi", expires_at=future))
    store.put(AuditRecord("a@x/1", "a@x", "u", "create", "jitsi", "m", "cal/old", "ok", past, expires_at=past))
    store.put(OAuthState(state_id="s", user_id="u", provider="zoom", expires_at=past))
    token = scheduler_token(google, settings, "/tasks/purge")

    response = client.post("/tasks/purge", headers={"Authorization": f"Bearer {token}"})

    assert response.get_json()["purged"] == {
        "MeetingLink": 1,
        "AuditRecord": 1,
        "OAuthState": 1,
        "WatchChannel": 0,
        "PendingDeletion": 0,
        "PendingCreate": 0,
    }
    assert store.get(MeetingLink, "cal/current") is not None
    assert [link.link_id for link in store.with_prefix(MeetingLink, "cal/")] == ["cal/current"]


# Push notifications -------------------------------------------------------------------------


def watched_calendar(services: Services, secret: str = "channel-secret") -> WatchChannel:
    sync_id = CalendarSync.id_for("u", "alice@corp.example")
    services.store.put(CalendarSync(sync_id=sync_id, user_id="u", user_email="alice@corp.example", calendar_id="c"))
    channel = WatchChannel(
        channel_id="chan-1",
        sync_id=sync_id,
        resource_id="res-1",
        token_hash=token_hash(secret),
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    services.store.put(channel)
    return channel


def notify(client: FlaskClient, **headers: str) -> int:
    sent = {
        "X-Goog-Channel-ID": "chan-1",
        "X-Goog-Channel-Token": "channel-secret",
        "X-Goog-Resource-ID": "res-1",
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": "7",
        **headers,
    }
    return client.post("/hooks/calendar", headers={k: v for k, v in sent.items() if v}).status_code


def test_a_notification_with_its_channels_token_is_acknowledged(client: FlaskClient, services: Services) -> None:
    watched_calendar(services)

    assert notify(client) == 200
    assert notify(client, **{"X-Goog-Resource-State": "sync", "X-Goog-Message-Number": "1"}) == 200


def test_a_new_channels_first_message_is_acknowledged_even_before_the_channel_is_stored(
    client: FlaskClient, services: Services
) -> None:
    # Calendar may send "sync" before answering the watch call that creates the channel.
    assert notify(client, **{"X-Goog-Channel-ID": "chan-new", "X-Goog-Resource-State": "sync"}) == 200
    assert notify(client, **{"X-Goog-Channel-ID": "chan-new", "X-Goog-Resource-State": "exists"}) == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Goog-Channel-Token": "guessed"},
        {"X-Goog-Channel-Token": ""},
        {"X-Goog-Channel-ID": "chan-unknown"},
        {"X-Goog-Resource-ID": "res-other"},
    ],
    ids=["wrong token", "no token", "unknown channel", "other resource"],
)
def test_a_forged_notification_is_refused(client: FlaskClient, services: Services, headers: dict) -> None:
    watched_calendar(services)

    assert notify(client, **headers) == 401


def test_a_notification_for_an_expired_channel_is_refused(client: FlaskClient, services: Services) -> None:
    channel = watched_calendar(services)
    services.store.put(dataclasses.replace(channel, expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    assert notify(client) == 401
