"""The command line: `serve` runs the add-on on this machine, `deployment` prints deployment.json for an origin."""

from __future__ import annotations

import argparse
import json
import os
import sys

from addon.settings import SettingsError


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

    audit = commands.add_parser("audit", help="list the meetings a user created, changed or deleted")
    audit.add_argument("--user", required=True, help="the user's email address")
    audit.add_argument("--limit", type=int, default=100)

    args = parser.parse_args(argv)
    if args.command == "deployment":
        return _print_deployment(args.base_url)
    if args.command == "audit":
        return _print_audit(args.user, args.limit)
    return _serve(args.host, args.port)


def _print_deployment(base_url: str) -> int:
    from addon.deployment import render_deployment

    try:
        print(json.dumps(render_deployment(base_url), indent=2))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _print_audit(email: str, limit: int) -> int:
    """One line per audit record, oldest first, from the store the settings name."""
    from addon.settings import Settings
    from addon.store import AuditRecord, open_store

    os.environ.setdefault("ADDON_ENV", "development")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    store = open_store(settings.store, settings.datastore_namespace)
    try:
        records = store.with_prefix(AuditRecord, email.strip().lower() + "/", limit)
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
    run_simple(host, port, create_app(settings), threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
