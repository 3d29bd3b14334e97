"""The caller check against our own ID token issuer, and the credentials used for the caller's sheet."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

import google.auth.exceptions
import google.oauth2.credentials
import google.oauth2.service_account
import pytest
from google.auth import jwt

from callmarker_sheets.auth import (
    SPREADSHEETS_SCOPE,
    AuthError,
    Caller,
    CertificateCache,
    CertificatesUnavailable,
    Forbidden,
    Unauthenticated,
    sheets_credentials,
    verify_caller,
)
from callmarker_sheets.config import ConfigError, Settings
from tests.emulators.identity import (
    DEFAULT_AUDIENCE,
    DEFAULT_EMAIL,
    GOOGLE_CERTS_URL,
    CertsRequest,
    TokenIssuer,
    serve_in_thread,
)

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
    """The message of the rejection, after checking its type, status, and that it does not quote the token."""
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
    return message


def test_a_valid_token_admits_the_caller(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    caller = check(issuer.sign(now=NOW), certs_request, cache)
    assert caller == Caller(email=DEFAULT_EMAIL, domain="example.com")


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
    assert check(token, certs_request, cache) == Caller(email="boss@GMAIL.com", domain=None)


def test_an_allowed_workspace_domain_is_admitted_case_insensitively(
    issuer: TokenIssuer, certs_request: CertsRequest, cache: CertificateCache
) -> None:
    token = issuer.sign(now=NOW, email="rep@Example.com", hd="Example.COM")
    assert check(token, certs_request, cache) == Caller(email="rep@Example.com", domain="example.com")


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


# Sheets credentials


def test_caller_mode_uses_the_callers_oauth_token() -> None:
    credentials = sheets_credentials(make_settings(), "ya29.caller-token")
    assert isinstance(credentials, google.oauth2.credentials.Credentials)
    assert credentials.token == "ya29.caller-token"


@pytest.mark.parametrize("token", [None, "", "  "])
def test_caller_mode_without_a_token_is_401(token: str | None) -> None:
    with pytest.raises(Unauthenticated) as info:
        sheets_credentials(make_settings(), token)
    assert str(info.value) == "X-Sheets-Token header is missing"
    assert info.value.http_status == 401


@pytest.fixture
def adc_file(issuer: TokenIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(issuer.service_account_info()))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    return path


def test_service_account_mode_uses_application_default_credentials(adc_file: Path) -> None:
    settings = make_settings(sheets_credentials="service_account")
    credentials = sheets_credentials(settings, sheets_token=None)
    assert isinstance(credentials, google.oauth2.service_account.Credentials)
    assert credentials.service_account_email == "runtime@callmarker-test.iam.gserviceaccount.com"
    assert credentials.scopes == [SPREADSHEETS_SCOPE]


def test_service_account_mode_without_credentials_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="SHEETS_CREDENTIALS=service_account") as info:
        sheets_credentials(make_settings(sheets_credentials="service_account"), None)
    assert isinstance(info.value.__cause__, google.auth.exceptions.DefaultCredentialsError)
