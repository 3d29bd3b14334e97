"""Who is calling (a verified Google ID token of an allowed account), and their credentials for the sheet.

The sheet is read and written only with the caller's own Google access token (``X-Sheets-Token``),
and only once Google's tokeninfo answer ties that token to the ID token's subject. Errors carry their
HTTP status and code (see ``errors.py``) and a message safe to send back (no token, no claim but the
email)::

    AuthError
    ├── Unauthenticated              401  no usable token: missing, malformed, forged, expired, not for us
    ├── Forbidden                    403  a valid token, but the account is not verified or not allowed
    │   └── SheetsTokenMismatch      403  the Sheets token belongs to another Google account
    └── VerificationUnavailable      503  Google could not be asked
        ├── CertificatesUnavailable       its signing certificates could not be fetched
        └── TokenInfoUnavailable          its tokeninfo endpoint did not answer usably
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import google.auth.credentials
import google.auth.exceptions
import google.auth.transport
import google.auth.transport.requests
import google.oauth2.credentials
from google.auth import crypt

from callmarker_sheets.config import Settings
from callmarker_sheets.errors import ServiceError
from callmarker_sheets.i18n import N_

__all__ = [
    "GOOGLE_ISSUERS",
    "SPREADSHEETS_SCOPE",
    "AccessTokenInfo",
    "AuthError",
    "Caller",
    "CertificateCache",
    "CertificatesUnavailable",
    "Forbidden",
    "SheetsTokenMismatch",
    "TokenInfoCache",
    "TokenInfoUnavailable",
    "Unauthenticated",
    "VerificationUnavailable",
    "sheets_credentials",
    "verify_caller",
]

log = logging.getLogger(__name__)

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"

#: Google ID tokens are a few hundred bytes to ~2 kB; anything far larger is not one.
MAX_TOKEN_LENGTH = 16_384
#: Google access tokens are a few hundred characters; the same bound keeps a forged one cheap to refuse.
MAX_ACCESS_TOKEN_LENGTH = 4_096
#: Certificates are kept for the response's Cache-Control max-age, within these bounds (seconds).
CERTS_MIN_MAX_AGE = 60
CERTS_MAX_MAX_AGE = 6 * 3600
CERTS_DEFAULT_MAX_AGE = 300
#: An unknown key id refetches the certificates at most this often, so forged key ids cannot make
#: every request wait on Google.
CERTS_MIN_REFETCH_INTERVAL = 30.0
CERTS_FETCH_TIMEOUT_S = 10
#: Tokeninfo answers kept at once (each until its token expires): the least recently used go first.
TOKENINFO_CACHE_SIZE = 1024
TOKENINFO_TIMEOUT_S = 10
_SUBJECT = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
# What an OAuth bearer token may hold (RFC 6750's b64token).
_ACCESS_TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


class AuthError(ServiceError):
    """The caller cannot be admitted. ``message`` is safe to return to them."""

    http_status = 401
    code = "unauthenticated"


class Unauthenticated(AuthError):
    http_status = 401
    code = "unauthenticated"


class Forbidden(AuthError):
    http_status = 403
    code = "forbidden"


class SheetsTokenMismatch(Forbidden):
    """The X-Sheets-Token is a valid Google token, but of another person than the ID token's."""

    code = "sheets_token_mismatch"


class VerificationUnavailable(AuthError):
    http_status = 503
    code = "auth_unavailable"


class CertificatesUnavailable(VerificationUnavailable):
    pass


class TokenInfoUnavailable(VerificationUnavailable):
    pass


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified, allowed caller. ``subject`` is Google's id of the account (``sub``), which never
    changes; ``domain`` is the Workspace domain (``hd``), None for consumer accounts."""

    email: str
    domain: str | None
    subject: str = ""


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
                N_("cannot check ID tokens right now: the signing certificates could not be fetched")
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
    skew), with a subject, for a verified email that is allowed (see :func:`_admit`). ``request`` and
    ``certs`` default to a process-wide HTTP session and certificate cache; ``now`` (Unix seconds) is
    for tests.
    """
    token = _bearer_token(authorization)
    header, claims, signed_section, signature = _split(token)

    # Pinning the algorithm before choosing a verifier is what defeats "alg: none" and the
    # HS256-with-the-public-key trick; google-auth would also accept ES256, which Google never uses.
    if header.get("alg") != "RS256":
        raise Unauthenticated(N_("ID token must be signed with RS256"))
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id:
        raise Unauthenticated(N_("ID token has no key id"))
    cache = certs if certs is not None else _cache_for(settings.id_token_certs_url)
    certificate = cache.certificate(key_id, request if request is not None else _http_request())
    if certificate is None:
        raise Unauthenticated(N_("ID token is signed by an unknown key"))
    try:
        valid = crypt.verify_signature(signed_section, signature, [certificate], crypt.RSAVerifier)
    except (TypeError, ValueError):  # a published key that is not RSA cannot have signed an RS256 token
        valid = False
    if not valid:
        raise Unauthenticated(N_("ID token signature is invalid"))

    _check_claims(claims, settings, time.time() if now is None else now)
    return _admit(claims, settings)


def _bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise Unauthenticated(N_("Authorization header is missing"))
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(N_("Authorization must be 'Bearer <Google ID token>'"))
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
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
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
        raise Unauthenticated(N_("ID token was not issued by Google"))
    audience = claims.get("aud")
    if not isinstance(audience, str) or audience not in settings.id_token_audiences:
        raise Unauthenticated(N_("ID token is for another audience"))
    skew = settings.id_token_clock_skew_s
    expires, issued = _seconds(claims, "exp"), _seconds(claims, "iat")
    if expires is None or issued is None:
        raise Unauthenticated(N_("ID token lacks its issue or expiry time"))
    if now > expires + skew:
        raise Unauthenticated(N_("ID token has expired"))
    not_before = _seconds(claims, "nbf")
    if now < issued - skew or (not_before is not None and now < not_before - skew):
        raise Unauthenticated(N_("ID token is not valid yet"))


def _seconds(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value) if abs(value) < 2**53 else None
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def _admit(claims: Mapping[str, Any], settings: Settings) -> Caller:
    """A subject and a verified email, then the allowlists.

    ALLOWED_EMAILS admits exactly the addresses it lists. ALLOWED_DOMAINS admits Workspace accounts
    only: ``hd`` must be present and be the email's own domain, and that domain must be listed, whole
    (no suffix, no subdomain). Google sets ``hd`` for accounts the domain's administrators control. A
    consumer Google account (no ``hd``) can be registered on any address its owner could once receive
    mail at, so a former employee could keep one on the company's domain: consumer accounts get in
    only by ALLOWED_EMAILS. An ``hd`` that names another domain than the email's lends nothing.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _SUBJECT.match(subject):
        raise Unauthenticated(N_("ID token has no subject"))
    email = claims.get("email")
    if not isinstance(email, str) or len(email) > 320 or email.count("@") != 1:
        raise Forbidden(N_("ID token carries no email address; the add-in needs the userinfo.email scope"))
    email = email.lower()
    local, _, domain = email.partition("@")
    if not local or not domain:
        raise Forbidden(N_("ID token carries no email address; the add-in needs the userinfo.email scope"))
    if claims.get("email_verified") is not True:
        raise Forbidden(N_("{email} is not a verified email address", email=email))
    hosted_domain = claims.get("hd")
    workspace = isinstance(hosted_domain, str) and bool(hosted_domain)
    if email in settings.allowed_emails:
        return Caller(email=email, domain=str(hosted_domain).lower() if workspace else None, subject=subject)
    if workspace and str(hosted_domain).lower() != domain:
        raise Forbidden(N_("{email} is not an address of its Google Workspace domain", email=email))
    if workspace and domain in settings.allowed_domains:
        return Caller(email=email, domain=domain, subject=subject)
    raise Forbidden(N_("{email} is not allowed to use this function", email=email))


# ------------------------------------------------------------------------------- the Sheets token


@dataclass(frozen=True, slots=True)
class AccessTokenInfo:
    """What Google's tokeninfo endpoint says of an access token, checked for shape only."""

    subject: str
    audience: str
    authorized_party: str | None
    scopes: frozenset[str]
    expires_at: float  # Unix seconds


class TokenInfoCache:
    """Google's tokeninfo answers, by a SHA-256 hash of the token (the token itself is not kept), each
    until its token expires; at most ``max_entries``, the least recently used dropped first."""

    def __init__(
        self,
        url: str,
        *,
        max_entries: int = TOKENINFO_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._max_entries = max_entries
        self._clock = clock
        self._answers: OrderedDict[str, AccessTokenInfo] = OrderedDict()
        self._lock = threading.Lock()
        self.fetches = 0

    def info(self, token: str, request: google.auth.transport.Request) -> AccessTokenInfo:
        """Google's answer about ``token`` (asked at most once while it is valid), or an ``AuthError``."""
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        with self._lock:
            held = self._answers.get(key)
            if held is not None and held.expires_at > now:
                self._answers.move_to_end(key)
                return held
            self._answers.pop(key, None)
        info = self._ask(token, request, now)
        with self._lock:
            self._answers[key] = info
            self._answers.move_to_end(key)
            while len(self._answers) > self._max_entries:
                self._answers.popitem(last=False)
        return info

    def _ask(self, token: str, request: google.auth.transport.Request, now: float) -> AccessTokenInfo:
        self.fetches += 1
        try:
            # As Google's own client libraries ask: the token in the Authorization header, never in a
            # URL that proxies and logs would keep.
            response = request(
                self.url,
                method="POST",
                body=b"",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                timeout=TOKENINFO_TIMEOUT_S,
            )
        except google.auth.exceptions.TransportError as exc:
            raise TokenInfoUnavailable(
                N_("cannot check the Sheets token right now: Google's tokeninfo did not answer")
            ) from exc
        if response.status in (400, 401):
            raise Unauthenticated(
                N_(
                    "X-Sheets-Token is not a valid Google access token (it may have expired): reload the "
                    "sheet and try again"
                )
            )
        if response.status != 200:
            raise TokenInfoUnavailable(
                N_(
                    "cannot check the Sheets token right now: Google's tokeninfo answered HTTP {=status}",
                    status=response.status,
                )
            )
        try:
            info = parse_token_info(response.data, now)
        except ValueError as exc:
            raise TokenInfoUnavailable(
                N_("cannot check the Sheets token right now: Google's tokeninfo answer was unreadable")
            ) from exc
        if info.expires_at <= now:
            raise Unauthenticated(N_("X-Sheets-Token has expired: reload the sheet and try again"))
        return info


def parse_token_info(data: bytes, now: float) -> AccessTokenInfo:
    """Google's tokeninfo answer (``{"sub", "aud", "azp", "scope", "exp", "expires_in", ...}``, numbers
    as strings or numbers), or ``ValueError`` for anything else."""
    try:
        answer = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(answer, dict):
        raise ValueError("not a JSON object")
    subject, audience = answer.get("sub"), answer.get("aud")
    party, scope = answer.get("azp"), answer.get("scope")
    if not isinstance(subject, str) or not _SUBJECT.match(subject):
        raise ValueError("no subject")
    if not isinstance(audience, str) or not isinstance(scope, str):
        raise ValueError("no audience or scope")
    if party is not None and not isinstance(party, str):
        raise ValueError("azp is not a string")
    expires = _whole_seconds(answer.get("exp"))
    expires_in = _whole_seconds(answer.get("expires_in"))
    if expires is None and expires_in is None:
        raise ValueError("no expiry")
    ends = [t for t in (expires, None if expires_in is None else now + expires_in) if t is not None]
    return AccessTokenInfo(
        subject=subject,
        audience=audience,
        authorized_party=party,
        scopes=frozenset(scope.split()),
        expires_at=float(min(ends)),
    )


def _whole_seconds(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return None


_tokeninfo_caches: dict[str, TokenInfoCache] = {}


def _tokeninfo_for(url: str) -> TokenInfoCache:
    with _default_caches_lock:
        if url not in _tokeninfo_caches:
            _tokeninfo_caches[url] = TokenInfoCache(url)
        return _tokeninfo_caches[url]


def sheets_credentials(
    sheets_token: str | None,
    caller: Caller,
    settings: Settings,
    *,
    request: google.auth.transport.Request | None = None,
    tokeninfo: TokenInfoCache | None = None,
) -> google.auth.credentials.Credentials:
    """The caller's own credentials for their sheet: the ``X-Sheets-Token`` access token, once Google's
    tokeninfo says it is the same person's (``sub``), issued to the add-in (``aud``/``azp`` among the
    ID token audiences), holding the spreadsheets scope and not expired.

    ``request`` and ``tokeninfo`` default to a process-wide HTTP session and answer cache.
    """
    token = (sheets_token or "").strip()
    if not token:
        raise Unauthenticated(
            N_("X-Sheets-Token header is missing: the add-in sends the user's Google token")
        )
    if len(token) > MAX_ACCESS_TOKEN_LENGTH or not _ACCESS_TOKEN.match(token):
        raise Unauthenticated(N_("X-Sheets-Token is not a Google access token"))
    cache = tokeninfo if tokeninfo is not None else _tokeninfo_for(settings.tokeninfo_url)
    info = cache.info(token, request if request is not None else _http_request())
    audiences = settings.id_token_audiences
    if info.audience not in audiences or (
        info.authorized_party is not None and info.authorized_party not in audiences
    ):
        raise Unauthenticated(N_("X-Sheets-Token was issued to another application than this add-in"))
    if SPREADSHEETS_SCOPE not in info.scopes:
        raise Unauthenticated(
            N_("X-Sheets-Token does not allow Google Sheets: reload the sheet and allow it")
        )
    if info.subject != caller.subject:
        raise SheetsTokenMismatch(
            N_("X-Sheets-Token belongs to another Google account than the one signed in: reload the sheet")
        )
    return google.oauth2.credentials.Credentials(token=token)
