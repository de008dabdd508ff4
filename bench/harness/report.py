"""The measures a bench prints: latency percentiles, throughput, CPU per request, verdicts and fixed-width tables."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from bench.harness.load import Load


@dataclass(frozen=True)
class LoadSummary:
    """A load in numbers: its length, requests, throughput, latency percentiles and what went wrong."""

    seconds: float
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    non_200: int
    errors: dict[str, int]
    refused: int
    samples: list[str]


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))] if ordered else math.nan


def summarize(load: Load) -> LoadSummary:
    tally = load.tally
    latencies = sorted(tally.latencies)
    return LoadSummary(
        seconds=round(load.seconds, 3),
        requests=len(latencies),
        requests_per_second=round(len(latencies) / load.seconds, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 2),
        p99_ms=round(percentile(latencies, 99) * 1000, 2),
        max_ms=round(latencies[-1] * 1000 if latencies else math.nan, 2),
        statuses=dict(tally.statuses),
        non_200=sum(n for status, n in tally.statuses.items() if status != "200"),
        errors=dict(tally.errors),
        refused=tally.refused,
        samples=list(tally.samples),
    )


def ms_per_request(cpu_seconds: float, requests: int) -> float:
    """CPU milliseconds per request: on a small shared machine, the number to compare from run to run."""
    return round(cpu_seconds * 1000 / max(requests, 1), 3)


def busy_percent(cpu_seconds: float, wall_seconds: float) -> int:
    """How busy all the machine's CPUs were with `cpu_seconds` of work over `wall_seconds`."""
    return round(100 * cpu_seconds / (wall_seconds * (os.cpu_count() or 1)))


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def table(columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a table: (title, width) per column, the first column left-aligned, the others right-aligned."""

    def line(cells: Sequence[str]) -> str:
        widths = [width for _, width in columns]
        first = f"{cells[0]:<{widths[0]}}"
        return " ".join([first, *(f"{cell:>{width}}" for cell, width in zip(cells[1:], widths[1:], strict=True))])

    return [line([title for title, _ in columns]), *(line(row) for row in rows)]
