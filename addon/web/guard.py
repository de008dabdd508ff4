"""Every add-on request passes here first: Google verified, body parsed, user identified, scopes checked."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response, g, jsonify, request

from addon import scopes
from addon.events import AddonEvent, BadEvent, parse_event
from addon.google.client import (
    GoogleApiError,
    GoogleForbidden,
    GoogleQuota,
    GoogleUnauthorized,
    GoogleUnavailable,
    GoogleUsageLimitReached,
)
from addon.logs import tag_request, user_hash
from addon.meeting_links import event_key
from addon.meetings.catalog import display_name
from addon.meetings.model import (
    GrantRevoked,
    MeetingGone,
    MeetingRejected,
    MeetingServiceError,
    NotConnected,
    RateLimited,
)
from addon.scheduling import CalendarBusy, SchedulingError
from addon.security import (
    CertsUnavailable,
    GoogleUser,
    Unauthorized,
    bearer_token,
    request_audiences,
    verify_system_token,
    verify_user_token,
)
from addon.services import Services
from addon.store import StoreUnavailable
from addon.sync import CalendarSyncer
from addon.user_state import UserState
from addon.web.current import current_services, current_syncer
from addon.web.json_body import BadBody, json_body
from addon.web.signin import connect_prompt
from cards import problems
from cards.accounts import custom_authorization_prompt
from cards.i18n import Translator, translator_for
from cards.responses import push_card, push_card_action, request_scopes, update_card
from cards.widgets import Json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AddonRequest:
    """A verified request: what Google sent, and the user it acts for."""

    event: AddonEvent
    user: GoogleUser
    services: Services
    syncer: CalendarSyncer
    # The user's time zone, found before the handler runs (see user_zone).
    zone: ZoneInfo

    @property
    def request_id(self) -> str:
        return g.request_id

    @property
    def tr(self) -> Translator:
        """The user's language (Google's userLocale) for every card and notification."""
        return translator_for(self.event.common.user_locale)

    @cached_property
    def known(self) -> UserState:
        """The user's settings, grants and the open event's meeting link: one store lookup, on first use."""
        calendar = self.event.calendar
        # An opened event's own link; an occurrence of a series is looked up by its series when needed.
        links = [event_key(calendar.calendar_id, calendar.event_id)] if calendar and calendar.event_id else []
        return UserState(self.services.store, self.user.sub, list(self.services.meetings.grants.apps), links)

    @property
    def user_token(self) -> str:
        token = self.event.authorization.user_oauth_token
        if not token:
            raise BadEvent("authorizationEventObject.userOAuthToken is missing")
        return token


@dataclass(frozen=True)
class Notified:
    """A card answered together with a short notification (shown for card actions only)."""

    card: Json
    notification: str


Handler = Callable[[AddonRequest], Json | Notified]


# How Google wants the cards of an answer wrapped: a trigger pushes its card; a card action (and the
# eventUpdate trigger) updates the card shown, or pushes one on top of it.
Answer = Literal["push", "update", "push_action"]


def trigger(required_scopes: frozenset[str], *, needs_zone: bool = True) -> Callable[[Handler], Callable[[], Response]]:
    """A homepage or contextual trigger: its card is pushed.

    `needs_zone`: the handler shows or computes times, so the user's zone is found (maybe in Calendar)."""
    return _google_request(required_scopes, "push", needs_zone)


def card_action(
    required_scopes: frozenset[str], *, opens_card: bool = False, needs_zone: bool = True
) -> Callable[[Handler], Callable[[], Response]]:
    """A card's action (or the eventUpdate trigger): its card replaces the one shown, or opens on top."""
    return _google_request(required_scopes, "push_action" if opens_card else "update", needs_zone)


def _google_request(
    required_scopes: frozenset[str], answer: Answer, needs_zone: bool
) -> Callable[[Handler], Callable[[], Response]]:
    """Wrap a handler: verify Google, parse the event, identify the user, check scopes, answer every failure."""

    def wrap(result: Json | Notified) -> Json:
        card, notice = (result.card, result.notification) if isinstance(result, Notified) else (result, None)
        if answer == "push":
            return push_card(card)
        if answer == "push_action":
            return push_card_action(card, notice)
        return update_card(card, notice)

    def decorate(handler: Handler) -> Callable[[], Response]:
        @functools.wraps(handler)
        def endpoint() -> Response:
            tag_request(trigger=handler.__name__)
            services = current_services()
            try:
                verify_system_token(
                    bearer_token(request.headers.get("Authorization")),
                    services.certs,
                    request_audiences(services.settings.base_url, request.path, request.query_string.decode()),
                    services.settings.service_account_email,
                )
            except Unauthorized as error:
                log.warning("refused a request: %s", error)
                return _unauthorized()
            except CertsUnavailable as error:
                log.error("%s", error)
                return _json({"error": "temporarily unavailable"}, 503)

            try:
                event = parse_event(json_body())
            except BadBody as error:
                return _json({"error": error.reason}, error.status)
            except BadEvent as error:
                log.info("refused an event object: %s", error)
                return _json({"error": str(error)}, 400)

            granted = event.authorization.authorized_scopes
            if not event.authorization.user_id_token and scopes.USERINFO_EMAIL not in granted:
                return jsonify(request_scopes(required_scopes - granted))
            try:
                user = verify_user_token(
                    event.authorization.user_id_token, services.certs, services.settings.oauth_client_id
                )
            except Unauthorized as error:
                log.warning("refused a user token: %s", error)
                return _unauthorized()

            tag_request(user=user_hash(user.sub, services.box.log_key))
            missing = required_scopes - granted
            if missing:
                return jsonify(request_scopes(missing))

            syncer = current_syncer()
            zone = user_zone(services, user, event, look_up=needs_zone)
            req = AddonRequest(event=event, user=user, services=services, syncer=syncer, zone=zone)
            tr = req.tr
            try:
                answered = jsonify(wrap(handler(req)))
            except BadEvent as error:
                return _json({"error": str(error)}, 400)
            except (NotConnected, GrantRevoked) as error:
                revoked = isinstance(error, GrantRevoked)
                prompt = connect_prompt(services, tr, user.sub, error.provider, revoked=revoked, email=user.email)
                if answer == "push" and prompt.get("name") == "connect":
                    return jsonify(custom_authorization_prompt(prompt))
                return jsonify(wrap(prompt))
            except MeetingServiceError as error:
                log.warning("meeting service call failed: %s %s", type(error).__name__, error)
                return jsonify(wrap(_meeting_problem(error, tr)))
            except SchedulingError as error:
                card = problems.problem_card(tr, tr("That did not work"), tr.text(error.message), g.request_id)
                return jsonify(wrap(card))
            except CalendarBusy as error:
                log.warning("Calendar asked to slow down while a meeting was written: %s", error)
                return jsonify(wrap(_quota_problem(error.quota, tr, tr.text(error.outcome))))
            except GoogleApiError as error:
                log.warning("Google API call failed: %s %s", type(error).__name__, error)
                return jsonify(wrap(_problem_for(error, tr)))
            except StoreUnavailable as error:
                log.error("the store did not answer: %s", error)
                return jsonify(wrap(problems.store_unavailable(tr, g.request_id)))
            except Exception:
                log.exception("unexpected error")
                return jsonify(wrap(problems.unexpected(tr, g.request_id)))
            _user_is_here(syncer, user, event)
            return answered

        return endpoint

    return decorate


def user_zone(services: Services, user: GoogleUser, event: AddonEvent, *, look_up: bool) -> ZoneInfo:
    """The user's time zone: from the event object, else (with `look_up`) their calendar's, cached per user;
    else UTC."""
    name = event.common.time_zone
    token = event.authorization.user_oauth_token
    if not name and look_up and token and scopes.CALENDAR_EVENTS in event.authorization.authorized_scopes:
        name = services.calendar_zones.zone_of(services.google, user.sub, token)
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _user_is_here(syncer: CalendarSyncer, user: GoogleUser, event: AddonEvent) -> None:
    """The user's token is here: their calendars' changes can be read with it (see addon/sync)."""
    token = event.authorization.user_oauth_token
    if not token or scopes.CALENDAR_EVENTS not in event.authorization.authorized_scopes:
        return
    try:
        syncer.user_is_here(user.sub, token)
    except Exception as error:  # best effort: the user's answer is ready and must not be lost to this
        log.warning("could not start a sync of the user's calendars: %s", type(error).__name__)


def _problem_for(error: GoogleApiError, tr: Translator) -> Json:
    if isinstance(error, GoogleUnauthorized):
        return problems.session_expired(tr, g.request_id)
    if isinstance(error, GoogleQuota):
        return _quota_problem(error, tr)
    if isinstance(error, GoogleForbidden):
        return problems.permission_missing(tr, g.request_id)
    if isinstance(error, GoogleUnavailable):
        return problems.google_unavailable(tr, g.request_id)
    return problems.unexpected(tr, g.request_id)


def _quota_problem(error: GoogleQuota, tr: Translator, outcome: str | None = None) -> Json:
    if isinstance(error, GoogleUsageLimitReached):
        return problems.google_limit_reached(tr, g.request_id, outcome)
    return problems.google_busy(tr, g.request_id, outcome)


def _meeting_problem(error: MeetingServiceError, tr: Translator) -> Json:
    name = display_name(error.provider)
    if isinstance(error, RateLimited):
        return problems.meeting_service_busy(tr, name, error.retry_after, g.request_id)
    if isinstance(error, MeetingGone):
        return problems.meeting_gone(tr, name, g.request_id)
    if isinstance(error, MeetingRejected):
        return problems.meeting_rejected(tr, name, error.message, g.request_id)
    return problems.meeting_service_unavailable(tr, name, g.request_id)


def _unauthorized() -> Response:
    return _json({"error": "unauthorized"}, 401)


def _json(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
