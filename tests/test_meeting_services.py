"""Zoom and Webex alike: one meeting per event, kept, read and deleted, and the failures users and services cause.

Each test runs against both services; what differs between them is in their adapters (tests/meeting_services.py).
What only one of them does is tested in test_zoom.py or test_webex.py.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from addon.meetings import oauth
from addon.meetings.http import ServiceClient
from addon.meetings.model import (
    GrantRevoked,
    MeetingGone,
    MeetingOptions,
    MeetingRejected,
    RateLimited,
    ServiceUnavailable,
)
from addon.meetings.oauth import OAuthApp, Pkce
from tests.fakes.credentials import TokenCredentials
from tests.meeting_services import (
    ALICE,
    KEY,
    WEBEX,
    WEEKLY,
    ZOOM,
    MeetingProvider,
    MeetingService,
    PasscodeRefusal,
    ServiceFake,
    a_spec,
    at,
    authorize,
    calls_since,
    known,
)
from tests.pauses import Pauses


@pytest.fixture(params=[ZOOM, WEBEX], ids=lambda service: service.name)
def meeting_service(request: pytest.FixtureRequest) -> MeetingService:
    return request.param


# Creating ----------------------------------------------------------------------------------


def test_the_same_event_twice_gives_one_meeting(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    first = provider.create(a_spec(), KEY)
    second = provider.create(a_spec(), KEY)
    other = provider.create(a_spec(), KEY + "-other")

    assert second == first
    assert other.meeting_id != first.meeting_id
    assert len(service_fake.meetings) == 2
    assert len(meeting_service.posted(service_fake)) == 2  # each create counts against the user's 100 a day


def test_a_create_that_times_out_finds_the_meeting_the_service_made(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    service_fake.stall(meeting_service.create_path, 1.0, method="POST", times=1)

    meeting = provider.create(a_spec(), KEY)

    assert list(service_fake.meetings) == [meeting.meeting_id]
    assert len(meeting_service.posted(service_fake)) == 1
    assert provider.completed(meeting).sip_address is not None
    assert provider.create(a_spec(), KEY) == meeting


def test_a_create_whose_answer_is_lost_to_a_503_finds_the_meeting(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    service_fake.fail(meeting_service.create_path, 503, method="POST", applied=True)

    meeting = provider.create(a_spec(), KEY)

    assert list(service_fake.meetings) == [meeting.meeting_id]
    assert len(meeting_service.posted(service_fake)) == 1


def test_a_create_that_fails_outright_is_not_repeated(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    service_fake.fail(meeting_service.create_path, 503, method="POST")

    with pytest.raises(ServiceUnavailable):
        provider.create(a_spec(), KEY)

    assert service_fake.meetings == {}
    assert len(meeting_service.posted(service_fake)) == 1  # failed creates count against the user's 100 a day
    assert meeting_service.listings(service_fake) == 2  # looked before, and again after the failure


def test_without_a_waiting_room_people_may_join_before_the_host(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    meeting = provider.create(a_spec(), KEY)

    assert meeting_service.joins_before_host(service_fake, meeting.meeting_id) is True


def test_a_refusal_carries_the_services_own_message(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    with pytest.raises(MeetingRejected) as raised:
        provider.create(meeting_service.refused_spec(), KEY)

    assert meeting_service.refusal in raised.value.message
    assert len(meeting_service.posted(service_fake)) == 1
    assert meeting_service.listings(service_fake) == 1  # a refusal is not a lost answer


def test_create_makes_only_its_own_call_and_completed_gives_the_sip_address(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    provider.create(a_spec(), KEY + "-earlier", maybe_made=False)  # Webex reads the user's site once
    seen = len(service_fake.state.requests)

    meeting = provider.create(a_spec(), KEY, maybe_made=False)
    creating, made = calls_since(service_fake, seen), len(service_fake.state.requests)
    completed = provider.completed(meeting)

    assert creating == [("POST", meeting_service.create_path)]  # nothing else on the user's way
    expected = [tuple(call.format(id=meeting.meeting_id).split(" ")) for call in meeting_service.completing_calls]
    assert calls_since(service_fake, made) == expected
    assert completed.sip_address is not None
    assert dataclasses.replace(completed, sip_address=meeting.sip_address) == meeting
    assert provider.get(meeting.meeting_id) == meeting  # a read carries what the create carried


# Updating, reading, deleting ---------------------------------------------------------------


@pytest.mark.parametrize("with_known", [False, True], ids=["unknown", "known"])
def test_update_of_a_deleted_meeting_says_it_is_gone(provider: MeetingProvider, with_known: bool) -> None:
    meeting = provider.create(a_spec(), KEY)
    provider.delete(meeting.meeting_id)

    with pytest.raises(MeetingGone):
        provider.update(meeting.meeting_id, a_spec(), known=known(meeting, a_spec()) if with_known else None)


@pytest.mark.parametrize("with_known", [False, True], ids=["unknown", "known"])
def test_an_update_moves_and_renames_the_meeting_which_keeps_its_link_and_is_found_again(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider, with_known: bool
) -> None:
    spec = a_spec()
    meeting = provider.create(spec, KEY, maybe_made=False)
    later = at(days=31, hour=15)
    moved = a_spec(later, minutes=60, title="Design review (moved)", invitees=("bob@corp.example",))

    updated = provider.update(meeting.meeting_id, moved, known=known(meeting, spec) if with_known else None)

    assert (updated.meeting_id, updated.join_url, updated.no_fixed_time) == (
        meeting.meeting_id,
        meeting.join_url,
        False,
    )
    assert meeting_service.schedule(service_fake, meeting.meeting_id) == ("Design review (moved)", later, 60)
    assert meeting_service.invited(service_fake, meeting.meeting_id) == ["bob@corp.example"]
    assert provider.create(moved, KEY).meeting_id == meeting.meeting_id  # an earlier attempt's meeting is found
    assert len(meeting_service.posted(service_fake)) == 1
    assert service_fake.emails_sent == []


def test_deleting_twice_is_fine(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    meeting = provider.create(a_spec(options=MeetingOptions(alternative_hosts=("dana@corp.example",))), KEY)

    provider.delete(meeting.meeting_id)
    provider.delete(meeting.meeting_id)
    provider.delete(meeting_service.unknown_meeting_id)

    assert service_fake.meetings == {}
    assert service_fake.emails_sent == []  # Google Calendar tells people, not the service


def test_get_after_delete_says_the_meeting_is_gone(meeting_service: MeetingService, provider: MeetingProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    assert provider.get(meeting.meeting_id) == meeting

    provider.delete(meeting.meeting_id)

    with pytest.raises(MeetingGone, match=meeting_service.gone(meeting.meeting_id)):
        provider.get(meeting.meeting_id)


def test_an_answer_without_id_or_join_url_is_rejected(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    meeting = provider.create(a_spec(), KEY)
    answers = meeting_service.incomplete_answers(meeting)
    for body in answers:
        service_fake.fail(meeting_service.meeting_path + meeting.meeting_id, 200, body=body, method="GET")

    assert answers
    for _ in answers:
        with pytest.raises(MeetingRejected, match="unexpected answer"):
            provider.get(meeting.meeting_id)


# Failures ----------------------------------------------------------------------------------


def test_a_rate_limit_on_a_create_is_handed_back_with_its_wait(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    service_fake.fail(meeting_service.create_path, 429, method="POST", headers=meeting_service.rate_limit(30))

    with pytest.raises(RateLimited) as raised:
        provider.create(a_spec(), KEY)

    assert raised.value.retry_after == pytest.approx(30, abs=meeting_service.retry_after_slack)
    assert len(meeting_service.posted(service_fake)) == 1
    assert service_fake.meetings == {}


def test_a_short_rate_limit_is_waited_out_on_a_read(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider, pauses: Pauses
) -> None:
    meeting = provider.create(a_spec(), KEY)
    service_fake.fail(meeting_service.meeting_path, 429, method="GET", headers=meeting_service.short_rate_limit)

    assert provider.get(meeting.meeting_id) == meeting
    assert len(service_fake.requests_to("GET", meeting_service.meeting_path + meeting.meeting_id)) == 2
    assert len(pauses.seconds) == 1


@pytest.mark.parametrize("failures", [1, 2])
def test_reads_survive_503s(
    meeting_service: MeetingService,
    service_fake: ServiceFake,
    provider: MeetingProvider,
    pauses: Pauses,
    failures: int,
) -> None:
    meeting = provider.create(a_spec(), KEY)
    service_fake.fail(meeting_service.meeting_path, 503, times=failures, method="GET")

    assert provider.get(meeting.meeting_id) == meeting
    assert len(service_fake.requests_to("GET", meeting_service.meeting_path + meeting.meeting_id)) == failures + 1
    assert len(pauses.seconds) == failures


@pytest.mark.parametrize(
    ("meeting_service", "rotate"),
    [(ZOOM, True), (WEBEX, False), (WEBEX, True)],
    ids=["zoom", "webex-same-refresh-token", "webex-rotated-refresh-token"],
)
def test_an_expired_access_token_is_refreshed_once_and_the_newest_refresh_token_kept(
    meeting_service: MeetingService,
    service_fake: ServiceFake,
    provider: MeetingProvider,
    grant: TokenCredentials,
    oauth_app: OAuthApp,
    rotate: bool,
) -> None:
    service_fake.rotate_refresh_tokens = rotate
    first_refresh_token = grant.refresh
    service_fake.expire_access_tokens()

    meeting = provider.create(a_spec(), KEY)

    assert service_fake.refreshes == 1
    if rotate:
        assert grant.refresh != first_refresh_token
        with pytest.raises(GrantRevoked, match=re.escape(meeting_service.refresh_refusal)):
            oauth.refresh(oauth_app, first_refresh_token)
    else:
        assert grant.refresh == first_refresh_token
    service_fake.expire_access_tokens()
    assert provider.get(meeting.meeting_id) == meeting
    assert service_fake.refreshes == 2
    assert grant.revoked == []


def test_a_revoked_user_must_reconnect(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider, grant: TokenCredentials
) -> None:
    service_fake.revoke_user(ALICE)

    with pytest.raises(GrantRevoked):
        provider.create(a_spec(), KEY)

    assert grant.revoked == [meeting_service.refresh_refusal]
    assert service_fake.meetings == {}


def test_a_token_refused_even_after_refresh_marks_the_grant_revoked(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider, grant: TokenCredentials
) -> None:
    service_fake.fail(meeting_service.create_path, 401, times=2, body=meeting_service.unauthorized_body)

    with pytest.raises(GrantRevoked):
        provider.create(a_spec(), KEY)

    assert service_fake.refreshes == 1
    assert len(grant.revoked) == 1


# Connecting ---------------------------------------------------------------------------------


def test_connecting_with_pkce_gives_tokens_that_schedule(
    meeting_service: MeetingService, service_fake: ServiceFake, oauth_app: OAuthApp, service_client: ServiceClient
) -> None:
    service_fake.next_login("erin@corp.example")
    pkce = Pkce.new()

    query = authorize(oauth_app, pkce, meeting_service.redirect_uri)
    tokens = oauth.exchange_code(oauth_app, query["code"][0], pkce, meeting_service.redirect_uri)

    assert query["state"] == ["st-123"]
    url = oauth.authorization_url(oauth_app, meeting_service.redirect_uri, "s", pkce)
    assert ("scope" in parse_qs(urlsplit(url).query)) is meeting_service.asks_scopes
    (token_request,) = service_fake.requests_to("POST", urlsplit(oauth_app.token_url).path)
    if meeting_service.basic_auth:
        assert token_request.authorization is not None
        assert token_request.authorization.username == service_fake.client_id
        assert "client_secret" not in token_request.form
    else:
        assert token_request.authorization is None
        assert token_request.form["client_secret"] == service_fake.client_secret
    assert tokens.refresh_token
    now = datetime.now(UTC)
    shortest, longest = meeting_service.access_lifetime
    assert now + shortest < tokens.access_expires_at <= now + longest
    grant = TokenCredentials(oauth_app, {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token})
    meeting = meeting_service.provider(service_client, grant).create(a_spec(), KEY)
    assert meeting_service.host(service_fake, meeting.meeting_id) == "erin@corp.example"


def test_a_code_with_the_wrong_verifier_is_refused(
    meeting_service: MeetingService, service_fake: ServiceFake, oauth_app: OAuthApp
) -> None:
    query = authorize(oauth_app, Pkce.new(), meeting_service.redirect_uri)

    with pytest.raises(GrantRevoked, match=meeting_service.verifier_refusal):
        oauth.exchange_code(oauth_app, query["code"][0], Pkce.new(), meeting_service.redirect_uri)

    assert service_fake.state.access_tokens == {}


def test_a_code_works_once(meeting_service: MeetingService, oauth_app: OAuthApp) -> None:
    pkce = Pkce.new()
    code = authorize(oauth_app, pkce, meeting_service.redirect_uri)["code"][0]
    oauth.exchange_code(oauth_app, code, pkce, meeting_service.redirect_uri)

    with pytest.raises(GrantRevoked):
        oauth.exchange_code(oauth_app, code, pkce, meeting_service.redirect_uri)


def test_a_user_who_declines_comes_back_with_access_denied(
    meeting_service: MeetingService, service_fake: ServiceFake, oauth_app: OAuthApp
) -> None:
    service_fake.deny_next()

    query = authorize(oauth_app, Pkce.new(), meeting_service.redirect_uri, state="st-9")

    assert query == {"error": ["access_denied"], "state": ["st-9"]}


def test_a_wrong_client_secret_is_the_installs_fault_not_the_users(
    service_fake: ServiceFake, oauth_app: OAuthApp, grant: TokenCredentials
) -> None:
    wrong = dataclasses.replace(oauth_app, client_secret="not-the-secret")

    with pytest.raises(ServiceUnavailable):
        oauth.refresh(wrong, grant.refresh)

    assert service_fake.refreshes == 0


# Rotating the passcode ---------------------------------------------------------------------


def test_new_passcodes_meet_the_strictest_rules(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    meeting_service.make_passcodes_strict(service_fake)
    meeting = provider.create(a_spec(), KEY)

    passcodes = {provider.rotate_passcode(meeting.meeting_id).passcode for _ in range(20)}

    assert len(passcodes) == 20


@pytest.mark.parametrize(
    ("meeting_service", "refusal"),
    [pytest.param(s, r, id=f"{s.name}-{r.name}") for s in (ZOOM, WEBEX) for r in s.passcode_refusals],
)
def test_a_passcode_the_service_refuses_comes_back_with_its_reason(
    service_fake: ServiceFake, provider: MeetingProvider, refusal: PasscodeRefusal
) -> None:
    meeting = provider.create(a_spec(), KEY)
    refusal.arrange(service_fake)

    with pytest.raises(MeetingRejected) as raised:
        provider.rotate_passcode(meeting.meeting_id)

    assert re.search(refusal.says, raised.value.message)
    assert service_fake.meetings[meeting.meeting_id].data["password"] == meeting.passcode


def test_rotating_when_the_service_keeps_failing_changes_nothing(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    meeting = provider.create(a_spec(), KEY)
    service_fake.fail(meeting_service.meeting_path, 503, times=3, method="PATCH")

    with pytest.raises(ServiceUnavailable):
        provider.rotate_passcode(meeting.meeting_id)

    assert service_fake.meetings[meeting.meeting_id].data["password"] == meeting.passcode


def test_rotating_the_passcode_of_a_deleted_meeting_says_it_is_gone(provider: MeetingProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    provider.delete(meeting.meeting_id)

    with pytest.raises(MeetingGone):
        provider.rotate_passcode(meeting.meeting_id)


# Single occurrences of a series ------------------------------------------------------------


def test_an_occurrence_the_series_does_not_have_is_gone(
    meeting_service: MeetingService, service_fake: ServiceFake, provider: MeetingProvider
) -> None:
    first = at()
    series = provider.create(a_spec(first, options=WEEKLY), KEY)

    for missing in (first + timedelta(days=3), first + timedelta(days=28)):
        with pytest.raises(MeetingGone):
            provider.update_occurrence(series.meeting_id, missing, a_spec(missing))
        provider.cancel_occurrence(series.meeting_id, missing)

    assert len(service_fake.occurrences(series.meeting_id)) == 4
    path = meeting_service.meeting_path
    assert service_fake.requests_to("PATCH", path) == service_fake.requests_to("DELETE", path) == []


def test_occurrences_of_a_deleted_meeting_are_gone(provider: MeetingProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    provider.delete(meeting.meeting_id)

    with pytest.raises(MeetingGone):
        provider.update_occurrence(meeting.meeting_id, first, a_spec(first))
    provider.cancel_occurrence(meeting.meeting_id, first)


def test_an_original_start_without_a_time_zone_is_refused(provider: MeetingProvider) -> None:
    meeting = provider.create(a_spec(options=WEEKLY), KEY)

    with pytest.raises(ValueError, match="time zone"):
        provider.update_occurrence(meeting.meeting_id, datetime(2031, 1, 6, 10), a_spec())
    with pytest.raises(ValueError, match="time zone"):
        provider.cancel_occurrence(meeting.meeting_id, datetime(2031, 1, 6, 10))
