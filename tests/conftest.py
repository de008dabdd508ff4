"""Shared fixtures: a fake Google over HTTP, production-mode settings pointed at it, the app and a caller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addon import create_app
from addon.settings import Settings
from addon.sync import CalendarSyncer
from tests.datastore_emulator import datastore_emulator as running_datastore_emulator
from tests.fakes.google import FakeGoogle, running_fake_google
from tests.fakes.secret_manager import FakeSecretManager
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import GoogleCaller

BASE_URL = "https://addon.test"
SERVICE_ACCOUNT = "service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
OAUTH_CLIENT_ID = "123456789-abc.apps.googleusercontent.com"


@pytest.fixture(scope="session")
def datastore_emulator() -> Iterator[str]:
    """The real Datastore emulator, started once for the session (tests marked `datastore` use it)."""
    with running_datastore_emulator() as host:
        yield host


@pytest.fixture(scope="session")
def fake_google_server() -> Iterator[FakeGoogle]:
    with running_fake_google() as fake:
        yield fake


@pytest.fixture
def google(fake_google_server: FakeGoogle) -> Iterator[FakeGoogle]:
    """The fake Google, emptied before each test."""
    fake_google_server.reset()
    yield fake_google_server


@pytest.fixture(scope="session")
def secret_manager_server(fake_google_server: FakeGoogle) -> Iterator[FakeSecretManager]:
    fake = FakeSecretManager(fake_google_server).start()
    yield fake
    fake.stop()


@pytest.fixture
def secret_manager(secret_manager_server: FakeSecretManager, google: FakeGoogle) -> FakeSecretManager:
    """The fake Secret Manager, emptied before each test; it trusts tokens of the (emptied) fake Google."""
    secret_manager_server.reset()
    return secret_manager_server


@pytest.fixture(scope="session")
def zoom_server() -> Iterator[FakeZoom]:
    fake = FakeZoom().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def webex_server() -> Iterator[FakeWebex]:
    fake = FakeWebex().start()
    yield fake
    fake.stop()


@pytest.fixture
def zoom(zoom_server: FakeZoom) -> FakeZoom:
    """The fake Zoom, emptied before each test."""
    zoom_server.reset()
    return zoom_server


@pytest.fixture
def webex(webex_server: FakeWebex) -> FakeWebex:
    """The fake Webex, emptied before each test."""
    webex_server.reset()
    return webex_server


@pytest.fixture
def settings(google: FakeGoogle, zoom: FakeZoom, webex: FakeWebex, tmp_path: Path) -> Settings:
    """Production settings, with Google, Zoom and Webex all on their fakes."""
    return Settings(
        environment="production",
        base_url=BASE_URL,
        service_account_email=SERVICE_ACCOUNT,
        oauth_client_id=OAUTH_CLIENT_ID,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        store=f"sqlite:///{tmp_path / 'addon.db'}",
        google_certs_url=google.certs_url,
        google_api_endpoint=google.url,
        zoom_api_base=zoom.api_base,
        zoom_oauth_base=zoom.oauth_base,
        zoom_client_id=zoom.client_id,
        zoom_client_secret=zoom.client_secret,
        webex_api_base=webex.api_base,
        webex_client_id=webex.client_id,
        webex_client_secret=webex.client_secret,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    # Google's "slow down" is waited out in milliseconds here, not in seconds.
    app.extensions["addon"].google.quota_backoff_seconds = 0.01
    yield app
    app.extensions["addon"].close()


@pytest.fixture
def syncer(app: Flask) -> CalendarSyncer:
    """The app's calendar syncer (what push notifications, the cron tasks and the user's requests drive)."""
    return app.extensions["sync"]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def caller(client: FlaskClient, google: FakeGoogle, settings: Settings) -> GoogleCaller:
    return GoogleCaller(client, google, settings)
