"""Throughput, latency and cold start of the verified Gmail message trigger, against a bare Flask endpoint.

Run from the repository root: `.venv/bin/python bench/trigger_throughput.py` (bench/README.md says more).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS_DIR = ROOT / "bench" / "results"
RESULTS_FILE = RESULTS_DIR / "trigger_throughput.json"
LOGS_DIR = RESULTS_DIR / "trigger_throughput-logs"

GUNICORN = Path(sys.executable).with_name("gunicorn")
# The same server settings for both targets; only the WSGI app differs.
GUNICORN_OPTIONS = ("-k", "gthread", "-w", "2", "--threads", "8")
APP_SPEC = "addon:create_app()"
BARE_SPEC = "bench.trigger_throughput:create_bare_app()"
BARE_BODY_ENV = "BENCH_BARE_BODY_FILE"

TRIGGER_PATH = "/gmail/message"
BASE_URL = "https://addon.bench"
SERVICE_ACCOUNT = "service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
OAUTH_CLIENT_ID = "123456789-bench.apps.googleusercontent.com"
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"
TOKEN_LIFETIME_SECONDS = 24 * 3600
MESSAGE_ID = "msg-f:1786543210987654321"
MESSAGE_TOKEN = "per-message-token-bench"
# Only a card built from the Gmail read names this sender; problem cards (also 200) do not.
CARD_MARKER = b"jane.doe@partner.example"

STARTUP_DEADLINE_SECONDS = 30.0
STOP_GRACE_SECONDS = 5.0

TARGET_THROUGHPUT_RATIO = 0.5
TARGET_COLD_START_SECONDS = 1.5
# "No cert fetch per request": one per worker process is expected; allow a few for an unknown-kid refresh.
TARGET_MAX_CERT_FETCHES_PER_REQUEST = 0.01


# The bare target -----------------------------------------------------------------------------


def create_bare_app() -> Flask:
    """Gunicorn entry point of the bare target: the captured real answer, served verbatim."""
    from flask import Flask, Response

    body = Path(os.environ[BARE_BODY_ENV]).read_bytes()
    app = Flask("bare_trigger")

    @app.post(TRIGGER_PATH)
    def gmail_message() -> Response:
        return Response(body, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


# The fake Google, in a process of its own ---------------------------------------------------


@dataclass(frozen=True)
class FakeGoogleInfo:
    url: str
    certs_url: str
    system_token: str
    event_body: bytes
    ca_bundle: str | None


@dataclass(frozen=True)
class FakeGoogleCounts:
    cert_fetches: int
    gmail_reads: int
    requests: int


def serve_fake_google(conn: Connection, tls_dir: str | None) -> None:
    """Child process: run FakeGoogle with one message and one user, mint long-lived tokens, answer the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when this stops
    from addon.settings import Settings
    from tests.fakes.google import FakeGoogle, FakeMessage
    from tests.google_caller import GoogleCaller

    fake = FakeGoogle()
    url, ca_bundle = fake.url, None
    if tls_dir is not None:
        url, ca_bundle = serve_over_tls(fake, Path(tls_dir))
    fake.start()
    fake.add_message(
        FakeMessage(
            message_id=MESSAGE_ID,
            access_token=MESSAGE_TOKEN,
            headers=[
                ("Subject", "Re: Fwd: Q3 budget review"),
                ("Date", "Mon, 23 Nov 2026 09:15:00 +0000"),
                ("From", '"Doe, Jane" <jane.doe@partner.example>'),
                ("To", "Alice Example <ALICE@corp.example>, bob@corp.example"),
                ("Cc", '"Chen, Wei (Finance)" <wei.chen@corp.example>, jane.doe@partner.example'),
            ],
        )
    )
    settings = Settings(
        environment="production",
        base_url=BASE_URL,
        service_account_email=SERVICE_ACCOUNT,
        oauth_client_id=OAUTH_CLIENT_ID,
        secret_key=SECRET_KEY,
    )
    # The caller only builds the event and tokens here; its Flask client is never used.
    caller = GoogleCaller(None, fake, settings)  # type: ignore[arg-type]
    event = caller.gmail_event(MESSAGE_ID, MESSAGE_TOKEN)
    expires = int(time.time()) + TOKEN_LIFETIME_SECONDS
    event["authorizationEventObject"]["userIdToken"] = caller.user_token(exp=expires)
    event["authorizationEventObject"]["systemIdToken"] = caller.system_token("/", exp=expires)
    conn.send(
        FakeGoogleInfo(
            url=url,
            certs_url=url + "/oauth2/v1/certs",
            system_token=caller.system_token(TRIGGER_PATH, exp=expires),
            event_body=json.dumps(event).encode(),
            ca_bundle=ca_bundle,
        )
    )
    try:
        while (command := conn.recv()) != "stop":
            if command == "counts":
                conn.send(
                    FakeGoogleCounts(
                        cert_fetches=fake.state.cert_fetches,
                        gmail_reads=len(fake.requests_to("/gmail/v1/users/me/messages/")),
                        requests=len(fake.state.requests),
                    )
                )
    except EOFError:
        pass  # the parent went away
    finally:
        fake.stop()


def serve_over_tls(fake: Any, tls_dir: Path) -> tuple[str, str]:
    """Put the fake's server behind TLS with a fresh self-signed certificate; return its https URL and a CA bundle.

    The bundle is certifi's plus the fake's certificate, so clients load as many roots as they would in production.
    """
    import ipaddress
    import ssl

    import certifi
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google-tls")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (tls_dir / "fake-google.pem").write_bytes(
        cert_pem
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    bundle = tls_dir / "ca-bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + cert_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_dir / "fake-google.pem")
    fake.use_tls(context)
    return fake.url, str(bundle)


class FakeGoogleProcess:
    """The parent's handle on the fake Google process."""

    def __init__(self, tls_dir: Path | None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=serve_fake_google,
            args=(child_conn, str(tls_dir) if tls_dir else None),
            name="fake-google",
            daemon=True,
        )
        self.process.start()
        child_conn.close()
        if not self._conn.poll(STARTUP_DEADLINE_SECONDS):
            raise RuntimeError("the fake Google did not start")
        self.info: FakeGoogleInfo = self._conn.recv()

    def counts(self) -> FakeGoogleCounts:
        self._conn.send("counts")
        return self._conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            with suppress(OSError):
                self._conn.send("stop")
            self.process.join(STOP_GRACE_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._conn.close()


# Gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GunicornServer:
    """One gunicorn master in its own process group, with its log in a file."""

    def __init__(self, spec: str, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.command = [str(GUNICORN), *GUNICORN_OPTIONS, "-b", f"127.0.0.1:{self.port}", spec]
        with log_path.open("wb") as log:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def pids(self) -> list[int]:
        """The master, then its workers."""
        return [self.process.pid, *children_of(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_GRACE_SECONDS)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # any worker left behind
        self.process.wait()


@contextmanager
def gunicorn(spec: str, env: dict[str, str], log_path: Path) -> Iterator[GunicornServer]:
    server = GunicornServer(spec, env, log_path)
    try:
        yield server
    finally:
        server.stop()


def children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return sorted(children)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


def call_once(port: int, call: Call, timeout: float) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(call.method, call.path, call.body, call.headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class FirstAnswer:
    seconds: float
    body: bytes
    non_200: dict[str, int]


def first_200(server: GunicornServer, call: Call) -> FirstAnswer:
    """Poll until `call` answers 200; seconds are counted from the spawn of gunicorn."""
    deadline = server.started_at + STARTUP_DEADLINE_SECONDS
    non_200: Counter[str] = Counter()
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}; see {server.log_path}")
        try:
            status, body = call_once(server.port, call, timeout=STARTUP_DEADLINE_SECONDS)
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            time.sleep(0.002)
            continue
        if status == 200:
            return FirstAnswer(time.perf_counter() - server.started_at, body, dict(non_200))
        non_200[str(status)] += 1
        time.sleep(0.01)
    raise RuntimeError(f"no 200 for {call.method} {call.path} within {STARTUP_DEADLINE_SECONDS:.0f} s")


# Load -------------------------------------------------------------------------------------


@dataclass
class ClientTally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    not_the_card: int = 0
    samples: list[str] = field(default_factory=list)


def drive_client(
    port: int, call: Call, start: threading.Barrier, stop: threading.Event, until: list[float], tally: ClientTally
) -> None:
    """One client: a persistent connection, one request at a time, until the deadline."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start.wait()
    clock = time.perf_counter
    try:
        while not stop.is_set() and clock() < until[0]:
            began = clock()
            try:
                conn.request(call.method, call.path, call.body, call.headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                tally.errors[type(error).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            tally.latencies.append(clock() - began)
            tally.statuses[str(response.status)] += 1
            if response.status != 200:
                if len(tally.samples) < 3:
                    tally.samples.append(f"{response.status}: {body[:300].decode(errors='replace')}")
            elif CARD_MARKER not in body:
                tally.not_the_card += 1
                if len(tally.samples) < 3:
                    tally.samples.append(f"200 without the message card: {body[:300].decode(errors='replace')}")
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    finally:
        conn.close()


@dataclass
class LoadResult:
    seconds: float
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    non_200: int
    errors: dict[str, int]
    not_the_card: int
    samples: list[str]


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))] if ordered else math.nan


def drive_load(port: int, call: Call, clients: int, seconds: float) -> LoadResult:
    """`clients` threads with keep-alive connections, each sending its next request when the last one answers."""
    start = threading.Barrier(clients + 1)
    stop = threading.Event()
    until = [math.inf]
    tallies = [ClientTally() for _ in range(clients)]
    threads = [
        threading.Thread(target=drive_client, args=(port, call, start, stop, until, tally), daemon=True)
        for tally in tallies
    ]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    until[0] = began + seconds
    start.wait()
    try:
        for thread in threads:
            thread.join()
    finally:
        stop.set()
    elapsed = time.perf_counter() - began
    latencies = sorted(latency for tally in tallies for latency in tally.latencies)
    statuses = sum((tally.statuses for tally in tallies), Counter())
    errors = sum((tally.errors for tally in tallies), Counter())
    return LoadResult(
        seconds=round(elapsed, 3),
        requests=len(latencies),
        requests_per_second=round(len(latencies) / elapsed, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 2),
        p99_ms=round(percentile(latencies, 99) * 1000, 2),
        max_ms=round(latencies[-1] * 1000 if latencies else math.nan, 2),
        statuses=dict(statuses),
        non_200=sum(n for status, n in statuses.items() if status != "200"),
        errors=dict(errors),
        not_the_card=sum(tally.not_the_card for tally in tallies),
        samples=[sample for tally in tallies for sample in tally.samples][:5],
    )


@dataclass
class TargetResult:
    name: str
    spec: str
    command: str
    warmup: LoadResult
    measured: LoadResult
    cpu_ms_per_request: dict[str, float]
    worker_cpu_seconds: list[float]
    cpu_busy_percent: float
    fake_google: dict[str, int] = field(default_factory=dict)
    log: str = ""
    log_problems: list[str] = field(default_factory=list)


def measure_target(
    name: str,
    spec: str,
    env: dict[str, str],
    call: Call,
    args: argparse.Namespace,
    fake: FakeGoogleProcess,
) -> TargetResult:
    """Start the target, warm it up, then measure it while recording CPU time of every process involved."""
    log_path = LOGS_DIR / f"{name}.log"
    before_fake = fake.counts()
    with gunicorn(spec, env, log_path) as server:
        first_200(server, Call("GET", "/healthz", None, {}))
        warmup = drive_load(server.port, call, args.clients, args.warmup)
        pids = server.pids()
        server_before = {pid: cpu_seconds(pid) for pid in pids}
        fake_before, own_before = cpu_seconds(fake.process.pid), own_cpu_seconds()
        measured = drive_load(server.port, call, args.clients, args.seconds)
        server_after = {pid: cpu_seconds(pid) for pid in pids}
        fake_after, own_after = cpu_seconds(fake.process.pid), own_cpu_seconds()
        command = " ".join(server.command)
    after_fake = fake.counts()

    server_cpu = sum(server_after.values()) - sum(server_before.values())
    fake_cpu, own_cpu = fake_after - fake_before, own_after - own_before
    per_request = 1000 / max(measured.requests, 1)
    return TargetResult(
        name=name,
        spec=spec,
        command=command,
        warmup=warmup,
        measured=measured,
        cpu_ms_per_request={
            "server": round(server_cpu * per_request, 3),
            "fake_google": round(fake_cpu * per_request, 3),
            "load_generator": round(own_cpu * per_request, 3),
        },
        worker_cpu_seconds=[round(server_after[pid] - server_before[pid], 2) for pid in pids[1:]],
        cpu_busy_percent=round(100 * (server_cpu + fake_cpu + own_cpu) / (measured.seconds * (os.cpu_count() or 1))),
        fake_google={
            "cert_fetches": after_fake.cert_fetches - before_fake.cert_fetches,
            "gmail_reads": after_fake.gmail_reads - before_fake.gmail_reads,
            "requests": after_fake.requests - before_fake.requests,
        },
        log=str(log_path.relative_to(ROOT)),
        log_problems=log_problems(log_path),
    )


# Cold start -------------------------------------------------------------------------------


@dataclass
class ColdStart:
    healthz_seconds: float
    trigger_seconds: float
    non_200: dict[str, int]
    cert_fetches: int
    log: str
    log_problems: list[str]


def cold_start(run: int, env: dict[str, str], call: Call, fake: FakeGoogleProcess) -> tuple[ColdStart, bytes]:
    """Spawn the real app; time the first 200 on /healthz, then on the verified trigger."""
    log_path = LOGS_DIR / f"cold-start-{run}.log"
    before = fake.counts()
    with gunicorn(APP_SPEC, env, log_path) as server:
        health = first_200(server, Call("GET", "/healthz", None, {}))
        trigger = first_200(server, call)
    non_200 = Counter(health.non_200) + Counter(trigger.non_200)
    result = ColdStart(
        healthz_seconds=round(health.seconds, 3),
        trigger_seconds=round(trigger.seconds, 3),
        non_200=dict(non_200),
        cert_fetches=fake.counts().cert_fetches - before.cert_fetches,
        log=str(log_path.relative_to(ROOT)),
        log_problems=log_problems(log_path),
    )
    return result, trigger.body


# Logs and report --------------------------------------------------------------------------


def log_problems(path: Path) -> list[str]:
    """Lines of a gunicorn log that are warnings, errors or tracebacks (gunicorn's or the app's JSON)."""
    problems = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                severity = json.loads(line).get("severity", "")
            except ValueError:
                severity = "UNPARSED"
            if severity not in ("DEBUG", "INFO"):
                problems.append(line)
        elif any(mark in line for mark in ("[WARNING]", "[ERROR]", "[CRITICAL]", "Traceback", "WORKER TIMEOUT")):
            problems.append(line)
    return problems


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def seconds_list(runs: list[dict[str, Any]], key: str) -> str:
    return "  ".join(f"{run[key]:.3f}" for run in runs)


def report(results: dict[str, Any]) -> str:
    app, bare = results["targets"]["app"], results["targets"]["bare"]
    cold = results["cold_start"]
    load = results["load"]
    lines = [
        "",
        f"Trigger throughput: POST {TRIGGER_PATH}, {load['clients']} keep-alive clients, "
        f"{load['warmup_seconds']:g} s warm-up + {load['seconds']:g} s measured per target, "
        f"{results['machine']['cpus']} CPUs, fake Google over {results['fake_google_scheme']}",
        f"server: gunicorn {' '.join(GUNICORN_OPTIONS)} -b 127.0.0.1:PORT <app>",
        "",
        f"{'target':<6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'requests':>9} {'non-200':>8} "
        f"{'errors':>7} {'server CPU ms/req':>18} {'worker CPU s':>13} {'box busy':>9}",
    ]
    for name, target in (("app", app), ("bare", bare)):
        m = target["measured"]
        lines.append(
            f"{name:<6} {m['requests_per_second']:>8.1f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f} {m['max_ms']:>8.2f} "
            f"{m['requests']:>9} {m['non_200']:>8} {sum(m['errors'].values()):>7} "
            f"{target['cpu_ms_per_request']['server']:>18.3f} "
            f"{'/'.join(f'{s:g}' for s in target['worker_cpu_seconds']):>13} {target['cpu_busy_percent']:>8}%"
        )
    lines += [
        "",
        f"CPU ms per app request: server {app['cpu_ms_per_request']['server']:.3f}, "
        f"fake Google {app['cpu_ms_per_request']['fake_google']:.3f}, "
        f"load generator {app['cpu_ms_per_request']['load_generator']:.3f} "
        f"(bare: load generator {bare['cpu_ms_per_request']['load_generator']:.3f})",
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
    app = results["targets"]["app"]
    if app["fake_google"]["gmail_reads"] != results["app_requests"]:
        problems.append(
            f"the fake saw {app['fake_google']['gmail_reads']} Gmail reads for {results['app_requests']} app requests"
        )
    return problems


# Main -------------------------------------------------------------------------------------


def server_env(fake: FakeGoogleInfo, tmp: Path, bare_body: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ADDON_")}
    env.update(
        ADDON_ENV="production",
        ADDON_BASE_URL=BASE_URL,
        ADDON_SERVICE_ACCOUNT_EMAIL=SERVICE_ACCOUNT,
        ADDON_OAUTH_CLIENT_ID=OAUTH_CLIENT_ID,
        ADDON_SECRET_KEY=SECRET_KEY,
        ADDON_STORE=f"sqlite:///{tmp / 'bench.db'}",
        ADDON_GOOGLE_CERTS_URL=fake.certs_url,
        ADDON_GOOGLE_API_ENDPOINT=fake.url,
        **{BARE_BODY_ENV: str(bare_body)},
    )
    if fake.ca_bundle:
        env.update(HTTPLIB2_CA_CERTS=fake.ca_bundle, REQUESTS_CA_BUNDLE=fake.ca_bundle)
    return env


def run(args: argparse.Namespace) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trigger-bench-")))
        LOGS_DIR.mkdir(parents=True, exist_ok=True)
        fake = FakeGoogleProcess(tmp if args.google_tls else None)
        stack.callback(fake.stop)
        bare_body = tmp / "gmail-message-response.json"
        env = server_env(fake.info, tmp, bare_body)
        call = Call(
            "POST",
            TRIGGER_PATH,
            fake.info.event_body,
            {"Authorization": f"Bearer {fake.info.system_token}", "Content-Type": "application/json"},
        )

        print(f"cold start x{args.cold_starts} ...", flush=True)
        cold_runs = []
        for run_number in range(1, args.cold_starts + 1):
            cold, body = cold_start(run_number, env, call, fake)
            cold_runs.append(cold)
            if not bare_body.exists():
                if CARD_MARKER not in body:
                    raise RuntimeError(f"the real app's first answer is not the message card: {body[:500]!r}")
                bare_body.write_bytes(body)

        targets = {}
        for name, spec in (("app", APP_SPEC), ("bare", BARE_SPEC)):
            print(f"{name}: {args.warmup:g} s warm-up + {args.seconds:g} s measured ...", flush=True)
            targets[name] = measure_target(name, spec, env, call, args, fake)

    app, bare = targets["app"], targets["bare"]
    app_requests = app.warmup.requests + app.measured.requests
    ratio = app.measured.requests_per_second / bare.measured.requests_per_second
    fetches_per_request = app.fake_google["cert_fetches"] / max(app_requests, 1)
    median_healthz = statistics.median(c.healthz_seconds for c in cold_runs)
    median_trigger = statistics.median(c.trigger_seconds for c in cold_runs)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "load": {"clients": args.clients, "warmup_seconds": args.warmup, "seconds": args.seconds},
        "fake_google_scheme": "https" if args.google_tls else "http",
        "gunicorn": f"gunicorn {' '.join(GUNICORN_OPTIONS)} -b 127.0.0.1:PORT <app>",
        "targets": {"app": asdict(app), "bare": asdict(bare)},
        "throughput_ratio_app_to_bare": round(ratio, 3),
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
                "value": f"{ratio:.1%} ({app.measured.requests_per_second:.0f} vs "
                f"{bare.measured.requests_per_second:.0f} req/s)",
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
