"""Which URLs a card may open: the deployment's `openLinkUrlPrefixes`, rendered and matched as Google does."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

SERVICES = ("jitsi", "webex", "zoom")
# Where each service's join links live; Zoom's regional (us05web.) and vanity (acme.) hosts are subdomains.
JOIN_LINK_PREFIXES = {
    "webex": ("https://*.webex.com/",),
    "zoom": ("https://zoom.us/", "https://*.zoom.us/"),
}
# Google opens its own pages (an event in Calendar, say) without an entry.
GOOGLE_DOMAIN = "google.com"


def link_prefixes(origin: str, *, services: Iterable[str], jitsi_base_url: str, extra: Iterable[str] = ()) -> list[str]:
    """Every URL prefix a card may open: the add-on's own pages, then each service's join links, then `extra`."""
    chosen = set(services)
    unknown = chosen - set(SERVICES)
    if unknown:
        raise ValueError(f"unknown service {', '.join(sorted(unknown))} (choose from {', '.join(SERVICES)})")
    prefixes = [https_origin(origin, "the base URL") + "/"]
    if "jitsi" in chosen:
        prefixes.append(https_origin(jitsi_base_url, "JITSI_BASE_URL") + "/")
    for service in SERVICES:
        if service in chosen:
            prefixes.extend(JOIN_LINK_PREFIXES.get(service, ()))
    prefixes.extend(checked_prefix(prefix) for prefix in extra)
    return list(dict.fromkeys(prefixes))


def checked_prefix(prefix: str) -> str:
    """A prefix as Google takes it: https, a full domain (one leading `*.` at most), a non-empty path."""
    text = prefix.strip()
    parts = urlsplit(text)
    host = parts.hostname or ""
    labels = host.split(".")
    wildcard_ok = "*" not in host or (host.startswith("*.") and "*" not in host[2:])
    if parts.scheme != "https" or len(labels) < 2 or not all(labels) or not wildcard_ok:
        raise ValueError(f"a link prefix needs https and a full domain, such as https://*.example.com/, not {prefix!r}")
    if not parts.path:
        raise ValueError(f"a link prefix needs a path: Google refuses {text!r}, write {text}/")
    return text


def https_origin(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"Google only calls and opens https origins; {what} is {url!r}")
    return f"https://{parts.netloc}"


class LinkAllowlist:
    """The prefixes a deployment lists, so a card offers as a link only what Google will open."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        self.prefixes = tuple(prefixes)

    def permits(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("mailto", "tel"):
            return True
        if parts.scheme != "https" or "@" in parts.netloc:
            return False
        host = (parts.hostname or "").lower()
        if host == GOOGLE_DOMAIN or host.endswith("." + GOOGLE_DOMAIN):
            return True
        return any(_matches(parts.netloc.lower(), parts.path or "/", prefix) for prefix in self.prefixes)


def _matches(netloc: str, path: str, prefix: str) -> bool:
    wanted = urlsplit(prefix)
    pattern = wanted.netloc.lower()
    if pattern.startswith("*."):
        # One or more subdomains, never none.
        if not netloc.endswith(pattern[1:]) or len(netloc) < len(pattern):
            return False
    elif netloc != pattern:
        return False
    if path == wanted.path or wanted.path.endswith("/"):
        return path.startswith(wanted.path)
    return path.startswith(wanted.path + "/")
