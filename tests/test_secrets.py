"""Secrets in Secret Manager: read once at start as the runtime identity, failures in one line, keys rotated."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask

from addon import create_app
from addon.crypto import Sealed, SealError, SecretBox
from addon.meetings.oauth import TokenSet
from addon.services import Services
from addon.settings import SECRET_SETTINGS, Settings, SettingsError
from addon.store import ProviderGrant, UserSettings
from tests.conftest import BASE_URL, OAUTH_CLIENT_ID, SERVICE_ACCOUNT
from tests.fakes.google import FakeGoogle
from tests.fakes.secret_manager import PROJECT_NUMBER, FakeSecretManager, version_name
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom
from tests.google_caller import ALICE, GoogleCaller
from tests.live_server import GUNICORN, ROOT, free_port, running_gunicorn

KEY_A = "key-a-" + "a" * 42
KEY_B = "key-b-" + "b" * 42
SECRET_KEY = "addon-secret-key"
ACCESSOR = "roles/secretmanager.secretAccessor"


def production_env(google: FakeGoogle, secret_manager: FakeSecretManager, **settings: str) -> dict[str, str]:
    """What App Engine gives the app: app.yaml's variables, and its metadata server (here the fake's)."""
    return {
        "ADDON_ENV": "production",
        "ADDON_BASE_URL": BASE_URL,
        "ADDON_SERVICE_ACCOUNT_EMAIL": SERVICE_ACCOUNT,
        "ADDON_OAUTH_CLIENT_ID": OAUTH_CLIENT_ID,
        "ADDON_SECRET_KEY": version_name(SECRET_KEY),
        "ADDON_GOOGLE_CERTS_URL": google.certs_url,
        "ADDON_GOOGLE_API_ENDPOINT": google.url,
        "ADDON_SECRET_MANAGER_ENDPOINT": secret_manager.url,
        "GCE_METADATA_HOST": google.url.removeprefix("http://"),
        **settings,
    }


def refused(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    return str(caught.value)


# Reading at start ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "attribute", "partner"),
    [
        ("ADDON_SECRET_KEY", "secret_key", None),
        ("ZOOM_CLIENT_SECRET", "zoom_client_secret", "ZOOM_CLIENT_ID"),
        ("WEBEX_CLIENT_SECRET", "webex_client_secret", "WEBEX_CLIENT_ID"),
        ("JITSI_APP_SECRET", "jitsi_app_secret", "JITSI_APP_ID"),
    ],
)
def test_a_secret_setting_may_name_a_version_and_the_app_gets_its_value(
    google: FakeGoogle, secret_manager: FakeSecretManager, name: str, attribute: str, partner: str | None
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    # `echo VALUE | gcloud secrets versions add ... --data-file=-` leaves a newline on the value.
    secret_manager.create("the-secret", "s3cr3t-" + "x" * 40 + "\n")
    env = production_env(google, secret_manager, **{name: version_name("the-secret")})
    if partner:
        env[partner] = "the-client-id"

    settings = Settings.from_env(env)

    assert getattr(settings, attribute) == "s3cr3t-" + "x" * 40
    asked = [version_name("the-secret")] + ([version_name(SECRET_KEY)] if name != "ADDON_SECRET_KEY" else [])
    assert sorted(secret_manager.state.accessed) == sorted(asked)


def test_previous_keys_mix_plain_values_and_version_names(
    google: FakeGoogle, secret_manager: FakeSecretManager
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    secret_manager.add_version(SECRET_KEY, KEY_B)
    plain = "plain-old-key-" + "p" * 40
    env = production_env(google, secret_manager, ADDON_PREVIOUS_SECRET_KEYS=f"{version_name(SECRET_KEY, 1)}, {plain}")

    settings = Settings.from_env(env)

    assert settings.secret_key == KEY_B  # latest
    assert settings.previous_secret_keys == (KEY_A, plain)


@pytest.mark.parametrize(
    "env",
    [
        {"ADDON_ENV": "development"},
        {
            "ADDON_BASE_URL": BASE_URL,
            "ADDON_SERVICE_ACCOUNT_EMAIL": SERVICE_ACCOUNT,
            "ADDON_OAUTH_CLIENT_ID": OAUTH_CLIENT_ID,
            "ADDON_SECRET_KEY": KEY_A,
            "ADDON_PREVIOUS_SECRET_KEYS": KEY_B,
            "ZOOM_CLIENT_ID": "zoom-id",
            "ZOOM_CLIENT_SECRET": "zoom-secret",
        },
    ],
    ids=["development", "plain-production-values"],
)
def test_plain_values_never_reach_secret_manager(
    google: FakeGoogle, secret_manager: FakeSecretManager, env: dict[str, str]
) -> None:
    endpoints = {
        "ADDON_SECRET_MANAGER_ENDPOINT": secret_manager.url,
        "GCE_METADATA_HOST": google.url.removeprefix("http://"),
    }

    settings = Settings.from_env({**env, **endpoints})

    assert settings.secret_key in (KEY_A, Settings.from_env({"ADDON_ENV": "development"}).secret_key)
    assert secret_manager.state.accessed == []
    assert google.requests_to("/computeMetadata/") == []


def test_a_503_from_secret_manager_is_retried(google: FakeGoogle, secret_manager: FakeSecretManager) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    secret_manager.fail("/v1/projects/", 503, times=2)

    assert Settings.from_env(production_env(google, secret_manager)).secret_key == KEY_A
    assert len(secret_manager.requests_to("GET", "/v1/projects/")) == 3
    assert secret_manager.state.accessed == [version_name(SECRET_KEY)]


# Failures stop the start in one line ---------------------------------------------------------


def arrange_missing_secret(fake: FakeSecretManager) -> str:
    fake.grant_project_accessor()
    return version_name(SECRET_KEY)


def arrange_missing_version(fake: FakeSecretManager) -> str:
    fake.create(SECRET_KEY, KEY_A)
    return version_name(SECRET_KEY, 2)


def arrange_denied(fake: FakeSecretManager) -> str:
    fake.create(SECRET_KEY, KEY_A, accessor=False)
    return version_name(SECRET_KEY)


def arrange_disabled(fake: FakeSecretManager) -> str:
    fake.create(SECRET_KEY, KEY_A)
    fake.set_state(SECRET_KEY, 1, "DISABLED")
    return version_name(SECRET_KEY)


def arrange_destroyed(fake: FakeSecretManager) -> str:
    fake.create(SECRET_KEY, KEY_A)
    fake.add_version(SECRET_KEY, KEY_B)
    fake.set_state(SECRET_KEY, 1, "DESTROYED")
    return version_name(SECRET_KEY, 1)


def arrange_garbled(fake: FakeSecretManager) -> str:
    fake.create(SECRET_KEY, KEY_A)
    fake.garble(SECRET_KEY, 1)
    return version_name(SECRET_KEY)


def arrange_empty(fake: FakeSecretManager) -> str:
    fake.create(SECRET_KEY, " \n")
    return version_name(SECRET_KEY)


@pytest.mark.parametrize(
    ("arrange", "says"),
    [
        (arrange_missing_secret, "was not found: create the secret"),
        (arrange_missing_version, "was not found"),
        (arrange_denied, f"was denied: the runtime service account needs {ACCESSOR} on secret "),
        (arrange_disabled, "is disabled or destroyed"),
        (arrange_destroyed, "is disabled or destroyed"),
        (arrange_empty, "is empty"),
        (arrange_garbled, "arrived corrupted"),
    ],
    ids=["missing-secret", "missing-version", "denied", "disabled", "destroyed", "empty", "corrupted"],
)
def test_a_secret_that_cannot_be_read_stops_the_start_naming_the_setting_and_the_secret(
    google: FakeGoogle, secret_manager: FakeSecretManager, arrange: object, says: str
) -> None:
    name = arrange(secret_manager)  # type: ignore[operator]

    message = refused(production_env(google, secret_manager, ADDON_SECRET_KEY=name))

    assert message.startswith("ADDON_SECRET_KEY: ") and name in message and says in message
    assert "\n" not in message and KEY_A not in message and KEY_B not in message


def test_unreachable_secret_manager_or_metadata_server_is_said_so(
    google: FakeGoogle, secret_manager: FakeSecretManager
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    closed = f"127.0.0.1:{free_port()}"

    no_service = refused(production_env(google, secret_manager, ADDON_SECRET_MANAGER_ENDPOINT=f"http://{closed}"))
    no_identity = refused(production_env(google, secret_manager, GCE_METADATA_HOST=closed))

    assert no_service.startswith("ADDON_SECRET_KEY: Secret Manager at http://") and "did not answer" in no_service
    assert version_name(SECRET_KEY) in no_service
    assert no_identity.startswith("ADDON_SECRET_KEY: no runtime identity") and "did not answer" in no_identity
    assert secret_manager.state.accessed == []


def test_only_the_runtime_identitys_token_is_accepted(google: FakeGoogle, secret_manager: FakeSecretManager) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    other = FakeGoogle().start()  # another metadata server: its tokens are not this runtime's
    try:
        message = refused(production_env(google, secret_manager, GCE_METADATA_HOST=other.url.removeprefix("http://")))
    finally:
        other.stop()

    assert message == (
        "ADDON_SECRET_KEY: Secret Manager refused the runtime identity's token "
        f"while reading {version_name(SECRET_KEY)}"
    )


def test_a_value_read_from_secret_manager_is_checked_but_never_shown(
    google: FakeGoogle, secret_manager: FakeSecretManager
) -> None:
    secret_manager.create(SECRET_KEY, "tooShort42")

    message = refused(production_env(google, secret_manager))

    assert message.startswith("ADDON_SECRET_KEY must be at least 32 characters") and "tooShort42" not in message


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("projects/p/secrets/addon-secret-key", "is not a Secret Manager version name"),
        ("projects/p/secrets/addon-secret-key/versions/0", "is not a Secret Manager version name"),
    ],
)
def test_a_malformed_version_name_is_refused_before_any_call(
    google: FakeGoogle, secret_manager: FakeSecretManager, value: str, complaint: str
) -> None:
    message = refused(production_env(google, secret_manager, ADDON_SECRET_KEY=value))

    assert message.startswith("ADDON_SECRET_KEY: ") and complaint in message
    assert secret_manager.state.accessed == []


def test_secret_manager_must_be_reached_over_https_in_production(
    google: FakeGoogle, secret_manager: FakeSecretManager
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    env = production_env(google, secret_manager, ADDON_SECRET_MANAGER_ENDPOINT="http://secrets.corp.example")

    assert "ADDON_SECRET_MANAGER_ENDPOINT must use https in production" in refused(env)
    assert secret_manager.state.accessed == []


# The real server commands --------------------------------------------------------------------


def command_env(google: FakeGoogle, secret_manager: FakeSecretManager, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADDON_", "GCE_", "ZOOM_", "WEBEX_", "JITSI_"))}
    return {**env, **production_env(google, secret_manager, ADDON_STORE=f"sqlite:///{tmp_path / 'server.db'}")}


def test_gunicorn_refuses_to_start_in_one_line_when_the_secret_is_denied(
    google: FakeGoogle, secret_manager: FakeSecretManager, tmp_path: Path
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A, accessor=False)

    result = subprocess.run(
        [GUNICORN, "-b", f"127.0.0.1:{free_port()}", "addon:create_app()"],
        cwd=ROOT,
        env=command_env(google, secret_manager, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if "add-on" in line]
    assert lines == [
        f"Cannot start the add-on: ADDON_SECRET_KEY: reading {version_name(SECRET_KEY)} was denied: "
        f"the runtime service account needs {ACCESSOR} on secret projects/test-project/secrets/{SECRET_KEY}"
    ]
    assert "Traceback" not in result.stderr and KEY_A not in result.stderr + result.stdout


def test_the_serve_command_refuses_to_start_in_one_line_when_the_secret_is_missing(
    google: FakeGoogle, secret_manager: FakeSecretManager, tmp_path: Path
) -> None:
    secret_manager.grant_project_accessor()

    result = subprocess.run(
        [sys.executable, "-m", "addon", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=command_env(google, secret_manager, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: ADDON_SECRET_KEY: secret {version_name(SECRET_KEY)} was not found: "
        "create the secret, or name a version it has"
    ]


def test_gunicorn_starts_with_the_key_from_secret_manager(
    google: FakeGoogle, secret_manager: FakeSecretManager, tmp_path: Path
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)

    with running_gunicorn(
        command_env(google, secret_manager, tmp_path), free_port(), tmp_path / "gunicorn.log", "-w", "1"
    ) as root:
        assert requests.get(root + "/healthz", timeout=5).json() == {"status": "ok"}

    # Once by the settings check before the workers start, once by the one worker; never per request.
    assert secret_manager.state.accessed == [version_name(SECRET_KEY)] * 2
    assert KEY_A not in (tmp_path / "gunicorn.log").read_text()


# Rotating the secret key ---------------------------------------------------------------------


def started(env: dict[str, str]) -> tuple[Flask, Services]:
    app = create_app(Settings.from_env(env))
    return app, app.extensions["addon"]


def app_env(
    google: FakeGoogle, secret_manager: FakeSecretManager, zoom: FakeZoom, webex: FakeWebex, tmp_path: Path, **more: str
) -> dict[str, str]:
    return production_env(
        google,
        secret_manager,
        ADDON_STORE=f"sqlite:///{tmp_path / 'addon.db'}",
        ZOOM_API_BASE=zoom.api_base,
        ZOOM_OAUTH_BASE=zoom.oauth_base,
        ZOOM_CLIENT_ID=zoom.client_id,
        ZOOM_CLIENT_SECRET=zoom.client_secret,
        WEBEX_API_BASE=webex.api_base,
        **more,
    )


def add_zoom_meeting(app: Flask, google: FakeGoogle, event_id: str) -> None:
    """Alice opens an event in Calendar and clicks Add Zoom meeting: the grant is used."""
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    google.add_event(
        ALICE.email,
        {
            "id": event_id,
            "summary": "Review",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
            "attendees": [{"email": ALICE.email, "self": True, "organizer": True}],
        },
    )
    settings = app.extensions["addon"].settings
    caller = GoogleCaller(app.test_client(), google, settings)
    response = caller.post("/actions/add-meeting", caller.calendar_event(ALICE.email, event_id))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Zoom meeting added to the event" in response.get_data(as_text=True)


def stored_grant(services: Services) -> ProviderGrant:
    grant = services.store.get(ProviderGrant, ProviderGrant.id_for(ALICE.sub, "zoom"))
    assert grant is not None
    return grant


def opens_with(key: str, grant: ProviderGrant) -> bool:
    try:
        SecretBox(key).open(Sealed(grant.key_id, grant.sealed_tokens), grant.grant_id)
    except SealError:
        return False
    return True


def connect_zoom(services: Services, zoom: FakeZoom, expires_at: datetime) -> None:
    services.store.put(UserSettings(user_id=ALICE.sub, provider="zoom"))
    issued = zoom.connect(ALICE.email)
    services.meetings.grants.save(
        ALICE.sub, "zoom", TokenSet(issued["access_token"], issued["refresh_token"], expires_at)
    )


def test_rotating_the_secret_key_reseals_stored_grants_when_used_then_the_old_key_can_go(
    google: FakeGoogle, secret_manager: FakeSecretManager, zoom: FakeZoom, webex: FakeWebex, tmp_path: Path
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    env = app_env(google, secret_manager, zoom, webex, tmp_path)
    app, services = started(env)
    connect_zoom(services, zoom, datetime.now(UTC) + timedelta(hours=1))
    before = stored_grant(services)
    services.close()
    assert opens_with(KEY_A, before) and not opens_with(KEY_B, before)

    # Rotate: a new version becomes `latest`, the old one is named as a previous key, and the app restarts.
    secret_manager.add_version(SECRET_KEY, KEY_B)
    app, services = started({**env, "ADDON_PREVIOUS_SECRET_KEYS": version_name(SECRET_KEY, 1)})
    add_zoom_meeting(app, google, "evt-during-rotation")
    during = stored_grant(services)
    services.close()

    assert opens_with(KEY_B, during) and not opens_with(KEY_A, during)
    assert during.version == before.version  # the same tokens, only sealed anew
    assert services.meetings.grants.tokens(during) == services.meetings.grants.tokens(before)

    # The old key dropped: the grant still works.
    app, services = started(env)
    add_zoom_meeting(app, google, "evt-after-rotation")
    services.close()
    assert len(zoom.meetings) == 2
    assert {version_name(SECRET_KEY), version_name(SECRET_KEY, 1)} == set(secret_manager.state.accessed)


def test_resealing_during_concurrent_refreshes_keeps_the_newest_tokens(
    google: FakeGoogle, secret_manager: FakeSecretManager, zoom: FakeZoom, webex: FakeWebex, tmp_path: Path
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    env = app_env(google, secret_manager, zoom, webex, tmp_path)
    _, services = started(env)
    connect_zoom(services, zoom, datetime.now(UTC) - timedelta(minutes=1))  # expired: the next use refreshes
    services.close()
    secret_manager.add_version(SECRET_KEY, KEY_B)
    _, services = started({**env, "ADDON_PREVIOUS_SECRET_KEYS": version_name(SECRET_KEY, 1)})
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def use_the_grant() -> None:
        start.wait()
        try:
            services.meetings.grants.credentials(ALICE.sub, "zoom").access_token()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=use_the_grant) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert zoom.state.refreshes == 1
    grant = stored_grant(services)
    assert opens_with(KEY_B, grant)
    # Zoom rotates refresh tokens: the stored one must be the one it issued last, still alive.
    assert services.meetings.grants.tokens(grant).refresh_token in zoom.state.refresh_tokens
    services.close()


# No secret value in what is deployed or published --------------------------------------------


def app_yaml_variables() -> dict[str, str]:
    """app.yaml's env_variables, and those commented out as examples, by name."""
    found: dict[str, str] = {}
    inside = False
    for line in (ROOT / "app.yaml").read_text().splitlines():
        if not line.startswith(" "):
            inside = line.startswith("env_variables:")
            continue
        entry = re.fullmatch(r"\s+#?\s*([A-Z][A-Z0-9_]+):\s*(\S.*)", line)
        if inside and entry:
            found[entry[1]] = entry[2].strip().strip("\"'")
    return found


def test_app_yaml_names_secrets_by_version_and_carries_no_value() -> None:
    variables = app_yaml_variables()

    assert variables["ADDON_SECRET_KEY"] == "projects/REPLACE-WITH-PROJECT-ID/secrets/addon-secret-key/versions/latest"
    for name in SECRET_SETTINGS:
        for value in variables.get(name, "").split(","):
            assert not value or re.fullmatch(r"projects/[^/]+/secrets/[\w-]+/versions/(latest|[1-9]\d*)", value), name


def deploy_section() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Deploy to App Engine", 1)[1].split("\n## ", 1)[0]


def test_the_readmes_deploy_steps_carry_no_secret_value() -> None:
    section = deploy_section()

    assert "gcloud secrets create addon-secret-key" in section and "--data-file=-" in section
    assert f"--role {ACCESSOR}" in section or f"--role={ACCESSOR}" in section
    for name in SECRET_SETTINGS:
        for value in re.findall(rf"{name}[=:]\s*([^\s`]+)", section):
            assert re.fullmatch(r"projects/[^/]+/secrets/[\w-]+/versions/(latest|[1-9]\d*|N)", value), (name, value)
    # The key itself goes from a generator straight into Secret Manager, never through a file or a command line.
    assert "token_urlsafe(48))' | gcloud secrets" in section


def test_the_fake_answers_as_secret_managers_rest_api(google: FakeGoogle, secret_manager: FakeSecretManager) -> None:
    secret_manager.create(SECRET_KEY, "one")
    secret_manager.add_version(SECRET_KEY, "123456789")
    token = requests.get(
        google.url + "/computeMetadata/v1/instance/service-accounts/default/token",
        headers={"Metadata-Flavor": "Google"},
        timeout=5,
    ).json()["access_token"]

    def access(name: str, bearer: str | None = token) -> requests.Response:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return requests.get(f"{secret_manager.url}/v1/{name}:access", headers=headers, timeout=5)

    latest = access(version_name(SECRET_KEY)).json()
    assert latest["name"] == f"projects/{PROJECT_NUMBER}/secrets/{SECRET_KEY}/versions/2"
    # The CRC-32C check value of "123456789" is 0xE3069283 (RFC 3720, B.4); int64 fields travel as JSON strings.
    assert latest["payload"] == {"data": "MTIzNDU2Nzg5", "dataCrc32c": str(0xE3069283)}
    assert access(version_name(SECRET_KEY), bearer=None).json()["error"]["status"] == "UNAUTHENTICATED"
    for bad in ("0", "-1", "first"):
        answer = access(version_name(SECRET_KEY, bad))
        assert (answer.status_code, answer.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert access(version_name(SECRET_KEY, 3)).json()["error"] == {
        "code": 404,
        "message": f"Secret Version [projects/{PROJECT_NUMBER}/secrets/{SECRET_KEY}/versions/3] not found.",
        "status": "NOT_FOUND",
    }
    assert access(version_name("nobody-may-read")).json()["error"]["status"] == "PERMISSION_DENIED"


def test_the_delegation_key_may_live_in_secret_manager_and_never_on_disk(
    google: FakeGoogle, secret_manager: FakeSecretManager, tmp_path: Path
) -> None:
    """Key-file delegation without a file to deploy: .gcloudignore leaves key files out of every upload."""
    secret_manager.create(SECRET_KEY, KEY_A)
    key_file = google.service_account_key_file(tmp_path)
    secret_manager.create("addon-sync-key", key_file.read_text())
    key_file.unlink()
    google.state.delegation_users = {ALICE.email}
    env = production_env(google, secret_manager, ADDON_SYNC_CREDENTIALS=version_name("addon-sync-key"))

    settings = Settings.from_env(env)
    app = create_app(settings)
    try:
        token = app.extensions["addon"].offline.token_for(ALICE.email)
    finally:
        app.extensions["addon"].close()

    assert token
    assert "PRIVATE KEY" not in repr(settings)
    assert sorted(secret_manager.state.accessed) == sorted([version_name(SECRET_KEY), version_name("addon-sync-key")])


def test_a_delegation_secret_that_holds_no_key_stops_the_start(
    google: FakeGoogle, secret_manager: FakeSecretManager
) -> None:
    secret_manager.create(SECRET_KEY, KEY_A)
    secret_manager.create("addon-sync-key", '{"type": "authorized_user"}')

    said = refused(production_env(google, secret_manager, ADDON_SYNC_CREDENTIALS=version_name("addon-sync-key")))

    assert "ADDON_SYNC_CREDENTIALS" in said and "service_account" in said
