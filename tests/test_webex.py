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


# Following the event: invitees -------------------------------------------------------------


def invited(webex: FakeWebex, meeting_id: str) -> dict[str, bool]:
    """Who is invited on Webex, and whether as co-host."""
    return {i["email"]: bool(i.get("coHost")) for i in webex.meetings[meeting_id].invitees}


def invitee_calls(webex: FakeWebex, method: str) -> list:
    return webex.requests_to(method, "/v1/meetingInvitees")


def test_update_makes_the_invitees_exactly_the_events_guests(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    options = MeetingOptions(alternative_hosts=("erin@corp.example",))
    guests = ("Carol@Partner.example", "dave@corp.example")

    provider.update(meeting.meeting_id, a_spec(invitees=guests, options=options))

    assert invited(webex, meeting.meeting_id) == {
        "carol@partner.example": False,
        "dave@corp.example": False,
        "erin@corp.example": True,
    }
    (removal,) = invitee_calls(webex, "DELETE")
    assert removal.args["sendEmail"] == "false"
    additions = [r.get_json() for r in invitee_calls(webex, "POST")]
    assert [(a["email"], a.get("coHost"), a["sendEmail"]) for a in additions] == [
        ("erin@corp.example", True, False),
        ("dave@corp.example", None, False),
    ]
    assert invitee_calls(webex, "PUT") == []  # carol is left as she is
    assert webex.emails_sent == []


def test_an_invitee_made_alternative_host_becomes_co_host_and_back(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)

    provider.update(meeting.meeting_id, a_spec(options=MeetingOptions(alternative_hosts=("bob@corp.example",))))
    assert invited(webex, meeting.meeting_id) == {"bob@corp.example": True, "carol@partner.example": False}
    provider.update(meeting.meeting_id, a_spec())

    assert invited(webex, meeting.meeting_id) == {"bob@corp.example": False, "carol@partner.example": False}
    assert len(invitee_calls(webex, "PUT")) == 2
    assert invitee_calls(webex, "POST") == invitee_calls(webex, "DELETE") == []
    assert webex.emails_sent == []


def test_invitees_are_read_across_every_page(webex: FakeWebex, provider: WebexProvider) -> None:
    guests = tuple(f"guest{n:03}@corp.example" for n in range(150))
    meeting = provider.create(a_spec(invitees=guests), KEY)

    provider.update(meeting.meeting_id, a_spec(invitees=guests[1:]))

    assert set(invited(webex, meeting.meeting_id)) == set(guests[1:])
    assert len(invitee_calls(webex, "GET")) == 2  # 100 a page
    assert invitee_calls(webex, "POST") == []
    assert len(invitee_calls(webex, "DELETE")) == 1


def test_a_next_page_on_another_host_is_not_followed(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    elsewhere = '<https://webex.attacker.example/v1/meetingInvitees?cursor=MQ==>; rel="next"'
    webex.fail("/v1/meetingInvitees", 200, body={"items": []}, headers={"Link": elsewhere}, method="GET")

    with pytest.raises(MeetingRejected, match="another host"):
        provider.update(meeting.meeting_id, a_spec(invitees=("dave@corp.example",)))

    assert invitee_calls(webex, "POST") == invitee_calls(webex, "DELETE") == []
    assert set(invited(webex, meeting.meeting_id)) == {"bob@corp.example", "carol@partner.example"}


def test_a_failed_invitation_is_reported_and_the_next_update_finishes_it(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    meeting = provider.create(a_spec(), KEY)
    everyone = a_spec(invitees=("bob@corp.example", "carol@partner.example", "dave@corp.example", "erin@corp.example"))
    webex.fail("/v1/meetingInvitees", 503, method="POST")

    with pytest.raises(ServiceUnavailable):
        provider.update(meeting.meeting_id, everyone)

    assert len(invitee_calls(webex, "POST")) == 1  # an invitation is not sent twice on a 5xx
    assert set(invited(webex, meeting.meeting_id)) == {"bob@corp.example", "carol@partner.example"}
    provider.update(meeting.meeting_id, everyone)
    assert set(invited(webex, meeting.meeting_id)) == {
        "bob@corp.example",
        "carol@partner.example",
        "dave@corp.example",
        "erin@corp.example",
    }


def test_an_invitation_whose_answer_is_lost_is_not_repeated(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    more = a_spec(invitees=("bob@corp.example", "carol@partner.example", "dave@corp.example"))
    webex.fail("/v1/meetingInvitees", 503, method="POST", applied=True)

    with pytest.raises(ServiceUnavailable):
        provider.update(meeting.meeting_id, more)
    provider.update(meeting.meeting_id, more)

    assert len(invitee_calls(webex, "POST")) == 1
    assert len(webex.meetings[meeting.meeting_id].invitees) == 3


def test_a_removal_webex_keeps_failing_stops_the_update_before_anyone_is_added(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    meeting = provider.create(a_spec(), KEY)
    webex.fail("/v1/meetingInvitees/", 503, times=3, method="DELETE")

    with pytest.raises(ServiceUnavailable):
        provider.update(meeting.meeting_id, a_spec(invitees=("carol@partner.example", "dave@corp.example")))

    assert len(invitee_calls(webex, "DELETE")) == 3  # deleting again is safe, so it was retried
    assert invitee_calls(webex, "POST") == []
    assert "bob@corp.example" in invited(webex, meeting.meeting_id)


# Rotating the passcode ---------------------------------------------------------------------


def test_rotating_the_passcode_changes_only_the_passcode(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(options=MeetingOptions(recurrence="FREQ=WEEKLY;COUNT=4")), KEY)

    rotated = provider.rotate_passcode(meeting.meeting_id)

    stored = webex.meetings[meeting.meeting_id]
    assert rotated.passcode == stored.data["password"] != meeting.passcode
    assert (rotated.meeting_id, rotated.join_url, rotated.meeting_code) == (
        meeting.meeting_id,
        meeting.join_url,
        meeting.meeting_code,
    )
    (patch,) = webex.requests_to("PATCH", "/v1/meetings/")
    assert set(patch.get_json()) == {"password", "sendEmail"}  # resending start fails once a series has begun
    assert len(webex.occurrences(meeting.meeting_id)) == 4
    assert provider.get(meeting.meeting_id) == rotated
    assert webex.emails_sent == []
    assert provider.can_rotate_passcode is True


def test_new_passcodes_satisfy_a_strict_site(webex: FakeWebex, provider: WebexProvider) -> None:
    webex.password_rules.min_symbols = 1
    meeting = provider.create(a_spec(), KEY)

    passcodes = {provider.rotate_passcode(meeting.meeting_id).passcode for _ in range(20)}

    assert len(passcodes) == 20


def test_a_passcode_the_site_refuses_comes_back_with_webex_reason(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    webex.password_rules.min_length = 14

    with pytest.raises(MeetingRejected) as raised:
        provider.rotate_passcode(meeting.meeting_id)

    assert raised.value.message.startswith("Meeting password validation failed: The password must have 14")
    assert webex.meetings[meeting.meeting_id].data["password"] == meeting.passcode


def test_rotating_when_webex_keeps_failing_changes_nothing(webex: FakeWebex, provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    webex.fail("/v1/meetings/", 503, times=3, method="PATCH")

    with pytest.raises(ServiceUnavailable):
        provider.rotate_passcode(meeting.meeting_id)

    assert webex.meetings[meeting.meeting_id].data["password"] == meeting.passcode


def test_rotating_the_passcode_of_a_deleted_meeting_says_it_is_gone(provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(), KEY)
    provider.delete(meeting.meeting_id)

    with pytest.raises(MeetingGone):
        provider.rotate_passcode(meeting.meeting_id)


# Single occurrences of a series ------------------------------------------------------------

WEEKLY = MeetingOptions(recurrence="FREQ=WEEKLY;COUNT=4")


def starts(webex: FakeWebex, meeting_id: str) -> list[datetime]:
    return [datetime.fromisoformat(o["start"]) for o in webex.occurrences(meeting_id)]


def test_one_occurrence_is_moved_and_retitled_alone(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)

    provider.update_occurrence(
        meeting.meeting_id, second, a_spec(second + timedelta(hours=3), minutes=60, title="Design review (moved)")
    )

    occurrences = webex.occurrences(meeting.meeting_id)
    assert starts(webex, meeting.meeting_id) == [
        first,
        second + timedelta(hours=3),
        first + timedelta(days=14),
        first + timedelta(days=21),
    ]
    assert [o["title"] for o in occurrences] == ["Design review", "Design review (moved)", *["Design review"] * 2]
    assert [o["isModified"] for o in occurrences] == [False, True, False, False]
    assert webex.meetings[meeting.meeting_id].data["title"] == "Design review"  # the series is as it was
    (patch,) = webex.requests_to("PATCH", "/v1/meetings/")
    assert patch.path == f"/v1/meetings/{meeting.meeting_id}_{second.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    assert webex.emails_sent == []
    assert provider.series_occurrences is True


def test_an_occurrence_moved_days_away_is_found_again(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)

    provider.update_occurrence(meeting.meeting_id, second, a_spec(second + timedelta(days=3)))
    provider.update_occurrence(meeting.meeting_id, second, a_spec(second + timedelta(days=4), title="Again"))

    assert starts(webex, meeting.meeting_id)[1] == second + timedelta(days=4)
    assert webex.occurrences(meeting.meeting_id)[1]["title"] == "Again"
    assert len(webex.occurrences(meeting.meeting_id)) == 4
    # Out of the listed window around its original start, it was asked for by name.
    assert len(webex.requests_to("GET", f"/v1/meetings/{meeting.meeting_id}_")) == 1


def test_cancelling_an_occurrence_removes_only_that_one(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    second = first + timedelta(days=7)

    provider.cancel_occurrence(meeting.meeting_id, second)
    provider.cancel_occurrence(meeting.meeting_id, second)  # already gone is fine

    assert starts(webex, meeting.meeting_id) == [first, first + timedelta(days=14), first + timedelta(days=21)]
    (cancel,) = webex.requests_to("DELETE", "/v1/meetings/")
    assert cancel.args["sendEmail"] == "false"
    assert webex.emails_sent == []
    with pytest.raises(MeetingGone):
        provider.update_occurrence(meeting.meeting_id, second, a_spec(second))


def test_an_occurrence_the_series_does_not_have_is_gone(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)

    for missing in (first + timedelta(days=3), first + timedelta(days=28)):
        with pytest.raises(MeetingGone):
            provider.update_occurrence(meeting.meeting_id, missing, a_spec(missing))
        provider.cancel_occurrence(meeting.meeting_id, missing)

    assert len(webex.occurrences(meeting.meeting_id)) == 4
    assert webex.requests_to("PATCH", "/v1/meetings/") == webex.requests_to("DELETE", "/v1/meetings/") == []


def test_occurrences_of_a_deleted_series_are_gone(provider: WebexProvider) -> None:
    first = at()
    meeting = provider.create(a_spec(first, options=WEEKLY), KEY)
    provider.delete(meeting.meeting_id)

    with pytest.raises(MeetingGone):
        provider.update_occurrence(meeting.meeting_id, first, a_spec(first))
    provider.cancel_occurrence(meeting.meeting_id, first)


def test_a_daily_series_ends_on_its_until_day(webex: FakeWebex, provider: WebexProvider) -> None:
    first = at()
    last = first + timedelta(days=2)
    options = MeetingOptions(recurrence=f"FREQ=DAILY;UNTIL={last:%Y%m%d}")
    meeting = provider.create(a_spec(first, options=options), KEY)

    provider.cancel_occurrence(meeting.meeting_id, last)

    assert starts(webex, meeting.meeting_id) == [first, first + timedelta(days=1)]
    with pytest.raises(MeetingGone):
        provider.update_occurrence(meeting.meeting_id, last + timedelta(days=1), a_spec(last + timedelta(days=1)))


def test_an_original_start_without_a_time_zone_is_refused(provider: WebexProvider) -> None:
    meeting = provider.create(a_spec(options=WEEKLY), KEY)

    with pytest.raises(ValueError, match="time zone"):
        provider.cancel_occurrence(meeting.meeting_id, datetime(2031, 1, 6, 10))


def test_renaming_a_series_under_way_leaves_its_times_and_exceptions_alone(
    webex: FakeWebex, provider: WebexProvider
) -> None:
    spec = a_spec(options=WEEKLY)
    series = provider.create(spec, KEY)
    provider.update_occurrence(series.meeting_id, spec.start + timedelta(weeks=1), a_spec(at(days=38), options=WEEKLY))
    # A week on, the series has begun: Webex now refuses its start, which lies in the past.
    begun = webex.meetings[series.meeting_id]
    begun.starts_at -= timedelta(days=40)
    begun.ends_at -= timedelta(days=40)
    begun.data["start"] = begun.starts_at.astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    begun.data["end"] = begun.ends_at.astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    renamed = a_spec(begun.starts_at, title="Design review (weekly)", options=WEEKLY)

    provider.update(series.meeting_id, renamed)

    patch = webex.requests_to("PATCH", f"/v1/meetings/{series.meeting_id}")[-1].get_json()
    assert "start" not in patch and "end" not in patch and "recurrence" not in patch
    assert webex.meetings[series.meeting_id].data["title"] == "Design review (weekly)"
    assert begun.exceptions  # the moved occurrence is still moved
