"""The one redaction: a secret is masked in every form a server may echo it in, everywhere text leaves."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callmarker_sheets.config import Secret
from callmarker_sheets.redaction import MASK, Redactor, redact, redact_secrets, secret_forms

TOKEN = "cm/Live+tok=7f3a9c&2e5b 1d"


def encodings(secret: str) -> list[tuple[str, str]]:
    raw = secret.encode()
    forms = [
        ("as sent", secret),
        ("upper case", secret.upper()),
        ("lower case", secret.lower()),
        ("mixed case", secret.swapcase()),
        ("URL-encoded", quote(secret, safe="")),
        ("URL-encoded, lower-case hex", quote(secret, safe="").lower()),
        ("form-encoded", quote_plus(secret)),
        ("JSON-escaped", json.dumps(secret)[1:-1]),
    ]
    for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
        whole = encode(raw).decode()
        forms += [(name, whole), (f"{name} without padding", whole.rstrip("="))]
    return forms


@pytest.mark.parametrize(("form", "text"), encodings(TOKEN), ids=[f for f, _ in encodings(TOKEN)])
def test_every_form_of_a_secret_is_masked(form: str, text: str) -> None:
    masked = redact_secrets(f"CallMarker said: {text} is not valid", [TOKEN])
    assert masked == f"CallMarker said: {MASK} is not valid", form


@pytest.mark.parametrize("offset", range(6))
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["base64", "base64url"])
def test_a_secret_inside_a_longer_encoded_text_is_masked_at_any_alignment(
    offset: int, encode: object
) -> None:
    blob = encode(b"x" * offset + f'{{"token": "{TOKEN}"}}'.encode()).decode()  # type: ignore[operator]
    masked = redact_secrets(blob, [TOKEN])
    assert MASK in masked
    # What is left cannot be decoded back into any long part of the secret.
    for piece in (TOKEN[i : i + 8] for i in range(len(TOKEN) - 8)):
        for left in masked.split(MASK):
            for shift in range(4):
                part = left[shift:]
                part = part[: len(part) - len(part) % 4]
                try:
                    decoded = base64.b64decode(part.replace("-", "+").replace("_", "/"))
                except ValueError:
                    continue
                assert piece.encode() not in decoded


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=12, max_size=60),
    prefix=st.binary(max_size=5),
    suffix=st.binary(max_size=5),
)
def test_any_secret_is_masked_in_its_forms(secret: str, prefix: bytes, suffix: bytes) -> None:
    redactor = Redactor([secret])
    for _, form in encodings(secret):
        assert form not in redactor.secrets(f"<{form}>")
    encoded = base64.b64encode(prefix + secret.encode() + suffix).decode()
    assert redactor.secrets(encoded) != encoded


def test_cells_keep_phone_numbers_and_logs_lose_them() -> None:
    redactor = Redactor([Secret(TOKEN)])
    text = f"row 5: 054-700-1234 refused with {TOKEN}"
    assert redactor.secrets(text) == f"row 5: 054-700-1234 refused with {MASK}"
    assert redactor(text) == f"row 5: ***-**-234 refused with {MASK}"


def test_tokens_of_any_shape_are_masked_in_logs_and_answers() -> None:
    assert redact("Authorization: Bearer abc.def") == f"Authorization: Bearer {MASK}"
    assert redact("id eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.sig") == f"id {MASK}"
    assert redact("sheets ya29.a0Af-x_y") == f"sheets {MASK}"


def test_short_base64_runs_are_not_masked_on_sight() -> None:
    # Inside a longer text, a 4-character secret leaves 4 characters of its own: too likely by chance.
    assert "YWJj" not in secret_forms("abcd")
    assert redact_secrets("YWJj, YWJjZA== and abcd", ["abcd"]) == f"YWJj, {MASK} and {MASK}"


def test_json_shaped_values_are_cleaned_except_what_is_kept() -> None:
    redactor = Redactor([TOKEN])
    cleaned = redactor.clean(
        {
            "message": f"{TOKEN} 0547000000",
            "errors": [{"message": TOKEN.upper()}],
            "cursor": "05470000001234.tag",
            "n": 3,
        },
        keep=frozenset({"cursor"}),
    )
    assert cleaned == {
        "message": f"{MASK} ***-**-000",
        "errors": [{"message": MASK}],
        "cursor": "05470000001234.tag",
        "n": 3,
    }


def test_no_secret_no_change() -> None:
    assert redact_secrets("nothing to hide", []) == "nothing to hide"
    assert redact_secrets("nothing to hide", [""]) == "nothing to hide"
