"""``python -m callmarker_sheets upload ...``: run a job from a terminal, against real Google Sheets.

The same steps as the add-in, looped until the job is done, with the credentials on this machine
(``gcloud auth application-default login --scopes=openid,https://www.googleapis.com/auth/spreadsheets,
https://www.googleapis.com/auth/cloud-platform``) and the CallMarker token in ``CALLMARKER_TOKEN``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
from collections.abc import Sequence

import google.auth

from callmarker_sheets.auth import SPREADSHEETS_SCOPE
from callmarker_sheets.config import Settings
from callmarker_sheets.cursor import CursorSeal
from callmarker_sheets.errors import ServiceError
from callmarker_sheets.logs import configure_logging
from callmarker_sheets.upload import Job, open_context, run_step


def _rows(text: str) -> list[list[int]]:
    """``2-100,150,200-210`` -> [[2, 100], [150, 150], [200, 210]]."""
    rows = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            rows.append([int(first), int(last or first)])
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not a row or a range of rows like 2-100") from None
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m callmarker_sheets", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upload", help="upload rows of a sheet to CallMarker and write their statuses")
    up.add_argument("--spreadsheet", required=True, help="the spreadsheet id (from its URL)")
    up.add_argument("--gid", type=int, default=0, help="the sheet's gid (from its URL; default 0)")
    up.add_argument("--rows", type=_rows, help="rows to upload, e.g. 2-100,150 (default: every pending row)")
    up.add_argument("--action", choices=["upload", "check", "remove"], default="upload")
    up.add_argument("--campaign")
    up.add_argument("--agent", dest="agent_name")
    up.add_argument("--status", type=int)
    up.add_argument("--override", action="store_true")
    up.add_argument("--unique", action="store_true")
    up.add_argument("--international", action="store_true")
    up.add_argument("--region", dest="default_region")
    up.add_argument("--batch-size", type=int)
    up.add_argument("--header-row", type=int)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = {
        name: getattr(args, name)
        for name in ("campaign", "agent_name", "status", "default_region", "batch_size", "header_row")
        if getattr(args, name) is not None
    }
    options.update({flag: True for flag in ("override", "unique", "international") if getattr(args, flag)})
    body = {
        "spreadsheet_id": args.spreadsheet,
        "sheet_id": args.gid,
        "mode": "selected" if args.rows else "pending",
        "action": args.action,
        "options": options,
        **({"rows": args.rows} if args.rows else {}),
    }
    # A terminal has no caller to check: the function's caller settings do not apply here, and the
    # cursors never leave this process, so they are signed with a key of its own.
    environ = {
        "ID_TOKEN_AUDIENCES": "command-line",
        "ALLOWED_EMAILS": "command-line@localhost.invalid",
        "CURSOR_SIGNING_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    try:
        settings = Settings.from_env({**environ, **os.environ})
        configure_logging("WARNING", secrets=[settings.callmarker_token, settings.cursor_signing_key])
        credentials, _ = google.auth.default(scopes=[SPREADSHEETS_SCOPE])
        job = Job.from_json(body, seal=CursorSeal(settings.cursor_signing_key, "command-line"))
        cursor = None
        while True:
            answer = run_step(job, cursor, open_context(job, settings, credentials))
            print(answer.message, file=sys.stderr)
            if answer.done:
                break
            cursor = answer.cursor
    except (ServiceError, google.auth.exceptions.DefaultCredentialsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
