"""The command line: `serve` runs the add-on here, `deployment` prints deployment.json, `doctor` checks an install."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from addon.link_allowlist import SERVICES
from addon.settings import JITSI_BASE_URL, SettingsError

if TYPE_CHECKING:
    from addon.store import Store


AUDIT_SCAN_LIMIT = 10_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m addon", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the add-on on this machine (development mode unless ADDON_ENV says otherwise)"
    )
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))

    deployment = commands.add_parser("deployment", help="print deployment.json with every URL on BASE_URL")
    deployment.add_argument("--base-url", required=True, help="the public https origin, e.g. https://addon.example.org")
    deployment.add_argument(
        "--directory-sites",
        action="store_true",
        help="also ask to read users' directory records (for ADDON_DIRECTORY_SITE_FIELD)",
    )
    deployment.add_argument(
        "--services",
        default=",".join(SERVICES),
        help="comma-separated services whose join links cards may open (default: all of them: %(default)s)",
    )
    deployment.add_argument(
        "--link-prefix",
        action="append",
        default=[],
        metavar="PREFIX",
        help="one more https prefix cards may open, e.g. https://meetings.corp.example/ (repeatable)",
    )

    audit = commands.add_parser("audit", help="list the meetings a user created, changed or deleted, newest last")
    audit.add_argument("--user", required=True, help="the user's email address")
    audit.add_argument("--limit", type=int, default=100)

    policy = commands.add_parser("policy", help="show or set an administrator's defaults for a domain")
    policy.add_argument("action", choices=("show", "set", "clear"))
    policy.add_argument("--domain", required=True, help="e.g. corp.example")
    policy.add_argument("--allow", help="comma-separated services users may choose (jitsi,webex,zoom)")
    policy.add_argument("--default", dest="default_provider", help="the service users start with")
    policy.add_argument("--duration", type=int, help="default meeting length in minutes")
    policy.add_argument("--webex-site", help="the Webex site every meeting uses, e.g. acme.webex.com")
    policy.add_argument("--retention-days", type=int, help="how long audit records are kept")
    policy.add_argument(
        "--copied-events",
        choices=("strip", "new"),
        help="a duplicated event carrying another event's meeting: strip the copied details, or give it a new meeting",
    )
    policy.add_argument(
        "--rotate-passcode",
        choices=("on", "off"),
        help="give a meeting a new passcode when a guest is removed from its event",
    )
    policy.add_argument(
        "--lock", help="comma-separated settings users may not change: provider,duration_minutes,webex_site"
    )

    doctor = commands.add_parser(
        "doctor", help="check this deployment's settings and every service it needs, one line each (README.md)"
    )
    doctor.add_argument("--test-user", metavar="EMAIL", help="a user of the domain: mint a delegated token for them")
    doctor.add_argument("--deployment", metavar="NAME", help="the add-on deployment to compare with what this renders")
    doctor.add_argument(
        "--project",
        metavar="PROJECT_ID",
        help="the Google Cloud project (default: GOOGLE_CLOUD_PROJECT, else gcloud's)",
    )
    doctor.add_argument("--scheduler-location", metavar="REGION", help="the region of the Cloud Scheduler jobs")

    args = parser.parse_args(argv)
    if args.command == "doctor":
        return _doctor(args)
    if args.command == "deployment":
        return _print_deployment(args)
    if args.command == "serve":
        return _serve(args.host, args.port)
    try:
        return _policy(args) if args.command == "policy" else _print_audit(args.user, args.limit)
    except _store_errors() as error:
        print(f"error: the store did not answer: {_first_line(error)}", file=sys.stderr)
        if os.environ.get("ADDON_STORE") == "datastore":
            print(
                "  Datastore needs credentials and a project: run `gcloud auth application-default login` "
                "and set GOOGLE_CLOUD_PROJECT to the app's project",
                file=sys.stderr,
            )
        return 1


def _store_errors() -> tuple[type[BaseException], ...]:
    """What a store that cannot be reached raises: SQLite's errors, or Google's and its credentials'."""
    import sqlite3

    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError

    from addon.store import StoreUnavailable

    # OSError: the Datastore client could not tell which project to use.
    return (StoreUnavailable, sqlite3.Error, GoogleAPIError, GoogleAuthError, OSError)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def _print_deployment(args: argparse.Namespace) -> int:
    """deployment.json for the origin; JITSI_BASE_URL moves the Jitsi links as it does for the server."""
    from addon.deployment import render_deployment

    try:
        deployment = render_deployment(
            args.base_url,
            directory_sites=args.directory_sites,
            services=[name.strip() for name in args.services.split(",") if name.strip()],
            jitsi_base_url=(os.environ.get("JITSI_BASE_URL") or JITSI_BASE_URL).strip().rstrip("/"),
            extra_link_prefixes=[
                *(p.strip() for p in os.environ.get("ADDON_LINK_PREFIXES", "").split(",") if p.strip()),
                *args.link_prefix,
            ],
        )
        print(json.dumps(deployment, indent=2))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from addon.doctor import DoctorOptions, run

    options = DoctorOptions(
        test_user=args.test_user,
        deployment=args.deployment,
        project=args.project,
        scheduler_location=args.scheduler_location,
    )
    return run(options, os.environ, sys.stdout)


def _policy(args: argparse.Namespace) -> int:
    """Read, write or remove one domain's DomainPolicy in the store the settings name."""
    import dataclasses
    from datetime import UTC, datetime

    from addon.meetings.catalog import DISPLAY_NAMES
    from addon.policy import LOCKABLE
    from addon.store import DomainPolicy

    domain = args.domain.strip().lower()

    def names(text: str | None, known: tuple[str, ...], what: str) -> tuple[str, ...] | None:
        if text is None:
            return None
        values = tuple(v.strip() for v in text.split(",") if v.strip())
        unknown = [v for v in values if v not in known]
        if unknown:
            raise ValueError(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(known)})")
        return values

    store = _open_store()
    if store is None:
        return 2
    try:
        current = store.get(DomainPolicy, domain)
        if args.action == "clear":
            store.delete(DomainPolicy, domain)
            print(f"policy for {domain} removed")
            return 0
        if args.action == "set":
            try:
                allowed = names(args.allow, tuple(DISPLAY_NAMES), "service")
                locked = names(args.lock, LOCKABLE, "setting")
                names(args.default_provider, tuple(DISPLAY_NAMES), "service")
            except ValueError as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            base = current or DomainPolicy(domain=domain)
            allowed_after = allowed if allowed is not None else base.allowed_providers
            default_after = args.default_provider or base.default_provider
            if default_after and allowed_after and default_after not in allowed_after:
                print(f"error: the default {default_after} is not among the allowed services", file=sys.stderr)
                return 2
            for name, number in (("--duration", args.duration), ("--retention-days", args.retention_days)):
                if number is not None and number < 1:
                    print(f"error: {name} must be at least 1", file=sys.stderr)
                    return 2
            changes = {
                "allowed_providers": allowed,
                "default_provider": args.default_provider,
                "duration_minutes": args.duration,
                "webex_site": args.webex_site,
                "retention_days": args.retention_days,
                "locked": locked,
                "copied_events": args.copied_events,
                "rotate_passcode_on_removal": None if args.rotate_passcode is None else args.rotate_passcode == "on",
            }
            current = dataclasses.replace(
                base, **{k: v for k, v in changes.items() if v is not None}, updated_at=datetime.now(UTC)
            )
            store.put(current)
            if args.webex_site:
                _warn_unless_linkable(args.webex_site)
        if current is None:
            print(f"no policy for {domain}: users choose freely among the services this install offers")
            return 0
        for name, value in current.properties().items():
            print(f"{name}: {', '.join(value) if isinstance(value, tuple) else value}")
        return 0
    finally:
        store.close()


def _warn_unless_linkable(site: str) -> None:
    """A Webex site outside webex.com needs its own entry in the deployment's link allowlist."""
    from addon.link_allowlist import JOIN_LINK_PREFIXES, LinkAllowlist, checked_prefix

    extra = [p.strip() for p in os.environ.get("ADDON_LINK_PREFIXES", "").split(",") if p.strip()]
    host = site.strip().removeprefix("https://").split("/")[0]
    try:
        allowed = LinkAllowlist([*JOIN_LINK_PREFIXES["webex"], *map(checked_prefix, extra)])
    except ValueError:
        allowed = LinkAllowlist(JOIN_LINK_PREFIXES["webex"])
    if not allowed.permits(f"https://{host}/"):
        print(
            f"note: Google will not open links to {host} until the deployment allows them: add "
            f"https://{host}/ to ADDON_LINK_PREFIXES and render and replace the deployment again",
            file=sys.stderr,
        )


def _open_store() -> Store | None:
    """The store ADDON_STORE names, for an admin command; says on stderr which one, since it may be production's."""
    from addon.settings import StoreSettings
    from addon.store import open_store

    try:
        settings = StoreSettings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    if settings.store == "datastore":
        where = os.environ.get("DATASTORE_EMULATOR_HOST") and "the Datastore emulator"
        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or "the project of your gcloud credentials"
        namespace = f", namespace {settings.datastore_namespace}" if settings.datastore_namespace else ""
        print(f"(store: {where or 'Datastore'} of {project}{namespace})", file=sys.stderr)
    return open_store(settings.store, settings.datastore_namespace)


def _print_audit(email: str, limit: int) -> int:
    """One line per audit record, oldest first, from the store the settings name."""
    from addon.store import AuditRecord

    store = _open_store()
    if store is None:
        return 2
    try:
        # Keys sort by time, so the newest are the last of the user's records.
        records = store.with_prefix(AuditRecord, email.strip().lower() + "/", AUDIT_SCAN_LIMIT)[-limit:]
    finally:
        store.close()
    for record in records:
        print(
            f"{record.at.isoformat(timespec='seconds')}  {record.action:<6}  {record.provider:<5}  "
            f"meeting {record.meeting_id}  event {record.event}  {record.outcome}"
        )
    if not records:
        print(f"no audit records for {email}", file=sys.stderr)
    return 0


def _serve(host: str, port: int) -> int:
    from werkzeug.serving import run_simple

    from addon import create_app
    from addon.settings import Settings

    os.environ.setdefault("ADDON_ENV", "development")
    os.environ.setdefault("ADDON_BASE_URL", f"http://localhost:{port}")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"Meeting Scheduler add-on ({settings.environment}) on http://{host}:{port}  store: {settings.store}",
        flush=True,
    )
    if settings.development:
        print(f"Preview the sidebar in your browser: {settings.base_url}/preview", flush=True)
    run_simple(host, port, create_app(settings), threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
