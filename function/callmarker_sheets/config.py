"""Every environment setting of the function, read once and typed.

This is the one module that reads the environment; the rest of the package receives a ``Settings``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from callmarker_sheets.errors import ServiceError
from callmarker_sheets.i18n import ENGLISH, Translator

__all__ = [
    "DEFAULT_CALLMARKER_BASE_URL",
    "DEFAULT_ID_TOKEN_CERTS_URL",
    "DEFAULT_TOKENINFO_URL",
    "MIN_CURSOR_KEY_BYTES",
    "ConfigError",
    "Secret",
    "Settings",
    "cursor_key_bytes",
    "deployment_revision",
    "get_settings",
]

DEFAULT_CALLMARKER_BASE_URL = "https://app.callmarker.com/api/v1"
DEFAULT_ID_TOKEN_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"  # noqa: S105 - a public URL
DEFAULT_TOKENINFO_URL = "https://oauth2.googleapis.com/tokeninfo"
#: The cursor-signing key is an HMAC-SHA256 key: anything shorter than the hash is weaker than it.
MIN_CURSOR_KEY_BYTES = 32

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Plain http is tolerated only where nothing leaves the machine (emulators, the demo): the CallMarker
# token travels in the request body, and the certificates decide whom we trust.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class ConfigError(ServiceError, ValueError):
    """A setting is missing or malformed. The message names the variable and what it expects; it is
    logged, and the caller is told only that the function is not configured."""

    http_status = 500
    code = "not_configured"

    def answer(self, t: Translator = ENGLISH) -> dict[str, Any]:
        # Which setting is wrong is for the administrator, in the logs, not for every caller.
        message = t(
            "The function is not configured: its administrator must check its settings (see its logs)."
        )
        return {"error": {"code": self.http_status, "status": self.code, "message": message}}


class Secret:
    """A string that does not show itself: ``repr`` and ``str`` are masked; ``reveal()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> Any:
        # Pickling would write the value out in clear: nothing in the function needs it.
        raise TypeError("a Secret cannot be pickled")


def cursor_key_bytes(value: str) -> bytes | None:
    """The bytes of a base64url key (padding optional), or None when it is not base64url."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+={0,2}", value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


_SERVICE_ACCOUNT_REFUSED = (
    "SHEETS_CREDENTIALS=service_account is not supported: the function reads and writes a sheet only "
    "with the caller's own Google token, so that no caller can reach a sheet through the function's "
    "identity that they could not open themselves (see docs/security.md). Remove the variable, or set "
    "it to caller"
)


@dataclass(frozen=True, slots=True)
class Settings:
    """The function's configuration. Build it with ``from_env`` in production, directly in tests.

    Direct construction normalises the collections (lowercased allowlists, tuples) and refuses an
    open function (no allowed email or domain) or a weak cursor key, exactly as ``from_env`` does.
    """

    callmarker_token: Secret
    id_token_audiences: tuple[str, ...]
    cursor_signing_key: Secret
    allowed_emails: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    callmarker_base_url: str = DEFAULT_CALLMARKER_BASE_URL
    id_token_certs_url: str = DEFAULT_ID_TOKEN_CERTS_URL
    tokeninfo_url: str = DEFAULT_TOKENINFO_URL
    id_token_clock_skew_s: int = 10
    time_budget_s: float = 45.0
    callmarker_batch_size: int = 500
    callmarker_concurrency: int = 4
    callmarker_timeout_s: float = 30.0
    callmarker_max_attempts: int = 5
    max_rows: int = 50_000
    default_region: str = "IL"
    sheets_emulator_host: str | None = None
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        for name in ("callmarker_token", "cursor_signing_key"):
            value: Any = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Secret(value))
        object.__setattr__(self, "id_token_audiences", tuple(self.id_token_audiences))
        object.__setattr__(self, "allowed_emails", frozenset(e.lower() for e in self.allowed_emails))
        object.__setattr__(self, "allowed_domains", frozenset(d.lower() for d in self.allowed_domains))
        if not self.callmarker_token.reveal():
            raise ConfigError("CALLMARKER_TOKEN is required: the CallMarker API token")
        key = cursor_key_bytes(self.cursor_signing_key.reveal())
        if key is None or len(key) < MIN_CURSOR_KEY_BYTES:
            raise ConfigError(
                f"CURSOR_SIGNING_KEY must be at least {MIN_CURSOR_KEY_BYTES} random bytes in base64url: the "
                "deploy makes one in Secret Manager (secret callmarker-cursor-key)"
            )
        if not self.id_token_audiences:
            raise ConfigError(
                "ID_TOKEN_AUDIENCES is required: the OAuth client id(s) ID tokens are issued for"
            )
        if not self.allowed_emails and not self.allowed_domains:
            raise ConfigError(
                "ALLOWED_EMAILS or ALLOWED_DOMAINS is required: the function never admits every Google "
                "account; list the emails (a@example.com) or Workspace domains (example.com) it serves"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read every setting from ``environ``. An empty value counts as unset."""
        env = _Env(environ)
        if (env.optional("SHEETS_CREDENTIALS") or "").lower() == "service_account":
            raise ConfigError(_SERVICE_ACCOUNT_REFUSED)
        env.choice("SHEETS_CREDENTIALS", "caller", ["caller"])  # the only mode; kept for old deploys
        return cls(
            callmarker_token=env.secret("CALLMARKER_TOKEN", "the CallMarker API token"),
            id_token_audiences=env.required_list(
                "ID_TOKEN_AUDIENCES", "the OAuth client id(s) of the add-in"
            ),
            cursor_signing_key=env.secret(
                "CURSOR_SIGNING_KEY", f"at least {MIN_CURSOR_KEY_BYTES} random bytes, base64url"
            ),
            allowed_emails=frozenset(env.items("ALLOWED_EMAILS", _email)),
            allowed_domains=frozenset(env.items("ALLOWED_DOMAINS", _domain)),
            callmarker_base_url=env.url("CALLMARKER_BASE_URL", DEFAULT_CALLMARKER_BASE_URL),
            id_token_certs_url=env.url("ID_TOKEN_CERTS_URL", DEFAULT_ID_TOKEN_CERTS_URL),
            tokeninfo_url=env.url("TOKENINFO_URL", DEFAULT_TOKENINFO_URL),
            id_token_clock_skew_s=env.integer("ID_TOKEN_CLOCK_SKEW_S", 10, 0, 300),
            time_budget_s=env.number("TIME_BUDGET_S", 45.0, 1.0, 3600.0),
            callmarker_batch_size=env.integer("CALLMARKER_BATCH_SIZE", 500, 1, 10_000),
            callmarker_concurrency=env.integer("CALLMARKER_CONCURRENCY", 4, 1, 64),
            callmarker_timeout_s=env.number("CALLMARKER_TIMEOUT_S", 30.0, 0.1, 600.0),
            callmarker_max_attempts=env.integer("CALLMARKER_MAX_ATTEMPTS", 5, 1, 20),
            max_rows=env.integer("MAX_ROWS", 50_000, 1, 1_000_000),
            default_region=env.region("DEFAULT_REGION", "IL"),
            sheets_emulator_host=env.optional("SHEETS_EMULATOR_HOST"),
            log_level=env.choice("LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
        )


@cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once (``get_settings.cache_clear()`` re-reads)."""
    return Settings.from_env(os.environ)


def deployment_revision(environ: Mapping[str, str] = os.environ) -> str | None:
    """The Cloud Run revision serving this process (K_REVISION, set by Cloud Run), None elsewhere."""
    return environ.get("K_REVISION", "").strip() or None


class _Env:
    """Typed reads of one environment mapping, each error naming its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def optional(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def secret(self, name: str, what: str) -> Secret:
        # Never strip a secret's inside, never quote it back: only its absence is reported.
        value = self._environ.get(name, "").strip()
        if not value:
            raise ConfigError(f"{name} is required: {what} (keep it in Secret Manager)")
        return Secret(value)

    def required_list(self, name: str, what: str) -> tuple[str, ...]:
        items = tuple(self.items(name, lambda _name, item: item))
        if not items:
            raise ConfigError(f"{name} is required: {what}, comma-separated")
        return items

    def items(self, name: str, parse: Callable[[str, str], str]) -> Iterable[str]:
        raw = self.optional(name)
        if raw is None:
            return []
        return [parse(name, item.strip()) for item in raw.split(",") if item.strip()]

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(
                f"{name} must be a whole number from {low:,} to {high:,}, got {raw!r}"
            ) from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be a whole number from {low:,} to {high:,}, got {value}")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(
                f"{name} must be a number of seconds from {low:g} to {high:g}, got {raw!r}"
            ) from None
        if not low <= value <= high:  # also refuses nan
            raise ConfigError(f"{name} must be a number of seconds from {low:g} to {high:g}, got {raw}")
        return value

    def choice(self, name: str, default: str, choices: Iterable[str], *, upper: bool = False) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        value = raw.upper() if upper else raw.lower()
        allowed = list(choices)
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
        return value

    def region(self, name: str, default: str) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        value = raw.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(f"{name} must be a two-letter country code such as IL or US, got {raw!r}")
        return value

    def url(self, name: str, default: str) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        parts = urlsplit(raw)
        if not parts.hostname or parts.scheme not in ("https", "http"):
            raise ConfigError(f"{name} must be an https:// URL, got {raw!r}")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
            raise ConfigError(
                f"{name} must use https (plain http is allowed only for localhost/127.0.0.1), got {raw!r}"
            )
        return raw.rstrip("/")


def _email(name: str, item: str) -> str:
    local, at, domain = item.rpartition("@")
    if not at or not local or "@" in local or not _DOMAIN.match(domain.lower()):
        raise ConfigError(f"{name} must list email addresses such as alice@example.com, got {item!r}")
    return item.lower()


def _domain(name: str, item: str) -> str:
    value = item.lower()
    if not _DOMAIN.match(value):
        raise ConfigError(f"{name} must list domains such as example.com (no @, no wildcard), got {item!r}")
    return value
