"""The waits before retries, recorded instead of slept, so a test of retrying takes no time."""

from __future__ import annotations


class Pauses:
    """A `sleep` for GoogleApis and ServiceClient: it notes how long each wait would have been, and returns."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
