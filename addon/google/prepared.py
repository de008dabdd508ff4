"""A request of a shape that never changes, built through discovery once; each call fills in only its path ids."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import quote

from googleapiclient.http import HttpRequest


class PreparedRequest:
    """What `method(**fixed, **ids)` builds, for any ids, without discovery's checking and encoding on each call.

    The request is built once with a marker for each id; a call puts its ids in their places, percent-encoded
    as discovery's URI templates encode a path parameter (everything but unreserved characters).
    """

    def __init__(self, method: Callable[..., HttpRequest], ids: Sequence[str], **fixed: object) -> None:
        markers = {f"PREPARED{number}MARKER": name for number, name in enumerate(ids)}
        template = method(**fixed, **{name: marker for marker, name in markers.items()})
        pieces = re.split(f"({'|'.join(markers)})", template.uri)
        if template.body is not None or sorted(p for p in pieces if p in markers) != sorted(markers):
            raise ValueError(f"{template.methodId}: only a bodiless request with each id once in its path")
        self._pieces = [(markers.get(piece), piece) for piece in pieces]
        self._template = template

    def __call__(self, **ids: str) -> HttpRequest:
        t = self._template
        uri = "".join(piece if name is None else quote(ids[name], safe="") for name, piece in self._pieces)
        return HttpRequest(t.http, t.postproc, uri, method=t.method, headers=dict(t.headers), methodId=t.methodId)
