"""A stand-in for Cloud Run's front end: the invoker check in front of the function, as Google documents it.

- https://cloud.google.com/run/docs/authenticating/service-to-service: the caller sends a Google-signed
  ID token as ``Authorization: Bearer`` or ``X-Serverless-Authorization: Bearer``; when both are
  present, only ``X-Serverless-Authorization`` is checked, and ``Authorization`` is passed on as it
  came, so that the service can read it itself.
- https://cloud.google.com/run/docs/troubleshooting#signature-removed: Cloud Run replaces the
  signature of the token it checked with ``SIGNATURE_REMOVED_BY_GOOGLE`` before passing the request on.
- https://cloud.google.com/run/docs/configuring/custom-audiences: the token's ``aud`` must be the
  service's URL or one of its custom audiences.
- https://cloud.google.com/run/docs/securing/managing-access: the caller needs ``roles/run.invoker``,
  granted to ``user:``, ``group:`` or ``domain:`` principals (a ``domain:`` principal is every account
  of that Google Workspace domain, the token's ``hd``).
- https://cloud.google.com/run/docs/authenticating/public: ``--no-invoker-iam-check`` lets every
  request through, untouched.

A refused request gets an HTML page, not JSON: 401 for a token that does not verify (signature,
audience, expiry), 403 when no token came or its account may not invoke the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from google.auth import exceptions, jwt

from tests.emulators.identity import TokenIssuer

SIGNATURE_REMOVED = "SIGNATURE_REMOVED_BY_GOOGLE"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_PAGE = "<html><head><title>{code} {reason}</title></head><body><h1>Error: {reason}</h1>{text}</body></html>"


class CloudRunFront:
    """WSGI middleware: admits a request the way Cloud Run's invoker check does, then calls ``app``."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        issuer: TokenIssuer,
        service_url: str,
        custom_audiences: Iterable[str] = (),
        invokers: Iterable[str] = (),
        groups: Mapping[str, Iterable[str]] | None = None,
        invoker_iam_check: bool = True,
    ) -> None:
        self.app = app
        self.certs = issuer.certs_json()
        self.audiences = [service_url, *custom_audiences]
        self.invokers = set(invokers)
        self.groups = {name: set(members) for name, members in (groups or {}).items()}
        self.invoker_iam_check = invoker_iam_check
        #: Each request's verdict: (status, which header was checked).
        self.seen: list[tuple[int, str | None]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.invoker_iam_check:
            self.seen.append((200, None))
            return self.app(environ, start_response)
        if environ.get("HTTP_X_SERVERLESS_AUTHORIZATION"):
            key, header = "HTTP_X_SERVERLESS_AUTHORIZATION", "X-Serverless-Authorization"
        elif environ.get("HTTP_AUTHORIZATION"):
            key, header = "HTTP_AUTHORIZATION", "Authorization"
        else:
            return self._refuse(
                start_response, 403, "Forbidden", "Your client does not have permission.", None
            )
        scheme, _, token = environ[key].partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise ValueError("not a bearer token")
            claims = jwt.decode(token.strip(), certs=self.certs, audience=self.audiences)
        except (ValueError, exceptions.GoogleAuthError):
            return self._refuse(
                start_response, 401, "Unauthorized", "The token could not be verified.", header
            )
        if not self._may_invoke(claims):
            return self._refuse(
                start_response, 403, "Forbidden", "Your client does not have permission.", header
            )
        head, payload, _signature = token.strip().split(".")
        environ = {**environ, key: f"Bearer {head}.{payload}.{SIGNATURE_REMOVED}"}
        self.seen.append((200, header))
        return self.app(environ, start_response)

    def _may_invoke(self, claims: Mapping[str, Any]) -> bool:
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is not True:
            return False
        members = {f"user:{email}"}
        if isinstance(claims.get("hd"), str):
            members.add(f"domain:{claims['hd']}")
        members |= {f"group:{name}" for name, people in self.groups.items() if email in people}
        return bool(members & self.invokers)

    def _refuse(
        self, start_response: Callable[..., Any], code: int, reason: str, text: str, header: str | None
    ) -> Iterable[bytes]:
        self.seen.append((code, header))
        start_response(f"{code} {reason}", [("Content-Type", "text/html; charset=UTF-8")])
        return [_PAGE.format(code=code, reason=reason, text=text).encode()]
