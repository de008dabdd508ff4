"""Keep-alive clients on 127.0.0.1, each sending its next call once the last is answered, to a count or a deadline."""

from __future__ import annotations

import http.client
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"  # loopback only: a load is never sent anywhere else
SAMPLES_PER_CLIENT = 3
SAMPLES = 5


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


@dataclass
class Tally:
    """What the clients saw: every latency, status and connection error, and the answers refused."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    samples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Load:
    """A finished load: when it began (perf_counter), how long it ran, and what the clients saw."""

    began: float
    seconds: float
    tally: Tally


def _drive(
    port: int,
    next_call: Callable[[int], Call],
    accept: Callable[[bytes], bool],
    refusal: str,
    *,
    calls: float,
    timeout: float,
    start: threading.Barrier,
    until: list[float],
    tally: Tally,
) -> None:
    """One client: a persistent connection, one call at a time, until its count or the deadline."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    start.wait()
    clock = time.perf_counter
    sent = 0
    try:
        while sent < calls and clock() < until[0]:
            call = next_call(sent)
            sent += 1
            began = clock()
            try:
                conn.request(call.method, call.path, call.body, call.headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                tally.errors[type(error).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
                continue
            tally.latencies.append(clock() - began)
            tally.statuses[str(response.status)] += 1
            if response.status != 200:
                if len(tally.samples) < SAMPLES_PER_CLIENT:
                    tally.samples.append(f"{response.status}: {body[:300].decode(errors='replace')}")
            elif not accept(body):
                tally.refused += 1
                if len(tally.samples) < SAMPLES_PER_CLIENT:
                    tally.samples.append(f"{refusal}: {body[:300].decode(errors='replace')}")
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    finally:
        conn.close()


def run_load(
    port: int,
    next_call: Callable[[int], Call],
    *,
    clients: int,
    seconds: float,
    calls_per_client: int | None = None,
    accept: Callable[[bytes], bool] = lambda body: True,
    refusal: str = "200 refused",
    timeout: float = 30.0,
) -> Load:
    """`clients` threads sending `next_call(n)` (n counts each client's calls) for `seconds` at most.

    With `calls_per_client`, each client also stops after that many calls. A 200 whose body `accept` refuses is
    counted; non-200 answers and refused bodies (labelled `refusal`) are sampled.
    """
    start = threading.Barrier(clients + 1)
    until = [math.inf]
    tallies = [Tally() for _ in range(clients)]
    calls = math.inf if calls_per_client is None else calls_per_client
    threads = [
        threading.Thread(
            target=_drive,
            args=(port, next_call, accept, refusal),
            kwargs={"calls": calls, "timeout": timeout, "start": start, "until": until, "tally": tally},
            daemon=True,
        )
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
        until[0] = -math.inf  # on Ctrl-C too: every client stops after its current call
    elapsed = time.perf_counter() - began
    merged = Tally(
        latencies=[latency for tally in tallies for latency in tally.latencies],
        statuses=sum((tally.statuses for tally in tallies), Counter()),
        errors=sum((tally.errors for tally in tallies), Counter()),
        refused=sum(tally.refused for tally in tallies),
        samples=[sample for tally in tallies for sample in tally.samples][:SAMPLES],
    )
    return Load(began=began, seconds=elapsed, tally=merged)
