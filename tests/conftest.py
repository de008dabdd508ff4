"""Shared fixtures: a fake Google over HTTP, production-mode settings pointed at it, the app and a caller;
and, in a module that says which `meeting_service` it tests, that service's fake, client and provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from addon import create_app
from addon.meetings.http import ServiceClient
from addon.meetings.oauth import OAuthApp
from addon.services import Services
from addon.settings import Settings
from addon.sync import CalendarSyncer
from tests.datastore_emulator import datastore_emulator as running_datastore_emulator
from tests.fakes.credentials import TokenCredentials
from tests.fakes.google import FakeGoogle, running_fake_google
from tests.fakes.secret_manager import FakeSecretManager
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import GoogleCaller
from tests.meeting_services import ALICE, MeetingProvider, MeetingService, ServiceFake
from tests.pauses import Pauses

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
def pauses() -> Pauses:
    """The waits before retries, recorded instead of slept (a stall or a timeout still takes real time)."""
    return Pauses()


@pytest.fixture
def app(settings: Settings, pauses: Pauses) -> Iterator[Flask]:
    app = create_app(settings)
    services: Services = app.extensions["addon"]
    # Google's "slow down" is waited out in milliseconds here, not in seconds.
    services.google.quota_backoff_seconds = 0.01
    services.google.sleep = pauses
    for meeting_client in services.meetings.clients.values():
        meeting_client.sleep = pauses
    yield app
    services.close()


@pytest.fixture
def services(app: Flask) -> Services:
    """The app's outside services, as its requests use them; tests arrange and inspect through them."""
    return app.extensions["addon"]


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


# One meeting service (Zoom or Webex), for a module defining the `meeting_service` it tests ----------


@pytest.fixture
def service_fake(meeting_service: MeetingService, request: pytest.FixtureRequest) -> ServiceFake:
    """The fake of the meeting service under test (the `zoom` or `webex` fixture), emptied."""
    return request.getfixturevalue(meeting_service.name)


@pytest.fixture
def oauth_app(meeting_service: MeetingService, service_fake: ServiceFake) -> OAuthApp:
    return meeting_service.oauth_app(service_fake)


@pytest.fixture
def grant(service_fake: ServiceFake, oauth_app: OAuthApp) -> TokenCredentials:
    """Alice's tokens on the service, renewed as the add-on renews them."""
    return TokenCredentials(oauth_app, service_fake.connect(ALICE))


@pytest.fixture
def service_client(
    meeting_service: MeetingService, service_fake: ServiceFake, pauses: Pauses
) -> Iterator[ServiceClient]:
    client = ServiceClient(
        meeting_service.name, service_fake.api_base, timeout_seconds=0.5, budget_seconds=3, sleep=pauses
    )
    yield client
    client.close()


@pytest.fixture
def provider(
    meeting_service: MeetingService, service_client: ServiceClient, grant: TokenCredentials
) -> MeetingProvider:
    return meeting_service.provider(service_client, grant)
