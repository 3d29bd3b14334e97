"""The "Test connection" checklist: what an upload needs, checked without changing anything.

Each line says what was checked, whether it passed (None: not checked, because an earlier line failed),
what was found, and, when it failed, the fix in one sentence. The lines:

- sign-in: the ID token in ``Authorization`` (its audience, whose it is, accepted or why not);
- Google Sheets: the user's token reaches this spreadsheet (one ``spreadsheets.get``);
- CallMarker token: configured in the function;
- version: the package's, and the Cloud Run revision serving the call.

A caller who is not admitted learns only about their own token: nothing is read for them.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard

from google.auth.credentials import Credentials

from callmarker_sheets import __version__
from callmarker_sheets.auth import (
    AuthError,
    Caller,
    CertificatesUnavailable,
    Forbidden,
    SheetsTokenMismatch,
    VerificationUnavailable,
    sheets_credentials,
    verify_caller,
)
from callmarker_sheets.config import ConfigError, Settings
from callmarker_sheets.job import MAX_SHEET_ID, SPREADSHEET_ID
from callmarker_sheets.sheet import (
    Sheet,
    SheetAccessDenied,
    SheetError,
    SheetNotFound,
    SheetQuotaExceeded,
    SheetsApiDisabled,
    SheetUnavailable,
    connect,
)

__all__ = ["ACTION", "Check", "Diagnosis", "diagnose", "is_diagnosis"]

#: The ``action`` of the request body that asks for the checklist instead of a step.
ACTION = "diagnose"
#: What Cloud Run puts in place of the signature of a token it checked (its invoker check consumed it).
SIGNATURE_REMOVED = "SIGNATURE_REMOVED_BY_GOOGLE"
#: The most time the Sheets check may take, whatever the function's time budget.
SHEETS_CHECK_S = 20.0

OpenSheet = Callable[[Credentials, str, int, Settings], Sheet]
SheetsCredentials = Callable[[str | None, Caller, Settings], Credentials]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None
    detail: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(check) for check in self.checks]}


def is_diagnosis(body: object) -> TypeGuard[dict[str, Any]]:
    """Whether a request body asks for the checklist."""
    return isinstance(body, dict) and body.get("action") == ACTION


def _open_sheet(credentials: Credentials, spreadsheet_id: str, gid: int, settings: Settings) -> Sheet:
    client = connect(
        credentials,
        emulator_host=settings.sheets_emulator_host,
        deadline=time.monotonic() + SHEETS_CHECK_S,
    )
    return Sheet.open(client, spreadsheet_id, gid)


def diagnose(
    *,
    authorization: str | None,
    sheets_token: str | None,
    body: Mapping[str, Any],
    settings: Settings | ConfigError,
    revision: str | None,
    open_sheet: OpenSheet = _open_sheet,
    verify: Callable[[str | None, Settings], Caller] = verify_caller,
    credentials_for: SheetsCredentials = sheets_credentials,
) -> Diagnosis:
    """The checklist for one caller. ``settings`` is the function's configuration, or why it has none."""
    version = Check(
        "Function version",
        True,
        f"callmarker-sheets {__version__}, "
        + (f"Cloud Run revision {revision}" if revision else "not running on Cloud Run"),
    )
    if isinstance(settings, ConfigError):
        token_missing = "CALLMARKER_TOKEN" in str(settings)
        return Diagnosis(
            (
                Check("Sign-in", None, "Not checked: the function is not configured."),
                Check("Google Sheets", None, "Not checked: the function is not configured."),
                Check(
                    "CallMarker token",
                    False if token_missing else None,
                    "Not configured." if token_missing else "Not checked: the function is not configured.",
                    "Run deploy/function.sh: it keeps the token in Secret Manager for the function."
                    if token_missing
                    else "",
                ),
                Check(
                    "Configuration",
                    False,
                    f"The function is not configured: {settings}",
                    "Deploy the function again with deploy/function.sh and the settings it asks for.",
                ),
                version,
            )
        )

    sign_in, caller = _sign_in(authorization, settings, verify)
    if caller is None:
        sheets = Check("Google Sheets", None, "Not checked: the sign-in was not accepted.")
    else:
        sheets = _sheets(
            sheets_token,
            caller,
            body=body,
            settings=settings,
            open_sheet=open_sheet,
            credentials_for=credentials_for,
        )
    token = Check("CallMarker token", True, "Configured (from Secret Manager).")
    return Diagnosis((sign_in, sheets, token, version))


def _claims(authorization: str | None) -> tuple[dict[str, Any], str]:
    """The unverified claims and the signature part of the bearer token: only to describe it to its sender."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return {}, ""
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}, parts[2]
    return (claims if isinstance(claims, dict) else {}), parts[2]


def _sign_in(
    authorization: str | None, settings: Settings, verify: Callable[[str | None, Settings], Caller]
) -> tuple[Check, Caller | None]:
    claims, signature = _claims(authorization)
    audience = claims.get("aud") if isinstance(claims.get("aud"), str) else None
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    about = ", ".join(
        part for part in (f"audience {audience}" if audience else "", f"for {email}" if email else "") if part
    )
    name = "Sign-in"
    if signature == SIGNATURE_REMOVED:
        return (
            Check(
                name,
                False,
                f"Cloud Run checked the ID token and removed its signature ({about}), so the function "
                "cannot check it.",
                "Push the add-in again with deploy/apps_script.sh: it sends the token in "
                "X-Serverless-Authorization for Cloud Run as well.",
            ),
            None,
        )
    try:
        caller = verify(authorization, settings)
    except AuthError as exc:
        return Check(
            name,
            False,
            f"Refused: {exc}" + (f" ({about})." if about else "."),
            _sign_in_fix(exc, audience, email),
        ), None
    domain = f" (Workspace domain {caller.domain})" if caller.domain else ""
    return Check(name, True, f"Accepted: {caller.email}{domain}, audience {audience}."), caller


def _sign_in_fix(exc: AuthError, audience: str | None, email: str | None) -> str:
    text = str(exc)
    if isinstance(exc, CertificatesUnavailable):
        return "Test again in a minute: Google's signing certificates could not be fetched."
    if isinstance(exc, Forbidden):
        if "not allowed" in text:
            return (
                f"Ask the administrator to allow {email or 'your account'}: add it, its domain or a group it "
                "belongs to (deploy/function.sh --allowed-domains, --invoker)."
            )
        return "Sign in to Google with a verified work account and reload the spreadsheet."
    if "another audience" in text and audience:
        return f"Deploy the function with --audiences {audience} (the add-in's OAuth client id)."
    if "missing" in text:
        return (
            "Push the add-in again with deploy/apps_script.sh: it sends your Google sign-in with every call."
        )
    if "expired" in text or "not valid yet" in text:
        return "Reload the spreadsheet and test again; if it persists, check this computer's clock."
    return "Reload the spreadsheet and test again; if it persists, push the add-in again."


def _sheets(
    sheets_token: str | None,
    caller: Caller,
    *,
    body: Mapping[str, Any],
    settings: Settings,
    open_sheet: OpenSheet,
    credentials_for: SheetsCredentials,
) -> Check:
    name = "Google Sheets"
    spreadsheet_id, gid = body.get("spreadsheet_id"), body.get("sheet_id", 0)
    if not isinstance(spreadsheet_id, str) or not SPREADSHEET_ID.match(spreadsheet_id):
        return Check(name, None, "Not checked: no spreadsheet was named.", "Test again from a spreadsheet.")
    if isinstance(gid, bool) or not isinstance(gid, int) or not 0 <= gid <= MAX_SHEET_ID:
        gid = 0
    try:
        credentials = credentials_for(sheets_token, caller, settings)
        sheet = open_sheet(credentials, spreadsheet_id, gid, settings)
    except SheetsTokenMismatch:
        return Check(
            name,
            False,
            "The Google Sheets token the add-in sent belongs to another account than the one signed in.",
            "Reload the spreadsheet, signed in with one Google account only, and test again.",
        )
    except VerificationUnavailable:
        return Check(
            name,
            False,
            "Google could not confirm the add-in's Google Sheets token right now.",
            "Test again in a minute.",
        )
    except AuthError as exc:
        return Check(
            name,
            False,
            f"The add-in's Google Sheets token was not accepted: {exc.message}",
            "Reload the spreadsheet and allow the add-in again; if it persists, push the add-in again "
            "with deploy/apps_script.sh.",
        )
    except SheetsApiDisabled:
        return Check(
            name,
            False,
            "The Sheets API is not enabled in the script's Cloud project.",
            "Enable it: Google Cloud console, the project of the add-in's script, APIs & Services > Library "
            "> Google Sheets API > Enable.",
        )
    except SheetNotFound:
        return Check(
            name,
            False,
            "This spreadsheet (or this sheet) was not found with your sign-in.",
            "Make sure the spreadsheet is shared with you, then test again from it.",
        )
    except SheetAccessDenied:
        return Check(
            name,
            False,
            "Google refused your access to this spreadsheet.",
            "Make sure you can edit this spreadsheet, reload it, and test again.",
        )
    except (SheetQuotaExceeded, SheetUnavailable) as exc:
        return Check(
            name,
            False,
            f"Google Sheets did not answer in time ({type(exc).__name__}).",
            "Test again in a minute.",
        )
    except SheetError as exc:
        return Check(name, False, f"Google Sheets refused: {exc}", "Reload the spreadsheet and test again.")
    info = sheet.info
    return Check(
        name,
        True,
        f'Reached "{info.title}", sheet "{info.sheet_title}" ({info.row_count:,} rows, locale '
        f"{info.locale or 'unknown'}).",
    )
