"""Google's rule for the links a published add-on's cards may open: `addOns.common.openLinkUrlPrefixes`.

Our picture of what Gmail and Calendar enforce (Apps Script manifest guide, "Allowlist URLs"): OpenLink takes
https, mailto and tel only; an https URL outside Google must equal a prefix or be its child (paths are
case-sensitive); a prefix may start with one `*.`, which stands for one or more subdomains, never none.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from addon.deployment import render_deployment
from addon.settings import Settings

_HREF = re.compile(r"""<a\s[^>]*href=["']([^"']*)["']""", re.IGNORECASE)
GOOGLE_DOMAIN = "google.com"


def prefix_matches(url: str, prefix: str) -> bool:
    """Whether Google counts `url` as allow-listed by `prefix`."""
    if prefix == "*":
        return True
    wanted, got = urlsplit(prefix), urlsplit(url)
    if wanted.scheme != "https" or got.scheme != "https" or "@" in got.netloc:
        return False
    pattern, host = wanted.netloc.lower(), got.netloc.lower()
    if pattern.startswith("*."):
        # At least one subdomain: https://*.example.com/ does not match https://example.com/.
        if not host.endswith(pattern[1:]) or len(host) == len(pattern) - 1:
            return False
    elif host != pattern:
        return False
    path = got.path or "/"
    if path == wanted.path or wanted.path.endswith("/"):
        return path.startswith(wanted.path)
    return path.startswith(wanted.path + "/")  # /foo allows /foo/bar and /foo?x, not /foobar


def link_allowed(url: str, prefixes: Sequence[str]) -> bool:
    """Whether a card may open or show `url` in a published deployment with these prefixes."""
    scheme = urlsplit(url).scheme
    if scheme in ("mailto", "tel"):
        return True
    host = urlsplit(url).hostname or ""
    if scheme == "https" and (host == GOOGLE_DOMAIN or host.endswith("." + GOOGLE_DOMAIN)):
        return True  # Google's own pages need no entry
    return any(prefix_matches(url, prefix) for prefix in prefixes)


def card_links(body: Any) -> Iterator[str]:
    """Every URL an answer asks Google to open (`openLink`, an action's `link`) or shows as `<a href>` in text."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key in ("openLink", "link") and isinstance(value, dict) and isinstance(value.get("url"), str):
                yield value["url"]
            else:
                yield from card_links(value)
    elif isinstance(body, list):
        for item in body:
            yield from card_links(item)
    elif isinstance(body, str) and "<a" in body.lower():
        yield from (html.unescape(href) for href in _HREF.findall(body))


def deployed_prefixes(settings: Settings) -> list[str]:
    """The allowlist `python -m addon deployment` renders for an install configured like `settings`."""
    services = ["jitsi"]
    services += ["webex"] if settings.webex_client_id else []
    services += ["zoom"] if settings.zoom_client_id else []
    deployment = render_deployment(settings.base_url, services=services, jitsi_base_url=settings.jitsi_base_url)
    return deployment["addOns"]["common"]["openLinkUrlPrefixes"]


def refused_links(body: Any, prefixes: Sequence[str]) -> list[str]:
    """The links in an answer that a published deployment with `prefixes` would refuse to open."""
    return [url for url in card_links(body) if not link_allowed(url, prefixes)]
