"""The add-on's settings: one frozen object read from the environment and checked at start."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from addon.google.runtime import AccessTokenSource
from addon.google.secret_manager import SECRET_MANAGER_ENDPOINT, SecretError, SecretReader, looks_like_a_version
from addon.link_allowlist import checked_prefix

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
DEFAULT_STORE = "sqlite:///addon.db"
DEVELOPMENT_BASE_URL = "http://localhost:8080"
# Only ever trusted in development mode; production requires a real key.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105 - refused outside development
MIN_SECRET_KEY_LENGTH = 32
JITSI_BASE_URL = "https://meet.jit.si"
WEBEX_API_BASE = "https://webexapis.com/v1"
ZOOM_API_BASE = "https://api.zoom.us/v2"
ZOOM_OAUTH_BASE = "https://zoom.us"
# Where development mode serves its sample Google APIs (addon/web/sample_google.py).
SAMPLE_GOOGLE_PATH = "/dev/google"
# The settings whose value may be a Secret Manager version name instead of the secret itself.
SECRET_SETTINGS = (
    "ADDON_SECRET_KEY",
    "ADDON_PREVIOUS_SECRET_KEYS",
    "JITSI_APP_SECRET",
    "WEBEX_CLIENT_SECRET",
    "ZOOM_CLIENT_SECRET",
)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and says what to do."""


@dataclass(frozen=True)
class Settings:
    """Everything the add-on reads from its environment, validated."""

    environment: str
    base_url: str
    service_account_email: str
    oauth_client_id: str
    secret_key: str = field(repr=False)
    store: str = DEFAULT_STORE
    google_certs_url: str = GOOGLE_CERTS_URL
    google_api_endpoint: str | None = None
    datastore_namespace: str | None = None
    # Older secret keys, kept only to open what they sealed (key rotation).
    previous_secret_keys: tuple[str, ...] = field(default=(), repr=False)
    jitsi_base_url: str = JITSI_BASE_URL
    jitsi_app_id: str | None = None
    jitsi_app_secret: str | None = field(default=None, repr=False)
    webex_api_base: str = WEBEX_API_BASE
    webex_client_id: str | None = None
    webex_client_secret: str | None = field(default=None, repr=False)
    zoom_api_base: str = ZOOM_API_BASE
    zoom_oauth_base: str = ZOOM_OAUTH_BASE
    zoom_client_id: str | None = None
    zoom_client_secret: str | None = field(default=None, repr=False)
    audit_retention_days: int = 365
    # "Schema.field" of a directory custom schema holding each user's Webex site, e.g. "Webex.SiteURL".
    directory_site_field: str | None = None
    # A service account key file with domain-wide delegation (scope calendar.events) for background sync.
    sync_credentials: str | None = None
    # The key itself, where ADDON_SYNC_CREDENTIALS names a Secret Manager version instead of a file.
    sync_key: str | None = field(default=None, repr=False)
    # Or keyless: the service account (with domain-wide delegation) that IAM signs as, for the app's identity.
    sync_service_account: str | None = None
    # A deleted event's meeting is deleted this long after, unless the event moved or came back meanwhile.
    sync_delete_grace_seconds: int = 300
    # The identity Cloud Scheduler and Cloud Tasks sign their OIDC tokens as, for /tasks/* (outside App Engine's cron).
    cron_service_account: str | None = None
    # A Cloud Tasks queue ("projects/P/locations/L/queues/Q") for calendar syncs; else they run in-process.
    tasks_queue: str | None = None
    # More https prefixes cards may open than the add-on's own and the services' join hosts (deployment.json).
    link_prefixes: tuple[str, ...] = ()
    # On App Engine, its cron header can be trusted: App Engine strips it from outside requests.
    app_engine: bool = False
    # Where secrets named by version (SECRET_SETTINGS) were read at start.
    secret_manager_endpoint: str = SECRET_MANAGER_ENDPOINT

    @property
    def development(self) -> bool:
        return self.environment == "development"

    def sync_key_info(self) -> dict | None:
        """The delegation key (JSON), from Secret Manager as read at start or from its file."""
        if self.sync_credentials is None:
            return None
        try:
            info = json.loads(self.sync_key if self.sync_key is not None else Path(self.sync_credentials).read_text())
        except (OSError, ValueError) as error:
            raise SettingsError(
                f"ADDON_SYNC_CREDENTIALS must name a service account key file (JSON), or a Secret Manager version "
                f"holding one: {type(error).__name__}"
            ) from error
        return info if isinstance(info, dict) else None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, secrets_as: AccessTokenSource | None = None
    ) -> Settings:
        """Read and check the ADDON_* variables; raise SettingsError naming what is wrong.

        Secrets named by version are read as the runtime's identity, or as `secrets_as` (doctor: the admin)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        environment = get("ADDON_ENV") or "production"
        if environment not in ("production", "development"):
            raise SettingsError(f"ADDON_ENV must be 'production' or 'development', not {environment!r}")
        development = environment == "development"
        secret_manager_endpoint = (get("ADDON_SECRET_MANAGER_ENDPOINT") or SECRET_MANAGER_ENDPOINT).rstrip("/")
        vault = _Vault(secret_manager_endpoint, get("GCE_METADATA_HOST"), development=development, identity=secrets_as)

        def secret(name: str) -> str | None:
            value = get(name)
            return None if value is None else vault.value(name, value)

        required = ("ADDON_BASE_URL", "ADDON_SERVICE_ACCOUNT_EMAIL", "ADDON_OAUTH_CLIENT_ID", "ADDON_SECRET_KEY")
        missing = [name for name in required if not get(name)]
        if missing and not development:
            raise SettingsError(
                f"missing setting{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
                "(required in production; see the configuration table in README.md)"
            )

        base_url = (get("ADDON_BASE_URL") or DEVELOPMENT_BASE_URL).rstrip("/")
        # Development runs on its own sample mailbox and calendar, and trusts only its own signing key.
        sample_google = base_url + SAMPLE_GOOGLE_PATH if development else None
        store = get("ADDON_STORE") or DEFAULT_STORE
        if (
            development
            and store == "datastore"
            and not get("DATASTORE_EMULATOR_HOST")
            and get("ADDON_DEVELOPMENT_ON_DATASTORE") != "yes"
        ):
            raise SettingsError(
                "development mode will not use a real Datastore: run the Datastore emulator "
                "(DATASTORE_EMULATOR_HOST), or set ADDON_DEVELOPMENT_ON_DATASTORE=yes if you mean it"
            )
        try:
            sync_credentials = get("ADDON_SYNC_CREDENTIALS")
            sync_key = (
                secret("ADDON_SYNC_CREDENTIALS")
                if sync_credentials and looks_like_a_version(sync_credentials)
                else None
            )
            secret_key = secret("ADDON_SECRET_KEY")
            previous_secret_keys = tuple(
                vault.value("ADDON_PREVIOUS_SECRET_KEYS", key.strip())
                for key in (get("ADDON_PREVIOUS_SECRET_KEYS") or "").split(",")
                if key.strip()
            )
            jitsi_app_secret = secret("JITSI_APP_SECRET")
            webex_client_secret = secret("WEBEX_CLIENT_SECRET")
            zoom_client_secret = secret("ZOOM_CLIENT_SECRET")
        finally:
            vault.close()
        settings = cls(
            environment=environment,
            base_url=base_url,
            service_account_email=get("ADDON_SERVICE_ACCOUNT_EMAIL") or "development@localhost",
            oauth_client_id=get("ADDON_OAUTH_CLIENT_ID") or "development-client-id",
            secret_key=secret_key or DEVELOPMENT_SECRET_KEY,
            store=store,
            google_certs_url=get("ADDON_GOOGLE_CERTS_URL")
            or (sample_google + "/oauth2/v1/certs" if sample_google else GOOGLE_CERTS_URL),
            google_api_endpoint=(get("ADDON_GOOGLE_API_ENDPOINT") or sample_google or "").rstrip("/") or None,
            datastore_namespace=get("ADDON_DATASTORE_NAMESPACE"),
            previous_secret_keys=previous_secret_keys,
            jitsi_base_url=(get("JITSI_BASE_URL") or JITSI_BASE_URL).rstrip("/"),
            jitsi_app_id=get("JITSI_APP_ID"),
            jitsi_app_secret=jitsi_app_secret,
            webex_api_base=(get("WEBEX_API_BASE") or WEBEX_API_BASE).rstrip("/"),
            webex_client_id=get("WEBEX_CLIENT_ID"),
            webex_client_secret=webex_client_secret,
            zoom_api_base=(get("ZOOM_API_BASE") or ZOOM_API_BASE).rstrip("/"),
            zoom_oauth_base=(get("ZOOM_OAUTH_BASE") or ZOOM_OAUTH_BASE).rstrip("/"),
            zoom_client_id=get("ZOOM_CLIENT_ID"),
            zoom_client_secret=zoom_client_secret,
            directory_site_field=get("ADDON_DIRECTORY_SITE_FIELD"),
            sync_credentials=get("ADDON_SYNC_CREDENTIALS"),
            sync_key=sync_key,
            sync_service_account=get("ADDON_SYNC_SERVICE_ACCOUNT"),
            sync_delete_grace_seconds=_whole_number(
                "ADDON_SYNC_DELETE_GRACE_SECONDS", get("ADDON_SYNC_DELETE_GRACE_SECONDS"), 300, minimum=0
            ),
            cron_service_account=get("ADDON_CRON_SERVICE_ACCOUNT"),
            tasks_queue=get("ADDON_TASKS_QUEUE"),
            link_prefixes=tuple(p.strip() for p in (get("ADDON_LINK_PREFIXES") or "").split(",") if p.strip()),
            app_engine=bool(get("GAE_APPLICATION")),
            audit_retention_days=_whole_number("ADDON_AUDIT_RETENTION_DAYS", get("ADDON_AUDIT_RETENTION_DAYS"), 365),
            secret_manager_endpoint=secret_manager_endpoint,
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Raise SettingsError if any value is unusable."""
        base = urlsplit(self.base_url)
        allowed_schemes = ("https", "http") if self.development else ("https",)
        if base.scheme not in allowed_schemes or not base.netloc or base.query or base.fragment:
            raise SettingsError(
                f"ADDON_BASE_URL must be an {'http(s)' if self.development else 'https'} origin "
                f"such as https://addon.example.com, not {self.base_url!r}"
            )
        if not self.development and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"ADDON_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if not self.development and self.secret_key == DEVELOPMENT_SECRET_KEY:
            raise SettingsError("ADDON_SECRET_KEY is the development key; set a secret of your own")
        _check_store(self.store)
        for name, url in (
            ("ADDON_GOOGLE_CERTS_URL", self.google_certs_url),
            ("ADDON_GOOGLE_API_ENDPOINT", self.google_api_endpoint),
            ("ADDON_SECRET_MANAGER_ENDPOINT", self.secret_manager_endpoint),
            ("JITSI_BASE_URL", self.jitsi_base_url),
            ("WEBEX_API_BASE", self.webex_api_base),
            ("ZOOM_API_BASE", self.zoom_api_base),
            ("ZOOM_OAUTH_BASE", self.zoom_oauth_base),
        ):
            if url is not None:
                _check_url(name, url, development=self.development)
        for prefix in self.link_prefixes:
            try:
                checked_prefix(prefix)
            except ValueError as error:
                raise SettingsError(f"ADDON_LINK_PREFIXES: {error}") from error
        if self.directory_site_field is not None and not re.fullmatch(r"\w+\.\w+", self.directory_site_field):
            raise SettingsError(
                f"ADDON_DIRECTORY_SITE_FIELD must be SchemaName.fieldName, not {self.directory_site_field!r}"
            )
        if self.tasks_queue is not None:
            if not re.fullmatch(r"projects/[^/]+/locations/[^/]+/queues/[^/]+", self.tasks_queue):
                raise SettingsError(
                    "ADDON_TASKS_QUEUE must be projects/PROJECT/locations/REGION/queues/QUEUE, "
                    f"not {self.tasks_queue!r}"
                )
            if not self.cron_service_account:
                raise SettingsError(
                    "ADDON_TASKS_QUEUE needs ADDON_CRON_SERVICE_ACCOUNT: the account Cloud Tasks calls /tasks/sync as"
                )
        if self.sync_credentials is not None and self.sync_service_account is not None:
            raise SettingsError("set ADDON_SYNC_CREDENTIALS or ADDON_SYNC_SERVICE_ACCOUNT, not both")
        if self.sync_credentials is not None:
            _check_key(self.sync_key_info())
        if self.sync_service_account is not None and "@" not in self.sync_service_account:
            raise SettingsError(
                "ADDON_SYNC_SERVICE_ACCOUNT must be a service account's email, "
                f"such as addon-sync@PROJECT.iam.gserviceaccount.com, not {self.sync_service_account!r}"
            )
        for first, second, one, other in (
            ("JITSI_APP_ID", "JITSI_APP_SECRET", self.jitsi_app_id, self.jitsi_app_secret),
            ("WEBEX_CLIENT_ID", "WEBEX_CLIENT_SECRET", self.webex_client_id, self.webex_client_secret),
            ("ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", self.zoom_client_id, self.zoom_client_secret),
        ):
            if bool(one) != bool(other):
                raise SettingsError(f"{first} and {second} go together: set both or neither")


@dataclass(frozen=True)
class StoreSettings:
    """What the admin commands (policy, audit) need: the store the app uses, not the web server's keys."""

    store: str = DEFAULT_STORE
    datastore_namespace: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreSettings:
        env = os.environ if environ is None else environ
        store = env.get("ADDON_STORE", "").strip() or DEFAULT_STORE
        _check_store(store)
        return cls(store=store, datastore_namespace=env.get("ADDON_DATASTORE_NAMESPACE", "").strip() or None)


def _check_store(store: str) -> None:
    if store != "datastore" and not store.startswith("sqlite:///"):
        raise SettingsError(f"ADDON_STORE must be 'datastore' or 'sqlite:///PATH', not {store!r}")


class _Vault:
    """Turns a setting's value into the secret it names, when it names a Secret Manager version."""

    def __init__(
        self, endpoint: str, metadata_host: str | None, *, development: bool, identity: AccessTokenSource | None
    ) -> None:
        self.endpoint = endpoint
        self.metadata_host = metadata_host
        self.development = development
        self.identity = identity
        # Built at the first version name, so plain values never touch Secret Manager.
        self._reader: SecretReader | None = None

    def value(self, name: str, value: str) -> str:
        if not looks_like_a_version(value):
            return value
        if self._reader is None:
            # The runtime's token goes there: check the endpoint before anything is sent.
            _check_url("ADDON_SECRET_MANAGER_ENDPOINT", self.endpoint, development=self.development)
            self._reader = SecretReader(self.endpoint, self.metadata_host, self.identity)
        try:
            return self._reader.read(value)
        except SecretError as error:
            raise SettingsError(f"{name}: {error}") from error

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


def _check_url(name: str, url: str, *, development: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query:
        raise SettingsError(f"{name} must be an http(s) URL, not {url!r}")
    # Tokens and signing keys travel over these; plain http only to this machine (tests, local fakes).
    if parts.scheme == "http" and not development and not _loopback(parts.hostname):
        raise SettingsError(f"{name} must use https in production, not {url!r}")


def _loopback(host: str | None) -> bool:
    return host in ("localhost", "127.0.0.1", "::1")


def _whole_number(name: str, value: str | None, default: int, minimum: int = 1) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from error
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return number


def _check_key(info: object) -> None:
    """A service account key, so a typo stops the start instead of every sync later."""
    if not isinstance(info, dict) or info.get("type") != "service_account" or not info.get("private_key"):
        raise SettingsError("ADDON_SYNC_CREDENTIALS must name a service account key file, type service_account")
