"""Who is calling (a verified Google ID token of an allowed account), and the credentials for their sheet.

Errors carry an ``http_status`` and a message safe to send back (no token, no claim but the email)::

    AuthError
    ├── Unauthenticated          401  no usable ID token: missing, malformed, forged, expired, not for us
    ├── Forbidden                403  a valid token, but the account is not verified or not allowed
    └── CertificatesUnavailable  503  Google's signing certificates could not be fetched
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import google.auth
import google.auth.credentials
import google.auth.exceptions
import google.auth.transport
import google.auth.transport.requests
import google.oauth2.credentials
from google.auth import crypt

from callmarker_sheets.config import ConfigError, Settings, SheetsCredentials

__all__ = [
    "GOOGLE_ISSUERS",
    "SPREADSHEETS_SCOPE",
    "AuthError",
    "Caller",
    "CertificateCache",
    "CertificatesUnavailable",
    "Forbidden",
    "Unauthenticated",
    "sheets_credentials",
    "verify_caller",
]

log = logging.getLogger(__name__)

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"

#: Google ID tokens are a few hundred bytes to ~2 kB; anything far larger is not one.
MAX_TOKEN_LENGTH = 16_384
#: Certificates are kept for the response's Cache-Control max-age, within these bounds (seconds).
CERTS_MIN_MAX_AGE = 60
CERTS_MAX_MAX_AGE = 6 * 3600
CERTS_DEFAULT_MAX_AGE = 300
#: An unknown key id refetches the certificates at most this often, so forged key ids cannot make
#: every request wait on Google.
CERTS_MIN_REFETCH_INTERVAL = 30.0
CERTS_FETCH_TIMEOUT_S = 10


class AuthError(Exception):
    """The caller cannot be admitted. ``str(error)`` is safe to return to them."""

    http_status = 401


class Unauthenticated(AuthError):
    http_status = 401


class Forbidden(AuthError):
    http_status = 403


class CertificatesUnavailable(AuthError):
    http_status = 503


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified, allowed caller. ``domain`` is the Workspace domain (``hd``), None for consumer accounts."""

    email: str
    domain: str | None


class CertificateCache:
    """Google's signing certificates (``{key id: PEM}``), fetched from one URL and kept while fresh.

    Fresh means within the response's Cache-Control max-age, bounded by ``min_max_age`` and
    ``max_max_age``. A key id it does not know triggers one refetch (Google rotates keys) unless the
    last fetch is more recent than ``min_refetch_interval``. If a refetch fails while stale
    certificates are held, those are used: Google keeps a key published long after it stops signing.
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        min_max_age: float = CERTS_MIN_MAX_AGE,
        max_max_age: float = CERTS_MAX_MAX_AGE,
        min_refetch_interval: float = CERTS_MIN_REFETCH_INTERVAL,
    ) -> None:
        self.url = url
        self._clock = clock
        self._min_max_age = min_max_age
        self._max_max_age = max_max_age
        self._min_refetch_interval = min_refetch_interval
        self._certs: dict[str, str] = {}
        self._fetched_at: float | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def certificate(self, key_id: str, request: google.auth.transport.Request) -> str | None:
        """The PEM certificate for ``key_id``, or None when the issuer does not publish that key."""
        with self._lock:
            now = self._clock()
            fetched = False
            if self._fetched_at is None or now >= self._expires_at:
                self._fetch(request, now)
                fetched = True
            if key_id not in self._certs and not fetched and self._may_refetch(now):
                self._fetch(request, now)
            return self._certs.get(key_id)

    def _may_refetch(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._min_refetch_interval

    def _fetch(self, request: google.auth.transport.Request, now: float) -> None:
        try:
            response = request(self.url, method="GET", timeout=CERTS_FETCH_TIMEOUT_S)
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            certs = _parse_certs(response.data)
        except (google.auth.exceptions.TransportError, ValueError) as exc:
            if self._certs:
                log.warning("could not refresh ID token certificates (%s); using the ones held", exc)
                # Try again after the floor rather than on every request.
                self._expires_at = now + self._min_max_age
                return
            raise CertificatesUnavailable(
                "cannot check ID tokens right now: the signing certificates could not be fetched"
            ) from exc
        self._certs = certs
        self._fetched_at = now
        self._expires_at = now + self._max_age(response.headers)

    def _max_age(self, headers: Mapping[str, str]) -> float:
        cache_control = next((v for k, v in headers.items() if k.lower() == "cache-control"), "")
        match = re.search(r"max-age=(\d+)", cache_control)
        seconds = float(match.group(1)) if match else CERTS_DEFAULT_MAX_AGE
        return min(max(seconds, self._min_max_age), self._max_max_age)


def _parse_certs(data: bytes) -> dict[str, str]:
    try:
        certs = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("the certificates are not JSON") from exc
    if (
        not isinstance(certs, dict)
        or not certs
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in certs.items())
    ):
        raise ValueError("expected Google's v1 format, {key id: PEM certificate}")
    for certificate in certs.values():
        crypt.RSAVerifier.from_string(certificate)  # ValueError now rather than on every request
    return certs


_default_caches: dict[str, CertificateCache] = {}
_default_caches_lock = threading.Lock()
_default_request: google.auth.transport.Request | None = None


def _cache_for(url: str) -> CertificateCache:
    with _default_caches_lock:
        if url not in _default_caches:
            _default_caches[url] = CertificateCache(url)
        return _default_caches[url]


def _http_request() -> google.auth.transport.Request:
    global _default_request  # noqa: PLW0603 - one pooled session per process, created on first use
    if _default_request is None:
        _default_request = google.auth.transport.requests.Request()
    return _default_request


def verify_caller(
    authorization: str | None,
    settings: Settings,
    *,
    request: google.auth.transport.Request | None = None,
    certs: CertificateCache | None = None,
    now: float | None = None,
) -> Caller:
    """Admit the caller of ``Authorization: Bearer <Google ID token>``, or raise an ``AuthError``.

    The token must be RS256-signed by a key published at ``settings.id_token_certs_url``, issued by
    Google, for one of ``settings.id_token_audiences``, within its validity (give or take the clock
    skew), for a verified email that is allowed: listed in ALLOWED_EMAILS, or carrying a Workspace
    domain (``hd``) listed in ALLOWED_DOMAINS. ``request`` and ``certs`` default to a process-wide
    HTTP session and certificate cache; ``now`` (Unix seconds) is for tests.
    """
    token = _bearer_token(authorization)
    header, claims, signed_section, signature = _split(token)

    # Pinning the algorithm before choosing a verifier is what defeats "alg: none" and the
    # HS256-with-the-public-key trick; google-auth would also accept ES256, which Google never uses.
    if header.get("alg") != "RS256":
        raise Unauthenticated("ID token must be signed with RS256")
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id:
        raise Unauthenticated("ID token has no key id")
    cache = certs if certs is not None else _cache_for(settings.id_token_certs_url)
    certificate = cache.certificate(key_id, request if request is not None else _http_request())
    if certificate is None:
        raise Unauthenticated("ID token is signed by an unknown key")
    try:
        valid = crypt.verify_signature(signed_section, signature, [certificate], crypt.RSAVerifier)
    except (TypeError, ValueError):  # a published key that is not RSA cannot have signed an RS256 token
        valid = False
    if not valid:
        raise Unauthenticated("ID token signature is invalid")

    _check_claims(claims, settings, time.time() if now is None else now)
    return _admit(claims, settings)


def _bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise Unauthenticated("Authorization header is missing")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <Google ID token>'")
    return token.strip()


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """The header, claims, signed bytes and signature of a JWT; nothing is trusted yet.

    Written here rather than through ``google.auth.jwt.decode`` because its errors quote the token,
    and do not say which check failed; the signature itself is checked with google-auth's verifier.
    """
    malformed = Unauthenticated("ID token is malformed")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise malformed
    encoded_header, encoded_claims, encoded_signature = token.split(".")
    try:
        header = json.loads(_b64decode(encoded_header))
        claims = json.loads(_b64decode(encoded_claims))
        signature = _b64decode(encoded_signature)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise malformed from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise malformed
    return header, claims, f"{encoded_header}.{encoded_claims}".encode("ascii"), signature


def _b64decode(segment: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_\-]*", segment):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _check_claims(claims: Mapping[str, Any], settings: Settings, now: float) -> None:
    """Issuer, audience and validity window: any failure means the token is not one for us (401)."""
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise Unauthenticated("ID token was not issued by Google")
    audience = claims.get("aud")
    if not isinstance(audience, str) or audience not in settings.id_token_audiences:
        raise Unauthenticated("ID token is for another audience")
    skew = settings.id_token_clock_skew_s
    expires, issued = _seconds(claims, "exp"), _seconds(claims, "iat")
    if expires is None or issued is None:
        raise Unauthenticated("ID token lacks its issue or expiry time")
    if now > expires + skew:
        raise Unauthenticated("ID token has expired")
    not_before = _seconds(claims, "nbf")
    if now < issued - skew or (not_before is not None and now < not_before - skew):
        raise Unauthenticated("ID token is not valid yet")


def _seconds(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _admit(claims: Mapping[str, Any], settings: Settings) -> Caller:
    """Verified email, then the allowlists.

    ALLOWED_DOMAINS is matched against ``hd`` only. Google sets ``hd`` for Workspace accounts, whose
    addresses the domain's administrators control. A consumer Google account can be registered on any
    address its owner could once receive mail at (``email_verified`` is true for it, with no ``hd``), so
    a former employee could keep one on the company's domain: consumer accounts get in by ALLOWED_EMAILS.
    """
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise Forbidden("ID token carries no email address; the add-in needs the userinfo.email scope")
    if claims.get("email_verified") is not True:
        raise Forbidden(f"{email} is not a verified email address")
    hosted_domain = claims.get("hd")
    domain = hosted_domain.lower() if isinstance(hosted_domain, str) and hosted_domain else None
    allowed_domain = domain is not None and domain in settings.allowed_domains
    if email.lower() in settings.allowed_emails or allowed_domain:
        return Caller(email=email, domain=domain)
    raise Forbidden(f"{email} is not allowed to use this function")


def sheets_credentials(settings: Settings, sheets_token: str | None) -> google.auth.credentials.Credentials:
    """The credentials that read and write the caller's sheet.

    ``caller`` mode: the user's own OAuth access token (the X-Sheets-Token header), so the function
    can reach only what the user can. ``service_account`` mode: the function's identity, from
    Application Default Credentials, scoped to Sheets.
    """
    if settings.sheets_credentials is SheetsCredentials.SERVICE_ACCOUNT:
        try:
            credentials, _project = google.auth.default(scopes=[SPREADSHEETS_SCOPE])
        except google.auth.exceptions.DefaultCredentialsError as exc:
            raise ConfigError(
                "SHEETS_CREDENTIALS=service_account, but no Application Default Credentials were found"
            ) from exc
        return credentials
    if sheets_token is None or not sheets_token.strip():
        raise Unauthenticated("X-Sheets-Token header is missing")
    return google.oauth2.credentials.Credentials(token=sheets_token.strip())
