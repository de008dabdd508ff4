"""Webex: meetings created once per event, kept in step, deleted, and the failures users and Webex can cause."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from addon.meetings import oauth
from addon.meetings.http import ServiceClient
from addon.meetings.model import (
    GrantRevoked,
    MeetingGone,
    MeetingOptions,
    MeetingRejected,
    MeetingSpec,
    RateLimited,
    ServiceUnavailable,
)
from addon.meetings.oauth import OAuthApp, Pkce
from addon.meetings.webex import WebexProvider, integration_tag, webex_oauth_app
from tests.fakes.credentials import TokenCredentials
from tests.fakes.webex import FakeWebex

ALICE = "alice@corp.example"
REDIRECT_URI = "https://addon.test/oauth/webex/callback"
KEY = "alice@corp.example/primary/evt_abc123"


@pytest.fixture
def oauth_app(webex: FakeWebex) -> OAuthApp:
    return webex_oauth_app(webex.api_base, webex.client_id, webex.client_secret)


@pytest.fixture
def grant(webex: FakeWebex, oauth_app: OAuthApp) -> TokenCredentials:
    return TokenCredentials(oauth_app, webex.connect(ALICE))


@pytest.fixture
def webex_client(webex: FakeWebex) -> Iterator[ServiceClient]:
    client = ServiceClient("webex", webex.api_base, timeout_seconds=0.5, budget_seconds=3)
    yield client
    client.close()


@pytest.fixture
def provider(webex_client: ServiceClient, grant: TokenCredentials) -> WebexProvider:
    return WebexProvider(webex_client, grant)


def at(days: int = 30, hour: int = 10, zone: str = "Europe/Berlin") -> datetime:
    """A time `days` ahead, at `hour` o'clock in `zone`: later than Webex lists by default (7 days)."""
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone))


def a_spec(start: datetime | None = None, minutes: int = 30, **fields: object) -> MeetingSpec:
    start = start or at()
    values: dict = {
        "title": "Design review",
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "time_zone": "Europe/Berlin",
        "invitees": ("bob@corp.example", "carol@partner.example"),
        "agenda": "Review the Q3 design",
        **fields,
    }
    return MeetingSpec(**values)


def posted(webex: FakeWebex) -> list[dict]:
    return [r.get_json() for r in webex.requests_to("POST", "/v1/meetings")]


# Creating ----------------------------------------------------------------------------------


def test_create_returns_what_invitees_need_to_join(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    stored = webex.meetings[meeting.meeting_id].data
    assert meeting.provider == "webex"
    assert meeting.join_url == stored["webLink"]
    assert meeting.join_url.startswith("https://corp.webex.com/")
    assert meeting.meeting_code == stored["meetingNumber"]
    assert meeting.passcode == stored["password"]
    assert meeting.sip_address == f"{stored['meetingNumber']}@corp.webex.com"
    assert [(d.number, d.toll_free) for d in meeting.dial_in] == [
        ("+1-415-655-0001", False),
        ("+1-855-244-8681", True),
    ]
    assert stored["title"] == "Design review"
    assert stored["integrationTags"] == [integration_tag(KEY)]
    assert len(integration_tag(KEY)) <= 64
    assert [i["email"] for i in webex.meetings[meeting.meeting_id].invitees] == [
        "bob@corp.example",
        "carol@partner.example",
    ]
    assert webex.emails_sent == []  # Google Calendar sends the invitation, not Webex


def test_the_same_event_twice_gives_one_meeting(webex: FakeWebex, provider: WebexProvider) -> None:
    first = provider.create(a_spec(), KEY)
    second = provider.create(a_spec(), KEY)
    other = provider.create(a_spec(), KEY + "-other")

    assert second == first
    assert other.meeting_id != first.meeting_id
    assert len(webex.meetings) == 2
    assert len(posted(webex)) == 2


def test_a_create_that_times_out_finds_the_meeting_webex_made(webex: FakeWebex, provider: WebexProvider) -> None:
    webex.stall("/v1/meetings", 1.0, method="POST", times=1)

    meeting = provider.create(a_spec(), KEY)

    assert list(webex.meetings) == [meeting.meeting_id]
    assert len(posted(webex)) == 1
    assert provider.create(a_spec(), KEY) == meeting


def test_a_create_whose_answer_is_lost_to_a_503_finds_the_meeting(webex: FakeWebex, provider: WebexProvider) -> None:
    webex.fail("/v1/meetings", 503, method="POST", applied=True)

    meeting = provider.create(a_spec(), KEY)

    assert list(webex.meetings) == [meeting.meeting_id]
    assert len(posted(webex)) == 1


def test_a_create_that_fails_outright_is_not_repeated(webex: FakeWebex, provider: WebexProvider) -> None:
    webex.fail("/v1/meetings", 503, method="POST")

    with pytest.raises(ServiceUnavailable):
        provider.create(a_spec(), KEY)

    assert webex.meetings == {}
    assert len(posted(webex)) == 1  # failed creates count against the user's 100 a day


@pytest.mark.parametrize(
    ("zone", "month", "local", "offset"),
    [
        ("Europe/Berlin", 1, "10:00:00", "+01:00"),
        ("Europe/Berlin", 7, "10:00:00", "+02:00"),
        ("Asia/Kolkata", 3, "10:00:00", "+05:30"),
        ("America/New_York", 11, "10:00:00", "-05:00"),
    ],
)
def test_times_carry_the_offset_of_the_events_zone(
    webex: FakeWebex, provider: WebexProvider, zone: str, month: int, local: str, offset: str
) -> None:
    year = datetime.now(UTC).year + 1
    start_utc = datetime(year, month, 15, 10, tzinfo=ZoneInfo(zone)).astimezone(UTC)

    meeting = provider.create(a_spec(start_utc, minutes=45, time_zone=zone), KEY)

    (body,) = posted(webex)
    assert body["start"] == f"{year}-{month:02d}-15T{local}{offset}"
    assert body["end"] == f"{year}-{month:02d}-15T10:45:00{offset}"
    assert body["timezone"] == zone
    assert webex.meetings[meeting.meeting_id].starts_at == start_utc


def test_webex_refuses_an_offset_that_does_not_match_the_zone(webex: FakeWebex) -> None:
    token = webex.connect(ALICE)["access_token"]
    start = at(zone="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (at(zone="UTC") + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    answer = requests.post(
        webex.api_base + "/meetings",
        json={"title": "x", "start": start, "end": end, "timezone": "Asia/Calcutta"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert answer.status_code == 400
    assert answer.json()["message"] == f"timezone 'Asia/Calcutta' and timezone offset in '{start}' do not match"
    assert webex.meetings == {}


def test_events_webex_finds_too_short_or_too_long_still_get_a_meeting(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    short = provider.create(a_spec(minutes=5), KEY)
    all_day = provider.create(a_spec(at(hour=0), minutes=24 * 60), KEY + "-all-day")

    assert webex.meetings[short.meeting_id].ends_at - webex.meetings[short.meeting_id].starts_at == timedelta(
        minutes=10
    )
    long = webex.meetings[all_day.meeting_id]
    assert long.ends_at - long.starts_at == timedelta(hours=23, minutes=59)


def test_options_and_long_text_reach_webex(webex: FakeWebex, provider: WebexProvider) -> None:
    options = MeetingOptions(
        passcode="Tr0ub4dor",
        waiting_room=True,
        alternative_hosts=("dana@corp.example", "Bob@corp.example"),
        template_id="tmpl-1",
        recurrence="FREQ=WEEKLY;BYDAY=MO;COUNT=10",
    )

    meeting = provider.create(a_spec(title="T" * 300, agenda="A" * 2000, options=options), KEY)

    stored = webex.meetings[meeting.meeting_id]
    assert meeting.passcode == "Tr0ub4dor"
    assert stored.data["enabledJoinBeforeHost"] is False
    assert stored.data["recurrence"] == "FREQ=WEEKLY;BYDAY=MO;COUNT=10"
    assert stored.data["templateId"] == "tmpl-1"
    assert stored.data["title"] == "T" * 128
    assert stored.data["agenda"] == "A" * 1300
    assert stored.invitees == [
        {"email": "dana@corp.example", "coHost": True},
        {"email": "Bob@corp.example", "coHost": True},
        {"email": "carol@partner.example"},
    ]


def test_without_a_waiting_room_people_may_join_before_the_host(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    assert webex.meetings[meeting.meeting_id].data["enabledJoinBeforeHost"] is True


def test_the_users_default_site_is_used_when_none_is_configured(webex: FakeWebex, provider: WebexProvider) -> None:
    first = provider.create(a_spec(), KEY)
    provider.create(a_spec(), KEY + "-2")

    assert [body["siteUrl"] for body in posted(webex)] == ["corp.webex.com", "corp.webex.com"]
    assert urlsplit(first.join_url).hostname == "corp.webex.com"
    assert len(webex.requests_to("GET", "/v1/meetingPreferences/sites")) == 1


def test_a_configured_site_is_used_without_asking(
    webex: FakeWebex, webex_client: ServiceClient, grant: TokenCredentials
) -> None:
    provider = WebexProvider(webex_client, grant, site_url="corp-events.webex.com")

    meeting = provider.create(a_spec(), KEY)

    assert urlsplit(meeting.join_url).hostname == "corp-events.webex.com"
    assert webex.requests_to("GET", "/v1/meetingPreferences/sites") == []


# Updating, reading, deleting ---------------------------------------------------------------


def test_update_moves_and_renames_the_meeting(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    later = at(days=31, hour=15)

    updated = provider.update(meeting.meeting_id, a_spec(later, minutes=60, title="Design review (moved)"))

    stored = webex.meetings[meeting.meeting_id]
    assert updated.meeting_id == meeting.meeting_id
    assert updated.join_url == meeting.join_url
    assert stored.data["title"] == "Design review (moved)"
    assert (stored.starts_at, stored.ends_at) == (later, later + timedelta(hours=1))
    assert stored.data["integrationTags"] == [integration_tag(KEY)]
    assert webex.emails_sent == []
    assert provider.create(a_spec(later, minutes=60), KEY) == updated


def test_update_clears_an_agenda_the_event_no_longer_has(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    provider.update(meeting.meeting_id, a_spec(agenda=""))

    assert "agenda" not in webex.meetings[meeting.meeting_id].data


def test_update_of_a_deleted_meeting_says_it_is_gone(provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    provider.delete(meeting.meeting_id)

    with pytest.raises(MeetingGone):
        provider.update(meeting.meeting_id, a_spec())


def test_deleting_twice_is_fine(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    provider.delete(meeting.meeting_id)
    provider.delete(meeting.meeting_id)
    provider.delete("never-existed")

    assert webex.meetings == {}
    assert webex.emails_sent == []


def test_get_after_delete_says_the_meeting_is_gone(provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    assert provider.get(meeting.meeting_id) == meeting

    provider.delete(meeting.meeting_id)

    with pytest.raises(MeetingGone):
        provider.get(meeting.meeting_id)


def test_an_answer_without_id_or_link_is_rejected(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    webex.fail(f"/v1/meetings/{meeting.meeting_id}", 200, body={"id": meeting.meeting_id})

    with pytest.raises(MeetingRejected, match="unexpected answer"):
        provider.get(meeting.meeting_id)


# Failures ----------------------------------------------------------------------------------


def test_rate_limit_is_handed_back_with_its_wait(webex: FakeWebex, provider: WebexProvider) -> None:
    webex.fail("/v1/meetings", 429, method="POST", headers={"Retry-After": "30"})

    with pytest.raises(RateLimited) as raised:
        provider.create(a_spec(), KEY)

    assert raised.value.retry_after == pytest.approx(30)
    assert len(posted(webex)) == 1
    assert webex.meetings == {}


def test_a_rate_limit_of_zero_seconds_is_waited_out(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    webex.fail("/v1/meetings/", 429, headers={"Retry-After": "0"})

    assert provider.get(meeting.meeting_id) == meeting
    assert len(webex.requests_to("GET", "/v1/meetings/")) == 2


def test_reads_survive_two_503s(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    webex.fail("/v1/meetings/", 503, times=2)

    assert provider.get(meeting.meeting_id) == meeting
    assert len(webex.requests_to("GET", "/v1/meetings/")) == 3


@pytest.mark.parametrize("rotate", [False, True], ids=["same-refresh-token", "rotated-refresh-token"])
def test_an_expired_access_token_is_refreshed_once(
    webex: FakeWebex, provider: WebexProvider, grant: TokenCredentials, rotate: bool
) -> None:
    webex.rotate_refresh_tokens = rotate
    webex.expire_access_tokens()

    meeting = provider.create(a_spec(), KEY)
    assert webex.refreshes == 1
    webex.expire_access_tokens()

    assert provider.get(meeting.meeting_id) == meeting
    assert webex.refreshes == 2
    assert grant.revoked == []


def test_a_revoked_user_must_reconnect(webex: FakeWebex, provider: WebexProvider, grant: TokenCredentials) -> None:
    webex.revoke_user(ALICE)

    with pytest.raises(GrantRevoked):
        provider.create(a_spec(), KEY)

    assert grant.revoked == ["The refresh token provided is expired, revoked, malformed, or invalid."]
    assert webex.meetings == {}


def test_a_token_refused_even_after_refresh_marks_the_grant_revoked(
    webex: FakeWebex, provider: WebexProvider, grant: TokenCredentials
) -> None:
    webex.fail("/v1/meetings", 401, times=2)

    with pytest.raises(GrantRevoked):
        provider.create(a_spec(), KEY)

    assert webex.refreshes == 1
    assert len(grant.revoked) == 1


def test_a_refusal_carries_webex_own_message(webex: FakeWebex, provider: WebexProvider) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)

    with pytest.raises(MeetingRejected) as raised:
        provider.create(a_spec(yesterday), KEY)

    assert "start cannot be before current date and time" in raised.value.message
    assert len(posted(webex)) == 1
    assert len(webex.requests_to("GET", "/v1/meetings")) == 1  # a refusal is not a lost answer


# Connecting ---------------------------------------------------------------------------------


def authorize(oauth_app: OAuthApp, pkce: Pkce, state: str = "st-123") -> dict[str, list[str]]:
    answer = requests.get(
        oauth.authorization_url(oauth_app, REDIRECT_URI, state, pkce), allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


def test_connecting_with_pkce_gives_tokens_that_schedule(
    webex: FakeWebex, oauth_app: OAuthApp, webex_client: ServiceClient
) -> None:
    webex.next_login("erin@corp.example")
    pkce = Pkce.new()

    query = authorize(oauth_app, pkce)
    tokens = oauth.exchange_code(oauth_app, query["code"][0], pkce, REDIRECT_URI)

    assert query["state"] == ["st-123"]
    assert tokens.refresh_token
    assert tokens.access_expires_at > datetime.now(UTC) + timedelta(days=13)
    grant = TokenCredentials(oauth_app, {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token})
    meeting = WebexProvider(webex_client, grant).create(a_spec(), KEY)
    assert webex.meetings[meeting.meeting_id].data["hostEmail"] == "erin@corp.example"


def test_a_code_with_the_wrong_verifier_is_refused(webex: FakeWebex, oauth_app: OAuthApp) -> None:
    query = authorize(oauth_app, Pkce.new())

    with pytest.raises(GrantRevoked):
        oauth.exchange_code(oauth_app, query["code"][0], Pkce.new(), REDIRECT_URI)

    assert webex.state.access_tokens == {}


def test_a_code_works_once(oauth_app: OAuthApp) -> None:
    pkce = Pkce.new()
    code = authorize(oauth_app, pkce)["code"][0]
    oauth.exchange_code(oauth_app, code, pkce, REDIRECT_URI)

    with pytest.raises(GrantRevoked):
        oauth.exchange_code(oauth_app, code, pkce, REDIRECT_URI)


def test_a_user_who_declines_comes_back_with_access_denied(webex: FakeWebex, oauth_app: OAuthApp) -> None:
    webex.deny_next()

    query = authorize(oauth_app, Pkce.new(), state="st-9")

    assert query == {"error": ["access_denied"], "state": ["st-9"]}
