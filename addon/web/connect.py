"""The browser side of connecting a meeting-service account: the start page and the service's callback."""

from __future__ import annotations

import logging
import secrets
from html import escape

from flask import Blueprint, Response, request

from addon.meetings.catalog import display_name
from addon.sign_in import STATE_LIFETIME, Refusal, SignIn, Started
from addon.store import StoreUnavailable
from addon.web.current import current_services, current_syncer
from cards.i18n import Translator, available_languages, translator_for

bp = Blueprint("connect", __name__)
log = logging.getLogger(__name__)

BROWSER_COOKIE = "addon_connect"


@bp.get("/connect/<provider>/start")
def connect_start(provider: str) -> Response:
    """Opened from the card's Sign in button: say whose account this connects, then go on to the service."""
    services = current_services()
    tr = browser_language()
    started = SignIn(services).start(provider, request.args.get("ticket", ""))
    if not isinstance(started, Started):
        return refusal_page(tr, started, display_name(provider))
    # Say whose account this connects before leaving, so a link sent by someone else is not followed blindly.
    name = display_name(provider)
    who = started.email or tr("your Google account")
    response = page(
        tr,
        tr("Connect {service}", service=name),
        tr(
            "This connects your {service} account to the Meeting Scheduler add-on for {who}. "
            "Continue only if that is you.",
            service=name,
            who=who,
        ),
        200,
        link=(tr("Continue to {service}", service=name), started.authorize_url),
    )
    response.set_cookie(
        BROWSER_COOKIE,
        started.browser_secret,
        max_age=int(STATE_LIFETIME.total_seconds()),
        path="/connect/",
        secure=not services.settings.development,
        httponly=True,
        samesite="Lax",  # sent on the service's top-level redirect back to us
    )
    return response


@bp.get("/connect/<provider>/callback")
def connect_callback(provider: str) -> Response:
    """Where the service sends the browser back; the window closes itself once the account is connected."""
    tr = browser_language()
    name = display_name(provider)
    done = SignIn(current_services()).finish(
        provider,
        state=request.args.get("state", ""),
        browser_secret=request.cookies.get(BROWSER_COOKIE, ""),
        code=request.args.get("code", ""),
        declined=bool(request.args.get("error")),
    )
    if isinstance(done, Refusal):
        return refusal_page(tr, done, name)
    # Calendars whose sync stopped on this service's refusal catch up now.
    current_syncer().resume(done.user_id, provider)
    answer = page(
        tr,
        tr("{service} is connected", service=name),
        tr("You can close this window and go back to Gmail or Calendar."),
        200,
        close=True,
    )
    answer.delete_cookie(BROWSER_COOKIE, path="/connect/")
    return answer


@bp.errorhandler(StoreUnavailable)
def store_unavailable(error: StoreUnavailable) -> Response:
    """The sign-in window says what the card would: the add-on's storage did not answer."""
    log.error("the store did not answer: %s", error)
    tr = browser_language()
    return page(
        tr, tr("The add-on's storage is not answering"), tr("Close this window and try again in a few minutes."), 503
    )


def refusal_page(tr: Translator, refusal: Refusal, name: str) -> Response:
    """What the browser window says when a step of the sign-in stops."""
    again = tr("Close this window, then click Sign in on the add-on's card again.")
    if refusal is Refusal.NOT_OFFERED:
        return page(tr, tr("Not available"), tr("This meeting service is not available here. Close this window."), 404)
    if refusal is Refusal.LINK_EXPIRED:
        return page(tr, tr("This link has expired"), again, 400)
    if refusal is Refusal.LINK_INVALID:
        return page(tr, tr("This link is not valid"), again, 400)
    if refusal is Refusal.STATE_EXPIRED:
        return page(tr, tr("Sign-in expired"), again, 400)
    if refusal is Refusal.OTHER_BROWSER:
        return page(
            tr,
            tr("Sign-in started elsewhere"),
            tr("This sign-in was started in another browser. Close this window and click Sign in on the card again."),
            400,
        )
    if refusal is Refusal.ALREADY_USED:
        return page(tr, tr("Sign-in already used"), again, 400)
    if refusal is Refusal.DECLINED:
        return page(
            tr,
            tr("{service} was not connected", service=name),
            tr("You did not allow access. Close this window to go back."),
            200,
        )
    if refusal is Refusal.NO_CODE:
        return page(
            tr,
            tr("Sign-in incomplete"),
            tr("{service} did not send a sign-in code. Close this window and try again.", service=name),
            400,
        )
    if refusal is Refusal.CODE_REFUSED:
        return page(
            tr,
            tr("Sign-in expired"),
            tr("{service} refused the sign-in code. Close this window and try again.", service=name),
            400,
        )
    return page(
        tr,
        tr("{service} did not finish the sign-in", service=name),
        tr("Close this window and try again in a few minutes."),
        502,
    )


def browser_language() -> Translator:
    """Sign-in pages open in a browser window, with no event object: its Accept-Language picks the language."""
    return translator_for(request.accept_languages.best_match(sorted(available_languages())))


def page(
    tr: Translator, title: str, message: str, status: int, close: bool = False, link: tuple[str, str] | None = None
) -> Response:
    nonce = secrets.token_urlsafe(16)
    extra = f'<script nonce="{nonce}">setTimeout(function () {{ window.close(); }}, 1500);</script>' if close else ""
    if link is not None:
        label, url = link
        extra += f'<p><a id="continue" href="{escape(url, quote=True)}">{escape(label)}</a></p>'

    body = (
        f"<!doctype html><html lang={tr.language}><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#202124}"
        "h1{font-size:1.4rem}</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p>{extra}</body></html>"
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return no_store(response)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
