"""The settings: they load as the server loads them, and the four an install must set are there and well shaped."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from addon.doctor.context import Check, Doctor, check
from addon.doctor.report import Result, ok, problem
from addon.settings import DEVELOPMENT_SECRET_KEY, MIN_SECRET_KEY_LENGTH

SERVICE_ACCOUNT_SHAPE = re.compile(r"service-\d+@gcp-sa-gsuiteaddons\.iam\.gserviceaccount\.com")
CLIENT_ID_SHAPE = re.compile(r"\d+-[0-9a-z]+\.apps\.googleusercontent\.com")
# app.yaml ships with REPLACE-... values.
PLACEHOLDER = "REPLACE-"
FROM_AUTHORIZATION = "gcloud workspace-add-ons get-authorization"


@check("settings")
def check_settings_load(doctor: Doctor) -> Result:
    if doctor.settings_error is not None:
        # The server's own words name the setting and say what to do.
        return problem("settings", doctor.settings_error)
    if doctor.settings is None:
        return problem("settings", "they did not load")
    if doctor.settings.development:
        return problem(
            "settings",
            "ADDON_ENV is development: that trusts only the development key and serves sample Google APIs",
            "unset ADDON_ENV (production is the default) to check a deployment",
        )
    return ok("settings", f"they load as the server loads them (store {doctor.settings.store})")


@check("ADDON_BASE_URL")
def check_base_url(doctor: Doctor) -> Result:
    name = "ADDON_BASE_URL"
    value = _value(doctor, name, "base_url")
    fix = f"set {name} to the add-on's public https origin, e.g. https://PROJECT_ID.REGION_ID.r.appspot.com"
    if value is None:
        return problem(name, "not set", fix)
    if PLACEHOLDER in value:
        return problem(name, f"{value} is still app.yaml's placeholder", fix)
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        return problem(name, f"{value} is not an https origin (Google calls only https)", fix)
    return ok(name, value)


@check("ADDON_SERVICE_ACCOUNT_EMAIL")
def check_service_account(doctor: Doctor) -> Result:
    name = "ADDON_SERVICE_ACCOUNT_EMAIL"
    value = _value(doctor, name, "service_account_email")
    fix = f"set {name} to serviceAccountEmail from {FROM_AUTHORIZATION}"
    if value is None:
        return problem(name, "not set", fix)
    if not SERVICE_ACCOUNT_SHAPE.fullmatch(value):
        return problem(
            name,
            f"{value} is not shaped like the add-on's service account, "
            "service-PROJECT_NUMBER@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
            fix,
        )
    return ok(name, value)


@check("ADDON_OAUTH_CLIENT_ID")
def check_oauth_client_id(doctor: Doctor) -> Result:
    name = "ADDON_OAUTH_CLIENT_ID"
    value = _value(doctor, name, "oauth_client_id")
    fix = f"set {name} to oauthClientId from {FROM_AUTHORIZATION}"
    if value is None:
        return problem(name, "not set", fix)
    if not CLIENT_ID_SHAPE.fullmatch(value):
        return problem(
            name, f"{value} is not shaped like an OAuth client ID, NUMBER-xxx.apps.googleusercontent.com", fix
        )
    return ok(name, value)


@check("ADDON_SECRET_KEY")
def check_secret_key(doctor: Doctor) -> Result:
    name = "ADDON_SECRET_KEY"
    value = _value(doctor, name, "secret_key")
    fix = f"set {name} to a new secret: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
    if value is None:
        return problem(name, "not set", fix)
    if value == DEVELOPMENT_SECRET_KEY or PLACEHOLDER in value:
        return problem(name, "is a placeholder or the development key", fix)
    if len(value) < MIN_SECRET_KEY_LENGTH:
        return problem(name, f"has {len(value)} characters, fewer than {MIN_SECRET_KEY_LENGTH}", fix)
    # Never the value itself: this line may end up in a ticket.
    return ok(name, f"set ({len(value)} characters)")


def _value(doctor: Doctor, name: str, attribute: str) -> str | None:
    """The value the server would use; the raw variable when the settings do not load (or in development)."""
    settings = doctor.settings
    if settings is not None and not settings.development:
        return str(getattr(settings, attribute))
    return (doctor.environ.get(name) or "").strip() or None


CHECKS: tuple[Check, ...] = (
    check_settings_load,
    check_base_url,
    check_service_account,
    check_oauth_client_id,
    check_secret_key,
)
