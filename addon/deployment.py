"""The add-on deployment descriptor (deployment.json), rendered for a real origin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from addon import scopes

DEPLOYMENT_FILE = Path(__file__).resolve().parent.parent / "deployment.json"
PLACEHOLDER_ORIGIN = "https://addon.example.com"


def load_deployment() -> dict[str, Any]:
    """deployment.json as committed, with the placeholder origin."""
    return json.loads(DEPLOYMENT_FILE.read_text())


def render_deployment(base_url: str, directory_sites: bool = False) -> dict[str, Any]:
    """deployment.json with every URL moved to `base_url`; `directory_sites` adds the directory read scope."""
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"Google only calls https origins; got {base_url!r}")
    origin = base_url.rstrip("/")
    text = DEPLOYMENT_FILE.read_text().replace(PLACEHOLDER_ORIGIN, origin)
    deployment = json.loads(text)
    if directory_sites:
        # Only installs that set ADDON_DIRECTORY_SITE_FIELD ask users for this.
        deployment["oauthScopes"].append(scopes.DIRECTORY_USER_READONLY)
    return deployment


def trigger_urls(deployment: dict[str, Any]) -> list[str]:
    """Every URL Google POSTs event objects to, in the order the descriptor lists them."""
    add_ons = deployment["addOns"]
    urls = []
    for host in ("common", "gmail", "calendar"):
        section = add_ons.get(host, {})
        for name in ("homepageTrigger", "eventOpenTrigger", "eventUpdateTrigger"):
            if name in section:
                urls.append(section[name]["runFunction"])
        urls.extend(t["onTriggerFunction"] for t in section.get("contextualTriggers", []))
        urls.extend(a["runFunction"] for a in section.get("universalActions", []) if "runFunction" in a)
    return urls
