"""The OAuth 2 authorization server the fakes of Zoom and Webex share: PKCE codes, grants, refresh, revoke.

Each fake gives its own rules (token lifetimes, how a client authenticates, whether re-authorizing ends the
earlier grants, the words of each refusal) and its own answers (field names, error bodies), and routes its
own paths to `_authorize`, `_token` and, where the service has one, `_revoke`.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from tests.fakes.http_server import json_response
from tests.fakes.scripting import ScriptedFake, ScriptedState

DEFAULT_USER = "alice@corp.example"


@dataclass(frozen=True)
class Refusal:
    """An OAuth error answer: HTTP status, `error` code and its description (`{code}`: the code sent)."""

    status: int
    error: str
    description: str


@dataclass(frozen=True)
class Refusals:
    """What the token (and revoke) endpoint answers, situation by situation."""

    not_form: Refusal
    bad_client: Refusal
    unknown_code: Refusal  # unknown, used or expired
    redirect_mismatch: Refusal
    wrong_verifier: Refusal
    unknown_refresh_token: Refusal
    unsupported_grant_type: Refusal  # the description may name {grant_type}
    unknown_token: Refusal = Refusal(400, "invalid_request", "Invalid token.")  # revoke


@dataclass(frozen=True)
class OAuthRules:
    """What one service's authorization server does its own way."""

    token_prefix: str  # "zm": access tokens "zm-at-...", refresh tokens "zm-rt-..."
    token_bytes: int
    access_token_seconds: int
    code_seconds: float | None  # None: a code lasts until it is used
    # None: the scopes come from the app's registration and the URL's are ignored (Zoom).
    known_scopes: frozenset[str] | None
    granted_scopes: frozenset[str]  # what `connect`, and an authorization ignoring the URL's scopes, grant
    client_in_form: bool  # client credentials may come in the form body as well as HTTP Basic
    reauthorizing_ends_grants: bool  # a new authorization ends the user's earlier ones
    refusals: Refusals


@dataclass
class Grant:
    """One authorization of the app by one user; re-authorizing (where that ends grants) or revoking ends it."""

    email: str
    scopes: frozenset[str]
    alive: bool = True


@dataclass
class AuthCode:
    redirect_uri: str
    challenge: str
    email: str
    scopes: frozenset[str]
    issued_at: float


@dataclass
class AccessToken:
    grant: Grant
    expires_at: float
    expired: bool = False


@dataclass
class OAuthState(ScriptedState):
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    next_login: str | None = None
    deny_next: bool = False
    rotate_refresh_tokens: bool = False
    refreshes: int = 0


class OAuthServerFake(ScriptedFake):
    """A fake service with an authorization server: arranging helpers for tests, and the endpoints' answers.

    A fake using it sets `oauth_rules`, keeps an OAuthState in `state`, and answers in its own words
    through `_token_answer`, `_oauth_error` and `_unsafe_authorize`.
    """

    oauth_rules: OAuthRules
    state: OAuthState

    def __init__(self, client_id: str, client_secret: str, redirect_uris: tuple[str, ...] | None) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris  # None: any redirect URI is registered
        self._lock = threading.RLock()
        super().__init__()

    # Arranging and inspecting ------------------------------------------------------------

    @property
    def refreshes(self) -> int:
        return self.state.refreshes

    @property
    def rotate_refresh_tokens(self) -> bool:
        return self.state.rotate_refresh_tokens

    @rotate_refresh_tokens.setter
    def rotate_refresh_tokens(self, value: bool) -> None:
        self.state.rotate_refresh_tokens = value

    def next_login(self, email: str) -> None:
        """The next authorization is approved as this user."""
        self.state.next_login = email

    def deny_next(self) -> None:
        """The user declines the next authorization."""
        self.state.deny_next = True

    def connect(self, email: str = DEFAULT_USER) -> dict[str, Any]:
        """Tokens for `email` as the code exchange would issue them, without the browser round trip."""
        with self._lock:
            return self._new_grant(email, self.oauth_rules.granted_scopes)

    def revoke_user(self, email: str) -> None:
        """The user removes the app: every token of theirs stops working."""
        with self._lock:
            self._end_grants(email)

    def expire_access_tokens(self) -> None:
        """Access tokens issued so far are refused with 401; refresh tokens still work."""
        with self._lock:
            for token in self.state.access_tokens.values():
                token.expired = True

    # The service's own words -----------------------------------------------------------------

    def _token_answer(self, access_token: str, refresh_token: str, grant: Grant) -> dict[str, Any]:
        """The token endpoint's answer, with the service's own fields."""
        raise NotImplementedError

    def _oauth_error(self, refusal: Refusal) -> Response:
        """A refusal in the service's own error body."""
        raise NotImplementedError

    def _unsafe_authorize(self, what: Literal["client_id", "redirect_uri"]) -> Response:
        """The page shown for an unknown client or an unregistered redirect URI: there is nowhere to send the user."""
        raise NotImplementedError

    # Endpoints -------------------------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        rules, args = self.oauth_rules, request.args
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != self.client_id:
            return self._unsafe_authorize("client_id")
        if not redirect_uri or (self.redirect_uris is not None and redirect_uri not in self.redirect_uris):
            return self._unsafe_authorize("redirect_uri")
        state = args.get("state")
        login, self.state.next_login = self.state.next_login or DEFAULT_USER, None
        denied, self.state.deny_next = self.state.deny_next, False
        if args.get("response_type") != "code":
            return _redirect(redirect_uri, state, error="unsupported_response_type")
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return _redirect(redirect_uri, state, error="invalid_request")
        scopes = rules.granted_scopes
        if rules.known_scopes is not None:
            scopes = frozenset(args.get("scope", "").split())
            if not scopes or not scopes <= rules.known_scopes:
                return _redirect(redirect_uri, state, error="invalid_scope")
        if denied:
            return _redirect(redirect_uri, state, error="access_denied")
        code = secrets.token_urlsafe(24)
        self.state.codes[code] = AuthCode(redirect_uri, args["code_challenge"], login, scopes, time.monotonic())
        return _redirect(redirect_uri, state, code=code)

    def _token(self, request: Request) -> Response:
        refusals = self.oauth_rules.refusals
        refused = self._client_refusal(request)
        if refused is not None:
            return self._oauth_error(refused)
        form = request.form
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self.state.codes.pop(form.get("code", ""), None)  # single use, even when the exchange fails
            lifetime = self.oauth_rules.code_seconds
            if code is None or (lifetime is not None and time.monotonic() - code.issued_at > lifetime):
                said = refusals.unknown_code
                return self._oauth_error(
                    dataclasses.replace(said, description=said.description.format(code=form.get("code", "")))
                )
            if code.redirect_uri != form.get("redirect_uri"):
                return self._oauth_error(refusals.redirect_mismatch)
            if not hmac.compare_digest(_s256(form.get("code_verifier", "")), code.challenge):
                return self._oauth_error(refusals.wrong_verifier)
            return json_response(self._new_grant(code.email, code.scopes))
        if grant_type == "refresh_token":
            used = form.get("refresh_token", "")
            grant = self.state.refresh_tokens.get(used)
            if grant is None or not grant.alive:
                return self._oauth_error(refusals.unknown_refresh_token)
            self.state.refreshes += 1
            if self.state.rotate_refresh_tokens:
                del self.state.refresh_tokens[used]  # spent: a rotated refresh token works once
                return json_response(self._issue(grant))
            return json_response(self._issue(grant, refresh_token=used))
        unsupported = refusals.unsupported_grant_type
        description = unsupported.description.format(grant_type=grant_type)
        return self._oauth_error(Refusal(unsupported.status, unsupported.error, description))

    def _revoke(self, request: Request) -> Response:
        """RFC 7009 revocation of an access or refresh token, which ends its whole grant (Zoom's answer)."""
        refused = self._client_refusal(request)
        if refused is not None:
            return self._oauth_error(refused)
        token = request.form.get("token", "")
        access = self.state.access_tokens.get(token)
        grant = access.grant if access is not None else self.state.refresh_tokens.get(token)
        if grant is None or not grant.alive:
            return self._oauth_error(self.oauth_rules.refusals.unknown_token)
        self._end(grant)
        return json_response({"status": "success"})

    def _bearer_grant(self, request: Request) -> Grant | None:
        """The live grant behind the request's bearer token; None if there is no such token or it is spent."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        access = self.state.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if access is None or access.expired or time.monotonic() > access.expires_at or not access.grant.alive:
            return None
        return access.grant

    # Grants ------------------------------------------------------------------------------------

    def _client_refusal(self, request: Request) -> Refusal | None:
        refusals = self.oauth_rules.refusals
        if request.mimetype != "application/x-www-form-urlencoded":
            return refusals.not_form
        auth = request.authorization
        client_id, client_secret = None, None
        if auth is not None and auth.type == "basic":
            client_id, client_secret = auth.username, auth.password
        elif self.oauth_rules.client_in_form:
            client_id, client_secret = request.form.get("client_id"), request.form.get("client_secret")
        if client_id != self.client_id or not hmac.compare_digest(str(client_secret), self.client_secret):
            return refusals.bad_client
        return None

    def _new_grant(self, email: str, scopes: frozenset[str]) -> dict[str, Any]:
        if self.oauth_rules.reauthorizing_ends_grants:
            self._end_grants(email)
        return self._issue(Grant(email, scopes))

    def _issue(self, grant: Grant, refresh_token: str | None = None) -> dict[str, Any]:
        """A new access token for the grant, and a new refresh token unless the one given stays."""
        rules = self.oauth_rules
        access_token = f"{rules.token_prefix}-at-" + secrets.token_urlsafe(rules.token_bytes)
        expires_at = time.monotonic() + rules.access_token_seconds
        self.state.access_tokens[access_token] = AccessToken(grant, expires_at)
        if refresh_token is None:
            refresh_token = f"{rules.token_prefix}-rt-" + secrets.token_urlsafe(rules.token_bytes)
            self.state.refresh_tokens[refresh_token] = grant
        return self._token_answer(access_token, refresh_token, grant)

    def _end_grants(self, email: str) -> None:
        grants = {id(t.grant): t.grant for t in self.state.access_tokens.values() if t.grant.email == email}
        grants.update({id(g): g for g in self.state.refresh_tokens.values() if g.email == email})
        for grant in grants.values():
            self._end(grant)

    def _end(self, grant: Grant) -> None:
        grant.alive = False
        for token in [t for t, a in self.state.access_tokens.items() if a.grant is grant]:
            del self.state.access_tokens[token]
        for token in [t for t, g in self.state.refresh_tokens.items() if g is grant]:
            del self.state.refresh_tokens[token]


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _redirect(redirect_uri: str, state: str | None, **params: str) -> Response:
    query = {**params, **({"state": state} if state is not None else {})}
    separator = "&" if "?" in redirect_uri else "?"
    return Response(status=302, headers={"Location": f"{redirect_uri}{separator}{urlencode(query)}"})
