"""Forged, odd and foreign ID tokens, over HTTP against the function as functions-framework serves it.

Every one is refused with a JSON 401 or 403 that quotes no token, before the sheet is read, anything
is sent to CallMarker, or Google is asked about the Sheets token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.emulators.identity import DEFAULT_AUDIENCE, TokenIssuer
from tests.security.people import (
    ALLOWED_CONSUMER,
    Cast,
    danas_sheet,
    leads,
    nothing_read_or_sent,
    person,
    refused,
    upload,
)
from tests.stack import Stack


@pytest.fixture(scope="module")
def body(stack: Stack, cast: Cast) -> dict[str, Any]:
    spreadsheet_id, gid = danas_sheet(stack, cast, leads(10))
    return upload(spreadsheet_id, gid)


NOW = int(time.time())
Forge = Callable[[TokenIssuer], str]


def claims(**changes: Any) -> Forge:
    """Dana's token, signed by Google's (the stack's) key, with some claims changed."""
    return lambda issuer: issuer.sign(**changes)


def header(**changes: Any) -> Forge:
    return lambda issuer: issuer.sign(header_overrides=changes)


def swapped_claims(issuer: TokenIssuer) -> str:
    """Mallory's claims under Dana's signature."""
    signed = issuer.sign()
    other = issuer.sign(email="mallory@evil.com", hd="evil.com")
    first, _, signature = signed.split(".")
    return f"{first}.{other.split('.')[1]}.{signature}"


def forged(forge: Forge, status: int, words: str, name: str) -> Any:
    return pytest.param(forge, (status, words), id=name)


FORGED = [
    forged(claims(iat=NOW - 7200, exp=NOW - 3600), 401, "expired", "expired"),
    forged(claims(iat=NOW - 3660, exp=NOW - 60), 401, "expired", "expired a minute ago"),
    forged(claims(iat=NOW + 3600, exp=NOW + 7200), 401, "not valid yet", "not yet valid"),
    forged(claims(nbf=NOW + 3600), 401, "not valid yet", "not before a future time"),
    forged(claims(aud="other.apps.googleusercontent.com"), 401, "audience", "wrong audience"),
    forged(claims(aud=[DEFAULT_AUDIENCE]), 401, "audience", "a list of audiences"),
    forged(claims(iss="https://evil.example.com"), 401, "not issued by Google", "wrong issuer"),
    forged(claims(iss="accounts.google.com.evil"), 401, "not issued by Google", "issuer named like Google"),
    forged(lambda issuer: issuer.forged(), 401, "signature is invalid", "bad signature"),
    forged(swapped_claims, 401, "signature is invalid", "claims changed under the signature"),
    forged(lambda _issuer: TokenIssuer().sign(), 401, "unknown key", "a key Google never published"),
    forged(header(kid="no-such-key"), 401, "unknown key", "unknown key id"),
    forged(header(kid=None), 401, "no key id", "no key id"),
    forged(lambda issuer: issuer.unsigned(), 401, "RS256", "alg none"),
    forged(lambda issuer: issuer.hs256_with_public_key(), 401, "RS256", "HS256 keyed with the public key"),
    forged(header(alg="ES256"), 401, "RS256", "an RS256 signature under an ES256 header"),
    forged(claims(sub=None), 401, "no subject", "no subject"),
    forged(claims(email_verified=False), 403, "not a verified email", "unverified email"),
    forged(claims(email_verified="true"), 403, "not a verified email", "email verified as text"),
    forged(claims(email=None), 403, "no email", "no email"),
    forged(claims(email="eve@evil.com@example.com"), 403, "no email", "two addresses in one"),
    forged(claims(email="mallory@evil.com", hd="example.com"), 403, "Workspace", "email and hd differ"),
    forged(claims(email="eve@example.com", hd="evil.com"), 403, "Workspace", "allowed email, other hd"),
    forged(claims(email="former@example.com", hd=None), 403, "not allowed", "consumer account on the domain"),
    forged(claims(email="eve@evilexample.com", hd="evilexample.com"), 403, "not allowed", "suffix"),
    forged(claims(email="eve@sales.example.com", hd="sales.example.com"), 403, "not allowed", "subdomain"),
    forged(claims(email="eve@example.com.evil.org", hd="example.com.evil.org"), 403, "not allowed", "prefix"),
    forged(claims(email="eve@example.com.", hd="example.com."), 403, "not allowed", "trailing dot"),
    forged(claims(email="eve@ex\u0430mple.com", hd="ex\u0430mple.com"), 403, "not allowed", "look-alike"),
]


@pytest.mark.parametrize(("forge", "expected"), FORGED)
def test_a_forged_or_foreign_id_token_is_refused_before_anything_is_touched(
    stack: Stack, cast: Cast, body: dict[str, Any], forge: Forge, expected: tuple[int, str]
) -> None:
    status, words = expected
    token = forge(stack.issuer)
    with nothing_read_or_sent(stack):
        response = stack.call(body, id_token=token, sheets_token=cast.dana.sheets_token)
    error = refused(response, status, "unauthenticated" if status == 401 else "forbidden")
    assert words in error["message"]
    for part in token.split("."):
        if len(part) > 8:
            assert part not in response.text
    assert cast.dana.sheets_token not in response.text


@pytest.mark.parametrize(
    "authorization",
    # (Blank values with spaces around them cannot be sent over HTTP: test_auth covers them.)
    [None, "", "Bearer", "Bearer  x", "Basic ZGFuYTpodW50ZXIy", "Bearer a.b.c", "Bearer " + "x" * 9000],
    ids=["missing", "empty", "scheme only", "not a token", "basic", "three dots", "huge"],
)
def test_missing_or_empty_id_tokens_are_401(
    stack: Stack, cast: Cast, body: dict[str, Any], authorization: str | None
) -> None:
    headers = {"X-Sheets-Token": cast.dana.sheets_token}
    if authorization is not None:
        headers["Authorization"] = authorization
    with nothing_read_or_sent(stack):
        response = stack.http.post(stack.function_url or "", json=body, headers=headers)
    refused(response, 401, "unauthenticated")


@pytest.mark.parametrize("sheets_token", [None, "", "not a token", "ya29." + "x" * 5000, "ya29.a,b"])
def test_missing_or_empty_sheets_tokens_are_401_without_asking_google(
    stack: Stack, cast: Cast, body: dict[str, Any], sheets_token: str | None
) -> None:
    headers = {"Authorization": f"Bearer {cast.dana.id_token(stack)}"}
    if sheets_token is not None:
        headers["X-Sheets-Token"] = sheets_token
    with nothing_read_or_sent(stack):
        response = stack.http.post(stack.function_url or "", json=body, headers=headers)
    refused(response, 401, "unauthenticated")


def test_the_allowed_accounts_are_served(stack: Stack, cast: Cast, body: dict[str, Any]) -> None:
    # The matrix above means something only if the same request with good tokens goes through.
    response = cast.dana.call(stack, body)
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["uploaded"] == 10


@pytest.mark.parametrize("hd", [None, "another-domain.example"], ids=["consumer account", "other hd"])
def test_a_listed_address_is_admitted_by_address(stack: Stack, body: dict[str, Any], hd: str | None) -> None:
    boss = person(stack, ALLOWED_CONSUMER, "3000000000000000000001")
    id_token = stack.issuer.sign(email=ALLOWED_CONSUMER, sub=boss.subject, hd=hd)
    response = stack.call(body, id_token=id_token, sheets_token=boss.sheets_token)
    # Admitted: the sheet is Dana's, not shared with the boss, so Google refuses it, not the function.
    refused(response, 403, "no_access")
