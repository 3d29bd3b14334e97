"""The cursor's envelope: a job's progress, compressed, signed for one caller, and size-capped.

A cursor is ``<payload>.<tag>``: the payload is zlib-compressed JSON in base64url, the tag an
HMAC-SHA256 of it under the deploy's ``CURSOR_SIGNING_KEY``, bound to the caller's Google subject.
Nothing in a cursor is parsed before its tag is checked, so a forged or tampered one is refused
without a byte of it being decompressed or read; a cursor of another caller, or of another deploy
(the key is made afresh by each deploy), is refused alike. What the payload says is checked again by
its reader (``upload.Progress``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callmarker_sheets.config import Secret, cursor_key_bytes
from callmarker_sheets.errors import CursorInvalid
from callmarker_sheets.i18n import N_

__all__ = ["MAX_CURSOR_CHARS", "CursorSeal", "CursorTooLarge"]

#: The longest cursor given or taken: well inside the request body's cap.
MAX_CURSOR_CHARS = 128 * 1024
#: What a cursor's payload may decompress to; anything more is not one this function made.
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
_TAG_CHARS = 43  # a SHA-256 digest in base64url without padding
_SHAPE = re.compile(rf"^[A-Za-z0-9_\-]{{1,{MAX_CURSOR_CHARS}}}\.[A-Za-z0-9_\-]{{{_TAG_CHARS}}}$")
# What the tag covers besides the payload: the format's version and purpose, then the caller.
_CONTEXT = b"callmarker-sheets cursor v2\x00"


class CursorTooLarge(ValueError):
    """A payload that would not fit in a cursor (its writer decides what to leave out)."""


@dataclass(frozen=True, slots=True, repr=False)
class CursorSeal:
    """Seals and opens cursors for one caller (``subject``, the ID token's ``sub``) with the deploy's
    key. Its repr shows neither."""

    key: Secret
    subject: str

    def __repr__(self) -> str:
        return "CursorSeal(***)"

    def seal(self, payload: Mapping[str, Any]) -> str:
        """The cursor carrying ``payload``; ``CursorTooLarge`` if it would be longer than the cap."""
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        body = _b64(zlib.compress(data, 9))
        cursor = f"{body}.{_b64(self._tag(body))}"
        if len(cursor) > MAX_CURSOR_CHARS:
            raise CursorTooLarge(f"the cursor would be {len(cursor):,} characters")
        return cursor

    def open(self, cursor: object) -> dict[str, Any]:
        """The payload of a cursor this seal made, or ``CursorInvalid``; nothing else is read."""
        if not isinstance(cursor, str):
            raise CursorInvalid(N_("cursor must be the string the previous answer gave."))
        if len(cursor) > MAX_CURSOR_CHARS + 1 + _TAG_CHARS:
            raise CursorInvalid(N_("cursor is too long to be one this function gave: start the job again."))
        if not _SHAPE.match(cursor):
            raise CursorInvalid(N_("cursor is not one this function gave: start the job again."))
        body, tag = cursor.split(".")
        # The tag's text is compared, not its bytes: base64 lets several texts decode to the same bytes.
        if not hmac.compare_digest(tag, _b64(self._tag(body))):
            raise CursorInvalid(
                N_(
                    "cursor is not one this function gave you: start the job again (a cursor lasts until "
                    "the function is deployed again)."
                )
            )
        try:
            inflate = zlib.decompressobj()
            data = inflate.decompress(_unb64(body), MAX_PAYLOAD_BYTES)
            if inflate.unconsumed_tail or not inflate.eof:
                raise ValueError("payload too large or cut short")
            payload = json.loads(data)
        except (binascii.Error, zlib.error, ValueError, RecursionError) as exc:
            raise CursorInvalid(N_("cursor is not one this function gave: start the job again.")) from exc
        if not isinstance(payload, dict):
            raise CursorInvalid(N_("cursor is not one this function gave: start the job again."))
        return payload

    def _tag(self, body: str) -> bytes:
        key = cursor_key_bytes(self.key.reveal())
        if key is None:  # Settings refuses such a key at start-up; this is a programming error
            raise ValueError("the cursor-signing key is not base64url")
        message = _CONTEXT + self.subject.encode() + b"\x00" + body.encode("ascii")
        return hmac.new(key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
