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
from callmarker_sheets.i18n import ENGLISH, Translator
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
    t: Translator = ENGLISH,
) -> Diagnosis:
    """The checklist for one caller, in the language of ``t``. ``settings`` is the function's
    configuration, or why it has none."""
    version = Check(
        t("Function version"),
        True,
        t(
            "callmarker-sheets {=version}, Cloud Run revision {revision}",
            version=__version__,
            revision=revision,
        )
        if revision
        else t("callmarker-sheets {=version}, not running on Cloud Run", version=__version__),
    )
    if isinstance(settings, ConfigError):
        token_missing = "CALLMARKER_TOKEN" in str(settings)
        not_configured = t("Not checked: the function is not configured.")
        return Diagnosis(
            (
                Check(t("Sign-in"), None, not_configured),
                Check(t("Google Sheets"), None, not_configured),
                Check(
                    t("CallMarker token"),
                    False if token_missing else None,
                    t("Not configured.") if token_missing else not_configured,
                    t("Run deploy/function.sh: it keeps the token in Secret Manager for the function.")
                    if token_missing
                    else "",
                ),
                Check(
                    t("Configuration"),
                    False,
                    t("The function is not configured: {said}", said=str(settings)),
                    t("Deploy the function again with deploy/function.sh and the settings it asks for."),
                ),
                version,
            )
        )

    sign_in, caller = _sign_in(authorization, settings, verify, t)
    if caller is None:
        sheets = Check(t("Google Sheets"), None, t("Not checked: the sign-in was not accepted."))
    else:
        sheets = _sheets(
            sheets_token,
            caller,
            body=body,
            settings=settings,
            open_sheet=open_sheet,
            credentials_for=credentials_for,
            t=t,
        )
    token = Check(t("CallMarker token"), True, t("Configured (from Secret Manager)."))
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
    authorization: str | None,
    settings: Settings,
    verify: Callable[[str | None, Settings], Caller],
    t: Translator,
) -> tuple[Check, Caller | None]:
    claims, signature = _claims(authorization)
    audience = claims.get("aud") if isinstance(claims.get("aud"), str) else None
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    parts = [
        t("audience {audience}", audience=audience) if audience else "",
        t("for {email}", email=email) if email else "",
    ]
    about = t.word(", ").join(part for part in parts if part)
    name = t("Sign-in")
    if signature == SIGNATURE_REMOVED:
        return (
            Check(
                name,
                False,
                t(
                    "Cloud Run checked the ID token and removed its signature ({=about}), so the function "
                    "cannot check it.",
                    about=about,
                ),
                t(
                    "Push the add-in again with deploy/apps_script.sh: it sends the token in "
                    "X-Serverless-Authorization for Cloud Run as well."
                ),
            ),
            None,
        )
    try:
        caller = verify(authorization, settings)
    except AuthError as exc:
        refused = (
            t("Refused: {=reason} ({=about}).", reason=exc.words(t), about=about)
            if about
            else t("Refused: {=reason}.", reason=exc.words(t))
        )
        return Check(name, False, refused, _sign_in_fix(exc, audience, email, t)), None
    accepted = (
        t(
            "Accepted: {email} (Workspace domain {domain}), audience {audience}.",
            email=caller.email,
            domain=caller.domain,
            audience=str(audience),
        )
        if caller.domain
        else t("Accepted: {email}, audience {audience}.", email=caller.email, audience=str(audience))
    )
    return Check(name, True, accepted), caller


def _sign_in_fix(exc: AuthError, audience: str | None, email: str | None, t: Translator) -> str:
    # Read from the English words of the refusal, whatever the language of the answer.
    text = str(exc)
    if isinstance(exc, CertificatesUnavailable):
        return t("Test again in a minute: Google's signing certificates could not be fetched.")
    if isinstance(exc, Forbidden):
        if "not allowed" in text:
            return t(
                "Ask the administrator to allow {who}: add it, its domain or a group it belongs to "
                "(deploy/function.sh --allowed-domains, --invoker).",
                who=email or t("your account"),
            )
        return t("Sign in to Google with a verified work account and reload the spreadsheet.")
    if "another audience" in text and audience:
        return t(
            "Deploy the function with --audiences {audience} (the add-in's OAuth client id).",
            audience=audience,
        )
    if "missing" in text:
        return t(
            "Push the add-in again with deploy/apps_script.sh: it sends your Google sign-in with every call."
        )
    if "expired" in text or "not valid yet" in text:
        return t("Reload the spreadsheet and test again; if it persists, check this computer's clock.")
    return t("Reload the spreadsheet and test again; if it persists, push the add-in again.")


def _sheets(
    sheets_token: str | None,
    caller: Caller,
    *,
    body: Mapping[str, Any],
    settings: Settings,
    open_sheet: OpenSheet,
    credentials_for: SheetsCredentials,
    t: Translator,
) -> Check:
    name = t("Google Sheets")
    spreadsheet_id, gid = body.get("spreadsheet_id"), body.get("sheet_id", 0)
    if not isinstance(spreadsheet_id, str) or not SPREADSHEET_ID.match(spreadsheet_id):
        return Check(
            name, None, t("Not checked: no spreadsheet was named."), t("Test again from a spreadsheet.")
        )
    if isinstance(gid, bool) or not isinstance(gid, int) or not 0 <= gid <= MAX_SHEET_ID:
        gid = 0
    try:
        credentials = credentials_for(sheets_token, caller, settings)
        sheet = open_sheet(credentials, spreadsheet_id, gid, settings)
    except SheetsTokenMismatch:
        return Check(
            name,
            False,
            t("The Google Sheets token the add-in sent belongs to another account than the one signed in."),
            t("Reload the spreadsheet, signed in with one Google account only, and test again."),
        )
    except VerificationUnavailable:
        return Check(
            name,
            False,
            t("Google could not confirm the add-in's Google Sheets token right now."),
            t("Test again in a minute."),
        )
    except AuthError as exc:
        return Check(
            name,
            False,
            t("The add-in's Google Sheets token was not accepted: {=reason}", reason=exc.words(t)),
            t(
                "Reload the spreadsheet and allow the add-in again; if it persists, push the add-in again "
                "with deploy/apps_script.sh."
            ),
        )
    except SheetsApiDisabled:
        return Check(
            name,
            False,
            t("The Sheets API is not enabled in the script's Cloud project."),
            t(
                "Enable it: Google Cloud console, the project of the add-in's script, APIs & Services > "
                "Library > Google Sheets API > Enable."
            ),
        )
    except SheetNotFound:
        return Check(
            name,
            False,
            t("This spreadsheet (or this sheet) was not found with your sign-in."),
            t("Make sure the spreadsheet is shared with you, then test again from it."),
        )
    except SheetAccessDenied:
        return Check(
            name,
            False,
            t("Google refused your access to this spreadsheet."),
            t("Make sure you can edit this spreadsheet, reload it, and test again."),
        )
    except (SheetQuotaExceeded, SheetUnavailable) as exc:
        return Check(
            name,
            False,
            t("Google Sheets did not answer in time ({=kind}).", kind=type(exc).__name__),
            t("Test again in a minute."),
        )
    except SheetError as exc:
        return Check(
            name,
            False,
            t("Google Sheets refused: {=reason}", reason=exc.words(t)),
            t("Reload the spreadsheet and test again."),
        )
    info = sheet.info
    return Check(
        name,
        True,
        t(
            'Reached "{title}", sheet "{sheet}" ({#rows} rows, locale {locale}).',
            title=info.title,
            sheet=info.sheet_title,
            rows=info.row_count,
            locale=info.locale or t("unknown"),
        ),
    )
