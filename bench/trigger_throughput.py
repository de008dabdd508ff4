"""Throughput, latency and cold start of the verified Gmail message trigger, against a bare Flask endpoint.

Run from the repository root: `.venv/bin/python bench/trigger_throughput.py` (bench/README.md says more).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import bare_app, least_work_app, tls  # noqa: E402 - after the path is set
from bench.harness.cpu import children_of, cpu_seconds, own_cpu_seconds  # noqa: E402
from bench.harness.fake_process import FakeProcess, fake_in_process  # noqa: E402
from bench.harness.gmail_trigger import (  # noqa: E402
    CARD_MARKER,
    SERVING,
    TRIGGER_PATH,
    ArrangedGoogle,
    GoogleCounts,
    addon_env,
    arrange_google,
    google_counts,
    is_the_card,
)
from bench.harness.load import Call, Load, Tally, run_load  # noqa: E402
from bench.harness.logs import log_problems  # noqa: E402
from bench.harness.report import LoadSummary, busy_percent, ms_per_request, summarize, table, verdict  # noqa: E402
from tests.fakes.google import FakeGoogle  # noqa: E402
from tests.live_server import Gunicorn, served_by_gunicorn  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
RESULTS_FILE = RESULTS_DIR / "trigger_throughput.json"
LOGS_DIR = RESULTS_DIR / "trigger_throughput-logs"

# The same server for every target, as deployed (bench/harness/gmail_trigger.py); only the WSGI app differs.
GUNICORN_OPTIONS: tuple[str, ...] = ()
APP_SPEC = "addon:create_app()"

TARGET_THROUGHPUT_RATIO = 0.5
# Against the least-work implementation of the same trigger (bench/harness/least_work_app.py).
TARGET_LEAST_WORK_RATIO = 0.8
TARGET_COLD_START_SECONDS = 1.5
# "No cert fetch per request": one per worker process is expected; allow a few for an unknown-kid refresh.
TARGET_MAX_CERT_FETCHES_PER_REQUEST = 0.01


# Load on one target -----------------------------------------------------------------------


def load_json(summary: LoadSummary) -> dict[str, Any]:
    """A load under the names the results file has always used: a refused 200 is one without the message card."""
    fields = asdict(summary)
    refused, samples = fields.pop("refused"), fields.pop("samples")
    return {**fields, "not_the_card": refused, "samples": samples}


@dataclass
class TargetResult:
    name: str
    spec: str
    command: str
    warmup: dict[str, Any]
    measured: dict[str, Any]
    cpu_ms_per_request: dict[str, float]
    worker_cpu_seconds: list[float]
    cpu_busy_percent: float
    fake_google: dict[str, int] = field(default_factory=dict)
    log: str = ""
    log_problems: list[str] = field(default_factory=list)


@dataclass
class Tracked:
    """One target being measured: its server, and what its measured windows added up to so far."""

    name: str
    spec: str
    server: Gunicorn
    pids: list[int]
    log_path: Path
    warmup: LoadSummary | None = None
    windows: list[Load] = field(default_factory=list)
    server_cpu: dict[int, float] = field(default_factory=dict)
    fake_cpu: float = 0.0
    own_cpu: float = 0.0
    fake_google: Counter[str] = field(default_factory=Counter)

    def counted(self, before: GoogleCounts, after: GoogleCounts) -> None:
        self.fake_google.update(
            cert_fetches=after.cert_fetches - before.cert_fetches,
            gmail_reads=after.gmail_reads - before.gmail_reads,
            requests=after.requests - before.requests,
        )


def measure_targets(
    targets: list[tuple[str, str]],
    env: dict[str, str],
    call: Call,
    args: argparse.Namespace,
    fake: FakeProcess[FakeGoogle],
) -> dict[str, TargetResult]:
    """Start every target, warm each up, then measure them in turn, round after round, recording the CPU time of
    every process involved: a change in what else the machine runs then falls on every target alike."""
    load = {"clients": args.clients, "accept": is_the_card, "refusal": "200 without the message card"}
    window = args.seconds / args.rounds
    with ExitStack() as stack:
        tracked = []
        for name, spec in targets:
            log_path = LOGS_DIR / f"{name}.log"
            server, _ = stack.enter_context(served_by_gunicorn(env, log_path, *GUNICORN_OPTIONS, app=spec))
            tracked.append(Tracked(name, spec, server, [], log_path))
        for target in tracked:
            print(f"{target.name}: {args.warmup:g} s warm-up ...", flush=True)
            before = fake.ask(google_counts)
            target.warmup = summarize(run_load(target.server.port, lambda n: call, seconds=args.warmup, **load))
            target.counted(before, fake.ask(google_counts))
            # Every worker has booted by now (the first answer on /healthz needs only one).
            target.pids = [target.server.process.pid, *children_of(target.server.process.pid)]
        print(f"measuring: {args.rounds} rounds of {window:g} s per target ...", flush=True)
        for _ in range(args.rounds):
            for target in tracked:
                before, server_before = fake.ask(google_counts), {pid: cpu_seconds(pid) for pid in target.pids}
                fake_before, own_before = cpu_seconds(fake.pid), own_cpu_seconds()
                target.windows.append(run_load(target.server.port, lambda n: call, seconds=window, **load))
                for pid in target.pids:
                    target.server_cpu[pid] = target.server_cpu.get(pid, 0.0) + cpu_seconds(pid) - server_before[pid]
                target.fake_cpu += cpu_seconds(fake.pid) - fake_before
                target.own_cpu += own_cpu_seconds() - own_before
                target.counted(before, fake.ask(google_counts))
    return {target.name: result_of(target) for target in tracked}


def result_of(target: Tracked) -> TargetResult:
    measured = summarize(merged(target.windows))
    server_cpu = sum(target.server_cpu.values())
    assert target.warmup is not None
    return TargetResult(
        name=target.name,
        spec=target.spec,
        command=" ".join(target.server.command),
        warmup=load_json(target.warmup),
        measured=load_json(measured),
        cpu_ms_per_request={
            "server": ms_per_request(server_cpu, measured.requests),
            "fake_google": ms_per_request(target.fake_cpu, measured.requests),
            "load_generator": ms_per_request(target.own_cpu, measured.requests),
        },
        worker_cpu_seconds=[round(target.server_cpu[pid], 2) for pid in target.pids[1:]],
        cpu_busy_percent=busy_percent(server_cpu + target.fake_cpu + target.own_cpu, measured.seconds),
        fake_google=dict(target.fake_google),
        log=str(target.log_path.relative_to(ROOT)),
        log_problems=log_problems(target.log_path),
    )


def merged(windows: list[Load]) -> Load:
    """The measured windows of one target as one load: their time and what their clients saw, added up."""
    tallies = [w.tally for w in windows]
    tally = Tally(
        latencies=[latency for t in tallies for latency in t.latencies],
        statuses=sum((t.statuses for t in tallies), Counter()),
        errors=sum((t.errors for t in tallies), Counter()),
        refused=sum(t.refused for t in tallies),
        samples=[sample for t in tallies for sample in t.samples][:5],
    )
    return Load(began=windows[0].began, seconds=sum(w.seconds for w in windows), tally=tally)


# Cold start -------------------------------------------------------------------------------


@dataclass
class ColdStart:
    healthz_seconds: float
    trigger_seconds: float
    non_200: dict[str, int]
    cert_fetches: int
    log: str
    log_problems: list[str]


def cold_start(run: int, env: dict[str, str], call: Call, fake: FakeProcess[FakeGoogle]) -> tuple[ColdStart, bytes]:
    """Spawn the real app; time the first 200 on /healthz, then on the verified trigger."""
    log_path = LOGS_DIR / f"cold-start-{run}.log"
    before = fake.ask(google_counts)
    with served_by_gunicorn(env, log_path, *GUNICORN_OPTIONS, app=APP_SPEC) as (server, health):
        trigger = server.first_200(call.method, call.path, call.body, call.headers)
    result = ColdStart(
        healthz_seconds=round(health.seconds, 3),
        trigger_seconds=round(trigger.seconds, 3),
        non_200=dict(Counter(health.non_200) + Counter(trigger.non_200)),
        cert_fetches=fake.ask(google_counts).cert_fetches - before.cert_fetches,
        log=str(log_path.relative_to(ROOT)),
        log_problems=log_problems(log_path),
    )
    return result, trigger.body


# Report -----------------------------------------------------------------------------------


def seconds_list(runs: list[dict[str, Any]], key: str) -> str:
    return "  ".join(f"{run[key]:.3f}" for run in runs)


COLUMNS = (
    ("target", 6),
    ("req/s", 8),
    ("p50 ms", 8),
    ("p99 ms", 8),
    ("max ms", 8),
    ("requests", 9),
    ("non-200", 8),
    ("errors", 7),
    ("server CPU ms/req", 18),
    ("worker CPU s", 13),
    ("box busy", 9),
)


def target_row(name: str, target: dict[str, Any]) -> list[str]:
    m = target["measured"]
    return [
        name,
        f"{m['requests_per_second']:.1f}",
        f"{m['p50_ms']:.2f}",
        f"{m['p99_ms']:.2f}",
        f"{m['max_ms']:.2f}",
        f"{m['requests']}",
        f"{m['non_200']}",
        f"{sum(m['errors'].values())}",
        f"{target['cpu_ms_per_request']['server']:.3f}",
        "/".join(f"{s:g}" for s in target["worker_cpu_seconds"]),
        f"{target['cpu_busy_percent']}%",
    ]


def report(results: dict[str, Any]) -> str:
    app, bare = results["targets"]["app"], results["targets"]["bare"]
    cold = results["cold_start"]
    load = results["load"]
    lines = [
        "",
        f"Trigger throughput: POST {TRIGGER_PATH}, {load['clients']} keep-alive clients, "
        f"{load['warmup_seconds']:g} s warm-up + {load['seconds']:g} s measured per target "
        f"(in {load['rounds']} turns, the targets taking turns), "
        f"{results['machine']['cpus']} CPUs, fake Google over {results['fake_google_scheme']}",
        f"server: {results['gunicorn']}",
        "",
        *table(COLUMNS, [target_row(name, target) for name, target in results["targets"].items()]),
        "",
        f"CPU ms per app request: server {app['cpu_ms_per_request']['server']:.3f}, "
        f"fake Google {app['cpu_ms_per_request']['fake_google']:.3f}, "
        f"load generator {app['cpu_ms_per_request']['load_generator']:.3f} "
        f"(bare: load generator {bare['cpu_ms_per_request']['load_generator']:.3f})",
        f"app against least work: {results['throughput_ratio_app_to_least_work']:.3f} of its req/s, "
        f"{results['server_cpu_ratio_least_work_to_app']:.3f} of its server CPU per request is the least's",
        "",
        f"Cold start of the real app ({len(cold['runs'])} runs, seconds from spawning gunicorn):",
        f"  first 200 on GET /healthz         {seconds_list(cold['runs'], 'healthz_seconds')}"
        f"   median {cold['median_healthz_seconds']:.3f}",
        f"  first 200 on POST {TRIGGER_PATH}   {seconds_list(cold['runs'], 'trigger_seconds')}"
        f"   median {cold['median_trigger_seconds']:.3f}",
        "",
        "Fake Google during the app's load phase (warm-up + measured):",
        f"  app requests answered      {results['app_requests']}",
        f"  cert fetches               {app['fake_google']['cert_fetches']} "
        f"({results['cert_fetches_per_request']:.5f} per request; 2 workers)",
        f"  Gmail messages.get calls   {app['fake_google']['gmail_reads']} "
        f"({results['gmail_reads_per_request']:.3f} per request)",
        "",
        "Targets:",
    ]
    for target in results["targets_check"]:
        lines.append(f"  {target['verdict']}  {target['name']:<45} {target['value']}")
    lines.append("")
    if results["problems"]:
        lines.append("PROBLEMS:")
        lines += [f"  - {problem}" for problem in results["problems"]]
    else:
        lines.append("No problems: every response was 200 with the message card, and the logs have no warnings.")
    lines += ["", f"JSON: {RESULTS_FILE.relative_to(ROOT)}   logs: {LOGS_DIR.relative_to(ROOT)}/"]
    return "\n".join(lines)


def problems_of(results: dict[str, Any]) -> list[str]:
    problems = []
    for run, cold in enumerate(results["cold_start"]["runs"], 1):
        if cold["non_200"]:
            problems.append(f"cold start {run}: non-200 answers while starting: {cold['non_200']}")
        problems += [f"cold start {run} log: {line[:300]}" for line in cold["log_problems"][:3]]
    for name, target in results["targets"].items():
        for phase in ("warmup", "measured"):
            load = target[phase]
            if load["non_200"] or load["errors"] or load["not_the_card"]:
                problems.append(
                    f"{name} {phase}: {load['non_200']} non-200 {load['statuses']}, errors {load['errors']}, "
                    f"{load['not_the_card']} 200s without the message card; e.g. {load['samples'][:2]}"
                )
        if target["log_problems"]:
            problems.append(f"{name}: {len(target['log_problems'])} warning/error lines in {target['log']}")
            problems += [f"{name} log: {line[:300]}" for line in target["log_problems"][:3]]
    for name in ("app", "least"):
        target = results["targets"][name]
        answered = target["warmup"]["requests"] + target["measured"]["requests"]
        if target["fake_google"]["gmail_reads"] != answered:
            reads = target["fake_google"]["gmail_reads"]
            problems.append(f"the fake saw {reads} Gmail reads for {answered} {name} requests")
    return problems


# Main -------------------------------------------------------------------------------------


def server_env(google: ArrangedGoogle, tmp: Path, bare_body: Path, tls_files: tls.TlsFiles | None) -> dict[str, str]:
    env = addon_env(google, tmp / "bench.db")
    env.update(bare_app.bare_env(TRIGGER_PATH, bare_body))
    if tls_files is not None:
        env.update(tls.trusting_env(tls_files))
    return env


def run(args: argparse.Namespace) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trigger-bench-")))
        LOGS_DIR.mkdir(parents=True, exist_ok=True)
        tls_files = tls.self_signed(tmp) if args.google_tls else None
        certificate = tls_files.certificate_and_key if tls_files else None
        fake = stack.enter_context(fake_in_process(FakeGoogle, arrange_google, certificate))
        google: ArrangedGoogle = fake.arranged
        bare_body = tmp / "gmail-message-response.json"
        env = server_env(google, tmp, bare_body, tls_files)
        call = google.call()

        print(f"cold start x{args.cold_starts} ...", flush=True)
        cold_runs = []
        for run_number in range(1, args.cold_starts + 1):
            cold, body = cold_start(run_number, env, call, fake)
            cold_runs.append(cold)
            if not bare_body.exists():
                if CARD_MARKER not in body:
                    raise RuntimeError(f"the real app's first answer is not the message card: {body[:500]!r}")
                bare_body.write_bytes(body)

        specs = [("app", APP_SPEC), ("least", least_work_app.SPEC), ("bare", bare_app.SPEC)]
        targets = measure_targets(specs, env, call, args, fake)

    app, least, bare = targets["app"], targets["least"], targets["bare"]
    app_requests = app.warmup["requests"] + app.measured["requests"]
    app_rate, bare_rate = app.measured["requests_per_second"], bare.measured["requests_per_second"]
    least_rate = least.measured["requests_per_second"]
    ratio, least_ratio = app_rate / bare_rate, app_rate / least_rate
    fetches_per_request = app.fake_google["cert_fetches"] / max(app_requests, 1)
    median_healthz = statistics.median(c.healthz_seconds for c in cold_runs)
    median_trigger = statistics.median(c.trigger_seconds for c in cold_runs)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load": {
            "clients": args.clients,
            "warmup_seconds": args.warmup,
            "seconds": args.seconds,
            "rounds": args.rounds,
        },
        "fake_google_scheme": "https" if args.google_tls else "http",
        "gunicorn": f"{SERVING}, -b 127.0.0.1:PORT <app>",
        "targets": {"app": asdict(app), "least": asdict(least), "bare": asdict(bare)},
        "throughput_ratio_app_to_bare": round(ratio, 3),
        "throughput_ratio_app_to_least_work": round(least_ratio, 3),
        "server_cpu_ratio_least_work_to_app": round(
            least.cpu_ms_per_request["server"] / max(app.cpu_ms_per_request["server"], 1e-9), 3
        ),
        "server_cpu_ratio_bare_to_app": round(
            bare.cpu_ms_per_request["server"] / max(app.cpu_ms_per_request["server"], 1e-9), 3
        ),
        "cold_start": {
            "runs": [asdict(c) for c in cold_runs],
            "median_healthz_seconds": median_healthz,
            "median_trigger_seconds": median_trigger,
        },
        "app_requests": app_requests,
        "cert_fetches_per_request": fetches_per_request,
        "gmail_reads_per_request": app.fake_google["gmail_reads"] / max(app_requests, 1),
        "targets_check": [
            {
                "name": "app throughput >= 50% of bare",
                "verdict": verdict(ratio >= TARGET_THROUGHPUT_RATIO),
                "value": f"{ratio:.1%} ({app_rate:.0f} vs {bare_rate:.0f} req/s)",
            },
            {
                "name": "app throughput >= 80% of least work",
                "verdict": verdict(least_ratio >= TARGET_LEAST_WORK_RATIO),
                "value": f"{least_ratio:.1%} ({app_rate:.0f} vs {least_rate:.0f} req/s)",
            },
            {
                "name": "no cert fetch per request",
                "verdict": verdict(fetches_per_request <= TARGET_MAX_CERT_FETCHES_PER_REQUEST),
                "value": f"{app.fake_google['cert_fetches']} fetches for {app_requests} requests",
            },
            {
                "name": "cold start < 1.5 s (spawn -> first verified 200)",
                "verdict": verdict(median_trigger < TARGET_COLD_START_SECONDS),
                "value": f"median {median_trigger:.3f} s (/healthz {median_healthz:.3f} s)",
            },
        ],
    }
    results["problems"] = problems_of(results)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients (default 16)")
    parser.add_argument("--seconds", type=float, default=12.0, help="measured seconds per target (default 12)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per target (default 3)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="the measured seconds are split into this many turns (default 4)"
    )
    parser.add_argument("--cold-starts", type=int, default=3, help="cold starts to take the median of (default 3)")
    parser.add_argument(
        "--google-tls",
        action="store_true",
        help="serve the fake Google over https, so the app pays for TLS to Google as in production",
    )
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
    return 1 if results["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
