"""The add-on deployment descriptor (deployment.json), rendered for a real origin and the services it offers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from addon import scopes
from addon.link_allowlist import SERVICES, https_origin, link_prefixes
from addon.settings import JITSI_BASE_URL

DEPLOYMENT_FILE = Path(__file__).resolve().parent.parent / "deployment.json"
PLACEHOLDER_ORIGIN = "https://addon.example.com"


def load_deployment() -> dict[str, Any]:
    """deployment.json as committed, with the placeholder origin."""
    return json.loads(DEPLOYMENT_FILE.read_text())


def render_deployment(
    base_url: str,
    *,
    directory_sites: bool = False,
    services: Iterable[str] = SERVICES,
    jitsi_base_url: str = JITSI_BASE_URL,
    extra_link_prefixes: Iterable[str] = (),
) -> dict[str, Any]:
    """deployment.json with every URL moved to `base_url` and the link allowlist of the given services.

    `directory_sites` adds the directory read scope; `extra_link_prefixes` are more hosts cards may open
    (a Webex site outside webex.com, say).
    """
    origin = https_origin(base_url, "the base URL")
    text = DEPLOYMENT_FILE.read_text().replace(PLACEHOLDER_ORIGIN, origin)
    deployment = json.loads(text)
    if directory_sites:
        # Only installs that set ADDON_DIRECTORY_SITE_FIELD ask users for this.
        deployment["oauthScopes"].append(scopes.DIRECTORY_USER_READONLY)
    deployment["addOns"]["common"]["openLinkUrlPrefixes"] = link_prefixes(
        origin, services=services, jitsi_base_url=jitsi_base_url, extra=extra_link_prefixes
    )
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
