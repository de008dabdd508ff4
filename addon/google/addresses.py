"""Address headers (From, To, Cc) read exactly as email.utils.getaddresses reads them, cheaply in the usual case.

getaddresses walks a header a character at a time, and opening an email reads three. Headers made only of
`Name <addr>`, `"Quoted, Name" <addr>` and bare `addr` items, the shapes mail clients write, are read here with
one regular expression and give the very same pairs; anything else (comments, groups, escapes, domain literals,
empty items) is left to getaddresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import getaddresses

# What getaddresses counts as white space between words; an atom of a name or an address holds no white space
# of any kind (getaddresses treats some of Unicode's as its own), nor a character with a meaning of its own.
_WS = r"[ \t\r\n]"
_ATOM = r"[^\s\"<>@,;:\\()\[\]]+"
_ADDRESS = rf"{_ATOM}@{_ATOM}"
_ITEM = re.compile(
    rf"{_WS}*(?:"
    rf"(?:\"(?P<quoted>[^\"\\]*)\"|(?P<phrase>{_ATOM}(?:{_WS}+{_ATOM})*))?{_WS}*<(?P<address>{_ADDRESS})>"
    rf"|(?P<bare>{_ADDRESS})"
    rf"){_WS}*(?P<comma>,)?"
)
_SPACES = re.compile(f"{_WS}+")


def addresses(values: Iterable[str]) -> list[tuple[str, str]]:
    """(name, address) pairs of the header values, as `getaddresses(values)` gives them."""
    values = list(values)
    pairs: list[tuple[str, str]] = []
    for value in values:
        read = _simple(value)
        if read is None:
            return getaddresses(values)
        pairs += read
    return pairs


def _simple(value: str) -> list[tuple[str, str]] | None:
    """The pairs of a header made only of the usual shapes; None for any other."""
    pairs = []
    position, end = 0, len(value)
    while True:
        item = _ITEM.match(value, position)
        if item is None:
            return None
        if item["bare"] is not None:
            pairs.append(("", item["bare"]))
        elif item["quoted"] is not None:
            pairs.append((item["quoted"], item["address"]))
        else:
            pairs.append((_SPACES.sub(" ", item["phrase"] or ""), item["address"]))
        position = item.end()
        if item["comma"] is None:
            return pairs if position == end else None
        if position == end:
            return None  # a trailing comma: rare enough to leave to getaddresses
