"""The caller check against our own ID token issuer, and the credentials used for the caller's sheet."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any, ClassVar

import google.auth.exceptions
import google.auth.transport.requests
import google.oauth2.credentials
import pytest
import requests
from google.auth import jwt

from callmarker_sheets.auth import (
    SPREADSHEETS_SCOPE,
    AuthError,
    Caller,
    CertificateCache,
    CertificatesUnavailable,
    Forbidden,
    SheetsTokenMismatch,
    TokenInfoCache,
    TokenInfoUnavailable,
    Unauthenticated,
    parse_token_info,
    sheets_credentials,
    verify_caller,
)
from callmarker_sheets.config import DEFAULT_TOKENINFO_URL, Settings
from tests.emulators.identity import (
    DEFAULT_AUDIENCE,
    DEFAULT_EMAIL,
    DEFAULT_SUBJECT,
    GOOGLE_CERTS_URL,
    CertsRequest,
    TokenIssuer,
    create_app,
    serve_in_thread,
)
from tests.emulators.wsgi_requests import WSGIAdapter
from tests.words import visible

NOW = 1_800_000_000  # a fixed "now", so validity windows are exact
SKEW = 10
OTHER_AUDIENCE = "another-client.apps.googleusercontent.com"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
def certs_request(issuer: TokenIssuer) -> CertsRequest:
    return CertsRequest([issuer])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> CertificateCache:
    return CertificateCache(GOOGLE_CERTS_URL, clock=clock)


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "callmarker_token": "cm-secret",
        "id_token_audiences": (OTHER_AUDIENCE, DEFAULT_AUDIENCE),
        "allowed_emails": frozenset({"Boss@Gmail.com"}),
        "allowed_domains": frozenset({"example.com"}),
        "id_token_clock_skew_s": SKEW,
        "cursor_signing_key": "k" * 43,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def check(
    token: str | None,
    certs_request: CertsRequest,
    cache: CertificateCache,
    settings: Settings | None = None,
    *,
    scheme: str = "Bearer ",
) -> Caller:
    header = None if token is None else scheme + token
    return verify_caller(header, settings or make_settings(), request=certs_request, certs=cache, now=NOW)


def rejected(
    expected: type[AuthError],
    token: str | None,
    certs_request: CertsRequest,
    cache: CertificateCache,
    settings: Settings | None = None,
    *,
    scheme: str = "Bearer ",
) -> str:
    """The message of the rejection as a person reads it, after checking its type, status, and that it
    does not quote the token."""
    with pytest.raises(AuthError) as info:
        check(token, certs_request, cache, settings, scheme=scheme)
    error = info.value
    assert type(error) is expected
    assert error.http_status == {Unauthenticated: 401, Forbidden: 403}[expected]
    message = str(error)
    if token:
        assert token not in message
        for part in token.split("."):
            if len(part) > 8:
                assert part not in message
    return visible(message)


def test_a_valid_token_admits_the_caller(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    caller = check(issuer.sign(now=NOW), certs_request, cache)
    assert caller == Caller(email=DEFAULT_EMAIL, domain="example.com", subject=DEFAULT_SUBJECT)


def test_google_auth_accepts_the_emulated_tokens(issuer: TokenIssuer) -> None:
    # The emulator is only worth testing against if Google's own decoder reads its tokens the same way.
    claims = jwt.decode(issuer.sign(), certs=issuer.certs_json(), audience=DEFAULT_AUDIENCE)
    assert claims["email"] == DEFAULT_EMAIL


def test_any_of_several_audiences_is_accepted(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    token = issuer.sign(now=NOW, aud=OTHER_AUDIENCE)
    assert check(token, certs_request, cache).email == DEFAULT_EMAIL


def test_both_google_issuer_spellings_are_accepted(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    for iss in ("accounts.google.com", "https://accounts.google.com"):
        assert check(issuer.sign(now=NOW, iss=iss), certs_request, cache).email == DEFAULT_EMAIL


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"exp": NOW - SKEW - 1, "iat": NOW - 3600}, "ID token has expired"),
        ({"iat": NOW + SKEW + 1, "exp": NOW + 3600}, "ID token is not valid yet"),
        ({"nbf": NOW + SKEW + 60}, "ID token is not valid yet"),
        ({"aud": "someone-else.apps.googleusercontent.com"}, "ID token is for another audience"),
        ({"aud": [DEFAULT_AUDIENCE]}, "ID token is for another audience"),
        ({"iss": "https://evil.example.com"}, "ID token was not issued by Google"),
        ({"iss": "accounts.google.com.evil.example"}, "ID token was not issued by Google"),
        ({"exp": None}, "ID token lacks its issue or expiry time"),
        ({"exp": "tomorrow"}, "ID token lacks its issue or expiry time"),
        ({"exp": 10**400}, "ID token lacks its issue or expiry time"),
        ({"sub": None}, "ID token has no subject"),
        ({"sub": ""}, "ID token has no subject"),
        ({"sub": 1234}, "ID token has no subject"),
    ],
)
def test_tokens_not_meant_for_us_are_401(
    overrides: dict[str, Any],
    message: str,
    issuer: TokenIssuer,
    certs_request: CertsRequest,
    cache: CertificateCache,
) -> None:
    token = issuer.sign(now=NOW, **overrides)
    assert rejected(Unauthenticated, token, certs_request, cache) == message


def test_clock_skew_admits_a_token_just_expired_or_just_issued(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    just_expired = issuer.sign(iat=NOW - 3600, exp=NOW - SKEW)
    just_issued = issuer.sign(iat=NOW + SKEW, exp=NOW + 3600)
    assert check(just_expired, certs_request, cache).email == DEFAULT_EMAIL
    assert check(just_issued, certs_request, cache).email == DEFAULT_EMAIL
    # With no skew configured, the same tokens are refused.
    strict = make_settings(id_token_clock_skew_s=0)
    assert rejected(Unauthenticated, just_expired, certs_request, cache, strict) == "ID token has expired"
    assert rejected(Unauthenticated, just_issued, certs_request, cache, strict) == "ID token is not valid yet"


def test_a_signature_by_another_key_is_401(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    message = rejected(Unauthenticated, issuer.forged(now=NOW), certs_request, cache)
    assert message == "ID token signature is invalid"


def test_changed_claims_break_the_signature(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    header, _claims, signature = issuer.sign(now=NOW, email="nobody@other.org", hd=None).split(".")
    _, admitted_claims, _ = issuer.sign(now=NOW).split(".")
    tampered = f"{header}.{admitted_claims}.{signature}"
    assert rejected(Unauthenticated, tampered, certs_request, cache) == "ID token signature is invalid"


def test_alg_none_is_401(issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache) -> None:
    token = issuer.unsigned(now=NOW)
    assert rejected(Unauthenticated, token, certs_request, cache) == "ID token must be signed with RS256"
    assert certs_request.fetches == 0  # refused before any key is looked up


def test_hs256_keyed_with_the_public_certificate_is_401(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    token = issuer.hs256_with_public_key(now=NOW)
    assert rejected(Unauthenticated, token, certs_request, cache) == "ID token must be signed with RS256"


def test_an_rs256_signature_under_another_alg_header_is_401(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    token = issuer.sign(now=NOW, header_overrides={"alg": "ES256"})
    assert rejected(Unauthenticated, token, certs_request, cache) == "ID token must be signed with RS256"


def test_an_unknown_key_id_is_401_after_one_refetch(
    issuer: TokenIssuer, certs_request: CertsRequest, clock: FakeClock, cache: CertificateCache
) -> None:
    check(issuer.sign(now=NOW), certs_request, cache)
    assert certs_request.fetches == 1
    clock.t += 60
    token = issuer.sign(now=NOW, header_overrides={"kid": "no-such-key"})
    assert rejected(Unauthenticated, token, certs_request, cache) == "ID token is signed by an unknown key"
    assert certs_request.fetches == 2
    # Another unknown key id right away does not make every request wait on the issuer.
    assert rejected(Unauthenticated, token, certs_request, cache) == "ID token is signed by an unknown key"
    assert certs_request.fetches == 2


def test_a_token_without_key_id_is_401(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    token = issuer.sign(now=NOW, header_overrides={"kid": None})
    assert rejected(Unauthenticated, token, certs_request, cache) == "ID token has no key id"


def test_key_rotation_is_picked_up_without_a_restart(
    issuer: TokenIssuer, certs_request: CertsRequest, clock: FakeClock, cache: CertificateCache
) -> None:
    check(issuer.sign(now=NOW), certs_request, cache)
    rotated = TokenIssuer()
    certs_request.issuers = [issuer, rotated]
    clock.t += 60  # well inside the cached certificates' max-age
    assert check(rotated.sign(now=NOW), certs_request, cache).email == DEFAULT_EMAIL
    assert certs_request.fetches == 2


def test_certificates_are_fetched_once_for_many_tokens(
    issuer: TokenIssuer, certs_request: CertsRequest, clock: FakeClock, cache: CertificateCache
) -> None:
    for i in range(20):
        clock.t += 10
        check(issuer.sign(now=NOW, email=f"user{i}@example.com"), certs_request, cache)
    assert certs_request.fetches == 1


def test_certificates_are_refetched_after_max_age(
    issuer: TokenIssuer, clock: FakeClock, cache: CertificateCache
) -> None:
    certs_request = CertsRequest([issuer], max_age=600)
    check(issuer.sign(now=NOW), certs_request, cache)
    clock.t += 599
    check(issuer.sign(now=NOW), certs_request, cache)
    assert certs_request.fetches == 1
    clock.t += 2
    check(issuer.sign(now=NOW), certs_request, cache)
    assert certs_request.fetches == 2


@pytest.mark.parametrize(
    ("max_age", "kept_for"),
    [(0, 60), (None, 300), (10**9, 6 * 3600)],  # floor, no header, ceiling
)
def test_max_age_is_bounded(
    max_age: int | None, kept_for: int, issuer: TokenIssuer, clock: FakeClock, cache: CertificateCache
) -> None:
    certs_request = CertsRequest([issuer], max_age=max_age)
    check(issuer.sign(now=NOW), certs_request, cache)
    clock.t += kept_for - 1
    check(issuer.sign(now=NOW), certs_request, cache)
    assert certs_request.fetches == 1
    clock.t += 1
    check(issuer.sign(now=NOW), certs_request, cache)
    assert certs_request.fetches == 2


def test_unreachable_certificates_are_503_not_401(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    certs_request.fail = True
    with pytest.raises(CertificatesUnavailable) as info:
        check(issuer.sign(now=NOW), certs_request, cache)
    assert info.value.http_status == 503


def test_held_certificates_outlive_a_failed_refresh(
    issuer: TokenIssuer, certs_request: CertsRequest, clock: FakeClock, cache: CertificateCache
) -> None:
    check(issuer.sign(now=NOW), certs_request, cache)
    certs_request.fail = True
    clock.t += 7200
    assert check(issuer.sign(now=NOW), certs_request, cache).email == DEFAULT_EMAIL
    assert certs_request.fetches == 2


def test_certificates_in_an_unexpected_shape_are_503(issuer: TokenIssuer, cache: CertificateCache) -> None:
    def jwks(url: str, method: str = "GET", **kwargs: object) -> object:
        class Answer:
            status = 200
            headers: ClassVar[dict[str, str]] = {}
            data = json.dumps({"keys": [{"kid": issuer.kid, "kty": "RSA"}]}).encode()

        return Answer()

    with pytest.raises(CertificatesUnavailable):
        verify_caller(
            "Bearer " + issuer.sign(now=NOW),
            make_settings(),
            request=jwks,  # type: ignore[arg-type]
            certs=cache,
            now=NOW,
        )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email_verified": False}, f"{DEFAULT_EMAIL} is not a verified email address"),
        ({"email_verified": "true"}, f"{DEFAULT_EMAIL} is not a verified email address"),
        ({"email_verified": None}, f"{DEFAULT_EMAIL} is not a verified email address"),
        ({"email": "eve@other.org", "hd": "other.org"}, "eve@other.org is not allowed to use this function"),
        # A consumer account on an allowed domain's address is not a member of that Workspace domain.
        (
            {"email": "former@example.com", "hd": None},
            "former@example.com is not allowed to use this function",
        ),
        ({"email": None}, "ID token carries no email address; the add-in needs the userinfo.email scope"),
        ({"email": "dana"}, "ID token carries no email address; the add-in needs the userinfo.email scope"),
        (
            {"email": "a@b@example.com"},
            "ID token carries no email address; the add-in needs the userinfo.email scope",
        ),
        # The hosted domain must be the email's own: hd cannot lend its domain to another address.
        (
            {"email": "mallory@evil.com", "hd": "example.com"},
            "mallory@evil.com is not an address of its Google Workspace domain",
        ),
        (
            {"email": "dana@example.com", "hd": "evil.com"},
            "dana@example.com is not an address of its Google Workspace domain",
        ),
        # Suffix tricks: only the allowed domain itself, exactly.
        (
            {"email": "eve@example.com.evil.org", "hd": "example.com.evil.org"},
            "eve@example.com.evil.org is not allowed to use this function",
        ),
        (
            {"email": "eve@evilexample.com", "hd": "evilexample.com"},
            "eve@evilexample.com is not allowed to use this function",
        ),
        (
            {"email": "eve@sub.example.com", "hd": "sub.example.com"},
            "eve@sub.example.com is not allowed to use this function",
        ),
        (
            {"email": "eve@example.com.", "hd": "example.com."},
            "eve@example.com. is not allowed to use this function",
        ),
        (
            {"email": "eve@ex\u0430mple.com", "hd": "ex\u0430mple.com"},
            "eve@ex\u0430mple.com is not allowed to use this function",
        ),
    ],
)
def test_valid_tokens_of_accounts_not_admitted_are_403(
    overrides: dict[str, Any],
    message: str,
    issuer: TokenIssuer,
    certs_request: CertsRequest,
    cache: CertificateCache,
) -> None:
    token = issuer.sign(now=NOW, **overrides)
    assert rejected(Forbidden, token, certs_request, cache) == message


def test_an_allowed_email_is_admitted_case_insensitively(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    token = issuer.sign(now=NOW, email="boss@GMAIL.com", hd=None)
    assert check(token, certs_request, cache) == Caller(
        email="boss@gmail.com", domain=None, subject=DEFAULT_SUBJECT
    )


def test_a_listed_address_is_admitted_whatever_its_hosted_domain(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    # An address on another domain of its organisation carries the organisation's domain in hd.
    token = issuer.sign(now=NOW, email="boss@gmail.com", hd="corp.example")
    caller = check(token, certs_request, cache)
    assert caller == Caller(email="boss@gmail.com", domain="corp.example", subject=DEFAULT_SUBJECT)


def test_an_allowed_workspace_domain_is_admitted_case_insensitively(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    token = issuer.sign(now=NOW, email="rep@Example.com", hd="Example.COM")
    caller = check(token, certs_request, cache)
    assert caller == Caller(email="rep@example.com", domain="example.com", subject=DEFAULT_SUBJECT)


def test_emails_only_allowlist_refuses_a_workspace_domain_it_does_not_name(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    settings = make_settings(allowed_domains=frozenset())
    message = rejected(Forbidden, issuer.sign(now=NOW), certs_request, cache, settings)
    assert message == f"{DEFAULT_EMAIL} is not allowed to use this function"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Authorization header is missing"),
        ("", "Authorization header is missing"),
        ("   ", "Authorization header is missing"),
        ("Bearer", "Authorization must be 'Bearer <Google ID token>'"),
        ("Bearer    ", "Authorization must be 'Bearer <Google ID token>'"),
        ("Basic ZGFuYTpodW50ZXIy", "Authorization must be 'Bearer <Google ID token>'"),
        ("Bearer not-a-token", "ID token is malformed"),
        ("Bearer a.b.c", "ID token is malformed"),
        ("Bearer eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "ID token is malformed"),
        ("Bearer W10.W10.c2ln", "ID token is malformed"),  # JSON, but arrays not objects
        ("Bearer " + "a" * 20_000 + ".b.c", "ID token is malformed"),
    ],
)
def test_missing_or_garbage_authorization_is_401(
    header: str | None, message: str, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    with pytest.raises(Unauthenticated) as info:
        verify_caller(header, make_settings(), request=certs_request, certs=cache, now=NOW)
    assert info.value.http_status == 401
    assert str(info.value) == message
    assert "hunter2" not in str(info.value)
    assert certs_request.fetches == 0


def test_the_bearer_scheme_is_case_insensitive(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    assert check(issuer.sign(now=NOW), certs_request, cache, scheme="bearer ").email == DEFAULT_EMAIL


def test_verification_defaults_to_the_real_clock(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    token = issuer.sign(now=int(time.time()))
    caller = verify_caller("Bearer " + token, make_settings(), request=certs_request, certs=cache)
    assert caller.email == DEFAULT_EMAIL
    stale = issuer.sign(now=int(time.time()) - 7200)
    with pytest.raises(Unauthenticated, match="expired"):
        verify_caller("Bearer " + stale, make_settings(), request=certs_request, certs=cache)


def test_the_certificates_url_is_fetched_over_http_from_the_emulator(issuer: TokenIssuer) -> None:
    # The demo's path: the process-wide cache and HTTP session, the URL from the settings.
    server, url = serve_in_thread(issuer)
    try:
        with urllib.request.urlopen(url) as answer:  # noqa: S310 - 127.0.0.1
            assert json.load(answer) == issuer.certs_json()
        caller = verify_caller("Bearer " + issuer.sign(), make_settings(id_token_certs_url=url))
        assert caller.email == DEFAULT_EMAIL
    finally:
        server.shutdown()
        server.server_close()


def test_the_emulator_signs_tokens_on_request(issuer: TokenIssuer) -> None:
    server, url = serve_in_thread(issuer)
    try:
        token_url = url.replace("/oauth2/v1/certs", "/token")
        body = json.dumps({"email": "rep@example.com"}).encode()
        post = urllib.request.Request(token_url, data=body, method="POST")  # noqa: S310 - 127.0.0.1
        with urllib.request.urlopen(post) as answer:  # noqa: S310 - 127.0.0.1
            token = json.load(answer)["id_token"]
        caller = verify_caller("Bearer " + token, make_settings(id_token_certs_url=url))
        assert caller.email == "rep@example.com"
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------ the Sheets token


CALLER = Caller(email=DEFAULT_EMAIL, domain="example.com", subject=DEFAULT_SUBJECT)


@pytest.fixture
def google_request(issuer: TokenIssuer) -> google.auth.transport.requests.Request:
    """A google-auth transport whose requests to Google's hosts are answered by the identity emulator."""
    session = requests.Session()
    session.mount("https://", WSGIAdapter(create_app(issuer)))
    return google.auth.transport.requests.Request(session)


def tokeninfo_cache() -> TokenInfoCache:
    return TokenInfoCache(DEFAULT_TOKENINFO_URL)


def test_the_callers_own_token_gives_the_credentials(
    issuer: TokenIssuer, google_request: google.auth.transport.requests.Request
) -> None:
    token = issuer.grant()
    credentials = sheets_credentials(
        token, CALLER, make_settings(), request=google_request, tokeninfo=tokeninfo_cache()
    )
    assert isinstance(credentials, google.oauth2.credentials.Credentials)
    assert credentials.token == token


@pytest.mark.parametrize("token", [None, "", "  "])
def test_no_sheets_token_is_401_without_asking_google(
    token: str | None, issuer: TokenIssuer, google_request: google.auth.transport.requests.Request
) -> None:
    asked = issuer.tokeninfo_requests
    with pytest.raises(Unauthenticated, match="X-Sheets-Token header is missing") as info:
        sheets_credentials(
            token, CALLER, make_settings(), request=google_request, tokeninfo=tokeninfo_cache()
        )
    assert info.value.http_status == 401
    assert issuer.tokeninfo_requests == asked


@pytest.mark.parametrize("token", ["ya29 with spaces", "ya29.\u05d0", "x" * 5000, "ya29.a\nb"])
def test_a_sheets_token_that_is_no_token_is_401_without_asking_google(
    token: str, issuer: TokenIssuer, google_request: google.auth.transport.requests.Request
) -> None:
    asked = issuer.tokeninfo_requests
    with pytest.raises(Unauthenticated, match="is not a Google access token"):
        sheets_credentials(
            token, CALLER, make_settings(), request=google_request, tokeninfo=tokeninfo_cache()
        )
    assert issuer.tokeninfo_requests == asked


@pytest.mark.parametrize(
    ("grant", "error", "words"),
    [
        ({"sub": "999999999999999999999"}, SheetsTokenMismatch, "belongs to another Google account"),
        ({"audience": "another-app.apps.googleusercontent.com"}, Unauthenticated, "another application"),
        ({"azp": "another-app.apps.googleusercontent.com"}, Unauthenticated, "another application"),
        (
            {"scopes": ["openid", "https://www.googleapis.com/auth/spreadsheets.readonly"]},
            Unauthenticated,
            "does not allow Google Sheets",
        ),
        ({"expires_in": -5}, Unauthenticated, "not a valid Google access token"),
    ],
)
def test_a_sheets_token_not_tied_to_the_caller_is_refused(
    grant: dict[str, Any],
    error: type[AuthError],
    words: str,
    issuer: TokenIssuer,
    google_request: google.auth.transport.requests.Request,
) -> None:
    token = issuer.grant(**grant)
    with pytest.raises(AuthError, match=words) as info:
        sheets_credentials(
            token, CALLER, make_settings(), request=google_request, tokeninfo=tokeninfo_cache()
        )
    assert type(info.value) is error
    assert info.value.http_status == (403 if error is SheetsTokenMismatch else 401)
    assert token not in info.value.message


def test_a_token_google_does_not_know_is_401(google_request: google.auth.transport.requests.Request) -> None:
    with pytest.raises(Unauthenticated, match="not a valid Google access token"):
        sheets_credentials(
            "ya29.made-up", CALLER, make_settings(), request=google_request, tokeninfo=tokeninfo_cache()
        )


def test_a_caller_without_a_subject_matches_no_token(
    issuer: TokenIssuer, google_request: google.auth.transport.requests.Request
) -> None:
    nobody = Caller(email=DEFAULT_EMAIL, domain=None)
    with pytest.raises(SheetsTokenMismatch):
        sheets_credentials(
            issuer.grant(), nobody, make_settings(), request=google_request, tokeninfo=tokeninfo_cache()
        )


def test_tokeninfo_is_asked_once_per_token_while_it_is_valid(
    issuer: TokenIssuer, google_request: google.auth.transport.requests.Request
) -> None:
    clock = FakeClock()
    clock.t = time.time()
    cache = TokenInfoCache(DEFAULT_TOKENINFO_URL, clock=clock)
    token = issuer.grant(expires_in=600)
    asked = issuer.tokeninfo_requests
    for _ in range(5):
        sheets_credentials(token, CALLER, make_settings(), request=google_request, tokeninfo=cache)
    assert (cache.fetches, issuer.tokeninfo_requests - asked) == (1, 1)
    clock.t += 601  # the token has expired: Google is asked again, and says so
    with pytest.raises(Unauthenticated):
        sheets_credentials(token, CALLER, make_settings(), request=google_request, tokeninfo=cache)
    assert cache.fetches == 2


def test_the_tokeninfo_cache_is_bounded_and_keeps_no_token(
    issuer: TokenIssuer, google_request: google.auth.transport.requests.Request
) -> None:
    cache = TokenInfoCache(DEFAULT_TOKENINFO_URL, max_entries=3)
    tokens = [issuer.grant() for _ in range(5)]
    for token in tokens:
        cache.info(token, google_request)
    assert len(cache._answers) == 3
    assert not any(token in repr(cache._answers) for token in tokens)
    cache.info(tokens[-1], google_request)  # still held
    assert cache.fetches == 5
    cache.info(tokens[0], google_request)  # dropped first, asked again
    assert cache.fetches == 6


def test_the_token_travels_in_a_header_never_in_a_url(issuer: TokenIssuer) -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    app = create_app(issuer)

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(
            (environ.get("REQUEST_URI", ""), {k: v for k, v in environ.items() if k.startswith("HTTP_")})
        )
        return app(environ, start_response)

    session = requests.Session()
    session.mount("https://", WSGIAdapter(spy))
    token = issuer.grant()
    TokenInfoCache(DEFAULT_TOKENINFO_URL).info(token, google.auth.transport.requests.Request(session))
    ((uri, headers),) = seen
    assert token not in uri
    assert headers["HTTP_AUTHORIZATION"] == f"Bearer {token}"


class Broken:
    """A google-auth transport that answers every request with one status and body."""

    def __init__(self, status: int, data: bytes = b"") -> None:
        self.status, self.data = status, data

    def __call__(self, url: str, method: str = "GET", **kwargs: Any) -> Any:
        if self.status == 0:
            raise google.auth.exceptions.TransportError("connection refused")
        return type("Answer", (), {"status": self.status, "data": self.data, "headers": {}})()


@pytest.mark.parametrize(
    "answer",
    [
        Broken(0),
        Broken(500),
        Broken(503),
        Broken(200, b"<html>"),
        Broken(200, b"[]"),
        Broken(200, b'{"sub": "1"}'),
    ],
)
def test_a_tokeninfo_that_cannot_be_read_is_503(answer: Broken) -> None:
    with pytest.raises(TokenInfoUnavailable) as info:
        sheets_credentials("ya29.x", CALLER, make_settings(), request=answer, tokeninfo=tokeninfo_cache())  # type: ignore[arg-type]
    assert info.value.http_status == 503


@pytest.mark.parametrize(
    ("answer", "expires_at"),
    [
        ({"sub": "1", "aud": "a", "scope": "s", "exp": "1800000600"}, 1_800_000_600),
        ({"sub": "1", "aud": "a", "scope": "s", "expires_in": "600"}, NOW + 600),
        ({"sub": "1", "aud": "a", "scope": "s", "expires_in": 600, "exp": 1_800_000_100}, NOW + 100),
    ],
)
def test_tokeninfo_answers_are_read_as_google_writes_them(answer: dict[str, Any], expires_at: int) -> None:
    info = parse_token_info(json.dumps(answer).encode(), NOW)
    assert (info.subject, info.audience, info.scopes, info.expires_at) == (
        "1",
        "a",
        frozenset({"s"}),
        expires_at,
    )


@pytest.mark.parametrize(
    "answer",
    [
        {"aud": "a", "scope": "s", "exp": "1"},
        {"sub": "", "aud": "a", "scope": "s", "exp": "1"},
        {"sub": "1", "scope": "s", "exp": "1"},
        {"sub": "1", "aud": "a", "exp": "1"},
        {"sub": "1", "aud": "a", "scope": "s"},
        {"sub": "1", "aud": "a", "scope": "s", "exp": "soon"},
        {"sub": "1", "aud": "a", "scope": "s", "exp": True},
        {"sub": "1", "aud": "a", "azp": 5, "scope": "s", "exp": "1"},
    ],
)
def test_tokeninfo_answers_of_another_shape_are_refused(answer: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_token_info(json.dumps(answer).encode(), NOW)


def test_the_identity_emulator_answers_tokeninfo_as_google_does(issuer: TokenIssuer) -> None:
    server, url = serve_in_thread(issuer)
    tokeninfo = url.replace("/oauth2/v1/certs", "/tokeninfo")
    try:
        token = issuer.grant(expires_in=900)
        with urllib.request.urlopen(f"{tokeninfo}?access_token={token}") as answer:  # noqa: S310 - 127.0.0.1
            info = json.load(answer)
        assert info["sub"] == DEFAULT_SUBJECT
        assert info["aud"] == info["azp"] == DEFAULT_AUDIENCE
        assert SPREADSHEETS_SCOPE in info["scope"].split()
        assert isinstance(info["exp"], str)
        assert isinstance(info["expires_in"], str)
        assert 890 <= int(info["expires_in"]) <= 900
        assert info["email_verified"] == "true"
        post = urllib.request.Request(tokeninfo, data=b"access_token=ya29.unknown", method="POST")  # noqa: S310
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(post)  # noqa: S310 - 127.0.0.1
        assert refused.value.code == 400
        assert json.load(refused.value) == {"error": "invalid_token", "error_description": "Invalid Value"}
    finally:
        server.shutdown()
        server.server_close()
