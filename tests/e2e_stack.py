"""The local stack for the add-in's end-to-end test: a sheet of generated rows, the function and both
emulators on 127.0.0.1, described in one JSON line on stdout; it stays up until stdin closes or SIGTERM.

``python -m tests.e2e_stack --rows 3300 --budget 3 --latency 0.4`` (the function in a process of its own);
``--second-tab-rows N`` adds a second tab of generated rows.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

import phonenumbers

from tests.rowgen import HEADERS, PHONE, Expected, make_rows, sheet_of
from tests.stack import CAMPAIGN, USER_OAUTH_TOKEN, Stack

HEADER_ROW = 1


class Stop(Exception):
    """SIGTERM arrived: close everything and exit."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e_stack", description=__doc__)
    parser.add_argument("--rows", type=int, default=3200, help="data rows in the sheet (default 3200)")
    parser.add_argument("--budget", type=float, default=45.0, help="the function's TIME_BUDGET_S (1 or more)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds CallMarker takes per request")
    parser.add_argument("--invalid-share", type=float, default=0.05, help="share of rows made wrong")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated rows")
    parser.add_argument(
        "--second-tab-rows", type=int, default=0, help="data rows of a second tab (default: none)"
    )
    parser.add_argument("--second-tab-seed", type=int, default=1, help="seed of the second tab's rows")
    parser.add_argument("--second-tab-title", default="לידים מהכנס", help="the second tab's title")
    parser.add_argument(
        "--function-in-thread",
        action="store_true",
        help="serve the function from a thread of this process instead of a process of its own",
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be 1 or more")
    if args.second_tab_rows < 0:
        parser.error("--second-tab-rows must be 0 or more")
    if args.budget < 1:
        parser.error("--budget must be 1 or more (the function's smallest time budget)")
    if args.latency < 0:
        parser.error("--latency must be 0 or more")
    if not 0 <= args.invalid_share <= 1:
        parser.error("--invalid-share must be between 0 and 1")
    return args


def number_key(text: str) -> str | None:
    """The customer a phone cell names (E.164), or None when it names none; for finding repeats."""
    try:
        number = phonenumbers.parse(text, "IL")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def expectations(
    rows: Sequence[tuple[Sequence[str], Sequence[object]]], expected: Sequence[Expected]
) -> list[dict[str, Any]]:
    """What each sheet row should end as, and the earlier rows with the same phone number.

    A row generated as a repeat is wrong only when a row before it with that number is in the same
    job, so the test decides that from its own selection with ``same_number_rows``.
    """
    first_row = HEADER_ROW + 1
    earlier: dict[str, list[int]] = {}
    out = []
    for offset, ((shown, _raw), want) in enumerate(zip(rows, expected, strict=True)):
        row = first_row + offset
        # Only numbers validation accepts can repeat; a wrong number cell names no customer.
        names_customer = want.valid or want.column != HEADERS[PHONE] or want.kind == "phone_repeated"
        key = number_key(shown[PHONE]) if names_customer else None
        same = list(earlier.get(key, [])) if key else []
        if key:
            earlier.setdefault(key, []).append(row)
        out.append(
            {
                "row": row,
                "valid": want.valid,
                "column": want.column,
                "kind": want.kind,
                "same_number_rows": same,
            }
        )
    return out


def describe(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    """Make the sheet and say everything a client needs to drive the job and check it."""
    _, rows, expected = make_rows(args.rows, invalid_share=args.invalid_share, seed=args.seed)
    spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))
    spreadsheet = stack.sheets_client().open_by_key(spreadsheet_id)
    title = spreadsheet.get_worksheet_by_id(gid).title
    second_tab = None
    if args.second_tab_rows:
        _, more, more_expected = make_rows(
            args.second_tab_rows, invalid_share=args.invalid_share, seed=args.second_tab_seed
        )
        cells = sheet_of(more)
        tab = spreadsheet.add_worksheet(args.second_tab_title, rows=len(cells) + 10, cols=len(HEADERS) + 4)
        tab.update(cells, "A1", value_input_option="USER_ENTERED")
        second_tab = {
            "sheet_id": tab.id,
            "sheet_title": tab.title,
            "expected": expectations(more, more_expected),
        }
    stack.sheets_app.backend.reset_calls()
    return {
        "function_url": stack.function_url,
        "sheets_url": stack.sheets.url,
        "callmarker_url": stack.callmarker.url,
        "callmarker_state_url": f"{stack.callmarker.url}/_control/state",
        "callmarker_requests_url": f"{stack.callmarker.url}/_control/requests",
        "spreadsheet_id": spreadsheet_id,
        "sheet_id": gid,
        "sheet_title": title,
        "header_row": HEADER_ROW,
        "headers": list(HEADERS),
        "campaign": CAMPAIGN,
        "id_token": stack.id_token(),
        "sheets_token": USER_OAUTH_TOKEN,
        "budget_s": args.budget,
        "latency_s": args.latency,
        "expected": expectations(rows, expected),
        "second_tab": second_tab,
    }


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise Stop


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    stack: Stack | None = None
    try:
        stack = Stack(
            callmarker_settings={"latency": args.latency},
            function_env={"TIME_BUDGET_S": str(args.budget)},
        )
        stack.start_function(process=not args.function_in_thread)
        print(json.dumps(describe(stack, args)), flush=True)
        # The client holds our stdin: when it closes it (or ends), we end too.
        sys.stdin.read()
    except (Stop, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # closing must finish: it ends the function's process
        if stack is not None:
            stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
