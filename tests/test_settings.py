"""Settings are read from the environment and checked at start, with messages that name what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from addon.settings import DEFAULT_STORE, Settings, SettingsError

PRODUCTION = {
    "ADDON_BASE_URL": "https://scheduler.corp.example",
    "ADDON_SERVICE_ACCOUNT_EMAIL": "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
    "ADDON_OAUTH_CLIENT_ID": "1-abc.apps.googleusercontent.com",
    "ADDON_SECRET_KEY": "k" * 48,
}


def test_production_settings_with_defaults() -> None:
    settings = Settings.from_env(PRODUCTION)

    assert settings.environment == "production" and not settings.development
    assert settings.store == DEFAULT_STORE
    assert settings.google_certs_url == "https://www.googleapis.com/oauth2/v1/certs"
    assert settings.google_api_endpoint is None


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_a_missing_production_setting_is_named(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("ADDON_BASE_URL", "http://scheduler.corp.example", "https"),
        ("ADDON_BASE_URL", "scheduler.corp.example", "ADDON_BASE_URL"),
        ("ADDON_SECRET_KEY", "short", "at least 32"),
        ("ADDON_STORE", "postgres://db", "ADDON_STORE"),
        ("ADDON_ENV", "staging", "ADDON_ENV"),
        ("ADDON_GOOGLE_API_ENDPOINT", "ftp://x", "ADDON_GOOGLE_API_ENDPOINT"),
        ("ADDON_SYNC_CREDENTIALS", "/nowhere/key.json", "service account key file"),
        ("ADDON_SYNC_SERVICE_ACCOUNT", "addon-sync", "service account's email"),
        ("ADDON_SYNC_DELETE_GRACE_SECONDS", "-1", "at least 0"),
        ("ADDON_LINK_PREFIXES", "https://meetings.corp.example", "ADDON_LINK_PREFIXES: .* needs a path"),
        ("ADDON_LINK_PREFIXES", "https://*.corp.example/,http://x.example/", "ADDON_LINK_PREFIXES: .* https"),
    ],
)
def test_unusable_values_are_refused(name: str, value: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint):
        Settings.from_env({**PRODUCTION, name: value})


def test_development_needs_nothing_and_allows_http() -> None:
    settings = Settings.from_env({"ADDON_ENV": "development"})

    assert settings.development
    assert settings.base_url == "http://localhost:8080"
    assert settings.store.startswith("sqlite:///")


def test_the_development_key_is_refused_in_production() -> None:
    development_key = Settings.from_env({"ADDON_ENV": "development"}).secret_key

    with pytest.raises(SettingsError, match="development key"):
        Settings.from_env({**PRODUCTION, "ADDON_SECRET_KEY": development_key})


def test_trailing_slashes_and_blanks_are_tolerated() -> None:
    settings = Settings.from_env({**PRODUCTION, "ADDON_BASE_URL": "https://x.example/ ", "ADDON_STORE": "  "})

    assert settings.base_url == "https://x.example"
    assert settings.store == DEFAULT_STORE


@pytest.mark.parametrize(
    "name", ["ADDON_GOOGLE_CERTS_URL", "ADDON_GOOGLE_API_ENDPOINT", "ZOOM_API_BASE", "WEBEX_API_BASE"]
)
def test_production_refuses_plain_http_to_another_machine(name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**PRODUCTION, name: "http://googleapis.example"})


def test_production_allows_plain_http_to_this_machine_for_local_fakes() -> None:
    settings = Settings.from_env({**PRODUCTION, "ADDON_GOOGLE_API_ENDPOINT": "http://127.0.0.1:9999"})

    assert settings.google_api_endpoint == "http://127.0.0.1:9999"


def test_a_client_id_without_its_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET"):
        Settings.from_env({**PRODUCTION, "ZOOM_CLIENT_ID": "abc"})


def test_the_directory_site_field_must_name_a_schema_and_a_field() -> None:
    assert Settings.from_env({**PRODUCTION, "ADDON_DIRECTORY_SITE_FIELD": "Webex.SiteURL"}).directory_site_field == (
        "Webex.SiteURL"
    )
    with pytest.raises(SettingsError, match="ADDON_DIRECTORY_SITE_FIELD"):
        Settings.from_env({**PRODUCTION, "ADDON_DIRECTORY_SITE_FIELD": "SiteURL"})


def test_background_sync_takes_a_key_file_or_a_keyless_account_not_both(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    key.write_text('{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----"}')
    keyless = {**PRODUCTION, "ADDON_SYNC_SERVICE_ACCOUNT": "addon-sync@p.iam.gserviceaccount.com"}

    assert Settings.from_env(keyless).sync_service_account == "addon-sync@p.iam.gserviceaccount.com"
    assert Settings.from_env({**PRODUCTION, "ADDON_SYNC_CREDENTIALS": str(key)}).sync_credentials == str(key)
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env({**keyless, "ADDON_SYNC_CREDENTIALS": str(key)})


def test_a_cloud_tasks_queue_needs_its_full_name_and_the_invoker_account() -> None:
    queue = "projects/p/locations/europe-west6/queues/calendar-sync"
    invoker = {"ADDON_CRON_SERVICE_ACCOUNT": "tasks@p.iam.gserviceaccount.com"}

    assert Settings.from_env({**PRODUCTION, **invoker, "ADDON_TASKS_QUEUE": queue}).tasks_queue == queue
    with pytest.raises(SettingsError, match="needs ADDON_CRON_SERVICE_ACCOUNT"):
        Settings.from_env({**PRODUCTION, "ADDON_TASKS_QUEUE": queue})
    with pytest.raises(SettingsError, match="projects/PROJECT/locations/REGION/queues/QUEUE"):
        Settings.from_env({**PRODUCTION, **invoker, "ADDON_TASKS_QUEUE": "calendar-sync"})


def test_no_secret_is_shown_when_the_settings_are_printed() -> None:
    secrets_in = {
        **PRODUCTION,
        "ADDON_PREVIOUS_SECRET_KEYS": "p" * 40,
        "ZOOM_CLIENT_ID": "z",
        "ZOOM_CLIENT_SECRET": "zoom-secret-value",
        "WEBEX_CLIENT_ID": "w",
        "WEBEX_CLIENT_SECRET": "webex-secret-value",
        "JITSI_APP_ID": "j",
        "JITSI_APP_SECRET": "jitsi-secret-value",
    }

    shown = repr(Settings.from_env(secrets_in))

    for secret in ("k" * 48, "p" * 40, "zoom-secret-value", "webex-secret-value", "jitsi-secret-value"):
        assert secret not in shown
    assert "scheduler.corp.example" in shown  # the rest is still there to read
