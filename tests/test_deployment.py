"""deployment.json: valid for Google's API, least-privilege, and every URL in it answered by the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from google.cloud import gsuiteaddons_v1
from google.protobuf import json_format

from addon import scopes
from addon.deployment import PLACEHOLDER_ORIGIN, load_deployment, render_deployment, trigger_urls
from tests.card_schema import action_cards, trigger_cards
from tests.google_caller import GoogleCaller

# Documented fields newer than the published google-cloud-gsuiteaddons proto.
NEWER_THAN_PROTO = {"granularOauthPermissionSupport", "calendarNotificationTrigger", "eventAttachmentTrigger"}


def without_newer_fields(value: object) -> object:
    if isinstance(value, dict):
        return {k: without_newer_fields(v) for k, v in value.items() if k not in NEWER_THAN_PROTO}
    if isinstance(value, list):
        return [without_newer_fields(v) for v in value]
    return value


def test_deployment_parses_strictly_with_googles_schema() -> None:
    deployment = load_deployment()

    parsed = gsuiteaddons_v1.Deployment.from_json(
        json.dumps(without_newer_fields(deployment)), ignore_unknown_fields=False
    )

    assert parsed.add_ons.calendar.current_event_access.name == "READ_WRITE"
    assert parsed.add_ons.http_options.authorization_header.name == "SYSTEM_ID_TOKEN"
    assert parsed.add_ons.common.use_locale_from_app is True


def test_a_misspelt_field_would_fail_the_strict_parse() -> None:
    deployment = load_deployment()
    deployment["addOns"]["calendar"]["eventOpenTriger"] = {"runFunction": "https://x"}

    with pytest.raises(json_format.ParseError, match="eventOpenTriger"):
        gsuiteaddons_v1.Deployment.from_json(json.dumps(without_newer_fields(deployment)), ignore_unknown_fields=False)


def test_granular_consent_is_opted_in() -> None:
    assert load_deployment()["addOns"]["httpOptions"]["granularOauthPermissionSupport"] == "OPT_IN"


def test_scopes_are_exactly_what_the_code_uses_and_gmail_only_per_message() -> None:
    declared = set(load_deployment()["oauthScopes"])

    assert declared == scopes.ALL
    gmail = {s for s in declared if "/gmail." in s}
    assert gmail and all(s.split("/auth/")[1].startswith("gmail.addons.") for s in gmail)
    assert not any(
        s.endswith(("/gmail.readonly", "/gmail.metadata", "/gmail.modify", "mail.google.com/")) for s in declared
    )


def test_every_trigger_is_declared() -> None:
    paths = {urlsplit(url).path for url in trigger_urls(load_deployment())}

    assert paths == {
        "/gmail/home",
        "/gmail/message",
        "/calendar/home",
        "/calendar/event-open",
        "/calendar/event-update",
        "/actions/settings",
    }


def test_every_url_is_on_the_placeholder_origin_over_https() -> None:
    deployment = load_deployment()

    for url in [*trigger_urls(deployment), deployment["addOns"]["common"]["logoUrl"]]:
        assert url.startswith(PLACEHOLDER_ORIGIN + "/")


def test_every_trigger_url_answers_a_google_request_with_valid_cards(caller: GoogleCaller) -> None:
    caller.google.add_event("primary", {"id": "e1", "summary": "Sync", "start": {"date": "2026-12-01"}})
    bodies = caller.trigger_events(message=("msg-f:missing", "t"), event=("primary", "e1"))
    for url in trigger_urls(load_deployment()):
        path = urlsplit(url).path
        response = caller.post(path, bodies[path])
        assert response.status_code == 200, path
        cards = (
            action_cards(response.get_json())
            if path.endswith("update") or path.startswith("/actions/")
            else trigger_cards(response.get_json())
        )
        assert cards


def test_logo_is_served(client: object) -> None:
    with client.get(urlsplit(load_deployment()["addOns"]["common"]["logoUrl"]).path) as response:
        assert response.status_code == 200
        assert response.data.startswith(b"\x89PNG")


def test_render_moves_every_url_to_the_real_origin() -> None:
    rendered = json.dumps(render_deployment("https://scheduler.corp.example/"))

    assert PLACEHOLDER_ORIGIN not in rendered
    assert "https://scheduler.corp.example/gmail/message" in rendered


@pytest.mark.parametrize(
    "base_url", ["http://scheduler.corp.example", "scheduler.corp.example", "https://x.example/?a=b"]
)
def test_render_refuses_origins_google_cannot_call(base_url: str) -> None:
    with pytest.raises(ValueError):
        render_deployment(base_url)


def test_command_line_prints_the_deployment_for_an_origin() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "addon", "deployment", "--base-url", "https://scheduler.corp.example"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    deployment = json.loads(result.stdout)
    assert (
        deployment["addOns"]["gmail"]["homepageTrigger"]["runFunction"] == "https://scheduler.corp.example/gmail/home"
    )


def test_command_line_explains_a_bad_origin() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "addon", "deployment", "--base-url", "http://insecure.example"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "https" in result.stderr and "Traceback" not in result.stderr


def test_installs_that_read_sites_from_the_directory_ask_for_that_scope_only_then() -> None:
    from addon import scopes

    plain = render_deployment("https://addon.corp.example")
    with_directory = render_deployment("https://addon.corp.example", directory_sites=True)

    assert scopes.DIRECTORY_USER_READONLY not in plain["oauthScopes"]
    assert set(with_directory["oauthScopes"]) - set(plain["oauthScopes"]) == {scopes.DIRECTORY_USER_READONLY}


def test_the_committed_deployment_carries_the_default_link_allowlist() -> None:
    committed = load_deployment()["addOns"]["common"]["openLinkUrlPrefixes"]

    assert committed == render_deployment(PLACEHOLDER_ORIGIN)["addOns"]["common"]["openLinkUrlPrefixes"]
    assert committed == [
        "https://addon.example.com/",
        "https://meet.jit.si/",
        "https://*.webex.com/",
        "https://zoom.us/",
        "https://*.zoom.us/",
    ]


def test_every_rendered_prefix_is_one_google_accepts() -> None:
    prefixes = render_deployment("https://scheduler.corp.example", extra_link_prefixes=["https://*.corp.example/"])[
        "addOns"
    ]["common"]["openLinkUrlPrefixes"]

    for prefix in prefixes:
        parts = urlsplit(prefix)
        assert parts.scheme == "https" and parts.path, prefix  # https and a non-empty path
        host = parts.hostname or ""
        assert host.count("*") <= 1 and (not host.count("*") or host.startswith("*.")), prefix
        assert "." in host.lstrip("*."), prefix  # a full domain
    assert prefixes[0] == "https://scheduler.corp.example/"


def test_the_allowlist_follows_the_services_and_the_jitsi_server_chosen() -> None:
    rendered = render_deployment(
        "https://scheduler.corp.example", services=["jitsi", "webex"], jitsi_base_url="https://jitsi.corp.example/meet"
    )

    assert rendered["addOns"]["common"]["openLinkUrlPrefixes"] == [
        "https://scheduler.corp.example/",
        "https://jitsi.corp.example/",
        "https://*.webex.com/",
    ]


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("https://zoom.example", "path"),
        ("http://zoom.example/", "https"),
        ("https://*.*.example.com/", "full domain"),
        ("https://sub.*.example.com/", "full domain"),
        ("https://localhost/", "full domain"),
    ],
)
def test_a_prefix_google_would_refuse_is_refused_when_rendering(prefix: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        render_deployment("https://scheduler.corp.example", extra_link_prefixes=[prefix])


def test_command_line_renders_the_allowlist_for_the_servers_own_jitsi_and_extra_hosts() -> None:
    env = {
        **os.environ,
        "JITSI_BASE_URL": "https://jitsi.corp.example",
        "ADDON_LINK_PREFIXES": "https://*.corp.example/",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "addon",
            "deployment",
            "--base-url",
            "https://scheduler.corp.example",
            "--services",
            "jitsi,zoom",
            "--link-prefix",
            "https://meetings.partner.example/",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )

    assert json.loads(result.stdout)["addOns"]["common"]["openLinkUrlPrefixes"] == [
        "https://scheduler.corp.example/",
        "https://jitsi.corp.example/",
        "https://zoom.us/",
        "https://*.zoom.us/",
        "https://*.corp.example/",
        "https://meetings.partner.example/",
    ]


def test_command_line_explains_an_unknown_service_and_a_bad_prefix() -> None:
    for extra in (["--services", "jitsi,skype"], ["--link-prefix", "https://zoom.example"]):
        result = subprocess.run(
            [sys.executable, "-m", "addon", "deployment", "--base-url", "https://x.example", *extra],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert ("skype" in result.stderr) or ("https://zoom.example/" in result.stderr)
