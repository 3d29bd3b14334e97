"""`make demo`: the whole job on this machine, from a typed-in sheet to every row's status, then checked.

Serves both emulators, an ID-token issuer and the function (functions-framework, its own process) on
127.0.0.1, calls the function step by step as the add-in does, prints the sheet and checks the result.
Then new leads arrive, and the add-in's automatic upload (its own code, run by Node with Google's services
faked) picks them up; its "CallMarker log" tab is printed and the result checked again.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import httpx
import phonenumbers

from callmarker_sheets.sheet import STATUS_COLUMNS
from tests.emulators.identity import DEFAULT_EMAIL
from tests.rowgen import HEADERS, NAME, PHONE, make_rows, sheet_of
from tests.stack import CALLMARKER_TOKEN, CAMPAIGN, ROOT, USER_OAUTH_TOKEN, Stack

STATUS, MESSAGE, _TIME, _FINGERPRINT = STATUS_COLUMNS
LAST_NAME = HEADERS.index("Last name")
DEFAULT_ROWS = 1000
#: Small enough that a thousand rows take several steps, so the add-in's resume loop really runs.
DEFAULT_BUDGET_S = 3.0
DEFAULT_LATENCY_S = 0.15
#: The add-in's settings as a user would leave them, with campaign 11 chosen (apps_script/Settings.js)
#: and a small batch size: with the small budget, each step then finishes a few hundred rows.
OPTIONS: dict[str, Any] = {
    "campaign": CAMPAIGN,
    "agent_name": None,
    "override": False,
    "unique": False,
    "status": None,
    "international": False,
    "default_region": "IL",
    "batch_size": 25,
    "header_row": 1,
}
FIRST_ROWS_SHOWN = 15
ATTENTION_ROWS_SHOWN = 60
#: Table columns: title, width.
COLUMNS: tuple[tuple[str, int], ...] = (
    ("Row", 5),
    ("Phone", 18),
    ("Name", 20),
    ("Status", 8),
    ("Message", 70),
)


class DemoFailed(Exception):
    """The demo could not get the job done (the function refused or did not answer); the message says why."""


# ------------------------------------------------------------------------------------------- the sheet


def selection(first: int, last: int) -> list[list[int]]:
    """Rows ``first..last`` as two or three ranges, as a user ctrl-selects a long sheet in parts."""
    count = last - first + 1
    if count < 3:
        return [[first, last]]
    parts = 3 if count >= 600 else 2
    cuts = [first + count * i // parts for i in range(parts)] + [last + 1]
    return [[cuts[i], cuts[i + 1] - 1] for i in range(parts)]


def national_number(shown: str, raw: object) -> str | None:
    """The national digits CallMarker keys a customer by (``0547000000``), read independently of the
    product's own parser; None when the cell holds no valid number."""
    text = str(int(raw)) if isinstance(raw, int | float) and not isinstance(raw, bool) else shown
    try:
        parsed = phonenumbers.parse(text, "IL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One data row as the user sees it after the job."""

    number: int
    cells: Mapping[str, str]
    raw_phone: object

    @property
    def status(self) -> str:
        return self.cells.get(STATUS, "")


def sheet_rows(formatted: Sequence[Sequence[str]], raw: Sequence[Sequence[object]]) -> list[SheetRow]:
    """Data rows by header, from the sheet's formatted and unformatted values (header in row 1)."""
    header = list(formatted[0])
    phone = header.index(HEADERS[PHONE])
    out = []
    for number, (shown, values) in enumerate(zip(formatted[1:], raw[1:], strict=False), start=2):
        cells = {name: (shown[i] if i < len(shown) else "") for i, name in enumerate(header)}
        if any(cells.values()):
            out.append(SheetRow(number, cells, values[phone] if phone < len(values) else ""))
    return out


# -------------------------------------------------------------------------------------------- the check


def verify(
    answers: Sequence[Mapping[str, Any]],
    rows: Sequence[SheetRow],
    *,
    selected: int,
    held: Mapping[str, Mapping[str, Any]],
    sent: Sequence[str],
    texts: Iterable[str],
    secrets: Iterable[str],
) -> list[str]:
    """Everything the user could check after the job; each problem found, as a sentence.

    ``held``: CallMarker's customers by number; ``sent``: every number sent to it, in order;
    ``texts``: what the user and the operator get to read (answers, cells, the function's log).
    """
    problems: list[str] = []
    final = answers[-1] if answers else {}
    if not final.get("done"):
        problems.append("the last answer does not say done")
    statuses = Counter(r.status for r in rows if r.status)
    counts = {k: v for k, v in final.get("counts", {}).items() if v}
    if counts != dict(statuses):
        problems.append(f"the final answer counts {counts}, the sheet holds {dict(statuses)}")
    unmarked = [r.number for r in rows if not r.status]
    if unmarked or len(rows) != selected:
        problems.append(
            f"{selected - len(rows) + len(unmarked)} selected rows carry no status: {unmarked[:10]}"
        )
    if final.get("processed_rows") != selected:
        problems.append(f"the final answer processed {final.get('processed_rows')} of {selected} rows")

    uploaded: dict[str, int] = {}
    for row in rows:
        if row.status != "uploaded":
            continue
        number = national_number(row.cells.get(HEADERS[PHONE], ""), row.raw_phone)
        if number is None:
            problems.append(f"row {row.number} is marked uploaded but holds no valid phone number")
        elif number in uploaded:
            problems.append(
                f"rows {uploaded[number]} and {row.number} are both marked uploaded with one number"
            )
        else:
            uploaded[number] = row.number
    missing = sorted(uploaded[n] for n in set(uploaded) - set(held))
    if missing:
        problems.append(f"CallMarker does not hold rows marked uploaded: {missing[:10]}")
    if set(held) - set(uploaded):
        problems.append(
            f"CallMarker holds {len(set(held) - set(uploaded))} customers no row is marked uploaded for"
        )
    outside = sorted(
        uploaded[n] for n in set(uploaded) & set(held) if CAMPAIGN not in held[n].get("campaigns", {})
    )
    if outside:
        problems.append(f"rows not in campaign {CAMPAIGN} at CallMarker: {outside[:10]}")
    repeated = sorted(n for n, k in Counter(sent).items() if k > 1)
    if repeated:
        problems.append(f"{len(repeated)} customers were sent to CallMarker more than once")

    secrets = [s for s in secrets if s]
    for text in texts:
        if any(secret in text for secret in secrets):
            problems.append("a token appears in what the user or the operator reads")
            break
    return problems


# -------------------------------------------------------------------------------------------- printing


def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def fit(text: str, width: int) -> str:
    """``text`` on one line in exactly ``width`` terminal columns: truncated with …, padded with spaces.

    Invisible format characters (direction marks pasted with Hebrew text) are left out: a terminal
    would apply them to the whole line, and they take no column.
    """
    text = "".join(" " if ch in "\n\r\t" else ch for ch in text if unicodedata.category(ch) != "Cf")
    out: list[str] = []
    used = 0
    for ch in text:
        w = _width(ch)
        if used + w > width:
            while out and used + 1 > width:
                used -= _width(out.pop())
            out.append("…")
            used += 1
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (width - used)


def table(rows: Sequence[SheetRow]) -> list[str]:
    lines = [" ".join(fit(title, w) for title, w in COLUMNS).rstrip()]
    lines.append(" ".join("─" * w for _, w in COLUMNS))
    for row in rows:
        name = f"{row.cells.get(HEADERS[NAME], '')} {row.cells.get(HEADERS[LAST_NAME], '')}".strip()
        values = (
            str(row.number),
            row.cells.get(HEADERS[PHONE], ""),
            name,
            row.status,
            row.cells.get(MESSAGE, ""),
        )
        lines.append(" ".join(fit(v, w) for v, (_, w) in zip(values, COLUMNS, strict=True)).rstrip())
    return lines


def sample(rows: Sequence[SheetRow]) -> tuple[list[SheetRow], int]:
    """The first rows, then the rows that need attention; and how many of those are left out."""
    first = list(rows[:FIRST_ROWS_SHOWN])
    attention = [r for r in rows[FIRST_ROWS_SHOWN:] if r.status != "uploaded"]
    return first + attention[:ATTENTION_ROWS_SHOWN], max(0, len(attention) - ATTENTION_ROWS_SHOWN)


# ------------------------------------------------------------------------------------------------- run


@dataclass
class Demo:
    stack: Stack
    out: TextIO

    def say(self, line: str = "") -> None:
        print(line, file=self.out, flush=True)

    def run(self, n_rows: int, seed: int) -> list[str]:
        stack = self.stack
        started = time.monotonic()
        stack.start_function(process=True)
        self.say(f"Sheets emulator      {stack.sheets.url}")
        self.say(f"CallMarker emulator  {stack.callmarker.url}/api/v1")
        self.say(f"ID token issuer      {stack.identity.url}")
        self.say(f"The function         {stack.function_url}  (functions-framework, its own process)")

        _, generated, expected = make_rows(n_rows, invalid_share=0.04, seed=seed)
        spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(generated), title="Leads (demo)")
        invalid_kinds = Counter(e.kind for e in expected if not e.valid)
        wrong = sum(invalid_kinds.values())
        self.say(
            f"Typed {n_rows:,} rows into a new spreadsheet (locale iw_IL, Asia/Jerusalem), "
            + (f"{wrong:,} of them wrong in {len(invalid_kinds)} ways." if wrong else "none of them wrong.")
        )

        id_token = stack.id_token()
        ranges = selection(2, n_rows + 1)
        self.say(f"Signed an ID token for {DEFAULT_EMAIL}; selected rows {_ranges(ranges)}; action upload.")
        self.say()

        body: dict[str, Any] = {
            "spreadsheet_id": spreadsheet_id,
            "sheet_id": gid,
            "mode": "selected",
            "action": "upload",
            "options": OPTIONS,
            "rows": ranges,
        }
        answers = self._job(body, id_token)
        job_s = sum(a["_seconds"] for a in answers)

        formatted = stack.read_sheet(spreadsheet_id)
        raw = stack.read_sheet(spreadsheet_id, render="UNFORMATTED_VALUE")
        rows = sheet_rows(formatted, raw)
        shown, left_out = sample(rows)
        self.say()
        for line in table(shown):
            self.say(line)
        if left_out:
            self.say(f"… and {left_out:,} more rows that need attention.")
        self.say()

        final = answers[-1]
        counts = final["counts"]
        steps = f"{len(answers)} step" + "s" * (len(answers) > 1)
        self.say(
            f"Summary: {final['total_rows']:,} rows in {steps}, {job_s:.1f} s "
            f"({time.monotonic() - started:.1f} s with set-up): "
            + ", ".join(f"{counts.get(k, 0):,} {k}" for k in ("uploaded", "invalid", "rejected", "failed"))
            + "."
        )
        held = stack.callmarker_app.backend.state()["customers"]
        sent = [c["number"] for r in stack.callmarker_app.requests for c in r["body"].get("customers", [])]
        texts = [*(str(a) for a in answers), *(str(r) for r in formatted), stack.function_log()]
        problems = verify(
            answers,
            rows,
            selected=n_rows,
            held=held,
            sent=sent,
            texts=texts,
            secrets=[CALLMARKER_TOKEN, USER_OAUTH_TOKEN, id_token, stack.cursor_key],
        )
        if not problems:
            self.say(
                f"Check: ok. The final counts equal the {len(rows):,} statuses in the sheet; CallMarker "
                f"holds exactly the {len(held):,} uploaded rows, each sent once; no token was shown."
            )
            problems = self.automatic_upload(spreadsheet_id, gid, id_token, rows, seed)
        return problems

    def _job(self, body: dict[str, Any], id_token: str) -> list[dict[str, Any]]:
        """The add-in's loop: call, show progress, pass the cursor back, until done."""
        answers: list[dict[str, Any]] = []
        cursor = None
        while True:
            step_started = time.monotonic()
            try:
                response = self.stack.call(
                    {**body, **({"cursor": cursor} if cursor else {})}, id_token=id_token
                )
            except httpx.HTTPError as exc:
                raise DemoFailed(f"step {len(answers) + 1}: the function did not answer ({exc}).") from exc
            if response.status_code != 200:
                raise DemoFailed(
                    f"step {len(answers) + 1}: the function answered {response.status_code}: "
                    f"{_error_message(response)}"
                )
            answer = {**response.json(), "_seconds": time.monotonic() - step_started}
            answers.append(answer)
            self.say(f"step {len(answers)} ({answer['_seconds']:.1f} s): {answer['message']}")
            if answer["done"]:
                return answers
            cursor = answer["cursor"]
            if len(answers) >= 1000:
                raise DemoFailed("the job did not finish in 1,000 steps.")

    def keep_running(self) -> None:
        stack = self.stack
        self.say()
        self.say("Everything stays up until Ctrl-C (the sheet and CallMarker keep the demo's data).")
        self.say("To run the function yourself against these emulators:")
        env = {k: v for k, v in stack.env().items() if k not in ("CALLMARKER_TOKEN", "CURSOR_SIGNING_KEY")}
        token = "$(.venv/bin/python -c 'from tests.stack import CALLMARKER_TOKEN as t; print(t)')"
        self.say(f"  export CALLMARKER_TOKEN={token}")
        # A key of its own: the secret is never printed, and cursors are only that function's.
        new_key = "$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        self.say(f"  export CURSOR_SIGNING_KEY={new_key}")
        for key, value in env.items():
            self.say(f"  export {key}={shlex.quote(value)}")
        self.say("  .venv/bin/functions-framework --source function/main.py --target upload_rows --port 8080")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.say("Stopping.")

    # ------------------------------------------------------------------------- the automatic upload

    def automatic_upload(
        self, spreadsheet_id: str, gid: int, id_token: str, rows: Sequence[SheetRow], seed: int
    ) -> list[str]:
        """New leads appended to the sheet, then picked up by the add-in's automatic upload (its own
        code, run by Node against these servers); its log tab printed, and the result checked."""
        stack = self.stack
        taken_before = len(_taken(stack))
        earlier = {n for r in rows if (n := national_number(r.cells.get(HEADERS[PHONE], ""), r.raw_phone))}
        leads = new_leads(earlier, NEW_LEADS, seed)
        sheet = stack.sheets_client().open_by_key(spreadsheet_id).get_worksheet_by_id(gid)
        self.say()
        self.say("Automatic upload")
        # Written under the last row, where a form's answers or Zapier's rows land.
        below = len(sheet.get_values()) + 1
        if below + len(leads) - 1 > sheet.row_count:
            sheet.add_rows(below + len(leads) - 1 - sheet.row_count)
        sheet.update(sheet_of(leads)[1:], f"A{below}", value_input_option="USER_ENTERED")
        self.say(f"{len(leads)} new leads were appended to the sheet, as a form or Zapier adds them.")
        outcome = run_automatic_upload(
            {
                "function_url": stack.function_url,
                "sheets_url": stack.sheets.url,
                "spreadsheet_id": spreadsheet_id,
                "sheet_id": gid,
                "spreadsheet_name": sheet.spreadsheet.title,
                "sheet_title": sheet.title,
                "id_token": id_token,
                "sheets_token": USER_OAUTH_TOKEN,
                "email": DEFAULT_EMAIL,
                "settings": {"campaign": CAMPAIGN, "batch_size": str(OPTIONS["batch_size"])},
                "every_minutes": AUTOMATIC_EVERY_MINUTES,
                "runs": 2,
            }
        )
        self.say(f"{DEFAULT_EMAIL} turned on its automatic upload, with the add-in's own code run by Node:")
        self.say(f"  {_visible(outcome['status'])}")
        for number, run in enumerate(outcome["runs"], start=1):
            steps = f"{run['steps']} step" + "s" * (run["steps"] != 1)
            later = AUTOMATIC_EVERY_MINUTES * number
            seconds = run["seconds"]
            self.say(f"Run {number}, {later} minutes later ({run['trigger']}): {steps}, {seconds:.1f} s.")
        for email in outcome["emails"]:
            self.say(f"Emailed {email['to']}: {_visible(email['subject'])}")
        self.say()
        self.say('The "CallMarker log" tab:')
        for line in log_table(outcome["log"]):
            self.say(line)
        self.say()
        formatted = stack.read_sheet(spreadsheet_id)
        after = sheet_rows(formatted, stack.read_sheet(spreadsheet_id, render="UNFORMATTED_VALUE"))
        problems = verify_automatic(
            [national_number(shown[PHONE], raw[PHONE]) or "" for shown, raw in leads],
            earlier,
            _taken(stack)[taken_before:],
            after,
            outcome,
            emails=1 if any(r.status == "invalid" for r in rows) else 0,
        )
        if not problems:
            self.say(
                f"Check: ok. The {len(leads)} new leads are uploaded, each sent to CallMarker once; no "
                "earlier row was sent again; the log holds the run that sent them and the one that found "
                "nothing new; the rows left invalid were emailed once."
            )
        return problems


NEW_LEADS = 50
AUTOMATIC_EVERY_MINUTES = 15
#: The log's columns the demo prints: title, width.
LOG_COLUMNS: tuple[tuple[str, int], ...] = (
    ("When", 19),
    ("How", 8),
    ("Rows", 5),
    ("uploaded", 8),
    ("invalid", 7),
    ("skipped", 7),
    ("Duration", 8),
    ("Result", 84),
)


def new_leads(taken: set[str], n: int, seed: int) -> list[tuple[list[str], list[object]]]:
    """``n`` valid leads whose numbers no earlier row has."""
    _, rows, _ = make_rows(n * 3, invalid_share=0.0, seed=seed + 1009)
    fresh = []
    for shown, raw in rows:
        number = national_number(shown[PHONE], raw[PHONE])
        if number and number not in taken:
            taken = taken | {number}
            fresh.append((shown, raw))
    return fresh[:n]


def run_automatic_upload(request: Mapping[str, Any]) -> dict[str, Any]:
    """The add-in's automatic upload, run by Node (tests/apps_script/demo_automation.js)."""
    node = shutil.which("node")
    if node is None:
        raise DemoFailed("the automatic upload runs the add-in with Node 20, which is not installed.")
    script = ROOT / "tests" / "apps_script" / "demo_automation.js"
    done = subprocess.run(
        [node, str(script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise DemoFailed(f"the automatic upload stopped: {done.stderr.strip()[-500:]}")
    outcome: dict[str, Any] = json.loads(done.stdout)
    return outcome


def _visible(text: str) -> str:
    """Text without the invisible direction marks the add-in puts around values: a terminal would apply
    them to the whole line."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _taken(stack: Stack) -> list[str]:
    """Every number CallMarker took, in order (refused requests left out)."""
    return [
        c["number"]
        for r in stack.callmarker_app.requests
        if r["status"] == 200
        for c in r["body"].get("customers", [])
    ]


def verify_automatic(
    new: Sequence[str],
    earlier: set[str],
    sent: Sequence[str],
    rows: Sequence[SheetRow],
    outcome: Mapping[str, Any],
    *,
    emails: int,
) -> list[str]:
    """What a user could check after the automatic upload; each problem found, as a sentence.

    ``new``: the new leads' numbers; ``earlier``: the numbers of the rows before them; ``sent``: every
    number CallMarker took since; ``rows``: the sheet after; ``outcome``: what the add-in's run reported;
    ``emails``: how many emails its owner should have had (one when rows were left invalid, at the first run).
    """
    problems: list[str] = []
    counts = Counter(sent)
    missing = [n for n in new if counts[n] == 0]
    if missing:
        problems.append(f"{len(missing)} new leads never reached CallMarker")
    twice = sorted(n for n, k in counts.items() if k > 1)
    if twice:
        problems.append(f"{len(twice)} numbers were sent to CallMarker more than once")
    again = sorted(set(sent) & earlier)
    if again:
        problems.append(f"{len(again)} earlier rows were sent again")
    status = {national_number(r.cells.get(HEADERS[PHONE], ""), r.raw_phone): r.status for r in rows}
    unmarked = [n for n in new if status.get(n) != "uploaded"]
    if unmarked:
        problems.append(f"{len(unmarked)} new leads are not marked uploaded in the sheet")
    log = outcome.get("log") or []
    if len(log) != 3:
        problems.append(f"the log tab holds {max(0, len(log) - 1)} rows, not one per run")
    elif log[0][:3] != ["When", "Who", "How"] or log[2][log[0].index("uploaded")] != str(len(new)):
        problems.append(f"the log's row of the run that sent the leads does not say {len(new)} uploaded")
    if len(outcome.get("emails") or []) != emails:
        problems.append(f"the owner got {len(outcome.get('emails') or [])} emails, not {emails}")
    return problems


def log_table(log: Sequence[Sequence[str]]) -> list[str]:
    """The log tab's rows, as columns of the width they need, its header first."""
    if not log:
        return ["(empty)"]
    header = list(log[0])
    where = [header.index(title) for title, _ in LOG_COLUMNS]
    lines = [" ".join(fit(title, w) for title, w in LOG_COLUMNS).rstrip()]
    lines.append(" ".join("─" * w for _, w in LOG_COLUMNS))
    for row in log[1:]:
        cells = [row[i] if i < len(row) else "" for i in where]
        lines.append(" ".join(fit(c, w) for c, (_, w) in zip(cells, LOG_COLUMNS, strict=True)).rstrip())
    return lines


def _ranges(ranges: Sequence[Sequence[int]]) -> str:
    return ", ".join(f"{lo:,}–{hi:,}" for lo, hi in ranges)


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:300]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help="data rows in the sheet (default 1000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="which realistic rows (default 1)")
    parser.add_argument(
        "--budget", type=float, default=DEFAULT_BUDGET_S, help="TIME_BUDGET_S of the function"
    )
    parser.add_argument(
        "--latency", type=float, default=DEFAULT_LATENCY_S, help="CallMarker's seconds a request"
    )
    parser.add_argument(
        "--keep-running", action="store_true", help="leave the servers up and print their URLs"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 50_000:
        parser.error("--rows must be from 1 to 50,000")
    if args.budget < 1:
        parser.error("--budget must be at least 1 second")
    if args.latency < 0:
        parser.error("--latency cannot be negative")
    return args


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    args = parse_args(argv)
    out = out or sys.stdout
    stack = Stack(
        callmarker_settings={"latency": args.latency},
        function_env={"TIME_BUDGET_S": str(args.budget)},
    )
    demo = Demo(stack, out)
    try:
        problems = demo.run(args.rows, args.seed)
        if problems:
            demo.say("Check FAILED:")
            for problem in problems:
                demo.say(f"  - {problem}")
            return 1
        if args.keep_running:
            demo.keep_running()
        return 0
    except (DemoFailed, RuntimeError) as exc:
        demo.say(f"Demo FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        demo.say("Stopped.")
        return 130
    finally:
        stack.close()


if __name__ == "__main__":
    sys.exit(main())
