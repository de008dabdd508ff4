"""`python -m addon doctor`: one line per check, each OK or a PROBLEM with its fix, against fakes over HTTP."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from addon.__main__ import main
from addon.deployment import render_deployment
from addon.doctor import DoctorOptions, run
from addon.doctor.meetings import PROBE_CODE
from tests.conftest import BASE_URL, OAUTH_CLIENT_ID, SERVICE_ACCOUNT
from tests.fakes.google import SERVICE_ACCOUNT_EMAIL as SYNC_ACCOUNT
from tests.fakes.google import FakeGoogle
from tests.fakes.google_cloud import service_disabled
from tests.fakes.secret_manager import FakeSecretManager, version_name
from tests.fakes.webex import FakeWebex
from tests.fakes.zoom import FakeZoom

REPOSITORY = Path(__file__).resolve().parent.parent
PROJECT = "test-project"
ADMIN = "admin@test-project.iam.gserviceaccount.com"
ALICE = "alice@corp.example"
LOCATION = "europe-west6"
QUEUE = f"projects/{PROJECT}/locations/{LOCATION}/queues/calendar-sync"
INVOKER = "scheduler@test-project.iam.gserviceaccount.com"
DEPLOYMENT = "meeting-scheduler"
RUNTIME = "test-project@appspot.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/calendar.events"
CRON_JOBS = (("renew-channels", "0 */6 * * *"), ("reconcile", "*/10 * * * *"), ("purge", "0 */24 * * *"))
CLEARED = ("ADDON_", "ZOOM_", "WEBEX_", "JITSI_", "GOOGLE_", "GCE_", "DATASTORE_", "CLOUDSDK_")


def closed_port() -> str:
    """host:port where nothing listens, so a call there fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, google: FakeGoogle, zoom: FakeZoom, webex: FakeWebex, tmp_path: Path
) -> pytest.MonkeyPatch:
    """The server's production environment, every Google API on the fake, and the admin's own credentials."""
    for name in list(os.environ):
        if name.startswith(CLEARED):
            monkeypatch.delenv(name)
    admin_key = google.service_account_key_file(tmp_path, client_email=ADMIN)
    google.cloud.grant(ADMIN)
    for name, value in {
        "ADDON_BASE_URL": BASE_URL,
        "ADDON_SERVICE_ACCOUNT_EMAIL": SERVICE_ACCOUNT,
        "ADDON_OAUTH_CLIENT_ID": OAUTH_CLIENT_ID,
        "ADDON_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "ADDON_STORE": f"sqlite:///{tmp_path / 'addon.db'}",
        "ADDON_GOOGLE_CERTS_URL": google.certs_url,
        "ADDON_GOOGLE_API_ENDPOINT": google.url,
        "ZOOM_API_BASE": zoom.api_base,
        "ZOOM_OAUTH_BASE": zoom.oauth_base,
        "ZOOM_CLIENT_ID": zoom.client_id,
        "ZOOM_CLIENT_SECRET": zoom.client_secret,
        "WEBEX_API_BASE": webex.api_base,
        "WEBEX_CLIENT_ID": webex.client_id,
        "WEBEX_CLIENT_SECRET": webex.client_secret,
        # `gcloud auth application-default login` as a key file, whose token endpoint is the fake.
        "GOOGLE_APPLICATION_CREDENTIALS": str(admin_key),
        # Not on Google Cloud: no metadata server answers.
        "GCE_METADATA_HOST": closed_port(),
    }.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def doctor(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, list[str]]:
    code = main(["doctor", *flags])
    return code, capsys.readouterr().out.splitlines()


def line(lines: list[str], what: str) -> str:
    """The one line whose check starts with `what` (after the status column)."""
    (found,) = [text for text in lines if text[9:].startswith(what)]
    return found


def with_background_sync(google: FakeGoogle, env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    key_file = google.service_account_key_file(tmp_path)
    google.state.delegation_users.add(ALICE)
    env.setenv("ADDON_SYNC_CREDENTIALS", str(key_file))
    return key_file


def with_queue_and_jobs(google: FakeGoogle, env: pytest.MonkeyPatch) -> None:
    env.setenv("ADDON_TASKS_QUEUE", QUEUE)
    env.setenv("ADDON_CRON_SERVICE_ACCOUNT", INVOKER)
    google.cloud.add_queue(QUEUE, per_second=5, concurrent=10)
    location = f"projects/{PROJECT}/locations/{LOCATION}"
    for name, schedule in CRON_JOBS:
        url = f"{BASE_URL}/tasks/{name}"
        google.cloud.add_job(location, f"addon-{name}", uri=url, schedule=schedule, oidc_email=INVOKER, audience=url)


def with_deployment(google: FakeGoogle) -> dict:
    held = render_deployment(BASE_URL)
    google.cloud.add_deployment(PROJECT, DEPLOYMENT, held)
    google.cloud.state.authorizations[PROJECT] = {
        "serviceAccountEmail": SERVICE_ACCOUNT,
        "oauthClientId": OAUTH_CLIENT_ID,
    }
    return google.cloud.state.deployments[(PROJECT, DEPLOYMENT)]


ALL_FLAGS = ("--test-user", ALICE, "--deployment", DEPLOYMENT, "--scheduler-location", LOCATION)


# A healthy install ---------------------------------------------------------------------------------


def test_a_healthy_install_is_all_ok_and_exits_zero(
    env: pytest.MonkeyPatch, google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_background_sync(google, env, tmp_path)
    with_queue_and_jobs(google, env)
    with_deployment(google)

    code, lines = doctor(capsys, *ALL_FLAGS)

    assert code == 0, "\n".join(lines)
    assert (
        line(lines, "settings")
        == "OK       settings: they load as the server loads them (store " + os.environ["ADDON_STORE"] + ")"
    )
    assert line(lines, "ADDON_BASE_URL") == f"OK       ADDON_BASE_URL: {BASE_URL}"
    assert line(lines, "ADDON_SECRET_KEY") == "OK       ADDON_SECRET_KEY: set (46 characters)"
    assert "test-secret-key" not in "\n".join(lines)
    assert line(lines, "add-on identity").startswith("OK ")
    assert line(lines, "Google's signing keys") == f"OK       Google's signing keys: 1 key from {google.certs_url}"
    assert line(lines, "store").startswith("OK       store sqlite:///")
    assert line(lines, "Datastore indexes") == "SKIP     Datastore indexes: the store is SQLite"
    assert line(lines, "Cloud Tasks queue") == (
        f"OK       Cloud Tasks queue {QUEUE}: RUNNING, at most 5 dispatches a second (maxDispatchesPerSecond) "
        "and 10 at once (maxConcurrentDispatches)"
    )
    assert line(lines, "Cloud Scheduler jobs") == (
        f"OK       Cloud Scheduler jobs in {PROJECT}/{LOCATION}: /tasks/renew-channels, /tasks/reconcile, "
        f"/tasks/purge each have an enabled job with an OIDC token for {INVOKER}"
    )
    assert line(lines, f"deployment {DEPLOYMENT} trigger URLs") == (
        f"OK       deployment {DEPLOYMENT} trigger URLs: the 6 triggers call {BASE_URL}"
    )
    assert [text.split()[0] for text in lines].count("PROBLEM") == 0


def test_every_check_prints_one_line_and_the_runner_never_lets_a_traceback_out(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ADDON_GOOGLE_CERTS_URL", "http://" + closed_port() + "/certs")

    _, lines = doctor(capsys)

    assert len(lines) == 19
    assert all(text.split()[0] in ("OK", "PROBLEM", "SKIP") for text in lines)
    assert not any("Traceback" in text for text in lines)


# Settings ---------------------------------------------------------------------------------------


def test_missing_settings_are_each_a_problem_and_nothing_else_runs(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("ADDON_BASE_URL", "ADDON_SERVICE_ACCOUNT_EMAIL", "ADDON_OAUTH_CLIENT_ID", "ADDON_SECRET_KEY"):
        env.delenv(name)

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "settings") == (
        "PROBLEM  settings: missing settings: ADDON_BASE_URL, ADDON_SERVICE_ACCOUNT_EMAIL, ADDON_OAUTH_CLIENT_ID, "
        "ADDON_SECRET_KEY (required in production; see the configuration table in README.md)"
    )
    assert line(lines, "ADDON_BASE_URL") == (
        "PROBLEM  ADDON_BASE_URL: not set; fix: set ADDON_BASE_URL to the add-on's public https origin, "
        "e.g. https://PROJECT_ID.REGION_ID.r.appspot.com"
    )
    assert line(lines, "ADDON_SERVICE_ACCOUNT_EMAIL") == (
        "PROBLEM  ADDON_SERVICE_ACCOUNT_EMAIL: not set; fix: set ADDON_SERVICE_ACCOUNT_EMAIL to serviceAccountEmail "
        "from gcloud workspace-add-ons get-authorization"
    )
    assert line(lines, "ADDON_OAUTH_CLIENT_ID").startswith("PROBLEM  ADDON_OAUTH_CLIENT_ID: not set; fix: ")
    assert line(lines, "ADDON_SECRET_KEY").startswith("PROBLEM  ADDON_SECRET_KEY: not set; fix: set ADDON_SECRET_KEY")
    assert line(lines, "Cloud Tasks queue") == (
        "SKIP     Cloud Tasks queue: the settings do not load (see the settings line)"
    )


def test_settings_of_the_wrong_shape_are_named_with_what_they_should_be(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ADDON_BASE_URL", "https://REPLACE-WITH-PROJECT-ID.REPLACE-WITH-REGION-ID.r.appspot.com")
    env.setenv("ADDON_SERVICE_ACCOUNT_EMAIL", "addon@test-project.iam.gserviceaccount.com")
    env.setenv("ADDON_OAUTH_CLIENT_ID", "my-client")
    env.setenv("ADDON_SECRET_KEY", "short")

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "settings").startswith("PROBLEM  settings: ADDON_SECRET_KEY must be at least 32 characters")
    assert line(lines, "ADDON_BASE_URL").startswith(
        "PROBLEM  ADDON_BASE_URL: https://REPLACE-WITH-PROJECT-ID.REPLACE-WITH-REGION-ID.r.appspot.com is still "
        "app.yaml's placeholder; fix: "
    )
    assert line(lines, "ADDON_SERVICE_ACCOUNT_EMAIL") == (
        "PROBLEM  ADDON_SERVICE_ACCOUNT_EMAIL: addon@test-project.iam.gserviceaccount.com is not shaped like the "
        "add-on's service account, service-PROJECT_NUMBER@gcp-sa-gsuiteaddons.iam.gserviceaccount.com; "
        "fix: set ADDON_SERVICE_ACCOUNT_EMAIL to serviceAccountEmail from gcloud workspace-add-ons get-authorization"
    )
    assert line(lines, "ADDON_OAUTH_CLIENT_ID").startswith(
        "PROBLEM  ADDON_OAUTH_CLIENT_ID: my-client is not shaped like an OAuth client ID, "
        "NUMBER-xxx.apps.googleusercontent.com; fix: "
    )
    assert line(lines, "ADDON_SECRET_KEY").startswith(
        "PROBLEM  ADDON_SECRET_KEY: has 5 characters, fewer than 32; fix: set ADDON_SECRET_KEY to a new secret"
    )


def test_a_setting_the_server_refuses_is_reported_in_the_servers_words(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ADDON_TASKS_QUEUE", "calendar-sync")

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "settings") == (
        "PROBLEM  settings: ADDON_TASKS_QUEUE must be projects/PROJECT/locations/REGION/queues/QUEUE, "
        "not 'calendar-sync'"
    )
    assert line(lines, "ADDON_SERVICE_ACCOUNT_EMAIL") == f"OK       ADDON_SERVICE_ACCOUNT_EMAIL: {SERVICE_ACCOUNT}"


def test_the_add_on_identity_google_holds_must_be_the_one_configured(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    with_deployment(google)
    google.cloud.state.authorizations[PROJECT]["serviceAccountEmail"] = (
        "service-987654321@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
    )

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "add-on identity") == (
        "PROBLEM  add-on identity: Google uses service-987654321@gcp-sa-gsuiteaddons.iam.gserviceaccount.com, "
        f"but ADDON_SERVICE_ACCOUNT_EMAIL is {SERVICE_ACCOUNT}; "
        f"fix: set both from gcloud workspace-add-ons get-authorization --project {PROJECT}"
    )


# Google's signing keys and the store --------------------------------------------------------------


def test_unreachable_signing_keys_are_a_problem_with_the_url(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    google.state.certs_status = 503

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "Google's signing keys").startswith(
        f"PROBLEM  Google's signing keys: {google.certs_url} did not serve them (cannot fetch Google's signing keys: "
        "503 Server Error"
    )
    assert line(lines, "Google's signing keys").endswith(
        "; fix: let the app (and this machine) reach it over https, or unset ADDON_GOOGLE_CERTS_URL to use Google's"
    )


def test_a_sqlite_store_that_cannot_be_written_is_a_problem(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env.setenv("ADDON_STORE", f"sqlite:///{blocker}/addon.db")

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "store").startswith(
        f"PROBLEM  store sqlite:///{blocker}/addon.db: cannot write {blocker}/addon.db"
    )
    assert line(lines, "store").endswith(
        "fix: make the file and its directory writable for the app's user, or point ADDON_STORE at a path that is"
    )


def on_datastore(env: pytest.MonkeyPatch, emulator: str) -> str:
    """ADDON_STORE=datastore on the real emulator; returns its project."""
    env.setenv("ADDON_STORE", "datastore")
    env.setenv("ADDON_DATASTORE_NAMESPACE", f"doctor-{uuid.uuid4().hex}")
    env.setenv("DATASTORE_EMULATOR_HOST", emulator)
    env.setenv("GOOGLE_CLOUD_PROJECT", "addon-test")
    return "addon-test"


TTL_KINDS = ("AuditRecord", "MeetingLink", "OAuthState", "PendingCreate", "WatchChannel")


@pytest.mark.datastore
def test_on_datastore_the_store_indexes_and_ttl_policies_are_ok(
    env: pytest.MonkeyPatch, google: FakeGoogle, datastore_emulator: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = on_datastore(env, datastore_emulator)
    for kind in TTL_KINDS:
        google.cloud.state.ttl[(project, kind, "expires_at")] = "ACTIVE"

    _, lines = doctor(capsys)

    assert line(lines, "store") == (
        f"OK       store Datastore (project {project}, namespace {os.environ['ADDON_DATASTORE_NAMESPACE']}): "
        "a read succeeded"
    )
    assert line(lines, "Datastore indexes") == (
        "OK       Datastore indexes: no composite indexes needed (every query uses Datastore's built-in indexes)"
    )
    assert line(lines, "TTL policy") == (
        "OK       TTL policy on expires_at: ACTIVE on AuditRecord, MeetingLink, OAuthState, PendingCreate, WatchChannel"
    )


@pytest.mark.datastore
def test_missing_ttl_policies_come_with_the_gcloud_command_that_creates_them(
    env: pytest.MonkeyPatch, google: FakeGoogle, datastore_emulator: str, capsys: pytest.CaptureFixture[str]
) -> None:
    project = on_datastore(env, datastore_emulator)
    google.cloud.state.ttl[(project, "OAuthState", "expires_at")] = "ACTIVE"
    google.cloud.state.ttl[(project, "MeetingLink", "expires_at")] = "CREATING"

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "TTL policy") == (
        "PROBLEM  TTL policy on expires_at: none on AuditRecord, PendingCreate, WatchChannel; fix: "
        "for kind in AuditRecord PendingCreate WatchChannel; do gcloud firestore fields ttls update expires_at "
        f"--collection-group=$kind --enable-ttl --project={project}; done"
    )


@pytest.mark.datastore
def test_indexes_declared_in_index_yaml_must_be_serving(
    env: pytest.MonkeyPatch, google: FakeGoogle, datastore_emulator: str, tmp_path: Path
) -> None:
    project = on_datastore(env, datastore_emulator)
    index_file = tmp_path / "index.yaml"
    index_file.write_text(
        "indexes:\n"
        "- kind: MeetingLink\n  properties:\n  - name: user_id\n  - name: ends_at\n    direction: desc\n"
        "- kind: AuditRecord\n  ancestor: no\n  properties:\n  - name: user\n  - name: at\n"
    )
    google.cloud.add_index(project, "MeetingLink", [("user_id", "ASCENDING"), ("ends_at", "DESCENDING")])
    google.cloud.add_index(project, "AuditRecord", [("user", "ASCENDING"), ("at", "ASCENDING")], state="CREATING")
    out = io.StringIO()

    code = run(DoctorOptions(index_file=index_file), os.environ, out)

    assert code == 1
    assert line(out.getvalue().splitlines(), "Datastore indexes") == (
        "PROBLEM  Datastore indexes: AuditRecord(user ascending, at ascending) is CREATING; "
        f"fix: gcloud datastore indexes create index.yaml --project {project}, then wait until "
        "gcloud datastore indexes list shows READY (an index in ERROR: delete it and create it again)"
    )

    google.cloud.state.indexes[project][1]["state"] = "READY"
    out = io.StringIO()
    assert run(DoctorOptions(index_file=index_file), os.environ, out) == 1  # the TTL policies are still off
    assert line(out.getvalue().splitlines(), "Datastore indexes") == (
        "OK       Datastore indexes: the 2 indexes of index.yaml are READY"
    )


def test_an_unreachable_datastore_is_a_problem_not_a_hang(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    on_datastore(env, closed_port())

    code, lines = doctor(capsys)

    assert code == 1
    emulator = os.environ["DATASTORE_EMULATOR_HOST"]
    assert line(lines, "store").startswith("PROBLEM  store Datastore (project addon-test, namespace ")
    assert "Datastore did not answer: ServiceUnavailable: " in line(lines, "store")
    assert line(lines, "store").endswith(
        f"; fix: start the Datastore emulator on {emulator}, or unset DATASTORE_EMULATOR_HOST"
    )


# Background sync ---------------------------------------------------------------------------------


def test_background_sync_mints_exactly_calendar_events_for_the_test_user_and_reads_their_calendar(
    env: pytest.MonkeyPatch, google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_background_sync(google, env, tmp_path)

    _, lines = doctor(capsys, "--test-user", ALICE)

    assert line(lines, "background sync") == (
        f"OK       background sync as {ALICE}: a token for exactly {SCOPE} (key file for {SYNC_ACCOUNT}), "
        "and it reads their calendar"
    )
    assert [(r.sub, r.scopes, r.status) for r in google.state.token_requests if r.sub] == [(ALICE, (SCOPE,), 200)]


def test_a_missing_domain_wide_delegation_names_the_admin_console_page_client_id_and_scope(
    env: pytest.MonkeyPatch, google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_background_sync(google, env, tmp_path)
    google.state.delegation_enabled = False
    (client_id,) = [k.client_id for k in google.state.service_account_keys.values() if k.client_email == SYNC_ACCOUNT]

    code, lines = doctor(capsys, "--test-user", ALICE)

    assert code == 1
    assert line(lines, "background sync") == (
        f"PROBLEM  background sync as {ALICE}: Google refused domain-wide delegation (unauthorized_client: Client is "
        "unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes "
        "requested.); fix: in the Admin console, Security > Access and data control > API controls > "
        f"Domain-wide delegation, add the client ID {client_id} with exactly the scope {SCOPE}"
    )


def test_a_test_user_outside_the_domain_is_named_as_such(
    env: pytest.MonkeyPatch, google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_background_sync(google, env, tmp_path)

    _, lines = doctor(capsys, "--test-user", "nobody@elsewhere.example")

    assert line(lines, "background sync").startswith(
        "PROBLEM  background sync as nobody@elsewhere.example: Google refused the assertion "
        "(invalid_grant: Invalid email or User ID); fix: pass --test-user with an existing user of the domain"
    )


def keyless(google: FakeGoogle, env: pytest.MonkeyPatch, *, on_google_cloud: bool, token_creator: bool) -> None:
    google.keyless_service_account(token_creator=token_creator and on_google_cloud)
    google.state.delegation_users.add(ALICE)
    env.setenv("ADDON_SYNC_SERVICE_ACCOUNT", SYNC_ACCOUNT)
    if on_google_cloud:
        env.setenv("GCE_METADATA_HOST", google.url.removeprefix("http://"))
    elif token_creator:
        google.state.token_creators.setdefault(SYNC_ACCOUNT, set()).add(ADMIN)


def test_keyless_sync_signs_as_the_apps_runtime_identity_where_there_is_one(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    keyless(google, env, on_google_cloud=True, token_creator=True)

    _, lines = doctor(capsys, "--test-user", ALICE)

    assert line(lines, "background sync") == (
        f"OK       background sync as {ALICE}: a token for exactly {SCOPE} (keyless: IAM signs as {SYNC_ACCOUNT} "
        f"for this machine's account {RUNTIME} (metadata server)), and it reads their calendar"
    )
    assert google.state.sign_requests == [(SYNC_ACCOUNT, ALICE)]


def test_keyless_sync_without_the_token_creator_role_names_the_role_and_the_grant_command(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    keyless(google, env, on_google_cloud=True, token_creator=False)

    code, lines = doctor(capsys, "--test-user", ALICE)

    assert code == 1
    assert line(lines, "background sync") == (
        f"PROBLEM  background sync as {ALICE}: IAM refused to sign as {SYNC_ACCOUNT} for this machine's account "
        f"{RUNTIME} (metadata server) (signJwt 403): roles/iam.serviceAccountTokenCreator is missing; "
        f"fix: gcloud iam service-accounts add-iam-policy-binding {SYNC_ACCOUNT} --member serviceAccount:{RUNTIME} "
        "--role roles/iam.serviceAccountTokenCreator"
    )


def test_keyless_sync_off_google_cloud_signs_with_the_admins_credentials(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    keyless(google, env, on_google_cloud=False, token_creator=True)

    _, lines = doctor(capsys, "--test-user", ALICE)

    assert line(lines, "background sync") == (
        f"OK       background sync as {ALICE}: a token for exactly {SCOPE} (keyless: IAM signs as {SYNC_ACCOUNT} "
        f"for your application-default credentials ({ADMIN})), and it reads their calendar"
    )


def test_keyless_sync_refused_off_google_cloud_says_how_to_test_as_the_app(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    keyless(google, env, on_google_cloud=False, token_creator=False)

    _, lines = doctor(capsys, "--test-user", ALICE)

    assert line(lines, "background sync") == (
        f"PROBLEM  background sync as {ALICE}: IAM refused to sign as {SYNC_ACCOUNT} for your application-default "
        f"credentials ({ADMIN}) (signJwt 403): roles/iam.serviceAccountTokenCreator is missing; "
        f"fix: gcloud iam service-accounts add-iam-policy-binding {SYNC_ACCOUNT} "
        "--member serviceAccount:RUNTIME_ACCOUNT --role roles/iam.serviceAccountTokenCreator (RUNTIME_ACCOUNT: the "
        "account the app runs as); doctor signed with your own credentials, to sign as the app: "
        "gcloud auth application-default login --impersonate-service-account RUNTIME_ACCOUNT"
    )


def test_keyless_sync_with_the_iam_credentials_api_off_says_to_enable_it(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    keyless(google, env, on_google_cloud=True, token_creator=True)
    body = service_disabled("iamcredentials.googleapis.com", PROJECT).get_json()
    google.fail("/v1/projects/-/serviceAccounts/", 403, body=body)

    _, lines = doctor(capsys, "--test-user", ALICE)

    assert line(lines, "background sync") == (
        f"PROBLEM  background sync as {ALICE}: the API iamcredentials.googleapis.com is not enabled; "
        f"fix: gcloud services enable iamcredentials.googleapis.com --project {PROJECT}"
    )


def test_a_token_the_calendar_api_refuses_says_which_api_to_enable(
    env: pytest.MonkeyPatch, google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_background_sync(google, env, tmp_path)
    google.fail("/calendar/v3/", 403, body=service_disabled("calendar-json.googleapis.com", PROJECT).get_json())

    _, lines = doctor(capsys, "--test-user", ALICE)

    assert line(lines, "background sync") == (
        f"PROBLEM  background sync as {ALICE}: a token, but calendar-json.googleapis.com is not enabled for "
        f"{SYNC_ACCOUNT}'s project; fix: gcloud services enable calendar-json.googleapis.com --project {PROJECT}"
    )


def test_background_sync_is_skipped_without_a_sync_account_or_a_test_user(
    env: pytest.MonkeyPatch, google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, lines = doctor(capsys, "--test-user", ALICE)
    assert line(lines, "background sync") == (
        "SKIP     background sync: neither ADDON_SYNC_CREDENTIALS nor ADDON_SYNC_SERVICE_ACCOUNT is set, "
        "so meetings follow their events only when users open the add-on"
    )

    with_background_sync(google, env, tmp_path)
    _, lines = doctor(capsys)
    assert line(lines, "background sync") == (
        "SKIP     background sync: pass --test-user EMAIL (a user of your domain) to mint a delegated token for them"
    )


# Meeting services -------------------------------------------------------------------------------


def test_each_meeting_service_accepts_the_client_and_the_redirect_uri_is_printed(
    env: pytest.MonkeyPatch, zoom: FakeZoom, webex: FakeWebex, capsys: pytest.CaptureFixture[str]
) -> None:
    _, lines = doctor(capsys)

    assert line(lines, "Zoom") == (
        f"OK       Zoom OAuth client {zoom.client_id}: accepted at {zoom.oauth_base}/oauth/token (it refused the "
        f"made-up code: Invalid authorization code {PROBE_CODE}); redirect URI {BASE_URL}/connect/zoom/callback "
        "must be registered exactly so in your app's App Credentials at https://marketplace.zoom.us (Manage)"
    )
    assert line(lines, "Webex") == (
        f"OK       Webex OAuth client {webex.client_id}: accepted at {webex.api_base}/access_token (it refused the "
        f"made-up code: The authorization code is invalid or expired.); redirect URI "
        f"{BASE_URL}/connect/webex/callback must be registered exactly so in your integration at "
        "https://developer.webex.com (My Webex Apps)"
    )


def test_a_wrong_client_secret_is_a_problem_that_says_where_to_copy_it_from(
    env: pytest.MonkeyPatch, zoom: FakeZoom, webex: FakeWebex, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ZOOM_CLIENT_SECRET", "not-the-secret")
    env.setenv("WEBEX_CLIENT_ID", "someone-elses-client")

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "Zoom") == (
        f"PROBLEM  Zoom OAuth client {zoom.client_id}: {zoom.oauth_base}/oauth/token refused the client ID and "
        "secret (zoom: the meeting service refused the add-on's own credentials (invalid_client)); fix: copy both "
        "from your app's App Credentials at https://marketplace.zoom.us (Manage) into ZOOM_CLIENT_ID and "
        f"ZOOM_CLIENT_SECRET, and register the redirect URI {BASE_URL}/connect/zoom/callback there"
    )
    assert line(lines, "Webex").startswith(
        f"PROBLEM  Webex OAuth client someone-elses-client: {webex.api_base}/access_token refused the client ID and "
        "secret"
    )
    assert "not-the-secret" not in "\n".join(lines)


def test_an_unreachable_meeting_service_and_an_unconfigured_one(
    env: pytest.MonkeyPatch, zoom: FakeZoom, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ZOOM_OAUTH_BASE", "http://" + closed_port())
    env.delenv("WEBEX_CLIENT_ID")
    env.delenv("WEBEX_CLIENT_SECRET")

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "Zoom").startswith(f"PROBLEM  Zoom OAuth client {zoom.client_id}: ")
    assert "did not answer as it should (zoom: token endpoint did not answer (ConnectionError))" in line(lines, "Zoom")
    assert line(lines, "Webex") == (
        "SKIP     Webex: WEBEX_CLIENT_ID and WEBEX_CLIENT_SECRET are not set, so it is not offered"
    )


def test_an_answer_that_does_not_say_whether_the_client_was_accepted_is_not_called_ok(
    env: pytest.MonkeyPatch, webex: FakeWebex, capsys: pytest.CaptureFixture[str]
) -> None:
    webex.fail("/v1/access_token", 400, body={"error": "unsupported_grant_type", "error_description": "Unsupported."})

    _, lines = doctor(capsys)

    assert line(lines, "Webex") == (
        f"PROBLEM  Webex OAuth client {webex.client_id}: {webex.api_base}/access_token answered unsupported_grant_type "
        "(Unsupported.), so doctor cannot tell whether it accepted the client; fix: compare WEBEX_CLIENT_ID, "
        f"WEBEX_CLIENT_SECRET and the redirect URI {BASE_URL}/connect/webex/callback with your integration at "
        "https://developer.webex.com (My Webex Apps)"
    )


# Cloud Tasks and Cloud Scheduler ----------------------------------------------------------------


def test_a_paused_queue_is_a_problem_with_the_resume_command(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    with_queue_and_jobs(google, env)
    google.cloud.state.queues[QUEUE]["state"] = "PAUSED"

    code, lines = doctor(capsys)

    assert code == 1
    assert line(lines, "Cloud Tasks queue") == (
        f"PROBLEM  Cloud Tasks queue {QUEUE}: is PAUSED: it takes syncs but delivers none (at most 5 dispatches a "
        "second (maxDispatchesPerSecond) and 10 at once (maxConcurrentDispatches)); "
        f"fix: gcloud tasks queues resume calendar-sync --location {LOCATION} --project {PROJECT}"
    )


def test_a_missing_queue_is_a_problem_with_the_create_command(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    with_queue_and_jobs(google, env)
    del google.cloud.state.queues[QUEUE]

    _, lines = doctor(capsys)

    assert line(lines, "Cloud Tasks queue") == (
        f"PROBLEM  Cloud Tasks queue {QUEUE}: does not exist; "
        f"fix: gcloud tasks queues create calendar-sync --location {LOCATION} --project {PROJECT}"
    )


def test_reading_the_queue_without_the_role_or_the_api_names_what_to_grant_or_enable(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    with_queue_and_jobs(google, env)
    google.cloud.revoke(ADMIN, "roles/cloudtasks.viewer")

    _, lines = doctor(capsys)
    assert line(lines, "Cloud Tasks queue") == (
        f"PROBLEM  Cloud Tasks queue {QUEUE}: your credentials may not read it (cloudtasks.queues.get); "
        f"fix: gcloud projects add-iam-policy-binding {PROJECT} --member serviceAccount:{ADMIN} "
        "--role roles/cloudtasks.viewer"
    )

    google.cloud.state.disabled_services.add("cloudtasks.googleapis.com")
    _, lines = doctor(capsys)
    assert line(lines, "Cloud Tasks queue") == (
        f"PROBLEM  Cloud Tasks queue {QUEUE}: the API cloudtasks.googleapis.com is not enabled in project {PROJECT}; "
        f"fix: gcloud services enable cloudtasks.googleapis.com --project {PROJECT}"
    )


def test_without_credentials_the_admin_reads_say_how_to_log_in(
    env: pytest.MonkeyPatch, google: FakeGoogle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_queue_and_jobs(google, env)
    env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))

    code, lines = doctor(capsys, "--project", PROJECT)

    assert code == 1
    assert line(lines, "Cloud Tasks queue").startswith(
        f"PROBLEM  Cloud Tasks queue {QUEUE}: no Google credentials on this machine ("
    )
    assert line(lines, "Cloud Tasks queue").endswith("; fix: run gcloud auth application-default login")


def test_scheduler_jobs_that_are_missing_paused_or_sign_as_someone_else_each_come_with_their_command(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    with_queue_and_jobs(google, env)
    jobs = google.cloud.state.jobs[f"projects/{PROJECT}/locations/{LOCATION}"]
    del jobs[2]  # purge
    jobs[0]["state"] = "PAUSED"
    jobs[1]["httpTarget"]["oidcToken"]["serviceAccountEmail"] = "other@test-project.iam.gserviceaccount.com"
    where = f"--location {LOCATION} --project {PROJECT}"

    code, lines = doctor(capsys, "--scheduler-location", LOCATION)

    assert code == 1
    assert line(lines, "Cloud Scheduler jobs") == (
        f"PROBLEM  Cloud Scheduler jobs in {PROJECT}/{LOCATION}: "
        f"job addon-renew-channels is PAUSED (gcloud scheduler jobs resume addon-renew-channels {where}); "
        "job addon-reconcile sends an OIDC token for other@test-project.iam.gserviceaccount.com, "
        f"but the app takes only {INVOKER}'s (gcloud scheduler jobs update http addon-reconcile {where} "
        f"--oidc-service-account-email {INVOKER} --oidc-token-audience {BASE_URL}/tasks/reconcile); "
        f"no job calls {BASE_URL}/tasks/purge (gcloud scheduler jobs create http addon-purge {where} "
        f"--schedule '0 */24 * * *' --uri {BASE_URL}/tasks/purge --http-method POST "
        f"--oidc-service-account-email {INVOKER} --oidc-token-audience {BASE_URL}/tasks/purge)"
    )


def test_scheduled_tasks_are_skipped_where_app_engine_cron_calls_them_or_no_location_is_given(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    _, lines = doctor(capsys, "--scheduler-location", LOCATION)
    assert line(lines, "scheduled tasks") == (
        "SKIP     scheduled tasks: ADDON_CRON_SERVICE_ACCOUNT is not set, so only App Engine cron may call /tasks/*; "
        "doctor cannot read App Engine cron: deploy cron.yaml after each change (gcloud app deploy cron.yaml)"
    )

    with_queue_and_jobs(google, env)
    _, lines = doctor(capsys)
    assert line(lines, "scheduled tasks").startswith(
        "SKIP     scheduled tasks: pass --scheduler-location REGION to check the Cloud Scheduler jobs"
    )


# Drift: the deployment Google holds -----------------------------------------------------------------


def test_a_deployment_that_drifted_is_reported_trigger_by_trigger_scope_by_scope(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    held = with_deployment(google)
    held["addOns"]["calendar"]["eventOpenTrigger"]["runFunction"] = "https://old.example/calendar/event-open"
    del held["addOns"]["calendar"]["eventUpdateTrigger"]
    held["oauthScopes"].remove(SCOPE)
    held["oauthScopes"].append("https://www.googleapis.com/auth/calendar")
    held["addOns"]["common"]["openLinkUrlPrefixes"].append("https://old.example/")
    held["addOns"]["common"]["name"] = "Old name"
    fix = (
        f"fix: python -m addon deployment --base-url {BASE_URL} > deployment.mine.json && gcloud workspace-add-ons "
        f"deployments replace {DEPLOYMENT} --deployment-file=deployment.mine.json --project {PROJECT}"
    )

    code, lines = doctor(capsys, "--deployment", DEPLOYMENT)

    assert code == 1
    assert line(lines, f"deployment {DEPLOYMENT} trigger URLs") == (
        f"PROBLEM  deployment {DEPLOYMENT} trigger URLs: calendar.eventOpenTrigger calls "
        f"https://old.example/calendar/event-open, not {BASE_URL}/calendar/event-open; calendar.eventUpdateTrigger "
        f"is missing (the add-on serves {BASE_URL}/calendar/event-update); {fix}"
    )
    assert line(lines, f"deployment {DEPLOYMENT} scopes") == (
        f"PROBLEM  deployment {DEPLOYMENT} scopes: Google's copy lacks {SCOPE}; Google's copy also asks for "
        f"https://www.googleapis.com/auth/calendar; {fix}"
    )
    assert line(lines, f"deployment {DEPLOYMENT} openLinkUrlPrefixes") == (
        f"PROBLEM  deployment {DEPLOYMENT} openLinkUrlPrefixes: Google's copy also allows https://old.example/; {fix}"
    )
    assert line(lines, f"deployment {DEPLOYMENT} other fields") == (
        f"PROBLEM  deployment {DEPLOYMENT} other fields: addOns.common.name is 'Old name', not 'Meeting Scheduler'; "
        f"{fix}"
    )


def test_a_deployment_google_does_not_hold_comes_with_the_create_command(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = doctor(capsys, "--deployment", DEPLOYMENT)

    assert code == 1
    assert line(lines, f"deployment {DEPLOYMENT} scopes") == (
        f"PROBLEM  deployment {DEPLOYMENT} scopes: Google holds no deployment {DEPLOYMENT} in project {PROJECT}; "
        f"fix: python -m addon deployment --base-url {BASE_URL} > deployment.mine.json && gcloud workspace-add-ons "
        f"deployments create {DEPLOYMENT} --deployment-file=deployment.mine.json --project {PROJECT}"
    )


def test_reading_the_deployment_without_the_role_and_without_a_deployment_name(
    env: pytest.MonkeyPatch, google: FakeGoogle, capsys: pytest.CaptureFixture[str]
) -> None:
    with_deployment(google)
    google.cloud.revoke(ADMIN, "roles/gsuiteaddons.reader")

    _, lines = doctor(capsys, "--deployment", DEPLOYMENT)
    assert line(lines, f"deployment {DEPLOYMENT} trigger URLs") == (
        f"PROBLEM  deployment {DEPLOYMENT} trigger URLs: your credentials may not read it "
        f"(gsuiteaddons.deployments.get); fix: gcloud projects add-iam-policy-binding {PROJECT} "
        f"--member serviceAccount:{ADMIN} --role roles/gsuiteaddons.reader"
    )

    _, lines = doctor(capsys)
    assert line(lines, "deployment trigger URLs") == (
        "SKIP     deployment trigger URLs: pass --deployment NAME (as in gcloud workspace-add-ons deployments)"
    )


# The command as the README writes it -------------------------------------------------------------


def readme_doctor_command() -> str:
    """The README's doctor command, its placeholders filled in for the fakes (the server's settings are in
    the environment, as the README's `export` line puts them)."""
    readme = (REPOSITORY / "README.md").read_text()
    section = readme[readme.index("## Check a deployment: doctor") :]
    block = section[section.index("```\n") + 4 : section.index("```", section.index("```\n") + 4)]
    command = block[block.index(".venv/bin/python -m addon doctor") :].replace("\\\n", " ")
    python = ".venv/bin/python" if (REPOSITORY / ".venv/bin/python").exists() else sys.executable
    return (
        command.replace(".venv/bin/python", python)
        .replace("PROJECT_ID", PROJECT)
        .replace("alice@corp.example", ALICE)
        .replace("REGION", LOCATION)
        .strip()
    )


def test_the_command_as_the_readme_writes_it(env: pytest.MonkeyPatch, google: FakeGoogle, tmp_path: Path) -> None:
    with_background_sync(google, env, tmp_path)
    with_queue_and_jobs(google, env)
    with_deployment(google)
    google.cloud.state.queues[QUEUE]["state"] = "PAUSED"

    finished = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_doctor_command()],
        cwd=REPOSITORY,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    lines = finished.stdout.splitlines()
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert finished.stderr == ""
    assert [text.split()[0] for text in lines].count("PROBLEM") == 1
    assert line(lines, "Cloud Tasks queue").startswith(f"PROBLEM  Cloud Tasks queue {QUEUE}: is PAUSED")
    assert line(lines, "background sync").startswith(f"OK       background sync as {ALICE}: ")
    assert line(lines, f"deployment {DEPLOYMENT} scopes") == (
        f"OK       deployment {DEPLOYMENT} scopes: the 7 scopes match"
    )


@pytest.mark.parametrize("readable", [True, False])
def test_secrets_in_secret_manager_are_read_as_the_admin_running_doctor(
    capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch, secret_manager: FakeSecretManager, readable: bool
) -> None:
    """The admin's machine has no app identity: doctor reads app.yaml's version names with the admin's own."""
    secret_manager.create("addon-secret-key", "k" * 48, accessor=readable)
    secret_manager.state.accessor = ADMIN
    env.setenv("ADDON_SECRET_KEY", version_name("addon-secret-key"))
    env.setenv("ADDON_SECRET_MANAGER_ENDPOINT", secret_manager.url)

    code, lines = doctor(capsys)

    settings = line(lines, "settings")
    if readable:
        assert settings.startswith("OK ")
        assert line(lines, "ADDON_SECRET_KEY").startswith("OK ") and "k" * 48 not in "\n".join(lines)
    else:
        assert code == 1 and settings.startswith("PROBLEM ")
        assert "ADDON_SECRET_KEY" in settings and "roles/secretmanager.secretAccessor" in settings
