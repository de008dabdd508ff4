"""Background sync: a delegated calendar.events token for a test user, minted as the app mints it, that reads."""

from __future__ import annotations

import os
from dataclasses import dataclass

import requests

from addon.doctor.admin import AdminApiError, api_error
from addon.doctor.context import Doctor, settings_check
from addon.doctor.report import Result, ok, problem, skip
from addon.google.client import GoogleApiError, GoogleUnavailable
from addon.google.delegation import SYNC_SCOPE, DelegationRefused, OfflineAccess, SigningRefused
from addon.google.runtime import METADATA_HOST, AccessTokenSource, RuntimeIdentity
from addon.settings import Settings

WHAT = "background sync"
GOOGLE_APIS = "https://www.googleapis.com"
TIMEOUT_SECONDS = 10.0
DELEGATION_PAGE = "Security > Access and data control > API controls > Domain-wide delegation"
SIGNER_ROLE = "roles/iam.serviceAccountTokenCreator"


@dataclass(frozen=True)
class Signer:
    """Who asks IAM to sign: this machine's account (metadata server), or the admin's own credentials."""

    source: AccessTokenSource
    description: str
    # The account to grant the role to, where doctor signs as a service account; else the app's, unknown here.
    member: str | None
    own_credentials: bool


@settings_check(WHAT)
def check_background_sync(doctor: Doctor, settings: Settings) -> Result:
    if not settings.sync_credentials and not settings.sync_service_account:
        return skip(
            WHAT,
            "neither ADDON_SYNC_CREDENTIALS nor ADDON_SYNC_SERVICE_ACCOUNT is set, "
            "so meetings follow their events only when users open the add-on",
        )
    user = doctor.options.test_user
    if not user:
        return skip(WHAT, "pass --test-user EMAIL (a user of your domain) to mint a delegated token for them")
    what = f"{WHAT} as {user}"
    signer: Signer | None = None
    if settings.sync_credentials:
        key = settings.sync_key_info()
        access = OfflineAccess(key)
        account = access.client_email or "the key file's account"
        client_id = str(key["client_id"]) if key and key.get("client_id") else None
        how = f"key file for {account}"
    else:
        account = str(settings.sync_service_account)
        signer = _signer(doctor)
        access = OfflineAccess(None, account, settings.google_api_endpoint, identity=signer.source)
        client_id = None
        how = f"keyless: IAM signs as {account} for {signer.description}"
    try:
        token = access.token_for(user)
    except SigningRefused as refused:
        if signer is None:  # only keyless signing asks IAM
            raise
        return _signing_refused(what, account, refused, signer)
    except DelegationRefused as refused:
        return _delegation_refused(what, account, client_id, refused)
    except AdminApiError as error:
        # Off Google Cloud with no credentials of the admin's to sign with.
        return problem(
            what,
            f"no metadata server (not on Google Cloud) and {error.message}",
            "gcloud auth application-default login --impersonate-service-account RUNTIME_ACCOUNT, "
            "to sign as the app's runtime account",
        )
    except GoogleApiError as error:
        return problem(
            what, f"no token ({error})", "let this machine reach Google's token and IAM endpoints over https"
        )
    return _read_calendar(what, token, settings, how, account)


def _read_calendar(what: str, token: str, settings: Settings, how: str, account: str) -> Result:
    """One event of the user's primary calendar: the token works, and the Calendar API is on for the account."""
    url = f"{settings.google_api_endpoint or GOOGLE_APIS}/calendar/v3/calendars/primary/events"
    try:
        response = requests.get(
            url,
            params={"maxResults": "1", "fields": "timeZone"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return problem(what, f"a token, but Calendar did not answer ({type(error).__name__})")
    if response.status_code == 200:
        return ok(what, f"a token for exactly {SYNC_SCOPE} ({how}), and it reads their calendar")
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = api_error(response.status_code, body if isinstance(body, dict) else {})
    if error.disabled_service:
        project = _project_of(account)
        return problem(
            what,
            f"a token, but {error.disabled_service} is not enabled for {account}'s project",
            f"gcloud services enable {error.disabled_service} --project {project}",
        )
    return problem(what, f"a token, but Calendar answered {response.status_code}: {error.message}")


def _signer(doctor: Doctor) -> Signer:
    """This machine's service account where a metadata server answers (Google Cloud); else the admin's credentials."""
    runtime = RuntimeIdentity()
    try:
        runtime.token()
    except GoogleUnavailable:
        email = doctor.admin.account
        impersonating = doctor.admin.impersonating
        if impersonating:
            return Signer(doctor.admin, f"your credentials impersonating {email}", email, False)
        return Signer(doctor.admin, f"your application-default credentials{f' ({email})' if email else ''}", None, True)
    email = _runtime_email()
    member = email if email and email.endswith(".gserviceaccount.com") else None
    return Signer(runtime, f"this machine's account{f' {email}' if email else ''} (metadata server)", member, False)


def _runtime_email() -> str | None:
    host = os.environ.get("GCE_METADATA_HOST") or METADATA_HOST
    url = f"http://{host}/computeMetadata/v1/instance/service-accounts/default/email"
    try:
        response = requests.get(url, headers={"Metadata-Flavor": "Google"}, timeout=TIMEOUT_SECONDS)
    except requests.RequestException:
        return None
    email = response.text.strip()
    return email if response.status_code == 200 and "@" in email else None


def _signing_refused(what: str, account: str, refused: SigningRefused, signer: Signer) -> Result:
    error = api_error(refused.status or 403, {"error": refused.error})
    if error.disabled_service:
        return problem(
            what,
            f"the API {error.disabled_service} is not enabled",
            f"gcloud services enable {error.disabled_service} --project {_project_of(account)}",
        )
    member = signer.member or "RUNTIME_ACCOUNT"
    fix = (
        f"gcloud iam service-accounts add-iam-policy-binding {account} "
        f"--member serviceAccount:{member} --role {SIGNER_ROLE}"
    )
    if signer.own_credentials:
        fix += (
            " (RUNTIME_ACCOUNT: the account the app runs as); doctor signed with your own credentials, "
            "to sign as the app: gcloud auth application-default login --impersonate-service-account RUNTIME_ACCOUNT"
        )
    cause = f"IAM refused to sign as {account} for {signer.description} (signJwt {refused.status})"
    cause += f": {SIGNER_ROLE} is missing"
    return problem(what, cause, fix)


def _delegation_refused(what: str, account: str, client_id: str | None, refused: DelegationRefused) -> Result:
    said = f"{refused.error}: {refused.description}" if refused.description else refused.error
    if refused.error == "unauthorized_client":
        client = (
            client_id
            or f"of {account} (gcloud iam service-accounts describe {account} --format 'value(oauth2ClientId)')"
        )
        return problem(
            what,
            f"Google refused domain-wide delegation ({said})",
            f"in the Admin console, {DELEGATION_PAGE}, add the client ID {client} with exactly the scope {SYNC_SCOPE}",
        )
    if refused.error == "invalid_grant":
        return problem(
            what,
            f"Google refused the assertion ({said})",
            "pass --test-user with an existing user of the domain that granted the delegation; "
            "if that is right, check this machine's clock (assertions last an hour)",
        )
    return problem(what, f"Google refused the delegation ({said})")


def _project_of(account: str) -> str:
    """A service account's project, from its email (NAME@PROJECT.iam.gserviceaccount.com)."""
    domain = account.partition("@")[2]
    return (
        domain.removesuffix(".iam.gserviceaccount.com") if domain.endswith(".iam.gserviceaccount.com") else "PROJECT_ID"
    )
