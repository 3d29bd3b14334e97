"""A stand-in for Google's accounts: signs Google-style ID tokens, serves their certificates, and
answers tokeninfo for the access tokens it granted.

In-process (``CertsRequest``, a google-auth transport) for unit tests, or over HTTP (``create_app``,
``python -m tests.emulators.identity --port N``) for the demo, with ID_TOKEN_CERTS_URL and
TOKENINFO_URL pointing at it.

Tokeninfo answers as ``https://oauth2.googleapis.com/tokeninfo`` does: ``GET ?access_token=...``, or
``POST`` with the token in the form body or in ``Authorization: Bearer`` (as Google's client libraries
ask). A known, unexpired token gets ``{"azp", "aud", "sub", "scope", "exp", "expires_in", "email",
"email_verified", "access_type"}`` with the numbers and the flag as strings; anything else gets 400
``{"error": "invalid_token", "error_description": "Invalid Value"}``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import google.auth.transport
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt

__all__ = [
    "CERTS_PATH",
    "DEFAULT_AUDIENCE",
    "DEFAULT_EMAIL",
    "DEFAULT_SUBJECT",
    "SHEETS_SCOPES",
    "TOKENINFO_PATH",
    "CertsRequest",
    "TokenIssuer",
    "create_app",
    "serve_in_thread",
]

CERTS_PATH = "/oauth2/v1/certs"
TOKENINFO_PATH = "/tokeninfo"
#: The URL the in-process transport answers by default (Google's own; nothing ever reaches it).
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
DEFAULT_AUDIENCE = "callmarker-sheets-test.apps.googleusercontent.com"
DEFAULT_EMAIL = "dana@example.com"
DEFAULT_SUBJECT = "1098765432101234567890"
#: What ScriptApp.getOAuthToken() holds for the add-in (its manifest's scopes that Google grants a token).
SHEETS_SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/script.container.ui",
    "https://www.googleapis.com/auth/script.external_request",
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: Mapping[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


class TokenIssuer:
    """An RSA key, its self-signed certificate and key id, and a signer of ID tokens with that key."""

    def __init__(self, *, kid: str | None = None, audience: str = DEFAULT_AUDIENCE) -> None:
        self.kid = kid or uuid.uuid4().hex
        self.audience = audience
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_key_pem = (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.google.com (emulated)")])
        now = dt.datetime.now(dt.UTC)
        self.certificate_pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(self._key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
            .decode()
        )
        self._signer = crypt.RSASigner.from_string(self.private_key_pem, key_id=self.kid)
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        #: How many tokeninfo questions were asked, answered or not.
        self.tokeninfo_requests = 0

    def certs_json(self) -> dict[str, str]:
        """``{kid: PEM certificate}``: the v1 format Google serves at oauth2/v1/certs."""
        return {self.kid: self.certificate_pem}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Default claims of a valid token for ``DEFAULT_EMAIL``, issued now, expiring in an hour.

        An override of ``None`` removes that claim.
        """
        now = int(overrides.pop("now", time.time()))
        claims: dict[str, Any] = {
            "iss": "https://accounts.google.com",
            "aud": self.audience,
            "azp": self.audience,
            "sub": DEFAULT_SUBJECT,
            "email": DEFAULT_EMAIL,
            "email_verified": True,
            "hd": DEFAULT_EMAIL.partition("@")[2],
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(
        self,
        claims: Mapping[str, Any] | None = None,
        *,
        header_overrides: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """An RS256 token signed by this issuer's key. ``claims`` replaces the defaults; ``overrides``
        adjust them (``now=`` moves iat and exp); ``header_overrides`` change the header (not the
        signing algorithm)."""
        payload = dict(claims) if claims is not None else self.claims(**overrides)
        header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        header.update(header_overrides or {})
        header = {k: v for k, v in header.items() if v is not None}
        signing_input = f"{_segment(header)}.{_segment(payload)}"
        return f"{signing_input}.{_b64(self._signer.sign(signing_input.encode()))}"

    def unsigned(self, **overrides: Any) -> str:
        """An ``alg: none`` token with valid-looking claims and no signature."""
        header = {"alg": "none", "typ": "JWT", "kid": self.kid}
        return f"{_segment(header)}.{_segment(self.claims(**overrides))}."

    def hs256_with_public_key(self, **overrides: Any) -> str:
        """An HS256 token keyed with this issuer's public certificate: the algorithm-confusion attack."""
        header = {"alg": "HS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{_segment(header)}.{_segment(self.claims(**overrides))}"
        mac = hmac.new(self.certificate_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(mac)}"

    def forged(self, **overrides: Any) -> str:
        """A token that claims this issuer's key id but is signed with another key."""
        return TokenIssuer(kid=self.kid, audience=self.audience).sign(**overrides)

    def grant(
        self,
        token: str | None = None,
        *,
        sub: str = DEFAULT_SUBJECT,
        email: str = DEFAULT_EMAIL,
        scopes: Iterable[str] = SHEETS_SCOPES,
        audience: str | None = None,
        azp: str | None = None,
        expires_in: int = 3600,
        now: float | None = None,
    ) -> str:
        """An OAuth access token of ``sub`` (a fresh ``ya29.`` one unless ``token`` is given), issued to
        ``audience`` (this issuer's by default), expiring in ``expires_in`` seconds from ``now``."""
        token = token or "ya29." + secrets.token_urlsafe(48)
        audience = audience or self.audience
        with self._lock:
            self._access_tokens[token] = {
                "azp": azp or audience,
                "aud": audience,
                "sub": sub,
                "scope": " ".join(scopes),
                "exp": int(time.time() if now is None else now) + expires_in,
                "email": email,
            }
        return token

    def tokeninfo(self, token: str, *, now: float | None = None) -> dict[str, str] | None:
        """What Google's tokeninfo says of an access token; None when it does not know it or it expired."""
        with self._lock:
            granted = self._access_tokens.get(token)
        if granted is None:
            return None
        left = granted["exp"] - int(time.time() if now is None else now)
        if left <= 0:
            return None
        answer = {k: str(v) for k, v in granted.items()}
        answer.update(expires_in=str(left), email_verified="true", access_type="online")
        return answer

    def service_account_info(
        self, email: str = "runtime@callmarker-test.iam.gserviceaccount.com"
    ) -> dict[str, str]:
        """A service-account key file's content, for Application Default Credentials in tests."""
        return {
            "type": "service_account",
            "project_id": "callmarker-test",
            "private_key_id": self.kid,
            "private_key": self.private_key_pem,
            "client_email": email,
            "client_id": "123456789",
            "token_uri": "http://127.0.0.1:9/token",
        }


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    data: bytes


@dataclass
class CertsRequest(google.auth.transport.Request):
    """A ``google.auth.transport.Request`` answering one certificates URL in-process, counting fetches.

    ``issuers`` may change between calls (key rotation); ``fail`` makes the next answers a 503.
    Any other URL gets a 404: nothing leaves the process.
    """

    issuers: list[TokenIssuer]
    url: str = GOOGLE_CERTS_URL
    max_age: int | None = 3600
    fail: bool = False
    fetches: int = 0
    seen: list[str] = field(default_factory=list)

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Response:
        self.seen.append(url)
        if url != self.url or method != "GET":
            return _Response(404, {}, b"not found")
        self.fetches += 1
        if self.fail:
            return _Response(503, {}, b"unavailable")
        return _Response(200, _certs_headers(self.max_age), _certs_body(self.issuers))


def _certs_headers(max_age: int | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    if max_age is not None:
        headers["Cache-Control"] = f"public, max-age={max_age}, must-revalidate, no-transform"
    return headers


def _certs_body(issuers: Iterable[TokenIssuer]) -> bytes:
    certs: dict[str, str] = {}
    for issuer in issuers:
        certs.update(issuer.certs_json())
    return json.dumps(certs).encode()


def _tokeninfo_answer(issuer: TokenIssuer, environ: dict[str, Any]) -> tuple[str, dict[str, str]]:
    issuer.tokeninfo_requests += 1
    token = (parse_qs(environ.get("QUERY_STRING", "")).get("access_token") or [""])[0]
    if environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode("latin-1"))
        token = (form.get("access_token") or [token])[0]
        scheme, _, bearer = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and bearer.strip():
            token = bearer.strip()
    answer = issuer.tokeninfo(token) if token else None
    if answer is None:
        return "400 Bad Request", {"error": "invalid_token", "error_description": "Invalid Value"}
    return "200 OK", answer


def create_app(issuer: TokenIssuer, *, max_age: int = 3600) -> Callable[..., Iterator[bytes]]:
    """A WSGI app: ``GET /oauth2/v1/certs`` serves the certificates; ``/tokeninfo`` answers for the
    access tokens ``issuer`` granted; ``POST /token`` with a JSON object of claim overrides
    (``{"email": "a@b.c"}``) answers ``{"id_token": ...}`` signed by ``issuer``, and ``POST
    /access_token`` with :meth:`TokenIssuer.grant`'s arguments (``{"sub": "...", "email": "..."}``)
    answers ``{"access_token": ...}``."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "GET" and path == CERTS_PATH:
            start_response("200 OK", list(_certs_headers(max_age).items()))
            return iter([_certs_body([issuer])])
        if method in ("GET", "POST") and path == TOKENINFO_PATH:
            status, answer = _tokeninfo_answer(issuer, environ)
            start_response(status, [("Content-Type", "application/json; charset=UTF-8")])
            return iter([json.dumps(answer).encode()])
        if method == "POST" and path in ("/token", "/access_token"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                overrides = json.loads(environ["wsgi.input"].read(length) or b"{}")
                if not isinstance(overrides, dict):
                    raise ValueError("claims must be a JSON object")
                if path == "/token":
                    answer = {"id_token": issuer.sign(**overrides)}
                else:
                    answer = {"access_token": issuer.grant(**overrides)}
            except (ValueError, TypeError) as exc:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return iter([json.dumps({"error": str(exc)}).encode()])
            start_response("200 OK", [("Content-Type", "application/json")])
            return iter([json.dumps(answer).encode()])
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return iter([b"not found"])

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not worth a line each in test output."""


def serve_in_thread(issuer: TokenIssuer, *, port: int = 0) -> tuple[WSGIServer, str]:
    """Serve ``create_app(issuer)`` on 127.0.0.1 in a daemon thread; returns the server and the certs URL.

    Stop it with ``server.shutdown(); server.server_close()``.
    """
    server = make_server("127.0.0.1", port, create_app(issuer), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="identity-emulator", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}{CERTS_PATH}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--audience", default=DEFAULT_AUDIENCE)
    args = parser.parse_args(argv)
    issuer = TokenIssuer(audience=args.audience)
    server = make_server("127.0.0.1", args.port, create_app(issuer))
    print(f"ID_TOKEN_CERTS_URL=http://127.0.0.1:{server.server_port}{CERTS_PATH}", flush=True)
    print(f"TOKENINFO_URL=http://127.0.0.1:{server.server_port}{TOKENINFO_PATH}", flush=True)
    print(f"POST http://127.0.0.1:{server.server_port}/token for a signed ID token", flush=True)
    print(f"POST http://127.0.0.1:{server.server_port}/access_token for a Sheets access token", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
