"""Settings from the environment: every variable, its default, and errors that name it without leaking it."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from callmarker_sheets.config import (
    DEFAULT_CALLMARKER_BASE_URL,
    DEFAULT_ID_TOKEN_CERTS_URL,
    DEFAULT_TOKENINFO_URL,
    ConfigError,
    Secret,
    Settings,
    get_settings,
)

TOKEN = "cm-live-7f3a9c2e5b1d"
# 32 random bytes in base64url, as the deploy makes the key (``secrets.token_urlsafe(32)``)
CURSOR_KEY = "q3Zr0pX7mWcYV1s9bN4kLfT2aHgE6uJdR8oPiQyS5xA"
MINIMAL = {
    "CALLMARKER_TOKEN": TOKEN,
    "ID_TOKEN_AUDIENCES": "123-abc.apps.googleusercontent.com",
    "ALLOWED_DOMAINS": "example.co.il",
    "CURSOR_SIGNING_KEY": CURSOR_KEY,
}


def environ(**env: str) -> dict[str, str]:
    """MINIMAL with ``env`` on top; the value ``<unset>`` removes a variable."""
    return {k: v for k, v in {**MINIMAL, **env}.items() if v != "<unset>"}


def settings_with(**env: str) -> Settings:
    return Settings.from_env(environ(**env))


def config_error(**env: str) -> str:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ(**env))
    message = str(info.value)
    assert TOKEN not in message
    assert CURSOR_KEY not in message
    assert info.value.http_status == 500
    assert info.value.code == "not_configured"
    return message


def test_defaults() -> None:
    settings = Settings.from_env(MINIMAL)
    assert settings.callmarker_token.reveal() == TOKEN
    assert settings.id_token_audiences == ("123-abc.apps.googleusercontent.com",)
    assert settings.allowed_domains == frozenset({"example.co.il"})
    assert settings.allowed_emails == frozenset()
    assert settings.callmarker_base_url == DEFAULT_CALLMARKER_BASE_URL == "https://app.callmarker.com/api/v1"
    assert settings.id_token_certs_url == DEFAULT_ID_TOKEN_CERTS_URL
    assert DEFAULT_ID_TOKEN_CERTS_URL == "https://www.googleapis.com/oauth2/v1/certs"
    assert settings.tokeninfo_url == DEFAULT_TOKENINFO_URL == "https://oauth2.googleapis.com/tokeninfo"
    assert settings.cursor_signing_key.reveal() == CURSOR_KEY
    assert settings.id_token_clock_skew_s == 10
    assert settings.time_budget_s == 45.0
    assert settings.callmarker_batch_size == 500
    assert settings.callmarker_concurrency == 4
    assert settings.callmarker_timeout_s == 30.0
    assert settings.callmarker_max_attempts == 5
    assert settings.max_rows == 50_000
    assert settings.default_region == "IL"
    assert settings.sheets_emulator_host is None
    assert settings.log_level == "INFO"


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "CALLMARKER_TOKEN": TOKEN,
            "CALLMARKER_BASE_URL": "http://127.0.0.1:8081/api/v1/",
            "ID_TOKEN_AUDIENCES": " a.apps.googleusercontent.com , b.apps.googleusercontent.com ,",
            "ALLOWED_EMAILS": "Dana@Example.com, avi@gmail.com",
            "ALLOWED_DOMAINS": "Sales.Example.co.il",
            "ID_TOKEN_CERTS_URL": "http://localhost:8089/oauth2/v1/certs",
            "TOKENINFO_URL": "http://127.0.0.1:8089/tokeninfo",
            "CURSOR_SIGNING_KEY": CURSOR_KEY + "==",
            "ID_TOKEN_CLOCK_SKEW_S": "30",
            "TIME_BUDGET_S": "20.5",
            "CALLMARKER_BATCH_SIZE": "250",
            "CALLMARKER_CONCURRENCY": "8",
            "CALLMARKER_TIMEOUT_S": "12",
            "CALLMARKER_MAX_ATTEMPTS": "3",
            "MAX_ROWS": "100000",
            "DEFAULT_REGION": "us",
            "SHEETS_CREDENTIALS": "Caller",
            "SHEETS_EMULATOR_HOST": "127.0.0.1:8082",
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.callmarker_base_url == "http://127.0.0.1:8081/api/v1"  # no trailing slash to double up
    assert settings.id_token_audiences == ("a.apps.googleusercontent.com", "b.apps.googleusercontent.com")
    assert settings.allowed_emails == frozenset({"dana@example.com", "avi@gmail.com"})
    assert settings.allowed_domains == frozenset({"sales.example.co.il"})
    assert settings.id_token_certs_url == "http://localhost:8089/oauth2/v1/certs"
    assert settings.tokeninfo_url == "http://127.0.0.1:8089/tokeninfo"
    assert settings.cursor_signing_key.reveal() == CURSOR_KEY + "=="
    assert settings.id_token_clock_skew_s == 30
    assert settings.time_budget_s == 20.5
    assert settings.callmarker_batch_size == 250
    assert settings.callmarker_concurrency == 8
    assert settings.callmarker_timeout_s == 12.0
    assert settings.callmarker_max_attempts == 3
    assert settings.max_rows == 100_000
    assert settings.default_region == "US"
    assert settings.sheets_emulator_host == "127.0.0.1:8082"
    assert settings.log_level == "DEBUG"


def test_empty_values_count_as_unset() -> None:
    settings = settings_with(CALLMARKER_BATCH_SIZE="", SHEETS_EMULATOR_HOST="  ", LOG_LEVEL="")
    assert settings.callmarker_batch_size == 500
    assert settings.sheets_emulator_host is None
    assert settings.log_level == "INFO"


@pytest.mark.parametrize("name", ["CALLMARKER_TOKEN", "ID_TOKEN_AUDIENCES", "CURSOR_SIGNING_KEY"])
@pytest.mark.parametrize("value", ["<unset>", "", "   "])
def test_required_variables(name: str, value: str) -> None:
    message = config_error(**{name: value})
    assert message.startswith(f"{name} is required")


def test_audiences_of_only_commas_are_missing() -> None:
    assert config_error(ID_TOKEN_AUDIENCES=" , ,").startswith("ID_TOKEN_AUDIENCES is required")


def test_an_open_function_is_refused() -> None:
    message = config_error(ALLOWED_DOMAINS="<unset>")
    assert "ALLOWED_EMAILS or ALLOWED_DOMAINS is required" in message
    assert "never admits every Google account" in message


def test_emails_alone_are_enough() -> None:
    settings = settings_with(ALLOWED_DOMAINS="<unset>", ALLOWED_EMAILS="dana@example.com")
    assert settings.allowed_emails == frozenset({"dana@example.com"})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "ID_TOKEN_CLOCK_SKEW_S",
            "ten",
            "ID_TOKEN_CLOCK_SKEW_S must be a whole number from 0 to 300, got 'ten'",
        ),
        (
            "ID_TOKEN_CLOCK_SKEW_S",
            "301",
            "ID_TOKEN_CLOCK_SKEW_S must be a whole number from 0 to 300, got 301",
        ),
        ("ID_TOKEN_CLOCK_SKEW_S", "-1", "ID_TOKEN_CLOCK_SKEW_S must be a whole number from 0 to 300, got -1"),
        ("TIME_BUDGET_S", "0", "TIME_BUDGET_S must be a number of seconds from 1 to 3600, got 0"),
        ("TIME_BUDGET_S", "nan", "TIME_BUDGET_S must be a number of seconds from 1 to 3600, got nan"),
        ("TIME_BUDGET_S", "45s", "TIME_BUDGET_S must be a number of seconds from 1 to 3600, got '45s'"),
        (
            "CALLMARKER_BATCH_SIZE",
            "0",
            "CALLMARKER_BATCH_SIZE must be a whole number from 1 to 10,000, got 0",
        ),
        (
            "CALLMARKER_BATCH_SIZE",
            "2.5",
            "CALLMARKER_BATCH_SIZE must be a whole number from 1 to 10,000, got '2.5'",
        ),
        (
            "CALLMARKER_CONCURRENCY",
            "65",
            "CALLMARKER_CONCURRENCY must be a whole number from 1 to 64, got 65",
        ),
        (
            "CALLMARKER_TIMEOUT_S",
            "inf",
            "CALLMARKER_TIMEOUT_S must be a number of seconds from 0.1 to 600, got inf",
        ),
        (
            "CALLMARKER_MAX_ATTEMPTS",
            "0",
            "CALLMARKER_MAX_ATTEMPTS must be a whole number from 1 to 20, got 0",
        ),
        ("MAX_ROWS", "50k", "MAX_ROWS must be a whole number from 1 to 1,000,000, got '50k'"),
        (
            "DEFAULT_REGION",
            "Israel",
            "DEFAULT_REGION must be a two-letter country code such as IL or US, got 'Israel'",
        ),
        ("SHEETS_CREDENTIALS", "mine", "SHEETS_CREDENTIALS must be one of caller, got 'mine'"),
        ("TOKENINFO_URL", "http://oauth2.example.com/tokeninfo", "TOKENINFO_URL must use https"),
        ("CURSOR_SIGNING_KEY", "c2hvcnQ", "CURSOR_SIGNING_KEY must be at least 32 random bytes in base64url"),
        (
            "CURSOR_SIGNING_KEY",
            "a" * 42,  # 31 bytes and a half
            "CURSOR_SIGNING_KEY must be at least 32 random bytes in base64url",
        ),
        (
            "CURSOR_SIGNING_KEY",
            "+/" * 30,  # standard base64, not the URL alphabet the deploy writes
            "CURSOR_SIGNING_KEY must be at least 32 random bytes in base64url",
        ),
        (
            "CURSOR_SIGNING_KEY",
            "correct horse battery staple, but longer than that",
            "CURSOR_SIGNING_KEY must be at least 32 random bytes in base64url",
        ),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'loud'"),
        ("CALLMARKER_BASE_URL", "app.callmarker.com", "CALLMARKER_BASE_URL must be an https:// URL"),
        ("CALLMARKER_BASE_URL", "ftp://app.callmarker.com", "CALLMARKER_BASE_URL must be an https:// URL"),
        ("CALLMARKER_BASE_URL", "http://app.callmarker.com/api/v1", "CALLMARKER_BASE_URL must use https"),
        ("ID_TOKEN_CERTS_URL", "http://certs.example.com/", "ID_TOKEN_CERTS_URL must use https"),
        ("ALLOWED_EMAILS", "dana", "ALLOWED_EMAILS must list email addresses such as alice@example.com"),
        ("ALLOWED_EMAILS", "a@b@example.com", "ALLOWED_EMAILS must list email addresses"),
        ("ALLOWED_DOMAINS", "@example.com", "ALLOWED_DOMAINS must list domains such as example.com"),
        ("ALLOWED_DOMAINS", "*", "ALLOWED_DOMAINS must list domains such as example.com (no @, no wildcard)"),
        ("ALLOWED_DOMAINS", "*.example.com", "ALLOWED_DOMAINS must list domains"),
    ],
)
def test_malformed_values_name_the_variable_and_what_it_expects(name: str, value: str, expected: str) -> None:
    assert config_error(**{name: value}).startswith(expected)


def test_the_token_is_never_shown() -> None:
    settings = Settings.from_env(MINIMAL)
    for text in (
        repr(settings),
        str(settings),
        repr(settings.callmarker_token),
        f"{settings.callmarker_token}",
    ):
        assert TOKEN not in text
        assert CURSOR_KEY not in text
    assert repr(settings.callmarker_token) == "Secret('***')"
    assert str(settings.callmarker_token) == "***"
    assert "callmarker_token=Secret('***')" in repr(settings)
    with pytest.raises(TypeError):
        pickle.dumps(settings.callmarker_token)


def test_the_token_is_kept_exactly() -> None:
    # Only surrounding whitespace (a newline pasted into Secret Manager) is dropped.
    assert settings_with(CALLMARKER_TOKEN="  a b=c\n").callmarker_token.reveal() == "a b=c"


def test_an_error_elsewhere_does_not_quote_the_token() -> None:
    message = config_error(MAX_ROWS="many", ALLOWED_DOMAINS="<unset>")
    assert "MAX_ROWS" in message


def test_secrets_compare_by_value() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Settings.from_env(MINIMAL) == Settings.from_env(dict(MINIMAL))


def test_tests_can_build_settings_directly() -> None:
    settings = Settings(
        callmarker_token="t",  # type: ignore[arg-type]
        id_token_audiences=["aud"],  # type: ignore[arg-type]
        cursor_signing_key=CURSOR_KEY,  # type: ignore[arg-type]
        allowed_emails={"Dana@Example.com"},  # type: ignore[arg-type]
        callmarker_batch_size=7,
    )
    assert settings.callmarker_token == Secret("t")
    assert settings.id_token_audiences == ("aud",)
    assert settings.allowed_emails == frozenset({"dana@example.com"})
    assert settings.callmarker_batch_size == 7


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"allowed_emails": frozenset()}, "ALLOWED_EMAILS or ALLOWED_DOMAINS is required"),
        ({"callmarker_token": ""}, "CALLMARKER_TOKEN is required"),
        ({"id_token_audiences": ()}, "ID_TOKEN_AUDIENCES is required"),
        ({"cursor_signing_key": "short"}, "CURSOR_SIGNING_KEY must be at least 32 random bytes"),
    ],
)
def test_direct_settings_are_held_to_the_same_rules(overrides: dict[str, Any], expected: str) -> None:
    values: dict[str, Any] = {
        "callmarker_token": "t",
        "id_token_audiences": ("aud",),
        "cursor_signing_key": CURSOR_KEY,
        "allowed_emails": frozenset({"a@example.com"}),
    }
    with pytest.raises(ConfigError, match=expected):
        Settings(**{**values, **overrides})


def test_settings_are_frozen() -> None:
    settings = Settings.from_env(MINIMAL)
    with pytest.raises(AttributeError):
        settings.max_rows = 1  # type: ignore[misc]


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in MINIMAL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MAX_ROWS", "10")
    get_settings.cache_clear()
    try:
        first = get_settings()
        monkeypatch.setenv("MAX_ROWS", "20")
        assert get_settings() is first
        assert first.max_rows == 10
        get_settings.cache_clear()
        assert get_settings().max_rows == 20
    finally:
        get_settings.cache_clear()


def test_the_service_account_mode_is_refused_with_the_reason() -> None:
    message = config_error(SHEETS_CREDENTIALS="service_account")
    assert message.startswith("SHEETS_CREDENTIALS=service_account is not supported")
    assert "caller's own Google token" in message


def test_the_caller_is_told_only_that_the_function_is_not_configured() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ(CURSOR_SIGNING_KEY="<unset>"))
    answer = info.value.answer()
    assert answer["error"]["status"] == "not_configured"
    assert "CURSOR_SIGNING_KEY" not in answer["error"]["message"]
    assert "CURSOR_SIGNING_KEY" in str(info.value)  # the logs name it
