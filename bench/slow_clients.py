"""Legitimate requests while 500 idle connections and 40 slow senders hold the server: stock gthread, then as deployed.

Run from the repository root: `.venv/bin/python bench/slow_clients.py` (bench/README.md says more).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from addon.settings import Settings  # noqa: E402 - after the path is set
from bench.harness.fake_process import fake_in_process  # noqa: E402
from bench.harness.load import Call, Load, run_load  # noqa: E402
from bench.harness.logs import log_problems  # noqa: E402
from bench.harness.report import percentile, table, verdict  # noqa: E402
from tests.fakes.google import FakeGoogle  # noqa: E402
from tests.google_caller import GoogleCaller  # noqa: E402
from tests.live_server import served_by_gunicorn  # noqa: E402
from tests.slow_clients import SlowClients  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
RESULTS_FILE = RESULTS_DIR / "slow_clients.json"
LOGS_DIR = RESULTS_DIR / "slow_clients-logs"

# Both with gunicorn.conf.py and the production serving settings; "before" only swaps the worker back to stock.
TARGETS = {"gthread (stock)": ("-k", "gthread"), "deployed": ()}
SERVING_ENV = {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "8"}
TRIGGER_PATH = "/gmail/home"
BASE_URL = "https://addon.bench"
SERVICE_ACCOUNT = "service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
OAUTH_CLIENT_ID = "123456789-bench.apps.googleusercontent.com"
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
TOKEN_LIFETIME_SECONDS = 24 * 3600
ANSWER_SECONDS = 5.0
TARGET_SECONDS = 1.0
START_ATTACK_SECONDS = 30.0


@dataclass(frozen=True)
class Arranged:
    certs_url: str
    url: str
    event_body: bytes
    system_token: str


def arrange_google(fake: FakeGoogle) -> Arranged:
    """The event and tokens of a verified homepage trigger, minted once, long-lived."""
    settings = Settings(
        environment="production",
        base_url=BASE_URL,
        service_account_email=SERVICE_ACCOUNT,
        oauth_client_id=OAUTH_CLIENT_ID,
        secret_key=SECRET_KEY,
    )
    caller = GoogleCaller(None, fake, settings)  # type: ignore[arg-type]
    expires = int(time.time()) + TOKEN_LIFETIME_SECONDS
    event = caller.event("GMAIL")
    event["authorizationEventObject"]["userIdToken"] = caller.user_token(exp=expires)
    return Arranged(
        certs_url=fake.certs_url,
        url=fake.url,
        event_body=json.dumps(event).encode(),
        system_token=caller.system_token(TRIGGER_PATH, exp=expires),
    )


@dataclass
class Phase:
    """Legitimate requests in one phase: how many, how many answered 200, how many answered within 1 s, latencies."""

    requests: int
    answered_200: int
    within_target: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    not_answered: dict[str, int]
    statuses: dict[str, int]
    samples: list[str]


def phase_of(load: Load) -> Phase:
    tally = load.tally
    latencies = sorted(tally.latencies)
    answered = tally.statuses.get("200", 0)
    return Phase(
        requests=len(latencies) + sum(tally.errors.values()),
        answered_200=answered,
        within_target=sum(1 for latency in latencies if latency <= TARGET_SECONDS),
        p50_ms=round(percentile(latencies, 50) * 1000, 1),
        p99_ms=round(percentile(latencies, 99) * 1000, 1),
        max_ms=round(latencies[-1] * 1000, 1) if latencies else float("nan"),
        not_answered=dict(tally.errors),
        statuses=dict(tally.statuses),
        samples=list(tally.samples),
    )


def measure(
    name: str, options: tuple[str, ...], env: dict[str, str], calls: list[Call], args: argparse.Namespace
) -> dict[str, Any]:
    """Start the target; legitimate load alone, then while idle and slow clients hold it."""
    log_path = LOGS_DIR / f"{name.split()[0]}.log"
    load = {"clients": args.clients, "timeout": ANSWER_SECONDS}
    with served_by_gunicorn(env, log_path, *options) as (server, _):
        quiet = phase_of(run_load(server.port, lambda n: calls[n % 2], seconds=args.quiet_seconds, **load))
        heads = args.slow // 2
        attack = SlowClients(server.port, idle=args.idle, slow_heads=heads, slow_bodies=args.slow - heads, reopen=True)
        try:
            deadline = time.monotonic() + START_ATTACK_SECONDS
            while attack.ticks < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            attacked = phase_of(run_load(server.port, lambda n: calls[n % 2], seconds=args.seconds, **load))
            reopened = attack.reopened
        finally:
            attack.stop()
        command = " ".join(server.command)
    return {
        "command": command,
        "quiet": asdict(quiet),
        "attacked": asdict(attacked),
        "attackers_reopened": reopened,
        "log": str(log_path.relative_to(ROOT)),
        "log_problems": log_problems(log_path)[:5],
    }


COLUMNS = (
    ("worker", 16),
    ("phase", 9),
    ("requests", 9),
    ("200", 5),
    ("<= 1 s", 7),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("max ms", 8),
    ("not answered in 5 s", 20),
)


def ms(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"  # NaN: nothing was answered


def row(name: str, phase_name: str, phase: dict[str, Any]) -> list[str]:
    return [
        name,
        phase_name,
        str(phase["requests"]),
        str(phase["answered_200"]),
        str(phase["within_target"]),
        ms(phase["p50_ms"]),
        ms(phase["p99_ms"]),
        ms(phase["max_ms"]),
        str(sum(phase["not_answered"].values())),
    ]


def report(results: dict[str, Any]) -> str:
    setting = results["load"]
    rows = [
        row(name, phase_name, target[phase_name])
        for name, target in results["targets"].items()
        for phase_name in ("quiet", "attacked")
    ]
    lines = [
        "",
        f"Slow clients: {setting['idle']} idle connections and {setting['slow']} slow senders (half a head, half a "
        f"body, a byte a second; re-opened when closed), {results['machine']['cpus']} CPUs",
        f"Legitimate load: {setting['clients']} clients, each request on a new connection, GET /healthz and a "
        f"verified POST {TRIGGER_PATH} in turn, {ANSWER_SECONDS:g} s timeout; "
        f"{setting['quiet_seconds']:g} s alone, then {setting['seconds']:g} s under the slow clients",
        "server: gunicorn [-k gthread] -b 127.0.0.1:PORT 'addon:create_app()', "
        "WEB_CONCURRENCY=2 x GUNICORN_THREADS=8 (gunicorn.conf.py), ADDON_ENV=production",
        "",
        *table(COLUMNS, rows),
        "",
        "Targets:",
    ]
    lines += [f"  {check['verdict']}  {check['name']:<58} {check['value']}" for check in results["checks"]]
    lines.append("")
    if results["problems"]:
        lines.append("PROBLEMS:")
        lines += [f"  - {problem}" for problem in results["problems"]]
    else:
        lines.append("No problems: every answer as deployed was a 200, and its log has no warnings.")
    lines += ["", f"JSON: {RESULTS_FILE.relative_to(ROOT)}   logs: {LOGS_DIR.relative_to(ROOT)}/"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * (args.idle + args.slow) + 1000
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="slow-clients-bench-")))
        LOGS_DIR.mkdir(parents=True, exist_ok=True)
        google: Arranged = stack.enter_context(fake_in_process(FakeGoogle, arrange_google)).arranged
        env = {name: value for name, value in os.environ.items() if not name.startswith("ADDON_")}
        env.update(
            SERVING_ENV,
            ADDON_ENV="production",
            ADDON_BASE_URL=BASE_URL,
            ADDON_SERVICE_ACCOUNT_EMAIL=SERVICE_ACCOUNT,
            ADDON_OAUTH_CLIENT_ID=OAUTH_CLIENT_ID,
            ADDON_SECRET_KEY=SECRET_KEY,
            ADDON_STORE=f"sqlite:///{tmp / 'bench.db'}",
            ADDON_GOOGLE_CERTS_URL=google.certs_url,
            ADDON_GOOGLE_API_ENDPOINT=google.url,
        )
        closing = {"Connection": "close"}
        calls = [
            Call("GET", "/healthz", None, closing),
            Call(
                "POST",
                TRIGGER_PATH,
                google.event_body,
                {"Authorization": f"Bearer {google.system_token}", "Content-Type": "application/json", **closing},
            ),
        ]
        targets = {}
        for name, options in TARGETS.items():
            print(f"{name}: {args.quiet_seconds:g} s alone + {args.seconds:g} s under slow clients ...", flush=True)
            targets[name] = measure(name, options, env, calls, args)

    deployed = targets["deployed"]["attacked"]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load": vars(args),
        "targets": targets,
        "checks": [
            {
                "name": "as deployed, every legitimate request answered 200 in 1 s",
                "verdict": verdict(0 < deployed["requests"] == deployed["within_target"] == deployed["answered_200"]),
                "value": f"{deployed['within_target']} of {deployed['requests']} (max {deployed['max_ms']:.0f} ms)",
            }
        ],
    }
    problems = []
    for phase_name in ("quiet", "attacked"):
        phase = targets["deployed"][phase_name]
        if phase["answered_200"] != phase["requests"]:
            problems.append(f"deployed, {phase_name}: {phase['statuses']}, not answered {phase['not_answered']}")
    problems += [f"deployed log: {line[:300]}" for line in targets["deployed"]["log_problems"]]
    results["problems"] = problems
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=500, help="idle connections held (default 500)")
    parser.add_argument("--slow", type=int, default=40, help="slow senders held, half heads, half bodies (default 40)")
    parser.add_argument("--clients", type=int, default=4, help="legitimate clients (default 4)")
    parser.add_argument("--quiet-seconds", type=float, default=5.0, help="legitimate load alone (default 5)")
    parser.add_argument("--seconds", type=float, default=15.0, help="legitimate load under slow clients (default 15)")
    args = parser.parse_args()

    # SIGTERM unwinds like Ctrl-C, so every server and the fake are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        results = run(args)
    except KeyboardInterrupt:
        print("interrupted; servers and the fake Google are stopped", file=sys.stderr)
        return 130
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 1 if results["problems"] or results["checks"][0]["verdict"] != "PASS" else 0


if __name__ == "__main__":
    sys.exit(main())
