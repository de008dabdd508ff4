"""Only Google, signing as the add-on's service account for the URL it called, gets past the door."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from addon.security import CLOCK_SKEW_SECONDS, GoogleCerts
from tests.fakes.google import FakeGoogle
from tests.fakes.identity import SigningKey, hs256_token, system_claims, unsigned_token, user_claims
from tests.google_caller import ALICE, GoogleCaller

PATH = "/gmail/home"


def forged(caller: GoogleCaller, google: FakeGoogle) -> dict[str, Callable[[], str]]:
    """Header tokens that must all be refused, by what is wrong with them."""
    settings = caller.settings
    url = settings.base_url + PATH
    sa = settings.service_account_email

    def signed(**overrides: object) -> str:
        return google.key.sign(system_claims(url, sa, **overrides))

    return {
        "other key, same kid": lambda: SigningKey(google.key.kid).sign(system_claims(url, sa)),
        "unknown kid": lambda: SigningKey("not-a-google-kid").sign(system_claims(url, sa)),
        "wrong audience": lambda: signed(aud="https://evil.example/gmail/home"),
        "audience of another endpoint path": lambda: signed(aud=settings.base_url + "/calendar/home-x"),
        "wrong issuer": lambda: signed(iss="https://evil.example"),
        "other service account": lambda: signed(email="attacker@evil.iam.gserviceaccount.com"),
        "unverified email": lambda: signed(email_verified=False),
        "email_verified missing": lambda: google.key.sign(
            {k: v for k, v in system_claims(url, sa).items() if k != "email_verified"}
        ),
        "expired": lambda: signed(exp=int(time.time()) - 600, iat=int(time.time()) - 4200),
        "issued in the future": lambda: signed(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
        "issued past the clock skew": lambda: signed(iat=int(time.time()) + CLOCK_SKEW_SECONDS + 30),
        "not valid yet": lambda: signed(nbf=int(time.time()) + 3600),
        "nbf past the clock skew": lambda: signed(nbf=int(time.time()) + CLOCK_SKEW_SECONDS + 30),
        "nbf not a time": lambda: signed(nbf="now"),
        "iat not a time": lambda: signed(iat=[0]),
        "exp NaN": lambda: signed(exp=float("nan")),
        "exp Infinity": lambda: signed(exp=float("inf")),
        "no exp": lambda: google.key.sign({k: v for k, v in system_claims(url, sa).items() if k != "exp"}),
        "alg none": lambda: unsigned_token(system_claims(url, sa), google.key.kid),
        "HS256 keyed with the public cert": lambda: hs256_token(
            system_claims(url, sa), google.key.kid, google.key.certificate_pem.encode()
        ),
        "user token instead of system token": lambda: caller.user_token(),
        "tampered payload": lambda: _tamper(signed()),
        "garbage": lambda: "not-a-jwt",
        "three garbage segments": lambda: "a.b.c",
        "empty signature": lambda: signed().rsplit(".", 1)[0] + ".",
        "audience as a list": lambda: signed(aud=[url]),
        "issuer as a list": lambda: signed(iss=["accounts.google.com"]),
        "deeply nested header": lambda: _b64("[" * 5000) + "." + _b64("{}") + ".c2ln",
        "huge token": lambda: signed() + "A" * 20000,
    }


def _b64(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _tamper(token: str) -> str:
    import base64
    import json

    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["email"] = "attacker@evil.example"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged_payload}.{signature}"


FORGERIES = [
    "other key, same kid",
    "unknown kid",
    "wrong audience",
    "audience of another endpoint path",
    "wrong issuer",
    "other service account",
    "unverified email",
    "email_verified missing",
    "expired",
    "issued in the future",
    "issued past the clock skew",
    "not valid yet",
    "nbf past the clock skew",
    "nbf not a time",
    "iat not a time",
    "exp NaN",
    "exp Infinity",
    "no exp",
    "alg none",
    "HS256 keyed with the public cert",
    "user token instead of system token",
    "tampered payload",
    "garbage",
    "three garbage segments",
    "empty signature",
    "audience as a list",
    "issuer as a list",
    "deeply nested header",
    "huge token",
]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_system_tokens_get_a_bare_401(caller: GoogleCaller, google: FakeGoogle, forgery: str) -> None:
    response = caller.post(PATH, caller.event("GMAIL"), token=forged(caller, google)[forgery]())

    assert response.status_code == 401
    assert response.get_json() == {"error": "unauthorized"}


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer", "Token abc"])
def test_missing_or_malformed_authorization_header_is_401(caller: GoogleCaller, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}

    response = caller.client.post(PATH, json=caller.event("GMAIL"), headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {"error": "unauthorized"}


def test_a_valid_token_for_one_endpoint_is_refused_at_another(caller: GoogleCaller) -> None:
    token_for_calendar = caller.system_token("/calendar/home")

    response = caller.post(PATH, caller.event("GMAIL"), token=token_for_calendar)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "audience",
    [
        "https://addon.test/gmail/home",
        "https://addon.test/gmail/home?source=deployment",
        "https://addon.test",
        "https://addon.test/",
    ],
)
def test_the_called_url_with_or_without_query_or_the_origin_is_a_valid_audience(
    caller: GoogleCaller, google: FakeGoogle, audience: str
) -> None:
    token = google.key.sign(system_claims(audience, caller.settings.service_account_email))

    response = caller.post(PATH + "?source=deployment", caller.event("GMAIL"), token=token)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "user_token",
    [
        "missing",
        "other key, same kid",
        "wrong audience",
        "expired",
        "not valid yet",
        "nbf past the clock skew",
        "issued in the future",
        "issued past the clock skew",
        "exp Infinity",
        "system token instead",
        "no email",
        "unverified email",
        "garbage",
    ],
)
def test_forged_or_missing_user_tokens_are_refused(caller: GoogleCaller, google: FakeGoogle, user_token: str) -> None:
    client_id = caller.settings.oauth_client_id
    tokens = {
        "other key, same kid": lambda: SigningKey(google.key.kid).sign(user_claims(client_id, ALICE.sub, ALICE.email)),
        "wrong audience": lambda: caller.user_token(aud="another-client.apps.googleusercontent.com"),
        "expired": lambda: caller.user_token(exp=int(time.time()) - 3600),
        "not valid yet": lambda: caller.user_token(nbf=int(time.time()) + 3600),
        "nbf past the clock skew": lambda: caller.user_token(nbf=int(time.time()) + CLOCK_SKEW_SECONDS + 30),
        "issued in the future": lambda: caller.user_token(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
        "issued past the clock skew": lambda: caller.user_token(iat=int(time.time()) + CLOCK_SKEW_SECONDS + 30),
        "exp Infinity": lambda: caller.user_token(exp=float("inf")),
        "system token instead": lambda: caller.system_token(PATH),
        "no email": lambda: google.key.sign(
            {k: v for k, v in user_claims(client_id, ALICE.sub, ALICE.email).items() if k != "email"}
        ),
        "unverified email": lambda: caller.user_token(email_verified=False),
        "garbage": lambda: "garbage",
    }
    event = caller.event("GMAIL")
    if user_token == "missing":
        del event["authorizationEventObject"]["userIdToken"]
    else:
        event["authorizationEventObject"]["userIdToken"] = tokens[user_token]()

    response = caller.post(PATH, event)

    assert response.status_code == 401
    assert response.get_json() == {"error": "unauthorized"}


@pytest.mark.parametrize(
    "off",
    [{"exp": -CLOCK_SKEW_SECONDS + 15}, {"nbf": CLOCK_SKEW_SECONDS - 15}, {"iat": CLOCK_SKEW_SECONDS - 15}],
    ids=["expired a moment ago", "valid in a moment", "issued in a moment"],
)
def test_a_clock_a_little_off_is_allowed_the_same_for_exp_nbf_and_iat(
    caller: GoogleCaller, off: dict[str, int]
) -> None:
    claims = {name: int(time.time()) + seconds for name, seconds in off.items()}
    event = caller.event("GMAIL")
    event["authorizationEventObject"]["userIdToken"] = caller.user_token(**claims)

    response = caller.post(PATH, event, token=caller.system_token(PATH, **claims))

    assert response.status_code == 200


def test_the_user_is_who_the_verified_token_says_not_the_body(caller: GoogleCaller, google: FakeGoogle) -> None:
    event = caller.event("GMAIL")
    event["authorizationEventObject"]["userEmail"] = "mallory@evil.example"
    event["commonEventObject"]["userEmail"] = "mallory@evil.example"

    response = caller.post(PATH, event)

    assert "alice@corp.example" in response.get_data(as_text=True)
    assert "mallory" not in response.get_data(as_text=True)


def test_certs_are_fetched_once_not_per_request(caller: GoogleCaller, google: FakeGoogle) -> None:
    for _ in range(10):
        assert caller.post(PATH, caller.event("GMAIL")).status_code == 200

    assert google.state.cert_fetches == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_cert_cache_honours_max_age(google: FakeGoogle) -> None:
    google.state.certs_max_age = 300
    clock = Clock()
    certs = GoogleCerts(google.certs_url, clock=clock)

    assert certs.key(google.key.kid) is not None
    clock.now += 299
    certs.key(google.key.kid)
    assert google.state.cert_fetches == 1
    clock.now += 2
    certs.key(google.key.kid)
    assert google.state.cert_fetches == 2


def test_unknown_kids_refresh_at_most_once_a_minute(google: FakeGoogle) -> None:
    clock = Clock()
    certs = GoogleCerts(google.certs_url, clock=clock)
    certs.key(google.key.kid)

    for _ in range(50):
        assert certs.key("forged-kid") is None
    assert google.state.cert_fetches == 1

    rotated = SigningKey("rotated-kid")
    google.extra_keys.append(rotated)
    clock.now += 61
    assert certs.key("rotated-kid") is not None
    assert google.state.cert_fetches == 2


def test_cached_keys_keep_working_while_google_certs_are_down(google: FakeGoogle) -> None:
    google.state.certs_max_age = 10
    clock = Clock()
    certs = GoogleCerts(google.certs_url, clock=clock)
    certs.key(google.key.kid)

    google.state.certs_status = 503
    clock.now += 11

    assert certs.key(google.key.kid) is not None


def test_no_certs_at_all_is_503_not_500(caller: GoogleCaller, google: FakeGoogle) -> None:
    google.state.certs_status = 503

    response = caller.post(PATH, caller.event("GMAIL"))

    assert response.status_code == 503
    assert "Traceback" not in response.get_data(as_text=True)


def test_without_any_cached_keys_a_failed_fetch_is_not_retried_by_every_request(
    caller: GoogleCaller, google: FakeGoogle
) -> None:
    google.state.certs_status = 503

    answers = [caller.post(PATH, caller.event("GMAIL")).status_code for _ in range(5)]

    assert answers == [503] * 5
    assert google.state.cert_fetches == 1
