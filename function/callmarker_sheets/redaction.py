"""One redaction for everything that leaves the function: log lines, answers and sheet cells.

A secret is masked in every form a server may echo it in: as sent, in another case, base64 (standard
and URL alphabets, with and without padding, and inside a longer encoded text at any byte alignment),
percent-encoded and JSON-escaped. Log lines and answers also lose bearer tokens, ID tokens, Google
access tokens and phone numbers; cells keep phone numbers (they are the user's own data).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

from callmarker_sheets.config import Secret

__all__ = ["MASK", "Redactor", "redact", "redact_secrets", "secret_forms"]

MASK = "***"
#: A base64 run shorter than this is too likely to occur by chance to be masked on sight.
MIN_ENCODED_CORE = 8

# A run of 7 or more digits, optionally with a leading + and single spaces or dashes between digits:
# 054-700-0000, +972 54 700 0000, 0547000000. Longer runs (ids, dates) are masked too: over-masking
# a log line costs little, a leaked number costs a customer's privacy.
_PHONE = re.compile(r"\+?\d(?:[ \-]?\d){6,}")
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*")
# JWTs (ID tokens) and Google OAuth access tokens, even without the word Bearer before them.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*")
_GOOGLE_ACCESS_TOKEN = re.compile(r"\bya29\.[A-Za-z0-9_\-.]+")


def secret_forms(secret: str) -> frozenset[str]:
    """The texts under which ``secret`` may come back from a server that echoes it."""
    forms = {
        secret,
        secret.casefold(),
        secret.upper(),
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
    }
    raw = secret.encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms |= {whole, whole.rstrip("=")}
        # Inside a longer encoded text the secret starts at any of three byte offsets; only the
        # characters of the 3-byte groups holding nothing but the secret are the same every time.
        for offset in (0, 1, 2):
            encoded = encode(b"\0" * offset + raw).decode()
            first_group = -(-offset // 3)
            last_group = (offset + len(raw)) // 3
            core = encoded[4 * first_group : 4 * last_group]
            if len(core) >= MIN_ENCODED_CORE:
                forms.add(core)
    return frozenset(form for form in forms if form)


@lru_cache(maxsize=16)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    forms = {form for secret in secrets if secret for form in secret_forms(secret)}
    if not forms:
        return None
    # Longest first, so a form is never cut short by another that is its prefix.
    alternatives = sorted(forms, key=lambda form: (-len(form), form))
    return re.compile("|".join(re.escape(form) for form in alternatives), re.IGNORECASE)


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return f"***-**-{digits[-3:]}"


class Redactor:
    """Masks its secrets in every form; ``redactor(text)`` also masks tokens and phone numbers.

    ``secrets`` are the function's own (the CallMarker token, the cursor-signing key).
    """

    def __init__(self, secrets: Iterable[str | Secret] = ()) -> None:
        revealed = (s.reveal() if isinstance(s, Secret) else s for s in secrets)
        self._secrets = tuple(sorted({s for s in revealed if s}))
        self._pattern = _secrets_pattern(self._secrets)

    def secrets(self, text: str) -> str:
        """``text`` with the secrets masked: what a sheet cell may receive."""
        return self._pattern.sub(MASK, text) if self._pattern is not None else text

    def __call__(self, text: str) -> str:
        """``text`` with the secrets, bearer tokens, ID tokens, access tokens and phone numbers masked:
        what a log line or an answer may carry."""
        text = self.secrets(text)
        text = _BEARER.sub("Bearer " + MASK, text)
        text = _JWT.sub(MASK, text)
        text = _GOOGLE_ACCESS_TOKEN.sub(MASK, text)
        return _PHONE.sub(_mask_phone, text)

    def clean(self, value: Any, *, keep: frozenset[str] = frozenset()) -> Any:
        """A JSON-shaped copy of ``value`` with every string redacted; keys in ``keep`` keep their value
        (the cursor, which is opaque and signed)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Secret):
            return MASK
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if isinstance(value, dict):
            return {str(k): v if k in keep else self.clean(v, keep=keep) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.clean(v, keep=keep) for v in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return self(str(value))


def redact(text: str, secrets: Iterable[str | Secret] = ()) -> str:
    """``text`` as a log line or an answer may carry it (see :class:`Redactor`)."""
    return Redactor(secrets)(text)


def redact_secrets(text: str, secrets: Iterable[str | Secret]) -> str:
    """``text`` with ``secrets`` masked in every form, and nothing else changed: for sheet cells."""
    return Redactor(secrets).secrets(text)
