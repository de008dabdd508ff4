"""Each configured meeting service: its token endpoint answers and accepts the add-on's OAuth client."""

from __future__ import annotations

from addon.doctor.context import Check, Doctor, settings_check
from addon.doctor.report import Result, ok, problem, skip
from addon.meetings.model import ClientRejected, GrantRevoked, MeetingRejected, ServiceUnavailable
from addon.meetings.oauth import OAuthApp, Pkce, callback_url, exchange_code
from addon.meetings.webex import webex_oauth_app
from addon.meetings.zoom import zoom_oauth_app
from addon.settings import Settings

# No service ever issued this code. A token endpoint checks the client first, so a refused code (GrantRevoked:
# Webex's invalid_grant, Zoom's invalid_request "Invalid authorization code") means it accepted the client.
PROBE_CODE = "addon-doctor-not-a-real-code"
WHERE_CREDENTIALS = {
    "zoom": "your app's App Credentials at https://marketplace.zoom.us (Manage)",
    "webex": "your integration at https://developer.webex.com (My Webex Apps)",
}


def _oauth_app(settings: Settings, provider: str) -> OAuthApp | None:
    if provider == "zoom" and settings.zoom_client_id and settings.zoom_client_secret:
        return zoom_oauth_app(settings.zoom_oauth_base, settings.zoom_client_id, settings.zoom_client_secret)
    if provider == "webex" and settings.webex_client_id and settings.webex_client_secret:
        return webex_oauth_app(settings.webex_api_base, settings.webex_client_id, settings.webex_client_secret)
    return None


def meeting_service_check(provider: str, display_name: str) -> Check:
    """The check of one account-based service: skipped unless its client ID and secret are set."""
    prefix = provider.upper()

    @settings_check(display_name)
    def check_service(doctor: Doctor, settings: Settings) -> Result:
        app = _oauth_app(settings, provider)
        if app is None:
            return skip(
                display_name, f"{prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET are not set, so it is not offered"
            )
        what = f"{display_name} OAuth client {app.client_id}"
        uri = callback_url(settings.base_url, provider)
        where = WHERE_CREDENTIALS[provider]
        compare = f"redirect URI {uri} must be registered exactly so in {where}"
        try:
            exchange_code(app, PROBE_CODE, Pkce.new(), uri)
        except ClientRejected as refused:
            return problem(
                what,
                f"{app.token_url} refused the client ID and secret ({refused})",
                f"copy both from {where} into {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET, "
                f"and register the redirect URI {uri} there",
            )
        except ServiceUnavailable as error:
            return problem(
                what, f"{app.token_url} did not answer as it should ({error})", "let the app reach it over https"
            )
        except GrantRevoked as refused:
            return ok(what, f"accepted at {app.token_url} (it refused the made-up code: {refused.message}); {compare}")
        except MeetingRejected as refused:
            return problem(
                what,
                f"{app.token_url} answered {refused.code or 'an error'} ({refused.message}), "
                "so doctor cannot tell whether it accepted the client",
                f"compare {prefix}_CLIENT_ID, {prefix}_CLIENT_SECRET and the redirect URI {uri} with {where}",
            )
        return ok(what, f"accepted at {app.token_url}; {compare}")

    return check_service


check_zoom = meeting_service_check("zoom", "Zoom")
check_webex = meeting_service_check("webex", "Webex")
