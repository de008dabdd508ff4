"""Shared fixtures: a fake Google over HTTP, production-mode settings pointed at it, the app and a caller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addon import create_app
from addon.settings import Settings
from tests.datastore_emulator import datastore_emulator as running_datastore_emulator
from tests.fakes.google import FakeGoogle, running_fake_google
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


@pytest.fixture
def settings(google: FakeGoogle, tmp_path: Path) -> Settings:
    """Production settings, with Google's endpoints and certs on the fake."""
    return Settings(
        environment="production",
        base_url=BASE_URL,
        service_account_email=SERVICE_ACCOUNT,
        oauth_client_id=OAUTH_CLIENT_ID,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        store=f"sqlite:///{tmp_path / 'addon.db'}",
        google_certs_url=google.certs_url,
        google_api_endpoint=google.url,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    app.extensions["addon"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def caller(client: FlaskClient, google: FakeGoogle, settings: Settings) -> GoogleCaller:
    return GoogleCaller(client, google, settings)
