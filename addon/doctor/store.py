"""The store: reachable (SQLite writable, Datastore readable), its composite indexes serving, its TTL policies on."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.auth.exceptions import GoogleAuthError

from addon import store as records
from addon.doctor.admin import AdminApiError, refusal
from addon.doctor.context import Doctor, settings_check
from addon.doctor.report import Result, ok, problem, skip
from addon.settings import Settings
from addon.store.datastore import EXPIRY_PROPERTY, DatastoreStore
from addon.store.sqlite import SqliteStore

# Read (and, on SQLite, locked for writing) but never written.
PROBE_KEY = "doctor-probe"
INDEX_READER_ROLE = "roles/datastore.indexViewer"
# Every kind whose records expire: Datastore's TTL policy can delete them by their expiry property.
TTL_KINDS = tuple(
    kind.KIND
    for kind in (getattr(records, name) for name in records.__all__)
    if isinstance(kind, type)
    and dataclasses.is_dataclass(kind)
    and "expires_at" in {f.name for f in dataclasses.fields(kind)}
)


@settings_check("store")
def check_store(doctor: Doctor, settings: Settings) -> Result:
    if settings.store == "datastore":
        return _datastore_readable(doctor, settings)
    path = settings.store.removeprefix("sqlite:///")
    what = f"store {settings.store}"
    try:
        store = SqliteStore(path)
        try:
            # Takes SQLite's write lock and writes nothing.
            store.update(records.TaskCursor, PROBE_KEY, lambda _current: None)
        finally:
            store.close()
    except (records.StoreUnavailable, sqlite3.Error, OSError) as error:
        return problem(
            what,
            f"cannot write {path} ({type(error).__name__}: {error})",
            "make the file and its directory writable for the app's user, or point ADDON_STORE at a path that is",
        )
    return ok(what, f"{Path(path).resolve()} is writable")


def _datastore_readable(doctor: Doctor, settings: Settings) -> Result:
    project = doctor.project
    namespace = f", namespace {settings.datastore_namespace}" if settings.datastore_namespace else ""
    what = f"store Datastore (project {project or 'from the environment'}{namespace})"
    store = DatastoreStore(namespace=settings.datastore_namespace, project=project)
    try:
        store.get(records.TaskCursor, PROBE_KEY)
    except api_exceptions.PermissionDenied as error:
        return problem(
            what,
            f"your credentials may not read it ({error.message})",
            f"gcloud projects add-iam-policy-binding {project} --member user:YOUR_EMAIL --role roles/datastore.viewer",
        )
    except (api_exceptions.NotFound, api_exceptions.FailedPrecondition) as error:
        return problem(
            what,
            f"no Datastore database ({error.message})",
            f"gcloud firestore databases create --location=REGION --type=datastore-mode --project {project}",
        )
    except (records.StoreUnavailable, api_exceptions.GoogleAPIError, GoogleAuthError, OSError, ValueError) as error:
        emulator = doctor.environ.get("DATASTORE_EMULATOR_HOST")
        if emulator:
            fix = f"start the Datastore emulator on {emulator}, or unset DATASTORE_EMULATOR_HOST"
        else:
            fix = "pass --project (or set GOOGLE_CLOUD_PROJECT); then gcloud auth application-default login"
        if isinstance(error, records.StoreUnavailable):
            return problem(what, str(error), fix)  # "Datastore did not answer: ..."
        return problem(what, f"Datastore did not answer ({type(error).__name__}: {error})", fix)
    finally:
        store.close()
    return ok(what, "a read succeeded")


@dataclass(frozen=True)
class Index:
    """A composite index: kind, whether it covers ancestors, and (property, ASCENDING | DESCENDING) in order."""

    kind: str
    ancestor: bool
    properties: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        columns = ", ".join(f"{name} {direction.lower()}" for name, direction in self.properties)
        return f"{self.kind}({columns}{', ancestor' if self.ancestor else ''})"


@settings_check("Datastore indexes")
def check_indexes(doctor: Doctor, settings: Settings) -> Result:
    what = "Datastore indexes"
    if settings.store != "datastore":
        return skip(what, "the store is SQLite")
    index_file = doctor.options.index_file
    wanted = read_index_file(index_file) if index_file.exists() else []
    if not wanted:
        return ok(what, "no composite indexes needed (every query uses Datastore's built-in indexes)")
    project = doctor.project
    if project is None:
        return skip(what, "pass --project PROJECT_ID (or set GOOGLE_CLOUD_PROJECT)")
    try:
        serving = doctor.admin.get_all("datastore", f"v1/projects/{project}/indexes", "indexes")
    except AdminApiError as error:
        return refusal(what, error, role=INDEX_READER_ROLE, project=project, account=doctor.admin.account)
    states = {_served(index): str(index.get("state") or "STATE_UNSPECIFIED") for index in serving}
    issues = [
        f"{index.describe()} is {states.get(index, 'missing')}" for index in wanted if states.get(index) != "READY"
    ]
    if issues:
        return problem(
            what,
            "; ".join(issues),
            f"gcloud datastore indexes create {index_file.name} --project {project}, then wait until "
            "gcloud datastore indexes list shows READY (an index in ERROR: delete it and create it again)",
        )
    return ok(what, f"the {len(wanted)} indexes of {index_file.name} are READY")


@settings_check(f"TTL policy on {EXPIRY_PROPERTY}")
def check_ttl(doctor: Doctor, settings: Settings) -> Result:
    what = f"TTL policy on {EXPIRY_PROPERTY}"
    if settings.store != "datastore":
        return skip(what, "the store is SQLite (/tasks/purge deletes expired records)")
    project = doctor.project
    if project is None:
        return skip(what, "pass --project PROJECT_ID (or set GOOGLE_CLOUD_PROJECT)")
    states: dict[str, str] = {}
    for kind in TTL_KINDS:
        path = f"v1/projects/{project}/databases/(default)/collectionGroups/{kind}/fields/{EXPIRY_PROPERTY}"
        try:
            field = doctor.admin.get("firestore", path)
        except AdminApiError as error:
            if error.status != 404:
                return refusal(what, error, role=INDEX_READER_ROLE, project=project, account=doctor.admin.account)
            field = {}
        states[kind] = str((field.get("ttlConfig") or {}).get("state") or "none")
    # CREATING becomes ACTIVE by itself; until then /tasks/purge deletes what has expired.
    missing = [kind for kind, state in states.items() if state not in ("ACTIVE", "CREATING")]
    if missing:
        by_state: dict[str, list[str]] = {}
        for kind in missing:
            by_state.setdefault(states[kind], []).append(kind)
        found = "; ".join(f"{state} on {', '.join(kinds)}" for state, kinds in by_state.items())
        return problem(what, found, _ttl_command(missing, project))
    creating = [kind for kind, state in states.items() if state == "CREATING"]
    note = f" ({', '.join(creating)} still CREATING)" if creating else ""
    return ok(what, f"ACTIVE on {', '.join(k for k in TTL_KINDS if k not in creating) or 'none yet'}{note}")


def _ttl_command(kinds: list[str], project: str) -> str:
    update = f"gcloud firestore fields ttls update {EXPIRY_PROPERTY} --collection-group={{}} --enable-ttl"
    update += f" --project={project}"
    if len(kinds) == 1:
        return update.format(kinds[0])
    return f"for kind in {' '.join(kinds)}; do {update.format('$kind')}; done"


def _served(index: dict[str, Any]) -> Index:
    properties = tuple(
        (str(p.get("name")), str(p.get("direction") or "ASCENDING")) for p in index.get("properties") or []
    )
    return Index(str(index.get("kind")), index.get("ancestor") == "ALL_ANCESTORS", properties)


_ENTRY = re.compile(r"^\s*(-\s+)?(kind|ancestor|name|direction)\s*:\s*(.*?)\s*$")


def read_index_file(path: Path) -> list[Index]:
    """The composite indexes an index.yaml declares, in its documented layout (kind, ancestor, properties)."""
    indexes: list[Index] = []
    for raw in path.read_text().splitlines():
        match = _ENTRY.match(raw.split("#", 1)[0])
        if match is None:
            continue
        key, value = match.group(2), match.group(3).strip("'\"")
        if key == "kind":
            indexes.append(Index(value, False, ()))
        elif indexes and key == "ancestor":
            indexes[-1] = dataclasses.replace(indexes[-1], ancestor=value.lower() in ("yes", "true"))
        elif indexes and key == "name":
            indexes[-1] = dataclasses.replace(indexes[-1], properties=(*indexes[-1].properties, (value, "ASCENDING")))
        elif indexes and key == "direction" and indexes[-1].properties:
            *rest, (name, _) = indexes[-1].properties
            direction = "DESCENDING" if value.lower().startswith("desc") else "ASCENDING"
            indexes[-1] = dataclasses.replace(indexes[-1], properties=(*rest, (name, direction)))
    return indexes
